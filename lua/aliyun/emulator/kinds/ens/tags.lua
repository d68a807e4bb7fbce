-- ENS tags: TagResources, UntagResources and ListTagResources over the ENS kinds that
-- declare a tag_type. The service documents instances as the only taggable resource
-- (ResourceType "instance"); other ENS resources take tags when they are made (their
-- create actions' Tag) and show them, but the tag actions refuse their types, as the
-- service does. The records keep their tags (rec.Tags).
local common = require "aliyun.emulator.kinds.ens.common"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"

local raise = errors.raise
local bad_field = common.bad_field

local PAGE = 50

local function kind_of(resource_type)
  for _, k in pairs(engine.kinds) do
    if k.product == "ens" and k.tag_type == resource_type then return k end
  end
  bad_field("ResourceType", "Valid values: instance.")
end

local function records(a, ctx, kind, required)
  local ids = a:strings("ResourceId", "InvalidParameter.ResourceId")
  if required and #ids == 0 then errors.missing("ResourceId") end
  if #ids > 50 then bad_field("ResourceId", "At most 50 resources a call.") end
  local recs = {}
  for i, id in ipairs(ids) do
    recs[i] = engine.get(ctx, kind.name, id)
    if not recs[i] then bad_field("ResourceId", "The resource " .. id .. " does not exist.") end
  end
  return recs, ids
end

-- ENS tag keys are at most 64 characters (the engine checks the rest).
local function checked_tags(a)
  local tags = engine.tags(a)
  for _, t in ipairs(tags) do
    if #t.Key > 64 then raise("InvalidTagKey.Malformed", "The tag key " .. t.Key .. " is longer than 64 characters.") end
  end
  return tags
end

local actions = {
  TagResources = {
    op = "custom", honours = { "ResourceType", "ResourceId", "Tag" },
    handler = function(_, a, ctx)
      local kind = kind_of(a:need("ResourceType"))
      local recs = records(a, ctx, kind, true)
      local tags = checked_tags(a)
      if #tags == 0 then errors.missing("Tag") end
      engine.tag_records(a, recs, tags)
      return {}
    end,
  },
  UntagResources = {
    op = "custom", honours = { "ResourceType", "ResourceId", "TagKey", "All" },
    handler = function(_, a, ctx)
      local kind = kind_of(a:need("ResourceType"))
      engine.untag_records(a, records(a, ctx, kind, true))
      return {}
    end,
  },
  ListTagResources = {
    op = "custom", honours = { "ResourceType", "ResourceId", "Tag", "NextToken" },
    handler = function(emu, a, ctx)
      local kind = kind_of(a:need("ResourceType"))
      local recs, ids = records(a, ctx, kind, false)
      local wanted = checked_tags(a)
      if #ids == 0 then recs = engine.list(ctx, kind.name) end
      local rows = {}
      for _, rec in ipairs(recs) do
        if engine.has_tags(rec, wanted) then
          for _, t in ipairs(rec.Tags) do
            rows[#rows + 1] = { ResourceId = rec[kind.id], ResourceType = kind.tag_type, TagKey = t.Key, TagValue = t.Value }
          end
        end
      end
      local start = 1
      local token = a:str("NextToken")
      if token then
        start = emu.page_tokens[token]
        if not start then bad_field("NextToken", "It is not a token of a previous answer.") end
      end
      local page = json.array {}
      for i = start, math.min(#rows, start + PAGE - 1) do page[#page + 1] = rows[i] end
      local out = { TagResources = page }
      if start + PAGE <= #rows then
        out.NextToken = emu.ids:hex(32)
        emu.page_tokens[out.NextToken] = start + PAGE
      end
      return out
    end,
  },
}

return { name = "ens_tags", product = "ens", id = "Key", actions = actions }
