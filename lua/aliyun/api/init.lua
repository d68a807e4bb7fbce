-- The API tables, loaded lazily per product, and introspection over them for the REPL,
-- the command line and error messages. The tables themselves are generated (ecs.lua,
-- ens.lua); this module only reads them.
local api = {}

local loaded = {}

local STYLES = { flat = true, json = true, simple = true }

-- One action's entry from the text tools/gen-api.lua stores (the format is described
-- there): {methods = {...}, deprecated = true|nil, params = {{name, type, style, required,
-- position, sub}, ...}}. style is how the value travels: "flat" (Name.1, Name.Field),
-- "json" (one JSON string) or "simple" (comma-joined); nil for a scalar sent as it is.
local function decode(text)
  local lines = text:gmatch("[^\n]+")
  local entry = { methods = {}, params = {} }
  for word in lines():gmatch("%S+") do
    if word == "deprecated" then
      entry.deprecated = true
    else
      entry.methods[#entry.methods + 1] = word
    end
  end
  local last = {} -- the latest parameter at each depth: the parent of the next deeper line
  for line in lines do
    local indent, name, ptype, flags = line:match("^( *)(%S+) (%S+)(.*)$")
    local p = { name = name, type = ptype, required = false, position = "Query" }
    for flag in flags:gmatch("%S+") do
      if flag == "required" then
        p.required = true
      elseif STYLES[flag] then
        p.style = flag
      else
        p.position = flag
      end
    end
    local depth = #indent
    if depth == 0 then
      entry.params[#entry.params + 1] = p
    else
      local parent = last[depth - 1]
      parent.sub = parent.sub or {}
      parent.sub[#parent.sub + 1] = p
    end
    last[depth] = p
  end
  return entry
end

-- The sorted action names of loaded tables, listed on first need.
local sorted_names = setmetatable({}, { __mode = "k" })

local function names_of(t)
  local names = sorted_names[t]
  if not names then
    names = {}
    for _, list in ipairs(t.parts) do
      for name in list:gmatch("%S+") do names[#names + 1] = name end
    end
    table.sort(names)
    sorted_names[t] = names
  end
  return names
end

-- The number of the part whose list (" Name Other ... ") names the action, or nil. Only on
-- an action's first use (its entry is kept), so a plain search beats building a table of
-- every name, which cost a fresh process more than the search of all parts.
local function part_of(parts, name)
  if type(name) ~= "string" or not name:find("^%u%w*$") then return nil end
  local key = " " .. name .. " "
  for i = 1, #parts do
    if parts[i]:find(key, 1, true) then return i end
  end
  return nil
end

-- A product's tables as api.load returns them, from the generated list of actions (which
-- part file holds each one's text). `actions` is indexed by name: the part is loaded and the
-- entry built on first use, once. pairs() over it sees every action under Lua 5.4
-- (__pairs); LuaJIT ignores __pairs, so portable code goes through api.entries or api.actions.
local function unpack_tables(product, tables)
  local parts = tables.parts
  local t = { product = tables.product, version = tables.version, parts = parts }
  t.actions = setmetatable({}, {
    __index = function(actions, name)
      local part = part_of(parts, name)
      if not part then return nil end
      local text = require("aliyun.api." .. product .. "." .. part)[name]
      if type(text) ~= "string" then return nil end
      local entry = decode(text)
      rawset(actions, name, entry)
      return entry
    end,
    __pairs = function(actions)
      local names, i = names_of(t), 0
      return function()
        i = i + 1
        local name = names[i]
        if name then return name, actions[name] end
      end, actions, nil
    end,
  })
  return t
end

-- api.load(product) -> {product, version, actions = {[Name] = entry}} | nil
function api.load(product)
  if type(product) ~= "string" then return nil end
  product = product:lower()
  local t = loaded[product]
  if t == nil then
    local ok, tables = pcall(require, "aliyun.api." .. product)
    t = ok and type(tables) == "table" and type(tables.parts) == "table" and unpack_tables(product, tables) or false
    loaded[product] = t
  end
  return t or nil
end

-- The products the library has tables for.
function api.products()
  return { "ecs", "ens" }
end

-- api.find(product, action) -> entry | nil
function api.find(product, action)
  local t = api.load(product)
  return t and t.actions[action] or nil
end

-- api.actions(product) -> sorted list of action names (a fresh copy each time)
function api.actions(product)
  local t = api.load(product)
  if not t then return {} end
  local copy = {}
  for i, n in ipairs(names_of(t)) do copy[i] = n end
  return copy
end

-- for name, entry in api.entries(product) do ... end: every action in name order (builds
-- every entry; api.actions lists the names alone).
function api.entries(product)
  local t = api.load(product)
  local names, i = t and names_of(t) or {}, 0
  return function()
    i = i + 1
    local name = names[i]
    if name then return name, t.actions[name] end
  end
end

-- The set of HTTP methods an action allows: {GET = true, POST = true}.
local method_sets = setmetatable({}, { __mode = "k" })

function api.methods(entry)
  local set = method_sets[entry]
  if not set then
    set = {}
    for _, m in ipairs(entry.methods or { "GET", "POST" }) do set[m] = true end
    method_sets[entry] = set
  end
  return set
end

-- entry's parameters by name, built once per entry. Parameters of the metadata whose
-- name has a dot (SystemDisk.Category) are also grouped under their prefix so that a
-- nested table (SystemDisk = {Category = ...}) can be matched against them.
local indexes = setmetatable({}, { __mode = "k" })

function api.index(entry)
  local idx = indexes[entry]
  if idx then return idx end
  idx = { by_name = {}, groups = {}, names = {} }
  for _, p in ipairs(entry.params or {}) do
    idx.by_name[p.name] = p
    idx.names[#idx.names + 1] = p.name
    local prefix, field = p.name:match("^([^.]+)%.(.+)$")
    if prefix then
      local g = idx.groups[prefix]
      if not g then
        g = {}
        idx.groups[prefix] = g
      end
      g[field] = p
    end
  end
  for prefix in pairs(idx.groups) do
    if not idx.by_name[prefix] then idx.names[#idx.names + 1] = prefix end
  end
  table.sort(idx.names)
  indexes[entry] = idx
  return idx
end

local function copy_param(p)
  local d = { name = p.name, type = p.type, style = p.style, required = p.required, position = p.position }
  if p.sub then
    d.sub = {}
    for i, s in ipairs(p.sub) do d.sub[i] = copy_param(s) end
  end
  return d
end

-- api.describe(product, action) -> {name, methods, deprecated, parameters} | nil, message
function api.describe(product, action)
  local entry = api.find(product, action)
  if not entry then
    local near = api.suggest(api.actions(product), action, 3)
    return nil, string.format("%s has no action '%s'%s", tostring(product), tostring(action),
      #near > 0 and ("; did you mean " .. table.concat(near, ", ") .. "?") or "")
  end
  local d = { name = action, methods = {}, deprecated = entry.deprecated == true, parameters = {} }
  for i, m in ipairs(entry.methods) do d.methods[i] = m end
  for i, p in ipairs(entry.params) do d.parameters[i] = copy_param(p) end
  return d
end

-- Levenshtein distance, case-insensitive (users get case wrong more than letters).
local function distance(a, b)
  a, b = a:lower(), b:lower()
  local la, lb = #a, #b
  if la == 0 then return lb end
  if lb == 0 then return la end
  local prev, cur = {}, {}
  for j = 0, lb do prev[j] = j end
  for i = 1, la do
    cur[0] = i
    local ca = a:byte(i)
    for j = 1, lb do
      local cost = (ca == b:byte(j)) and 0 or 1
      local v = prev[j] + 1
      if cur[j - 1] + 1 < v then v = cur[j - 1] + 1 end
      if prev[j - 1] + cost < v then v = prev[j - 1] + cost end
      cur[j] = v
    end
    prev, cur = cur, prev
  end
  return prev[lb]
end

api.distance = distance

-- api.suggest(names, name, n) -> up to n names closest to name, nearest first. Only names
-- within a distance that could be a typo are offered; a name that contains the other
-- (DescribeDisk / DescribeDisks) always counts as close.
function api.suggest(names, name, n)
  n = n or 3
  if type(name) ~= "string" then return {} end
  local lname = name:lower()
  local limit = math.max(2, math.floor(#name / 3))
  local scored = {}
  for _, cand in ipairs(names) do
    local d = distance(cand, name)
    local lc = cand:lower()
    if #name >= 4 and (lc:find(lname, 1, true) or lname:find(lc, 1, true)) then
      d = math.min(d, 1 + math.abs(#cand - #name) / 100)
    end
    if d <= limit then scored[#scored + 1] = { cand, d } end
  end
  table.sort(scored, function(x, y)
    if x[2] ~= y[2] then return x[2] < y[2] end
    return x[1] < y[1]
  end)
  local out = {}
  for i = 1, math.min(n, #scored) do out[i] = scored[i][1] end
  return out
end

return api
