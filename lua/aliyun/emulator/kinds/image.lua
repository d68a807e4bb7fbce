-- Images: the public ones every account sees in every region (ImageOwnerAlias system), the
-- account's own custom images (self) and those other accounts share with it (others; the
-- sharing is in image_share.lua). A custom image is made from an instance (a snapshot of each
-- of its disks), from disk mappings of snapshots or from a system disk snapshot; it is
-- Creating for `image_create` seconds, then Available, and its DiskDeviceMappings name its
-- snapshots (which cannot be deleted while it exists). DeleteImage refuses an image
-- instances were made from (unless Force), one shared with others, and one being copied,
-- imported or exported; an image id that does not exist is ignored, as the service does.
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"
local state = require "aliyun.emulator.state"

local raise = errors.raise

local image

local ARCHITECTURES = { "x86_64", "i386", "arm64" }
local BOOT_MODES = { "BIOS", "UEFI", "UEFI-Preferred" }
local NVME = { "supported", "unsupported" }
local IMDS = { "v1", "v2" }

-- The number the API shows for an account (ImageOwnerId); accounts named otherwise than by
-- digits get a stable number.
local function image_owner_id(account)
  return tonumber(account) or state.hash(tostring(account))
end

-- Image and image family names: 2 to 128 characters, a letter first, not acs: or aliyun.
local function check_name(v, code, param)
  local ok = engine.CHECKS.name(v) and not v:match("^acs:") and not v:match("^aliyun")
  if not ok then
    raise(code or "InvalidImageName.Malformed", "The specified " .. (param or "ImageName") .. " \"" .. v .. "\" is not "
      .. "valid: 2 to 128 characters starting with a letter, not with acs: or aliyun, nor http:// or https://.")
  end
end

-- The account's own custom image in the region, or the service's not-found error (public
-- images and images others share are not the account's to change).
local function own(ctx, id, region)
  local img = id and engine.get(ctx, "image", id)
  if not img or img.ImageOwnerAlias ~= "self" or (region and img.RegionId ~= region) then
    raise("InvalidImageId.NotFound")
  end
  return img
end

local function duplicate_name(ctx, region, name, except)
  return engine.list(ctx, "image", function(i)
    return i.ImageOwnerAlias == "self" and i.RegionId == region and i.ImageName == name and i ~= except
  end)[1]
end

-- Features.NvmeSupport / Features.ImdsSupport into rec.Features.
local function read_features(a, rec)
  local nvme = a:enum("Features.NvmeSupport", NVME)
  local imds = a:enum("Features.ImdsSupport", IMDS)
  if nvme or imds then
    local f = {}
    for k, v in pairs(rec.Features or {}) do f[k] = v end
    f.NvmeSupport, f.ImdsSupport = nvme or f.NvmeSupport, imds or f.ImdsSupport
    rec.Features = f
  end
end

-- Whether instances of the account run from the image (its Usage).
local function in_use(ctx, id)
  return #engine.list(ctx, "instance", function(i) return i.ImageId == id end) > 0
end

-- A mapping of the image's disks as DescribeImages shows it.
local function mapping(o)
  return { Device = o.Device, Size = tostring(o.Size), SnapshotId = o.SnapshotId or "", Type = o.Type,
    Format = o.Format or "", ImportOSSBucket = o.ImportOSSBucket or "", ImportOSSObject = o.ImportOSSObject or "",
    Progress = "100%", RemainTime = 0, Encrypted = o.Encrypted == true }
end

-- A new custom image of the account (stored). o: RegionId, the OS fields, Size, mappings,
-- ImageName ... ; Status Creating unless o.Status says otherwise.
local function make(emu, ctx, o)
  local rec = engine.record(emu, ctx, image, {
    RegionId = o.RegionId, ImageName = o.ImageName, Description = o.Description or "", ImageFamily = o.ImageFamily or "",
    ImageVersion = o.ImageVersion or "", OSName = o.OSName or "", OSNameEn = o.OSName or "", OSType = o.OSType or "linux",
    Platform = o.Platform or "Others Linux", Architecture = o.Architecture or "x86_64", Size = o.Size or 40,
    Status = o.Status or "Creating", Progress = o.Status == "Available" and "100%" or "0%", ImageOwnerAlias = "self",
    ImageOwnerId = image_owner_id(ctx.world.account), IsPublic = false, IsSelfShared = "False", IsCopied = false,
    IsSubscribed = false, IsSupportIoOptimized = true, IsSupportCloudinit = true, BootMode = o.BootMode or "BIOS",
    ProductCode = "", LicenseType = o.LicenseType or "Auto", LoginAsNonRootSupported = false, SupplierName = "",
    DiskDeviceMappings = o.mappings or {}, Features = o.Features, Tags = o.Tags or {},
    ResourceGroupId = o.ResourceGroupId or emu.default_resource_group,
  })
  rec.ImageName = rec.ImageName or rec.ImageId
  engine.store(ctx, rec)
  return rec
end

-- The OS fields of an image made from a disk: those of the image the disk was made from.
local function os_of(ctx, disk_id)
  local d = disk_id and engine.get(ctx, "disk", disk_id)
  local base = d and d.ImageId ~= "" and engine.get(ctx, "image", d.ImageId)
  if not base then return {} end
  return { OSName = base.OSName, OSType = base.OSType, Platform = base.Platform, Architecture = base.Architecture }
end

-- The mappings of an instance's disks, each with a new snapshot.
local function from_instance(emu, ctx, inst)
  local disks = engine.list(ctx, "disk", function(d) return d.InstanceId == inst.InstanceId end)
  table.sort(disks, function(x, y) return x.Device < y.Device end)
  local out = {}
  for _, d in ipairs(disks) do
    engine.kinds.disk.check_snapshot_source(ctx, d)
  end
  for _, d in ipairs(disks) do
    local s = engine.kinds.snapshot.make(emu, ctx, d, {})
    out[#out + 1] = mapping { Device = d.Device, Size = d.Size, SnapshotId = s.SnapshotId, Type = d.Type,
      Encrypted = d.Encrypted }
  end
  return out
end

local function ready_snapshot(ctx, id, region)
  local s = engine.find(ctx, "snapshot", id, region)
  if s.Status ~= "accomplished" then raise("InvalidSnapshotId.NotReady") end
  return s
end

-- DiskDeviceMapping.N: one system disk snapshot (N=1 unless DiskType says) and data disks.
local function from_mappings(a, ctx, region)
  local list = a:objects("DiskDeviceMapping", { "Device", "DiskType", "Size", "SnapshotId" })
  if #list > 17 then errors.invalid("DiskDeviceMapping", nil, nil, "At most 17 disks.") end
  local systems = 0
  for i, m in ipairs(list) do
    m.DiskType = m.DiskType or (i == 1 and "system" or "data")
    if m.DiskType ~= "system" and m.DiskType ~= "data" then errors.invalid("DiskDeviceMapping." .. i .. ".DiskType") end
    if m.DiskType == "system" and m.SnapshotId then systems = systems + 1 end
  end
  if systems == 0 then
    raise("OperationDenied", "The specified parameter DiskDeviceMapping.n.SnapshotId does not contain system disk "
      .. "snapshot.", 400)
  end
  if systems > 1 then
    raise("OperationDenied", "The specified parameter DiskDeviceMapping.n.SnapshotId contains two or more system disk "
      .. "snapshots.", 400)
  end
  local out, devices, system_snap = {}, {}, nil
  for i, m in ipairs(list) do
    local t = m.DiskType
    local s = m.SnapshotId and ready_snapshot(ctx, m.SnapshotId, region)
    if t == "system" then system_snap = s end
    local size = m.Size and tonumber(m.Size)
    if m.Size and (not size or size ~= math.floor(size)) then errors.invalid("DiskDeviceMapping." .. i .. ".Size") end
    size = size or (s and s.SourceDiskSize) or 5
    if size < ((s and s.SourceDiskSize) or 5) or size > 32768 then
      raise("InvalidSize.ValueNotSupported", "The specified parameter DiskDeviceMapping." .. i .. ".Size beyond the "
        .. "permitted range.")
    end
    local device = m.Device or (t == "system" and "/dev/xvda" or nil)
    if device then
      if devices[device] or not device:match("^/dev/xvd[a-z]$") or (t == "system") ~= (device == "/dev/xvda") then
        errors.invalid("DiskDeviceMapping." .. i .. ".Device")
      end
      devices[device] = true
    end
    out[i] = { Device = device, Size = size, SnapshotId = s and s.SnapshotId, Type = t,
      Encrypted = s and s.Encrypted }
  end
  -- data disks without a device take the free ones in order
  local c = string.byte("b")
  for i, m in ipairs(out) do
    if not m.Device then
      while devices["/dev/xvd" .. string.char(c)] do c = c + 1 end
      m.Device = "/dev/xvd" .. string.char(c)
      devices[m.Device] = true
    end
    out[i] = mapping(m)
  end
  return out, system_snap
end

local actions = {}

actions.CreateImage = {
  op = "custom",
  honours = { "InstanceId", "SnapshotId", "DiskDeviceMapping", "ImageName", "Description", "ImageFamily", "ImageVersion",
    "Architecture", "Platform", "BootMode", "Features.NvmeSupport", "Features.ImdsSupport", "Tag", "ResourceGroupId" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local name = a:str("ImageName")
    if name then
      check_name(name)
      if duplicate_name(ctx, region, name) then raise("InvalidImageName.Duplicated") end
    end
    local description = a:str("Description")
    if description and not engine.CHECKS.description(description) then raise("InvalidDescription.Malformed") end
    local family = a:str("ImageFamily")
    if family then check_name(family, "InvalidParameter", "ImageFamily") end
    local version = a:str("ImageVersion")
    if version and (#version > 40 or version:find("[^%w%.%-_]")) then raise("InvalidImageVersion.Malformed") end
    local architecture = a:enum("Architecture", ARCHITECTURES)
    local platform = a:str("Platform")
    local boot = a:enum("BootMode", BOOT_MODES)
    local tags = engine.tags(a)
    local features = {}
    read_features(a, features)
    -- the sources, in the service's order of priority: InstanceId, DiskDeviceMapping, SnapshotId
    local inst_id, snap_id = a:str("InstanceId"), a:str("SnapshotId")
    local has_mappings = a:has("DiskDeviceMapping.1.SnapshotId") or a:has("DiskDeviceMapping.1.Size")
      or a:has("DiskDeviceMapping.1.Device") or a:has("DiskDeviceMapping.1.DiskType")
    local o = { RegionId = region, ImageName = name, Description = description, ImageFamily = family,
      ImageVersion = version, BootMode = boot, Features = features.Features, Tags = tags,
      ResourceGroupId = a:str("ResourceGroupId") }
    local system_size, base
    if inst_id then
      local inst = engine.find(ctx, "instance", inst_id, region)
      if inst.Status ~= "Running" and inst.Status ~= "Stopped" then
        raise("IncorrectInstanceStatus", "The current status of the instance does not support this operation.", 400)
      end
      base = engine.get(ctx, "image", inst.ImageId) or {}
      base = { OSName = inst.OSName, OSType = inst.OSType, Platform = base.Platform, Architecture = base.Architecture }
      engine.commit(a)
      o.mappings = from_instance(emu, ctx, inst)
    elseif has_mappings then
      local mappings, sys = from_mappings(a, ctx, region)
      base = os_of(ctx, sys.SourceDiskId)
      engine.commit(a)
      o.mappings = mappings
    elseif snap_id then
      local s = ready_snapshot(ctx, snap_id, region)
      if s.SourceDiskType ~= "System" then raise("OperationDenied", "The specified snapshot is not from system disk.") end
      base = os_of(ctx, s.SourceDiskId)
      engine.commit(a)
      o.mappings = { mapping { Device = "/dev/xvda", Size = s.SourceDiskSize, SnapshotId = s.SnapshotId, Type = "system",
        Encrypted = s.Encrypted } }
    else
      raise("MissingParameter", "The input parameter SnapshotId or InstanceId or DiskDeviceMapping that is mandatory "
        .. "for processing this request is not supplied.")
    end
    for _, m in ipairs(o.mappings) do
      if m.Type == "system" then system_size = tonumber(m.Size) end
    end
    o.OSName, o.OSType = base.OSName, base.OSType
    o.Platform = platform or base.Platform
    o.Architecture = architecture or base.Architecture
    o.Size = system_size
    local rec = make(emu, ctx, o)
    engine.later(emu, ctx, rec, emu.delays.image_create or 0, { Status = "Available", Progress = "100%" })
    return { ImageId = rec.ImageId }
  end,
}

local function has_type(id)
  for _, t in ipairs(fixtures.INSTANCE_TYPES) do
    if t.id == id then return t end
  end
  return nil
end

-- The instance types of the emulator an image runs on: every one for x86 images, none for arm64.
local function types_for(img)
  if img.Architecture == "arm64" then return {} end
  return fixtures.INSTANCE_TYPES
end

actions.DescribeImages = {
  op = "describe", page_max = 100, ids = { ImageId = "ImageId" },
  filters = {
    ImageName = "ImageName", ImageFamily = "ImageFamily", OSType = "OSType", Architecture = "Architecture",
    Status = { field = "Status", match = function(rec, v)
      for s in v:gmatch("[^,]+") do if rec.Status == s then return true end end
      return false
    end },
    ImageOwnerAlias = { field = "ImageOwnerAlias", enum = { "system", "self", "others", "marketplace" } },
    ImageOwnerId = "ImageOwnerId",
    IsPublic = "IsPublic", IsSupportCloudinit = "IsSupportCloudinit", IsSupportIoOptimized = "IsSupportIoOptimized",
    Usage = { field = "Usage", enum = { "instance", "none" }, match = function(rec, v, ctx)
      return (in_use(ctx, rec.ImageId) and "instance" or "none") == v
    end },
    SnapshotId = { field = "DiskDeviceMappings", match = function(rec, v)
      for _, m in ipairs(rec.DiskDeviceMappings or {}) do
        if m.SnapshotId == v then return true end
      end
      return false
    end },
    InstanceType = { field = "Architecture", match = function(rec, v)
      if not has_type(v) then return false end
      for _, t in ipairs(types_for(rec)) do
        if t.id == v then return true end
      end
      return false
    end },
  },
  honours = { "Filter" },
  ignores = { ShowExpired = "the emulator's public images never expire",
    ActionType = "every image of the emulator serves every action (CreateEcs, ChangeOS, ...)" },
  -- public images are in every region; ImageOwnerAlias=system lists only them
  scope = false,
  prepare = function(emu, a, ctx)
    ctx.region = engine.region(emu, a)
    if not a:has("Status") then ctx.only_available = true end
    -- Filter.N.Key CreationStartTime / CreationEndTime, as DescribeDisks reads them
    engine.kinds.disk.read_window(a, ctx)
    a:bool("ShowExpired")
    a:str("ActionType")
  end,
  keep = function(rec, ctx)
    if rec.ImageOwnerAlias ~= "system" and rec.RegionId ~= ctx.region then return false end
    if not engine.kinds.disk.in_window(rec, ctx) then return false end
    return not ctx.only_available or rec.Status == "Available"
  end,
  extra = function(_, a, ctx, body)
    body.RegionId = ctx.region
    engine.commit(a)
  end,
}

actions.DeleteImage = {
  op = "custom", honours = { "ImageId", "Force" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local id = a:need("ImageId")
    local force = a:bool("Force", false)
    if not engine.get(ctx, "image", id) then
      -- the service ignores an image that does not exist
      engine.commit(a)
      return {}
    end
    local img = own(ctx, id, region)
    if img._importing then raise("ImageIsImporting") end
    if img.Status == "Creating" then raise("ImageIsCreating") end
    if img._exporting then raise("ImageIsExporting") end
    if image.copying(ctx, img) then raise("OperationDenied.ImageCopying") end
    if image.shared(img) then raise("ImageUseShared") end
    if not force and in_use(ctx, id) then raise("ImageUsingByInstance") end
    engine.commit(a)
    engine.remove(emu, ctx, img)
    return {}
  end,
}

actions.ModifyImageAttribute = {
  op = "custom",
  honours = { "ImageId", "ImageName", "Description", "ImageFamily", "Status", "BootMode", "LicenseType",
    "Features.NvmeSupport", "Features.ImdsSupport" },
  handler = function(emu, a, ctx)
    local img = own(ctx, a:need("ImageId"), engine.region(emu, a))
    local copy = {}
    for k, v in pairs(img) do copy[k] = v end
    local name = a:str("ImageName")
    if name then
      check_name(name)
      if duplicate_name(ctx, img.RegionId, name, img) then
        raise("InvalidImageName.Duplicated", "The specified Image name has already bean used.")
      end
      copy.ImageName = name
    end
    local description = a:str("Description")
    if description then
      if not engine.CHECKS.description(description) then raise("InvalidDescription.Malformed") end
      copy.Description = description
    end
    local family = a:str("ImageFamily")
    if family then
      check_name(family, "InvalidParameter", "ImageFamily")
      copy.ImageFamily = family
    end
    local status = a:enum("Status", { "Deprecated", "Available" })
    if status then
      if img.Status ~= "Available" and img.Status ~= "Deprecated" then
        raise("IncorrectImageStatus", "The specified image is not available.")
      end
      -- a shared image is unshared before it is deprecated
      if status == "Deprecated" and image.shared(img) then raise("ImageUseShared") end
      copy.Status = status
    end
    copy.BootMode = a:enum("BootMode", BOOT_MODES) or copy.BootMode
    copy.LicenseType = a:enum("LicenseType", { "Auto", "Aliyun", "BYOL" }, nil, "InvalidLicenseType.NotSupported")
      or copy.LicenseType
    read_features(a, copy)
    engine.commit(a)
    for k, v in pairs(copy) do img[k] = v end
    image.sync_shares(emu, ctx, img)
    return {}
  end,
}

actions.DescribeImageSupportInstanceTypes = {
  op = "custom", honours = { "ImageId", "Filter" },
  ignores = { ActionType = "every instance type of the emulator serves every action (CreateEcs, ChangeOS)" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local id = a:str("ImageId")
    for _, f in ipairs(a:objects("Filter", { "Key", "Value" })) do
      if f.Key ~= "imageId" and f.Key ~= "filter" then errors.invalid("Filter.Key", nil, nil, "Valid key: imageId.") end
      id = id or f.Value
    end
    a:enum("ActionType", { "CreateEcs", "ChangeOS" })
    local img = id and engine.get(ctx, "image", id)
    if not img or (img.ImageOwnerAlias ~= "system" and img.RegionId ~= region) or img.Status ~= "Available" then
      raise("InvalidImageId.NotFound", "The specified image is not found, please make sure image is exist in current "
        .. "region or image status is available.")
    end
    local types = {}
    for i, t in ipairs(types_for(img)) do
      types[i] = { InstanceTypeId = t.id, InstanceTypeFamily = t.family, CpuCoreCount = t.cpu, MemorySize = t.memory }
    end
    return { ImageId = img.ImageId, RegionId = region, InstanceTypes = { InstanceType = types } }
  end,
}

-- scope global: public images have no region (each action checks the regions itself)
image = {
  name = "image", product = "ecs", id = "ImageId", prefix = "m", scope = "global", name_field = "ImageName",
  not_found = "InvalidImageId.NotFound", tag_type = "image",
  fields = {},
  view = function(_, rec, ctx)
    return { Usage = in_use(ctx, rec.ImageId) and "instance" or "none",
      IsSelfShared = image.shared(rec) and "True" or "False", Usable = rec.Status == "Available" }
  end,
  -- an image shared with others takes its copies along
  on_delete = function(emu, _, rec)
    if rec.ImageOwnerAlias == "self" then image.unshare_all(emu, rec) end
  end,
  roundtrip = {
    create = { "CreateImage", function(fx) return { RegionId = fx.region, InstanceId = fx.instance } end },
    -- an image being created cannot be deleted
    wrong_state = { "DeleteImage", function(fx, id) return { RegionId = fx.region, ImageId = id } end, "ImageIsCreating" },
    ready = { "Status", "Available" },
    describe = { "DescribeImages", function(fx, id)
      return { RegionId = fx.region, ImageId = id, ImageOwnerAlias = "self", Status = "Creating,Available" }
    end },
    modify = { "ModifyImageAttribute", function(fx, id) return { RegionId = fx.region, ImageId = id, ImageName = "renamed" } end,
      "ImageName", "renamed" },
    -- the instance was not made from this image: no Force needed
    delete = { "DeleteImage", function(fx, id) return { RegionId = fx.region, ImageId = id } end },
    not_found = "InvalidImageId.NotFound",
  },
  actions = actions,
}

image.make = make
image.own = own
image.check_name = check_name
image.duplicate_name = duplicate_name
image.mapping = mapping
image.in_use = in_use
image.owner_id = image_owner_id
image.read_features = read_features

-- Sharing lives in image_share.lua; until it is loaded an image is shared with nobody.
function image.shared(rec) return rec.IsPublic == true and rec.ImageOwnerAlias == "self" or #(rec._shared or {}) > 0 end
function image.sync_shares() end
function image.unshare_all() end
function image.copying() return false end

-- The fixture: the public images, stored in each account's world with no region.
function image.fixture(emu, ctx)
  local created = "2024-01-01T00:00:00Z"
  for _, img in ipairs(fixtures.IMAGES) do
    engine.store(ctx, engine.record(emu, ctx, image, {
      ImageId = img.id, ImageName = img.id, ImageFamily = img.family, ImageVersion = "1.0", Description = img.os,
      OSName = img.os, OSNameEn = img.os, OSType = img.os_type or "linux", Platform = img.platform,
      Architecture = "x86_64", Size = img.size, Status = "Available", ImageOwnerAlias = "system", IsPublic = true,
      IsSelfShared = "False", IsCopied = false, IsSubscribed = false, IsSupportIoOptimized = true,
      IsSupportCloudinit = true, Usage = "instance", Progress = "100%", BootMode = "BIOS", CreationTime = created,
      ProductCode = "", ImageOwnerId = 0, DiskDeviceMappings = {}, ResourceGroupId = "",
    }))
  end
end

return image
