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
local cidr = require "aliyun.emulator.cidr"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"
local json = require "aliyun.json"
local state = require "aliyun.emulator.state"

local raise = errors.raise
local arr = json.array

local instance = {}

-- Subscription periods in months (RunInstances, ModifyInstanceChargeType).
local PERIODS = { [1] = true, [2] = true, [3] = true, [4] = true, [5] = true, [6] = true, [7] = true, [8] = true,
  [9] = true, [12] = true, [24] = true, [36] = true, [48] = true, [60] = true }
instance.PERIODS = PERIODS

local LEVELS = { "PL0", "PL1", "PL2", "PL3" }
instance.LEVELS = LEVELS

-- yyyy-MM-ddTHH:mm:ssZ or yyyy-MM-ddTHH:mmZ (UTC) -> epoch seconds, or nil.
function instance.release_time(text)
  local auth = require "aliyun.emulator.auth"
  if text:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%dZ$") then text = text:sub(1, -2) .. ":00Z" end
  return auth.parse_timestamp(text)
end

-- An auto-release time as the service takes it: well formed, 30 minutes to 3 years ahead,
-- seconds dropped (the start of its minute). Returns the time as DescribeInstances shows it.
function instance.check_release_time(emu, text)
  local t = instance.release_time(text)
  local now = emu:now()
  if not t or t < now + 30 * 60 or t > now + 3 * 366 * 86400 then
    raise("InvalidAutoReleaseTime.Malformed", "The specified parameter AutoReleaseTime is not valid: a UTC time in "
      .. "the yyyy-MM-ddTHH:mm:ssZ format, 30 minutes to 3 years from now.")
  end
  return state.iso_minute(t - t % 60)
end

function instance.type_of(id)
  for _, t in ipairs(fixtures.INSTANCE_TYPES) do
    if t.id == id then return t end
  end
  return nil
end

-- Host names: 2 to 64 letters, digits, periods and hyphens (2 to 15, no periods, not all
-- digits, for Windows); a period or hyphen neither first, last nor doubled. ${instance_id}
-- stands for the instance's id.
local function host_ok(h, windows)
  h = h:gsub("%${instance_id}", "i-00000000000000000000")
  if windows then
    return #h >= 2 and #h <= 15 and not h:find("[^%w%-]") and not h:match("^%d+$") and not h:match("^%-")
      and not h:match("%-$") and not h:find("%-%-")
  end
  return #h >= 2 and #h <= 64 and not h:find("[^%w%.%-]") and not h:match("^[%.%-]") and not h:match("[%.%-]$")
    and not h:find("[%.%-][%.%-]")
end
instance.host_ok = host_ok

-- An image the account may launch: public, or its own and Available.
local function image_of(ctx, region, id)
  local img = engine.get(ctx, "image", id)
  -- a Deprecated image still launches, as the service allows
  if not img or (img.RegionId and img.RegionId ~= region and img.ImageOwnerAlias ~= "system")
    or (img.Status ~= "Available" and img.Status ~= "Deprecated") then
    raise("InvalidImageId.NotFound", "The specified ImageId \"" .. tostring(id) .. "\" does not exist.")
  end
  return img
end

-- Checks of the launch parameters shared by RunInstances, CreateInstance and the fixture.
local check_password = engine.check_password

local function check_user_data(ud, max)
  if not ud then return nil end
  local raw = engine.base64(ud)
  if not raw then raise("InvalidUserData.Base64FormatInvalid") end
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
-- codes: {outside =, used =, full =} when the action publishes other codes than RunInstances.
function instance.private_ip(ctx, vsw, wanted, codes)
  codes = codes or {}
  local used = used_ips(ctx, vsw.VSwitchId)
  if wanted then
    if not cidr.ip(wanted) then raise("InvalidPrivateIpAddress.Malformed") end
    if not cidr.has(vsw.CidrBlock, wanted) then
      raise(codes.outside or "InvalidPrivateIpAddress", "Specified private IP address is not in the CIDR block of "
        .. "virtual switch.")
    end
    if used[wanted] then raise("InvalidPrivateIpAddress.Duplicated") end
    return wanted
  end
  local ip = cidr.next_free(vsw.CidrBlock, used)
  if not ip then raise("QuotaExceeded.PrivateIpAddress") end
  return ip
end

function instance.public_ip(emu)
  return string.format("47.%d.%d.%d", emu.ids:number(90, 120), emu.ids:number(0, 255), emu.ids:number(1, 254))
end

-- An interface of one of the instances of a map (their ids, see the view).
local function of_page(e, by_instance)
  return by_instance[e.InstanceId] ~= nil
end

local function primary_first(x, y)
  return (x.Type == "Primary" and 0 or 1) < (y.Type == "Primary" and 0 or 1)
end

local function mac(emu)
  return string.format("00:16:3e:%02x:%02x:%02x", emu.ids:number(0, 255), emu.ids:number(0, 255),
    emu.ids:number(0, 255))
end

-- Settings the other instance actions keep (renewal, private pool, maintenance), as a
-- launch leaves them.
local function defaults(inst, o)
  local prepaid = inst.InstanceChargeType == "PrePaid"
  inst._renewal = { status = prepaid and o.AutoRenew and "AutoRenewal" or "Normal",
    duration = o.AutoRenewPeriod or 1, unit = o.PeriodUnit or "Month" }
  inst._pool = { match = "None", id = "" }
  inst._maintenance = { action = "AutoRecover", notify = false, windows = {} }
  inst._downgrades = 0
end

-- An instance with those settings: a record without them (from a state file written before
-- they existed) gets them as a launch leaves them.
function instance.kept(rec)
  if not rec._pool then defaults(rec, {}) end
  return rec
end

-- Makes one instance with its disks and primary network interface. o: the resolved launch
-- settings (ids checked). Returns the record (stored).
function instance.launch(emu, ctx, o)
  local t = instance.type_of(o.InstanceType)
  local img = o.image
  local out = o.InternetMaxBandwidthOut or 0
  local inst = engine.record(emu, ctx, engine.kinds.instance, {
    RegionId = o.RegionId, ZoneId = o.ZoneId, Status = o.Status or "Pending",
    ImageId = img.ImageId, OSName = img.OSName, OSNameEn = img.OSName, OSType = img.OSType or "linux",
    VpcId = o.vswitch.VpcId, VSwitchId = o.vswitch.VSwitchId,
    SecurityGroupIds = o.SecurityGroupIds, KeyPairName = o.KeyPairName,
    InternetChargeType = o.InternetChargeType or "PayByTraffic",
    -- the service's defaults: 10 Mbit/s in, or the outbound bandwidth above 10
    InternetMaxBandwidthIn = o.InternetMaxBandwidthIn or math.max(10, out), InternetMaxBandwidthOut = out,
    InstanceChargeType = o.InstanceChargeType or "PostPaid", SpotStrategy = o.SpotStrategy or "NoSpot",
    SpotPriceLimit = o.SpotPriceLimit or 0, SpotDuration = o.SpotDuration, SpotInterruptionBehavior = o.SpotInterruptionBehavior,
    Description = o.Description or "", DeletionProtection = o.DeletionProtection or false,
    AutoReleaseTime = o.AutoReleaseTime or "", RamRoleName = o.RamRoleName, UserData = o.UserData,
    IoOptimized = true, InstanceNetworkType = "vpc", DeviceAvailable = true, Recyclable = false,
    StoppedMode = "Not-applicable", DeploymentSetId = "",
    SerialNumber = emu.ids:hex(8) .. "-" .. emu.ids:hex(4) .. "-" .. emu.ids:hex(4) .. "-"
      .. emu.ids:hex(4) .. "-" .. emu.ids:hex(12),
    ExpiredTime = o.ExpiredTime or "2099-12-31T15:59Z", ResourceGroupId = o.ResourceGroupId or "",
    Tags = o.Tags or {}, SecurityEnhancementStrategy = o.SecurityEnhancementStrategy,
    MetadataOptions = { HttpEndpoint = o.HttpEndpoint or "enabled", HttpTokens = o.HttpTokens or "optional",
      HttpPutResponseHopLimit = o.HttpPutResponseHopLimit or 1, InstanceMetadataTags = "disabled" },
    _assistant = o.assistant ~= false, _has_password = o.has_password,
  })
  instance.set_type(inst, t, o.CreditSpecification)
  defaults(inst, o)
  local id = inst.InstanceId
  inst.InstanceName = o.InstanceName or id
  inst.HostName = o.HostName and o.HostName:gsub("%${instance_id}", id) or ("iZ" .. emu.ids:chars(20) .. "Z")
  inst.CreationTime = state.iso_minute(o.created or emu:now())
  inst.StartTime = inst.CreationTime
  inst.PrivateIpAddress = instance.private_ip(ctx, o.vswitch, o.PrivateIpAddress)
  if out > 0 and o.public_ip ~= false then
    inst.PublicIpAddress = instance.public_ip(emu)
  end
  engine.store(ctx, inst)
  if inst.AutoReleaseTime ~= "" then instance.schedule_release(emu, ctx, inst) end
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
  -- disks: a subscription instance's disks are subscriptions too
  local disks = engine.kinds.disk
  local charge = inst.InstanceChargeType
  local sys = o.SystemDisk or {}
  local made = disks.make(emu, ctx, { RegionId = inst.RegionId, ZoneId = inst.ZoneId, Type = "system",
    Category = sys.Category or "cloud_essd", Size = sys.Size or math.max(40, img.Size or 20),
    DiskName = sys.DiskName, Description = sys.Description, PerformanceLevel = sys.PerformanceLevel,
    InstanceId = id, Device = "/dev/xvda", ImageId = img.ImageId, Status = "In_use", DeleteWithInstance = true,
    created = o.created })
  made.DiskChargeType = charge
  local taken = {}
  for _, d in ipairs(o.DataDisks or {}) do
    if d.Device then taken[d.Device] = true end
  end
  local letter = string.byte("b")
  for _, d in ipairs(o.DataDisks or {}) do
    local device = d.Device
    if not device then
      while taken["/dev/xvd" .. string.char(letter)] do letter = letter + 1 end
      device = "/dev/xvd" .. string.char(letter)
      taken[device] = true
    end
    made = disks.make(emu, ctx, { RegionId = inst.RegionId, ZoneId = inst.ZoneId, Type = "data",
      Category = d.Category or "cloud_efficiency", Size = d.Size, SourceSnapshotId = d.SnapshotId,
      DiskName = d.DiskName, Description = d.Description, Encrypted = d.Encrypted, PerformanceLevel = d.PerformanceLevel,
      InstanceId = id, Device = device, Status = "In_use",
      DeleteWithInstance = d.DeleteWithInstance ~= false, created = o.created })
    made.DiskChargeType = charge
  end
  return inst
end

-- The type's figures on an instance (launch and the spec changes).
function instance.set_type(inst, t, credit)
  inst.InstanceType, inst.InstanceTypeFamily, inst.Cpu, inst.Memory = t.id, t.family, t.cpu, t.memory * 1024
  inst.GPUAmount, inst.GPUSpec = t.gpu or 0, t.gpu_spec or ""
  inst.CreditSpecification = t.burst and (credit or inst.CreditSpecification or "Standard") or ""
  if inst.CreditSpecification == "" and t.burst then inst.CreditSpecification = "Standard" end
end

-- Time: Pending -> Starting -> Running, and the rest (hooks run when a timer fires). A
-- start also completes a network change (ModifyInstanceVpcAttribute waits for one).
engine.hooks.instance_boot = function(emu, world, rec)
  local delay = emu.delays.instance_start or 0
  engine.later(emu, { world = world }, rec, delay,
    { Status = "Running", StartTime = state.iso_minute(engine.now(emu) + delay), _net_pending = false })
end
engine.hooks.instance_reboot = engine.hooks.instance_boot

-- Timers that a state change must not cancel (engine.later's slots): the auto-release time,
-- and a reboot at a given time (ModifyPrepayInstanceSpec RebootTime).
function instance.schedule_release(emu, ctx, inst)
  local at = inst.AutoReleaseTime ~= "" and instance.release_time(inst.AutoReleaseTime)
  if not at then
    engine.cancel(inst, "release")
    return
  end
  engine.at(emu, ctx, inst, math.max(at, engine.now(emu) + 1), nil, "instance_auto_release", "release")
end

engine.hooks.instance_auto_release = function(emu, world, rec)
  engine.remove(emu, { world = world }, rec)
end

engine.hooks.instance_timed_reboot = function(emu, world, rec)
  if rec.Status == "Running" then instance.reboot(emu, { world = world }, rec) end
end

-- The names and descriptions of the disks a launch makes (codes of the RunInstances table).
local function check_disk_text(d, prefix)
  if d.DiskName and not engine.CHECKS.name(d.DiskName) then
    raise("InvalidDiskName.Malformed", "The specified parameter \"" .. prefix .. "DiskName\" is not valid.")
  end
  if d.Description and not engine.CHECKS.description(d.Description) then
    raise("InvalidDiskDescription.Malformed", "The specified parameter \"" .. prefix .. "Description\" is not valid.")
  end
end

-- The launch settings of a RunInstances or CreateInstance call, checked, merged over a
-- launch template's when the call names one. Codes: the RunInstances error table.
local function settings(emu, a, ctx, region, template)
  template = template or {}
  local function get(name, kind)
    local v
    if kind == "int" then v = a:int(name)
    elseif kind == "bool" then v = a:bool(name)
    elseif kind == "num" then v = a:number(name)
    else v = a:str(name) end
    if v == nil then v = template[name] end
    return v
  end
  local o = { RegionId = region }
  o.InstanceType = get("InstanceType") or errors.missing("InstanceType")
  if not instance.type_of(o.InstanceType) then
    raise("InvalidInstanceType.ValueUnauthorized", "The specified InstanceType \"" .. o.InstanceType
      .. "\" does not exist or beyond the permitted range.")
  end
  local image_id = get("ImageId") or errors.missing("ImageId")
  o.image = image_of(ctx, region, image_id)
  -- network: the vSwitch decides the zone and the VPC; the groups must be in that VPC
  local zone = get("ZoneId")
  if zone and emu.zones[zone] ~= region then raise("InvalidZoneId.NotFound") end
  local vsw_id = get("VSwitchId")
  if not vsw_id then
    raise("MissingParameter", "The input parameter \"VSwitchId\" that is mandatory for processing this request is "
      .. "not supplied (every instance the emulator makes is in a VPC).")
  end
  o.vswitch = engine.find(ctx, "vswitch", vsw_id, region)
  if o.vswitch.Status ~= "Available" then raise("IncorrectVSwitchStatus") end
  if zone and zone ~= o.vswitch.ZoneId then
    raise("InvalidParameter", "The specified ZoneId \"" .. zone .. "\" is not the zone of the vSwitch.")
  end
  o.ZoneId = o.vswitch.ZoneId
  local groups = a:list("SecurityGroupIds")
  local one = a:str("SecurityGroupId")
  if one and #groups > 0 then raise("InvalidSecurityGroupId.SingleIdAndMultiIdConflict") end
  if one then groups = { one } end
  if #groups == 0 and template.SecurityGroupIds then groups = template.SecurityGroupIds end
  if #groups == 0 and template.SecurityGroupId then groups = { template.SecurityGroupId } end
  if #groups == 0 then
    raise("MissingParameter", "The input parameter \"SecurityGroupId\" that is mandatory for processing this "
      .. "request is not supplied (or SecurityGroupIds.N).")
  end
  if #groups > 5 then raise("JoinedGroupLimitExceed", "An instance can be in at most 5 security groups.") end
  local seen = {}
  for _, g in ipairs(groups) do
    if seen[g] then raise("InvalidParameter.SecurityGroupIdRepeated", "The security group " .. g .. " is given twice.") end
    seen[g] = true
    local sg = engine.find(ctx, "security_group", g, region)
    if sg.VpcId ~= o.vswitch.VpcId then
      raise("InvalidParameter.Mismatch", "Specified security group and virtual switch are not in the same VPC.", 400)
    end
  end
  o.SecurityGroupIds = groups
  o.PrivateIpAddress = get("PrivateIpAddress")
  if o.PrivateIpAddress and not cidr.ip(o.PrivateIpAddress) then raise("InvalidPrivateIpAddress.Malformed") end
  o.KeyPairName = get("KeyPairName")
  if o.KeyPairName then engine.find(ctx, "key_pair", o.KeyPairName, region) end
  if o.KeyPairName and o.image.OSType == "windows" then raise("DependencyViolation.WindowsInstance") end
  o.has_password = check_password(a) or template._Password ~= nil
  o.UserData = check_user_data(get("UserData"))
  o.InstanceName = get("InstanceName")
  o.HostName = get("HostName")
  o.Description = get("Description")
  if o.Description and not engine.CHECKS.description(o.Description) then raise("InvalidDescription.Malformed") end
  o.InternetChargeType = a:enum("InternetChargeType", { "PayByBandwidth", "PayByTraffic" },
    template.InternetChargeType, "InvalidInternetChargeType.ValueNotSupported")
  o.InternetMaxBandwidthOut = a:int("InternetMaxBandwidthOut", template.InternetMaxBandwidthOut, 0, 100,
    "InvalidInternetMaxBandwidthOut.Malformed")
  local out = o.InternetMaxBandwidthOut or 0
  o.InternetMaxBandwidthIn = a:int("InternetMaxBandwidthIn", template.InternetMaxBandwidthIn, 1, math.max(10, out),
    "InvalidInternetMaxBandwidthIn.Malformed")
  o.InstanceChargeType = a:enum("InstanceChargeType", { "PrePaid", "PostPaid" }, template.InstanceChargeType,
    "InvalidInstanceChargeType.NotFound")
  local unit = a:enum("PeriodUnit", { "Week", "Month" }, template.PeriodUnit or "Month")
  local period = a:int("Period")
  if period == nil then period = template.Period end
  o.AutoRenew = get("AutoRenew", "bool")
  o.AutoRenewPeriod = get("AutoRenewPeriod", "int")
  if o.InstanceChargeType == "PrePaid" then
    -- (sic) the published code for a subscription without a Period
    if not period then raise("MissingParamter", "The specified parameter \"Period\" is not null.") end
    local ok = unit == "Week" and period >= 1 and period <= 4 or unit == "Month" and PERIODS[period]
    if not ok then raise("InvalidPeriod") end
    o.ExpiredTime = state.iso_minute(emu:now() + (unit == "Week" and 7 * period or 30 * period) * 86400)
    o.PeriodUnit = unit
    if o.AutoRenewPeriod and not (unit == "Week" and o.AutoRenewPeriod <= 4 or PERIODS[o.AutoRenewPeriod])
      or (o.AutoRenewPeriod or 1) < 1 then
      raise("InvalidAutoRenewPeriod.ValueNotSupported")
    end
  end
  o.SpotStrategy = a:enum("SpotStrategy", { "NoSpot", "SpotWithPriceLimit", "SpotAsPriceGo" }, template.SpotStrategy,
    "InvalidSpotStrategy")
  o.SpotPriceLimit = a:number("SpotPriceLimit", template.SpotPriceLimit, "InvalidSpotPriceLimit")
  if o.SpotPriceLimit and o.SpotPriceLimit < 0 then raise("InvalidSpotPriceLimit") end
  o.SpotDuration = a:int("SpotDuration", template.SpotDuration, 0, 6, "InvalidSpotDuration")
  o.SpotInterruptionBehavior = a:enum("SpotInterruptionBehavior", { "Terminate", "Stop" }, nil,
    "InvalidSpotInterruptionBehavior")
  local spot = o.SpotStrategy and o.SpotStrategy ~= "NoSpot"
  if spot and o.InstanceChargeType == "PrePaid" then raise("InvalidSpotPrepaid") end
  o.DeletionProtection = get("DeletionProtection", "bool") or false
  if o.DeletionProtection and (o.InstanceChargeType == "PrePaid" or spot) then
    raise("InvalidChargeType.ValueNotSupported")
  end
  o.AutoReleaseTime = get("AutoReleaseTime")
  if o.AutoReleaseTime then o.AutoReleaseTime = instance.check_release_time(emu, o.AutoReleaseTime) end
  if o.AutoReleaseTime and o.InstanceChargeType == "PrePaid" then
    raise("InvalidParameter", "AutoReleaseTime applies to pay-as-you-go instances only.")
  end
  o.RamRoleName = get("RamRoleName")
  if o.RamRoleName and not emu.ram_roles[o.RamRoleName] then
    raise("InvalidRamRole.NotFound", "The specified parameter \"RAMRoleName\" does not exist.")
  end
  o.SecurityEnhancementStrategy = a:enum("SecurityEnhancementStrategy", { "Active", "Deactive" },
    template.SecurityEnhancementStrategy)
  o.CreditSpecification = a:enum("CreditSpecification", { "Standard", "Unlimited" }, template.CreditSpecification,
    "InvalidParameter.CreditSpecification")
  o.HttpEndpoint = a:enum("HttpEndpoint", { "enabled", "disabled" }, template.HttpEndpoint,
    "InvalidHttpEndpoint.NotSupported")
  o.HttpTokens = a:enum("HttpTokens", { "optional", "required" }, template.HttpTokens, "InvalidHttpTokens.NotSupported")
  o.HttpPutResponseHopLimit = a:int("HttpPutResponseHopLimit", template.HttpPutResponseHopLimit, 1, 64,
    "InvalidHttpPutResponseHopLimit.NotSupported")
  -- every type the emulator has is I/O optimized
  local io = a:enum("IoOptimized", { "optimized", "none" }, template.IoOptimized, "InvalidIoOptimize.ValueNotSupported")
  if io == "none" then raise("DependencyViolation.IoOptimized") end
  -- disks
  local tsys = template.SystemDisk or {}
  local sys = {
    Category = a:str("SystemDisk.Category") or tsys.Category,
    Size = a:int("SystemDisk.Size") or tsys.Size,
    DiskName = a:str("SystemDisk.DiskName") or tsys.DiskName,
    Description = a:str("SystemDisk.Description") or tsys.Description,
    PerformanceLevel = a:enum("SystemDisk.PerformanceLevel", LEVELS, tsys.PerformanceLevel,
      "InvalidPerformanceLevel.Malformed"),
  }
  if sys.Category and not fixtures.SIZE_LIMITS[sys.Category] then raise("InvalidSystemDiskCategory.ValueNotSupported") end
  local image_size = o.image.Size or 20
  if sys.Size and sys.Size < 20 then raise("InvalidSystemDiskSize.LessThanMinSize") end
  if sys.Size and sys.Size < image_size then raise("InvalidSystemDiskSize.LessThanImageSize") end
  if sys.Size and sys.Size > 2048 then raise("InvalidSystemDiskSize.MoreThanMaxSize") end
  check_disk_text(sys, "SystemDisk.")
  o.SystemDisk = sys
  local data = a:objects("DataDisk", { "Size", "Category", "SnapshotId", "DiskName", "Description",
    "DeleteWithInstance", "Encrypted", "PerformanceLevel", "Device" })
  if #data > 16 then raise("InstanceDiskNumLimitExceed") end
  local devices = {}
  for i, d in ipairs(data) do
    local p = "DataDisk." .. i .. "."
    d.Size = a:int(p .. "Size")
    d.DeleteWithInstance = a:bool(p .. "DeleteWithInstance", true)
    d.Encrypted = a:bool(p .. "Encrypted", false)
    d.PerformanceLevel = a:enum(p .. "PerformanceLevel", LEVELS, nil, "InvalidPerformanceLevel.Malformed")
    if d.Category and not fixtures.SIZE_LIMITS[d.Category] then raise("InvalidDataDiskCategory.ValueNotSupported") end
    check_disk_text(d, p)
    if d.Device then
      if not d.Device:match("^/dev/xvd[b-z]$") then raise("InvalidDataDevice.Malformed") end
      if devices[d.Device] then raise("InvalidDevice.InUse") end
      devices[d.Device] = true
    end
    if d.SnapshotId then
      local snap = engine.find(ctx, "snapshot", d.SnapshotId, region, "InvalidDataDiskSnapshotId.NotFound")
      if snap.Status ~= "accomplished" then raise("InvalidSnapshotId.NotReady") end
      local from = tonumber(snap.SourceDiskSize)
      if d.Size and from and d.Size < from then raise("InvalidDiskSize.TooSmall") end
      d.Size = d.Size or from
    end
    if not d.Size then errors.missing(p .. "Size") end
    local lim = fixtures.SIZE_LIMITS[d.Category or "cloud_efficiency"]
    if d.Size < lim[1] or d.Size > lim[2] then raise("InvalidDataDiskSize.ValueNotSupported") end
  end
  if #data == 0 and template.DataDisks then data = template.DataDisks end
  o.DataDisks = data
  o.Tags = engine.tags(a)
  local keys = {}
  for _, t in ipairs(o.Tags) do
    if keys[t.Key] then raise("Duplicate.TagKey") end
    keys[t.Key] = true
  end
  if #o.Tags == 0 and template.Tags then o.Tags = template.Tags end
  o.ResourceGroupId = get("ResourceGroupId")
  if o.ResourceGroupId and not o.ResourceGroupId:match("^rg%-[%w]+$") then
    raise("InvalidResourceGroup.NotFound", "The ResourceGroup \"" .. o.ResourceGroupId .. "\" does not exist (the "
      .. "emulator takes any id of the form rg-<letters and digits>).")
  end
  o.ResourceGroupId = o.ResourceGroupId or emu.default_resource_group
  return o
end

-- Ordered names: name_prefix[begin,bits]name_suffix gives each instance begin, begin+1, ...
-- in `bits` digits; UniqueSuffix (without such a pattern) appends 001, 002, ...
local function pattern_of(name)
  if not name then return nil end
  local pre, inner, post = name:match("^(.-)%[([^%]]*)%](.*)$")
  if not pre then return nil end
  local b, n = "", ""
  if inner ~= "" then b, n = inner:match("^(%d*),(%d*)$") end
  if not b then raise("InvalidInstanceName.CustomMalformed") end
  local begin, bits = tonumber(b ~= "" and b or "0"), tonumber(n ~= "" and n or "6")
  if begin > 999999 or bits < 1 or bits > 6 then raise("InvalidInstanceName.CustomMalformed") end
  return { pre = pre, post = post, begin = begin, bits = bits }
end

local function nth_name(name, pattern, i, unique, amount)
  if pattern then
    return pattern.pre .. string.format("%0" .. pattern.bits .. "d", pattern.begin + i - 1) .. pattern.post
  end
  if name and unique and amount > 1 then return name .. string.format("%03d", i) end
  return name
end

local function check_names(o, amount, unique, names)
  local ip, hp = pattern_of(o.InstanceName), pattern_of(o.HostName)
  local windows = o.image.OSType == "windows"
  -- the last name is the longest
  local name = nth_name(o.InstanceName, ip, amount, unique, amount)
  if name then
    if #name > 128 and (ip or unique) then raise("InvalidParams.InstanceNameExceed") end
    if not engine.CHECKS.name(name) then raise("InvalidInstanceName.Malformed") end
  end
  if #names > 0 and o.HostName then raise("InvalidHostname.SingleAndMultiConflict") end
  if #names > 0 and #names ~= amount then raise("InvalidHostname.SizeInvalid") end
  local host = nth_name(o.HostName, hp, amount, unique, amount)
  for _, h in ipairs(#names > 0 and names or { host }) do
    if #h > (windows and 15 or 64) and (hp or unique) then raise("InvalidParams.HostnameExceed") end
    if not host_ok(h, windows) then raise("InvalidHostName.Malformed") end
  end
  return ip, hp
end

local function launch_all(emu, a, ctx, initial, max_amount)
  local region = engine.region(emu, a)
  local template = nil
  if a:has("LaunchTemplateId") or a:has("LaunchTemplateName") then
    -- RunInstances publishes the launch template codes as 404s
    local ok, t = pcall(engine.kinds.launch_template.launch_data, emu, a, ctx, region)
    if not ok then
      if errors.is(t) and t.code:match("^InvalidLaunchTemplate") then raise(t.code, t.message, 404) end
      error(t, 0)
    end
    template = t
  end
  local o = settings(emu, a, ctx, region, template)
  local amount = a:int("Amount", 1, 1, max_amount, "InvalidParam.Amount")
  a:int("MinAmount", amount, 1, amount, "InvalidMinAmount.Malformed") -- the emulator always has room for Amount
  local unique = a:bool("UniqueSuffix", false)
  local names = a:list("HostNames")
  local ip, hp = check_names(o, amount, unique, names)
  -- the addresses, before anything is made: one named address names one instance
  if o.PrivateIpAddress then
    if amount > 1 then
      raise("InvalidParameter", "PrivateIpAddress is the address of one instance: give Amount 1 with it.")
    end
    instance.private_ip(ctx, o.vswitch, o.PrivateIpAddress)
  end
  local used = 0
  for _ in pairs(used_ips(ctx, o.vswitch.VSwitchId)) do used = used + 1 end
  if cidr.size(o.vswitch.CidrBlock) - 4 - used < amount then raise("QuotaExceeded.PrivateIpAddress") end
  engine.commit(a)
  local out = {}
  for i = 1, amount do
    local each = {}
    for k, v in pairs(o) do each[k] = v end
    each.Status = "Pending"
    each.InstanceName = nth_name(o.InstanceName, ip, i, unique, amount)
    each.HostName = names[i] or nth_name(o.HostName, hp, i, unique, amount)
    local inst = instance.launch(emu, ctx, each)
    if initial == "Running" then
      engine.later(emu, ctx, inst, emu.delays.instance_create or 0, { Status = "Starting" }, "instance_boot")
    else
      -- made Stopped and never started: ModifyInstanceVpcAttribute waits for a first start
      inst._net_pending = true
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
-- A list parameter's strings as a set.
local function string_set(a, name)
  local s = {}
  for _, v in ipairs(a:strings(name)) do s[v] = true end
  return s
end

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
      if change.check then change.check(rec) end
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
    StartTime = state.iso_minute(emu:now() + (emu.delays.instance_start or 0)), StoppedMode = "Not-applicable",
    _net_pending = false })
end }

local function stop_change(mode_param)
  return {
    prepare = function(_, a)
      mode_param.mode = a:enum("StoppedMode", { "StopCharging", "KeepCharging" }, "KeepCharging")
      a:bool("ForceStop", false)
    end,
    -- no fees while stopped: for pay-as-you-go instances only (the StopInstance table)
    check = function(rec)
      if mode_param.mode ~= "StopCharging" then return end
      if rec.InstanceChargeType == "PrePaid" then
        raise("InvalidInstanceId.NotSupport", "Pre pay instance does not support this operation.")
      end
      if rec.SpotStrategy ~= "NoSpot" then
        raise("InvalidInstanceId.NotSupport", "Spot instance does not support this operation.")
      end
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

-- The transitions, for the actions of the other instance files.
instance.start = START.apply
instance.reboot = REBOOT.apply

-- Releases an instance and what goes with it.
local function release(emu, ctx, rec)
  engine.remove(emu, ctx, rec)
end

local function expired(emu, rec)
  local t = instance.release_time(rec.ExpiredTime)
  return t ~= nil and t <= emu:now()
end

-- The DeleteInstance table: protection, the first start, Running without Force, and a
-- subscription that has not expired (or has, without TerminateSubscription).
local function deletable(emu, rec, force, terminate)
  if rec.DeletionProtection then raise("InvalidOperation.DeletionProtection") end
  if rec.Status == "Pending" then raise("IncorrectInstanceStatus.Initializing") end
  if rec.InstanceChargeType == "PrePaid" and not (terminate and expired(emu, rec)) then
    raise("ChargeTypeViolation", "The operation is not permitted due to charge type of the instance: a subscription "
      .. "instance can be released only once expired, with TerminateSubscription=true.")
  end
  if rec.Status ~= "Stopped" and not force then
    raise("IncorrectInstanceStatus", "The instance is " .. rec.Status .. ": stop it first, or pass Force=true.")
  end
end

local kind = {
  name = "instance", product = "ecs", id = "InstanceId", prefix = "i", scope = "zone", name_field = "InstanceName",
  not_found = "InvalidInstanceId.NotFound", state_code = "IncorrectInstanceStatus", tag_type = "instance",
  roundtrip = {
    create = { "RunInstances", function(fx)
      return { RegionId = fx.region, ImageId = fx.image, InstanceType = "ecs.g7.large", VSwitchId = fx.vswitch,
        SecurityGroupId = fx.security_group, InstanceName = "roundtrip" }
    end },
    -- RunInstances answers a list of ids rather than an InstanceId
    id = function(answer) return answer.InstanceIdSets.InstanceIdSet[1] end,
    ready = { "Status", "Running" },
    describe = { "DescribeInstances", function(fx, id) return { RegionId = fx.region, InstanceIds = id and { id } or nil } end },
    modify = { "ModifyInstanceAttribute", function(_, id) return { InstanceId = id, InstanceName = "renamed" } end,
      "InstanceName", "renamed" },
    delete = { "DeleteInstance", function(_, id) return { InstanceId = id, Force = true } end },
    not_found = "InvalidInstanceId.NotFound",
    wrong_state = { "DeleteInstance", function(_, id) return { InstanceId = id, Force = true } end,
      "IncorrectInstanceStatus.Initializing" },
  },
  fields = {
    InstanceName = { check = "name", code = "InvalidInstanceName.Malformed" },
    Description = { check = "description", code = "InvalidDescription.Malformed" },
    HostName = { check = function(v)
      return host_ok(v), "2 to 64 letters, digits, periods, hyphens"
    end, code = "InvalidHostName.Malformed" },
    DeletionProtection = {},
    Recyclable = {},
    CreditSpecification = { enum = { "Standard", "Unlimited" } },
    UserData = { check = function(v) return pcall(check_user_data, v) end, code = "InvalidUserData.Base64FormatInvalid" },
  },
  view = function(_, rec, ctx)
    -- the interfaces of every instance, gathered once per call (a Describe shows many
    -- instances); for a Describe's page (ctx.page, see engine), those of its instances only
    local by_instance = ctx.enis_by_instance
    -- (a page's map does not hold the other instances)
    if by_instance and ctx.enis_of_page and by_instance[rec.InstanceId] == nil then by_instance = nil end
    if not by_instance then
      by_instance = {}
      local keep
      ctx.enis_of_page = nil
      for _, r in ipairs(ctx.page or {}) do by_instance[r.InstanceId] = false end
      if by_instance[rec.InstanceId] == false then
        ctx.enis_of_page = true
        keep = of_page
      else
        by_instance = {}
      end
      for _, e in ipairs(engine.list(ctx, "eni", keep, by_instance)) do
        if e.InstanceId then
          local l = by_instance[e.InstanceId] or {}
          l[#l + 1] = e
          by_instance[e.InstanceId] = l
        end
      end
      ctx.enis_by_instance = by_instance
    end
    -- (this call's own list: sorted in place, the primary interface first)
    local enis = by_instance[rec.InstanceId] or {}
    if #enis > 1 then table.sort(enis, primary_first) end
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
      -- its answer is the world's instances and their interfaces, as the parameters pick
      -- them: nothing of the clock's, and nothing changed (see the router's answer cache)
      answer_cache = true,
      ids = { InstanceIds = "InstanceId" },
      filters = {
        Status = "Status",
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
        ctx.set_private, ctx.set_public = string_set(a, "PrivateIpAddresses"), string_set(a, "PublicIpAddresses")
        local ids = a:strings("InstanceIds", "InvalidInstanceIds.Malformed")
        if #ids > 100 then raise("InvalidInstanceIds.Malformed", "At most 100 instance ids.") end
        -- the DescribeInstances table: unknown filter values are 404s
        a:enum("Status", INSTANCE_STATUSES, nil, "InvalidStatus.NotFound")
        a:enum("InstanceChargeType", { "PrePaid", "PostPaid" }, nil, "InvalidInstanceChargeType.NotFound")
        a:enum("InternetChargeType", { "PayByBandwidth", "PayByTraffic" }, nil,
          "InvalidInternetChargeType.ValueNotSupported", 404)
        a:enum("InstanceNetworkType", { "vpc", "classic" }, nil, "InvalidNetworkType.NotFound")
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
        if rec.HostName ~= old.HostName and rec.OSType == "windows" and not host_ok(rec.HostName, true) then
          raise("InvalidHostName.Malformed")
        end
        if rec.DeletionProtection and not old.DeletionProtection
          and (rec.InstanceChargeType == "PrePaid" or rec.SpotStrategy ~= "NoSpot") then
          raise("InvalidParameter", "DeletionProtection applies to pay-as-you-go instances only.")
        end
        if rec.CreditSpecification ~= old.CreditSpecification and not instance.type_of(rec.InstanceType).burst then
          raise("InvalidParameter.CreditSpecification", "CreditSpecification applies to burstable instance types only.")
        end
        local groups = a:list("SecurityGroupIds")
        if #groups > 0 then
          local seen = {}
          for _, g in ipairs(groups) do
            if seen[g] then raise("InvalidParameter", "The security group " .. g .. " is given twice.") end
            seen[g] = true
            local sg = engine.find(ctx, "security_group", g, rec.RegionId)
            if sg.VpcId ~= rec.VpcId then
              raise("InvalidParameter", "The security group " .. g .. " is not in the instance's VPC.")
            end
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
        change.check(rec)
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
        deletable(emu, rec, force, a:bool("TerminateSubscription", false))
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
        local terminate = a:bool("TerminateSubscription", false)
        for _, rec in ipairs(recs) do deletable(emu, rec, force, terminate) end
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
        if rec.PublicIpAddress then raise("AllocatedAlready") end
        local wanted = a:str("IpAddress")
        if wanted then
          if not cidr.ip(wanted) then raise("InvalidIpAddress.Malformed") end
          for _, other in ipairs(engine.list(ctx, "instance", function(i) return i.PublicIpAddress == wanted end)) do
            raise("IpInUse", "The specified IP is already in use (by " .. other.InstanceId .. ").")
          end
        end
        -- a public address needs outbound bandwidth first (ModifyInstanceNetworkSpec)
        if (rec.InternetMaxBandwidthOut or 0) <= 0 then raise("AllocateIpInvalidInstanceBandwidth") end
        engine.commit(a)
        rec.PublicIpAddress = wanted or instance.public_ip(emu)
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
