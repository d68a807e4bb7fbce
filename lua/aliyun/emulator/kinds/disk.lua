-- Disks and snapshots (ECS API reference chapter 7). A disk is Creating for `disk_create`
-- seconds, Attaching and Detaching for `disk_attach` / `disk_detach`; a snapshot is
-- progressing for `snapshot_create`. System disks come and go with their instance; a data
-- disk attached with DeleteWithInstance is released with it, otherwise detached; a disk
-- released with DeleteAutoSnapshot takes its automatic snapshots with it. A snapshot with
-- RetentionDays is released when they have passed. New disks of a region with encryption by
-- default (disk_encryption.lua) come out encrypted with the region's default key.
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"
local state = require "aliyun.emulator.state"

local raise = errors.raise

local STATUSES = { "In_use", "Available", "Attaching", "Detaching", "Creating", "ReIniting", "All" }
local CATEGORIES = { "all", "cloud", "cloud_efficiency", "cloud_ssd", "cloud_essd", "ephemeral", "ephemeral_ssd",
  "local_hdd_pro", "local_ssd_pro" }
local RESIZABLE = { cloud = true, cloud_efficiency = true, cloud_ssd = true, cloud_essd = true }

local disk, snapshot

-- Whether a snapshot of the disk is being made (several actions refuse the disk meanwhile).
local function creating_snapshot(ctx, d)
  for _, s in ipairs(engine.list(ctx, "snapshot", function(s) return s.SourceDiskId == d.DiskId end)) do
    if s.Status == "progressing" then return true end
  end
  return false
end

-- Filter.N.Key CreationStartTime / CreationEndTime (Filter.N.Value in the API's time form,
-- UTC, which compares as a string): read in a describe's prepare, applied in its keep.
local function read_window(a, ctx)
  for _, f in ipairs(a:objects("Filter", { "Key", "Value" })) do
    if f.Key == "CreationStartTime" then ctx.from = f.Value
    elseif f.Key == "CreationEndTime" then ctx.to = f.Value
    else errors.invalid("Filter.Key", nil, nil, "Valid keys: CreationStartTime, CreationEndTime.") end
  end
end

local function in_window(rec, ctx)
  return not (ctx.from and rec.CreationTime < ctx.from) and not (ctx.to and rec.CreationTime > ctx.to)
end

local WINDOW_PARAMS = { "Filter.1.Key", "Filter.1.Value", "Filter.2.Key", "Filter.2.Value" }

local function iops(category, size)
  if category == "cloud_essd" then return math.min(50000, 1800 + 50 * size) end
  if category == "cloud_ssd" then return math.min(25000, 1800 + 30 * size) end
  if category == "cloud_efficiency" then return math.min(5000, 1800 + 8 * size) end
  return 300
end

-- A disk record (stored); o: RegionId, ZoneId, Type, Category, Size and the optional rest.
local function make(emu, ctx, o)
  local now = o.created or emu:now()
  local encrypted, key = engine.kinds.disk_encryption.for_disk(emu, ctx, o.RegionId, o.Encrypted, o.KMSKeyId)
  local d = engine.record(emu, ctx, disk, {
    RegionId = o.RegionId, ZoneId = o.ZoneId, DiskName = o.DiskName or "", Description = o.Description or "",
    Category = o.Category or "cloud", Size = o.Size, Type = o.Type or "data", Status = o.Status or "Creating",
    InstanceId = o.InstanceId or "", Device = o.Device or "", Portable = o.Type ~= "system",
    DeleteWithInstance = o.DeleteWithInstance == true, DeleteAutoSnapshot = true, EnableAutoSnapshot = false,
    EnableAutomatedSnapshotPolicy = false, AutoSnapshotPolicyId = "", Encrypted = encrypted, KMSKeyId = key,
    DiskChargeType = "PostPaid",
    ImageId = o.ImageId or "", SourceSnapshotId = o.SourceSnapshotId or "", ProductCode = "",
    PerformanceLevel = o.PerformanceLevel or ((o.Category or "cloud") == "cloud_essd" and "PL1" or ""),
    BurstingEnabled = o.BurstingEnabled or false, CreationTime = state.iso(now),
    AttachedTime = o.InstanceId and state.iso(now) or "", DetachedTime = "", Tags = o.Tags or {},
    ResourceGroupId = o.ResourceGroupId or emu.default_resource_group, ExpiredTime = "2999-09-08T16:00Z",
    SerialNumber = emu.ids:chars(20), _ever_attached = o.InstanceId ~= nil,
  })
  d.IOPS = iops(d.Category, d.Size)
  engine.store(ctx, d)
  if d.Status == "Creating" then
    engine.later(emu, ctx, d, emu.delays.disk_create or 0, { Status = "Available" })
  end
  return d
end

local function find(ctx, id)
  return engine.find(ctx, "disk", id)
end

local function instance_of(ctx, id)
  return engine.find(ctx, "instance", id)
end

local function next_device(ctx, inst)
  local used = {}
  for _, d in ipairs(engine.list(ctx, "disk", function(d) return d.InstanceId == inst.InstanceId end)) do
    if d.Device ~= "" then used[d.Device] = true end
  end
  for c = string.byte("b"), string.byte("z") do
    local dev = "/dev/xvd" .. string.char(c)
    if not used[dev] then return dev end
  end
  raise("InstanceDiskNumber.LimitExceed")
end

local function attached_stopped(ctx, d)
  if d.Status ~= "In_use" then raise("IncorrectDiskStatus") end
  local inst = engine.get(ctx, "instance", d.InstanceId)
  if not inst or inst.Status ~= "Stopped" then raise("IncorrectInstanceStatus") end
  return inst
end

local check_password = engine.check_password

local actions = {}

actions.CreateDisk = {
  op = "custom",
  honours = { "ZoneId", "DiskName", "Description", "DiskCategory", "Size", "SnapshotId", "Encrypted", "KMSKeyId", "Tag",
    "ResourceGroupId", "PerformanceLevel", "BurstingEnabled", "InstanceId" },
  handler = function(emu, a, ctx)
    local rid = engine.region(emu, a)
    local inst = a:has("InstanceId") and engine.find(ctx, "instance", a:str("InstanceId"), rid) or nil
    local zone = a:str("ZoneId") or (inst and inst.ZoneId)
    if not zone then errors.missing("ZoneId") end
    if emu.zones[zone] ~= rid then raise("InvalidZoneId.NotFound") end
    if inst and inst.ZoneId ~= zone then raise("ResourcesNotInSameZone") end
    local name = a:str("DiskName")
    if name and not engine.CHECKS.name(name) then raise("InvalidDiskName.Malformed") end
    local description = a:str("Description")
    if description and not engine.CHECKS.description(description) then raise("InvalidDescription.Malformed") end
    local category = a:enum("DiskCategory", fixtures.DISK_CATEGORIES, "cloud", "InvalidDiskCategory.ValueNotSupported")
    local level = a:enum("PerformanceLevel", { "PL0", "PL1", "PL2", "PL3" })
    local bursting = a:bool("BurstingEnabled", false)
    local snapshot_id = a:str("SnapshotId")
    local size = a:int("Size", nil, nil, nil, "InvalidSize.ValueNotSupported")
    local encrypted, key = a:bool("Encrypted"), a:str("KMSKeyId")
    if key and encrypted ~= true then
      raise("InvalidParameter.EncryptedIllegal", "The specified parameter Encrypted must be true when KMSKeyId is given.")
    end
    if key then engine.kinds.disk_encryption.check_key(key, "InvalidParameter.KMSKeyId.NotFound") end
    if snapshot_id then
      local snap = engine.find(ctx, "snapshot", snapshot_id, rid)
      if snap.Status ~= "accomplished" then raise("InvalidSnapshotId.NotReady") end
      if size and size < snap.SourceDiskSize then raise("InvalidDiskSize.TooSmall") end
      size = size or snap.SourceDiskSize
      -- a disk made from a snapshot is encrypted as the snapshot is
      if encrypted ~= nil and encrypted ~= snap.Encrypted then raise("EncryptedOption.Conflict") end
      encrypted, key = snap.Encrypted or nil, key or (snap.Encrypted and snap.KMSKeyId or nil)
    elseif not size then
      raise("MissingParameter", "The input parameter either SnapshotId or Size should be specified.")
    end
    local limits = fixtures.SIZE_LIMITS[category]
    if size < limits[1] or size > limits[2] then
      raise("InvalidSize.ValueNotSupported", "The specified parameter Size is not valid: " .. category .. " takes "
        .. limits[1] .. " to " .. limits[2] .. " GiB.")
    end
    local tags = engine.tags(a)
    engine.commit(a)
    local d = make(emu, ctx, { RegionId = rid, ZoneId = zone, DiskName = name, Description = description,
      Category = category, Size = size, SourceSnapshotId = snapshot_id, Encrypted = encrypted, KMSKeyId = key,
      Tags = tags, ResourceGroupId = a:str("ResourceGroupId"), PerformanceLevel = level, BurstingEnabled = bursting })
    if inst then
      -- made for an instance: attached once it exists
      d.InstanceId, d.Device, d.AttachedTime = inst.InstanceId, next_device(ctx, inst), d.CreationTime
      d._ever_attached = true
      engine.later(emu, ctx, d, emu.delays.disk_create or 0, { Status = "In_use" })
    end
    return { DiskId = d.DiskId }
  end,
}

actions.DescribeDisks = {
  op = "describe", page_max = 100,
  ids = { DiskIds = "DiskId" },
  filters = {
    DiskType = { field = "Type", enum = { "all", "system", "data" }, code = "InvalidDiskType.ValueNotSupported",
      match = function(rec, v) return v == "all" or rec.Type == v end },
    Category = { field = "Category", enum = CATEGORIES, code = "InvalidCategory.ValueNotSupported",
      match = function(rec, v) return v == "all" or rec.Category == v end },
    Status = { field = "Status", enum = STATUSES, code = "InvalidStatus.ValueNotSupported",
      match = function(rec, v) return v == "All" or rec.Status == v end },
    DiskChargeType = { field = "DiskChargeType", match = function(rec, v)
      if v ~= "PrePaid" and v ~= "PostPaid" then raise("InvalidDiskChargeType.NotFound") end
      return rec.DiskChargeType == v
    end },
    InstanceId = "InstanceId", SnapshotId = "SourceSnapshotId", DiskName = "DiskName", Portable = "Portable",
    DeleteWithInstance = "DeleteWithInstance", DeleteAutoSnapshot = "DeleteAutoSnapshot",
    EnableAutoSnapshot = "EnableAutoSnapshot", Encrypted = "Encrypted",
    EnableAutomatedSnapshotPolicy = "EnableAutomatedSnapshotPolicy", AutoSnapshotPolicyId = "AutoSnapshotPolicyId",
    KMSKeyId = "KMSKeyId",
  },
  honours = WINDOW_PARAMS,
  keep = in_window,
  extra = function(_, a) engine.commit(a) end,
  prepare = function(_, a, ctx)
    read_window(a, ctx)
    local ids = a:strings("DiskIds", "InvalidDiskIds.Malformed", 403)
    if #ids > 100 then raise("InvalidDiskIds.Malformed") end
    local tags = a:objects("Tag", { "Key", "Value" })
    for _, t in ipairs(tags) do
      if not t.Key then raise("InvalidTag.Mismatch") end
    end
  end,
}

actions.AttachDisk = {
  op = "custom", honours = { "InstanceId", "DiskId", "DeleteWithInstance", "Device" },
  handler = function(emu, a, ctx)
    local inst = instance_of(ctx, a:need("InstanceId"))
    local d = find(ctx, a:need("DiskId"))
    if inst.Status ~= "Running" and inst.Status ~= "Stopped" then raise("IncorrectInstanceStatus", nil, 400) end
    if not d.Portable then raise("DiskNotPortable") end
    if d.Status ~= "Available" then raise("IncorrectDiskStatus", "The operation is not supported in this status.") end
    if d.ZoneId ~= inst.ZoneId then raise("ResourcesNotInSameZone") end
    local dwi = a:bool("DeleteWithInstance", false)
    local device = a:str("Device") or next_device(ctx, inst)
    engine.commit(a)
    local now = emu:now()
    d.Status, d.InstanceId, d.Device, d.AttachedTime, d.DeleteWithInstance = "Attaching", inst.InstanceId, device,
      state.iso(now), dwi
    d._ever_attached = true
    engine.later(emu, ctx, d, emu.delays.disk_attach or 0, { Status = "In_use" })
    return {}
  end,
}

actions.DetachDisk = {
  op = "custom", honours = { "InstanceId", "DiskId", "DeleteWithInstance" },
  handler = function(emu, a, ctx)
    local inst = instance_of(ctx, a:need("InstanceId"))
    local d = find(ctx, a:need("DiskId"))
    a:bool("DeleteWithInstance")
    if d.Type == "system" then raise("DiskTypeViolation") end
    if not d.Portable then raise("DiskNotPortable") end
    if d.InstanceId ~= inst.InstanceId then
      raise("DependencyViolation", "The specified disk has not been attached on the specified instance.")
    end
    if d.Status ~= "In_use" then raise("IncorrectDiskStatus") end
    if inst.Status ~= "Running" and inst.Status ~= "Stopped" then raise("IncorrectInstanceStatus") end
    engine.commit(a)
    d.Status, d.DeleteWithInstance = "Detaching", false
    local at = emu:now() + (emu.delays.disk_detach or 0)
    engine.later(emu, ctx, d, emu.delays.disk_detach or 0, { Status = "Available", InstanceId = "", Device = "",
      DetachedTime = state.iso(at) })
    return {}
  end,
}

actions.DeleteDisk = {
  op = "custom", honours = { "DiskId" },
  handler = function(emu, a, ctx)
    local d = engine.get(ctx, "disk", a:need("DiskId"))
    if not d then return {} end -- the service ignores a disk that does not exist
    if d.Type == "system" then raise("DiskTypeViolation") end
    if d.Status ~= "Available" then raise("IncorrectDiskStatus") end
    if creating_snapshot(ctx, d) then raise("DiskCreatingSnapshot") end
    engine.commit(a)
    engine.remove(emu, ctx, d)
    return {}
  end,
}

actions.ModifyDiskAttribute = {
  op = "custom", honours = { "DiskId", "DiskIds", "DiskName", "Description", "DeleteWithInstance",
    "DeleteAutoSnapshot", "EnableAutoSnapshot", "BurstingEnabled" },
  handler = function(_, a, ctx)
    local ids = a:list("DiskIds")
    local one = a:str("DiskId")
    if one then table.insert(ids, 1, one) end
    if #ids == 0 then errors.missing("DiskId") end
    local name = a:str("DiskName")
    if name and not engine.CHECKS.name(name) then raise("InvalidDiskName.Malformed") end
    local description = a:str("Description")
    if description and not engine.CHECKS.description(description) then raise("InvalidDescription.Malformed", nil, 404) end
    local dwi, das, eas = a:bool("DeleteWithInstance"), a:bool("DeleteAutoSnapshot"), a:bool("EnableAutoSnapshot")
    local bursting = a:bool("BurstingEnabled")
    if name == nil and description == nil and dwi == nil and das == nil and eas == nil and bursting == nil then
      raise("NoAttributeToModify")
    end
    local list = {}
    for i, id in ipairs(ids) do list[i] = find(ctx, id) end
    for _, d in ipairs(list) do
      if dwi == false and not d.Portable and d.Type ~= "system" then raise("DiskNotPortable") end
      if d.Status == "Creating" then raise("IncorrectDiskStatus", "The operation is not supported in this status.") end
      if bursting ~= nil and d.Category ~= "cloud_auto" then
        raise("InvalidParameter", "BurstingEnabled applies to cloud_auto disks, which the emulator does not offer.")
      end
    end
    engine.commit(a)
    for _, d in ipairs(list) do
      if name then d.DiskName = name end
      if description then d.Description = description end
      if dwi ~= nil then d.DeleteWithInstance = dwi end
      if das ~= nil then d.DeleteAutoSnapshot = das end
      if eas ~= nil then d.EnableAutoSnapshot = eas end
    end
    return {}
  end,
}

actions.ModifyDiskChargeType = {
  op = "custom", honours = { "InstanceId", "DiskIds", "DiskChargeType" },
  ignores = { AutoPay = "billing: the emulator charges nothing" },
  handler = function(emu, a, ctx)
    local rid = engine.region(emu, a)
    local inst = engine.find(ctx, "instance", a:need("InstanceId"), rid)
    local ids = a:strings("DiskIds")
    if #ids == 0 then errors.missing("DiskIds") end
    if #ids > 16 then errors.invalid("DiskIds", nil, nil, "At most 16 disks.") end
    local charge = a:enum("DiskChargeType", { "PrePaid", "PostPaid" }, "PrePaid", "InvalidPayMethod", 403)
    local list = {}
    for i, id in ipairs(ids) do
      local d = engine.get(ctx, "disk", id)
      if not d or d.InstanceId ~= inst.InstanceId then raise("InvalidDiskIds.NotFound") end
      list[i] = d
    end
    engine.commit(a)
    for _, d in ipairs(list) do d.DiskChargeType = charge end
    return { OrderId = tostring(1000000000000000 + emu.ids:number(0, 99999999)) }
  end,
}

actions.ResizeDisk = {
  op = "custom", honours = { "DiskId", "NewSize", "Type" },
  handler = function(_, a, ctx)
    local d = find(ctx, a:need("DiskId"))
    local new_size = a:int("NewSize")
    if new_size == nil then errors.missing("NewSize") end
    local online = a:enum("Type", { "offline", "online" }, "offline") == "online"
    if d.Type ~= "data" and not online then
      raise("OperationDenied", "The status of the disk or the instance that the disk is attaching with does not "
        .. "support the operation.")
    end
    if not RESIZABLE[d.Category] then raise("OperationDenied", "The type of the disk does not support the operation.") end
    -- ref 7.11 names a disk in another state DiskError (message IncorrectDiskStatus)
    if d.Status ~= "In_use" and d.Status ~= "Available" then raise("DiskError") end
    if creating_snapshot(ctx, d) then raise("DiskCreatingSnapshot") end
    if d.InstanceId ~= "" then
      local inst = engine.get(ctx, "instance", d.InstanceId)
      if inst and inst.Status ~= "Running" and inst.Status ~= "Stopped" then raise("IncorrectInstanceStatus") end
    end
    if new_size <= d.Size then raise("InvalidDiskSize.TooSmall", "Specified new disk size is less than the original disk size.") end
    local max = (d.Size < 2000 and d.Category == "cloud") and 2000 or fixtures.SIZE_LIMITS[d.Category][2]
    if new_size > max then raise("InvalidDiskSize.TooLarge") end
    engine.commit(a)
    d.Size = new_size
    d.IOPS = iops(d.Category, d.Size)
    return {}
  end,
}

actions.ReInitDisk = {
  op = "custom", honours = { "DiskId", "SecurityEnhancementStrategy", "AutoStartInstance", "Password", "KeyPairName" },
  handler = function(emu, a, ctx)
    local d = find(ctx, a:need("DiskId"))
    a:enum("SecurityEnhancementStrategy", { "Active", "Deactive" })
    check_password(a)
    local kp = a:str("KeyPairName")
    local inst = attached_stopped(ctx, d)
    if kp then engine.find(ctx, "key_pair", kp, inst.RegionId) end
    if d.SourceSnapshotId ~= "" and not engine.get(ctx, "snapshot", d.SourceSnapshotId) then
      raise("InvalidSourceSnapshot")
    end
    local start = a:bool("AutoStartInstance", false)
    engine.commit(a)
    d._reinitialised = emu:now()
    if kp then inst.KeyPairName = kp end
    if start then
      inst.Status = "Starting"
      engine.later(emu, ctx, inst, emu.delays.instance_start or 0, { Status = "Running",
        StartTime = state.iso_minute(emu:now()), StoppedMode = "Not-applicable" })
    end
    return {}
  end,
}

actions.ResetDisk = {
  op = "custom", honours = { "DiskId", "SnapshotId" },
  handler = function(_, a, ctx)
    local d = find(ctx, a:need("DiskId"))
    local snap = engine.find(ctx, "snapshot", a:need("SnapshotId"))
    attached_stopped(ctx, d)
    if snap.SourceDiskId ~= d.DiskId then
      raise("InvalidParameter.Mismatch", "The specified snapshot is not created from the specified disk.")
    end
    engine.commit(a)
    d._reset_to = snap.SnapshotId
    return {}
  end,
}

actions.ReplaceSystemDisk = {
  op = "custom", honours = { "InstanceId", "ImageId", "Password", "PasswordInherit", "KeyPairName",
    "SecurityEnhancementStrategy", "SystemDisk.Size", "DiskId", "Encrypted", "KMSKeyId" },
  ignores = { UseAdditionalService = "billing: the emulator charges nothing" },
  handler = function(emu, a, ctx)
    local inst = instance_of(ctx, a:need("InstanceId"))
    local image_id = a:str("ImageId")
    local from_disk = a:str("DiskId")
    if not image_id and not from_disk then errors.missing("ImageId") end
    local img
    if image_id then
      img = engine.get(ctx, "image", image_id)
      if not img or img.Status ~= "Available" then raise("InvalidImageId.NotFound") end
    end
    check_password(a)
    a:enum("SecurityEnhancementStrategy", { "Active", "Deactive" })
    local encrypted, key = a:bool("Encrypted"), a:str("KMSKeyId")
    if key and encrypted ~= true then
      raise("InvalidParameter.EncryptedIllegal", "The specified parameter Encrypted must be true when KMSKeyId is given.")
    end
    if key then engine.kinds.disk_encryption.check_key(key, "InvalidParameter.KMSKeyId.NotFound") end
    local kp = a:str("KeyPairName")
    if kp then engine.find(ctx, "key_pair", kp, inst.RegionId) end
    if inst.Status ~= "Stopped" then raise("IncorrectInstanceStatus") end
    local old
    for _, d in ipairs(engine.list(ctx, "disk", function(d) return d.InstanceId == inst.InstanceId and d.Type == "system" end)) do
      old = d
    end
    local src
    if from_disk then
      src = find(ctx, from_disk)
      if src.Status ~= "Available" or src.ZoneId ~= inst.ZoneId then raise("IncorrectDiskStatus") end
    end
    local img_size = img and img.Size or (src and src.Size) or 20
    local size = a:int("SystemDisk.Size", math.max(40, img_size, old and old.Size or 0))
    if size < img_size then raise("InvalidSystemDiskSize.LessThanImageSize") end
    if size < 20 then raise("InvalidSystemDiskSize.LessThanMinSize") end
    if size > 500 then raise("InvalidSystemDiskSize.MoreThanMaxSize") end
    if old and size < old.Size then raise("InvalidSystemDiskSize") end
    engine.commit(a)
    local d = make(emu, ctx, { RegionId = inst.RegionId, ZoneId = inst.ZoneId, Category = old and old.Category or "cloud_essd",
      Size = size, Type = "system", Status = "In_use", InstanceId = inst.InstanceId, Device = "/dev/xvda",
      Encrypted = encrypted, KMSKeyId = key,
      ImageId = img and img.ImageId or "", DeleteWithInstance = true })
    if old then engine.remove(emu, ctx, old) end
    if src then engine.remove(emu, ctx, src) end
    if img then
      inst.ImageId, inst.OSName, inst.OSNameEn, inst.OSType = img.ImageId, img.OSName, img.OSName, img.OSType or "linux"
    end
    if kp then inst.KeyPairName = kp end
    return { DiskId = d.DiskId }
  end,
}

disk = {
  name = "disk", product = "ecs", id = "DiskId", prefix = "d", scope = "zone", name_field = "DiskName",
  not_found = "InvalidDiskId.NotFound", state_code = "IncorrectDiskStatus", tag_type = "disk",
  roundtrip = {
    create = { "CreateDisk", function(fx) return { RegionId = fx.region, ZoneId = fx.zone, Size = 20 } end },
    wrong_state = { "DeleteDisk", function(_, id) return { DiskId = id } end, "IncorrectDiskStatus" },
    ready = { "Status", "Available" },
    describe = { "DescribeDisks", function(fx, id) return { RegionId = fx.region, DiskIds = id and { id } or nil } end },
    modify = { "ModifyDiskAttribute", function(_, id) return { DiskId = id, DiskName = "renamed" } end, "DiskName", "renamed" },
    delete = { "DeleteDisk", function(_, id) return { DiskId = id } end },
    not_found = "InvalidDiskId.NotFound",
  },
  fields = {},
  view = function(_, rec)
    local attachments = {}
    if rec.InstanceId ~= "" then
      attachments[1] = { InstanceId = rec.InstanceId, Device = rec.Device, AttachedTime = rec.AttachedTime }
    end
    return { OperationLocks = {}, Attachments = attachments, MountInstances = {}, MountInstanceNum = #attachments }
  end,
  -- a disk released with DeleteAutoSnapshot takes its automatic snapshots (those no image uses)
  on_delete = function(emu, ctx, rec)
    if not rec.DeleteAutoSnapshot then return end
    for _, s in ipairs(engine.list(ctx, "snapshot", function(s)
      return s.SourceDiskId == rec.DiskId and s.SnapshotType == "auto"
    end)) do
      if not snapshot.used_by_image(ctx, s.SnapshotId) then engine.remove(emu, ctx, s) end
    end
  end,
  actions = actions,
}
disk.make = make
disk.creating_snapshot = creating_snapshot
disk.iops = iops
disk.read_window, disk.in_window = read_window, in_window

-- Snapshots ----------------------------------------------------------------------------------

local snapshot_actions = {}

-- The instance a disk is attached to must be Running or Stopped for a snapshot of it; an
-- unattached disk must have been attached once (else there is nothing on it to copy).
function disk.check_snapshot_source(ctx, d)
  if d.Status ~= "In_use" and d.Status ~= "Available" then raise("IncorrectDiskStatus") end
  if d.InstanceId ~= "" then
    local inst = engine.get(ctx, "instance", d.InstanceId)
    if inst and inst.Status ~= "Running" and inst.Status ~= "Stopped" then raise("IncorrectInstanceStatus", nil, 400) end
  elseif not d._ever_attached then
    raise("IncorrectDiskStatus.NeverAttached")
  end
  if creating_snapshot(ctx, d) then raise("IncorrectDiskStatus.CreatingSnapshot") end
end

snapshot_actions.CreateSnapshot = {
  op = "custom", honours = { "DiskId", "SnapshotName", "Description", "Tag", "ResourceGroupId", "RetentionDays",
    "Category" },
  ignores = { InstantAccess = "no longer takes effect (the service made every snapshot instantly available)",
    InstantAccessRetentionDays = "no longer takes effect (the service made every snapshot instantly available)" },
  handler = function(emu, a, ctx)
    local d = find(ctx, a:need("DiskId"))
    local name = a:str("SnapshotName")
    if name and (not engine.CHECKS.name(name) or name:match("^auto")) then
      raise("InvalidSnapshotName.Malformed")
    end
    local description = a:str("Description")
    -- the CreateSnapshot page gives this code status 404
    if description and not engine.CHECKS.description(description) then raise("InvalidDescription.Malformed", nil, 404) end
    local retention = a:int("RetentionDays", nil, 1, 65536)
    local category = a:enum("Category", { "Standard", "Flash" }, "Standard")
    disk.check_snapshot_source(ctx, d)
    local tags = engine.tags(a)
    a:bool("InstantAccess")
    a:int("InstantAccessRetentionDays")
    engine.commit(a)
    local s = snapshot.make(emu, ctx, d, { SnapshotName = name, Description = description, Tags = tags,
      ResourceGroupId = a:str("ResourceGroupId"), RetentionDays = retention, Category = category:lower() })
    return { SnapshotId = s.SnapshotId }
  end,
}

snapshot_actions.DescribeSnapshots = {
  op = "describe", page_max = 100,
  ids = { SnapshotIds = "SnapshotId" },
  filters = {
    DiskId = "SourceDiskId", SnapshotName = "SnapshotName", Encrypted = "Encrypted", KMSKeyId = "KMSKeyId",
    Status = { field = "Status", enum = { "progressing", "accomplished", "failed", "all" },
      match = function(rec, v) return v == "all" or rec.Status == v end },
    SnapshotType = { field = "SnapshotType", enum = { "auto", "user", "all" },
      match = function(rec, v) return v == "all" or rec.SnapshotType == v end },
    SourceDiskType = { field = "SourceDiskType", match = function(rec, v) return rec.SourceDiskType:lower() == v:lower() end },
    Usage = { field = "Usage", enum = { "image", "disk", "image_disk", "none" },
      match = function(rec, v, ctx) return snapshot.usage(ctx, rec) == v end },
    Category = { field = "Category", enum = { "Standard", "Flash", "standard", "flash" },
      match = function(rec, v) return rec.Category == v:lower() end },
    InstanceId = { field = "SourceDiskId", match = function(rec, v, ctx)
      local d = engine.get(ctx, "disk", rec.SourceDiskId)
      return d ~= nil and d.InstanceId == v
    end },
  },
  honours = WINDOW_PARAMS,
  prepare = function(_, a, ctx) read_window(a, ctx) end,
  keep = in_window,
  extra = function(_, a) engine.commit(a) end,
}

snapshot_actions.DeleteSnapshot = {
  op = "custom", honours = { "SnapshotId", "Force" },
  handler = function(emu, a, ctx)
    local s = engine.get(ctx, "snapshot", a:need("SnapshotId"))
    local force = a:bool("Force", false)
    if not s then
      -- the service ignores a snapshot that does not exist
      engine.commit(a)
      return {}
    end
    if snapshot.used_by_image(ctx, s.SnapshotId) then raise("SnapshotCreatedImage") end
    if not force and #engine.list(ctx, "disk", function(d) return d.SourceSnapshotId == s.SnapshotId end) > 0 then
      raise("SnapshotCreatedDisk", "The snapshot has been used to create disk(s); set Force to true to delete it.")
    end
    engine.commit(a)
    engine.remove(emu, ctx, s)
    return {}
  end,
}

snapshot_actions.ModifySnapshotAttribute = {
  op = "modify", fields = { "SnapshotName", "Description", "RetentionDays" },
  ignores = { DisableInstantAccess = "no longer takes effect (the service made every snapshot instantly available)" },
  before = function(_, a) a:bool("DisableInstantAccess") end,
  after = function(emu, _, ctx, rec)
    -- a new retention counts from the snapshot's creation
    rec._expires_at = rec.RetentionDays and (rec._created + rec.RetentionDays * 86400) or nil
    if rec.Status == "accomplished" then engine.hooks.snapshot_done(emu, ctx.world, rec) end
  end,
}

snapshot = {
  name = "snapshot", product = "ecs", id = "SnapshotId", prefix = "s", scope = "region", name_field = "SnapshotName",
  not_found = "InvalidSnapshotId.NotFound", state_code = "IncorrectSnapshotStatus", tag_type = "snapshot",
  roundtrip = {
    create = { "CreateSnapshot", function(fx)
      return { DiskId = fx.system_disk }
    end },
    ready = { "Status", "accomplished" },
    describe = { "DescribeSnapshots", function(fx, id) return { RegionId = fx.region, SnapshotIds = id and { id } or nil } end },
    modify = { "ModifySnapshotAttribute", function(_, id) return { SnapshotId = id, SnapshotName = "renamed" } end,
      "SnapshotName", "renamed" },
    delete = { "DeleteSnapshot", function(_, id) return { SnapshotId = id } end },
    not_found = "InvalidSnapshotId.NotFound",
  },
  fields = {
    SnapshotName = { check = "name", code = "InvalidSnapshotName.Malformed" },
    Description = { check = "description", code = "InvalidDescription.Malformed" },
    RetentionDays = { min = 1, max = 65536 },
  },
  view = function(_, rec, ctx) return { Usage = snapshot.usage(ctx, rec) } end,
  actions = snapshot_actions,
}

-- Whether a custom image of the account keeps the snapshot in its disk mappings.
function snapshot.used_by_image(ctx, id)
  for _, img in ipairs(engine.list(ctx, "image", function(i) return i.ImageOwnerAlias == "self" end)) do
    for _, m in ipairs(img.DiskDeviceMappings or {}) do
      if m.SnapshotId == id then return true end
    end
  end
  return false
end

-- What a snapshot serves: images, disks, both or nothing (DescribeSnapshots' Usage).
function snapshot.usage(ctx, rec)
  local image = snapshot.used_by_image(ctx, rec.SnapshotId)
  local disks = #engine.list(ctx, "disk", function(d) return d.SourceSnapshotId == rec.SnapshotId end) > 0
  if image and disks then return "image_disk" end
  return image and "image" or disks and "disk" or "none"
end

-- A snapshot of a disk (or of what stands for one: {RegionId, DiskId, Size, Type, Encrypted,
-- KMSKeyId}). o: SnapshotName, Description, Tags, ResourceGroupId, RetentionDays,
-- SnapshotType ("user"), Status ("progressing", or "accomplished" for one made complete),
-- created (epoch seconds, default now), SourceRegionId, SourceSnapshotId, Category, and
-- fields to carry (SnapshotGroupId, _policy).
function snapshot.make(emu, ctx, d, o)
  local created = o.created or emu:now()
  local s = engine.record(emu, ctx, snapshot, {
    RegionId = d.RegionId, SourceDiskId = d.DiskId or "", SourceDiskSize = d.Size,
    SourceDiskType = d.Type == "system" and "System" or "Data", SnapshotName = o.SnapshotName or "",
    Description = o.Description or "", Category = o.Category or "standard", Status = o.Status or "progressing",
    Progress = o.Status == "accomplished" and "100%" or "0%", Encrypted = d.Encrypted == true,
    KMSKeyId = d.Encrypted and d.KMSKeyId or "", SourceStorageType = "disk", SnapshotType = o.SnapshotType or "user",
    Tags = o.Tags or {}, ResourceGroupId = o.ResourceGroupId or emu.default_resource_group,
    RetentionDays = o.RetentionDays, Available = o.Status == "accomplished", InstantAccess = false,
    ProductCode = "", SnapshotSN = emu.ids:hex(20), SourceRegionId = o.SourceRegionId or d.RegionId,
    SourceSnapshotId = o.SourceSnapshotId or "", RemainTime = 0, CreationTime = state.iso(created),
    _created = created, _expires_at = o.RetentionDays and (created + o.RetentionDays * 86400) or nil,
  })
  for k, v in pairs(o.carry or {}) do s[k] = v end
  s.LastModifiedTime = s.CreationTime
  engine.store(ctx, s)
  if s.Status == "progressing" then
    -- one made in the past (a policy's firing the clock jumped over) completes as it would have
    engine.at(emu, ctx, s, created + (emu.delays.snapshot_create or 0), { Status = "accomplished", Progress = "100%",
      Available = true }, "snapshot_done")
  else
    engine.hooks.snapshot_done(emu, ctx.world, s)
  end
  return s
end

-- A completed snapshot with a retention is released when it runs out (or at once, when the
-- clock has already passed it); one an image uses stays.
engine.hooks.snapshot_done = function(emu, world, rec)
  if rec._expires_at then
    engine.at(emu, { world = world }, rec, rec._expires_at, {}, "snapshot_expire")
  end
end

engine.hooks.snapshot_expire = function(emu, world, rec)
  local ctx = { world = world }
  if not snapshot.used_by_image(ctx, rec.SnapshotId) then engine.remove(emu, ctx, rec) end
end

-- The fixture: every system disk has one snapshot in its history (ResetDisk needs one).
function snapshot.fixture(emu, ctx)
  for _, d in ipairs(engine.list(ctx, "disk", function(d) return d.Type == "system" end)) do
    local inst = engine.get(ctx, "instance", d.InstanceId)
    local t = require("aliyun.emulator.auth").parse_timestamp(inst.CreationTime:gsub("Z$", ":00Z"))
    snapshot.make(emu, ctx, d, { SnapshotName = "emu-initial", Status = "accomplished", created = (t or emu:now()) + 600 })
  end
end

return { disk, snapshot }
