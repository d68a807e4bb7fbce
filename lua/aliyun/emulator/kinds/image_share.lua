-- Images across accounts and regions, and in and out of OSS.
--
-- Sharing: ModifyImageSharePermission shares an Available custom image with other accounts of
-- the emulator (keys[id].account; an account no key belongs to does not exist) or makes it
-- public (every account). The image then shows in their DescribeImages as ImageOwnerAlias
-- others, and they may launch instances from it; they cannot change, share or delete it.
-- Changes of the owner's image reach the copies; unsharing or deleting removes them.
--
-- Copying: CopyImage makes the image again in another region (Creating for `image_copy`
-- seconds, IsCopied, new snapshots there); CancelCopyImage, called in the destination region
-- while it is Creating, removes the copy and its snapshots.
--
-- OSS, which the emulator does not emulate: ImportImage takes any well-formed bucket and
-- object as an existing disk image and makes an image of it (Creating for `image_import`
-- seconds, then Available with a snapshot per disk); ExportImage answers the service's task
-- id and keeps the image exporting for `image_export` seconds, and no object appears
-- anywhere (the service's answer is all the API shows of an export). Both need the RAM role
-- the service assumes (AliyunECSImageImportDefaultRole / AliyunECSImageExportDefaultRole, or
-- RoleName) among the emulator's ram_roles.
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local image = require "aliyun.emulator.kinds.image"
local state = require "aliyun.emulator.state"

local raise = errors.raise

local function deep(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deep(x) end
  return out
end

-- The accounts of the emulator: those its keys belong to.
local function accounts(emu)
  local set, list = {}, {}
  for id in pairs(emu.keys) do
    local acc = emu:account_of(id)
    if acc and not set[acc] then
      set[acc] = true
      list[#list + 1] = acc
    end
  end
  table.sort(list)
  return set, list
end

local function put_copy(emu, owner, img, account)
  local c = {}
  for k, v in pairs(img) do
    if type(k) == "string" and not k:match("^_") and k ~= "Tags" then c[k] = deep(v) end
  end
  c._kind, c._owner = "image", owner
  c.ImageOwnerAlias, c.Tags, c.ResourceGroupId = "others", {}, ""
  engine.store({ world = emu:world(account) }, c)
end

local function drop_copy(emu, img, account)
  local w = emu.worlds[account]
  if w then engine.coll(w, "image"):remove(img.ImageId) end
end

-- Brings the copies in other accounts in line with the owner's image and its sharing.
function image.sync_shares(emu, ctx, img)
  if img.ImageOwnerAlias ~= "self" then return end
  local owner = ctx.world.account
  local targets = {}
  for _, s in ipairs(img._shared or {}) do targets[s.account] = true end
  if img.IsPublic then
    local _, list = accounts(emu)
    for _, acc in ipairs(list) do
      if acc ~= owner then targets[acc] = true end
    end
  end
  for _, acc in ipairs(img._copies or {}) do
    if not targets[acc] then drop_copy(emu, img, acc) end
  end
  local copies = {}
  for acc in pairs(targets) do
    put_copy(emu, owner, img, acc)
    copies[#copies + 1] = acc
  end
  table.sort(copies)
  img._copies = copies
end

function image.unshare_all(emu, img)
  for _, acc in ipairs(img._copies or {}) do drop_copy(emu, img, acc) end
  img._copies, img._shared = {}, {}
end

-- Whether a copy of the image to another region is under way.
function image.copying(ctx, img)
  return #engine.list(ctx, "image", function(i)
    return i._copy_of and i._copy_of.ImageId == img.ImageId and i.Status == "Creating"
  end) > 0
end

local function encrypted(img)
  for _, m in ipairs(img.DiskDeviceMappings or {}) do
    if m.Encrypted then return true end
  end
  return false
end

local function task_id(emu)
  return emu.ids:resource("t")
end

-- The RAM role the service assumes to reach OSS.
local function check_role(emu, a, default)
  local role = a:str("RoleName") or default
  if not emu.ram_roles[role] then
    raise("NoSetRoletoECSServiceAcount", "ECS service account Have no right to access your OSS.please attach a role of "
      .. "access your oss to ECS service account. (The emulator's RAM roles lack \"" .. role .. "\"; give it in the "
      .. "ram_roles option.)")
  end
end

-- OSS bucket names: 3 to 63 lower-case letters, digits and hyphens, a letter or digit at
-- each end. The emulator cannot look a bucket up; a well-formed name is taken as existing.
local function check_bucket(name)
  if #name < 3 or #name > 63 or name:find("[^a-z0-9%-]") or not name:match("^[a-z0-9]") or not name:match("[a-z0-9]$") then
    raise("InvalidOSSBucket.NotFound")
  end
end

local actions = {}

actions.ModifyImageSharePermission = {
  op = "custom", honours = { "ImageId", "AddAccount", "RemoveAccount", "IsPublic" },
  handler = function(emu, a, ctx)
    local img = image.own(ctx, a:need("ImageId"), engine.region(emu, a))
    -- the service reads ten accounts of each list and ignores the rest
    local adds, removes = a:list("AddAccount"), a:list("RemoveAccount")
    for i = #adds, 11, -1 do adds[i] = nil end
    for i = #removes, 11, -1 do removes[i] = nil end
    local public = a:bool("IsPublic")
    if img.Status ~= "Available" then
      raise("IncorrectImageStatus", "The specified image is not available: only an Available image is shared.")
    end
    if (#adds > 0 or public) and encrypted(img) then raise("OperationDeined.EncryptedSnapshot") end
    local known = accounts(emu)
    local me = ctx.world.account
    for _, acc in ipairs(adds) do
      if acc == me then raise("InvalidAccount.Forbbiden") end
      if not known[acc] then raise("InvalidAccount.NotFound") end
    end
    for _, acc in ipairs(removes) do
      if not known[acc] then raise("InvalidAccount.NotFound") end
    end
    local shared, index = {}, {}
    for _, s in ipairs(img._shared or {}) do
      shared[#shared + 1] = s
      index[s.account] = s
    end
    for _, acc in ipairs(adds) do
      if not index[acc] then
        index[acc] = { account = acc, time = state.iso(emu:now()) }
        shared[#shared + 1] = index[acc]
      end
    end
    local drop = {}
    for _, acc in ipairs(removes) do drop[acc] = true end
    local kept = {}
    for _, s in ipairs(shared) do
      if not drop[s.account] then kept[#kept + 1] = s end
    end
    if #kept > 50 then raise("QuotaExceed.ShareImageUser") end
    engine.commit(a)
    img._shared = kept
    if public ~= nil then img.IsPublic = public end
    image.sync_shares(emu, ctx, img)
    return {}
  end,
}

actions.DescribeImageSharePermission = {
  op = "custom", honours = { "ImageId", "PageNumber", "PageSize" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local img = image.own(ctx, a:need("ImageId"), region)
    local items = {}
    for i, s in ipairs(img._shared or {}) do items[i] = { AliyunId = s.account, SharedTime = s.time } end
    local page, body = engine.page(emu, a, ctx, items, { page_size = 10, page_max = 100 })
    body.ImageId, body.RegionId = img.ImageId, region
    body.Accounts = { Account = page }
    body.ShareGroups = { ShareGroup = img.IsPublic and { { Group = "all" } } or {} }
    return body
  end,
}

actions.CopyImage = {
  op = "custom",
  honours = { "ImageId", "DestinationRegionId", "DestinationImageName", "DestinationDescription", "Encrypted",
    "KMSKeyId", "Tag", "ResourceGroupId" },
  handler = function(emu, a, ctx)
    local region = a:need("RegionId")
    if not emu.regions:get(region) then raise("SourceRegion.NotFound") end
    local dest = a:str("DestinationRegionId") or errors.missing("DestinationRegionId")
    if not emu.regions:get(dest) then raise("DestinationRegion.NotFound") end
    local src = engine.get(ctx, "image", a:need("ImageId"))
    if src and src.ImageOwnerAlias == "others" and src.RegionId == region then raise("OperationDenied.SameRegionOnly") end
    src = image.own(ctx, src and src.ImageId, region)
    if dest == region then raise("IncorrectDestinationRegion") end
    if src.Status ~= "Available" then raise("IncorrectImageStatus") end
    if image.copying(ctx, src) then raise("OperationDenied.ImageCopying", "The Image are coping.") end
    local name = a:str("DestinationImageName")
    if name then
      image.check_name(name, nil, "DestinationImageName")
      if image.duplicate_name(ctx, dest, name) then raise("InvalidImageName.Duplicated", "The destination image is exist.") end
    end
    local description = a:str("DestinationDescription")
    if description and not engine.CHECKS.description(description) then
      raise("InvalidDescription.Malformed", "The specified destination description is wrongly formed.")
    end
    local enc, key = a:bool("Encrypted", false), a:str("KMSKeyId")
    if key and not enc then
      raise("InvalidParameter.EncryptedIllegal", "The specified parameter Encrypted must be true when kmsKeyId is not empty.")
    end
    if key then engine.kinds.disk_encryption.check_key(key, "InvalidParameter.KMSKeyId.NotFound") end
    local tags = engine.tags(a)
    engine.commit(a)
    local snapshot = engine.kinds.snapshot
    local mappings = {}
    for i, m in ipairs(src.DiskDeviceMappings or {}) do
      local s = m.SnapshotId ~= "" and engine.get(ctx, "snapshot", m.SnapshotId)
      local copy = deep(m)
      if s then
        local secret, with = engine.kinds.disk_encryption.for_disk(emu, ctx, dest, enc or s.Encrypted, key)
        local c = snapshot.make(emu, ctx, { RegionId = dest, DiskId = s.SourceDiskId, Size = s.SourceDiskSize,
          Type = s.SourceDiskType == "System" and "system" or "data", Encrypted = secret, KMSKeyId = with },
          { SourceRegionId = region, SourceSnapshotId = s.SnapshotId, SnapshotName = s.SnapshotName })
        copy.SnapshotId, copy.Encrypted = c.SnapshotId, secret
      end
      mappings[i] = copy
    end
    local rec = image.make(emu, ctx, { RegionId = dest, ImageName = name or src.ImageName,
      Description = description or src.Description, ImageFamily = src.ImageFamily, ImageVersion = src.ImageVersion,
      OSName = src.OSName, OSType = src.OSType, Platform = src.Platform, Architecture = src.Architecture, Size = src.Size,
      BootMode = src.BootMode, LicenseType = src.LicenseType, Features = deep(src.Features), mappings = mappings,
      Tags = tags, ResourceGroupId = a:str("ResourceGroupId") })
    rec.IsCopied, rec._copy_of = true, { RegionId = region, ImageId = src.ImageId }
    engine.later(emu, ctx, rec, emu.delays.image_copy or 0, { Status = "Available", Progress = "100%" })
    return { ImageId = rec.ImageId }
  end,
}

actions.CancelCopyImage = {
  op = "custom", honours = { "ImageId" },
  handler = function(emu, a, ctx)
    local img = image.own(ctx, a:need("ImageId"), engine.region(emu, a))
    if not img._copy_of then raise("ImageCreatedNotFromCopy") end
    if img.Status ~= "Creating" then raise("IncorrectImageStatus", "The image has completed copy.") end
    engine.commit(a)
    local mappings = img.DiskDeviceMappings or {}
    engine.remove(emu, ctx, img)
    for _, m in ipairs(mappings) do
      local s = m.SnapshotId ~= "" and engine.get(ctx, "snapshot", m.SnapshotId)
      if s then engine.remove(emu, ctx, s) end
    end
    return {}
  end,
}

actions.ExportImage = {
  op = "custom", honours = { "ImageId", "OSSBucket", "OSSPrefix", "ImageFormat", "RoleName" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local img = image.own(ctx, a:need("ImageId"), region)
    check_bucket(a:need("OSSBucket"))
    local prefix = a:str("OSSPrefix")
    if prefix and (#prefix > 30 or prefix:find("[^%w]")) then raise("InvalidOSSPrefix.Malformed") end
    local format = a:str("ImageFormat")
    if format and not ({ raw = true, vhd = true, qcow2 = true, vmdk = true, vdi = true })[format:lower()] then
      raise("InvalidImageFormat.Malformed")
    end
    if img.Status ~= "Available" then raise("IncorrectImageStatus", "The specified Image is not available.") end
    if img._exporting then raise("ImageIsExporting", "The specified Image is exporting.") end
    if encrypted(img) then raise("ImageNotSupported") end
    local data = 0
    for _, m in ipairs(img.DiskDeviceMappings or {}) do
      if m.Type == "data" then
        data = data + 1
        if tonumber(m.Size) > 500 then raise("InvalidImage.DiskAmountOrSize") end
      end
    end
    if data > 4 then raise("InvalidImage.DiskAmountOrSize") end
    check_role(emu, a, "AliyunECSImageExportDefaultRole")
    engine.commit(a)
    img._exporting = true
    engine.later(emu, ctx, img, emu.delays.image_export or 0, { _exporting = false })
    return { TaskId = task_id(emu), RegionId = region }
  end,
}

local PLATFORMS = {}
for _, p in ipairs { "CentOS", "CentOS Stream", "Ubuntu", "SUSE", "OpenSUSE", "RedHat", "Debian", "CoreOS", "Aliyun",
  "Alibaba Cloud Linux", "Anolis", "AlmaLinux", "Rocky Linux", "Fedora", "FreeBSD", "Kylin", "UOS", "Customized Linux",
  "Others Linux", "Windows Server 2003", "Windows Server 2008", "Windows Server 2012", "Windows Server 2016",
  "Windows Server 2019", "Windows Server 2022", "Windows 7" } do
  PLATFORMS[p] = true
end

actions.ImportImage = {
  op = "custom",
  honours = { "ImageName", "Description", "Architecture", "OSType", "Platform", "BootMode", "LicenseType",
    "DiskDeviceMapping", "RoleName", "Tag", "ResourceGroupId", "Features.NvmeSupport", "Features.ImdsSupport" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local list = a:objects("DiskDeviceMapping", { "Device", "DiskImSize", "DiskImageSize", "Format", "OSSBucket",
      "OSSObject" })
    if #list == 0 then raise("MissingParameter.DiskDeviceMapping") end
    local mappings, devices = {}, {}
    for i, m in ipairs(list) do
      for _, f in ipairs { "OSSBucket", "OSSObject" } do
        if not m[f] then
          raise("MissingParameter", "An input parameter \"DiskDeviceMapping." .. i .. "." .. f .. "\" that is mandatory "
            .. "for processing the request is not supplied.")
        end
      end
      check_bucket(m.OSSBucket)
      if m.OSSObject:match("^/") or #m.OSSObject > 1023 then raise("InvalidOSSObject.Malformed") end
      local format = (m.Format or "RAW"):upper()
      if format ~= "RAW" and format ~= "VHD" and format ~= "QCOW2" then raise("InvalidImageFormat.Malformed") end
      local t = i == 1 and "system" or "data"
      local size = tonumber(m.DiskImageSize or m.DiskImSize or 5)
      local max = t == "system" and 500 or 2000
      if not size or size ~= math.floor(size) or size < 5 or size > max then raise("InvalidDataDiskSize") end
      local device = m.Device or (t == "system" and "/dev/xvda" or "/dev/xvd" .. string.char(string.byte("a") + i - 1))
      if devices[device] or not device:match("^/dev/xvd[a-z]$") or (t == "system") ~= (device == "/dev/xvda") then
        raise("InvalidParameter.Malformed")
      end
      devices[device] = true
      mappings[i] = image.mapping { Device = device, Size = size, Type = t, Format = format, ImportOSSBucket = m.OSSBucket,
        ImportOSSObject = m.OSSObject }
    end
    local name = a:str("ImageName")
    if name then
      image.check_name(name)
      if image.duplicate_name(ctx, region, name) then raise("InvalidImageName.Duplicated", "The destination image is exist.") end
    end
    local description = a:str("Description")
    if description and not engine.CHECKS.description(description) then
      raise("InvalidDescription.Malformed", "The specified Image description is wrongly formed.")
    end
    local architecture = a:enum("Architecture", { "x86_64", "i386", "arm64" }, "x86_64", "InvalidArchitecture.Malformed")
    local os_type = a:enum("OSType", { "linux", "windows" }, "linux", "InvalidOSType.Malformed")
    local platform = a:str("Platform")
    if platform and not PLATFORMS[platform] then raise("InvalidPlatform.Malformed") end
    local boot = a:enum("BootMode", { "BIOS", "UEFI", "UEFI-Preferred" })
    local license = a:enum("LicenseType", { "Auto", "Aliyun", "BYOL" }, nil, "InvalidLicenseType.NotSupported")
    local holder = {}
    image.read_features(a, holder)
    local tags = engine.tags(a)
    check_role(emu, a, "AliyunECSImageImportDefaultRole")
    engine.commit(a)
    local rec = image.make(emu, ctx, { RegionId = region, ImageName = name, Description = description,
      OSName = platform or (os_type == "windows" and "Windows Server" or "Others Linux"), OSType = os_type,
      Platform = platform or (os_type == "windows" and "Windows Server 2022" or "Others Linux"), Architecture = architecture,
      Size = tonumber(mappings[1].Size), BootMode = boot, LicenseType = license, Features = holder.Features,
      mappings = mappings, Tags = tags, ResourceGroupId = a:str("ResourceGroupId") })
    rec._importing = true
    engine.later(emu, ctx, rec, emu.delays.image_import or 0, { Status = "Available", Progress = "100%",
      _importing = false }, "image_imported")
    return { ImageId = rec.ImageId, RegionId = region, TaskId = task_id(emu) }
  end,
}

-- An imported image's disks become its snapshots.
engine.hooks.image_imported = function(emu, world, rec)
  local ctx = { world = world }
  for _, m in ipairs(rec.DiskDeviceMappings or {}) do
    local s = engine.kinds.snapshot.make(emu, ctx, { RegionId = rec.RegionId, Size = tonumber(m.Size), Type = m.Type },
      { Status = "accomplished", SnapshotName = "imported-" .. rec.ImageId })
    m.SnapshotId = s.SnapshotId
  end
end

-- (a list: a module's one table is a kind only when it has a name)
return { { extends = "image", actions = actions } }
