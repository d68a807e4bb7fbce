-- Instances: RunInstances and CreateInstance make them (with their system disk, data disks,
-- primary network interface and, with bandwidth, a public IP), and they live through the
-- service's states with the emulator's clock:
--   RunInstances   Pending -(instance_create)-> Starting -(instance_start)-> Running
--   CreateInstance Pending -(instance_create)-> Stopped
--   Start          Stopped -> Starting -(instance_start)-> Running
--   Stop           Running -> Stopping -(instance_stop)-> Stopped
--   Reboot         Running -> Stopping -(instance_stop)-> Starting -(instance_start)-> Running
--   Delete         Stopped (or any state but Pending with Force) -> gone, releasing what goes
--                  with it: disks with DeleteWithInstance, its primary network interface, its
--                  public IP, secondary interfaces with DeleteOnRelease; other disks and
--                  interfaces are detached.
local core = require "aliyun.core"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"
local json = require "aliyun.json"
local state = require "aliyun.emulator.state"

local raise = errors.raise
local arr = json.array

local instance = {}

-- yyyy-MM-ddTHH:mm:ssZ or yyyy-MM-ddTHH:mmZ (UTC) -> epoch seconds, or nil.
function instance.release_time(text)
  local auth = require "aliyun.emulator.auth"
  if text:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%dZ$") then text = text:sub(1, -2) .. ":00Z" end
  return auth.parse_timestamp(text)
end

local function type_of(id)
  for _, t in ipairs(fixtures.INSTANCE_TYPES) do
    if t.id == id then return t end
  end
  return nil
end

-- An image the account may launch: public, or its own and Available.
local function image_of(ctx, region, id)
  local img = engine.get(ctx, "image", id)
  if not img or (img.RegionId and img.RegionId ~= region and img.ImageOwnerAlias ~= "system")
    or img.Status ~= "Available" then
    raise("InvalidImageId.NotFound", "The specified ImageId \"" .. tostring(id) .. "\" does not exist.")
  end
  return img
end

-- Checks of the launch parameters shared by RunInstances, CreateInstance and the fixture.
local function check_password(a)
  local pw = a:str("Password")
  if pw and a:bool("PasswordInherit", false) then raise("InvalidPasswordParam.Mismatch") end
  if pw then
    local kinds = (pw:find("%l") and 1 or 0) + (pw:find("%u") and 1 or 0) + (pw:find("%d") and 1 or 0)
      + (pw:find("[%p]") and 1 or 0)
    if #pw < 8 or #pw > 30 or kinds < 3 then
      -- the value itself never goes into the message
      raise("InvalidPassword.Malformed", "The specified parameter \"Password\" is not valid: 8 to 30 characters "
        .. "with three of upper case, lower case, digits and special characters.")
    end
  end
  return pw ~= nil
end

local function check_user_data(ud, max)
  if not ud then return nil end
  local ok, raw = pcall(core.base64_decode, ud)
  if not ok or not raw or not ud:match("^[%w+/]*=?=?$") or #ud % 4 ~= 0 then
    raise("InvalidUserData.Base64FormatInvalid")
  end
  if #raw > (max or 32768) then raise("InvalidUserData.SizeExceeded") end
  return ud
end

local function used_ips(ctx, vswitch_id)
  local used = {}
  for _, e in ipairs(engine.list(ctx, "eni", function(e) return e.VSwitchId == vswitch_id end)) do
    used[e.PrimaryIpAddress] = true
    for _, ip in ipairs(e.SecondaryIps or {}) do used[ip] = true end
  end
  return used
end
instance.used_ips = used_ips

-- A private address in the vSwitch: the one asked for (checked) or the next free one.
function instance.private_ip(ctx, vsw, wanted)
  local cidr = require "aliyun.emulator.cidr"
  local used = used_ips(ctx, vsw.VSwitchId)
  if wanted then
    if not cidr.has(vsw.CidrBlock, wanted) then raise("InvalidPrivateIpAddress") end
    if used[wanted] then raise("InvalidPrivateIpAddress.Duplicated") end
    return wanted
  end
  local ip = cidr.next_free(vsw.CidrBlock, used)
  if not ip then raise("InvalidVSwitchId.IpNotEnough") end
  return ip
end

function instance.public_ip(emu)
  return string.format("47.%d.%d.%d", emu.ids:number(90, 120), emu.ids:number(0, 255), emu.ids:number(1, 254))
end

local function mac(emu)
  return string.format("00:16:3e:%02x:%02x:%02x", emu.ids:number(0, 255), emu.ids:number(0, 255),
    emu.ids:number(0, 255))
end

-- Makes one instance with its disks and primary network interface. o: the resolved launch
-- settings (ids checked). Returns the record (stored).
function instance.launch(emu, ctx, o)
  local t = type_of(o.InstanceType)
  local img = o.image
  local inst = engine.record(emu, ctx, engine.kinds.instance, {
    RegionId = o.RegionId, ZoneId = o.ZoneId, InstanceType = t.id, InstanceTypeFamily = t.family,
    Cpu = t.cpu, Memory = t.memory * 1024, GPUAmount = t.gpu or 0, GPUSpec = t.gpu_spec or "",
    ImageId = img.ImageId, OSName = img.OSName, OSNameEn = img.OSName, OSType = img.OSType or "linux",
    Status = o.Status or "Pending", VpcId = o.vswitch.VpcId, VSwitchId = o.vswitch.VSwitchId,
    SecurityGroupIds = o.SecurityGroupIds, KeyPairName = o.KeyPairName,
    InternetChargeType = o.InternetChargeType or "PayByTraffic",
    InternetMaxBandwidthIn = o.InternetMaxBandwidthIn or 100, InternetMaxBandwidthOut = o.InternetMaxBandwidthOut or 0,
    InstanceChargeType = o.InstanceChargeType or "PostPaid", SpotStrategy = o.SpotStrategy or "NoSpot",
    SpotPriceLimit = o.SpotPriceLimit or 0, SpotDuration = o.SpotDuration, SpotInterruptionBehavior = o.SpotInterruptionBehavior,
    Description = o.Description or "", DeletionProtection = o.DeletionProtection or false,
    AutoReleaseTime = o.AutoReleaseTime or "", RamRoleName = o.RamRoleName, UserData = o.UserData,
    IoOptimized = true, InstanceNetworkType = "vpc", DeviceAvailable = true, Recyclable = false,
    StoppedMode = "Not-applicable", CreditSpecification = o.CreditSpecification or (t.burst and "Standard" or ""),
    DeploymentSetId = "", SerialNumber = emu.ids:hex(8) .. "-" .. emu.ids:hex(4) .. "-" .. emu.ids:hex(4) .. "-"
      .. emu.ids:hex(4) .. "-" .. emu.ids:hex(12),
    ExpiredTime = o.ExpiredTime or "2099-12-31T15:59Z", ResourceGroupId = o.ResourceGroupId or "",
    Tags = o.Tags or {}, SecurityEnhancementStrategy = o.SecurityEnhancementStrategy,
    MetadataOptions = { HttpEndpoint = o.HttpEndpoint or "enabled", HttpTokens = o.HttpTokens or "optional",
      HttpPutResponseHopLimit = o.HttpPutResponseHopLimit or 1 },
    _assistant = o.assistant ~= false, _has_password = o.has_password,
  })
  local id = inst.InstanceId
  inst.InstanceName = o.InstanceName or id
  inst.HostName = o.HostName or ("iZ" .. emu.ids:chars(20) .. "Z")
  inst.CreationTime = state.iso_minute(o.created or emu:now())
  inst.StartTime = inst.CreationTime
  inst.PrivateIpAddress = instance.private_ip(ctx, o.vswitch, o.PrivateIpAddress)
  if (inst.InternetMaxBandwidthOut or 0) > 0 and o.public_ip ~= false then
    inst.PublicIpAddress = instance.public_ip(emu)
  end
  engine.store(ctx, inst)
  -- the primary network interface
  local eni = engine.record(emu, ctx, engine.kinds.eni, {
    RegionId = inst.RegionId, ZoneId = inst.ZoneId, VpcId = inst.VpcId, VSwitchId = inst.VSwitchId,
    InstanceId = id, Type = "Primary", Status = "InUse", PrimaryIpAddress = inst.PrivateIpAddress,
    MacAddress = mac(emu), SecurityGroupIds = inst.SecurityGroupIds, NetworkInterfaceName = "",
    Description = "", SecondaryIps = {}, Ipv6Addresses = {}, ResourceGroupId = inst.ResourceGroupId,
    DeleteOnRelease = true,
  })
  engine.store(ctx, eni)
  inst.NetworkInterfaceId = eni.NetworkInterfaceId
  -- disks
  local disks = engine.kinds.disk
  local sys = o.SystemDisk or {}
  disks.make(emu, ctx, { RegionId = inst.RegionId, ZoneId = inst.ZoneId, Type = "system",
    Category = sys.Category or "cloud_essd", Size = sys.Size or math.max(40, img.Size or 20),
    DiskName = sys.DiskName, Description = sys.Description, PerformanceLevel = sys.PerformanceLevel,
    InstanceId = id, Device = "/dev/xvda", ImageId = img.ImageId, Status = "In_use", DeleteWithInstance = true,
    created = o.created })
  for i, d in ipairs(o.DataDisks or {}) do
    disks.make(emu, ctx, { RegionId = inst.RegionId, ZoneId = inst.ZoneId, Type = "data",
      Category = d.Category or "cloud_efficiency", Size = d.Size, SourceSnapshotId = d.SnapshotId,
      DiskName = d.DiskName, Description = d.Description, Encrypted = d.Encrypted, PerformanceLevel = d.PerformanceLevel,
      InstanceId = id, Device = d.Device or ("/dev/xvd" .. string.char(string.byte("b") + i - 1)), Status = "In_use",
      DeleteWithInstance = d.DeleteWithInstance ~= false, created = o.created })
  end
  return inst
end

-- Time: Pending -> Starting -> Running, and the rest (hooks run when a timer fires).
engine.hooks.instance_boot = function(emu, world, rec)
  engine.later(emu, { world = world }, rec, emu.delays.instance_start or 0,
    { Status = "Running", StartTime = state.iso_minute(emu:now()) })
end
engine.hooks.instance_reboot = engine.hooks.instance_boot

-- The launch settings of a RunInstances or CreateInstance call, checked, merged over a
-- launch template's when the call names one.
local function settings(emu, a, ctx, region, template)
  local function get(name, kind)
    local v
    if kind == "int" then v = a:int(name)
    elseif kind == "bool" then v = a:bool(name)
    elseif kind == "num" then v = a:number(name)
    else v = a:str(name) end
    if v == nil and template then v = template[name] end
    return v
  end
  local o = { RegionId = region }
  o.InstanceType = get("InstanceType") or errors.missing("InstanceType")
  if not type_of(o.InstanceType) then
    raise("InvalidInstanceType.ValueUnauthorized", "The specified InstanceType \"" .. o.InstanceType
      .. "\" does not exist or beyond the permitted range.")
  end
  local image_id = get("ImageId") or errors.missing("ImageId")
  o.image = image_of(ctx, region, image_id)
  -- network: the vSwitch decides the zone and the VPC; the groups must be in that VPC
  local vsw_id = get("VSwitchId")
  if not vsw_id then raise("InvalidVSwitchId.NotSet", "The VSwitchId is required for an instance in a VPC.") end
  o.vswitch = engine.find(ctx, "vswitch", vsw_id, region)
  if o.vswitch.Status ~= "Available" then raise("IncorrectVSwitchStatus") end
  local zone = a:str("ZoneId")
  if zone and zone ~= o.vswitch.ZoneId then
    raise("InvalidParameter", "The specified ZoneId \"" .. zone .. "\" is not the zone of the vSwitch.")
  end
  o.ZoneId = o.vswitch.ZoneId
  local groups = a:list("SecurityGroupIds")
  local one = a:str("SecurityGroupId")
  if one then table.insert(groups, 1, one) end
  if #groups == 0 and template and template.SecurityGroupId then groups = { template.SecurityGroupId } end
  if #groups == 0 then raise("InvalidSecurityGroupId.NotSet", "A security group is required: SecurityGroupId or SecurityGroupIds.N.") end
  if #groups > 5 then raise("InstanceSecurityGroupLimitExceeded") end
  for _, g in ipairs(groups) do
    local sg = engine.find(ctx, "security_group", g, region)
    if sg.VpcId ~= o.vswitch.VpcId then raise("InvalidNetworkType.Conflict") end
  end
  o.SecurityGroupIds = groups
  o.PrivateIpAddress = a:str("PrivateIpAddress")
  o.KeyPairName = get("KeyPairName")
  if o.KeyPairName then engine.find(ctx, "key_pair", o.KeyPairName, region) end
  if o.KeyPairName and o.image.OSType == "windows" then raise("DependencyViolation.WindowsInstance") end
  o.has_password = check_password(a)
  o.UserData = check_user_data(get("UserData"))
  o.InstanceName = get("InstanceName")
  if o.InstanceName then
    local ok = engine.CHECKS.name(o.InstanceName)
    if not ok then raise("InvalidInstanceName.Malformed") end
  end
  o.HostName = get("HostName")
  if o.HostName and (#o.HostName < 2 or #o.HostName > 64 or o.HostName:find("[^%w%.%-]") or o.HostName:match("^[%.%-]")) then
    raise("InvalidHostName.Malformed")
  end
  o.Description = get("Description")
  if o.Description and not engine.CHECKS.description(o.Description) then raise("InvalidDescription.Malformed") end
  o.InternetChargeType = a:enum("InternetChargeType", { "PayByBandwidth", "PayByTraffic" },
    template and template.InternetChargeType, "InvalidInternetChargeType.ValueNotSupported")
  o.InternetMaxBandwidthIn = get("InternetMaxBandwidthIn", "int")
  o.InternetMaxBandwidthOut = get("InternetMaxBandwidthOut", "int")
  if o.InternetMaxBandwidthOut and (o.InternetMaxBandwidthOut < 0 or o.InternetMaxBandwidthOut > 100) then
    raise("InvalidParameter.Bandwidth")
  end
  o.InstanceChargeType = a:enum("InstanceChargeType", { "PrePaid", "PostPaid" }, template and template.InstanceChargeType,
    "InvalidInstanceChargeType.NotFound")
  local period = a:int("Period")
  local unit = a:enum("PeriodUnit", { "Week", "Month" }, "Month")
  a:bool("AutoRenew")
  a:int("AutoRenewPeriod")
  if o.InstanceChargeType == "PrePaid" then
    if not period then errors.missing("Period") end
    local days = unit == "Week" and 7 * period or 30 * period
    o.ExpiredTime = state.iso_minute(emu:now() + days * 86400)
  end
  o.SpotStrategy = a:enum("SpotStrategy", { "NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo" },
    template and template.SpotStrategy)
  o.SpotPriceLimit = get("SpotPriceLimit", "num")
  o.SpotDuration = a:int("SpotDuration")
  o.SpotInterruptionBehavior = a:enum("SpotInterruptionBehavior", { "Terminate", "Stop" })
  o.DeletionProtection = a:bool("DeletionProtection", false)
  if o.DeletionProtection and o.InstanceChargeType == "PrePaid" then
    raise("InvalidParameter", "DeletionProtection applies to pay-as-you-go instances only.")
  end
  o.AutoReleaseTime = a:str("AutoReleaseTime")
  if o.AutoReleaseTime and not instance.release_time(o.AutoReleaseTime) then raise("InvalidAutoReleaseTime.Malformed") end
  o.RamRoleName = a:str("RamRoleName")
  if o.RamRoleName and not emu.ram_roles[o.RamRoleName] then raise("InvalidRamRole.NotFound") end
  o.SecurityEnhancementStrategy = a:enum("SecurityEnhancementStrategy", { "Active", "Deactive" })
  o.CreditSpecification = a:enum("CreditSpecification", { "Standard", "Unlimited" })
  o.HttpEndpoint = a:enum("HttpEndpoint", { "enabled", "disabled" })
  o.HttpTokens = a:enum("HttpTokens", { "optional", "required" })
  o.HttpPutResponseHopLimit = a:int("HttpPutResponseHopLimit", nil, 1, 64)
  a:str("IoOptimized") -- every type the emulator has is I/O optimized
  -- disks
  local sys = {
    Category = a:str("SystemDisk.Category") or (template and template.SystemDisk and template.SystemDisk.Category),
    Size = a:int("SystemDisk.Size") or (template and template.SystemDisk and template.SystemDisk.Size),
    DiskName = a:str("SystemDisk.DiskName"), Description = a:str("SystemDisk.Description"),
    PerformanceLevel = a:enum("SystemDisk.PerformanceLevel", { "PL0", "PL1", "PL2", "PL3" }),
  }
  if sys.Category and not fixtures.SIZE_LIMITS[sys.Category] then raise("InvalidSystemDiskCategory.ValueNotSupported") end
  local min = math.max(20, o.image.Size or 20)
  if sys.Size and (sys.Size < min or sys.Size > 2048) then
    raise("InvalidSystemDiskSize.LessThanImageSize", "The specified SystemDisk.Size must be between " .. min
      .. " (the image's size) and 2048 GiB.", 400)
  end
  o.SystemDisk = sys
  local data = a:objects("DataDisk", { "Size", "Category", "SnapshotId", "DiskName", "Description",
    "DeleteWithInstance", "Encrypted", "PerformanceLevel", "Device" })
  if #data > 16 then raise("InvalidDataDiskCount.LimitExceeded") end
  for i, d in ipairs(data) do
    local p = "DataDisk." .. i .. "."
    d.Size = a:int(p .. "Size")
    d.DeleteWithInstance = a:bool(p .. "DeleteWithInstance", true)
    d.Encrypted = a:bool(p .. "Encrypted", false)
    if d.Category and not fixtures.SIZE_LIMITS[d.Category] then raise("InvalidDataDiskCategory.ValueNotSupported") end
    if d.SnapshotId then
      local snap = engine.find(ctx, "snapshot", d.SnapshotId, region)
      d.Size = d.Size or snap.SourceDiskSize
    end
    if not d.Size then errors.missing(p .. "Size") end
    local lim = fixtures.SIZE_LIMITS[d.Category or "cloud_efficiency"]
    if d.Size < lim[1] or d.Size > lim[2] then raise("InvalidDataDiskSize.ValueNotSupported") end
  end
  if #data == 0 and template and template.DataDisks then data = template.DataDisks end
  o.DataDisks = data
  o.Tags = engine.tags(a)
  if #o.Tags == 0 and template and template.Tags then o.Tags = template.Tags end
  o.ResourceGroupId = a:str("ResourceGroupId") or emu.default_resource_group
  return o
end

local function launch_all(emu, a, ctx, initial, max_amount)
  local region = engine.region(emu, a)
  local template = nil
  if a:has("LaunchTemplateId") or a:has("LaunchTemplateName") then
    template = engine.kinds.launch_template.launch_data(emu, a, ctx, region)
  end
  local o = settings(emu, a, ctx, region, template)
  local amount = a:int("Amount", 1, 1, max_amount, "InvalidParameter.Amount")
  local min_amount = a:int("MinAmount", amount, 1, amount, "InvalidParameter.MinAmount")
  local _ = min_amount -- the emulator always has capacity for Amount
  local unique = a:bool("UniqueSuffix", false)
  local names = a:list("HostNames")
  if #names > 0 and #names ~= amount then errors.invalid("HostNames", nil, nil, "Give one host name per instance.") end
  engine.commit(a)
  local out = {}
  for i = 1, amount do
    local each = {}
    for k, v in pairs(o) do each[k] = v end
    each.Status = "Pending"
    if unique and amount > 1 then
      local suffix = string.format("%03d", i)
      if o.InstanceName then each.InstanceName = o.InstanceName .. suffix end
      if o.HostName then each.HostName = o.HostName .. suffix end
    end
    if names[i] then each.HostName = names[i] end
    -- disks made with the instance
    local inst = instance.launch(emu, ctx, each)
    if initial == "Running" then
      engine.later(emu, ctx, inst, emu.delays.instance_create or 0, { Status = "Starting" }, "instance_boot")
    else
      engine.later(emu, ctx, inst, emu.delays.instance_create or 0, { Status = "Stopped", StoppedMode = "KeepCharging" })
    end
    out[i] = inst
  end
  return out
end

local LAUNCH_HONOURS = {
  "ZoneId", "ImageId", "InstanceType", "SecurityGroupId", "SecurityGroupIds", "VSwitchId", "PrivateIpAddress",
  "InstanceName", "Description", "HostName", "HostNames", "UniqueSuffix", "Password", "PasswordInherit", "KeyPairName",
  "UserData", "InternetChargeType", "InternetMaxBandwidthIn", "InternetMaxBandwidthOut", "InstanceChargeType",
  "Period", "PeriodUnit", "AutoRenew", "AutoRenewPeriod", "SpotStrategy", "SpotPriceLimit", "SpotDuration",
  "SpotInterruptionBehavior", "SystemDisk.Category", "SystemDisk.Size", "SystemDisk.DiskName",
  "SystemDisk.Description", "SystemDisk.PerformanceLevel", "DataDisk.Size", "DataDisk.Category",
  "DataDisk.SnapshotId", "DataDisk.DiskName", "DataDisk.Description", "DataDisk.DeleteWithInstance",
  "DataDisk.Encrypted", "DataDisk.PerformanceLevel", "DataDisk.Device", "Tag", "ResourceGroupId", "Amount",
  "MinAmount", "LaunchTemplateId", "LaunchTemplateName", "LaunchTemplateVersion", "RamRoleName",
  "DeletionProtection", "AutoReleaseTime", "IoOptimized", "SecurityEnhancementStrategy", "HttpEndpoint",
  "HttpTokens", "HttpPutResponseHopLimit", "CreditSpecification",
}

-- Parameters about paying, which change nothing the emulator shows.
local BILLING = {
  AutoPay = "billing: the emulator charges nothing",
  UseAdditionalService = "billing: the emulator charges nothing",
}

local INSTANCE_STATUSES = { "Pending", "Running", "Starting", "Stopping", "Stopped" }

-- The instances of a call's InstanceId.N list (Start/Stop/RebootInstances, DeleteInstances).
local function listed(emu, a, ctx)
  local region = engine.region(emu, a)
  local ids = a:list("InstanceId")
  if #ids == 0 then errors.missing("InstanceId.1") end
  if #ids > 100 then raise("InvalidInstanceId.MalFormed", "At most 100 instances in one call.") end
  local recs = {}
  for i, id in ipairs(ids) do recs[i] = engine.find(ctx, "instance", id, region) end
  return recs
end

-- Start/Stop/Reboot many: each instance answers for itself; AllTogether (the default) makes
-- one that cannot the whole call's error, SuccessFirst does what it can.
local function batch(change, from)
  return function(emu, a, ctx)
    local recs = listed(emu, a, ctx)
    local mode = a:enum("BatchOptimization", { "SuccessFirst", "AllTogether" }, "AllTogether")
    local prepare = change.prepare
    if prepare then prepare(emu, a) end
    local ok = {}
    for i, rec in ipairs(recs) do
      local allowed = false
      for _, s in ipairs(from) do if rec.Status == s then allowed = true end end
      ok[i] = allowed
      if not allowed and mode == "AllTogether" then raise("IncorrectInstanceStatus") end
    end
    engine.commit(a)
    local responses = arr {}
    for i, rec in ipairs(recs) do
      local before = rec.Status
      if ok[i] then change.apply(emu, ctx, rec) end
      responses[i] = { InstanceId = rec.InstanceId, PreviousStatus = before, CurrentStatus = rec.Status,
        Code = ok[i] and "200" or "IncorrectInstanceStatus",
        Message = ok[i] and "success" or "The current status of the resource does not support this operation." }
    end
    return { InstanceResponses = { InstanceResponse = responses } }
  end
end

local START = { apply = function(emu, ctx, rec)
  rec.Status = "Starting"
  engine.later(emu, ctx, rec, emu.delays.instance_start or 0, { Status = "Running",
    StartTime = state.iso_minute(emu:now() + (emu.delays.instance_start or 0)), StoppedMode = "Not-applicable" })
end }

local function stop_change(mode_param)
  return {
    prepare = function(_, a)
      mode_param.mode = a:enum("StoppedMode", { "StopCharging", "KeepCharging" }, "KeepCharging")
      a:bool("ForceStop", false)
    end,
    apply = function(emu, ctx, rec)
      rec.Status = "Stopping"
      engine.later(emu, ctx, rec, emu.delays.instance_stop or 0, { Status = "Stopped", StoppedMode = mode_param.mode })
    end,
  }
end

local REBOOT = { apply = function(emu, ctx, rec)
  rec.Status = "Stopping"
  engine.later(emu, ctx, rec, emu.delays.instance_stop or 0, { Status = "Starting" }, "instance_reboot")
end }

-- Releases an instance and what goes with it.
local function release(emu, ctx, rec)
  engine.remove(emu, ctx, rec)
end

local function deletable(rec, force)
  if rec.DeletionProtection then raise("InvalidOperation.DeletionProtection") end
  if rec.Status == "Pending" then raise("IncorrectInstanceStatus.Initializing") end
  if rec.Status ~= "Stopped" and not force then
    raise("IncorrectInstanceStatus", "The instance is " .. rec.Status .. ": stop it first, or pass Force=true.")
  end
end

local kind = {
  name = "instance", product = "ecs", id = "InstanceId", prefix = "i", scope = "zone", name_field = "InstanceName",
  not_found = "InvalidInstanceId.NotFound", state_code = "IncorrectInstanceStatus", tag_type = "instance",
  fields = {
    InstanceName = { check = "name", code = "InvalidInstanceName.Malformed" },
    Description = { check = "description", code = "InvalidDescription.Malformed" },
    HostName = { check = function(v)
      return #v >= 2 and #v <= 64 and not v:find("[^%w%.%-]") and not v:match("^[%.%-]"), "2 to 64 letters, digits, periods, hyphens"
    end, code = "InvalidHostName.Malformed" },
    DeletionProtection = {},
    Recyclable = {},
    CreditSpecification = { enum = { "Standard", "Unlimited" } },
    UserData = { check = function(v) return pcall(check_user_data, v) end, code = "InvalidUserData.Base64FormatInvalid" },
  },
  view = function(_, rec, ctx)
    local enis = engine.list(ctx, "eni", function(e) return e.InstanceId == rec.InstanceId end)
    table.sort(enis, function(x, y) return (x.Type == "Primary" and 0 or 1) < (y.Type == "Primary" and 0 or 1) end)
    local nics = {}
    for i, e in ipairs(enis) do
      local ips = { { PrivateIpAddress = e.PrimaryIpAddress, Primary = true } }
      for _, ip in ipairs(e.SecondaryIps or {}) do ips[#ips + 1] = { PrivateIpAddress = ip, Primary = false } end
      local v6 = {}
      for k, ip in ipairs(e.Ipv6Addresses or {}) do v6[k] = { Ipv6Address = ip } end
      nics[i] = { NetworkInterfaceId = e.NetworkInterfaceId, MacAddress = e.MacAddress, Type = e.Type,
        PrimaryIpAddress = e.PrimaryIpAddress, PrivateIpSets = ips, Ipv6Sets = v6 }
    end
    return {
      VpcAttributes = { VpcId = rec.VpcId, VSwitchId = rec.VSwitchId, NatIpAddress = "",
        PrivateIpAddress = { rec.PrivateIpAddress } },
      PublicIpAddress = { rec.PublicIpAddress }, InnerIpAddress = {}, RdmaIpAddress = {},
      NetworkInterfaces = nics, OperationLocks = {}, SecurityGroupIds = rec.SecurityGroupIds,
      EipAddress = { AllocationId = "", IpAddress = "", InternetChargeType = "", Bandwidth = 0 },
    }
  end,
  on_delete = function(emu, ctx, rec)
    for _, d in ipairs(engine.list(ctx, "disk", function(d) return d.InstanceId == rec.InstanceId end)) do
      if d.DeleteWithInstance then
        engine.remove(emu, ctx, d)
      else
        d.Status, d.InstanceId, d.Device, d.DetachedTime = "Available", "", "", state.iso(emu:now())
      end
    end
    for _, e in ipairs(engine.list(ctx, "eni", function(e) return e.InstanceId == rec.InstanceId end)) do
      if e.Type == "Primary" or e.DeleteOnRelease then
        engine.remove(emu, ctx, e)
      else
        e.InstanceId, e.Status = nil, "Available"
      end
    end
  end,
  actions = {
    RunInstances = {
      op = "custom", honours = LAUNCH_HONOURS, ignores = BILLING,
      handler = function(emu, a, ctx)
        local made = launch_all(emu, a, ctx, "Running", 100)
        local ids = arr {}
        for i, inst in ipairs(made) do ids[i] = inst.InstanceId end
        return { InstanceIdSets = { InstanceIdSet = ids }, TradePrice = 0 }
      end,
    },
    CreateInstance = {
      op = "custom", honours = LAUNCH_HONOURS, ignores = BILLING,
      handler = function(emu, a, ctx)
        local made = launch_all(emu, a, ctx, "Stopped", 1)
        return { InstanceId = made[1].InstanceId, TradePrice = 0 }
      end,
    },
    DescribeInstances = {
      op = "describe", page_max = 100,
      ids = { InstanceIds = "InstanceId" },
      filters = {
        Status = { field = "Status", enum = INSTANCE_STATUSES, code = "InvalidStatus.ValueNotSupported" },
        InstanceName = { field = "InstanceName", match = function(rec, v)
          if v:find("*", 1, true) then
            local p = "^" .. v:gsub("[%^%$%(%)%%%.%[%]%+%-%?]", "%%%0"):gsub("%*", ".*") .. "$"
            return rec.InstanceName:match(p) ~= nil
          end
          return rec.InstanceName == v
        end },
        InstanceType = "InstanceType", InstanceTypeFamily = "InstanceTypeFamily", ImageId = "ImageId",
        VpcId = "VpcId", VSwitchId = "VSwitchId", KeyPairName = "KeyPairName",
        InstanceChargeType = "InstanceChargeType", InternetChargeType = "InternetChargeType",
        InstanceNetworkType = "InstanceNetworkType", DeviceAvailable = "DeviceAvailable", IoOptimized = "IoOptimized",
        SecurityGroupId = { field = "SecurityGroupIds", match = "contains" },
        PrivateIpAddresses = { field = "PrivateIpAddress", match = function(rec, _, ctx)
          return ctx.set_private[rec.PrivateIpAddress] == true end },
        PublicIpAddresses = { field = "PublicIpAddress", match = function(rec, _, ctx)
          return ctx.set_public[rec.PublicIpAddress or ""] == true end },
      },
      prepare = function(_, a, ctx)
        local function set(name)
          local s = {}
          for _, v in ipairs(a:strings(name)) do s[v] = true end
          return s
        end
        ctx.set_private, ctx.set_public = set("PrivateIpAddresses"), set("PublicIpAddresses")
        local ids = a:strings("InstanceIds", "InvalidInstanceIds.Malformed")
        if #ids > 100 then raise("InvalidInstanceIds.Malformed", "At most 100 instance ids.") end
      end,
    },
    DescribeInstanceAttribute = {
      op = "get",
      extra = function(_, _, _, out, rec)
        out.IoOptimized = rec.IoOptimized and "optimized" or "none"
        out.OperationLocks = {}
      end,
    },
    DescribeInstanceStatus = {
      op = "describe", page_max = 50, ids = { InstanceId = "InstanceId" },
    },
    DescribeUserData = {
      op = "get",
      extra = function(_, _, _, out, rec)
        -- only the three fields of the answer
        for k in pairs(out) do if k:match("^%u") then out[k] = nil end end
        out.InstanceId, out.RegionId, out.UserData = rec.InstanceId, rec.RegionId, rec.UserData or ""
      end,
    },
    ModifyInstanceAttribute = {
      op = "modify", fields = { "InstanceName", "Description", "HostName", "DeletionProtection", "Recyclable",
        "CreditSpecification", "UserData" },
      honours = { "Password", "SecurityGroupIds" },
      before = function(_, a, ctx, rec, old)
        if a:has("Password") then
          check_password(a)
          rec._has_password = true
        end
        if rec.UserData ~= old.UserData and old.Status ~= "Stopped" then
          raise("IncorrectInstanceStatus", "UserData can be changed only while the instance is Stopped.")
        end
        local groups = a:list("SecurityGroupIds")
        if #groups > 0 then
          for _, g in ipairs(groups) do
            local sg = engine.find(ctx, "security_group", g, rec.RegionId)
            if sg.VpcId ~= rec.VpcId then raise("InvalidSecurityGroup.InvalidNetworkType") end
          end
          rec.SecurityGroupIds = groups
        end
      end,
    },
    StartInstance = {
      op = "custom", honours = { "InstanceId", "InitLocalDisk" },
      handler = function(emu, a, ctx)
        local rec = engine.find(ctx, "instance", a:need("InstanceId"))
        a:bool("InitLocalDisk", false) -- the emulator's types have no local disks
        if rec.Status ~= "Stopped" then raise("IncorrectInstanceStatus") end
        engine.commit(a)
        START.apply(emu, ctx, rec)
        return {}
      end,
    },
    StopInstance = {
      op = "custom", honours = { "InstanceId", "ForceStop", "StoppedMode", "ConfirmStop" },
      handler = function(emu, a, ctx)
        local rec = engine.find(ctx, "instance", a:need("InstanceId"))
        local holder = {}
        local change = stop_change(holder)
        change.prepare(emu, a)
        a:bool("ConfirmStop", false)
        if rec.Status ~= "Running" then raise("IncorrectInstanceStatus") end
        engine.commit(a)
        change.apply(emu, ctx, rec)
        return {}
      end,
    },
    RebootInstance = {
      op = "custom", honours = { "InstanceId", "ForceStop" },
      handler = function(emu, a, ctx)
        local rec = engine.find(ctx, "instance", a:need("InstanceId"))
        a:bool("ForceStop", false)
        if rec.Status ~= "Running" then raise("IncorrectInstanceStatus") end
        engine.commit(a)
        REBOOT.apply(emu, ctx, rec)
        return {}
      end,
    },
    StartInstances = { op = "custom", honours = { "InstanceId", "BatchOptimization" },
      handler = batch(START, { "Stopped" }) },
    StopInstances = { op = "custom", honours = { "InstanceId", "BatchOptimization", "ForceStop", "StoppedMode" },
      handler = batch(stop_change({}), { "Running" }) },
    RebootInstances = { op = "custom", honours = { "InstanceId", "BatchOptimization", "ForceReboot" },
      handler = function(emu, a, ctx)
        a:bool("ForceReboot", false)
        return batch(REBOOT, { "Running" })(emu, a, ctx)
      end },
    DeleteInstance = {
      op = "custom", honours = { "InstanceId", "Force", "ForceStop", "TerminateSubscription" },
      handler = function(emu, a, ctx)
        local rec = engine.find(ctx, "instance", a:need("InstanceId"))
        local force = a:bool("Force", false)
        a:bool("ForceStop", true)
        a:bool("TerminateSubscription", false)
        deletable(rec, force)
        engine.commit(a)
        release(emu, ctx, rec)
        return {}
      end,
    },
    DeleteInstances = {
      op = "custom", honours = { "InstanceId", "Force", "ForceStop", "TerminateSubscription" },
      handler = function(emu, a, ctx)
        local recs = listed(emu, a, ctx)
        local force = a:bool("Force", false)
        a:bool("ForceStop", true)
        a:bool("TerminateSubscription", false)
        for _, rec in ipairs(recs) do deletable(rec, force) end
        engine.commit(a)
        for _, rec in ipairs(recs) do release(emu, ctx, rec) end
        return {}
      end,
    },
    AllocatePublicIpAddress = {
      op = "custom", honours = { "InstanceId", "IpAddress" },
      handler = function(emu, a, ctx)
        local rec = engine.find(ctx, "instance", a:need("InstanceId"))
        if rec.Status ~= "Running" and rec.Status ~= "Stopped" then raise("IncorrectInstanceStatus") end
        if rec.PublicIpAddress then raise("InvalidIPAddress.AlreadyAllocated") end
        local wanted = a:str("IpAddress")
        engine.commit(a)
        rec.PublicIpAddress = wanted or instance.public_ip(emu)
        if (rec.InternetMaxBandwidthOut or 0) == 0 then rec.InternetMaxBandwidthOut = 1 end
        return { IpAddress = rec.PublicIpAddress }
      end,
    },
  },
}

-- The fixture: three Running instances per region in its default network, the third
-- without the cloud assistant client (so that InstallCloudAssistant has work to do).
function kind.fixture(emu, ctx)
  local created = emu:now() - 30 * 86400
  for ri, r in ipairs(fixtures.REGIONS) do
    local vsws = engine.list(ctx, "vswitch", function(v) return v.RegionId == r.id and v.IsDefault end)
    local sg = engine.list(ctx, "security_group", function(g) return g.RegionId == r.id end)[1]
    for i = 1, fixtures.INSTANCES_PER_REGION do
      local vsw = vsws[(i - 1) % #vsws + 1]
      local img = engine.get(ctx, "image", fixtures.IMAGES[(i - 1) % #fixtures.IMAGES + 1].id)
      local t = fixtures.FIXTURE_TYPES[(i - 1) % #fixtures.FIXTURE_TYPES + 1]
      local inst = instance.launch(emu, ctx, {
        RegionId = r.id, ZoneId = vsw.ZoneId, InstanceType = t, image = img, vswitch = vsw,
        SecurityGroupIds = { sg.SecurityGroupId }, Status = "Running", InstanceName = string.format("emu-%s-%d", r.id, i),
        InternetMaxBandwidthOut = 5, assistant = i < fixtures.INSTANCES_PER_REGION,
        created = created + ri * 3600 + i * 60, ResourceGroupId = emu.default_resource_group,
      })
      inst.HostName = string.format("iZemu%d%dZ", ri, i)
    end
  end
end

instance.kind = kind
kind.module = instance

return kind
