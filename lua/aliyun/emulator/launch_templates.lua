-- Launch templates and their versions (ECS API reference chapter 6): up to 30 templates
-- per region and 30 versions per template, a default version that cannot be deleted on its
-- own, lookup by LaunchTemplateId or LaunchTemplateName. A version keeps the instance
-- configuration it was given, typed by the metadata, and gives it back as LaunchTemplateData.
local api = require "aliyun.api"
local core = require "aliyun.core"
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"
local regions = require "aliyun.emulator.regions"
local fixtures = require "aliyun.emulator.fixtures"
local state = require "aliyun.emulator.state"

local lt = { product = "ecs", actions = {} }
local A = lt.actions

local arr = json.array
local raise = errors.raise

local MAX_TEMPLATES, MAX_VERSIONS = 30, 30

-- Parameters that describe the template itself, not the instances it launches.
local NOT_DATA = { RegionId = true, LaunchTemplateName = true, LaunchTemplateId = true, VersionDescription = true,
  TemplateTag = true, TemplateResourceGroupId = true, ClientToken = true }

-- RepeatLists of LaunchTemplateData and the names they are given back under.
local LISTS = {
  DataDisk = { "DataDisks", "DataDisk" }, NetworkInterface = { "NetworkInterfaces", "NetworkInterface" },
  Tag = { "Tags", "InstanceTag" }, SecurityGroupIds = { "SecurityGroupIds", "SecurityGroupId" },
}

function lt.init(emu)
  emu.db.templates = state.collection()
end

local function typed(ptype, v)
  if ptype == "Integer" or ptype == "Long" or ptype == "Float" or ptype == "Double" then return tonumber(v) or v end
  if ptype == "Boolean" then return v:lower() == "true" end
  return v
end

-- The instance configuration of a Create* call, from the wire parameters and the metadata.
local function template_data(action, a)
  local entry = api.find("ecs", action)
  local data = {}
  for _, p in ipairs(entry.params) do
    if not NOT_DATA[p.name] then
      local list = LISTS[p.name]
      if p.type == "RepeatList" and list then
        local items = arr {}
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
        if #items > 0 then data[list[1]] = { [list[2]] = items } end
      elseif p.type ~= "RepeatList" and p.type ~= "Struct" and a:has(p.name) then
        data[p.name] = typed(p.type, a:str(p.name))
      end
    end
  end
  return data
end

local function check_data(a)
  local ud = a:str("UserData")
  if ud then
    local ok, raw = pcall(core.base64_decode, ud)
    if not ok or not raw or not ud:match("^[%w+/]*=?=?$") or #ud % 4 ~= 0 then
      raise("InvalidUserData.Base64FormatInvalid", "The specified parameter UserData must be base64 encoded.", 400)
    end
    if #raw > 16 * 1024 then raise("InvalidUserData.SizeExceeded", "The specified parameter UserData exceeds the size.", 400) end
  end
  local vd = a:str("VersionDescription")
  if vd and (#vd < 2 or #vd > 256 or vd:match("^https?://")) then
    raise("InvalidDescription.Malformed", "The specified parameter \"VersionDescription\" is not valid.", 400)
  end
end

local function add_version(emu, t, a, action)
  local now = emu:now()
  local n = t.latest + 1
  t.versions[n] = { number = n, description = a:str("VersionDescription") or "", data = template_data(action, a),
    created = now, modified = now }
  t.latest, t.modified = n, now
  t.count = t.count + 1
  return n
end

A.CreateLaunchTemplate = function(emu, a)
  local rid = regions.region(emu, a)
  local name = a:need("LaunchTemplateName")
  if #name < 2 or #name > 128 or not name:match("^%a[%w%.:_%-]*$") or name:match("^https?://") then
    raise("InvalidLaunchTemplateName.Malformed", "The specified parameter LaunchTemplateName is not valid.", 400)
  end
  check_data(a)
  local in_region = emu.db.templates:list(function(t) return t.region == rid end)
  for _, t in ipairs(in_region) do
    if t.name == name then
      raise("LaunchTemplateName.Duplicated", "The specified LaunchTemplateName \"" .. name .. "\" already exist.", 403)
    end
  end
  if #in_region >= MAX_TEMPLATES then
    raise("LaunchTemplateLimitExceed", "The maximum number of templates is exceeded.", 403)
  end
  local now = emu:now()
  local t = { id = emu.ids:resource("lt"), region = rid, name = name, created = now, modified = now, default = 1,
    latest = 0, count = 0, versions = {}, resource_group = a:str("TemplateResourceGroupId") or "",
    tags = a:objects("TemplateTag", { "Key", "Value" }) }
  add_version(emu, t, a, "CreateLaunchTemplate")
  emu.db.templates:add(t.id, t)
  return { LaunchTemplateId = t.id, LaunchTemplateVersionNumber = 1 }
end

-- The template a call names by id or by name; one of them is needed.
local function find(emu, a, rid)
  local id, name = a:str("LaunchTemplateId"), a:str("LaunchTemplateName")
  if not id and not name then
    raise("MissingParameter", "The input parameter \"LaunchTemplateId\" or \"LaunchTemplateName\" that is mandatory "
      .. "for processing this request is not supplied.", 400)
  end
  for _, t in ipairs(emu.db.templates:list()) do
    if t.region == rid and (not id or t.id == id) and (not name or t.name == name) then return t end
  end
  raise("InvalidLaunchTemplate.NotFound", "The specified LaunchTemplateId \"" .. tostring(id or "")
    .. "\" or LaunchTemplateName \"" .. tostring(name or "") .. "\" is not found.", 400)
end

A.CreateLaunchTemplateVersion = function(emu, a)
  local rid = regions.region(emu, a)
  local t = find(emu, a, rid)
  check_data(a)
  if t.count >= MAX_VERSIONS then
    raise("LaunchTemplateVersionLimitExceed", "The maximum number of template's versions is exceeded.", 403)
  end
  return { LaunchTemplateVersionNumber = add_version(emu, t, a, "CreateLaunchTemplateVersion") }
end

A.DeleteLaunchTemplate = function(emu, a)
  local rid = regions.region(emu, a)
  local t = find(emu, a, rid)
  emu.db.templates:remove(t.id)
  return { LaunchTemplateId = t.id }
end

A.DeleteLaunchTemplateVersion = function(emu, a)
  local rid = regions.region(emu, a)
  local t = find(emu, a, rid)
  local numbers = a:list("DeleteVersion")
  for i, v in ipairs(numbers) do
    local n = tonumber(v)
    if not n or n ~= math.floor(n) then errors.invalid("DeleteVersion." .. i) end
    if n == t.default then
      raise("InvalidOperation.DeleteDefaultVersion", "Delete default version from template is not allowed.", 403)
    end
    if not t.versions[n] then
      raise("InvalidLaunchTemplateVersion.NotFound", "The specified LaunchTemplateId \"" .. t.id .. "\" Version \""
        .. v .. "\" is not found.", 400)
    end
    numbers[i] = n
  end
  for _, n in ipairs(numbers) do
    if t.versions[n] then
      t.versions[n] = nil
      t.count = t.count - 1
    end
  end
  t.modified = emu:now()
  return {}
end

A.ModifyLaunchTemplateDefaultVersion = function(emu, a)
  local rid = regions.region(emu, a)
  local t = find(emu, a, rid)
  local n = a:int("DefaultVersionNumber")
  if not t.versions[n] then
    raise("InvalidLaunchTemplateVersion.NotFound", "The specified LaunchTemplateId \"" .. t.id .. "\" Version \""
      .. tostring(n) .. "\" is not found.", 400)
  end
  t.default, t.modified = n, emu:now()
  return {}
end

local function describe_template(t)
  local tags = arr {}
  for i, tag in ipairs(t.tags) do tags[i] = { Key = tag.Key, Value = tag.Value or "" } end
  return { LaunchTemplateId = t.id, LaunchTemplateName = t.name, CreateTime = state.iso(t.created),
    ModifiedTime = state.iso(t.modified), DefaultVersionNumber = t.default, LatestVersionNumber = t.latest,
    CreatedBy = fixtures.ACCOUNT, ResourceGroupId = t.resource_group, Tags = { Tag = tags } }
end

A.DescribeLaunchTemplates = function(emu, a)
  local rid = regions.region(emu, a)
  local ids, names = a:list("LaunchTemplateId"), a:list("LaunchTemplateName")
  local id_set, name_set = {}, {}
  for _, v in ipairs(ids) do id_set[v] = true end
  for _, v in ipairs(names) do name_set[v] = true end
  local group = a:str("TemplateResourceGroupId")
  local items = emu.db.templates:list(function(t)
    return t.region == rid and (#ids == 0 or id_set[t.id]) and (#names == 0 or name_set[t.name])
      and (not group or t.resource_group == group)
  end)
  local page, meta = a:page(emu, items, 50)
  local out = arr {}
  for i, t in ipairs(page) do out[i] = describe_template(t) end
  meta.LaunchTemplateSets = { LaunchTemplateSet = out }
  return meta
end

A.DescribeLaunchTemplateVersions = function(emu, a)
  local rid = regions.region(emu, a)
  local t = find(emu, a, rid)
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
  for n = 1, t.latest do
    local v = t.versions[n]
    if v and (#wanted == 0 or want_set[n]) and (not min or n >= min) and (not max or n <= max)
      and (only_default == nil or (n == t.default) == only_default) then
      items[#items + 1] = v
    end
  end
  local page, meta = a:page(emu, items, 50)
  local out = arr {}
  for i, v in ipairs(page) do
    out[i] = { LaunchTemplateId = t.id, LaunchTemplateName = t.name, VersionNumber = v.number,
      VersionDescription = v.description, DefaultVersion = v.number == t.default, CreatedBy = fixtures.ACCOUNT,
      CreateTime = state.iso(v.created), ModifiedTime = state.iso(v.modified),
      LaunchTemplateData = detail and json.object(v.data) or nil }
  end
  meta.LaunchTemplateVersionSets = { LaunchTemplateVersionSet = out }
  return meta
end

return lt
