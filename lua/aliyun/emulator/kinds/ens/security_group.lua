-- ENS security groups (one per account, not tied to an edge node) and their rules, given as
-- JSON lists of permissions (CreateSecurityGroup, CreateSecurityGroupPermissions,
-- DeleteSecurityGroupPermissions). Instances join and leave them (their SecurityGroupIds);
-- a group with instances cannot be deleted, and an instance keeps at least one group.
local common = require "aliyun.emulator.kinds.ens.common"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"

local bad_field, refuse = common.bad_field, common.refuse

local MAX_RULES = 200

local PROTOCOLS = { tcp = "TCP", udp = "UDP", icmp = "ICMP", all = "ALL", gre = "GRE", icmpv6 = "ICMPv6" }

-- What identifies a rule: two rules that agree on these are the same rule.
local IDENTITY = { "Direction", "IpProtocol", "PortRange", "SourcePortRange", "SourceCidrIp", "DestCidrIp",
  "Ipv6SourceCidrIp", "Ipv6DestCidrIp", "Policy", "Priority" }

local function members(ctx, sg_id)
  return engine.list(ctx, "ens_instance", function(i) return common.has(i.SecurityGroupIds, sg_id) end)
end

local function port_range(proto, v)
  local lo, hi = tostring(v or ""):match("^(%-?%d+)/(%-?%d+)$")
  lo, hi = tonumber(lo), tonumber(hi)
  if proto == "TCP" or proto == "UDP" then
    return lo and lo >= 1 and hi <= 65535 and lo <= hi
  end
  return v == nil or (lo == -1 and hi == -1)
end

local function cidr_ok(v)
  return v:match("^%d+%.%d+%.%d+%.%d+/%d+$") or v:match("^%d+%.%d+%.%d+%.%d+$")
end

-- One permission of a JSON list, checked and normalised.
local function read_rule(emu, p, param, creating)
  local function s(name)
    local v = p[name]
    if v == nil or v == json.null or v == "" then return nil end
    return tostring(v)
  end
  local r = {}
  local dir = (s("Direction") or ""):lower()
  if dir ~= "ingress" and dir ~= "egress" then bad_field(param, "Direction must be ingress or egress.") end
  r.Direction = dir
  local proto = PROTOCOLS[(s("IpProtocol") or ""):lower()]
  if not proto then bad_field(param, "IpProtocol must be TCP, UDP, ICMP, GRE, ICMPv6 or ALL.") end
  r.IpProtocol = proto
  r.PortRange = s("PortRange") or ((proto ~= "TCP" and proto ~= "UDP") and "-1/-1" or nil)
  if not r.PortRange then errors.missing(param .. ".PortRange") end
  if not port_range(proto, r.PortRange) then bad_field(param, "PortRange " .. r.PortRange .. " does not fit " .. proto .. ".") end
  r.SourcePortRange = s("SourcePortRange")
  if r.SourcePortRange and not port_range(proto, r.SourcePortRange) then bad_field(param, "SourcePortRange is not valid.") end
  local policy = (s("Policy") or "Accept"):lower()
  if policy ~= "accept" and policy ~= "drop" then bad_field(param, "Policy must be Accept or Drop.") end
  r.Policy = policy == "accept" and "Accept" or "Drop"
  local pr = tonumber(s("Priority") or "1")
  if not pr or pr ~= math.floor(pr) or pr < 1 or pr > 100 then bad_field(param, "Priority must be 1 to 100.") end
  r.Priority = math.floor(pr)
  for _, f in ipairs { "SourceCidrIp", "DestCidrIp" } do
    r[f] = s(f)
    if r[f] and not cidr_ok(r[f]) then bad_field(param, f .. " must be an IPv4 address or CIDR block.") end
  end
  r.Ipv6SourceCidrIp, r.Ipv6DestCidrIp = s("Ipv6SourceCidrIp"), s("Ipv6DestCidrIp")
  local peer = dir == "ingress" and (r.SourceCidrIp or r.Ipv6SourceCidrIp) or (r.DestCidrIp or r.Ipv6DestCidrIp)
  if not peer then bad_field(param, (dir == "ingress" and "SourceCidrIp" or "DestCidrIp") .. " is required.") end
  r.Description = s("Description") or ""
  if creating then r.CreationTime = common.now(emu) end
  return r
end

local function read_rules(emu, a, creating)
  local list = common.objects(a, "Permissions")
  if not list then return nil end
  local out = {}
  for i, p in ipairs(list) do out[i] = read_rule(emu, p, "Permissions", creating) end
  return out
end

local function same_rule(x, y)
  for _, f in ipairs(IDENTITY) do
    if x[f] ~= y[f] then return false end
  end
  return true
end

-- Adds rules to a group's (a rule it holds already, or one past 200, fails the call).
local function add_rules(group, rules)
  local all = {}
  for i, r in ipairs(group.rules) do all[i] = r end
  for _, r in ipairs(rules) do
    for _, have in ipairs(all) do
      if same_rule(have, r) then errors.raise("SecurityGroupRuleConflict.Duplicated", nil, 400) end
    end
    all[#all + 1] = r
  end
  if #all > MAX_RULES then errors.raise("AuthorizationLimitExceed", nil, 400) end
  return all
end

local sg = {
  name = "ens_security_group", product = "ens", id = "SecurityGroupId", prefix = "sg", id_length = 24,
  scope = "global", name_field = "SecurityGroupName", not_found = "InvalidSecurityGroupId.NotFound",
  error_status = 400,
  fields = {
    SecurityGroupName = common.name("SecurityGroupName"),
    Description = common.description(),
  },
  view = function(_, rec, ctx)
    local ids = {}
    for i, inst in ipairs(members(ctx, rec.SecurityGroupId)) do ids[i] = inst.InstanceId end
    return { InstanceIds = ids, InstanceCount = #ids, NetworkInterfaceIds = {}, Permissions = rec.rules }
  end,
  roundtrip = {
    create = { "CreateSecurityGroup", function() return { SecurityGroupName = "rt-group" } end },
    id = function(answer) return answer.SecurityGroupId end,
    describe = { "DescribeSecurityGroups", function(_, id) return { SecurityGroupId = id } end },
    modify = { "ModifySecurityGroupAttribute", function(_, id) return { SecurityGroupId = id,
      SecurityGroupName = "renamed" } end, "SecurityGroupName", "renamed" },
    delete = { "DeleteSecurityGroup", function(_, id) return { SecurityGroupId = id } end },
    not_found = "InvalidSecurityGroupId.NotFound",
  },
}

local function group_of(a, ctx)
  return common.find(ctx, "ens_security_group", a:need("SecurityGroupId"))
end

-- The instance a Join/Leave names (ENS network interfaces are not emulated: NetworkInterfaceId
-- is refused as not emulated).
local function member_of(a, ctx)
  return common.find(ctx, "ens_instance", a:need("InstanceId"))
end

sg.actions = {
  CreateSecurityGroup = {
    op = "create", honours = { "Permissions" }, limit = 100, limit_code = "InvalidParameter",
    before = function(emu, a, _, rec)
      rec.SecurityGroupName = rec.SecurityGroupName or ""
      rec.Description = rec.Description or ""
      rec.rules = add_rules({ rules = {} }, read_rules(emu, a, true) or {})
    end,
    answer = function(_, _, rec) return { SecurityGroupId = rec.SecurityGroupId } end,
  },
  DescribeSecurityGroups = {
    op = "describe", filters = { SecurityGroupId = "SecurityGroupId", SecurityGroupName = "SecurityGroupName" },
    page_max = 100,
  },
  DescribeSecurityGroupAttribute = { op = "get" },
  ModifySecurityGroupAttribute = { op = "modify", fields = { "SecurityGroupName", "Description" } },
  DeleteSecurityGroup = {
    op = "delete",
    dependents = { { kind = "ens_instance", field = "SecurityGroupIds", code = "InvalidParameter",
      message = "The errorMessage is the security group still has instances. Please check it again." } },
  },
  CreateSecurityGroupPermissions = {
    op = "custom", honours = { "SecurityGroupId", "Permissions" },
    handler = function(emu, a, ctx)
      local group = group_of(a, ctx)
      local rules = read_rules(emu, a, true)
      if not rules or #rules == 0 then errors.missing("Permissions") end
      local all = add_rules(group, rules)
      engine.commit(a)
      group.rules = all
      return {}
    end,
  },
  DeleteSecurityGroupPermissions = {
    op = "custom", honours = { "SecurityGroupId", "Permissions" },
    handler = function(emu, a, ctx)
      local group = group_of(a, ctx)
      local rules = read_rules(emu, a, false)
      if not rules or #rules == 0 then errors.missing("Permissions") end
      local keep = {}
      for _, have in ipairs(group.rules) do
        local drop = false
        for _, r in ipairs(rules) do
          if same_rule(have, r) then drop = true end
        end
        if not drop then keep[#keep + 1] = have end
      end
      engine.commit(a)
      group.rules = keep
      return {}
    end,
  },
  JoinSecurityGroup = {
    op = "custom", honours = { "SecurityGroupId", "InstanceId" },
    handler = function(_, a, ctx)
      local group = group_of(a, ctx)
      local inst = member_of(a, ctx)
      if common.has(inst.SecurityGroupIds, group.SecurityGroupId) then
        refuse("the instance is already in the security group")
      end
      if #inst.SecurityGroupIds >= 5 then refuse("an instance is in at most 5 security groups") end
      engine.commit(a)
      inst.SecurityGroupIds[#inst.SecurityGroupIds + 1] = group.SecurityGroupId
      return {}
    end,
  },
  LeaveSecurityGroup = {
    op = "custom", honours = { "SecurityGroupId", "InstanceId" },
    handler = function(_, a, ctx)
      local group = group_of(a, ctx)
      local inst = member_of(a, ctx)
      if not common.has(inst.SecurityGroupIds, group.SecurityGroupId) then
        refuse("the instance is not in the security group")
      end
      if #inst.SecurityGroupIds == 1 then refuse("an instance stays in at least one security group") end
      engine.commit(a)
      inst.SecurityGroupIds = common.remove_value(inst.SecurityGroupIds, group.SecurityGroupId)
      return {}
    end,
  },
}

return sg
