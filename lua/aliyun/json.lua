-- JSON for the library: decoding is the C core's; encoding is here, in Lua, because what
-- we encode is small (parameter values, emulator answers) and must be deterministic:
-- object keys are sorted, so the same table always gives the same text (and signature).
local core = require "aliyun.core"

local json = {
  null = core.null,
  decode = core.json_decode,
}

-- Marks that say how an ambiguous (empty) table is meant.
local ARRAY = setmetatable({}, { __name = "aliyun.json.array" })
local OBJECT = setmetatable({}, { __name = "aliyun.json.object" })

-- json.array(t): t encodes as an array even when empty. Returns t.
function json.array(t)
  return setmetatable(t or {}, ARRAY)
end

-- json.object(t): t encodes as an object even when empty. Returns t.
function json.object(t)
  return setmetatable(t or {}, OBJECT)
end

local ESCAPES = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function escape_char(c)
  return ESCAPES[c] or string.format("\\u%04x", c:byte())
end

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', escape_char) .. '"'
end

local floor = math.floor
local math_type = math.type

local function encode_number(n, path)
  if n ~= n or n == math.huge or n == -math.huge then
    return nil, "cannot encode " .. tostring(n) .. " at " .. path .. " (JSON has no NaN or infinity)"
  end
  if (math_type and math_type(n) == "integer") then return string.format("%d", n) end
  if n == floor(n) and n >= -2 ^ 53 and n <= 2 ^ 53 then
    -- integral floats are written as integers: 20.0 -> 20 (the service rejects "20.0")
    return string.format("%.0f", n)
  end
  -- the shortest form that reads back as the same number: 0.1, not 0.10000000000000001
  for _, fmt in ipairs { "%.15g", "%.16g" } do
    local t = string.format(fmt, n)
    if tonumber(t) == n then return t end
  end
  return string.format("%.17g", n)
end

-- The kind of a table: "array" with its length, or "object".
local function shape(t)
  local mt = getmetatable(t)
  if mt == ARRAY then return "array", #t end
  if mt == OBJECT then return "object" end
  local n, max = 0, 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k ~= floor(k) then return "object" end
    n = n + 1
    if k > max then max = k end
  end
  if n == 0 then return "array", 0 end -- an empty Lua table is most often an empty list
  if max ~= n then return "object" end -- sparse: keep the indexes rather than invent nulls
  return "array", n
end

local encode_value

local function encode_table(t, path, depth, seen)
  if seen[t] then return nil, "cannot encode a table that contains itself at " .. path end
  if depth > 128 then return nil, "cannot encode tables nested deeper than 128 at " .. path end
  seen[t] = true
  local out = {}
  local kind, n = shape(t)
  if kind == "array" then
    for i = 1, n do
      local s, err = encode_value(t[i], path .. "[" .. i .. "]", depth + 1, seen)
      if not s then return nil, err end
      out[i] = s
    end
    seen[t] = nil
    return "[" .. table.concat(out, ",") .. "]"
  end
  local keys = {}
  for k in pairs(t) do
    local tk = type(k)
    if tk ~= "string" and tk ~= "number" then
      return nil, "cannot encode a " .. tk .. " key at " .. path
    end
    keys[#keys + 1] = tostring(k)
  end
  table.sort(keys)
  for i, k in ipairs(keys) do
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    local s, err = encode_value(v, path .. "." .. k, depth + 1, seen)
    if not s then return nil, err end
    out[i] = encode_string(k) .. ":" .. s
  end
  seen[t] = nil
  return "{" .. table.concat(out, ",") .. "}"
end

encode_value = function(v, path, depth, seen)
  local tv = type(v)
  if tv == "string" then return encode_string(v) end
  if tv == "number" then return encode_number(v, path) end
  if tv == "boolean" then return v and "true" or "false" end
  if tv == "table" then return encode_table(v, path, depth, seen) end
  if v == core.null or v == nil then return "null" end
  return nil, "cannot encode a " .. tv .. " at " .. path
end

-- json.encode(value) -> text | nil, message naming where the bad value is
function json.encode(value)
  return encode_value(value, "$", 0, {})
end

return json
