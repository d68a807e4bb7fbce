-- Launch templates and their versions (ECS API reference chapter 6): up to 30 templates per
-- region and 30 versions per template, a default version that cannot be deleted on its own,
-- lookup by LaunchTemplateId or LaunchTemplateName. A version keeps the instance
-- configuration it was given, as the LaunchTemplateData model has it, and RunInstances
-- launches from it (launch_data).
local api = require "aliyun.api"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local shape = require "aliyun.emulator.shape"
local state = require "aliyun.emulator.state"

local raise = errors.raise

local MAX_TEMPLATES, MAX_VERSIONS = 30, 30

-- Parameters that describe the template itself, not the instances it launches.
local NOT_DATA = { RegionId = true, LaunchTemplateName = true, LaunchTemplateId = true, VersionDescription = true,
  TemplateTag = true, TemplateResourceGroupId = true, ClientToken = true }

-- The lists of the parameters and the names the model gives them back under.
local LISTS = { DataDisk = "DataDisks", NetworkInterface = "NetworkInterfaces", Tag = "Tags",
  SecurityGroupIds = "SecurityGroupIds" }

-- Kept, never shown: the model has no password field.
local SECRET = { Password = true }

local function typed(ptype, v)
  if ptype == "Integer" or ptype == "Long" or ptype == "Float" or ptype == "Double" then return tonumber(v) or v end
  if ptype == "Boolean" then return v:lower() == "true" end
  return v
end

local function data_model()
  local s = shape.of("ecs", "DescribeLaunchTemplateVersions")
  return s.fields.LaunchTemplateVersionSets.fields.LaunchTemplateVersionSet.item.fields.LaunchTemplateData
end

-- The parameters of a Create* action that become LaunchTemplateData (the ones its model
-- has), for the honoured list and for reading.
local function data_params(action)
  local model = data_model()
  local out = {}
  for _, p in ipairs(api.find("ecs", action).params) do
    local top = p.name:match("^[^.]+")
    if not NOT_DATA[p.name] and (SECRET[p.name] or model.fields[LISTS[top] or top]) then
      if p.sub then
        local item = model.fields[LISTS[top]] and model.fields[LISTS[top]].fields
        item = item and select(2, next(item))
        for _, s in ipairs(p.sub) do
          if item and item.item and (item.item.fields or {})[s.name] or (p.name == "Tag" and (s.name == "Key" or s.name == "Value")) then
            out[#out + 1] = { name = p.name .. "." .. s.name, param = p, sub = s }
          end
        end
      elseif p.type == "RepeatList" then
        out[#out + 1] = { name = p.name, param = p }
      else
        local rest = p.name:match("^[^.]+%.(.+)$")
        local sub = model.fields[top]
        if not rest or (sub and sub.fields and sub.fields[rest]) then out[#out + 1] = { name = p.name, param = p } end
      end
    end
  end
  return out
end

local function template_data(action, a)
  local data = {}
  local lists = {}
  for _, d in ipairs(data_params(action)) do
    local p = d.param
    local top = p.name:match("^[^.]+")
    if p.type == "RepeatList" then
      if not lists[p.name] then
        lists[p.name] = true
        local items = {}
        if p.sub then
          local fields, types = {}, {}
          for i, s in ipairs(p.sub) do fields[i] = s.name; types[s.name] = s.type end
          for i, item in ipairs(a:objects(p.name, fields)) do
            for k, v in pairs(item) do item[k] = typed(types[k], v) end
            items[i] = item
          end
        else
          for i, v in ipairs(a:list(p.name)) do items[i] = v end
        end
        if #items > 0 then data[LISTS[p.name] or p.name] = items end
      end
    elseif a:has(p.name) then
      local rest = p.name:match("^[^.]+%.(.+)$")
      local v = typed(p.type, a:str(p.name))
      if SECRET[p.name] then
        data["_" .. p.name] = v
      elseif rest then
        data[top] = data[top] or {}
        data[top][rest] = v
      else
        data[p.name] = v
      end
    end
  end
  return data
end

local function check_data(a)
  local ud = a:str("UserData")
  if ud then
    local raw = engine.base64(ud)
    if not raw then raise("InvalidUserData.Base64FormatInvalid") end
    if #raw > 16 * 1024 then raise("InvalidUserData.SizeExceeded") end
  end
  local vd = a:str("VersionDescription")
  if vd and (#vd < 2 or #vd > 256 or vd:match("^https?://")) then
    raise("InvalidDescription.Malformed", "The specified parameter \"VersionDescription\" is not valid.")
  end
end

local function add_version(emu, t, a, action)
  local now = state.iso(emu:now())
  local n = t.LatestVersionNumber + 1
  t._versions[#t._versions + 1] = { VersionNumber = n, VersionDescription = a:str("VersionDescription") or "",
    LaunchTemplateData = template_data(action, a), CreateTime = now, ModifiedTime = now }
  t.LatestVersionNumber, t.ModifiedTime = n, now
  return n
end

local function version(t, n)
  for i, v in ipairs(t._versions) do
    if v.VersionNumber == n then return v, i end
  end
  return nil
end

-- The template a call names by id or by name; one of them is needed.
local function find(ctx, a, rid)
  local id, name = a:str("LaunchTemplateId"), a:str("LaunchTemplateName")
  if not id and not name then
    raise("MissingParameter", "The input parameter \"LaunchTemplateId\" or \"LaunchTemplateName\" that is mandatory "
      .. "for processing this request is not supplied.")
  end
  for _, t in ipairs(engine.list(ctx, "launch_template")) do
    if t.RegionId == rid and (not id or t.LaunchTemplateId == id) and (not name or t.LaunchTemplateName == name) then
      return t
    end
  end
  raise("InvalidLaunchTemplate.NotFound", "The specified LaunchTemplateId \"" .. tostring(id or "")
    .. "\" or LaunchTemplateName \"" .. tostring(name or "") .. "\" is not found.")
end

local function not_found_version(t, n)
  raise("InvalidLaunchTemplateVersion.NotFound", "The specified LaunchTemplateId \"" .. t.LaunchTemplateId
    .. "\" Version \"" .. tostring(n) .. "\" is not found.")
end

local function honours(action)
  local out = { "LaunchTemplateName", "LaunchTemplateId", "VersionDescription", "TemplateTag", "TemplateResourceGroupId" }
  for _, d in ipairs(data_params(action)) do out[#out + 1] = d.name end
  return out
end

local actions = {}

actions.CreateLaunchTemplate = {
  op = "custom", honours = honours("CreateLaunchTemplate"),
  handler = function(emu, a, ctx)
    local rid = engine.region(emu, a)
    local name = a:need("LaunchTemplateName")
    if #name < 2 or #name > 128 or not name:match("^%a[%w%.:_%-]*$") or name:match("^https?://") then
      raise("InvalidLaunchTemplateName.Malformed")
    end
    check_data(a)
    local in_region = engine.list(ctx, "launch_template", function(t) return t.RegionId == rid end)
    for _, t in ipairs(in_region) do
      if t.LaunchTemplateName == name then
        raise("LaunchTemplateName.Duplicated", "The specified LaunchTemplateName \"" .. name .. "\" already exist.")
      end
    end
    if #in_region >= MAX_TEMPLATES then raise("LaunchTemplateLimitExceed") end
    local tags = engine.tags(a, "TemplateTag")
    engine.commit(a)
    local now = state.iso(emu:now())
    local t = engine.record(emu, ctx, engine.kinds.launch_template, { RegionId = rid, LaunchTemplateName = name,
      CreateTime = now, ModifiedTime = now, DefaultVersionNumber = 1, LatestVersionNumber = 0, _versions = {},
      CreatedBy = ctx.world.account, ResourceGroupId = a:str("TemplateResourceGroupId") or emu.default_resource_group,
      Tags = tags })
    t.CreationTime = nil
    add_version(emu, t, a, "CreateLaunchTemplate")
    engine.store(ctx, t)
    return { LaunchTemplateId = t.LaunchTemplateId, LaunchTemplateVersionNumber = 1 }
  end,
}

actions.CreateLaunchTemplateVersion = {
  op = "custom", honours = honours("CreateLaunchTemplateVersion"),
  handler = function(emu, a, ctx)
    local t = find(ctx, a, engine.region(emu, a))
    check_data(a)
    if #t._versions >= MAX_VERSIONS then raise("LaunchTemplateVersionLimitExceed") end
    engine.commit(a)
    return { LaunchTemplateVersionNumber = add_version(emu, t, a, "CreateLaunchTemplateVersion") }
  end,
}

actions.DeleteLaunchTemplate = {
  op = "custom", honours = { "LaunchTemplateId", "LaunchTemplateName" },
  handler = function(emu, a, ctx)
    local t = find(ctx, a, engine.region(emu, a))
    engine.commit(a)
    engine.remove(emu, ctx, t)
    return { LaunchTemplateId = t.LaunchTemplateId }
  end,
}

actions.DeleteLaunchTemplateVersion = {
  op = "custom", honours = { "LaunchTemplateId", "LaunchTemplateName", "DeleteVersion" },
  handler = function(emu, a, ctx)
    local t = find(ctx, a, engine.region(emu, a))
    local numbers = a:list("DeleteVersion")
    if #numbers == 0 then errors.missing("DeleteVersion.1") end
    for i, v in ipairs(numbers) do
      local n = tonumber(v)
      if not n or n ~= math.floor(n) then errors.invalid("DeleteVersion." .. i) end
      if n == t.DefaultVersionNumber then raise("InvalidOperation.DeleteDefaultVersion") end
      if not version(t, n) then not_found_version(t, v) end
      numbers[i] = n
    end
    engine.commit(a)
    for _, n in ipairs(numbers) do
      local _, i = version(t, n)
      if i then table.remove(t._versions, i) end
    end
    t.ModifiedTime = state.iso(emu:now())
    return {}
  end,
}

actions.ModifyLaunchTemplateDefaultVersion = {
  op = "custom", honours = { "LaunchTemplateId", "LaunchTemplateName", "DefaultVersionNumber" },
  handler = function(emu, a, ctx)
    local t = find(ctx, a, engine.region(emu, a))
    local n = a:int("DefaultVersionNumber")
    if not n then errors.missing("DefaultVersionNumber") end
    if not version(t, n) then not_found_version(t, n) end
    engine.commit(a)
    t.DefaultVersionNumber, t.ModifiedTime = n, state.iso(emu:now())
    return {}
  end,
}

actions.DescribeLaunchTemplates = {
  op = "describe", page_max = 50, page_size = 10,
  ids = { LaunchTemplateId = "LaunchTemplateId", LaunchTemplateName = "LaunchTemplateName" },
  filters = { TemplateResourceGroupId = "ResourceGroupId" },
  honours = { "TemplateTag" },
  prepare = function(_, a, ctx)
    local wanted = engine.tags(a, "TemplateTag")
    ctx.template_tags = wanted
  end,
  keep = function(rec, ctx) return engine.has_tags(rec, ctx.template_tags) end,
}

actions.DescribeLaunchTemplateVersions = {
  op = "custom", honours = { "LaunchTemplateId", "LaunchTemplateName", "LaunchTemplateVersion", "MinVersion",
    "MaxVersion", "DefaultVersion", "DetailFlag", "PageNumber", "PageSize" },
  handler = function(emu, a, ctx)
    local t = find(ctx, a, engine.region(emu, a))
    local wanted = a:list("LaunchTemplateVersion")
    local want_set = {}
    for i, v in ipairs(wanted) do
      local n = tonumber(v)
      if not n then errors.invalid("LaunchTemplateVersion." .. i) end
      want_set[n] = true
    end
    local min, max = a:int("MinVersion"), a:int("MaxVersion")
    local only_default = a:bool("DefaultVersion")
    local detail = a:bool("DetailFlag", true)
    local items = {}
    for _, v in ipairs(t._versions) do
      local n = v.VersionNumber
      if (#wanted == 0 or want_set[n]) and (not min or n >= min) and (not max or n <= max)
        and (only_default == nil or (n == t.DefaultVersionNumber) == only_default) then
        items[#items + 1] = v
      end
    end
    local page, meta = engine.page(emu, a, ctx, items, { page_max = 50 })
    local out = {}
    for i, v in ipairs(page) do
      out[i] = { LaunchTemplateId = t.LaunchTemplateId, LaunchTemplateName = t.LaunchTemplateName,
        VersionNumber = v.VersionNumber, VersionDescription = v.VersionDescription,
        DefaultVersion = v.VersionNumber == t.DefaultVersionNumber, CreatedBy = t.CreatedBy,
        CreateTime = v.CreateTime, ModifiedTime = v.ModifiedTime,
        LaunchTemplateData = detail and { _kind = "launch_template_data" } or nil }
      if detail then
        for k, x in pairs(v.LaunchTemplateData) do out[i].LaunchTemplateData[k] = x end
      end
    end
    meta.LaunchTemplateVersionSets = { LaunchTemplateVersionSet = out }
    return meta
  end,
}

local kind = {
  name = "launch_template", product = "ecs", id = "LaunchTemplateId", prefix = "lt", scope = "region",
  name_field = "LaunchTemplateName", not_found = "InvalidLaunchTemplate.NotFound", tag_type = "launchtemplate",
  roundtrip = {
    create = { "CreateLaunchTemplate", function(fx)
      return { RegionId = fx.region, LaunchTemplateName = "rt-template", InstanceType = "ecs.g7.large", ImageId = fx.image }
    end },
    describe = { "DescribeLaunchTemplates", function(fx, id)
      return { RegionId = fx.region, LaunchTemplateId = id and { id } or nil }
    end },
    delete = { "DeleteLaunchTemplate", function(fx, id) return { RegionId = fx.region, LaunchTemplateId = id } end },
    not_found = "InvalidLaunchTemplate.NotFound",
  },
  fields = {}, actions = actions,
}

-- The configuration RunInstances launches from: the named template's version
-- (LaunchTemplateVersion, else the default), as settings the launch reads.
function kind.launch_data(_, a, ctx, region)
  local t = find(ctx, a, region)
  local n = a:int("LaunchTemplateVersion") or t.DefaultVersionNumber
  local v = version(t, n)
  if not v then not_found_version(t, n) end
  local d = {}
  for k, x in pairs(v.LaunchTemplateData) do d[k] = x end
  if d.Tags then
    local tags = {}
    for i, tag in ipairs(d.Tags) do tags[i] = { Key = tag.Key, Value = tag.Value or "" } end
    d.Tags = tags
  end
  return d
end

return kind
