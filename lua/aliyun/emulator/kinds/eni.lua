-- Elastic network interfaces. Each instance has a primary one (Type Primary, made and
-- released with the instance, kinds/instance.lua); secondary ones (Type Secondary) are
-- created Available in a vSwitch with security groups of its VPC and attached to instances
-- of its zone and VPC:
--   Attach  Available -> Attaching -(eni_attach)-> InUse      (instance Running or Stopped)
--   Detach  InUse -> Detaching -(eni_detach)-> Available      (never the primary)
--   Delete  Available secondary interfaces only
-- An interface holds its primary private IP (PrimaryIpAddress), secondary private IPs
-- (SecondaryIps), IPv6 addresses (Ipv6Addresses, from a /64 the emulator gives each vSwitch)
-- and security groups (SecurityGroupIds); how many interfaces and addresses an instance takes
-- comes from its type (fixtures.INSTANCE_TYPES enis, ips; ips also bounds IPv6 addresses).
-- A secondary interface with DeleteOnRelease goes with its instance, others are detached.
-- Permissions (kind eni_permission) grant another account of the emulator InstanceAttach on
-- an interface; the grant is recorded and listed (attaching across accounts is not emulated).
local cidr = require "aliyun.emulator.cidr"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local fixtures = require "aliyun.emulator.fixtures"
local ipv6 = require "aliyun.emulator.ipv6"
local json = require "aliyun.json"
local state = require "aliyun.emulator.state"

local raise = errors.raise
local arr = json.array

-- Secondary private IPs and IPv6 addresses an interface not attached to an instance may hold
-- (CreateNetworkInterface: up to 49 secondary IPs; AssignIpv6Addresses: up to 10 IPv6).
local UNATTACHED_IPS, UNATTACHED_IPV6 = 49, 10
local MAX_GROUPS = 5
local STATUSES = { "Available", "Attaching", "InUse", "Detaching", "Deleting" }

local function type_of(id)
  for _, t in ipairs(fixtures.INSTANCE_TYPES) do
    if t.id == id then return t end
  end
  return nil
end

local function used_ipv4(ctx, vsw_id)
  return require("aliyun.emulator.kinds.instance").module.used_ips(ctx, vsw_id)
end

-- The IPv6 /64 of a vSwitch (the emulator's vSwitches have no IPv6 block of their own: each
-- gets one derived from its id, the same for the same id).
local function v6_prefix(vsw)
  local h = state.hash(vsw.VSwitchId)
  return { 0x2408, 0x4005, h % 65536, math.floor(h / 65536) % 65536 }
end

local function used_ipv6(ctx, vsw_id)
  local used = {}
  for _, e in ipairs(engine.list(ctx, "eni", function(e) return e.VSwitchId == vsw_id end)) do
    for _, ip in ipairs(e.Ipv6Addresses or {}) do used[ip] = true end
  end
  return used
end

-- Private IPv4 addresses of the vSwitch: those asked for (checked) and `count` more of the
-- next free ones. `used`: the set of addresses taken (updated).
local function take_ipv4(vsw, used, wanted, count)
  local out, seen = {}, {}
  for _, ip in ipairs(wanted or {}) do
    if seen[ip] then raise("InvalidIp.IpRepeated", "The specified IP \"" .. ip .. "\" is repeated.") end
    seen[ip] = true
    if not cidr.ip(ip) or not cidr.has(vsw.CidrBlock, ip) then
      raise("InvalidVSwitchId.IpInvalid", "The specified IpAddress \"" .. ip .. "\" is not valid in VSwitch CIDR block \""
        .. vsw.CidrBlock .. "\".")
    end
    if used[ip] then raise("InvalidPrivateIpAddress.Duplicated") end
    used[ip] = true
    out[#out + 1] = ip
  end
  for _ = 1, count or 0 do
    local ip = cidr.next_free(vsw.CidrBlock, used)
    if not ip then raise("InvalidVSwitchId.IpNotEnough", "The vSwitch has no free private IP address left.", 403) end
    used[ip] = true
    out[#out + 1] = ip
  end
  return out
end

-- IPv6 addresses of the vSwitch's /64: those asked for (checked, in the service's form) and
-- `count` more.
local function take_ipv6(vsw, used, wanted, count)
  local prefix = v6_prefix(vsw)
  local out, seen = {}, {}
  for _, text in ipairs(wanted or {}) do
    local g = ipv6.parse(text)
    if not g then raise("InvalidIp.Address", "The specified IPv6 address \"" .. text .. "\" is not valid.") end
    local ip = ipv6.text(g)
    if seen[ip] then raise("InvalidIp.IpRepeated", "The specified IP \"" .. text .. "\" is repeated.") end
    seen[ip] = true
    if not ipv6.in64(prefix, g) then
      raise("InvalidVSwitchId.IpInvalid", "The specified IpAddress \"" .. text .. "\" is not valid in the IPv6 CIDR block \""
        .. ipv6.text(ipv6.nth(prefix, 0)) .. "/64\" of the vSwitch.")
    end
    if used[ip] then raise("InvalidIp.IpAssigned", "The specified IP \"" .. text .. "\" has been assigned.") end
    used[ip] = true
    out[#out + 1] = ip
  end
  local n = 1
  for _ = 1, count or 0 do
    local ip = ipv6.text(ipv6.nth(prefix, n))
    while used[ip] do
      n = n + 1
      ip = ipv6.text(ipv6.nth(prefix, n))
    end
    used[ip] = true
    out[#out + 1] = ip
  end
  return out
end

-- The addresses a call asks for: a list or a count of the next free ones, never both (and
-- one of them when `required`).
local function wanted_or_count(a, list_param, count_param, required, conflict_code)
  local wanted, count = a:list(list_param), a:int(count_param, nil, 1)
  if #wanted > 0 and count then
    raise(conflict_code or "InvalidParameter", "Specify either " .. list_param .. ".N or " .. count_param .. ", not both.")
  end
  if required and #wanted == 0 and not count then
    raise("MissingParameter", "The input parameter \"" .. list_param .. ".N\" or \"" .. count_param
      .. "\" that is mandatory for processing this request is not supplied.")
  end
  return wanted, count
end

-- The security groups of a call (one list parameter and, where the action has it, a single
-- one), each in the region and in the VPC. nil when the call names none.
local function security_groups(a, ctx, region, vpc_id, list_param, one_param)
  local groups = a:list(list_param)
  local one = one_param and a:str(one_param)
  if one and #groups > 0 then
    raise("InvalidParameter.Conflict", "Specify either " .. one_param .. " or " .. list_param .. ".N, not both.")
  end
  if one then groups = { one } end
  if #groups == 0 then return nil end
  if #groups > MAX_GROUPS then
    raise("JoinedGroupLimitExceed", "A network interface joins at most " .. MAX_GROUPS .. " security groups.")
  end
  local seen = {}
  for _, g in ipairs(groups) do
    if seen[g] then errors.invalid(list_param, nil, nil, "The security group \"" .. g .. "\" is given twice.") end
    seen[g] = true
    local sg = engine.find(ctx, "security_group", g, region)
    if sg.VpcId ~= vpc_id then
      raise("InvalidOperation.VpcMismatch", "The security group \"" .. g .. "\" is not in the VPC of the network interface.")
    end
  end
  return groups
end

local function eni_state(e, want)
  raise("InvalidOperation.InvalidEniState", "The operation is not allowed in the current ENI state. Expecting status is \""
    .. want .. "\" while current status is \"" .. tostring(e.Status) .. "\".")
end

local function ecs_state(inst)
  if inst.Status ~= "Running" and inst.Status ~= "Stopped" then
    raise("InvalidOperation.InvalidEcsState", "The operation is not allowed in the current ECS state (" .. inst.Status
      .. "): the instance must be Running or Stopped.")
  end
end

-- How many private IPs (the primary included) and IPv6 addresses the interface may hold: its
-- instance type's per-interface number once attached, the service's fixed limits before.
local function ip_limits(ctx, e)
  local inst = e.InstanceId and engine.get(ctx, "instance", e.InstanceId)
  local t = inst and type_of(inst.InstanceType)
  if t then return t.ips, t.ips end
  return 1 + UNATTACHED_IPS, UNATTACHED_IPV6
end

-- The interface an IP action works on: Available or InUse; a primary's instance must be
-- Running or Stopped.
local function ip_target(emu, a, ctx)
  local e = engine.find(ctx, "eni", a:need("NetworkInterfaceId"), engine.region(emu, a))
  if e.Status ~= "Available" and e.Status ~= "InUse" then eni_state(e, "Available or InUse") end
  if e.Type == "Primary" then
    local inst = engine.get(ctx, "instance", e.InstanceId)
    if inst then ecs_state(inst) end
  end
  return e
end

local function vswitch_of(ctx, e)
  return engine.find(ctx, "vswitch", e.VSwitchId)
end

-- Time: an attachment completes only while its instance still exists.
engine.hooks.eni_attached = function(_, world, rec)
  local inst = rec.InstanceId and engine.coll(world, "instance"):get(rec.InstanceId)
  if inst then
    rec.Status = "InUse"
  else
    rec.Status, rec.InstanceId, rec._device = "Available", nil, nil
  end
end

engine.hooks.eni_detached = function(_, _, rec)
  rec.Status, rec.InstanceId, rec._device = "Available", nil, nil
end

local eni = {
  name = "eni", product = "ecs", id = "NetworkInterfaceId", prefix = "eni", scope = "zone",
  name_field = "NetworkInterfaceName", not_found = "InvalidEniId.NotFound", tag_type = "eni",
  fields = {
    NetworkInterfaceName = { check = "name", code = "InvalidParameter", default = "" },
    Description = { check = "description", code = "InvalidParameter", default = "" },
    DeleteOnRelease = { default = false },
    QueueNumber = { min = 1, max = 2048, code = "InvalidParameter.InvalidEniQueueNumber" },
    SourceDestCheck = { default = false },
    NetworkInterfaceTrafficMode = { enum = { "Standard", "HighPerformance" }, default = "Standard" },
  },
}

function eni.view(_, rec, ctx)
  local ips = arr { { PrivateIpAddress = rec.PrimaryIpAddress, Primary = true } }
  for _, ip in ipairs(rec.SecondaryIps or {}) do ips[#ips + 1] = { PrivateIpAddress = ip, Primary = false } end
  local v6 = arr {}
  for i, ip in ipairs(rec.Ipv6Addresses or {}) do v6[i] = { Ipv6Address = ip } end
  local out = {
    PrivateIpAddress = rec.PrimaryIpAddress, PrivateIpSets = ips, Ipv6Sets = v6, OwnerId = ctx.world.account,
    ServiceManaged = rec.ServiceManaged == true, DeleteOnRelease = rec.DeleteOnRelease == true,
    SourceDestCheck = rec.SourceDestCheck == true,
    NetworkInterfaceTrafficMode = rec.NetworkInterfaceTrafficMode or "Standard",
  }
  if rec.InstanceId then
    out.Attachment = { InstanceId = rec.InstanceId, DeviceIndex = rec._device or 0, NetworkCardIndex = 0 }
    local inst = rec.Type == "Primary" and engine.get(ctx, "instance", rec.InstanceId)
    if inst and inst.PublicIpAddress then
      out.AssociatedPublicIp = { PublicIpAddress = inst.PublicIpAddress, AllocationId = "" }
    end
  end
  return out
end

-- Its permissions go with it.
function eni.on_delete(emu, ctx, rec)
  for _, p in ipairs(engine.list(ctx, "eni_permission", function(p) return p.NetworkInterfaceId == rec.NetworkInterfaceId end)) do
    engine.remove(emu, ctx, p)
  end
end

local actions = {}

actions.CreateNetworkInterface = {
  op = "custom",
  honours = { "VSwitchId", "SecurityGroupId", "SecurityGroupIds", "PrimaryIpAddress", "PrivateIpAddress",
    "SecondaryPrivateIpAddressCount", "Ipv6Address", "Ipv6AddressCount", "NetworkInterfaceName", "Description",
    "DeleteOnRelease", "QueueNumber", "SourceDestCheck", "NetworkInterfaceTrafficMode", "Tag", "ResourceGroupId" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local vsw = engine.find(ctx, "vswitch", a:need("VSwitchId"), region)
    if vsw.Status ~= "Available" then raise("IncorrectVSwitchStatus") end
    local groups = security_groups(a, ctx, region, vsw.VpcId, "SecurityGroupIds", "SecurityGroupId")
    if not groups then
      raise("MissingParameter", "The input parameter \"SecurityGroupId\" or \"SecurityGroupIds.N\" that is mandatory for "
        .. "processing this request is not supplied.")
    end
    local rec = engine.record(emu, ctx, eni, { RegionId = region, ZoneId = vsw.ZoneId, VpcId = vsw.VpcId,
      VSwitchId = vsw.VSwitchId, Type = "Secondary", SecurityGroupIds = groups, ServiceManaged = false })
    engine.set_fields(emu, a, ctx, eni, rec, { "NetworkInterfaceName", "Description", "DeleteOnRelease", "QueueNumber",
      "SourceDestCheck", "NetworkInterfaceTrafficMode" }, true)
    local wanted, count = wanted_or_count(a, "PrivateIpAddress", "SecondaryPrivateIpAddressCount", false,
      "InvalidParameter.Conflict")
    if #wanted + (count or 0) > UNATTACHED_IPS then
      raise("MaxEniPrivateIpsCountExceeded", "A network interface takes at most " .. UNATTACHED_IPS
        .. " secondary private IP addresses when it is created.")
    end
    local v6_wanted, v6_count = wanted_or_count(a, "Ipv6Address", "Ipv6AddressCount", false, "InvalidParameter.Conflict")
    if #v6_wanted + (v6_count or 0) > UNATTACHED_IPV6 then
      raise("MaxEniIpv6IpsCountExceeded", "A network interface that is not attached takes at most " .. UNATTACHED_IPV6
        .. " IPv6 addresses.")
    end
    local used = used_ipv4(ctx, vsw.VSwitchId)
    local primary = a:str("PrimaryIpAddress")
    rec.PrimaryIpAddress = take_ipv4(vsw, used, primary and { primary } or nil, primary and 0 or 1)[1]
    rec.SecondaryIps = take_ipv4(vsw, used, wanted, count)
    rec.Ipv6Addresses = take_ipv6(vsw, used_ipv6(ctx, vsw.VSwitchId), v6_wanted, v6_count)
    rec.Tags = engine.tags(a)
    rec.ResourceGroupId = a:str("ResourceGroupId") or emu.default_resource_group
    rec.MacAddress = string.format("00:16:3e:%02x:%02x:%02x", emu.ids:number(0, 255), emu.ids:number(0, 255),
      emu.ids:number(0, 255))
    engine.commit(a)
    rec.Status = "Available"
    engine.store(ctx, rec)
    return engine.show(emu, ctx, rec)
  end,
}

actions.DescribeNetworkInterfaces = {
  op = "describe", page_max = 100, max_results_max = 500,
  ids = { NetworkInterfaceId = "NetworkInterfaceId" },
  filters = {
    VSwitchId = "VSwitchId", VpcId = "VpcId", PrimaryIpAddress = "PrimaryIpAddress", InstanceId = "InstanceId",
    NetworkInterfaceName = "NetworkInterfaceName", ServiceManaged = "ServiceManaged",
    Type = { field = "Type", enum = { "Primary", "Secondary" } },
    Status = { field = "Status", enum = STATUSES },
    SecurityGroupId = { field = "SecurityGroupIds", match = "contains" },
    PrivateIpAddress = { field = "SecondaryIps", match = function(rec, wanted)
      for _, ip in ipairs(wanted) do
        if ip == rec.PrimaryIpAddress then return true end
        for _, have in ipairs(rec.SecondaryIps or {}) do if have == ip then return true end end
      end
      return false
    end },
    Ipv6Address = { field = "Ipv6Addresses", match = function(rec, wanted)
      for _, text in ipairs(wanted) do
        local ip = ipv6.normalise(text)
        for _, have in ipairs(rec.Ipv6Addresses or {}) do if have == ip then return true end end
      end
      return false
    end },
  },
  prepare = function(_, a)
    if #a:strings("NetworkInterfaceId") > 100 then
      errors.invalid("NetworkInterfaceId", nil, nil, "At most 100 network interfaces in one call.")
    end
  end,
}

actions.DescribeNetworkInterfaceAttribute = {
  op = "get", honours = { "Attribute", "Tag" },
  check = function(_, a, _, rec)
    -- every attribute is answered; Attribute only has to be one the service knows
    a:enum("Attribute", { "attachment" })
    -- Tag selects, as on the Describe actions: an interface without those tags is not found
    local wanted = engine.tags(a)
    if #wanted > 0 and not engine.has_tags(rec, wanted) then raise("InvalidEniId.NotFound") end
  end,
}

actions.ModifyNetworkInterfaceAttribute = {
  op = "modify", fields = { "NetworkInterfaceName", "Description", "DeleteOnRelease", "QueueNumber", "SourceDestCheck" },
  honours = { "SecurityGroupId" },
  before = function(_, a, ctx, rec, old)
    if a:has("QueueNumber") then
      if old.Type == "Primary" then
        raise("InvalidOperation.InvalidEniType", "Only the queue number of a secondary network interface can be changed.")
      end
      if old.Status == "InUse" then
        local inst = engine.get(ctx, "instance", old.InstanceId)
        if inst and inst.Status ~= "Stopped" then
          raise("InvalidOperation.InvalidEcsState", "The queue number of an attached network interface can be changed "
            .. "only while its instance is Stopped.")
        end
      elseif old.Status ~= "Available" then
        eni_state(old, "Available or InUse")
      end
    end
    if old.Type == "Primary" and rec.DeleteOnRelease == false then
      raise("UnsupportedParameter.NotEmulated", "The emulator always releases a primary network interface with its "
        .. "instance: DeleteOnRelease=false is not emulated for it.")
    end
    local groups = security_groups(a, ctx, old.RegionId, old.VpcId, "SecurityGroupId")
    if groups then rec.SecurityGroupIds = groups end
  end,
  after = function(_, _, ctx, rec)
    -- an instance's security groups are its primary interface's
    if rec.Type == "Primary" then
      local inst = engine.get(ctx, "instance", rec.InstanceId)
      if inst then inst.SecurityGroupIds = rec.SecurityGroupIds end
    end
  end,
}

actions.DeleteNetworkInterface = {
  op = "custom", honours = { "NetworkInterfaceId" },
  handler = function(emu, a, ctx)
    local e = engine.find(ctx, "eni", a:need("NetworkInterfaceId"), engine.region(emu, a))
    if e.Type == "Primary" then
      raise("InvalidOperation.InvalidEniType", "The primary network interface of an instance is released with the instance.")
    end
    if e.Status ~= "Available" then eni_state(e, "Available") end
    engine.commit(a)
    engine.remove(emu, ctx, e)
    return {}
  end,
}

actions.AttachNetworkInterface = {
  op = "custom", honours = { "NetworkInterfaceId", "InstanceId", "NetworkCardIndex" },
  ignores = { WaitForNetworkConfigurationReady = "the emulator has no guest operating system to wait for" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local e = engine.find(ctx, "eni", a:need("NetworkInterfaceId"), region)
    local inst = engine.find(ctx, "instance", a:need("InstanceId"), region)
    if a:int("NetworkCardIndex", 0) ~= 0 then
      errors.invalid("NetworkCardIndex", nil, nil, "The instance types of the emulator have one network card (index 0).")
    end
    a:bool("WaitForNetworkConfigurationReady")
    if e.Status ~= "Available" then eni_state(e, "Available") end
    ecs_state(inst)
    if e.ZoneId ~= inst.ZoneId then
      raise("InvalidOperation.AvailabilityZoneMismatch", "The network interface is in " .. e.ZoneId .. ", the instance in "
        .. inst.ZoneId .. ".")
    end
    if e.VpcId ~= inst.VpcId then
      raise("InvalidOperation.VpcMismatch", "The network interface and the instance are not in the same VPC.")
    end
    local attached = engine.list(ctx, "eni", function(x) return x.InstanceId == inst.InstanceId end)
    local t = type_of(inst.InstanceType)
    if t and #attached >= t.enis then
      raise("EniPerInstanceLimitExceeded", "The instance type " .. t.id .. " takes " .. t.enis .. " network interfaces.")
    end
    if t and 1 + #(e.SecondaryIps or {}) > t.ips then
      raise("MaxEniPrivateIpsCountExceeded", "The instance type " .. t.id .. " takes " .. t.ips
        .. " private IP addresses per network interface.")
    end
    if t and #(e.Ipv6Addresses or {}) > t.ips then
      raise("MaxEniIpv6IpsCountExceeded", "The instance type " .. t.id .. " takes " .. t.ips
        .. " IPv6 addresses per network interface.")
    end
    engine.commit(a)
    local taken = {}
    for _, x in ipairs(attached) do taken[x._device or 0] = true end
    local index = 1
    while taken[index] do index = index + 1 end
    e.Status, e.InstanceId, e._device = "Attaching", inst.InstanceId, index
    engine.later(emu, ctx, e, emu.delays.eni_attach or 0, {}, "eni_attached")
    return {}
  end,
}

actions.DetachNetworkInterface = {
  op = "custom", honours = { "NetworkInterfaceId", "InstanceId" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local e = engine.find(ctx, "eni", a:need("NetworkInterfaceId"), region)
    local inst = engine.find(ctx, "instance", a:need("InstanceId"), region)
    if e.Type == "Primary" then raise("InvalidOperation.DetachPrimaryEniNotAllowed") end
    if e.InstanceId ~= inst.InstanceId then
      raise("InvalidOperation.InvalidEniState", "The network interface is not attached to the instance \""
        .. inst.InstanceId .. "\".")
    end
    ecs_state(inst)
    -- asked again while it is on its way: the service takes Detaching too
    if e.Status == "Detaching" then
      engine.commit(a)
      return {}
    end
    if e.Status ~= "InUse" then eni_state(e, "InUse") end
    engine.commit(a)
    e.Status = "Detaching"
    engine.later(emu, ctx, e, emu.delays.eni_detach or 0, {}, "eni_detached")
    return {}
  end,
}

actions.AssignPrivateIpAddresses = {
  op = "custom", honours = { "NetworkInterfaceId", "PrivateIpAddress", "SecondaryPrivateIpAddressCount" },
  handler = function(emu, a, ctx)
    local e = ip_target(emu, a, ctx)
    local wanted, count = wanted_or_count(a, "PrivateIpAddress", "SecondaryPrivateIpAddressCount", true)
    local max = ip_limits(ctx, e)
    if 1 + #e.SecondaryIps + #wanted + (count or 0) > max then
      raise("MaxEniPrivateIpsCountExceeded", "The network interface takes at most " .. max
        .. " private IP addresses (the primary one included).")
    end
    local vsw = vswitch_of(ctx, e)
    local added = take_ipv4(vsw, used_ipv4(ctx, vsw.VSwitchId), wanted, count)
    engine.commit(a)
    for _, ip in ipairs(added) do e.SecondaryIps[#e.SecondaryIps + 1] = ip end
    return { AssignedPrivateIpAddressesSet = { NetworkInterfaceId = e.NetworkInterfaceId,
      PrivateIpSet = { PrivateIpAddress = arr(added) } } }
  end,
}

-- Unassign*: the addresses listed in `param` leave the interface's list `field`; each must
-- be there (`norm` gives an address the form it is kept in).
local function unassign(param, field, norm)
  return {
    op = "custom", honours = { "NetworkInterfaceId", param },
    handler = function(emu, a, ctx)
      local e = ip_target(emu, a, ctx)
      local listed = a:list(param)
      if #listed == 0 then errors.missing(param .. ".1") end
      local drop = {}
      for _, text in ipairs(listed) do
        local ip = norm and norm(text) or text
        local found = false
        for _, have in ipairs(e[field]) do
          if have == ip then found = true end
        end
        if not found or drop[ip] then
          raise("InvalidIp.IpUnassigned", "The specified IP \"" .. text .. "\" is not assigned on this ENI.")
        end
        drop[ip] = true
      end
      engine.commit(a)
      local keep = {}
      for _, have in ipairs(e[field]) do
        if not drop[have] then keep[#keep + 1] = have end
      end
      e[field] = keep
      return {}
    end,
  }
end

actions.UnassignPrivateIpAddresses = unassign("PrivateIpAddress", "SecondaryIps")

actions.AssignIpv6Addresses = {
  op = "custom", honours = { "NetworkInterfaceId", "Ipv6Address", "Ipv6AddressCount" },
  handler = function(emu, a, ctx)
    local e = ip_target(emu, a, ctx)
    local wanted, count = wanted_or_count(a, "Ipv6Address", "Ipv6AddressCount", true)
    local _, max = ip_limits(ctx, e)
    if #e.Ipv6Addresses + #wanted + (count or 0) > max then
      raise("MaxEniIpv6IpsCountExceeded", "The network interface takes at most " .. max .. " IPv6 addresses.")
    end
    local vsw = vswitch_of(ctx, e)
    local added = take_ipv6(vsw, used_ipv6(ctx, vsw.VSwitchId), wanted, count)
    engine.commit(a)
    for _, ip in ipairs(added) do e.Ipv6Addresses[#e.Ipv6Addresses + 1] = ip end
    return { NetworkInterfaceId = e.NetworkInterfaceId, Ipv6Sets = { Ipv6Address = arr(added) } }
  end,
}

actions.UnassignIpv6Addresses = unassign("Ipv6Address", "Ipv6Addresses", ipv6.normalise)

eni.actions = actions

eni.roundtrip = {
  create = { "CreateNetworkInterface", function(fx)
    return { RegionId = fx.region, VSwitchId = fx.vswitch, SecurityGroupId = fx.security_group }
  end },
  describe = { "DescribeNetworkInterfaces", function(fx, id)
    return { RegionId = fx.region, NetworkInterfaceId = { id } }
  end },
  modify = { "ModifyNetworkInterfaceAttribute", function(fx, id)
    return { RegionId = fx.region, NetworkInterfaceId = id, NetworkInterfaceName = "renamed" }
  end, "NetworkInterfaceName", "renamed" },
  delete = { "DeleteNetworkInterface", function(fx, id) return { RegionId = fx.region, NetworkInterfaceId = id } end },
  not_found = "InvalidEniId.NotFound",
  -- an Available interface is attached to nothing: detaching it is refused
  wrong_state = { "DetachNetworkInterface", function(fx, id)
    return { RegionId = fx.region, NetworkInterfaceId = id, InstanceId = fx.instance }
  end, "InvalidOperation.InvalidEniState" },
}

-- Permissions -------------------------------------------------------------------------------

-- The accounts of the emulator's keys (keys without one share the default account).
local function accounts(emu)
  local set = {}
  for id in pairs(emu.keys) do
    local acc = emu:account_of(id)
    if acc then set[acc] = true end
  end
  return set
end

local permission = {
  name = "eni_permission", product = "ecs", id = "NetworkInterfacePermissionId", prefix = "eni-perm", scope = "region",
  id_length = 18, fields = {},
}

permission.actions = {
  CreateNetworkInterfacePermission = {
    op = "custom", honours = { "NetworkInterfaceId", "AccountId", "Permission" },
    handler = function(emu, a, ctx)
      local region = engine.region(emu, a)
      local e = engine.find(ctx, "eni", a:need("NetworkInterfaceId"), region)
      local what = a:enum("Permission", { "InstanceAttach" })
      local account = a:need("AccountId")
      if account == ctx.world.account then
        errors.invalid("AccountId", nil, nil, "The network interface already belongs to this account.")
      end
      if not accounts(emu)[account] then
        errors.invalid("AccountId", nil, nil, "The account \"" .. account .. "\" does not exist.")
      end
      for _, p in ipairs(engine.list(ctx, "eni_permission", function(p)
        return p.NetworkInterfaceId == e.NetworkInterfaceId and p.AccountId == tonumber(account) and p.Permission == what
      end)) do
        errors.invalid("AccountId", nil, nil, "The permission " .. p.NetworkInterfacePermissionId .. " already grants it.")
      end
      engine.commit(a)
      local p = engine.store(ctx, engine.record(emu, ctx, permission, { RegionId = region,
        NetworkInterfaceId = e.NetworkInterfaceId, AccountId = tonumber(account), Permission = what,
        PermissionState = "Granted" }))
      return { NetworkInterfacePermission = p }
    end,
  },
  DescribeNetworkInterfacePermissions = {
    op = "describe", page_max = 100,
    ids = { NetworkInterfacePermissionId = "NetworkInterfacePermissionId" },
    filters = { NetworkInterfaceId = "NetworkInterfaceId" },
    prepare = function(_, a)
      if not a:has("NetworkInterfaceId") and not a:has_list("NetworkInterfacePermissionId") then
        raise("MissingParameter", "The input parameter \"NetworkInterfaceId\" or \"NetworkInterfacePermissionId.N\" that "
          .. "is mandatory for processing this request is not supplied.")
      end
      if #a:strings("NetworkInterfacePermissionId") > 100 then
        errors.invalid("NetworkInterfacePermissionId", nil, nil, "At most 100 permission ids in one call.")
      end
    end,
  },
  DeleteNetworkInterfacePermission = {
    op = "custom", honours = { "NetworkInterfacePermissionId", "Force" },
    handler = function(emu, a, ctx)
      local region = engine.region(emu, a)
      local id = a:need("NetworkInterfacePermissionId")
      local p = engine.get(ctx, "eni_permission", id)
      if not p or p.RegionId ~= region then
        errors.invalid("NetworkInterfacePermissionId", nil, nil, "The permission \"" .. id .. "\" does not exist.")
      end
      -- Force matters only while the grantee has the interface attached, which the emulator
      -- does not emulate across accounts: read, it changes nothing here
      a:bool("Force", false)
      engine.commit(a)
      engine.remove(emu, ctx, p)
      return {}
    end,
  },
}

return { eni, permission }
