-- VPCs and vSwitches (ECS 2014-05-26 still serves CreateVpc, CreateVSwitch and their kin,
-- with the VPC service's error codes). A VPC is Pending for `vpc_create` seconds, a vSwitch
-- for `vswitch_create`; a vSwitch lies in a zone of its VPC's region and inside the VPC's
-- CIDR block (prefix 16 to 29), without overlapping the VPC's other vSwitches, at most 150
-- in a VPC; a VPC with vSwitches or security groups (DependencyViolation.VSwitch,
-- .SecurityGroup), or a vSwitch with instances or network interfaces (DependencyViolation),
-- cannot be deleted.
local cidr = require "aliyun.emulator.cidr"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"

local raise = errors.raise

local function vswitches_of(ctx, vpc_id)
  return engine.list(ctx, "vswitch", function(v) return v.VpcId == vpc_id end)
end

-- The published limits (CreateVpc, CreateVSwitch).
local MAX_USER_CIDRS, MAX_VSWITCHES = 3, 150

-- UserCidr: up to three CIDR blocks, comma-separated (CreateVpc, ModifyVpcAttribute).
local function user_cidrs(text)
  local list = {}
  for block in tostring(text):gmatch("[^,]+") do
    block = block:match("^%s*(.-)%s*$")
    if not engine.CHECKS.cidr(block) then
      raise("InvalidParameter", "Specified UserCidr invalid format: \"" .. block .. "\".")
    end
    list[#list + 1] = block
  end
  if #list > MAX_USER_CIDRS then raise("InvalidUserCidr.Quota") end
  return list
end

local function check_vpc_cidr(block, code)
  if not (engine.CHECKS.cidr(block) and cidr.private(block)) then
    raise(code, "Specified CIDR block is not valid: a VPC's CIDR block lies within 10.0.0.0/8, 172.16.0.0/12 or "
      .. "192.168.0.0/16.")
  end
end

local vpc = {
  name = "vpc", product = "ecs", id = "VpcId", prefix = "vpc", scope = "region", name_field = "VpcName",
  not_found = "InvalidVpcId.NotFound", state_code = "IncorrectVpcStatus",
  roundtrip = {
    create = { "CreateVpc", function(fx) return { RegionId = fx.region, CidrBlock = "10.0.0.0/16" } end },
    wrong_state = { "DeleteVpc", function(fx, id) return { RegionId = fx.region, VpcId = id } end, "IncorrectVpcStatus" },
    ready = { "Status", "Available" },
    describe = { "DescribeVpcs", function(fx, id) return { RegionId = fx.region, VpcId = id } end },
    modify = { "ModifyVpcAttribute", function(_, id) return { VpcId = id, VpcName = "renamed" } end, "VpcName", "renamed" },
    delete = { "DeleteVpc", function(fx, id) return { RegionId = fx.region, VpcId = id } end },
    not_found = "InvalidVpcId.NotFound",
  },
  fields = {
    VpcName = { check = "name", code = "InvalidVpcName.Malformed", default = "" },
    Description = { check = "description", code = "InvalidVpcDiscription.Malformed", default = "" },
    -- the CIDR blocks are checked by the actions: CreateVpc and ModifyVpcAttribute name a bad
    -- one with different codes (InvalidParameter, InvalidCidrBlock.Malformed)
    CidrBlock = { default = "172.16.0.0/12" },
    UserCidr = {},
  },
  view = function(_, rec, ctx)
    local ids = {}
    for i, v in ipairs(vswitches_of(ctx, rec.VpcId)) do ids[i] = v.VSwitchId end
    return { VSwitchIds = ids, UserCidrs = rec.UserCidr and user_cidrs(rec.UserCidr) or {} }
  end,
  actions = {
    CreateVpc = {
      op = "create", status = "Pending", ready = { after = "vpc_create", Status = "Available" },
      limit = 10, limit_code = "QuotaExceeded.Vpc",
      before = function(emu, _, _, rec)
        check_vpc_cidr(rec.CidrBlock, "InvalidParameter")
        if rec.UserCidr then user_cidrs(rec.UserCidr) end
        rec.IsDefault = false
        rec.VRouterId = emu.ids:resource("vrt")
        rec.RouteTableId = emu.ids:resource("vtb")
      end,
    },
    DescribeVpcs = { op = "describe", ids = { VpcId = "VpcId" }, filters = { IsDefault = "IsDefault" }, page_max = 50 },
    ModifyVpcAttribute = {
      op = "modify", fields = { "VpcName", "Description", "CidrBlock", "UserCidr" }, need_change = true,
      states = { "Available" },
      before = function(_, _, ctx, rec, old)
        if rec.CidrBlock ~= old.CidrBlock then
          check_vpc_cidr(rec.CidrBlock, "InvalidCidrBlock.Malformed")
          for _, v in ipairs(vswitches_of(ctx, rec.VpcId)) do
            if not cidr.contains(rec.CidrBlock, v.CidrBlock) then
              raise("InvalidCidrBlock.Malformed", "The new CIDR block must contain the CIDR blocks of the VPC's vSwitches.")
            end
          end
        end
        if rec.UserCidr ~= old.UserCidr then user_cidrs(rec.UserCidr) end
      end,
    },
    DeleteVpc = {
      op = "delete", states = { "Available" },
      dependents = {
        { kind = "vswitch", field = "VpcId", code = "DependencyViolation.VSwitch" },
        { kind = "security_group", field = "VpcId", code = "DependencyViolation.SecurityGroup" },
      },
    },
  },
}

local vswitch = {
  name = "vswitch", product = "ecs", id = "VSwitchId", prefix = "vsw", scope = "zone", name_field = "VSwitchName",
  not_found = "InvalidVSwitchId.NotFound", state_code = "IncorrectVSwitchStatus",
  roundtrip = {
    create = { "CreateVSwitch", function(fx)
      return { RegionId = fx.region, VpcId = fx.vpc, ZoneId = fx.zone, CidrBlock = "172.16.200.0/24" }
    end },
    wrong_state = { "DeleteVSwitch", function(_, id) return { VSwitchId = id } end, "IncorrectVSwitchStatus" },
    ready = { "Status", "Available" },
    describe = { "DescribeVSwitches", function(fx, id) return { RegionId = fx.region, VSwitchId = id } end },
    modify = { "ModifyVSwitchAttribute", function(_, id) return { VSwitchId = id, VSwitchName = "renamed" } end,
      "VSwitchName", "renamed" },
    delete = { "DeleteVSwitch", function(_, id) return { VSwitchId = id } end },
    not_found = "InvalidVSwitchId.NotFound",
  },
  fields = {
    VSwitchName = { check = "name", code = "InvalidVSwitchName.Malformed", default = "" },
    Description = { check = "description", code = "InvalidVSwitchDiscription.Malformed", default = "" },
    CidrBlock = { check = "cidr", code = "InvalidCidrBlock.Malformed" },
  },
  view = function(_, rec, ctx)
    -- what the instances and network interfaces in it leave free
    local used = 0
    for _, e in ipairs(engine.list(ctx, "eni", function(e) return e.VSwitchId == rec.VSwitchId end)) do
      used = used + 1 + #(e.SecondaryIps or {})
    end
    return { AvailableIpAddressCount = math.max(0, cidr.size(rec.CidrBlock) - 4 - used) }
  end,
  actions = {
    CreateVSwitch = {
      op = "create", status = "Pending", ready = { after = "vswitch_create", Status = "Available" },
      refs = { VpcId = "vpc" },
      before = function(_, a, ctx, rec)
        local v = engine.find(ctx, "vpc", a:need("VpcId"), rec.RegionId)
        if v.Status ~= "Available" then raise("IncorrectVpcStatus") end
        if not rec.CidrBlock then errors.missing("CidrBlock") end
        local _, len = cidr.parse(rec.CidrBlock)
        if len < 16 or len > 29 then
          raise("InvalidCirdrBlock.MaskLength", "Specified CIDR block is not valid: a vSwitch's prefix length is 16 to 29.")
        end
        if not cidr.contains(v.CidrBlock, rec.CidrBlock) then
          raise("InvalidParameter", "Specified CIDR block is not valid in VPC.")
        end
        local siblings = vswitches_of(ctx, v.VpcId)
        for _, other in ipairs(siblings) do
          if cidr.overlaps(other.CidrBlock, rec.CidrBlock) then
            raise("InvalidCidrBlock.Overlapped", "Specified CIDR block overlapped with other subnets: " .. other.VSwitchId
              .. " (" .. other.CidrBlock .. ").")
          end
        end
        if #siblings >= MAX_VSWITCHES then raise("QuotaExceeded.VSwitch") end
        rec.IsDefault = false
      end,
    },
    DescribeVSwitches = {
      op = "describe", scope = false, ids = { VSwitchId = "VSwitchId" },
      filters = { VpcId = "VpcId", IsDefault = "IsDefault" }, page_max = 50,
    },
    ModifyVSwitchAttribute = { op = "modify", fields = { "VSwitchName", "Description" }, need_change = true },
    DeleteVSwitch = {
      op = "delete", states = { "Available" },
      -- the published code is DependencyViolation with status 400 (DeleteSecurityGroup's is 403)
      before = function(_, _, ctx, rec)
        for _, kind in ipairs { "instance", "eni" } do
          if #engine.list(ctx, kind, function(r) return r.VSwitchId == rec.VSwitchId end) > 0 then
            raise("DependencyViolation", "Specified object has dependent resources: there are instances or network "
              .. "interfaces in the vSwitch.", 400)
          end
        end
      end,
    },
  },
}

-- The fixture: each region has a default VPC (172.16.0.0/12) with a default vSwitch in each
-- zone (172.16.0.0/20, 172.16.16.0/20, ...).
function vpc.fixture(emu, ctx)
  for _, r in ipairs(emu.regions:list()) do
    local v = engine.record(emu, ctx, vpc, { RegionId = r.RegionId, VpcName = "", Description = "",
      CidrBlock = "172.16.0.0/12", IsDefault = true, Status = "Available", VRouterId = emu.ids:resource("vrt"),
      RouteTableId = emu.ids:resource("vtb"), ResourceGroupId = emu.default_resource_group })
    engine.store(ctx, v)
    for i, z in ipairs(r.zones) do
      engine.store(ctx, engine.record(emu, ctx, vswitch, { RegionId = r.RegionId, ZoneId = z, VpcId = v.VpcId,
        VSwitchName = "", Description = "", CidrBlock = string.format("172.16.%d.0/20", (i - 1) * 16),
        IsDefault = true, Status = "Available", ResourceGroupId = emu.default_resource_group }))
    end
  end
end

return { vpc, vswitch }
