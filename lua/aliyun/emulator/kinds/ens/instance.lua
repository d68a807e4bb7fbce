-- ENS instances. RunInstances places them on an edge node (EnsRegionId, or a node of the
-- Carrier for area scheduling), in a vSwitch of a network when given one, in a security
-- group, with a key pair, a system disk and data disks made with them (ens_disk records
-- that go with the instance). Pending -> Running after ens_instance_create; Stop:
-- Running -> Stopping -> Stopped (ens_instance_stop, no delay when forced); Start:
-- Stopped -> Starting -> Running (ens_instance_start). ReleasePostPaidInstance and
-- ReleasePrePaidInstance release the instances of their billing method (refused while the
-- instance's disks have snapshots, as the service documents); disks that go with the
-- instance are released, the others detached; EIPs are unassociated, load balancers drop it.
-- ModifyInstanceChargeType and ModifyPrepayInstanceSpec change the record's billing
-- (InstanceResourceType, ExpiredTime, the disks' DiskChargeType) and type (SpecName).
-- AutoReleaseTime releases the instance at that time of the emulator's clock, as a release
-- call would (what goes with it goes too).
local auth = require "aliyun.emulator.auth"
local common = require "aliyun.emulator.kinds.ens.common"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"
local json = require "aliyun.json"
local state = require "aliyun.emulator.state"

local raise = errors.raise
local bad_field, refuse = common.bad_field, common.refuse

-- InstanceResourceType by billing method (the values Terraform maps to Subscription and PayAsYouGo).
local RESOURCE_TYPE = { PrePaid = "EnsInstance", PostPaid = "EnsPostInstance" }
local PREPAID = "EnsInstance"

local DISK_CATEGORIES = { "cloud_efficiency", "cloud_ssd", "cloud_essd", "local_hdd", "local_ssd" }

local function instance_type(id, param)
  for _, t in ipairs(fixtures.ENS_INSTANCE_TYPES) do
    if t.id == id then return t end
  end
  bad_field(param or "InstanceType", "The instance type " .. tostring(id) .. " is not offered.")
end

local function set_type(rec, t)
  rec.SpecName, rec.InstanceTypeFamily = t.id, t.family
  rec.Cpu, rec.Memory = tostring(t.cpu), t.memory * 1024
end

-- A public image of the fixture, or an Available custom image of the account.
local function image_of(ctx, id)
  for _, img in ipairs(fixtures.ENS_IMAGES) do
    if img.id == id then return { size = img.size, os = img.os } end
  end
  local custom = engine.get(ctx, "ens_image", id)
  if custom and custom.Status == "Available" then
    return { size = tonumber(custom.ImageSize) or 20, os = custom.OsVersion, custom = true }
  end
  bad_field("ImageId", "The image " .. tostring(id) .. " does not exist.")
end

-- ENS passwords: 8 to 30 characters of at least three of upper case, lower case, digits and
-- special characters.
local function check_password(p, param)
  if not engine.password_ok(p) then
    bad_field(param or "Password", "It must be 8 to 30 characters of at least three kinds of characters.")
  end
end

local function check_user_data(v)
  local raw = engine.base64(v)
  if not raw then bad_field("UserData", "It must be Base64 encoded.") end
  if #raw > 16 * 1024 then bad_field("UserData", "It must be at most 16 KB before encoding.") end
end

local function check_host_name(v)
  if #v < 2 or #v > 64 or v:match("^[.-]") or v:match("[.-]$") or v:find("[^%w.%-]") then
    bad_field("HostName", "It must be 2 to 64 characters: letters, digits, periods and hyphens.")
  end
end

-- "2026-01-01T12:00:00Z" (or without seconds) -> epoch seconds, checked.
local function utc_time(v, param)
  local t = auth.parse_timestamp(v:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%dZ$") and v:sub(1, -2) .. ":00Z" or v)
  if not t then bad_field(param, "It must be a UTC time such as 2026-01-01T12:00:00Z.") end
  return t
end

local function disks_of(ctx, inst_id)
  return engine.list(ctx, "ens_disk", function(d) return d.InstanceId == inst_id end)
end

local function view(_, rec, ctx)
  local sys, data = nil, {}
  for _, d in ipairs(disks_of(ctx, rec.InstanceId)) do
    local shown = { DiskId = d.DiskId, DiskName = d.DiskName, Size = d.Size, Category = d.Category,
      Encrypted = d.Encrypted, EncryptKeyId = d.EncryptedKeyId }
    if d.Type == "system" then sys = shown else data[#data + 1] = shown end
  end
  local public = {}
  if rec.public_ip then public[1] = rec.public_ip end
  for _, eip in ipairs(engine.list(ctx, "ens_eip", function(e)
    return e.InstanceId == rec.InstanceId and e.InstanceType == "EnsInstance" end)) do
    public[#public + 1] = eip.IpAddress
  end
  local public_rows = {}
  for i, ip in ipairs(public) do public_rows[i] = { Ip = ip, Isp = rec.isp, GateWay = ip:gsub("%d+$", "1") } end
  local private = rec.private_ip and { rec.private_ip } or {}
  local out = {
    SystemDisk = sys, DataDisk = data, PublicIpAddress = public, PublicIpAddresses = public_rows,
    InnerIpAddress = private,
    PrivateIpAddresses = rec.private_ip and { { Ip = rec.private_ip, Isp = rec.isp,
      GateWay = rec.private_ip:gsub("%d+$", "1") } } or {},
    Disk = sys and math.floor(sys.Size / 1024) or 0,
  }
  if rec.NetworkId then
    out.NetworkAttributes = { NetworkId = rec.NetworkId, VSwitchId = rec.VSwitchId, PrivateIpAddress = private }
  end
  return out
end

local instance = {
  name = "ens_instance", product = "ens", id = "InstanceId", prefix = "i", id_length = 25, scope = "ens",
  name_field = "InstanceName", not_found = "InstanceIdNotFound", state_code = "IncorrectInstanceStatus",
  error_status = 400, tag_type = "instance",
  fields = {
    InstanceName = common.name("InstanceName"),
  },
  view = view,
  roundtrip = {
    create = { "RunInstances", function(fx) return { EnsRegionId = fx.ens_region, InstanceType = "ens.sn1.small",
      ImageId = "centos_7_9_x64_20G_alibase_20240101", InstanceChargeType = "PostPaid", ScheduleAreaLevel = "Region",
      InternetChargeType = "BandwidthByDay", InternetMaxBandwidthOut = 10, Amount = 1 } end },
    id = function(answer) return answer.InstanceIds[1] end,
    ready = { "Status", "Running" },
    describe = { "DescribeInstances", function(_, id) return { InstanceId = id } end },
    modify = { "ModifyInstanceAttribute", function(_, id) return { InstanceId = id, InstanceName = "renamed" } end,
      "InstanceName", "renamed" },
    delete = { "ReleasePostPaidInstance", function(_, id) return { InstanceId = id } end },
    not_found = "InstanceIdNotFound",
    wrong_state = { "StartInstance", function(_, id) return { InstanceId = id } end, "IncorrectInstanceStatus" },
  },
}

-- What goes with a released instance: its disks that go with it (the others are detached),
-- its EIPs (unassociated) and its place behind load balancers.
function instance.on_delete(emu, ctx, rec)
  for _, d in ipairs(disks_of(ctx, rec.InstanceId)) do
    if d.DeleteWithInstance or d.Type == "system" then
      engine.remove(emu, ctx, d)
    else
      engine.later(emu, ctx, d, 0, { InstanceId = "", Status = "Available" })
    end
  end
  for _, eip in ipairs(engine.list(ctx, "ens_eip", function(e) return e.InstanceId == rec.InstanceId end)) do
    engine.later(emu, ctx, eip, 0, { InstanceId = "", InstanceType = "", Status = "Available" })
  end
  for _, lb in ipairs(engine.list(ctx, "ens_lb")) do
    local keep = {}
    for _, b in ipairs(lb.backends) do
      if b.ServerId ~= rec.InstanceId then keep[#keep + 1] = b end
    end
    lb.backends = keep
  end
end

-- The nodes RunInstances may place instances on, and how: Region (one node, EnsRegionId)
-- or area scheduling (Big, Middle, Small: the nodes of the Carrier), Concentrate (all on
-- one node) or Disperse (spread over the nodes).
local function placement(a, ctx, amount)
  local level = a:enum("ScheduleAreaLevel", { "Region", "Big", "Middle", "Small" }, "Region",
    "InvalidParameter.ScheduleAreaLevel")
  local carrier = a:enum("Carrier", { "cmcc", "unicom", "telecom" }, nil, "InvalidParameter.Carrier")
  local strategy = a:enum("SchedulingStrategy", { "Concentrate", "Disperse" }, "Concentrate",
    "InvalidParameter.SchedulingStrategy")
  if level == "Region" then
    local node = common.node(a, ctx)
    local out = {}
    for i = 1, amount do out[i] = node end
    return out, carrier or node.isp
  end
  local node = common.node(a, ctx, nil, true)
  if node then common.bad_field("EnsRegionId", "Area scheduling (" .. level .. ") chooses the node itself.") end
  if not carrier then errors.missing("Carrier") end
  local nodes = engine.list(ctx, "ens_node", function(n) return n.isp == carrier end)
  if #nodes == 0 then raise("ens.interface.error", "An error occurred while calling the API: no edge node of the "
    .. "carrier " .. carrier .. " has resources.", 400) end
  local out = {}
  for i = 1, amount do out[i] = strategy == "Disperse" and nodes[(i - 1) % #nodes + 1] or nodes[1] end
  return out, carrier
end

-- SystemDisk ({"Size": GiB, "Category": ...}) and DataDisk ([{"Size", "Category", "Encrypted", "KMSKeyId"}]).
local function disk_specs(a, image)
  local sys = a:json("SystemDisk", "InvalidParameter.SystemDisk") or {}
  if type(sys) ~= "table" then bad_field("SystemDisk", "It must be a JSON object.") end
  local size = tonumber(sys.Size or image.size)
  if not size or size ~= math.floor(size) or size < image.size or size > 500 then
    bad_field("SystemDisk", "Size must be a whole number of GiB from the image's size (" .. image.size .. ") to 500.")
  end
  local category = sys.Category or "cloud_efficiency"
  if not common.has(DISK_CATEGORIES, category) then bad_field("SystemDisk", "Category " .. tostring(category) .. " is not valid.") end
  local data = common.objects(a, "DataDisk") or {}
  if #data > 16 then bad_field("DataDisk", "An instance takes at most 16 data disks.") end
  for _, d in ipairs(data) do
    d.Size = tonumber(d.Size)
    if not d.Size or d.Size ~= math.floor(d.Size) or d.Size < 20 or d.Size > 32000 then
      bad_field("DataDisk", "Size must be a whole number of GiB from 20 to 32000.")
    end
    d.Category = d.Category or "cloud_efficiency"
    if not common.has(DISK_CATEGORIES, d.Category) then bad_field("DataDisk", "Category " .. tostring(d.Category) .. " is not valid.") end
    d.Encrypted = d.Encrypted == true or d.Encrypted == "true"
  end
  return { Size = size, Category = category }, data
end

local function charge(a)
  local ct = a:enum("InstanceChargeType", { "PrePaid", "PostPaid" }, "PostPaid", "InvalidParameter.InstanceChargeType")
  local period = a:int("Period", 1, 1, 36, "InvalidParameter.Period")
  local unit = a:enum("PeriodUnit", { "Month", "Day" }, "Month", "InvalidParameter.PeriodUnit")
  return ct, period, unit
end

local function expiry(emu, period, unit)
  return state.iso(emu:now() + period * (unit == "Day" and 86400 or 30 * 86400))
end

local function new_disk(emu, ctx, node_id, spec, inst, dtype)
  local kind = engine.kinds.ens_disk
  local d = engine.record(emu, ctx, kind, { EnsRegionId = node_id, Category = spec.Category,
    Size = common.mib(spec.Size), Type = dtype, Status = "In_use", InstanceId = inst.InstanceId,
    DeleteWithInstance = true, Portable = dtype == "data", Encrypted = spec.Encrypted == true,
    EncryptedKeyId = spec.KMSKeyId or "", DiskChargeType = inst.InstanceResourceType == PREPAID and "PrePaid"
      or "PostPaid", SnapshotId = "", Description = "" })
  d.DiskName = d.DiskId
  d.SerialId = d.DiskId:sub(3)
  return engine.store(ctx, d)
end

local RUN_HONOURS = { "Amount", "AutoReleaseTime", "Carrier", "DataDisk", "DeletionProtection", "EnsRegionId",
  "HostName", "ImageId", "InstanceChargeType", "InstanceName", "InstanceType", "InternetChargeType",
  "InternetMaxBandwidthOut", "KeyPairName", "NetWorkId", "Password", "PasswordInherit", "Period", "PeriodUnit",
  "PrivateIpAddress", "PublicIpIdentification", "ScheduleAreaLevel", "SchedulingStrategy", "SecurityId", "SpotStrategy",
  "SystemDisk", "Tag", "UniqueSuffix", "UserData", "VSwitchId" }

local function run_instances(emu, a, ctx)
  local amount = a:int("Amount", 1, 1, 100, "InvalidParameter.Amount")
  local nodes, isp = placement(a, ctx, amount)
  local itype = instance_type(a:need("InstanceType"))
  local image_id = a:need("ImageId")
  local image = image_of(ctx, image_id)
  local ct, period, unit = charge(a)
  a:enum("InternetChargeType", { "BandwidthByDay", "95BandwidthByMonth", "PayByBandwidth4thMonth", "PayByBandwidth" },
    nil, "InvalidParameter.InternetChargeType")
  local bandwidth = a:int("InternetMaxBandwidthOut", 0, 0, 10000, "InvalidParameter.InternetMaxBandwidthOut")
  local spot = a:enum("SpotStrategy", { "NoSpot", "SpotAsPriceGo", "SpotWithPriceLimit" }, "NoSpot",
    "InvalidParameter.SpotStrategy")
  if spot ~= "NoSpot" and ct == "PrePaid" then bad_field("SpotStrategy", "Spot instances are pay-as-you-go.") end
  -- the network: a vSwitch of a network of the node, both named
  local net_id, vsw_id = a:str("NetWorkId"), a:str("VSwitchId")
  local vsw
  if net_id or vsw_id then
    if not net_id then errors.missing("NetWorkId") end
    if not vsw_id then errors.missing("VSwitchId") end
    local net = common.find(ctx, "ens_network", net_id)
    vsw = common.find(ctx, "ens_vswitch", vsw_id)
    if vsw.NetworkId ~= net.NetworkId then bad_field("VSwitchId", "The vSwitch is not in the network " .. net_id .. ".") end
    for _, n in ipairs(nodes) do
      if n.EnsRegionId ~= vsw.EnsRegionId then bad_field("VSwitchId", "The vSwitch is on the node " .. vsw.EnsRegionId .. ".") end
    end
    if vsw.Status ~= "Available" then raise("IncorrectVSwitchStatus", nil, 400) end
  end
  local want_ip = a:str("PrivateIpAddress")
  if want_ip and (not vsw or amount > 1) then
    bad_field("PrivateIpAddress", "It takes a vSwitch and an Amount of 1.")
  end
  local public = a:bool("PublicIpIdentification", vsw == nil)
  local sg_id = a:str("SecurityId")
  if sg_id then common.find(ctx, "ens_security_group", sg_id) end
  local kp = a:str("KeyPairName")
  if kp and not engine.list(ctx, "ens_key_pair", function(k) return k.KeyPairName == kp end)[1] then
    bad_field("KeyPairName", "The key pair " .. kp .. " does not exist.")
  end
  local password = a:str("Password")
  if password then check_password(password) end
  local inherit = a:bool("PasswordInherit", false)
  if inherit and password then bad_field("PasswordInherit", "Password and PasswordInherit exclude each other.") end
  if inherit and not image.custom then bad_field("PasswordInherit", "It takes a custom image.") end
  local sys_spec, data_specs = disk_specs(a, image)
  local name, host = a:str("InstanceName"), a:str("HostName")
  if name then
    local ok, why = engine.CHECKS.name(name)
    if not ok then bad_field("InstanceName", "Rule: " .. why .. ".") end
  end
  if host then check_host_name(host) end
  local suffix = a:bool("UniqueSuffix", false)
  local user_data = a:str("UserData")
  if user_data then check_user_data(user_data) end
  local release = a:str("AutoReleaseTime")
  local release_at = release and utc_time(release, "AutoReleaseTime")
  if release_at and release_at <= emu:now() + 1800 then
    bad_field("AutoReleaseTime", "It must be at least 30 minutes ahead.")
  end
  local protect = a:bool("DeletionProtection", false)
  local tags = engine.tags(a)
  engine.commit(a)
  local ids = {}
  for i = 1, amount do
    local node = nodes[i]
    local rec = engine.record(emu, ctx, instance, { EnsRegionId = node.EnsRegionId, ImageId = image_id,
      OSName = image.os, Status = "Pending", InstanceResourceType = RESOURCE_TYPE[ct], SpotStrategy = spot,
      InternetMaxBandwidthOut = bandwidth, InternetMaxBandwidthIn = 10000, DeletionProtection = protect,
      KeyPairName = kp, SecurityGroupIds = { sg_id }, isp = isp, user_data = user_data, ServiceStatus = "running",
      ExpiredTime = ct == "PrePaid" and expiry(emu, period, unit) or "", AutoReleaseTime = release or "" })
    set_type(rec, itype)
    local n = string.format("%03d", i)
    rec.InstanceName = name and (suffix and name .. n or name) or rec.InstanceId
    rec.HostName = host and (suffix and host .. n or host) or rec.InstanceId
    if vsw then
      rec.NetworkId, rec.VSwitchId = vsw.NetworkId, vsw.VSwitchId
      rec.private_ip = engine.kinds.ens_vswitch.allocate(ctx, vsw, want_ip)
    else
      rec.private_ip = string.format("10.%d.%d.%d", 100 + i % 100, math.floor(#ids / 250) % 250, 2 + #ids % 250)
    end
    if public then rec.public_ip = common.public_ip(ctx, node.EnsRegionId) end
    rec.Tags = {}
    engine.tag(rec, tags)
    engine.store(ctx, rec)
    new_disk(emu, ctx, node.EnsRegionId, sys_spec, rec, "system")
    for _, spec in ipairs(data_specs) do new_disk(emu, ctx, node.EnsRegionId, spec, rec, "data") end
    engine.later(emu, ctx, rec, emu.delays.ens_instance_create or 0, { Status = "Running" })
    if release_at then engine.at(emu, ctx, rec, release_at, nil, "ens_instance_auto_release", "release") end
    ids[#ids + 1] = rec.InstanceId
  end
  return { InstanceIds = common.array(ids), OrderId = common.order_id(emu) }
end

-- The auto-release timer has its own slot, so state changes (stop, start) do not cancel it.
engine.hooks.ens_instance_auto_release = function(emu, world, rec)
  engine.remove(emu, { world = world }, rec)
end

local function find(a, ctx, code)
  return common.find(ctx, "ens_instance", a:need("InstanceId"), code)
end

local function need_state(rec, states, code)
  if not common.has(states, rec.Status) then raise(code or "IncorrectInstanceStatus", nil, 400) end
end

local function release(charge_type, other)
  return function(emu, a, ctx)
    local rec = find(a, ctx)
    if (rec.InstanceResourceType == PREPAID) ~= (charge_type == "PrePaid") then
      refuse("the instance is " .. (charge_type == "PrePaid" and "pay-as-you-go" or "a subscription instance")
        .. "; release it with " .. other)
    end
    need_state(rec, { "Running", "Stopped" })
    if rec.DeletionProtection then refuse("the instance has deletion protection enabled") end
    for _, d in ipairs(disks_of(ctx, rec.InstanceId)) do
      if engine.list(ctx, "ens_snapshot", function(s) return s.SourceDiskId == d.DiskId end)[1] then
        raise("DependencyViolation.Snapshot", nil, 400)
      end
    end
    engine.commit(a)
    engine.remove(emu, ctx, rec)
    return {}
  end
end

instance.actions = {
  RunInstances = { op = "custom", honours = RUN_HONOURS, handler = run_instances,
    ignores = { AutoRenew = "billing: renewal has no effect in the emulator",
      AutoUseCoupon = "billing: coupons have no effect in the emulator",
      BillingCycle = "billing: the billing cycle has no effect in the emulator",
      InstanceChargeStrategy = "billing: the charge strategy has no effect in the emulator",
      SchedulingPriceStrategy = "the emulator's edge nodes all cost the same" } },
  DescribeInstances = common.describe {
    ids = { InstanceIds = "InstanceId" }, page_max = 100,
    filters = {
      InstanceId = "InstanceId", ImageId = "ImageId", InstanceName = "InstanceName", Status = "Status",
      InstanceResourceType = "InstanceResourceType", InstanceType = "SpecName", IntranetIp = "private_ip",
      NetworkId = "NetworkId", VSwitchId = "VSwitchId",
      SecurityGroupId = { field = "SecurityGroupIds", match = "contains" },
      SearchKey = { match = function(rec, v)
        for _, f in ipairs { "InstanceId", "InstanceName", "private_ip", "public_ip" } do
          if type(rec[f]) == "string" and rec[f]:find(v, 1, true) then return true end
        end
        return false
      end },
      Tags = { match = function(rec, v)
        local ok, list = pcall(json.decode, v)
        if not ok or type(list) ~= "table" then bad_field("Tags", "It must be a JSON array of {Key, Value}.") end
        local wanted = {}
        for i, t in ipairs(list) do wanted[i] = { Key = t.Key or t.key, Value = t.Value or t.value } end
        return engine.has_tags(rec, wanted)
      end },
      EipAddresses = { match = function(rec, v, ctx)
        local ok, list = pcall(json.decode, v)
        if not ok or type(list) ~= "table" then bad_field("EipAddresses", "It must be a JSON array of addresses.") end
        local mine = view(nil, rec, ctx).PublicIpAddress
        for _, ip in ipairs(list) do
          if common.has(mine, ip) then return true end
        end
        return false
      end },
    },
    extra = function(_, _, _, body) body.Code = 0 end,
  },
  ModifyInstanceAttribute = {
    op = "custom", honours = { "InstanceId", "InstanceName", "HostName", "Password", "UserData", "DeletionProtection" },
    handler = function(_, a, ctx)
      local rec = find(a, ctx)
      local name, host, password, user_data = a:str("InstanceName"), a:str("HostName"), a:str("Password"), a:str("UserData")
      local protect = a:bool("DeletionProtection")
      if name then
        local ok, why = engine.CHECKS.name(name)
        if not ok then bad_field("InstanceName", "Rule: " .. why .. ".") end
      end
      if host then check_host_name(host) end
      if password then check_password(password) end
      if user_data then check_user_data(user_data) end
      engine.commit(a)
      rec.InstanceName = name or rec.InstanceName
      rec.HostName = host or rec.HostName
      rec.user_data = user_data or rec.user_data
      if protect ~= nil then rec.DeletionProtection = protect end
      return common.OK
    end,
  },
  StartInstance = {
    op = "custom", honours = { "InstanceId" },
    handler = function(emu, a, ctx)
      local rec = find(a, ctx, "InstanceNotFound")
      need_state(rec, { "Stopped" })
      engine.commit(a)
      rec.Status = "Starting"
      engine.later(emu, ctx, rec, emu.delays.ens_instance_start or 0, { Status = "Running" })
      return common.OK
    end,
  },
  StopInstance = {
    op = "custom", honours = { "InstanceId", "ForceStop" },
    handler = function(emu, a, ctx)
      local rec = find(a, ctx)
      local force = a:str("ForceStop")
      if force and force ~= "true" and force ~= "false" then bad_field("ForceStop", "It must be true or false.") end
      need_state(rec, { "Running" })
      engine.commit(a)
      rec.Status = "Stopping"
      engine.later(emu, ctx, rec, force == "true" and 0 or (emu.delays.ens_instance_stop or 0), { Status = "Stopped" })
      return common.OK
    end,
  },
  ReleasePostPaidInstance = { op = "custom", honours = { "InstanceId" },
    handler = release("PostPaid", "ReleasePrePaidInstance") },
  ReleasePrePaidInstance = { op = "custom", honours = { "InstanceId" },
    handler = release("PrePaid", "ReleasePostPaidInstance") },
  ModifyPrepayInstanceSpec = {
    op = "custom", honours = { "InstanceId", "InstanceType" },
    handler = function(_, a, ctx)
      local rec = find(a, ctx)
      local t = instance_type(a:need("InstanceType"))
      if rec.InstanceResourceType ~= PREPAID then
        refuse("the instance is pay-as-you-go; ModifyPrepayInstanceSpec changes subscription instances")
      end
      need_state(rec, { "Running", "Stopped" })
      if t.id == rec.SpecName then bad_field("InstanceType", "It is the instance's type already.") end
      engine.commit(a)
      set_type(rec, t)
      return {}
    end,
  },
  ModifyInstanceChargeType = {
    op = "custom", honours = { "InstanceIds", "InstanceChargeType", "Period", "PeriodUnit", "IncludeDataDisks" },
    ignores = { AutoPay = "billing: payment has no effect in the emulator",
      AutoRenew = "billing: renewal has no effect in the emulator",
      BillingCycle = "billing: the billing cycle has no effect in the emulator" },
    handler = function(emu, a, ctx)
      local ids = a:strings("InstanceIds", "InvalidParameter.InstanceIds")
      if #ids == 0 then errors.missing("InstanceIds") end
      if #ids > 100 then bad_field("InstanceIds", "At most 100 instances in one call.") end
      local ct, period, unit = charge(a)
      local include = a:bool("IncludeDataDisks", false)
      local recs = {}
      for i, id in ipairs(ids) do
        local rec = common.find(ctx, "ens_instance", id)
        need_state(rec, { "Running", "Stopped" })
        if rec.InstanceResourceType == RESOURCE_TYPE[ct] then
          refuse("the instance " .. id .. " is " .. ct .. " already")
        end
        recs[i] = rec
      end
      engine.commit(a)
      for _, rec in ipairs(recs) do
        rec.InstanceResourceType = RESOURCE_TYPE[ct]
        rec.ExpiredTime = ct == "PrePaid" and expiry(emu, period, unit) or ""
        if ct == "PrePaid" then rec.SpotStrategy = "NoSpot" end
        for _, d in ipairs(disks_of(ctx, rec.InstanceId)) do
          if d.Type == "system" or include then d.DiskChargeType = ct end
        end
      end
      return { InstanceIds = common.array(ids), OrderId = tonumber(common.order_id(emu)) }
    end,
  },
}

return instance
