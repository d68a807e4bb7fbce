-- Disks (ECS API reference chapter 7): CreateDisk, DescribeDisks, AttachDisk, DetachDisk,
-- ModifyDiskAttribute, ModifyDiskChargeType, ResizeDisk, ReInitDisk, ResetDisk,
-- ReplaceSystemDisk, DeleteDisk; CreateSnapshot and DescribeSnapshots so that disks can be
-- made from snapshots and rolled back to them. Creating, attaching and detaching take
-- time (emu.delays); the documented status rules and error codes apply.
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"
local json = require "aliyun.json"
local regions = require "aliyun.emulator.regions"
local state = require "aliyun.emulator.state"

local disks = { product = "ecs", actions = {} }
local A = disks.actions

local arr = json.array
local raise = errors.raise

local STATUSES = { "In_use", "Available", "Attaching", "Detaching", "Creating", "ReIniting", "All" }
local CATEGORIES = { "all", "cloud", "cloud_efficiency", "cloud_ssd", "cloud_essd", "ephemeral", "ephemeral_ssd",
  "local_hdd_pro", "local_ssd_pro" }

local function new_disk(emu, o)
  local now = emu:now()
  local d = {
    id = emu.ids:resource("d"), region = o.region, zone = o.zone, name = o.name or "", description = o.description or "",
    category = o.category or "cloud", size = o.size, type = o.type or "data", status = o.status or "Creating",
    instance = o.instance or "", device = o.device or "", portable = o.type ~= "system",
    delete_with_instance = o.type == "system", delete_auto_snapshot = true, enable_auto_snapshot = false,
    encrypted = o.encrypted or false, charge_type = "PostPaid", image = o.image or "", snapshot = o.snapshot or "",
    created = now, attached_time = o.instance and now or nil, tags = o.tags or {},
    ready_at = now + (o.status and 0 or emu.delays.disk_create),
  }
  emu.db.disks:add(d.id, d)
  return d
end

function disks.init(emu)
  emu.db.disks = state.collection()
  emu.db.snapshots = state.collection()
  for _, inst in ipairs(emu.db.instances:list()) do
    local img = emu.db.images[inst.image]
    local d = new_disk(emu, { region = inst.region, zone = inst.zone, category = "cloud_essd",
      size = math.max(40, img.size), type = "system", status = "In_use", instance = inst.id,
      device = "/dev/xvda", image = inst.image })
    d.created, d.attached_time = inst.created, inst.created
    inst.system_disk = d.id
    -- every system disk has one snapshot in its history (ResetDisk needs one)
    local sid = emu.ids:resource("s")
    emu.db.snapshots:add(sid, { id = sid, disk = d.id, region = inst.region, size = d.size,
      created = inst.created + 600, name = "emu-initial", category = d.category })
  end
end

function disks.tick(emu, now)
  for _, d in ipairs(emu.db.disks:list()) do
    if d.status == "Creating" and now >= d.ready_at then
      d.status = "Available"
    elseif d.status == "Attaching" and now >= d.until_at then
      d.status = "In_use"
    elseif d.status == "Detaching" and now >= d.until_at then
      d.status, d.instance, d.device, d.detached_time = "Available", "", "", d.until_at
    end
  end
end

local function describe(d)
  local tags = arr {}
  for i, t in ipairs(d.tags) do tags[i] = { TagKey = t.Key, TagValue = t.Value or "" } end
  return {
    DiskId = d.id, RegionId = d.region, ZoneId = d.zone, DiskName = d.name, Description = d.description,
    Type = d.type, Category = d.category, Size = d.size, Encrypted = d.encrypted, ImageId = d.image,
    SourceSnapshotId = d.snapshot, ProductCode = "", Portable = d.portable, Status = d.status,
    OperationLocks = { OperationLock = arr {} }, InstanceId = d.instance, Device = d.device,
    DeleteWithInstance = d.delete_with_instance, DeleteAutoSnapshot = d.delete_auto_snapshot,
    EnableAutoSnapshot = d.enable_auto_snapshot, EnableAutomatedSnapshotPolicy = false,
    CreationTime = state.iso(d.created),
    AttachedTime = d.attached_time and state.iso(d.attached_time) or "",
    DetachedTime = d.detached_time and state.iso(d.detached_time) or "",
    DiskChargeType = d.charge_type, PerformanceLevel = d.category == "cloud_essd" and "PL1" or "",
    IOPS = 1800 + 50 * d.size, Tags = { Tag = tags },
  }
end

local function find_disk(emu, id)
  local d = emu.db.disks:get(id)
  if not d then raise("InvalidDiskId.NotFound", "The specified disk does not exist.", 404) end
  return d
end

-- DiskName and Description rules of CreateDisk / ModifyDiskAttribute.
local function check_name(a, name, code, status)
  local v = a:str(name)
  if v == nil then return nil end
  local first = v:byte(1)
  if #v < 2 or #v > 128 or v:match("^https?://") or not (v:match("^%a") or first >= 128)
    or v:find("[^%w%.:_%-\128-\255]") then
    raise(code, "The specified " .. name .. " is wrongly formed.", status or 400)
  end
  return v
end

local function check_description(a, code, status)
  local v = a:str("Description")
  if v == nil then return nil end
  if #v < 2 or #v > 256 or v:match("^https?://") then
    raise(code or "InvalidDescription.Malformed", "The specified description is wrongly formed.", status or 400)
  end
  return v
end

A.CreateDisk = function(emu, a)
  local rid = regions.region(emu, a)
  local zone = a:need("ZoneId")
  if emu.db.zones[zone] ~= rid then raise("InvalidZoneId.NotFound", "The specified zone does not exist.", 404) end
  local name = check_name(a, "DiskName", "InvalidDiskName.Malformed")
  local description = check_description(a)
  local category = a:enum("DiskCategory", fixtures.DISK_CATEGORIES, "cloud", "InvalidDiskCategory.ValueNotSupported")
  local snapshot_id = a:str("SnapshotId")
  local size = a:int("Size", nil, nil, nil, "InvalidSize.ValueNotSupported")
  local snap
  if snapshot_id then
    snap = emu.db.snapshots:get(snapshot_id)
    if not snap then raise("InvalidSnapshotId.NotFound", "The specified SnapshotId does not exist.", 404) end
    if size and size < snap.size then
      raise("InvalidDiskSize.TooSmall", "Specified disk size is less than the size of snapshot.", 403)
    end
    size = size or snap.size
  elseif not size then
    raise("MissingParameter", "The input parameter either SnapshotId or Size should be specified.", 400)
  end
  local limits = fixtures.SIZE_LIMITS[category]
  if size < limits[1] or size > limits[2] then
    raise("InvalidSize.ValueNotSupported", "The specified parameter Size is not valid: " .. category
      .. " takes " .. limits[1] .. " to " .. limits[2] .. " GiB.", 400)
  end
  local encrypted = a:bool("Encrypted", false)
  local tags = a:objects("Tag", { "Key", "Value" })
  local d = new_disk(emu, { region = rid, zone = zone, name = name, description = description, category = category,
    size = size, snapshot = snapshot_id, encrypted = encrypted, tags = tags })
  return { DiskId = d.id }
end

local DISK_TYPES = { "all", "system", "data" }

A.DescribeDisks = function(emu, a)
  local rid = regions.region(emu, a)
  local zone = a:str("ZoneId")
  local ids = a:json_strings("DiskIds", "InvalidDiskIds.Malformed", 403)
  if ids and #ids > 100 then raise("InvalidDiskIds.Malformed", "The amount of specified disk Ids exceeds the limit.", 403) end
  local id_set
  if ids then
    id_set = {}
    for _, id in ipairs(ids) do id_set[id] = true end
  end
  local dtype = a:enum("DiskType", DISK_TYPES, "all", "InvalidDiskType.ValueNotSupported")
  local category = a:enum("Category", CATEGORIES, "all", "InvalidCategory.ValueNotSupported")
  local status = a:enum("Status", STATUSES, "All", "InvalidStatus.ValueNotSupported")
  local charge = a:str("DiskChargeType")
  if charge and charge ~= "PrePaid" and charge ~= "PostPaid" then
    raise("InvalidDiskChargeType.NotFound", "The DiskChargeType does not exist.", 404)
  end
  local tags = a:objects("Tag", { "Key", "Value" })
  if #tags > 20 then raise("InvalidTagCount", "The specified tags are beyond the permitted range.", 400) end
  for _, t in ipairs(tags) do
    if not t.Key then raise("InvalidTag.Mismatch", "The specified Tag.n.Key and Tag.n.Value are not match.", 400) end
  end
  local instance, snapshot, name = a:str("InstanceId"), a:str("SnapshotId"), a:str("DiskName")
  local portable, dwi = a:bool("Portable"), a:bool("DeleteWithInstance")
  local das, eas, enc = a:bool("DeleteAutoSnapshot"), a:bool("EnableAutoSnapshot"), a:bool("Encrypted")
  local function has_tags(d)
    for _, want in ipairs(tags) do
      local found = false
      for _, t in ipairs(d.tags) do
        if t.Key == want.Key and (want.Value == nil or t.Value == want.Value) then found = true end
      end
      if not found then return false end
    end
    return true
  end
  local items = emu.db.disks:list(function(d)
    return d.region == rid and (not zone or d.zone == zone) and (not id_set or id_set[d.id])
      and (dtype == "all" or d.type == dtype) and (category == "all" or d.category == category)
      and (status == "All" or d.status == status) and (not charge or d.charge_type == charge)
      and (not instance or d.instance == instance) and (not snapshot or d.snapshot == snapshot)
      and (not name or d.name == name) and (portable == nil or d.portable == portable)
      and (dwi == nil or d.delete_with_instance == dwi) and (das == nil or d.delete_auto_snapshot == das)
      and (eas == nil or d.enable_auto_snapshot == eas) and (not enc or d.encrypted) and has_tags(d)
  end)
  local page, meta = a:page(emu, items, 100, { tokens = true })
  local out = arr {}
  for i, d in ipairs(page) do out[i] = describe(d) end
  meta.Disks = { Disk = out }
  return meta
end

local function next_device(emu, inst)
  local used = {}
  for _, d in ipairs(emu.db.disks:list()) do
    if d.instance == inst.id and d.device ~= "" then used[d.device] = true end
  end
  for c = string.byte("b"), string.byte("z") do
    local dev = "/dev/xvd" .. string.char(c)
    if not used[dev] then return dev end
  end
  raise("InstanceDiskNumber.LimitExceed", "The amount of the disk on instance in question reach its limits.", 403)
end

A.AttachDisk = function(emu, a)
  local inst = regions.instance(emu, a:need("InstanceId"))
  local d = find_disk(emu, a:need("DiskId"))
  if inst.status ~= "Running" and inst.status ~= "Stopped" then
    raise("IncorrectInstanceStatus", "The current status of the resource does not support this operation.", 400)
  end
  if not d.portable then raise("DiskNotPortable", "The specified disk is not a portable disk.", 403) end
  if d.status ~= "Available" then raise("IncorrectDiskStatus", "The operation is not supported in this status.", 403) end
  if d.zone ~= inst.zone then
    raise("ResourcesNotInSameZone", "The specified instance and disk are not in the same zone.", 403)
  end
  local now = emu:now()
  d.status, d.instance, d.device = "Attaching", inst.id, next_device(emu, inst)
  d.attached_time, d.until_at = now, now + emu.delays.disk_attach
  d.delete_with_instance = a:bool("DeleteWithInstance", false)
  if emu.delays.disk_attach <= 0 then d.status = "In_use" end
  return {}
end

A.DetachDisk = function(emu, a)
  local inst = regions.instance(emu, a:need("InstanceId"))
  local d = find_disk(emu, a:need("DiskId"))
  if d.type == "system" then
    raise("DiskTypeViolation", "The specified disk is a system disk and cannot support the operation.", 403)
  end
  if not d.portable then raise("DiskNotPortable", "The specified disk is not a portable disk.", 403) end
  if d.instance ~= inst.id then
    raise("DependencyViolation", "The specified disk has not been attached on the specified instance.", 403)
  end
  if d.status ~= "In_use" then
    raise("IncorrectDiskStatus", "The current disk status does not support this operation.", 403)
  end
  if inst.status ~= "Running" and inst.status ~= "Stopped" then
    raise("IncorrectInstanceStatus", "The current status of the resource does not support this operation.", 403)
  end
  local now = emu:now()
  d.status, d.until_at, d.delete_with_instance = "Detaching", now + emu.delays.disk_detach, false
  if emu.delays.disk_detach <= 0 then d.status, d.instance, d.device, d.detached_time = "Available", "", "", now end
  return {}
end

A.DeleteDisk = function(emu, a)
  local d = emu.db.disks:get(a:need("DiskId"))
  if not d then return {} end -- the service ignores a disk that does not exist
  if d.type == "system" then
    raise("DiskTypeViolation", "The specified disk is a system disk and cannot support the operation.", 403)
  end
  if d.status ~= "Available" then
    raise("IncorrectDiskStatus", "The current disk status does not support this operation.", 403)
  end
  emu.db.disks:remove(d.id)
  return {}
end

A.ModifyDiskAttribute = function(emu, a)
  local ids = a:list("DiskIds")
  local one = a:str("DiskId")
  if one then table.insert(ids, 1, one) end
  if #ids == 0 then errors.missing("DiskId") end
  local name = check_name(a, "DiskName", "InvalidDiskName.Malformed")
  local description = check_description(a, "InvalidDescription.Malformed", 404)
  local dwi, das, eas = a:bool("DeleteWithInstance"), a:bool("DeleteAutoSnapshot"), a:bool("EnableAutoSnapshot")
  local bursting = a:bool("BurstingEnabled")
  if name == nil and description == nil and dwi == nil and das == nil and eas == nil and bursting == nil then
    raise("NoAttributeToModify", "No attribute to be modified in this request.", 400)
  end
  local list = {}
  for i, id in ipairs(ids) do list[i] = find_disk(emu, id) end
  for _, d in ipairs(list) do
    if dwi == false and not d.portable and d.type ~= "system" then
      raise("DiskNotPortable", "The specified disk is not a portable disk.", 403)
    end
    if d.status == "Creating" then
      raise("IncorrectDiskStatus", "The operation is not supported in this status.", 403)
    end
  end
  for _, d in ipairs(list) do
    if name then d.name = name end
    if description then d.description = description end
    if dwi ~= nil then d.delete_with_instance = dwi end
    if das ~= nil then d.delete_auto_snapshot = das end
    if eas ~= nil then d.enable_auto_snapshot = eas end
  end
  return {}
end

A.ModifyDiskChargeType = function(emu, a)
  regions.region(emu, a)
  local inst = regions.instance(emu, a:need("InstanceId"))
  local ids = a:json_strings("DiskIds")
  if not ids or #ids == 0 then errors.missing("DiskIds") end
  if #ids > 16 then errors.invalid("DiskIds", nil, 400, "At most 16 disks.") end
  local charge = a:enum("DiskChargeType", { "PrePaid", "PostPaid" }, "PrePaid", "InvalidPayMethod", 403)
  a:bool("AutoPay", true)
  local list = {}
  for i, id in ipairs(ids) do
    local d = emu.db.disks:get(id)
    if not d or d.instance ~= inst.id then
      raise("InvalidDiskIds.NotFound", "Some of the specified data disks do not exist.", 404)
    end
    list[i] = d
  end
  for _, d in ipairs(list) do d.charge_type = charge end
  return { OrderId = 1000000000000000 + emu.ids:number(0, 99999999) }
end

local RESIZABLE = { cloud = true, cloud_efficiency = true, cloud_ssd = true, cloud_essd = true }

A.ResizeDisk = function(emu, a)
  local d = find_disk(emu, a:need("DiskId"))
  local new_size = a:int("NewSize", nil, nil, nil)
  if new_size == nil then errors.missing("NewSize") end
  a:enum("Type", { "offline", "online" }, "offline")
  if d.type ~= "data" then
    raise("OperationDenied", "The status of the disk or the instance that the disk is attaching with does not "
      .. "support the operation.", 403)
  end
  if not RESIZABLE[d.category] then raise("OperationDenied", "The type of the disk does not support the operation.", 403) end
  if d.status ~= "In_use" and d.status ~= "Available" then
    raise("IncorrectDiskStatus", "The current disk status does not support this operation.", 403)
  end
  if d.instance ~= "" then
    local inst = emu.db.instances:get(d.instance)
    if inst and inst.status ~= "Running" and inst.status ~= "Stopped" then
      raise("IncorrectInstanceStatus", "The current status of the resource does not support this operation.", 403)
    end
  end
  if new_size <= d.size then
    raise("InvalidDiskSize.TooSmall", "Specified new disk size is less than the original disk size.", 403)
  end
  local max = (d.size < 2000 and d.category == "cloud") and 2000 or fixtures.SIZE_LIMITS[d.category][2]
  if new_size > max then
    raise("InvalidDiskSize.TooLarge", "Specified new disk size is beyond the permitted range.", 403)
  end
  d.size = new_size
  return {}
end

local function attached_stopped(emu, d)
  if d.status ~= "In_use" then
    raise("IncorrectDiskStatus", "The current disk status does not support this operation.", 403)
  end
  local inst = emu.db.instances:get(d.instance)
  if not inst or inst.status ~= "Stopped" then
    raise("IncorrectInstanceStatus", "The current status of the resource does not support this operation.", 403)
  end
  return inst
end

A.ReInitDisk = function(emu, a)
  local d = find_disk(emu, a:need("DiskId"))
  a:enum("SecurityEnhancementStrategy", { "Active", "Deactive" })
  local inst = attached_stopped(emu, d)
  if d.snapshot ~= "" and not emu.db.snapshots:get(d.snapshot) then
    raise("InvalidSourceSnapshot", "The snapshot which is used to create the specified disk has been deleted.", 403)
  end
  d.reinitialised = emu:now()
  if a:bool("AutoStartInstance", false) then
    inst.status, inst.started = "Running", emu:now()
  end
  return {}
end

A.ResetDisk = function(emu, a)
  local d = find_disk(emu, a:need("DiskId"))
  local snap = emu.db.snapshots:get(a:need("SnapshotId"))
  if not snap then raise("InvalidSnapshotId.NotFound", "The specified SnapshotId does not exist.", 404) end
  attached_stopped(emu, d)
  if snap.disk ~= d.id then
    raise("InvalidParameter.Mismatch", "The specified snapshot is not created from the specified disk.", 403)
  end
  if a:bool("DryRun", false) then
    raise("DryRunOperation", "Request validation has been passed with DryRun flag set.", 400)
  end
  d.reset_to = snap.id
  return {}
end

local function check_password(a)
  local pw = a:str("Password")
  if pw and a:bool("PasswordInherit", false) then
    raise("InvalidPasswordParam.Mismatch", "The input password should be null when passwdInherit is true.", 400)
  end
  if pw then
    local kinds = (pw:find("%l") and 1 or 0) + (pw:find("%u") and 1 or 0) + (pw:find("%d") and 1 or 0)
      + (pw:find("[%p]") and 1 or 0)
    if #pw < 8 or #pw > 30 or kinds < 3 then
      -- the value itself never goes into the message
      raise("InvalidPassword.Malformed", "The specified parameter \"Password\" is not valid.", 400)
    end
  end
end

A.ReplaceSystemDisk = function(emu, a)
  local inst = regions.instance(emu, a:need("InstanceId"))
  local image_id = a:need("ImageId")
  local img = emu.db.images[image_id]
  if not img then raise("InvalidImageId.NotFound", "The specified ImageId does not exist.", 404) end
  check_password(a)
  a:enum("SecurityEnhancementStrategy", { "Active", "Deactive" })
  if inst.status ~= "Stopped" then
    raise("IncorrectInstanceStatus", "The current status of the resource does not support this operation.", 403)
  end
  local old = emu.db.disks:get(inst.system_disk)
  local size = a:int("SystemDisk.Size", math.max(40, img.size, old and old.size or 0))
  if size < img.size then
    raise("InvalidSystemDiskSize.LessThanImageSize", "The specified parameter SystemDisk.Size is less than the image size.", 404)
  end
  if size < 20 then
    raise("InvalidSystemDiskSize.LessThanMinSize", "The specified parameter SystemDisk.Size is less than the min size.", 404)
  end
  if size > 500 then
    raise("InvalidSystemDiskSize.MoreThanMaxSize", "The specified SystemDisk.Size parameter exceeds the maximum size.", 404)
  end
  if old and size < old.size then
    raise("InvalidSystemDiskSize", "The specified parameter SystemDisk.Size is invalid.", 400)
  end
  local d = new_disk(emu, { region = inst.region, zone = inst.zone, category = old and old.category or "cloud_essd",
    size = size, type = "system", status = "In_use", instance = inst.id, device = "/dev/xvda", image = img.id })
  if old then emu.db.disks:remove(old.id) end
  inst.system_disk, inst.image, inst.os = d.id, img.id, img.os
  return { DiskId = d.id }
end

A.CreateSnapshot = function(emu, a)
  local d = find_disk(emu, a:need("DiskId"))
  if d.status ~= "In_use" and d.status ~= "Available" then
    raise("IncorrectDiskStatus", "The current disk status does not support this operation.", 403)
  end
  local sid = emu.ids:resource("s")
  emu.db.snapshots:add(sid, { id = sid, disk = d.id, region = d.region, size = d.size, created = emu:now(),
    name = a:str("SnapshotName") or "", category = d.category })
  return { SnapshotId = sid }
end

A.DescribeSnapshots = function(emu, a)
  local rid = regions.region(emu, a)
  local disk = a:str("DiskId")
  local ids = a:json_strings("SnapshotIds")
  local id_set
  if ids then
    id_set = {}
    for _, id in ipairs(ids) do id_set[id] = true end
  end
  local items = emu.db.snapshots:list(function(s)
    return s.region == rid and (not disk or s.disk == disk) and (not id_set or id_set[s.id])
  end)
  local page, meta = a:page(emu, items, 100, { tokens = true })
  local out = arr {}
  for i, s in ipairs(page) do
    out[i] = { SnapshotId = s.id, SnapshotName = s.name, SourceDiskId = s.disk, SourceDiskSize = s.size,
      SourceDiskType = "data", Progress = "100%", Status = "accomplished", CreationTime = state.iso(s.created),
      Usage = "none", Encrypted = false, SourceStorageType = "disk" }
  end
  meta.Snapshots = { Snapshot = out }
  return meta
end

return disks
