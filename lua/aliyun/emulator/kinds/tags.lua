-- Tags and resource groups across every kind that declares a `tag_type` (instance, disk,
-- snapshot, image, securitygroup, eni, keypair, launchtemplate, command, ...): TagResources,
-- UntagResources, ListTagResources, AddTags, RemoveTags, DescribeTags, JoinResourceGroup.
-- The records keep their tags (rec.Tags) and resource group (rec.ResourceGroupId); this file
-- only finds records by type and id. The limits and codes are the published ones: 50
-- resources and 20 tags a call (NumberExceed.*), 20 tags a resource
-- (OperationDenied.QuotaExceed; AddTags: InvalidTagCount), each key once (Duplicate.TagKey).
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"

local raise = errors.raise

local MAX_RESOURCES, MAX_TAGS = 50, 20

-- The ResourceType values the tag actions take (TagResources, UntagResources,
-- ListTagResources). A type the emulator has no kind of has no resources.
local TYPES = {}
for _, t in ipairs { "instance", "disk", "snapshot", "image", "securitygroup", "volume", "eni", "ddh", "ddhcluster",
  "keypair", "launchtemplate", "reservedinstance", "snapshotpolicy", "elasticityassurance", "capacityreservation",
  "command", "invocation" } do
  TYPES[t] = true
end

-- The kind of a ResourceType value (the service takes them in lower case; AddTags also in
-- other cases), or nil when the emulator has none; a value the service does not take is
-- InvalidResourceType.NotFound.
local function kind_of(resource_type)
  local t = tostring(resource_type):lower()
  if not TYPES[t] then
    raise("InvalidResourceType.NotFound", "The ResourceType \"" .. tostring(resource_type)
      .. "\" provided does not exist in our records.")
  end
  for _, k in pairs(engine.kinds) do
    if k.product == "ecs" and k.tag_type == t then return k end
  end
  return nil
end

-- A resource the account owns (a public image, or one another account shares, is not its to tag).
local function resource(ctx, kind, id, region)
  local rec = kind and engine.get(ctx, kind.name, id)
  local owned = rec and (rec.ImageOwnerAlias == nil or rec.ImageOwnerAlias == "self")
  if not owned or (region and rec.RegionId and rec.RegionId ~= region) then
    raise("InvalidResourceId.NotFound", "The specified ResourceId \"" .. tostring(id) .. "\" is not found.")
  end
  return rec
end

-- ResourceId.N: 1 to 50 ids.
local function resource_ids(a)
  local ids = a:list("ResourceId")
  if #ids > MAX_RESOURCES then
    raise("NumberExceed.ResourceIds", "The ResourceIds parameter's number is exceed , Valid : " .. MAX_RESOURCES)
  end
  return ids
end

local function resources(emu, a, ctx)
  local region = engine.region(emu, a)
  local kind = kind_of(a:need("ResourceType"))
  local ids = resource_ids(a)
  if #ids == 0 then raise("MissingParameter.ResourceIds") end
  local recs = {}
  for i, id in ipairs(ids) do recs[i] = resource(ctx, kind, id, region) end
  return recs, kind, region
end

-- Tag.N (1 to 20), each key once.
local function read_tags(a)
  if #a:objects("Tag", { "Key", "Value", "key", "value" }) > MAX_TAGS then
    raise("NumberExceed.Tags", "The Tags parameter's number is exceed , Valid : " .. MAX_TAGS)
  end
  local tags, seen = engine.tags(a), {}
  for _, t in ipairs(tags) do
    if seen[t.Key] then raise("Duplicate.TagKey", "The Tag.N.Key contain duplicate key: \"" .. t.Key .. "\".") end
    seen[t.Key] = true
  end
  return tags
end

local function need_tags(a)
  local tags = read_tags(a)
  if #tags == 0 then raise("MissingParameter.Tags") end
  return tags
end

-- How many tags a record has once `tags` are on it.
local function tag_count(rec, tags)
  local keys, n = {}, #rec.Tags
  for _, t in ipairs(rec.Tags) do keys[t.Key] = true end
  for _, t in ipairs(tags) do
    if not keys[t.Key] then n = n + 1 end
  end
  return n
end

local ACTIONS = {}

ACTIONS.TagResources = {
  honours = { "ResourceType", "ResourceId", "Tag" },
  handler = function(emu, a, ctx)
    local recs = resources(emu, a, ctx)
    local tags = need_tags(a)
    for _, rec in ipairs(recs) do
      if tag_count(rec, tags) > MAX_TAGS then
        raise("OperationDenied.QuotaExceed", "The quota of tags on resource is beyond permitted range: at most "
          .. MAX_TAGS .. " tags on a resource.")
      end
    end
    engine.tag_records(a, recs, tags)
    return {}
  end,
}

ACTIONS.UntagResources = {
  honours = { "ResourceType", "ResourceId", "TagKey", "All" },
  handler = function(emu, a, ctx)
    local recs = resources(emu, a, ctx)
    local keys = a:list("TagKey")
    if #keys > MAX_TAGS then
      raise("NumberExceed.Tags", "The Tags parameter's number is exceed , Valid : " .. MAX_TAGS)
    end
    if #keys > 0 and a:bool("All", false) then raise("Param.Conflict") end
    engine.untag_records(a, recs, "TagKey.1")
    return {}
  end,
}

ACTIONS.AddTags = {
  honours = { "ResourceType", "ResourceId", "Tag" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local kind = kind_of(a:need("ResourceType"))
    local rec = resource(ctx, kind, a:need("ResourceId"), region)
    -- AddTags (the older action) answers a resource past 20 tags with InvalidTagCount
    engine.tag_records(a, { rec }, need_tags(a))
    return {}
  end,
}

ACTIONS.RemoveTags = {
  honours = { "ResourceType", "ResourceId", "Tag" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local kind = kind_of(a:need("ResourceType"))
    local rec = resource(ctx, kind, a:need("ResourceId"), region)
    local tags = read_tags(a)
    engine.commit(a)
    if #tags == 0 then
      rec.Tags = {}
      return {}
    end
    local keep = {}
    for _, t in ipairs(rec.Tags) do
      local drop = false
      for _, w in ipairs(tags) do
        if w.Key == t.Key and (w.Value == "" or w.Value == t.Value) then drop = true end
      end
      if not drop then keep[#keep + 1] = t end
    end
    rec.Tags = keep
    return {}
  end,
}

-- Every taggable record of the region, with its kind.
local function taggable(ctx, region, only_kind)
  local out = {}
  local names = {}
  for name, k in pairs(engine.kinds) do
    if k.tag_type and TYPES[k.tag_type] and k.product == "ecs" and (not only_kind or k == only_kind) then
      names[#names + 1] = name
    end
  end
  table.sort(names)
  for _, name in ipairs(names) do
    local k = engine.kinds[name]
    for _, rec in ipairs(engine.list(ctx, name, function(r) return not r.RegionId or r.RegionId == region end)) do
      out[#out + 1] = { kind = k, rec = rec }
    end
  end
  return out
end

-- The fuzzy match of ListTagResources' TagFilter: "x*" by prefix, "*x*" anywhere, else exact.
local function fuzzy(value, pattern)
  local inner = pattern:match("^%*(.*)%*$")
  if inner then return value:find(inner, 1, true) ~= nil end
  local prefix = pattern:match("^(.*)%*$")
  if prefix then return value:sub(1, #prefix) == prefix end
  return value == pattern
end

ACTIONS.ListTagResources = {
  honours = { "ResourceType", "ResourceId", "Tag", "TagFilter", "NextToken" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local kind = kind_of(a:need("ResourceType"))
    local ids = resource_ids(a)
    -- Tag.N.Value without its Tag.N.Key: the page names InvalidParameter.TagValue
    for i, t in ipairs(a:objects("Tag", { "Key", "Value", "key", "value" })) do
      if (t.Key or t.key) == nil and (t.Value or t.value) ~= nil then
        raise("InvalidParameter.TagValue", "The specified Tag." .. i .. ".Value has no Tag." .. i .. ".Key.")
      end
    end
    local wanted = read_tags(a)
    local filters = a:objects("TagFilter", { "TagKey" })
    for i, f in ipairs(filters) do f.values = a:list("TagFilter." .. i .. ".TagValues") end
    if #ids == 0 and #wanted == 0 and #filters == 0 then errors.missing("ResourceId.1") end
    local id_set = {}
    for _, id in ipairs(ids) do id_set[id] = true end
    local rows = {}
    for _, item in ipairs(kind and taggable(ctx, region, kind) or {}) do
      local rec = item.rec
      local id = rec[kind.id]
      local ok = (#ids == 0 or id_set[id]) and engine.has_tags(rec, wanted)
      for _, f in ipairs(filters) do
        -- TagFilter searches fuzzily: "env*" by prefix, "*env*" anywhere, else exactly
        local hit = false
        for _, t in ipairs(rec.Tags) do
          if fuzzy(t.Key, f.TagKey) then
            if #f.values == 0 then hit = true end
            for _, v in ipairs(f.values) do if fuzzy(t.Value, v) then hit = true end end
          end
        end
        ok = ok and hit
      end
      if ok then
        for _, t in ipairs(rec.Tags) do
          rows[#rows + 1] = { ResourceId = id, ResourceType = kind.tag_type, TagKey = t.Key, TagValue = t.Value }
        end
      end
    end
    local start = 1
    local token = a:str("NextToken")
    if token then
      start = emu.page_tokens[token]
      if not start then raise("InvalidParameter.NextToken") end
    end
    local page = json.array {}
    for i = start, math.min(#rows, start + 49) do page[#page + 1] = rows[i] end
    local next_token
    if start + 50 <= #rows then
      next_token = emu.ids:hex(32)
      emu.page_tokens[next_token] = start + 50
    end
    return { TagResources = { TagResource = page }, NextToken = next_token }
  end,
}

local COUNT_FIELDS = { instance = "Instance", disk = "Disk", eni = "Eni", image = "Image", keypair = "KeyPair",
  launchtemplate = "LaunchTemplate", securitygroup = "Securitygroup", snapshot = "Snapshot",
  snapshotpolicy = "SnapshotPolicy", ddh = "Ddh", reservedinstance = "ReservedInstance", volume = "Volume" }

ACTIONS.DescribeTags = {
  honours = { "ResourceType", "ResourceId", "Tag", "Category", "PageNumber", "PageSize" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local typed = a:has("ResourceType")
    local kind = typed and kind_of(a:str("ResourceType")) or nil
    local rid = a:str("ResourceId")
    local category = a:enum("Category", { "Custom", "System" }, "Custom")
    local wanted = engine.tags(a)
    local pairs_seen, list = {}, {}
    if category == "Custom" then
      for _, item in ipairs((typed and not kind) and {} or taggable(ctx, region, kind)) do
        local rec = item.rec
        if (not rid or rec[item.kind.id] == rid) then
          for _, t in ipairs(rec.Tags) do
            local match = #wanted == 0
            for _, w in ipairs(wanted) do
              if w.Key == t.Key and (w.Value == "" or w.Value == t.Value) then match = true end
            end
            if match then
              local key = t.Key .. "\0" .. t.Value
              local row = pairs_seen[key]
              if not row then
                row = { TagKey = t.Key, TagValue = t.Value, ResourceTypeCount = {} }
                pairs_seen[key] = row
                list[#list + 1] = row
              end
              local f = COUNT_FIELDS[item.kind.tag_type]
              if f then row.ResourceTypeCount[f] = (row.ResourceTypeCount[f] or 0) + 1 end
            end
          end
        end
      end
    end
    local page, meta = engine.page(emu, a, ctx, list, { page_size = 50, page_max = 100 })
    meta.Tags = { Tag = page }
    return meta
  end,
}

ACTIONS.JoinResourceGroup = {
  honours = { "ResourceType", "ResourceId", "ResourceGroupId" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a, true)
    local kind = kind_of(a:need("ResourceType"))
    local rec = resource(ctx, kind, a:need("ResourceId"), region)
    local group = a:need("ResourceGroupId")
    if not group:match("^rg%-[%w]+$") then
      raise("InvalidResourceGroup.NotFound", "The ResourceGroup \"" .. group .. "\" does not exist (the emulator "
        .. "takes any id of the form rg-<letters and digits>).")
    end
    engine.commit(a)
    rec.ResourceGroupId = group
    return {}
  end,
}

local actions = {}
for name, decl in pairs(ACTIONS) do
  actions[name] = { op = "custom", honours = decl.honours, handler = decl.handler }
end

return { name = "tags", product = "ecs", id = "Key", actions = actions }
