-- Security groups and their rules. A group lies in a VPC (VpcId) and holds up to 200 rules,
-- ingress and egress; instances and network interfaces join it (their SecurityGroupIds).
-- The rule actions (Authorize*, Revoke*, ModifySecurityGroupRule) are hand-written: a rule
-- comes either from the flat Permissions.N.* list or from the legacy top-level parameters.
-- The rules and codes follow the actions' published pages: a rule that is already there is
-- not added again, revoking one that is not there changes nothing, a group may not name
-- itself, an advanced (enterprise) group names no groups and is named by none, a basic group
-- names other groups in at most 20 rules, a group named by another group's rules is not
-- deleted.
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local state = require "aliyun.emulator.state"

local raise = errors.raise

local MAX_RULES = 200       -- rules of a group, both directions
local MAX_PERMISSIONS = 100 -- Permissions.N of one call
local MAX_GROUP_RULES = 20  -- rules of a basic group that name another group
local MAX_GROUPS = 5        -- groups an instance or network interface is in

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

-- The peer of a rule in each direction, by kind (a rule names exactly one kind of peer).
local PEERS = {
  ingress = { cidr = "SourceCidrIp", v6 = "Ipv6SourceCidrIp", group = "SourceGroupId", list = "SourcePrefixListId" },
  egress = { cidr = "DestCidrIp", v6 = "Ipv6DestCidrIp", group = "DestGroupId", list = "DestPrefixListId" },
}

-- The codes of a rule's peer group, by direction (AuthorizeSecurityGroup, ...Egress).
local PEER_CODES = {
  ingress = { not_found = "InvalidSourceGroupId.NotFound", mismatch = "InvalidSourceGroupId.Mismatch",
    same = "InvalidParamter.Conflict", missing = "MissingParameter.Source" },
  egress = { not_found = "InvalidDestGroupId.NotFound", mismatch = "InvalidDestGroupId.Mismatch",
    same = "InvalidSecurityGroup.IsSame", missing = "MissingParameter.Dest" },
}

-- How each action names a bad PortRange: Authorize* and ModifySecurityGroupRule answer
-- InvalidIpProtocol.Malformed (and OperationDenied when the protocol takes no ports),
-- Revoke* InvalidIpPortRange.Malformed.
local RANGE_CODES = {
  authorize = { range = "InvalidIpProtocol.Malformed", mismatch = "OperationDenied" },
  revoke = { range = "InvalidIpPortRange.Malformed", mismatch = "InvalidIpPortRange.Malformed" },
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

-- A port range "from/to": two integers up to 65535 (InvalidParam.PortRange); TCP and UDP take
-- 1 to 65535, the other protocols -1/-1 only.
local function check_port_range(protocol, range, param, codes)
  local lo, hi = tostring(range):match("^(%-?%d+)/(%-?%d+)$")
  lo, hi = tonumber(lo), tonumber(hi)
  if not lo or lo > 65535 or hi > 65535 then
    raise(codes.format or "InvalidParam.PortRange", "The specified parameter \"" .. param .. "\" is not valid. "
      .. "It should be two integers less than 65535 in ?/? format.")
  end
  if protocol == "TCP" or protocol == "UDP" then
    if lo < 1 or lo > hi then
      raise(codes.range, "The specified parameter \"" .. param .. "\" is not valid: TCP and UDP take a range such "
        .. "as 22/22 or 1/65535.", 400)
    end
  elseif not (lo == -1 and hi == -1) then
    raise(codes.mismatch, "The specified IpProtocol does not exist or IpProtocol and PortRange do not match: "
      .. protocol .. " takes " .. param .. " -1/-1.", 400)
  end
end

local function peer_kind(r, direction)
  for kind, field in pairs(PEERS[direction]) do
    if r[field] then return kind end
  end
  return nil
end

-- Checks a rule's peer group: in the region, not the group itself, in the same VPC, neither
-- side an advanced group.
local function check_peer(ctx, group, r, direction, mode)
  local field, codes = PEERS[direction].group, PEER_CODES[direction]
  local id = r[field]
  if group.SecurityGroupType == "enterprise" then raise("InvalidGroupParameter.OperationDenied") end
  if id == group.SecurityGroupId then
    -- Revoke's table gives the ingress form 400, Authorize's 403
    raise(codes.same, nil, (mode == "revoke" and direction == "ingress") and 400 or nil)
  end
  local other = engine.get(ctx, "security_group", id)
  if not other or other.RegionId ~= group.RegionId then raise(codes.not_found) end
  if other.SecurityGroupType == "enterprise" then raise("InvalidGroupAuthParameter.OperationDenied") end
  if other.VpcId ~= group.VpcId then raise(codes.mismatch) end
  if r.NicType ~= "intranet" then
    raise(codes.mismatch, "NicType is required or NicType expects intranet.", 403)
  end
end

-- One rule from the parameters under `prefix` ("" for the legacy top-level ones,
-- "Permissions.1." for the list), checked; nil when the prefix holds nothing. `mode` is
-- "authorize", "revoke" or "modify" (the codes and whether the rule gets an id).
local function read_rule(emu, a, ctx, group, prefix, direction, mode)
  local r, any = {}, false
  for _, f in ipairs(RULE_FIELDS) do
    local v = a:str(prefix .. f)
    if v ~= nil then r[f] = v; any = true end
  end
  if not any then return nil end
  local where = prefix
  local codes = RANGE_CODES[mode == "revoke" and "revoke" or "authorize"]
  local proto = r.IpProtocol and PROTOCOLS[r.IpProtocol:lower()]
  if not proto then
    if r.IpProtocol == nil then errors.missing(where .. "IpProtocol") end
    raise("InvalidIpProtocol.ValueNotSupported", "The parameter \"" .. where .. "IpProtocol\" must be specified "
      .. "with case insensitive TCP, UDP, ICMP, GRE or All.")
  end
  r.IpProtocol = proto
  if r.PortRange == nil then
    if proto == "TCP" or proto == "UDP" then
      raise("InvalidPortRange.Malformed", "The specified parameter \"" .. where .. "PortRange\" must set.")
    end
    r.PortRange = "-1/-1"
  end
  check_port_range(proto, r.PortRange, where .. "PortRange", codes)
  if r.SourcePortRange then
    check_port_range(proto, r.SourcePortRange, where .. "SourcePortRange", { format = "InvalidSourcePortRange.Malformed",
      range = "InvalidSourcePortRange.Malformed", mismatch = "InvalidSourcePortRange.Malformed" })
  end
  local policy = (r.Policy or "accept"):lower()
  if policy ~= "accept" and policy ~= "drop" then
    raise("InvalidPolicy.Malformed", "The specified parameter \"" .. where .. "Policy\" is not valid: accept or drop.")
  end
  -- an advanced group's rules only accept
  if policy == "drop" and group.SecurityGroupType == "enterprise" then raise("InvalidGroupParameter.OperationDenied") end
  r.Policy = policy == "accept" and "Accept" or "Drop"
  local pr = tonumber(r.Priority or "1")
  if not pr or pr ~= math.floor(pr) or pr < 1 or pr > 100 then
    raise("InvalidPriority.Malformed", "The parameter \"" .. where .. "Priority\" is invalid: 1 to 100.")
  end
  r.Priority = tostring(math.floor(pr))
  local nic = (r.NicType or "intranet"):lower()
  if nic ~= "intranet" and nic ~= "internet" then raise("InvalidNicType.ValueNotSupported") end
  r.NicType = nic
  if r.Description and #r.Description > 512 then
    raise("InvalidSecurityGroupDiscription.Malformed", "The specified security group rule description is not valid: "
      .. "1 to 512 characters.")
  end
  local peers = PEERS[direction]
  local cidr = r[peers.cidr]
  if cidr and not (cidr:match("^%d+%.%d+%.%d+%.%d+/%d+$") or cidr:match("^%d+%.%d+%.%d+%.%d+$")) then
    raise(direction == "ingress" and "InvalidSourceCidrIp.Malformed" or "InvalidDestCidrIp.Malformed")
  end
  if r[peers.group] and not cidr then check_peer(ctx, group, r, direction, mode) end
  -- a rule names only prefix lists that exist (DeletePrefixList refuses those named)
  if r[peers.list] then engine.find(ctx, "prefix_list", r[peers.list], group.RegionId) end
  if not peer_kind(r, direction) then raise(PEER_CODES[direction].missing) end
  -- the rules of a VPC's group are on the internal network whatever NicType says
  if group.VpcId then r.NicType = "intranet" end
  r.Direction = direction
  r.Description = r.Description or ""
  if mode == "authorize" then
    r.SecurityGroupRuleId = emu.ids:resource("sgr")
    r.CreateTime = state.iso(emu:now())
  end
  return r
end

local function same_rule(x, y)
  for _, f in ipairs(IDENTITY) do
    if (x[f] or "") ~= (y[f] or "") then return false end
  end
  return x.Direction == y.Direction and x.Priority == y.Priority
end

-- The rules of a call: the Permissions list, or the legacy parameters, each rule once.
local function read_rules(emu, a, ctx, group, direction, mode)
  local rules = {}
  for i = 1, MAX_PERMISSIONS + 1 do
    local r = read_rule(emu, a, ctx, group, "Permissions." .. i .. ".", direction, mode)
    if not r then break end
    if i > MAX_PERMISSIONS then
      raise("InvalidParam.Permissions", "The specified parameter Permissions is not valid: 1 to "
        .. MAX_PERMISSIONS .. " rules in one call.")
    end
    for _, other in ipairs(rules) do
      if same_rule(other, r) then raise("InvalidParam.DuplicatePermissions") end
    end
    rules[#rules + 1] = r
  end
  local legacy = read_rule(emu, a, ctx, group, "", direction, mode)
  if legacy then
    if #rules > 0 then raise("InvalidParam.Permissions") end
    rules[1] = legacy
  end
  if #rules == 0 then errors.missing("Permissions") end
  return rules
end

local function group_of(emu, a, ctx)
  return engine.find(ctx, "security_group", a:need("SecurityGroupId"), engine.region(emu, a))
end

local function group_rules(g)
  local n = 0
  for _, r in ipairs(g.Permissions) do
    if r.SourceGroupId or r.DestGroupId then n = n + 1 end
  end
  return n
end

local function authorize(direction)
  return function(emu, a, ctx)
    local g = group_of(emu, a, ctx)
    local rules = read_rules(emu, a, ctx, g, direction, "authorize")
    local added, named = {}, group_rules(g)
    for _, r in ipairs(rules) do
      local dup = false
      for _, have in ipairs(g.Permissions) do
        if same_rule(have, r) then dup = true end
      end
      -- a rule that is already there succeeds without a second copy
      if not dup then
        added[#added + 1] = r
        if r.SourceGroupId or r.DestGroupId then named = named + 1 end
      end
    end
    if #g.Permissions + #added > MAX_RULES then raise("AuthorizationLimitExceed") end
    if named > MAX_GROUP_RULES then raise("AuthorizedGroupRule.LimitExceed") end
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
        if not found then
          raise("InvalidSecurityGroupRuleId.NotFound", "The specified SecurityGroupRuleId \"" .. id .. "\" is not exists.")
        end
      end
    else
      -- a rule that is not there is no error: the group ends as asked
      for _, r in ipairs(read_rules(emu, a, ctx, g, direction, "revoke")) do
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
      if not target then
        raise("InvalidSecurityGroupRuleId.NotFound", "The specified SecurityGroupRuleId \"" .. rule_id .. "\" is not exists.")
      end
      -- by id, NicType and the kind of peer stay as they are
      local nic = a:str("NicType")
      if nic and nic:lower() ~= target.NicType then raise("InvalidOperation.ModifyNicType") end
      for _, field in pairs(PEERS[direction]) do
        if a:str(field) and not target[field] then raise("InvalidOperation.ModifySgRuleEntityType") end
      end
    else
      local probe = read_rule(emu, a, ctx, g, "", direction, "modify")
      for _, have in ipairs(g.Permissions) do
        if probe and same_rule(have, probe) then target = have end
      end
      if not target then raise("SecurityGroupRule.NotFound") end
    end
    local changed = {}
    for k, v in pairs(target) do changed[k] = v end
    for _, f in ipairs(RULE_FIELDS) do
      local v = a:str(f)
      if v ~= nil then changed[f] = v end
    end
    -- the changed rule is checked as a new one would be
    local params = {}
    for _, f in ipairs(RULE_FIELDS) do params[f] = changed[f] end
    local checked = read_rule(emu, require("aliyun.emulator.args").new(params), ctx, g, "", direction, "modify")
    for _, have in ipairs(g.Permissions) do
      if have ~= target and same_rule(have, checked) then
        raise("InvalidOperation.RuleDuplicate", "The modified rule is the same as the rule " .. have.SecurityGroupRuleId .. ".")
      end
    end
    engine.commit(a)
    for _, f in ipairs(RULE_FIELDS) do target[f] = checked[f] end
    return {}
  end
end

-- The instance or network interface a Join/LeaveSecurityGroup call names (one of the two),
-- and the records whose SecurityGroupIds change with it (an instance's primary interface too).
local function member(emu, a, ctx)
  local inst_id, eni_id = a:str("InstanceId"), a:str("NetworkInterfaceId")
  if inst_id and eni_id then raise("InvalidParam.EniIdAndInstanceId.Conflict") end
  local region = engine.region(emu, a, true)
  if inst_id then
    local inst = engine.find(ctx, "instance", inst_id, region)
    if inst.Status ~= "Running" and inst.Status ~= "Stopped" then raise("IncorrectInstanceStatus") end
    local recs = { inst }
    for _, e in ipairs(engine.list(ctx, "eni", function(e) return e.InstanceId == inst_id and e.Type == "Primary" end)) do
      recs[#recs + 1] = e
    end
    return inst, recs, "instance"
  end
  if not eni_id then errors.missing("InstanceId") end
  local eni = engine.find(ctx, "eni", eni_id, region)
  return eni, { eni }, "eni"
end

local function has_group(rec, id)
  for _, g in ipairs(rec.SecurityGroupIds or {}) do
    if g == id then return true end
  end
  return false
end

local function join(emu, a, ctx)
  local target, recs, what = member(emu, a, ctx)
  local g = engine.find(ctx, "security_group", a:need("SecurityGroupId"), target.RegionId)
  if g.VpcId ~= target.VpcId then
    if what == "instance" then raise("InvalidInstanceId.Mismatch") end
    raise("InvalidOperation.VpcMismatch", "The network interface and the security group are not in the same VPC.")
  end
  if has_group(target, g.SecurityGroupId) then raise("InvalidInstanceId.AlreadyExists") end
  -- basic and advanced groups do not mix
  for _, id in ipairs(target.SecurityGroupIds or {}) do
    local other = engine.get(ctx, "security_group", id)
    if other and other.SecurityGroupType ~= g.SecurityGroupType then raise("InvalidOperation.MultiGroupType") end
  end
  if #(target.SecurityGroupIds or {}) >= MAX_GROUPS then raise("InstanceSecurityGroupLimitExceeded") end
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
    Description = { check = "description", code = "InvalidSecurityGroupDiscription.Malformed", default = "" },
    SecurityGroupType = { enum = { "normal", "enterprise" }, code = "InvalidParams.GroupType", default = "normal" },
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
      before = function(_, _, ctx, rec)
        -- the emulated regions have no classic network: a group lies in a VPC, which is ready
        if not rec.VpcId then
          raise("InvalidVpcId.NotFound", "The VpcId must not empty when only support vpc vm.", 403)
        end
        if engine.get(ctx, "vpc", rec.VpcId).Status ~= "Available" then raise("IncorrectVpcStatus") end
        -- basic groups let their members talk to each other, advanced groups do not
        rec.InnerAccessPolicy = rec.SecurityGroupType == "enterprise" and "Drop" or "Accept"
        rec.Permissions = {}
        rec.ServiceID = 0
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
        local nic = a:enum("NicType", { "internet", "intranet" }, nil, "InvalidNicType.ValueNotSupported")
        local attribute = a:enum("Attribute", { "snapshotPolicyIds" })
        -- a VPC's group has internal rules only; it reads internet (or nothing) as intranet
        if g.VpcId then nic = "intranet" end
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
        if not v then
          raise("InvalidPolicy.Malformed", "The Policy is invalid. Only 'Accept' and 'Drop' are supported. Ignore case.")
        end
        if g.SecurityGroupType == "enterprise" then raise("InvalidParameter.InnerAccessPolicy") end
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
      -- a group that other groups' rules name stays (DescribeSecurityGroupReferences lists them)
      before = function(_, _, ctx, rec)
        for _, other in ipairs(engine.list(ctx, "security_group")) do
          for _, r in ipairs(other.Permissions) do
            if r.SourceGroupId == rec.SecurityGroupId or r.DestGroupId == rec.SecurityGroupId then
              raise("DependencyViolation", "The specified security group has been authorized in another one: "
                .. other.SecurityGroupId .. ".")
            end
          end
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
