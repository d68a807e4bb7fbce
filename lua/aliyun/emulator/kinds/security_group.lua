-- Security groups and their rules. A group lies in a VPC (VpcId) and holds up to 200 rules,
-- ingress and egress; instances and network interfaces join it (their SecurityGroupIds).
-- The rule actions (Authorize*, Revoke*, ModifySecurityGroupRule) are hand-written: a rule
-- comes either from the flat Permissions.N.* list or from the legacy top-level parameters.
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local state = require "aliyun.emulator.state"

local raise = errors.raise

local MAX_RULES = 200

-- The fields a rule has, and the parameter of each in the requests (the same name).
local RULE_FIELDS = {
  "IpProtocol", "PortRange", "SourcePortRange", "SourceCidrIp", "DestCidrIp", "Ipv6SourceCidrIp", "Ipv6DestCidrIp",
  "SourceGroupId", "DestGroupId", "SourceGroupOwnerAccount", "DestGroupOwnerAccount", "SourcePrefixListId",
  "DestPrefixListId", "Policy", "Priority", "NicType", "Description",
}

-- What identifies a rule: two rules that agree on these are the same rule.
local IDENTITY = {
  "IpProtocol", "PortRange", "SourcePortRange", "SourceCidrIp", "DestCidrIp", "Ipv6SourceCidrIp", "Ipv6DestCidrIp",
  "SourceGroupId", "DestGroupId", "SourcePrefixListId", "DestPrefixListId", "Policy", "NicType",
}

local PROTOCOLS = { tcp = "TCP", udp = "UDP", icmp = "ICMP", gre = "GRE", all = "ALL", icmpv6 = "ICMPv6" }

local function members(ctx, sg_id, kind)
  return engine.list(ctx, kind, function(r)
    for _, g in ipairs(r.SecurityGroupIds or {}) do
      if g == sg_id then return true end
    end
    return false
  end)
end

local function check_port_range(protocol, range, param)
  local lo, hi = tostring(range or ""):match("^(%-?%d+)/(%-?%d+)$")
  lo, hi = tonumber(lo), tonumber(hi)
  if protocol == "TCP" or protocol == "UDP" then
    if not lo or lo < 1 or hi > 65535 or lo > hi then
      raise("InvalidIpPortRange.Malformed", "The specified parameter \"" .. param
        .. "\" is not valid: TCP and UDP take a range such as 22/22 or 1/65535.")
    end
  elseif range and not (lo == -1 and hi == -1) then
    raise("InvalidIpPortRange.Malformed", "The specified parameter \"" .. param .. "\" is not valid: "
      .. protocol .. " takes -1/-1.")
  end
end

-- One rule from the parameters under `prefix` ("" for the legacy top-level ones,
-- "Permissions.1." for the list), checked; nil when the prefix holds nothing.
local function read_rule(emu, a, ctx, group, prefix, direction, for_revoke)
  local r, any = {}, false
  for _, f in ipairs(RULE_FIELDS) do
    local v = a:str(prefix .. f)
    if v ~= nil then r[f] = v; any = true end
  end
  if not any then return nil end
  local where = prefix == "" and "" or prefix
  local proto = r.IpProtocol and PROTOCOLS[r.IpProtocol:lower()]
  if not proto then
    if r.IpProtocol == nil then errors.missing(where .. "IpProtocol") end
    raise("InvalidIpProtocol.Malformed", "The specified parameter \"" .. where .. "IpProtocol\" is not valid: "
      .. "tcp, udp, icmp, gre, icmpv6 or all.")
  end
  r.IpProtocol = proto
  if r.PortRange == nil then
    if proto == "TCP" or proto == "UDP" then errors.missing(where .. "PortRange") end
    r.PortRange = "-1/-1"
  end
  check_port_range(proto, r.PortRange, where .. "PortRange")
  if r.SourcePortRange then check_port_range(proto, r.SourcePortRange, where .. "SourcePortRange") end
  local policy = (r.Policy or "accept"):lower()
  if policy ~= "accept" and policy ~= "drop" then
    raise("InvalidPolicy.Malformed", "The specified parameter \"" .. where .. "Policy\" is not valid: accept or drop.")
  end
  r.Policy = policy == "accept" and "Accept" or "Drop"
  local pr = tonumber(r.Priority or "1")
  if not pr or pr ~= math.floor(pr) or pr < 1 or pr > 100 then
    raise("InvalidPriority.Malformed", "The specified parameter \"" .. where .. "Priority\" is not valid: 1 to 100.")
  end
  r.Priority = tostring(math.floor(pr))
  local nic = (r.NicType or "intranet"):lower()
  if nic ~= "intranet" and nic ~= "internet" then raise("InvalidNicType.ValueNotSupported") end
  r.NicType = nic
  local cidr_field = direction == "ingress" and "SourceCidrIp" or "DestCidrIp"
  local peer = direction == "ingress" and "SourceGroupId" or "DestGroupId"
  local v6 = direction == "ingress" and "Ipv6SourceCidrIp" or "Ipv6DestCidrIp"
  local list = direction == "ingress" and "SourcePrefixListId" or "DestPrefixListId"
  local cidr = r[cidr_field]
  if cidr and not (cidr:match("^%d+%.%d+%.%d+%.%d+/%d+$") or cidr:match("^%d+%.%d+%.%d+%.%d+$")) then
    raise(direction == "ingress" and "InvalidSourceCidrIp.Malformed" or "InvalidDestCidrIp.Malformed")
  end
  if r[peer] then
    if r[peer] == group.SecurityGroupId and not for_revoke then
      -- a group may name itself in a rule; the service accepts that
      r[peer] = group.SecurityGroupId
    else
      local other = engine.find(ctx, "security_group", r[peer], group.RegionId)
      if other.VpcId ~= group.VpcId then raise("InvalidSecurityGroup.InvalidNetworkType") end
    end
  end
  -- a rule names only prefix lists that exist (DeletePrefixList refuses those named)
  if r[list] then engine.find(ctx, "prefix_list", r[list], group.RegionId) end
  if not (cidr or r[peer] or r[v6] or r[list]) then
    errors.missing(where .. cidr_field)
  end
  r.Direction = direction
  r.Description = r.Description or ""
  if not for_revoke then
    r.SecurityGroupRuleId = emu.ids:resource("sgr")
    r.CreateTime = state.iso(emu:now())
  end
  return r
end

-- The rules of a call: the Permissions list, or the legacy parameters.
local function read_rules(emu, a, ctx, group, direction, for_revoke)
  local rules = {}
  for i = 1, MAX_RULES + 1 do
    local r = read_rule(emu, a, ctx, group, "Permissions." .. i .. ".", direction, for_revoke)
    if not r then break end
    rules[#rules + 1] = r
  end
  if #rules > 100 then raise("InvalidParam.Permissions", "At most 100 rules in one call.") end
  local legacy = read_rule(emu, a, ctx, group, "", direction, for_revoke)
  if legacy then
    if #rules > 0 then
      raise("InvalidParam.Permissions", "Give the rules either as Permissions.N.* or as top-level parameters, not both.")
    end
    rules[1] = legacy
  end
  return rules
end

local function same_rule(x, y)
  for _, f in ipairs(IDENTITY) do
    if (x[f] or "") ~= (y[f] or "") then return false end
  end
  return x.Direction == y.Direction and x.Priority == y.Priority
end

local function group_of(emu, a, ctx)
  return engine.find(ctx, "security_group", a:need("SecurityGroupId"), engine.region(emu, a))
end

local function authorize(direction)
  return function(emu, a, ctx)
    local g = group_of(emu, a, ctx)
    local rules = read_rules(emu, a, ctx, g, direction, false)
    if #rules == 0 then errors.missing("Permissions") end
    local added = {}
    for _, r in ipairs(rules) do
      local dup = false
      for _, have in ipairs(g.Permissions) do
        if same_rule(have, r) then dup = true end
      end
      if not dup then added[#added + 1] = r end
    end
    if #g.Permissions + #added > MAX_RULES then raise("InvalidSecurityGroup.RuleLimitExceeded") end
    engine.commit(a)
    for _, r in ipairs(added) do g.Permissions[#g.Permissions + 1] = r end
    return {}
  end
end

local function revoke(direction)
  return function(emu, a, ctx)
    local g = group_of(emu, a, ctx)
    local ids = a:list("SecurityGroupRuleId")
    local drop = {}
    if #ids > 0 then
      for _, id in ipairs(ids) do
        local found = false
        for _, have in ipairs(g.Permissions) do
          if have.SecurityGroupRuleId == id and have.Direction == direction then drop[have] = true; found = true end
        end
        if not found then raise("InvalidSecurityGroupRule.RuleNotExist") end
      end
    else
      local rules = read_rules(emu, a, ctx, g, direction, true)
      if #rules == 0 then errors.missing("Permissions") end
      -- a rule that is not there is no error: the group ends as asked
      for _, r in ipairs(rules) do
        for _, have in ipairs(g.Permissions) do
          if same_rule(have, r) then drop[have] = true end
        end
      end
    end
    engine.commit(a)
    local keep = {}
    for _, have in ipairs(g.Permissions) do
      if not drop[have] then keep[#keep + 1] = have end
    end
    g.Permissions = keep
    return {}
  end
end

local function modify_rule(direction)
  return function(emu, a, ctx)
    local g = group_of(emu, a, ctx)
    local target
    local rule_id = a:str("SecurityGroupRuleId")
    if rule_id then
      for _, have in ipairs(g.Permissions) do
        if have.SecurityGroupRuleId == rule_id and have.Direction == direction then target = have end
      end
    else
      local probe = read_rule(emu, a, ctx, g, "", direction, true)
      for _, have in ipairs(g.Permissions) do
        if probe and same_rule(have, probe) then target = have end
      end
    end
    if not target then raise("InvalidSecurityGroupRule.RuleNotExist") end
    local changed = {}
    for k, v in pairs(target) do changed[k] = v end
    for _, f in ipairs(RULE_FIELDS) do
      local v = a:str(f)
      if v ~= nil then changed[f] = v end
    end
    changed.SecurityGroupRuleId, changed.CreateTime = nil, nil
    -- the changed rule is checked as a new one would be
    local params = {}
    for _, f in ipairs(RULE_FIELDS) do params[f] = changed[f] end
    local checked = read_rule(emu, require("aliyun.emulator.args").new(params), ctx, g, "", direction, true)
    engine.commit(a)
    for _, f in ipairs(RULE_FIELDS) do target[f] = checked[f] end
    return {}
  end
end

-- The instance or network interface a Join/LeaveSecurityGroup call names (one of the two),
-- and the records whose SecurityGroupIds change with it (an instance's primary interface too).
local function member(emu, a, ctx)
  local inst_id, eni_id = a:str("InstanceId"), a:str("NetworkInterfaceId")
  if inst_id and eni_id then
    raise("InvalidParameter", "Give InstanceId or NetworkInterfaceId, not both.")
  end
  local region = engine.region(emu, a, true)
  if inst_id then
    local inst = engine.find(ctx, "instance", inst_id, region)
    if inst.Status ~= "Running" and inst.Status ~= "Stopped" then raise("IncorrectInstanceStatus") end
    local recs = { inst }
    for _, e in ipairs(engine.list(ctx, "eni", function(e) return e.InstanceId == inst_id and e.Type == "Primary" end)) do
      recs[#recs + 1] = e
    end
    return inst, recs
  end
  if not eni_id then errors.missing("InstanceId") end
  local eni = engine.find(ctx, "eni", eni_id, region)
  return eni, { eni }
end

local function has_group(rec, id)
  for _, g in ipairs(rec.SecurityGroupIds or {}) do
    if g == id then return true end
  end
  return false
end

local function join(emu, a, ctx)
  local target, recs = member(emu, a, ctx)
  local g = engine.find(ctx, "security_group", a:need("SecurityGroupId"), target.RegionId)
  if g.VpcId ~= target.VpcId then raise("InvalidSecurityGroup.InvalidNetworkType") end
  if has_group(target, g.SecurityGroupId) then raise("InvalidInstanceId.AlreadyExists") end
  if #(target.SecurityGroupIds or {}) >= 5 then raise("InstanceSecurityGroupLimitExceeded") end
  local limit = g.SecurityGroupType == "enterprise" and 65536 or 2000
  if #members(ctx, g.SecurityGroupId, "instance") >= limit then raise("SecurityGroupInstanceLimitExceeded") end
  engine.commit(a)
  for _, r in ipairs(recs) do
    local list = {}
    for i, x in ipairs(r.SecurityGroupIds or {}) do list[i] = x end
    list[#list + 1] = g.SecurityGroupId
    r.SecurityGroupIds = list
  end
  return {}
end

local function leave(emu, a, ctx)
  local target, recs = member(emu, a, ctx)
  local g = engine.find(ctx, "security_group", a:need("SecurityGroupId"), target.RegionId)
  if not has_group(target, g.SecurityGroupId) then raise("InvalidSecurityGroupAssociation.NotFound") end
  if #target.SecurityGroupIds <= 1 then raise("InstanceLastSecurityGroup") end
  engine.commit(a)
  for _, r in ipairs(recs) do
    local list = {}
    for _, x in ipairs(r.SecurityGroupIds or {}) do
      if x ~= g.SecurityGroupId then list[#list + 1] = x end
    end
    r.SecurityGroupIds = list
  end
  return {}
end

local RULE_PARAMS = {
  "Permissions", "IpProtocol", "PortRange", "SourcePortRange", "SourceCidrIp", "DestCidrIp", "Ipv6SourceCidrIp",
  "Ipv6DestCidrIp", "SourceGroupId", "DestGroupId", "SourceGroupOwnerAccount", "DestGroupOwnerAccount",
  "SourcePrefixListId", "DestPrefixListId", "Policy", "Priority", "NicType", "Description", "SecurityGroupId",
  "SecurityGroupRuleId", "RegionId",
}

local security_group = {
  name = "security_group", product = "ecs", id = "SecurityGroupId", prefix = "sg", scope = "region",
  name_field = "SecurityGroupName", not_found = "InvalidSecurityGroupId.NotFound", tag_type = "securitygroup",
  roundtrip = {
    create = { "CreateSecurityGroup", function(fx) return { RegionId = fx.region, VpcId = fx.vpc, SecurityGroupName = "rt" } end },
    describe = { "DescribeSecurityGroups", function(fx, id) return { RegionId = fx.region, SecurityGroupId = id } end },
    modify = { "ModifySecurityGroupAttribute", function(fx, id)
      return { RegionId = fx.region, SecurityGroupId = id, SecurityGroupName = "renamed" }
    end, "SecurityGroupName", "renamed" },
    delete = { "DeleteSecurityGroup", function(fx, id) return { RegionId = fx.region, SecurityGroupId = id } end },
    not_found = "InvalidSecurityGroupId.NotFound",
  },
  fields = {
    SecurityGroupName = { check = "name", code = "InvalidSecurityGroupName.Malformed", default = "" },
    Description = { check = "description", code = "InvalidDescription.Malformed", default = "" },
    SecurityGroupType = { enum = { "normal", "enterprise" }, code = "InvalidSecurityGroupType.ValueNotSupported",
      default = "normal" },
    ServiceManaged = { default = false },
  },
  view = function(_, rec, ctx)
    local n = #members(ctx, rec.SecurityGroupId, "instance")
    local g2g = 0
    for _, r in ipairs(rec.Permissions) do
      if r.SourceGroupId or r.DestGroupId then g2g = g2g + 1 end
    end
    return { EcsCount = n, AvailableInstanceAmount = (rec.SecurityGroupType == "enterprise" and 65536 or 2000) - n,
      RuleCount = #rec.Permissions, GroupToGroupRuleCount = g2g }
  end,
  actions = {
    CreateSecurityGroup = {
      op = "create", refs = { VpcId = "vpc" }, limit = 100, limit_code = "QuotaExceed.SecurityGroup",
      before = function(emu, _, ctx, rec)
        if not rec.VpcId then
          -- the service puts a group without VpcId in the region's default VPC
          for _, v in ipairs(engine.list(ctx, "vpc", function(v) return v.RegionId == rec.RegionId and v.IsDefault end)) do
            rec.VpcId = v.VpcId
          end
        end
        rec.InnerAccessPolicy = rec.SecurityGroupType == "enterprise" and "Drop" or "Accept"
        rec.Permissions = {}
        rec.ServiceID = 0
        local _ = emu
      end,
    },
    DescribeSecurityGroups = {
      op = "describe", ids = { SecurityGroupId = "SecurityGroupId", SecurityGroupIds = "SecurityGroupId" },
      filters = {
        VpcId = "VpcId", SecurityGroupType = "SecurityGroupType", ServiceManaged = "ServiceManaged",
        SecurityGroupName = { field = "SecurityGroupName", match = function(rec, v, ctx)
          if ctx.fuzzy then return rec.SecurityGroupName:find(v, 1, true) ~= nil end
          return rec.SecurityGroupName == v
        end },
        NetworkType = { field = "VpcId", match = function(rec, v)
          if v == "vpc" then return rec.VpcId ~= nil end
          if v == "classic" then return rec.VpcId == nil end
          errors.invalid("NetworkType", nil, nil, "Valid values: vpc, classic.")
        end },
      },
      honours = { "FuzzyQuery", "IsQueryEcsCount" },
      page_max = 50,
      -- EcsCount is always counted, so IsQueryEcsCount only has to be well formed
      prepare = function(_, a, ctx) ctx.fuzzy = a:bool("FuzzyQuery", false); a:bool("IsQueryEcsCount") end,
    },
    DescribeSecurityGroupAttribute = {
      op = "custom", honours = { "SecurityGroupId", "Direction", "NicType", "NextToken", "MaxResults", "Attribute" },
      handler = function(emu, a, ctx)
        local g = group_of(emu, a, ctx)
        local direction = a:enum("Direction", { "ingress", "egress", "all" }, "all")
        local nic = a:enum("NicType", { "internet", "intranet" })
        local attribute = a:enum("Attribute", { "snapshotPolicyIds" })
        local rules = {}
        for _, r in ipairs(g.Permissions) do
          if (direction == "all" or r.Direction == direction) and (not nic or r.NicType == nic) then
            rules[#rules + 1] = r
          end
        end
        local page, meta = rules, {}
        if a:has("NextToken") or a:has("MaxResults") then
          page, meta = engine.page(emu, a, ctx, rules, { page_size = 100, page_max = 1000 })
        end
        local out = engine.show(emu, ctx, g)
        local body = { _kind = out._kind }
        for k, v in pairs(out) do body[k] = v end
        body.Permissions = page
        body.NextToken = meta.NextToken
        if attribute then body.SnapshotPolicyIds = {} end
        return body
      end,
    },
    ModifySecurityGroupAttribute = {
      op = "modify", fields = { "SecurityGroupName", "Description" },
    },
    ModifySecurityGroupPolicy = {
      op = "custom", honours = { "SecurityGroupId", "InnerAccessPolicy" },
      handler = function(emu, a, ctx)
        local g = group_of(emu, a, ctx)
        local p = a:need("InnerAccessPolicy")
        local v = p:lower() == "accept" and "Accept" or p:lower() == "drop" and "Drop" or nil
        if not v then errors.invalid("InnerAccessPolicy", nil, nil, "Valid values: Accept, Drop.") end
        engine.commit(a)
        g.InnerAccessPolicy = v
        return {}
      end,
    },
    DeleteSecurityGroup = {
      op = "delete",
      dependents = {
        { kind = "instance", field = "SecurityGroupIds", code = "DependencyViolation" },
        { kind = "eni", field = "SecurityGroupIds", code = "DependencyViolation",
          message = "There are network interfaces in the specified security group." },
      },
      before = function(_, _, ctx, rec)
        -- other groups' rules that name it go with it
        for _, other in ipairs(engine.list(ctx, "security_group")) do
          local keep = {}
          for _, r in ipairs(other.Permissions) do
            if r.SourceGroupId ~= rec.SecurityGroupId and r.DestGroupId ~= rec.SecurityGroupId or other == rec then
              keep[#keep + 1] = r
            end
          end
          other.Permissions = keep
        end
      end,
    },
    JoinSecurityGroup = { op = "custom", honours = { "InstanceId", "NetworkInterfaceId", "SecurityGroupId" },
      handler = join },
    LeaveSecurityGroup = { op = "custom", honours = { "InstanceId", "NetworkInterfaceId", "SecurityGroupId" },
      handler = leave },
    AuthorizeSecurityGroup = { op = "custom", honours = RULE_PARAMS, handler = authorize("ingress") },
    AuthorizeSecurityGroupEgress = { op = "custom", honours = RULE_PARAMS, handler = authorize("egress") },
    RevokeSecurityGroup = { op = "custom", honours = RULE_PARAMS, handler = revoke("ingress") },
    RevokeSecurityGroupEgress = { op = "custom", honours = RULE_PARAMS, handler = revoke("egress") },
    ModifySecurityGroupRule = {
      op = "custom", honours = RULE_PARAMS,
      handler = modify_rule("ingress"),
    },
  },
}

-- The fixture: a default group in each region's default VPC that lets in SSH, RDP and ping.
function security_group.fixture(emu, ctx)
  local now = state.iso(emu:now())
  for _, r in ipairs(emu.regions:list()) do
    local v = engine.list(ctx, "vpc", function(x) return x.RegionId == r.RegionId and x.IsDefault end)[1]
    local g = engine.record(emu, ctx, security_group, { RegionId = r.RegionId, VpcId = v.VpcId,
      SecurityGroupName = "default", Description = "System created security group.", SecurityGroupType = "normal",
      ServiceManaged = false, InnerAccessPolicy = "Accept", ServiceID = 0, Permissions = {},
      ResourceGroupId = emu.default_resource_group })
    for _, p in ipairs { { "TCP", "22/22" }, { "TCP", "3389/3389" }, { "ICMP", "-1/-1" } } do
      g.Permissions[#g.Permissions + 1] = { SecurityGroupRuleId = emu.ids:resource("sgr"), Direction = "ingress",
        IpProtocol = p[1], PortRange = p[2], SourceCidrIp = "0.0.0.0/0", Policy = "Accept", Priority = "100",
        NicType = "intranet", Description = "", CreateTime = now }
    end
    engine.store(ctx, g)
  end
end

return security_group
