-- ENS edge load balancers (ELB): in a vSwitch of a network of an edge node, with an address
-- of the vSwitch, Active once made; backend servers are Running ENS instances of the same
-- network (AddBackendServers, at most 20 a call; RemoveBackendServers). DescribeLoadBalancers
-- lists them (beside the ENS table, for the round trip). ReleaseInstance, the
-- service's action for releasing EIPs and load balancers, releases them.
local common = require "aliyun.emulator.kinds.ens.common"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"

local raise = errors.raise
local bad_field = common.bad_field

local SPECS = { "elb.s1.small", "elb.s2.small", "elb.s2.medium", "elb.s3.small", "elb.s3.medium", "elb.s3.large" }

local lb = {
  name = "ens_lb", product = "ens", id = "LoadBalancerId", prefix = "lb", id_length = 25, scope = "ens",
  name_field = "LoadBalancerName", not_found = "InvalidParameter.LoadBalancerId", error_status = 400,
  status = "LoadBalancerStatus",
  fields = {
    LoadBalancerName = common.name("LoadBalancerName"),
    LoadBalancerSpec = { enum = SPECS, code = "InvalidParameter.LoadBalancerSpec" },
  },
  view = function(_, rec)
    -- DescribeLoadBalancerAttribute shows a backend's Port as a string
    local shown = json.array {}
    for i, b in ipairs(rec.backends) do
      shown[i] = { ServerId = b.ServerId, Ip = b.Ip, Port = b.Port and tostring(b.Port) or nil, Type = b.Type,
        Weight = b.Weight }
    end
    return { BackendServers = shown, CreateTime = rec.CreationTime }
  end,
  roundtrip = {
    setup = function(fx, call) common.roundtrip_network(fx, call, 9) end,
    create = { "CreateLoadBalancer", function(fx) return { EnsRegionId = fx.ens_region, NetworkId = fx.ens_network,
      VSwitchId = fx.ens_vswitch, LoadBalancerSpec = "elb.s1.small", PayType = "PayAsYouGo" } end },
    id = function(answer) return answer.LoadBalancerId end,
    describe = { "DescribeLoadBalancers", function(_, id) return { LoadBalancerId = id } end },
    modify = { "ModifyLoadBalancerAttribute", function(_, id) return { LoadBalancerId = id,
      LoadBalancerName = "renamed" } end, "LoadBalancerName", "renamed" },
    delete = { "ReleaseInstance", function(_, id) return { InstanceId = id } end },
    not_found = "InvalidParameter.LoadBalancerId",
  },
}

local function find(a, ctx)
  return common.find(ctx, "ens_lb", a:need("LoadBalancerId"))
end

-- The servers of a call (a JSON list of {ServerId, Weight, Type, Ip, Port}), each checked.
local function servers(a, ctx, rec, adding)
  local list = common.objects(a, "BackendServers")
  if not list or #list == 0 then errors.missing("BackendServers") end
  if #list > 20 then bad_field("BackendServers", "At most 20 backend servers a call.") end
  local out = {}
  for i, s in ipairs(list) do
    local id = s.ServerId
    if type(id) ~= "string" or id == "" then bad_field("BackendServers", "Each server needs a ServerId.") end
    local b = { ServerId = id, Type = s.Type or "ens", Ip = s.Ip, Port = s.Port and tonumber(s.Port) }
    if b.Type ~= "ens" then bad_field("BackendServers", "Type must be ens.") end
    if s.Port ~= nil and (not b.Port or b.Port < 1 or b.Port > 65535) then
      bad_field("BackendServers", "Port must be 1 to 65535.")
    end
    if adding then
      local w = tonumber(s.Weight or 100)
      if not w or w ~= math.floor(w) or w < 0 or w > 100 then bad_field("BackendServers", "Weight must be 0 to 100.") end
      b.Weight = math.floor(w)
      local inst = common.find(ctx, "ens_instance", id, "InstanceNotFound")
      if inst.Status ~= "Running" then raise("IncorrectInstanceStatus", nil, 400) end
      if inst.NetworkId ~= rec.NetworkId then
        bad_field("BackendServers", "The instance " .. id .. " is not in the load balancer's network.")
      end
      b.Ip = b.Ip or inst.private_ip
    end
    out[i] = b
  end
  return out
end

local function same(x, y)
  return x.ServerId == y.ServerId and (x.Port == nil or y.Port == nil or x.Port == y.Port)
end

local function answer(rec)
  local list = json.array {}
  for i, b in ipairs(rec.backends) do list[i] = b end
  return { BackendServers = { BackendServer = list } }
end

lb.actions = {
  CreateLoadBalancer = common.create {
    refs = { NetworkId = "ens_network", VSwitchId = "ens_vswitch" }, refs_required = { NetworkId = true, VSwitchId = true },
    honours = { "PayType" },
    ignores = { BillingCycle = "billing: the billing cycle has no effect in the emulator" },
    before = function(_, a, ctx, rec)
      rec.PayType = a:enum("PayType", { "PayAsYouGo" }, nil, "InvalidParameter.PayType")
      if not rec.LoadBalancerSpec then errors.missing("LoadBalancerSpec") end
      local net = engine.get(ctx, "ens_network", rec.NetworkId)
      local vsw = engine.get(ctx, "ens_vswitch", rec.VSwitchId)
      if net.EnsRegionId ~= rec.EnsRegionId then bad_field("NetworkId", "The network is on the node " .. net.EnsRegionId .. ".") end
      if vsw.NetworkId ~= net.NetworkId then bad_field("VSwitchId", "The vSwitch is not in the network.") end
      if vsw.Status ~= "Available" then raise("IncorrectVSwitchStatus", nil, 400) end
      rec.private_ip = engine.kinds.ens_vswitch.allocate(ctx, vsw)
      rec.Address, rec.AddressIPVersion = rec.private_ip, "ipv4"
      rec.LoadBalancerName = rec.LoadBalancerName or rec.LoadBalancerId
      rec.LoadBalancerStatus = "Active"
      rec.ListenerPorts, rec.ListenerPortsAndProtocols, rec.backends = {}, {}, {}
    end,
    answer = function(_, _, rec)
      return { LoadBalancerId = rec.LoadBalancerId, LoadBalancerName = rec.LoadBalancerName, NetworkId = rec.NetworkId,
        VSwitchId = rec.VSwitchId }
    end,
  },
  DescribeLoadBalancerAttribute = { op = "get" },
  -- beside the ENS table of ACTIONS.md: the list the round trip describes load balancers with
  DescribeLoadBalancers = common.describe {
    page_max = 100,
    filters = {
      LoadBalancerId = "LoadBalancerId", LoadBalancerName = "LoadBalancerName", Address = "Address",
      LoadBalancerStatus = "LoadBalancerStatus", LoadBalancerType = "LoadBalancerType", NetworkId = "NetworkId",
      VSwitchId = "VSwitchId",
      ServerId = { match = function(rec, v)
        for _, b in ipairs(rec.backends) do
          if b.ServerId == v then return true end
        end
        return false
      end },
    },
  },
  ModifyLoadBalancerAttribute = { op = "modify", fields = { "LoadBalancerName" } },
  AddBackendServers = {
    op = "custom", honours = { "LoadBalancerId", "BackendServers" },
    handler = function(_, a, ctx)
      local rec = find(a, ctx)
      local add = servers(a, ctx, rec, true)
      engine.commit(a)
      for _, b in ipairs(add) do
        local found = false
        for _, have in ipairs(rec.backends) do
          if same(have, b) then have.Weight, have.Port, have.Ip, found = b.Weight, b.Port or have.Port, b.Ip, true end
        end
        if not found then rec.backends[#rec.backends + 1] = b end
      end
      return answer(rec)
    end,
  },
  RemoveBackendServers = {
    op = "custom", honours = { "LoadBalancerId", "BackendServers" },
    handler = function(_, a, ctx)
      local rec = find(a, ctx)
      local drop = servers(a, ctx, rec, false)
      engine.commit(a)
      local keep = {}
      for _, have in ipairs(rec.backends) do
        local gone = false
        for _, b in ipairs(drop) do
          if same(have, b) then gone = true end
        end
        if not gone then keep[#keep + 1] = have end
      end
      rec.backends = keep
      return answer(rec)
    end,
  },
  -- ENS releases EIPs and load balancers with one action; the EIP's own is DeleteEip.
  ReleaseInstance = {
    op = "custom", honours = { "InstanceId" },
    handler = function(emu, a, ctx)
      local id = a:need("InstanceId")
      local rec = engine.get(ctx, "ens_lb", id)
      local eip = engine.get(ctx, "ens_eip", id)
      if eip then
        if eip.Status ~= "Available" then raise("IncorrectEipStatus", nil, 400) end
        rec = eip
      end
      if not rec then bad_field("InstanceId", "The instance " .. id .. " does not exist.") end
      engine.commit(a)
      engine.remove(emu, ctx, rec)
      return {}
    end,
  },
}

-- A released load balancer's EIPs are unassociated.
function lb.on_delete(emu, ctx, rec)
  for _, e in ipairs(engine.list(ctx, "ens_eip", function(e) return e.InstanceId == rec.LoadBalancerId end)) do
    engine.later(emu, ctx, e, 0, { Status = "Available", InstanceId = "", InstanceType = "", Standby = false })
  end
end

return lb
