-- ENS networks and vSwitches. A network lies on an edge node (EnsRegionId) with a private
-- CIDR block; a vSwitch lies in a network of the same node, inside its block and without
-- overlapping the network's other vSwitches. Both are Pending for a while (ens_network_create,
-- ens_vswitch_create). A network with vSwitches, or a vSwitch with instances, load balancers
-- or NAT gateways in it, cannot be deleted.
local cidr = require "aliyun.emulator.cidr"
local common = require "aliyun.emulator.kinds.ens.common"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"

local function in_vswitch(ctx, kind, vsw_id)
  return engine.list(ctx, kind, function(r) return r.VSwitchId == vsw_id end)
end

local function ids_of(list, field)
  local out = {}
  for i, r in ipairs(list) do out[i] = r[field] end
  return out
end

-- The private addresses taken in a vSwitch (instances, load balancers, NAT gateways).
local function used_ips(ctx, vsw_id)
  local used = {}
  for _, kind in ipairs { "ens_instance", "ens_lb", "ens_nat" } do
    for _, r in ipairs(in_vswitch(ctx, kind, vsw_id)) do
      if r.private_ip then used[r.private_ip] = true end
    end
  end
  return used
end

local network = {
  name = "ens_network", product = "ens", id = "NetworkId", prefix = "n", id_length = 24, scope = "ens",
  name_field = "NetworkName", not_found = "InvalidNetworkId.NotFound", error_status = 400,
  fields = {
    NetworkName = common.name("NetworkName"),
    Description = common.description(),
    CidrBlock = { check = "cidr", code = "InvalidParameter.CidrBlock" },
  },
  view = function(_, rec, ctx)
    local vsws = engine.list(ctx, "ens_vswitch", function(v) return v.NetworkId == rec.NetworkId end)
    return { VSwitchIds = ids_of(vsws, "VSwitchId"), RouteTableIds = { rec.RouteTableId }, SecondaryCidrBlocks = {},
      CreatedTime = rec.CreationTime }
  end,
  roundtrip = {
    create = { "CreateNetwork", function(fx) return { EnsRegionId = fx.ens_region, CidrBlock = "10.0.0.0/16" } end },
    id = function(answer) return answer.NetworkId end,
    ready = { "Status", "Available" },
    describe = { "DescribeNetworks", function(_, id) return { NetworkId = id } end },
    modify = { "ModifyNetworkAttribute", function(_, id) return { NetworkId = id, NetworkName = "renamed" } end,
      "NetworkName", "renamed" },
    delete = { "DeleteNetwork", function(_, id) return { NetworkId = id } end },
    not_found = "InvalidNetworkId.NotFound",
    wrong_state = { "DeleteNetwork", function(_, id) return { NetworkId = id } end, "IncorrectNetworkStatus" },
  },
}

local vswitch = {
  name = "ens_vswitch", product = "ens", id = "VSwitchId", prefix = "vsw", id_length = 24, scope = "ens",
  name_field = "VSwitchName", not_found = "InvalidParameter.VSwitchId", error_status = 400,
  fields = {
    VSwitchName = common.name("VSwitchName"),
    Description = common.description(),
    CidrBlock = { check = "cidr", code = "InvalidParameter.CidrBlock" },
  },
  view = function(_, rec, ctx)
    local id = rec.VSwitchId
    local used = 0
    for _ in pairs(used_ips(ctx, id)) do used = used + 1 end
    return {
      InstanceIds = ids_of(in_vswitch(ctx, "ens_instance", id), "InstanceId"),
      LoadBalancerIds = ids_of(in_vswitch(ctx, "ens_lb", id), "LoadBalancerId"),
      NatGatewayIds = ids_of(in_vswitch(ctx, "ens_nat", id), "NatGatewayId"),
      NetworkInterfaceIds = {}, HaVipIds = {},
      AvailableIpAddressCount = math.max(0, cidr.size(rec.CidrBlock) - 4 - used),
      CreatedTime = rec.CreationTime,
    }
  end,
  roundtrip = {
    setup = function(fx, call)
      fx.ens_network = call("CreateNetwork", { EnsRegionId = fx.ens_region, CidrBlock = "192.168.0.0/16" }).NetworkId
    end,
    create = { "CreateVSwitch", function(fx) return { EnsRegionId = fx.ens_region, NetworkId = fx.ens_network,
      CidrBlock = "192.168.200.0/24" } end },
    id = function(answer) return answer.VSwitchId end,
    ready = { "Status", "Available" },
    describe = { "DescribeVSwitchAttributes", function(_, id) return { VSwitchId = id } end },
    modify = { "ModifyVSwitchAttribute", function(_, id) return { VSwitchId = id, VSwitchName = "renamed" } end,
      "VSwitchName", "renamed" },
    delete = { "DeleteVSwitch", function(_, id) return { VSwitchId = id } end },
    not_found = "InvalidParameter.VSwitchId",
    wrong_state = { "DeleteVSwitch", function(_, id) return { VSwitchId = id } end, "IncorrectVSwitchStatus" },
  },
}

-- DeleteNetwork's refusals are the published DependencyViolation.* codes; DeleteVSwitch
-- publishes none for a vSwitch in use, so it answers the ENS form of a request that cannot be
-- carried out (InvalidParameter with the reason).
network.actions = {
  CreateNetwork = common.create {
    status = "Pending", ready = { after = "ens_network_create", Status = "Available" }, limit = 50,
    limit_code = "InvalidParameter",
    before = function(emu, _, _, rec)
      if not rec.CidrBlock then errors.missing("CidrBlock") end
      if not cidr.private(rec.CidrBlock) then
        common.bad_field("CidrBlock", "It must lie within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 with a prefix "
          .. "length of 8 to 28.")
      end
      rec.NetworkName = rec.NetworkName or ""
      rec.Description = rec.Description or ""
      rec.RouteTableId = emu.ids:resource("rt", 24)
      rec.RouterTableId = rec.RouteTableId
      rec.GatewayRouteTableId = emu.ids:resource("rt", 24)
      rec.NetworkAclId = emu.ids:resource("nacl", 24)
    end,
    answer = function(_, _, rec) return { NetworkId = rec.NetworkId } end,
  },
  DescribeNetworks = common.describe {
    ids = { NetworkIds = "NetworkId" }, page_max = 100,
    filters = { NetworkId = "NetworkId", NetworkName = { field = "NetworkName", match = "like" } },
  },
  ModifyNetworkAttribute = { op = "modify", fields = { "NetworkName", "Description" }, states = { "Available" },
    state_code = "IncorrectNetworkStatus" },
  DeleteNetwork = {
    op = "delete", states = { "Available" }, state_code = "IncorrectNetworkStatus",
    dependents = {
      { kind = "ens_vswitch", field = "NetworkId", code = "DependencyViolation.VSwitch",
        message = "Specified network has vswitch." },
      { kind = "ens_nat", field = "NetworkId", code = "DependencyViolation.NAT", message = "Specified network has nat instance." },
      { kind = "ens_instance", field = "NetworkId", code = "DependencyViolation.CloudInstance",
        message = "Specified network has nat cloud instance." },
      { kind = "ens_lb", field = "NetworkId", code = "DependencyViolation.CloudInstance",
        message = "Specified network has nat cloud instance." },
    },
  },
}

vswitch.actions = {
  CreateVSwitch = common.create {
    status = "Pending", ready = { after = "ens_vswitch_create", Status = "Available" },
    refs = { NetworkId = "ens_network" }, refs_required = { NetworkId = true },
    before = function(_, _, ctx, rec)
      local n = engine.get(ctx, "ens_network", rec.NetworkId)
      if n.EnsRegionId ~= rec.EnsRegionId then
        common.bad_field("NetworkId", "The network is on the edge node " .. n.EnsRegionId .. ".")
      end
      if n.Status ~= "Available" then errors.raise("IncorrectNetworkStatus", nil, 400) end
      if not rec.CidrBlock then errors.missing("CidrBlock") end
      local _, len = cidr.parse(rec.CidrBlock)
      if not cidr.contains(n.CidrBlock, rec.CidrBlock) or len < 16 or len > 29 then
        common.bad_field("CidrBlock", "It must lie within the network's block " .. n.CidrBlock
          .. " with a prefix length of 16 to 29.")
      end
      for _, other in ipairs(engine.list(ctx, "ens_vswitch", function(v) return v.NetworkId == n.NetworkId end)) do
        if cidr.overlaps(other.CidrBlock, rec.CidrBlock) then
          common.bad_field("CidrBlock", "It overlaps the vSwitch " .. other.VSwitchId .. ".")
        end
      end
      rec.VSwitchName = rec.VSwitchName or ""
      rec.Description = rec.Description or ""
    end,
    answer = function(_, _, rec) return { VSwitchId = rec.VSwitchId } end,
  },
  DescribeVSwitchAttributes = { op = "get" },
  ModifyVSwitchAttribute = { op = "modify", fields = { "VSwitchName", "Description" }, states = { "Available" },
    state_code = "IncorrectVSwitchStatus" },
  DeleteVSwitch = {
    op = "delete", states = { "Available" }, state_code = "IncorrectVSwitchStatus",
    dependents = {
      { kind = "ens_instance", field = "VSwitchId", code = "InvalidParameter", message = "The errorMessage is the "
        .. "vSwitch still has instances; release them first. Please check it again." },
      { kind = "ens_lb", field = "VSwitchId", code = "InvalidParameter", message = "The errorMessage is the "
        .. "vSwitch still has load balancers; release them first. Please check it again." },
      { kind = "ens_nat", field = "VSwitchId", code = "InvalidParameter", message = "The errorMessage is the "
        .. "vSwitch still has NAT gateways; delete them first. Please check it again." },
    },
  },
}

-- The next free private address of a vSwitch (or the one asked for, checked).
function vswitch.allocate(ctx, vsw, want)
  local used = used_ips(ctx, vsw.VSwitchId)
  if want then
    if not cidr.has(vsw.CidrBlock, want) then
      common.bad_field("PrivateIpAddress", "It is not in the vSwitch's block " .. vsw.CidrBlock .. ".")
    end
    if used[want] then common.bad_field("PrivateIpAddress", "It is already in use.") end
    return want
  end
  local ip = cidr.next_free(vsw.CidrBlock, used)
  if not ip then common.refuse("the vSwitch has no free private IP address left") end
  return ip
end

return { network, vswitch }
