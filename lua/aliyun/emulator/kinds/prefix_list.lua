-- Prefix lists: named sets of CIDR blocks of one address family (IPv4 or IPv6) with at most
-- MaxEntries entries, which security group rules name (SourcePrefixListId, DestPrefixListId).
-- Entries are kept in the service's form (a single address becomes /32 or /128, IPv6 in
-- compressed lower case); a block with host bits set is refused. A prefix list that a rule
-- names cannot be deleted.
local cidr = require "aliyun.emulator.cidr"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local ipv6 = require "aliyun.emulator.ipv6"

local raise = errors.raise

local MAX_ENTRIES = 200

-- The rules of the account's security groups that name the prefix list.
local function users(ctx, id)
  local groups = {}
  for _, g in ipairs(engine.list(ctx, "security_group")) do
    for _, r in ipairs(g.Permissions or {}) do
      if r.SourcePrefixListId == id or r.DestPrefixListId == id then
        groups[#groups + 1] = g
        break
      end
    end
  end
  return groups
end

-- A CIDR block of the family in the service's form, or the published error.
local function block(family, text, param)
  local function bad(why)
    raise("InvalidParameter.CidrMalformed", "The specified parameter \"" .. param .. "\" is not a valid " .. family
      .. " CIDR block: " .. why .. ".")
  end
  local addr, len = text:match("^([^/]+)/(%d+)$")
  if not addr then addr = text end
  if family == "IPv4" then
    local n = cidr.ip(addr)
    len = tonumber(len or 32)
    if not n or len > 32 then bad("it must be like 10.0.0.0/8") end
    local base = cidr.parse(addr .. "/" .. len)
    if base ~= n then bad("the address has bits set past the prefix length") end
    return cidr.text(n) .. "/" .. len
  end
  local g = ipv6.parse(addr)
  len = tonumber(len or 128)
  if not g or len > 128 then bad("it must be like 2001:db8::/32") end
  if not ipv6.is_prefix(g, len) then bad("the address has bits set past the prefix length") end
  return ipv6.text(g) .. "/" .. len
end

local function entry_description(text, param)
  if text == nil then return "" end
  if #text < 2 or #text > 32 or text:match("^https?://") then
    errors.invalid(param, nil, nil, "It must be 2 to 32 characters long and must not start with http:// or https://.")
  end
  return text
end

-- Entry objects of a call ({Cidr =, Description =}), checked and in the service's form; no
-- block twice.
local function entries(a, family, param, with_description)
  local list = a:objects(param, with_description and { "Cidr", "Description" } or { "Cidr" })
  if #list > MAX_ENTRIES then
    raise("LimitExceed.Entry", "At most " .. MAX_ENTRIES .. " entries in " .. param .. ".N.")
  end
  local seen = {}
  for i, e in ipairs(list) do
    local where = param .. "." .. i
    if not e.Cidr then errors.missing(where .. ".Cidr") end
    e.Cidr = block(family, e.Cidr, where .. ".Cidr")
    if seen[e.Cidr] then
      raise("InvalidParameter.CidrDuplicated", "The CIDR block " .. e.Cidr .. " is given twice in " .. param .. ".N.")
    end
    seen[e.Cidr] = true
    if with_description then e.Description = entry_description(e.Description, where .. ".Description") end
  end
  return list, seen
end

local function too_many(n, max)
  if n > max then
    raise("LimitExceed.MaxEntries", "The prefix list would hold " .. n .. " entries; its MaxEntries is " .. max .. ".")
  end
end

local kind = {
  name = "prefix_list", product = "ecs", id = "PrefixListId", prefix = "pl", scope = "region",
  name_field = "PrefixListName", not_found = "InvalidPrefixListId.NotFound",
  fields = {
    PrefixListName = { code = "InvalidParameter.PrefixListName", check = function(v)
      if v:match("^com%.aliyun") or v:match("^com%.alibabacloud") then
        return false, "it must not start with com.aliyun or com.alibabacloud"
      end
      return engine.CHECKS.name(v)
    end },
    Description = { check = "description", code = "InvalidParameter", default = "" },
    AddressFamily = { enum = { "IPv4", "IPv6" }, code = "InvalidParameter.AddressFamily" },
    MaxEntries = { min = 1, max = MAX_ENTRIES, code = "InvalidParameter" },
  },
  view = function(_, rec, ctx)
    return { AssociationCount = #users(ctx, rec.PrefixListId) }
  end,
}

kind.actions = {
  CreatePrefixList = {
    op = "create", honours = { "Entry" }, limit = 100, limit_code = "LimitExceed.PrefixListPerRegion",
    before = function(_, a, _, rec)
      local list = entries(a, rec.AddressFamily, "Entry", true)
      too_many(#list, rec.MaxEntries)
      rec.Entries = list
    end,
    answer = function(_, _, rec) return { PrefixListId = rec.PrefixListId } end,
  },
  DescribePrefixLists = {
    op = "describe", page_max = 100,
    ids = { PrefixListId = "PrefixListId" },
    filters = {
      PrefixListName = "PrefixListName",
      AddressFamily = { field = "AddressFamily", enum = { "IPv4", "IPv6" }, code = "InvalidParameter.AddressFamily" },
    },
  },
  DescribePrefixListAttributes = { op = "get" },
  ModifyPrefixList = {
    op = "modify", fields = { "PrefixListName", "Description" }, honours = { "AddEntry", "RemoveEntry" },
    before = function(_, a, _, rec, old)
      local adds, added = entries(a, old.AddressFamily, "AddEntry", true)
      local removes = entries(a, old.AddressFamily, "RemoveEntry", false)
      local dropped = {}
      for _, r in ipairs(removes) do
        if added[r.Cidr] then
          raise("InvalidParameter.CidrDuplicated", "The CIDR block " .. r.Cidr .. " is both added and removed.")
        end
        local found = false
        for _, have in ipairs(old.Entries) do
          if have.Cidr == r.Cidr then found = true end
        end
        if not found then
          errors.invalid("RemoveEntry", nil, nil, "The CIDR block " .. r.Cidr .. " is not an entry of the prefix list.")
        end
        dropped[r.Cidr] = true
      end
      local out, at = {}, {}
      for _, have in ipairs(old.Entries) do
        if not dropped[have.Cidr] then
          out[#out + 1] = { Cidr = have.Cidr, Description = have.Description }
          at[have.Cidr] = out[#out]
        end
      end
      -- an entry added again takes the new description
      for _, e in ipairs(adds) do
        if at[e.Cidr] then
          at[e.Cidr].Description = e.Description
        else
          out[#out + 1] = e
        end
      end
      too_many(#out, old.MaxEntries)
      rec.Entries = out
    end,
  },
  DeletePrefixList = {
    op = "delete",
    before = function(_, _, ctx, rec)
      local groups = users(ctx, rec.PrefixListId)
      if #groups > 0 then
        raise("NotAllowed.AssociationExist", "The prefix list is named by rules of the security group "
          .. groups[1].SecurityGroupId .. ".")
      end
    end,
  },
}

kind.roundtrip = {
  create = { "CreatePrefixList", function(fx)
    return { RegionId = fx.region, PrefixListName = "emu-list", AddressFamily = "IPv4", MaxEntries = 5,
      Entry = { { Cidr = "10.0.0.0/8", Description = "private" } } }
  end },
  describe = { "DescribePrefixLists", function(fx, id) return { RegionId = fx.region, PrefixListId = { id } } end },
  modify = { "ModifyPrefixList", function(fx, id)
    return { RegionId = fx.region, PrefixListId = id, PrefixListName = "renamed" }
  end, "PrefixListName", "renamed" },
  delete = { "DeletePrefixList", function(fx, id) return { RegionId = fx.region, PrefixListId = id } end },
  not_found = "InvalidPrefixListId.NotFound",
}

return kind
