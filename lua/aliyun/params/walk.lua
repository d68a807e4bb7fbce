-- The full walk of aliyun.params: lists and objects in their styles, JSON, generic
-- flattening, the checks on a value's shape and every validation message. aliyun.params
-- loads it the first time a call needs more than its flat path (prepare_flat: scalar
-- parameters of the right type), so that a process's first plain call does not compile it.
-- What it does is described at the top of lua/aliyun/params.lua.
local core = require "aliyun.core"
local errors = require "aliyun.errors"
local params = require "aliyun.params"

local walker = {}

local floor, huge = math.floor, math.huge
local tointeger = math.tointeger -- nil on LuaJIT
local format = string.format

local TWO53 = 2 ^ 53
local is_int_subtype, is_integer_string = params.is_int_subtype, params.is_integer_string

local lazy = setmetatable({}, {
  __index = function(t, name)
    local m = require("aliyun." .. name)
    rawset(t, name, m)
    return m
  end,
})

-- A failure while preparing; raised with error() inside and turned into (nil, err) by
-- walker.walk, so that the recursive walkers stay simple.
local Failure = {}
Failure.__index = Failure

-- fail_raw: the message as given; fail: "parameter <path>: <problem>".
local function fail_raw(path, message, expected)
  error(setmetatable({ path = path, message = message, expected = expected }, Failure), 0)
end

local function fail(path, problem, expected)
  fail_raw(path, "parameter " .. tostring(path) .. ": " .. problem, expected)
end

-- How a value is shown in a message: short, one line.
local function show(v)
  local tv = type(v)
  if tv == "string" then
    local s = v
    if #s > 40 then s = s:sub(1, 37) .. "..." end
    return format("%q", s):gsub("\\\n", "\\n")
  elseif tv == "number" or tv == "boolean" then
    return tostring(v)
  elseif tv == "table" then
    return "a table"
  end
  return "a " .. tv
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end

-- Numbers --------------------------------------------------------------------------------

local function is_finite(n)
  return n == n and n ~= huge and n ~= -huge
end

-- Digits of an integral number, never with ".0".
local function integer_text(n)
  if is_int_subtype(n) then return format("%d", n) end
  if tointeger then
    local i = tointeger(n)
    if i then return format("%d", i) end
  end
  return format("%.0f", n)
end

-- The shortest of %.15g, %.16g, %.17g that reads back as the same number; integral
-- values within 2^53 as plain digits.
local function number_text(n)
  if is_int_subtype(n) then return format("%d", n) end
  if n == floor(n) and n >= -TWO53 and n <= TWO53 then return integer_text(n) end
  for _, f in ipairs { "%.15g", "%.16g" } do
    local s = format(f, n)
    if tonumber(s) == n then return s end
  end
  return format("%.17g", n)
end

-- A string that is a decimal number (no hex, no inf, no nan).
local function is_decimal_string(s)
  local mantissa, exponent = s:match("^[+-]?([%d.]+)(.*)$")
  if not mantissa then return false end
  if not (mantissa:match("^%d+%.?%d*$") or mantissa:match("^%.%d+$")) then return false end
  return exponent == "" or exponent:match("^[eE][+-]?%d+$") ~= nil
end

-- Scalars ---------------------------------------------------------------------------------

-- Text for a scalar with no type to go by (generic flattening and lists of scalars).
local function scalar_text(v, path)
  local tv = type(v)
  if tv == "string" then return v end
  if tv == "boolean" then return v and "true" or "false" end
  if tv == "number" then
    if not is_finite(v) then
      fail(path, "cannot send " .. tostring(v) .. " (NaN and infinities have no wire form)", "a finite number")
    end
    return number_text(v)
  end
  return nil
end

local function json_text(v, path)
  local text, err = lazy.json.encode(v)
  if not text then fail(path, "cannot be encoded as JSON: " .. tostring(err), "a table JSON can encode") end
  return text
end

local EXPECT = {
  Integer = "an Integer (a whole number, or a string of digits)",
  Long = "a Long (a whole number, or a string of digits)",
  Float = "a Float (a number, or a numeric string)",
  Double = "a Double (a number, or a numeric string)",
  Boolean = "a Boolean (true or false)",
  String = "a String (a string, number or boolean; a table is sent as its JSON text)",
}

-- What a list or object parameter takes, by its style.
local EXPECT_STYLE = {
  flat = "(a Lua array {v1, v2, ...}, sent as Name.1, Name.2, ...)",
  simple = "(a Lua array {v1, v2, ...} of strings or numbers, sent as one comma-joined string)",
  json = "(a Lua table, sent as one JSON string, or the JSON text)",
}

-- expected(ptype[, style]): what a parameter of that type (and style) takes, in words.
local function expected(ptype, style)
  if style == "flat" and ptype == "Struct" then return "a Struct (a table of fields, sent as Name.Field)" end
  if style == "json" and ptype == "Json" then return "JSON " .. EXPECT_STYLE.json end
  if EXPECT_STYLE[style] and ptype ~= "String" then
    return (ptype == "Array" and "an " or "a ") .. tostring(ptype) .. " " .. EXPECT_STYLE[style]
  end
  return EXPECT[ptype] or ("a " .. tostring(ptype))
end

local function wrong_type(path, ptype, v, why, style)
  local want = expected(ptype, style)
  fail(path, "expected " .. want .. ", got " .. show(v) .. (why and ("; " .. why) or ""), want)
end

-- The shape of a value ---------------------------------------------------------------------

-- Metamethods that make a table's entries differ from what is stored in it.
local SERVED = { "__index", "__len", "__pairs", "__ipairs" }

-- The metamethod that serves a table's entries, or nil for a plain table (the json.array and
-- json.object markers only name a shape).
local function served_by(t)
  local mt = getmetatable(t)
  if mt == nil then return nil end
  if type(mt) ~= "table" then return "a protected metatable" end
  for _, name in ipairs(SERVED) do
    if rawget(mt, name) ~= nil then return name end
  end
  return nil
end

local MAX_DEPTH = 64

-- Refuses a value whose meaning Lua cannot tell: a table served by metamethods, one that
-- contains itself, keys that are neither names nor list indexes, a list with holes, list
-- items mixed with named fields. Every table of the value is checked, wherever it goes
-- (flat names or JSON text), so the walk and the JSON encoder see only plain trees.
local function check_shape(path, v, on_path, depth)
  if type(v) ~= "table" then return end
  local how = served_by(v)
  if how then
    fail(path, "its entries come from a metatable (" .. how .. "), which the wire form would not see; "
      .. "pass a plain table (a copy)", "a plain table")
  end
  if on_path[v] then fail(path, "the table contains itself", "a tree of tables") end
  if depth > MAX_DEPTH then fail(path, "is nested deeper than " .. MAX_DEPTH .. " tables", "a shallower value") end
  on_path[v] = true
  local count, max, name = 0, 0, nil
  for k, item in pairs(v) do
    local tk = type(k)
    if tk == "number" and k >= 1 and k == floor(k) and k < huge then
      count = count + 1
      if k > max then max = k end
    elseif tk == "string" then
      name = name or k
    else
      fail(path, "has the key " .. show(k) .. ", which is neither a name nor a list index (1, 2, ...)",
        "string keys or list indexes")
    end
    check_shape(path .. "." .. (tk == "string" and k or integer_text(k)), item, on_path, depth + 1)
  end
  if count > 0 and name then
    fail(path, "mixes list items (1..n) with named fields (" .. show(name) .. "); pass a list or a table of fields",
      "a list or a table of fields")
  end
  if count ~= max then
    local hole = 1
    while rawget(v, hole) ~= nil do hole = hole + 1 end
    fail(path, "is a list with a hole at index " .. hole .. " (" .. count .. " items up to index "
      .. integer_text(max) .. "); Lua cannot tell where such a list ends: fill or remove the hole",
      "a list with items at 1..n")
  end
  on_path[v] = nil
end

-- The walk --------------------------------------------------------------------------------

-- state: {action, validate, query, body, count}

local function emit(state, target, path, text)
  if target[path] ~= nil then
    fail(path, "given twice (once flat and once nested?)", "each wire name once")
  end
  target[path] = text
  state.count = state.count + 1
end

-- The wire text of a table key: a name, or an array index.
local function key_text(path, k)
  if type(k) == "string" then return k end
  if type(k) == "number" and is_finite(k) and k == floor(k) then return integer_text(k) end
  fail(path, "has a key that is not a name or an index: " .. show(k), "string keys or array indexes")
end

local generic

-- Generic flattening: scalars as text, sequences as Name.1 ..., other tables as Name.Key.
generic = function(state, target, path, v)
  local text = scalar_text(v, path)
  if text then return emit(state, target, path, text) end
  if type(v) ~= "table" then
    fail(path, "cannot send " .. show(v), "a string, number, boolean or table")
  end
  for _, k in ipairs(sorted_keys(v)) do
    generic(state, target, path .. "." .. key_text(path, k), v[k])
  end
end

-- n when t (already through check_shape) is a list, items at 1..n or none; else nil and
-- its first named key.
local function list_length(t)
  local n = #t
  if n == 0 and next(t) ~= nil then return nil, sorted_keys(t)[1] end
  return n
end

-- The style a parameter travels in: its own, else the one its type implies (for entries
-- made by hand, and the list of one below).
local DEFAULT_STYLE = { RepeatList = "flat", Array = "flat", Struct = "flat", Json = "json" }

local function style_of(p)
  return p.style or DEFAULT_STYLE[p.type]
end

-- Why a string does not do for a list or object that travels flat.
local function flat_hint(v)
  if type(v) == "string" and v:match("^%s*[%[{]") then
    return "it travels flat (Name.1, Name.1.Field), not as JSON text: pass a Lua table"
  end
  return nil
end

local serialise

-- An item of a list of objects, or the value of a Struct with known fields.
local function fields(state, target, path, v, subs, ptype)
  if type(v) ~= "table" then
    if state.validate then
      local names = {}
      for i, s in ipairs(subs) do names[i] = s.name end
      fail(path, "expected a table with the fields " .. table.concat(names, ", ") .. ", got " .. show(v),
        "a table of fields")
    end
    return generic(state, target, path, v)
  end
  local by_name = {}
  for _, s in ipairs(subs) do by_name[s.name] = s end
  for _, k in ipairs(sorted_keys(v)) do
    local sub = type(k) == "string" and by_name[k]
    if sub then
      serialise(state, target, path .. "." .. k, sub, v[k])
    elseif state.validate then
      if type(k) ~= "string" then
        fail(path, "has " .. show(k) .. " as a key; expected field names of " .. ptype, "field names")
      end
      local names = {}
      for i, s in ipairs(subs) do names[i] = s.name end
      local near = lazy.api.suggest(names, k, 3)
      fail_raw(path .. "." .. k, "unknown parameter " .. path .. "." .. k .. (#near > 0
        and ("; did you mean " .. path .. "." .. table.concat(near, ", " .. path .. ".") .. "?")
        or ("; the fields of " .. path .. " are " .. table.concat(names, ", "))), "one of " .. table.concat(names, ", "))
    else
      generic(state, target, path .. "." .. key_text(path, k), v[k])
    end
  end
  if state.validate then
    for _, s in ipairs(subs) do
      if s.required and v[s.name] == nil then
        fail_raw(path .. "." .. s.name, "missing required parameter " .. path .. "." .. s.name .. " ("
          .. s.type .. ")", expected(s.type, s.style))
      end
    end
  end
end

-- The length of a list given for a list parameter; a table of fields instead is an error,
-- or with validation off flattened generically (then nil).
local function list_or_generic(state, target, path, p, v, style)
  local n, key = list_length(v)
  if n then return n end
  if state.validate then
    fail(path, "expected a Lua array (items at 1..n and no other keys), got a table with the key "
      .. show(key), expected(p.type, style))
  end
  generic(state, target, path, v)
  return nil
end

-- flat, a list: Name.1, Name.2, ...; Name.N.Field for a list of objects.
local function flat_list(state, target, path, p, v)
  if type(v) ~= "table" then
    if state.validate then wrong_type(path, p.type, v, flat_hint(v), "flat") end
    -- validation off: a single value is a list of one
    return serialise(state, target, path .. ".1", { name = p.name, type = p.sub and "Struct" or "String", sub = p.sub }, v)
  end
  local n = list_or_generic(state, target, path, p, v, "flat")
  for i = 1, n or 0 do
    local item_path = path .. "." .. i
    local item = v[i]
    if p.sub then
      fields(state, target, item_path, item, p.sub, p.type)
    elseif type(item) == "table" then
      -- items the metadata does not describe (Array Permissions): flatten what was given
      generic(state, target, item_path, item)
    else
      local text = scalar_text(item, item_path)
      if not text then fail(item_path, "cannot send " .. show(item), "a string, number or boolean") end
      emit(state, target, item_path, text)
    end
  end
end

-- flat, an object: Name.Field.
local function flat_struct(state, target, path, p, v)
  if type(v) ~= "table" then
    if state.validate then wrong_type(path, p.type, v, flat_hint(v), "flat") end
    return generic(state, target, path, v)
  end
  if state.validate and v[1] ~= nil then
    wrong_type(path, p.type, v, "a list has no fields", "flat")
  end
  if p.sub then return fields(state, target, path, v, p.sub, p.type) end
  return generic(state, target, path, v)
end

-- simple: the items joined with commas, one string.
local function simple_list(state, target, path, p, v)
  if type(v) ~= "table" then
    if state.validate then wrong_type(path, p.type, v, nil, "simple") end
    return generic(state, target, path, v)
  end
  local n = list_or_generic(state, target, path, p, v, "simple")
  if not n or n == 0 then return end
  local texts = {}
  for i = 1, n do
    local item_path = path .. "." .. i
    local text = scalar_text(v[i], item_path)
    if not text then
      fail(item_path, "cannot send " .. show(v[i]) .. " in a comma-joined list", "a string or number")
    end
    texts[i] = text
  end
  emit(state, target, path, table.concat(texts, ","))
end

-- json: a table as its JSON text, a string as the JSON text it already is.
local function json_value(state, target, path, p, v)
  local tv = type(v)
  if tv == "table" then return emit(state, target, path, json_text(v, path)) end
  if tv == "string" then
    if state.validate and p.type ~= "String" then
      local _, err = core.json_decode(v)
      if err then wrong_type(path, p.type, v, "the text is not JSON (" .. err .. ")", "json") end
    end
    return emit(state, target, path, v)
  end
  if p.type == "String" then
    -- a String that carries JSON (RunCommand Parameters) takes scalars as a String does
    local text = scalar_text(v, path)
    if text then return emit(state, target, path, text) end
  end
  if state.validate then wrong_type(path, p.type, v, nil, "json") end
  return generic(state, target, path, v)
end

local BY_STYLE = { simple = simple_list, json = json_value }

-- One value of a known parameter (or sub-parameter) p at wire name path.
serialise = function(state, target, path, p, v)
  local ptype = p.type
  local style = style_of(p)
  if style == "flat" then
    if ptype == "Struct" then return flat_struct(state, target, path, p, v) end
    return flat_list(state, target, path, p, v)
  elseif style then
    return BY_STYLE[style](state, target, path, p, v)
  end
  local tv = type(v)
  local validate = state.validate
  if ptype == "Integer" or ptype == "Long" then
    if tv == "number" then
      if validate then
        if not is_finite(v) then wrong_type(path, ptype, v, "NaN and infinities are not numbers the service takes") end
        if not is_int_subtype(v) then
          if v ~= floor(v) then wrong_type(path, ptype, v, "it has a fractional part") end
          if v > TWO53 or v < -TWO53 then
            wrong_type(path, ptype, v, "a float beyond 2^53 has lost its exact value; pass an integer or a string of digits")
          end
        end
      end
      return emit(state, target, path, scalar_text(v, path))
    elseif tv == "string" then
      if validate and not is_integer_string(v) then wrong_type(path, ptype, v) end
      return emit(state, target, path, v)
    end
    if validate then wrong_type(path, ptype, v) end
    return generic(state, target, path, v)
  elseif ptype == "Float" or ptype == "Double" then
    if tv == "number" then
      if validate and not is_finite(v) then
        wrong_type(path, ptype, v, "NaN and infinities are not numbers the service takes")
      end
      return emit(state, target, path, scalar_text(v, path))
    elseif tv == "string" then
      if validate and not is_decimal_string(v) then wrong_type(path, ptype, v) end
      return emit(state, target, path, v)
    end
    if validate then wrong_type(path, ptype, v) end
    return generic(state, target, path, v)
  elseif ptype == "Boolean" then
    if tv == "boolean" then return emit(state, target, path, v and "true" or "false") end
    if tv == "string" and (v == "true" or v == "false") then return emit(state, target, path, v) end
    if validate then wrong_type(path, ptype, v) end
    return generic(state, target, path, v)
  else
    -- String, and any type the metadata may grow: text as given, tables as JSON text
    if tv == "table" then return emit(state, target, path, json_text(v, path)) end
    local text = scalar_text(v, path)
    if not text then
      if validate then wrong_type(path, "String", v) end
      fail(path, "cannot send " .. show(v), "a string, number, boolean or table")
    end
    return emit(state, target, path, text)
  end
end

-- Dotted metadata names: every proper prefix ("LaunchConfiguration", "A.B" of "A.B.C")
-- with the fields under it, so nested tables can be matched at any depth.
local prefix_cache = setmetatable({}, { __mode = "k" })

local function prefixes(entry)
  local pre = prefix_cache[entry]
  if pre then return pre end
  pre = {}
  for _, p in ipairs(entry.params or {}) do
    local start = 1
    while true do
      local dot = p.name:find(".", start, true)
      if not dot then break end
      local prefix = p.name:sub(1, dot - 1)
      local rest = p.name:sub(dot + 1)
      local field = rest:match("^[^.]+")
      local set = pre[prefix]
      if not set then
        set = { fields = {}, list = {} }
        pre[prefix] = set
      end
      if not set.fields[field] then
        set.fields[field] = true
        set.list[#set.list + 1] = field
      end
      start = dot + 1
    end
  end
  for _, set in pairs(pre) do table.sort(set.list) end
  prefix_cache[entry] = pre
  return pre
end

local function target_of(state, p)
  return p.position == "Body" and state.body or state.query
end

-- A value under a name of the action: a parameter, or a prefix of dotted parameters
-- given as a nested table.
local function top(state, idx, pre, name, v, given)
  local p = idx.by_name[name]
  local group = pre[name]
  if p and group and p.type == "Struct" and type(v) == "table" then
    -- a Struct that also has dotted parameters under it (CreateInstance SystemDisk and
    -- SystemDisk.Category): the fields the metadata names are typed as those parameters,
    -- the others go out as Struct fields
    given[p] = true
    for _, k in ipairs(sorted_keys(v)) do
      local field = key_text(name, k)
      if type(k) == "string" and group.fields[field] then
        top(state, idx, pre, name .. "." .. field, v[k], given)
      else
        generic(state, target_of(state, p), name .. "." .. field, v[k])
      end
    end
    return
  end
  if p then
    given[p] = true
    local before = state.count
    serialise(state, target_of(state, p), name, p, v)
    if p.required and state.count == before and state.validate then
      fail(name, "required, and an empty list sends nothing", expected(p.type, p.style))
    end
    return
  end
  if group and type(v) == "table" then
    for _, k in ipairs(sorted_keys(v)) do
      -- string keys are fields; array indexes too, for names like Filter.1.Key
      local field = k
      if type(k) == "number" and is_finite(k) and k == floor(k) and k >= 1 then
        field = integer_text(k)
      elseif type(k) ~= "string" then
        fail(name, "has " .. show(k) .. " as a key; expected the fields " .. table.concat(group.list, ", "),
          "field names")
      end
      top(state, idx, pre, name .. "." .. field, v[k], given)
    end
    return
  end
  if state.validate then
    local parent, field = name:match("^(.*)%.([^.]+)$")
    local candidates = parent and pre[parent] and pre[parent].list or idx.names
    local near = lazy.api.suggest(candidates, field or name, 3)
    if parent and pre[parent] then
      for i, f in ipairs(near) do near[i] = parent .. "." .. f end
    end
    if group then
      fail(name, "expected a table with the fields " .. table.concat(group.list, ", ") .. ", got " .. show(v),
        "a table of fields")
    end
    local hint = ""
    if #near > 0 then
      hint = "; did you mean " .. table.concat(near, ", ") .. "?"
    elseif #candidates <= 12 then
      if #candidates == 0 then
        hint = "; the action takes no parameters"
      elseif parent and pre[parent] then
        hint = "; the fields of " .. parent .. " are " .. table.concat(candidates, ", ")
      else
        hint = "; the parameters are " .. table.concat(candidates, ", ")
      end
    end
    fail_raw(name, "unknown parameter " .. name .. hint, "a parameter of the action")
  end
  generic(state, state.query, name, v)
end

-- Whether a required parameter is present: given under its own name or nested.
local function present(given, p)
  return given[p] == true
end

-- The error for a parameter table whose entries come from metamethods, or nil.
function walker.table_error(action, values)
  local how = served_by(values)
  if not how then return nil end
  return errors.validation(action, "the parameter table's entries come from a metatable (" .. how .. "), which "
    .. "the wire form would not see; pass a plain table (a copy)", { expected = "a plain table" })
end

-- The full walk over any values (params.prepare tries prepare_flat first; params.walk
-- calls this directly, so that the specs can hold the two to the same results).
function walker.walk(action, entry, values, opts)
  local state = {
    action = action,
    validate = opts.validate ~= false,
    query = {}, body = {},
    count = 0,
  }
  if type(values) ~= "table" then
    return nil, errors.validation(action, "parameters must be a table, got " .. type(values))
  end
  local served = walker.table_error(action, values)
  if served then return nil, served end
  local ok, err = pcall(function()
    local keys = sorted_keys(values)
    for _, k in ipairs(keys) do
      if type(k) ~= "string" then
        fail_raw(nil, "parameter names must be strings; got the key " .. show(k)
          .. " (a list given as the whole parameter table?)", "string keys")
      end
    end
    for _, k in ipairs(keys) do check_shape(k, values[k], {}, 1) end
    if not entry then
      for _, k in ipairs(keys) do generic(state, state.query, k, values[k]) end
      return
    end
    local idx = lazy.api.index(entry)
    local pre = prefixes(entry)
    local given = {}
    for _, k in ipairs(keys) do top(state, idx, pre, k, values[k], given) end
    if state.validate then
      for _, p in ipairs(entry.params or {}) do
        if p.required and not present(given, p) then
          fail_raw(p.name, "missing required parameter " .. p.name .. " (" .. p.type .. ")", expected(p.type))
        end
      end
    end
  end)
  if not ok then
    if getmetatable(err) ~= Failure then error(err, 0) end
    return nil, errors.validation(action, err.message, { parameter = err.path, expected = err.expected })
  end
  return { query = state.query, body = state.body }
end

walker.number_text = number_text

return walker
