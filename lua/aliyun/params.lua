-- Parameters: from the natural Lua table a caller writes to the flat wire form the
-- service expects, checked against the action's entry in the generated API tables.
--
--   params.prepare(product, action, entry, values, {validate = bool})
--     -> {query = {[wire name] = string}, body = {[wire name] = string}} | nil, err
--
-- Everything here is driven by the entry (no action is named in this file). With no entry
-- (an action the tables do not know) every value is flattened generically into the query.
--
-- Lists and objects travel in their parameter's style (p.style, from the metadata), as the
-- official SDKs send them:
--   flat     a Lua sequence as Name.1, Name.2, ...; items of a list of objects as
--            Name.N.Field, a field that is itself a list as Name.N.Field.M; an object as
--            Name.Field (deeper tables Name.Field.Sub, arrays Name.Field.1). RepeatList,
--            Struct and Array. An empty list sends nothing.
--   json     a table as one JSON string; a string is taken as the JSON text already
--   simple   a Lua sequence of scalars joined with commas, as one string
-- Scalars by type:
--   String          string as is; number, boolean as text; a table -> its JSON text (String
--                   parameters that carry JSON, with style json or none: DiskIds, Parameters)
--   Integer, Long   integers and integral floats as digits (never "20.0"); strings of digits as is
--   Float, Double   the shortest text that reads back as the same number; numeric strings as is
--   Boolean         true/false -> "true"/"false"; the strings "true" and "false" are accepted too
-- Names with a dot in the metadata (SystemDisk.Category) are taken flat
-- (["SystemDisk.Category"] = ...) or nested (SystemDisk = {Category = ...}).
-- Body-position parameters go to `body`, the rest to `query`.
--
-- Validation (on unless validate = false): unknown names (with the nearest names offered),
-- missing required parameters and required fields of list items, values of the wrong type,
-- NaN and infinities, fractional numbers and floats beyond 2^53 for Integer/Long, lists
-- that are not sequences, JSON text that does not parse. With validation off values are
-- still serialised by their style and type, and what does not fit is flattened generically.
-- A value whose meaning Lua cannot tell, or that cannot be put on the wire at all, is an
-- error either way: a list with holes ({a, nil, c}), a table whose entries come from
-- metamethods (__index, __len, __pairs), a table that contains itself, keys that are
-- neither names nor list indexes, list items mixed with named fields, a function, the same
-- wire name given twice, a parameter name that is not a string.
--
-- This file holds the flat path, which a plain call takes (scalar parameters of the right
-- type, no lists or objects); everything else, every message included, is the full walk in
-- lua/aliyun/params/walk.lua, loaded the first time a call needs it.
local params = {}

local floor = math.floor
local math_type = math.type -- nil on LuaJIT
local format = string.format

local TWO53 = 2 ^ 53

local lazy = setmetatable({}, {
  __index = function(t, name)
    local m = require("aliyun." .. name)
    rawset(t, name, m)
    return m
  end,
})

local function is_int_subtype(n)
  return math_type ~= nil and math_type(n) == "integer"
end

-- A number the fast path writes with %d: Lua 5.4's integer subtype; on LuaJIT, whose
-- numbers are all doubles (and where math.type is nil), an integral one within 2^53, so
-- that PageSize = 100 does not send a gateway's calls down the full walk.
local is_wire_integer = math_type and is_int_subtype or function(n)
  return n == floor(n) and n >= -TWO53 and n <= TWO53
end

-- A string that is a whole number in decimal.
local function is_integer_string(s)
  return s:match("^[+-]?%d+$") ~= nil
end

-- The walk shares these.
params.is_int_subtype, params.is_integer_string = is_int_subtype, is_integer_string

-- The required parameters of an entry, listed once.
local required_cache = setmetatable({}, { __mode = "k" })

local function required_of(entry)
  local list = required_cache[entry]
  if not list then
    list = {}
    for _, p in ipairs(entry.params or {}) do
      if p.required then list[#list + 1] = p.name end
    end
    required_cache[entry] = list
  end
  return list
end

-- The common call: every key names a scalar parameter of the action and its value already
-- has that type (a string, an integer, a boolean), and every required parameter is given
-- flat. Such a call needs no walk, no sorting and no pcall: a third of a call's Lua time
-- before (bench/). Returns nil whenever anything else is there; the full walk then decides,
-- with its error messages, so this path never changes a result, only its cost.
local function prepare_flat(entry, values, validate)
  if getmetatable(values) ~= nil then return nil end
  local by_name = lazy.api.index(entry).by_name
  local query, body = {}, {}
  for k, v in pairs(values) do
    local p = by_name[k]
    if not p then return nil end
    local ptype, tv = p.type, type(v)
    local text
    if tv == "string" then
      if ptype == "String" then
        text = v
      elseif ptype == "Integer" or ptype == "Long" then
        if validate and not is_integer_string(v) then return nil end
        text = v
      elseif ptype == "Boolean" and (v == "true" or v == "false") then
        text = v
      else
        return nil
      end
    elseif tv == "number" and is_wire_integer(v) and (ptype == "Integer" or ptype == "Long" or ptype == "String") then
      text = format("%d", v)
    elseif tv == "boolean" and (ptype == "Boolean" or ptype == "String") then
      text = v and "true" or "false"
    else
      return nil
    end
    if p.position == "Body" then body[k] = text else query[k] = text end
  end
  if validate then
    local required = required_of(entry)
    for i = 1, #required do
      if values[required[i]] == nil then return nil end
    end
  end
  return { query = query, body = body }
end

-- For the client's fused call: the wire query of a call whose parameters all go to the
-- query, or nil (then prepare() decides, with its error messages). When every value is
-- already its own wire text (a string of the parameter's type) the caller's table itself is
-- returned, read-only, with no copy; else prepare_flat's query when its body is empty.
function params.query_only(entry, values)
  if getmetatable(values) ~= nil then return nil end
  local by_name = lazy.api.index(entry).by_name
  local as_is = true
  for k, v in pairs(values) do
    local p = by_name[k]
    if not p or p.position == "Body" then return nil end
    if type(v) ~= "string" then
      as_is = false
    else
      local ptype = p.type
      if ptype ~= "String" then
        if ptype == "Integer" or ptype == "Long" then
          if not is_integer_string(v) then return nil end
        elseif not (ptype == "Boolean" and (v == "true" or v == "false")) then
          return nil
        end
      end
    end
  end
  if not as_is then
    local wire = prepare_flat(entry, values, true)
    if wire and next(wire.body) == nil then return wire.query end
    return nil
  end
  local required = required_of(entry)
  for i = 1, #required do
    if values[required[i]] == nil then return nil end
  end
  return values
end


function params.table_error(action, values)
  return lazy["params.walk"].table_error(action, values)
end

function params.prepare(product, action, entry, values, opts)
  local _ = product
  opts = opts or {}
  if entry and type(values) == "table" then
    local wire = prepare_flat(entry, values, opts.validate ~= false)
    if wire then return wire end
  end
  return lazy["params.walk"].walk(action, entry, values, opts)
end

function params.walk(product, action, entry, values, opts)
  local _ = product
  return lazy["params.walk"].walk(action, entry, values, opts or {})
end

-- For the specs and for tools that format values the same way: the shortest text that
-- reads back as the same number.
function params.number_text(n)
  return lazy["params.walk"].number_text(n)
end

return params
