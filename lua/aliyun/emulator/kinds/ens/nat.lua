-- ENS NAT gateways: in a network of an edge node (and a vSwitch of it), Creating ->
-- Running after ens_nat_create; EIPs associated with one are its IpLists. A gateway with
-- EIPs is deleted only with ForceDelete (which unassociates them).
local common = require "aliyun.emulator.kinds.ens.common"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"

local raise = errors.raise

local function eips_of(ctx, id)
  return engine.list(ctx, "ens_eip", function(e) return e.InstanceId == id and e.InstanceType == "Nat" end)
end

local nat = {
  name = "ens_nat", product = "ens", id = "NatGatewayId", prefix = "nat", id_length = 25, scope = "ens",
  name_field = "Name", not_found = "InvalidParameter.NatGatewayId", state_code = "IncorrectNatStatus",
  error_status = 400,
  fields = { Name = common.name("Name") },
  view = function(_, rec, ctx)
    local ips = {}
    for i, e in ipairs(eips_of(ctx, rec.NatGatewayId)) do
      ips[i] = { AllocationId = e.AllocationId, IpAddress = e.IpAddress, UsingStatus = "Idle" }
    end
    return { IpLists = ips }
  end,
  roundtrip = {
    setup = function(fx, call) common.roundtrip_network(fx, call, 8) end,
    create = { "CreateNatGateway", function(fx) return { EnsRegionId = fx.ens_region, NetworkId = fx.ens_network,
      VSwitchId = fx.ens_vswitch, InstanceType = "enat.default", Name = "rtnat" } end },
    id = function(answer) return answer.NatGatewayId end,
    ready = { "Status", "Running" },
    describe = { "DescribeNatGateways", function(_, id) return { NatGatewayId = id } end },
    delete = { "DeleteNatGateway", function(_, id) return { NatGatewayId = id } end },
    not_found = "InvalidParameter.NatGatewayId",
    wrong_state = { "DeleteNatGateway", function(_, id) return { NatGatewayId = id } end, "IncorrectNatStatus" },
  },
}

nat.actions = {
  CreateNatGateway = common.create {
    status = "Creating", ready = { after = "ens_nat_create", Status = "Running" },
    refs = { NetworkId = "ens_network", VSwitchId = "ens_vswitch" }, refs_required = { NetworkId = true, VSwitchId = true },
    honours = { "InstanceType" },
    ignores = { InstanceBillingCycle = "billing: the billing cycle has no effect in the emulator" },
    before = function(_, a, ctx, rec)
      rec.Spec = a:enum("InstanceType", { "enat.default" }, "enat.default", "InvalidParameter.InstanceType")
      local net = engine.get(ctx, "ens_network", rec.NetworkId)
      local vsw = engine.get(ctx, "ens_vswitch", rec.VSwitchId)
      if net.EnsRegionId ~= rec.EnsRegionId then common.bad_field("NetworkId", "The network is on the node " .. net.EnsRegionId .. ".") end
      if vsw.NetworkId ~= net.NetworkId then common.bad_field("VSwitchId", "The vSwitch is not in the network.") end
      if vsw.Status ~= "Available" then raise("IncorrectVSwitchStatus", nil, 400) end
      rec.private_ip = engine.kinds.ens_vswitch.allocate(ctx, vsw)
      rec.Name = rec.Name or ""
    end,
    answer = function(_, _, rec) return { NatGatewayId = rec.NatGatewayId } end,
  },
  DescribeNatGateways = common.describe {
    ids = { NatGatewayIds = "NatGatewayId" }, page_max = 100,
    filters = { NatGatewayId = "NatGatewayId", Name = "Name", NetworkId = "NetworkId", VSwitchId = "VSwitchId" },
  },
  DeleteNatGateway = {
    op = "delete", states = { "Running" }, honours = { "ForceDelete" },
    before = function(emu, a, ctx, rec)
      local force = a:bool("ForceDelete", false)
      local eips = eips_of(ctx, rec.NatGatewayId)
      if #eips > 0 and not force then
        common.refuse("the NAT gateway has EIPs; unassociate them first or delete it with ForceDelete")
      end
      for _, e in ipairs(eips) do
        engine.later(emu, ctx, e, 0, { Status = "Available", InstanceId = "", InstanceType = "", Standby = false })
      end
    end,
  },
}

return nat
