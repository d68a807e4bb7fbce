-- ENS elastic IP addresses: an address of an edge node (Creating -> Available after
-- ens_eip_create), associated with an instance, a NAT gateway or a load balancer of the same
-- node (Associating -> InUse after ens_eip_associate) and unassociated again (Unassociating
-- -> Available after ens_eip_unassociate). Only an Available EIP is released (DeleteEip).
local common = require "aliyun.emulator.kinds.ens.common"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"

local raise = errors.raise
local bad_field, refuse = common.bad_field, common.refuse

-- The kinds an EIP goes with, by InstanceType (NetworkInterface and NatSlbInstance: ENS
-- network interfaces and multi-EIP load balancers are not emulated).
local TARGETS = { EnsInstance = "ens_instance", Nat = "ens_nat", SlbInstance = "ens_lb" }

local eip = {
  name = "ens_eip", product = "ens", id = "AllocationId", prefix = "eip", id_length = 25, scope = "ens",
  name_field = "Name", not_found = "InvalidParameter.AllocationId", state_code = "IncorrectEipStatus",
  error_status = 400,
  fields = {
    Name = common.name("Name"),
    Description = common.description(),
    Bandwidth = { min = 1, max = 10000, code = "InvalidParameter.Bandwidth", default = 5 },
  },
  roundtrip = {
    create = { "CreateEipInstance", function(fx) return { EnsRegionId = fx.ens_region, InstanceChargeType = "PostPaid",
      InternetChargeType = "95BandwidthByMonth" } end },
    id = function(answer) return answer.AllocationId end,
    ready = { "Status", "Available" },
    describe = { "DescribeEnsEipAddresses", function(_, id) return { AllocationId = id } end },
    modify = { "ModifyEnsEipAddressAttribute", function(_, id) return { AllocationId = id, Name = "renamed" } end,
      "Name", "renamed" },
    delete = { "DeleteEip", function(_, id) return { InstanceId = id } end },
    not_found = "InvalidParameter.AllocationId",
    wrong_state = { "DeleteEip", function(_, id) return { InstanceId = id } end, "IncorrectEipStatus" },
  },
}

local function find(a, ctx)
  return common.find(ctx, "ens_eip", a:need("AllocationId"))
end

eip.actions = {
  CreateEipInstance = common.create {
    status = "Creating", ready = { after = "ens_eip_create", Status = "Available" },
    honours = { "InstanceChargeType", "InternetChargeType", "Isp", "IpAddress" },
    before = function(_, a, ctx, rec)
      rec.ChargeType = a:enum("InstanceChargeType", { "PostPaid" }, nil, "InvalidParameter.InstanceChargeType")
      rec.InternetChargeType = a:enum("InternetChargeType", { "95BandwidthByMonth", "PayByBandwidth4thMonth",
        "PayByBandwidth" }, nil, "InvalidParameter.InternetChargeType")
      local node = engine.get(ctx, "ens_node", rec.EnsRegionId)
      rec.Isp = a:enum("Isp", { "cmcc", "unicom", "telecom" }, node.isp, "InvalidParameter.Isp")
      local ip = a:str("IpAddress")
      if ip then
        if not ip:match("^%d+%.%d+%.%d+%.%d+$") then bad_field("IpAddress", "It must be an IPv4 address.") end
        for _, other in ipairs(engine.list(ctx, "ens_eip")) do
          if other.IpAddress == ip then bad_field("IpAddress", "It is allocated already.") end
        end
      end
      rec.IpAddress = ip or common.public_ip(ctx, rec.EnsRegionId)
      rec.Name, rec.Description = rec.Name or "", rec.Description or ""
      rec.InstanceId, rec.InstanceType, rec.Standby, rec.IcmpReplyEnabled = "", "", false, true
      rec.IpStatus = "Normal"
      rec.AllocationTime = rec.CreationTime
    end,
    answer = function(_, _, rec) return { AllocationId = rec.AllocationId } end,
  },
  DescribeEnsEipAddresses = common.describe {
    page_max = 100,
    filters = {
      AllocationId = "AllocationId", AssociatedInstanceId = "InstanceId", AssociatedInstanceType = "InstanceType",
      EipAddress = "IpAddress", EipName = "Name", IcmpReplyEnabled = "IcmpReplyEnabled",
      Standby = { match = function(rec, v)
        if v ~= "true" and v ~= "false" then bad_field("Standby", "It must be true or false.") end
        return rec.Standby == (v == "true")
      end },
    },
  },
  ModifyEnsEipAddressAttribute = { op = "modify", by = "AllocationId", fields = { "Name", "Description", "Bandwidth" } },
  AssociateEnsEipAddress = {
    op = "custom", honours = { "AllocationId", "InstanceId", "InstanceType", "Standby" },
    handler = function(emu, a, ctx)
      local rec = find(a, ctx)
      local itype = a:enum("InstanceType", { "EnsInstance", "Nat", "SlbInstance", "NetworkInterface", "NatSlbInstance" },
        "EnsInstance", "InvalidParameter.InstanceType")
      local kind = TARGETS[itype]
      if not kind then
        raise("UnsupportedParameter.NotEmulated", "The InstanceType " .. itype .. " of AssociateEnsEipAddress is not "
          .. "emulated by the lua-aliyun emulator (ENS network interfaces and multi-EIP load balancers are not).")
      end
      local target = common.find(ctx, kind, a:need("InstanceId"), "InstanceNotFound")
      local standby = a:bool("Standby", false)
      if rec.Status ~= "Available" then raise("IncorrectEipStatus", nil, 400) end
      if target.EnsRegionId ~= rec.EnsRegionId then
        bad_field("InstanceId", "The EIP and the instance must be on the same node.")
      end
      if kind == "ens_instance" then
        if target.Status ~= "Running" and target.Status ~= "Stopped" then raise("IncorrectInstanceStatus", nil, 400) end
        if engine.list(ctx, "ens_eip", function(e) return e.InstanceId == target.InstanceId end)[1] then
          refuse("the instance has an EIP already")
        end
      end
      engine.commit(a)
      rec.Status, rec.InstanceId, rec.InstanceType, rec.Standby = "Associating", a:str("InstanceId"), itype, standby
      engine.later(emu, ctx, rec, emu.delays.ens_eip_associate or 0, { Status = "InUse" })
      return {}
    end,
  },
  UnAssociateEnsEipAddress = {
    op = "custom", honours = { "AllocationId" },
    ignores = { Force = "the emulator keeps no SNAT or DNAT entries that would hold an EIP" },
    handler = function(emu, a, ctx)
      local rec = find(a, ctx)
      if rec.Status ~= "InUse" then raise("IncorrectEipStatus", nil, 400) end
      engine.commit(a)
      rec.Status = "Unassociating"
      engine.later(emu, ctx, rec, emu.delays.ens_eip_unassociate or 0,
        { Status = "Available", InstanceId = "", InstanceType = "", Standby = false })
      return {}
    end,
  },
  DeleteEip = { op = "delete", by = "InstanceId", states = { "Available" } },
}

return eip
