-- Tags and resource groups across every kind that declares a `tag_type` (instance, disk,
-- snapshot, image, securitygroup, eni, keypair, launchtemplate, command, ...): TagResources,
-- UntagResources, ListTagResources, AddTags, RemoveTags, DescribeTags, JoinResourceGroup.
-- The records keep their tags (rec.Tags) and resource group (rec.ResourceGroupId); this file
-- only finds records by type and id.
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"

local raise = errors.raise

-- The kind of a ResourceType value (the service takes them in lower case; AddTags also in
-- other cases).
local function kind_of(resource_type)
  local t = tostring(resource_type):lower()
  for _, k in pairs(engine.kinds) do
    if k.product == "ecs" and k.tag_type == t then return k end
  end
  raise("InvalidResourceType.NotFound", "The ResourceType \"" .. tostring(resource_type)
    .. "\" is not a taggable resource type of the emulator.")
end

-- A resource the account owns (a public image, or one another account shares, is not its to tag).
local function resource(ctx, kind, id, region)
  local rec = engine.get(ctx, kind.name, id)
  local owned = rec and (rec.ImageOwnerAlias == nil or rec.ImageOwnerAlias == "self")
  if not owned or (region and rec.RegionId and rec.RegionId ~= region) then
    raise("InvalidResourceId.NotFound", "The specified ResourceId \"" .. tostring(id) .. "\" is not found.")
  end
  return rec
end

local function resources(emu, a, ctx, max)
  local region = engine.region(emu, a)
  local kind = kind_of(a:need("ResourceType"))
  local ids = a:list("ResourceId")
  if #ids == 0 then errors.missing("ResourceId.1") end
  if #ids > (max or 50) then errors.invalid("ResourceId", nil, nil, "At most " .. (max or 50) .. " resources.") end
  local recs = {}
  for i, id in ipairs(ids) do recs[i] = resource(ctx, kind, id, region) end
  return recs, kind, region
end

local function need_tags(a)
  local tags = engine.tags(a)
  if #tags == 0 then errors.missing("Tag.1.Key") end
  return tags
end

local ACTIONS = {}

ACTIONS.TagResources = {
  honours = { "ResourceType", "ResourceId", "Tag" },
  handler = function(emu, a, ctx)
    local recs = resources(emu, a, ctx)
    engine.tag_records(a, recs, need_tags(a))
    return {}
  end,
}

ACTIONS.UntagResources = {
  honours = { "ResourceType", "ResourceId", "TagKey", "All" },
  handler = function(emu, a, ctx)
    engine.untag_records(a, resources(emu, a, ctx), "TagKey.1")
    return {}
  end,
}

ACTIONS.AddTags = {
  honours = { "ResourceType", "ResourceId", "Tag" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local kind = kind_of(a:need("ResourceType"))
    local rec = resource(ctx, kind, a:need("ResourceId"), region)
    local tags = need_tags(a)
    engine.tag_records(a, { rec }, tags)
    return {}
  end,
}

ACTIONS.RemoveTags = {
  honours = { "ResourceType", "ResourceId", "Tag" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local kind = kind_of(a:need("ResourceType"))
    local rec = resource(ctx, kind, a:need("ResourceId"), region)
    local tags = engine.tags(a)
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
    if k.tag_type and k.product == "ecs" and (not only_kind or k == only_kind) then names[#names + 1] = name end
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

ACTIONS.ListTagResources = {
  honours = { "ResourceType", "ResourceId", "Tag", "TagFilter", "NextToken" },
  handler = function(emu, a, ctx)
    local region = engine.region(emu, a)
    local kind = kind_of(a:need("ResourceType"))
    local ids = a:list("ResourceId")
    if #ids > 50 then errors.invalid("ResourceId", nil, nil, "At most 50 resources.") end
    local wanted = engine.tags(a)
    local filters = a:objects("TagFilter", { "TagKey" })
    for i, f in ipairs(filters) do f.values = a:list("TagFilter." .. i .. ".TagValues") end
    if #ids == 0 and #wanted == 0 and #filters == 0 then errors.missing("ResourceId.1") end
    local id_set = {}
    for _, id in ipairs(ids) do id_set[id] = true end
    local rows = {}
    for _, item in ipairs(taggable(ctx, region, kind)) do
      local rec = item.rec
      local id = rec[kind.id]
      local ok = (#ids == 0 or id_set[id]) and engine.has_tags(rec, wanted)
      for _, f in ipairs(filters) do
        local hit = false
        for _, t in ipairs(rec.Tags) do
          if t.Key == f.TagKey then
            if #f.values == 0 then hit = true end
            for _, v in ipairs(f.values) do if v == t.Value then hit = true end end
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
    local kind = a:has("ResourceType") and kind_of(a:str("ResourceType")) or nil
    local rid = a:str("ResourceId")
    local category = a:enum("Category", { "Custom", "System" }, "Custom")
    local wanted = engine.tags(a)
    local pairs_seen, list = {}, {}
    if category == "Custom" then
      for _, item in ipairs(taggable(ctx, region, kind)) do
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
