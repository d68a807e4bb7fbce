-- JSON for the library: decoding is the C core's; encoding is here, in Lua, because what
-- we encode is small (parameter values, emulator answers) and must be deterministic:
-- object keys are sorted, so the same table always gives the same text (and signature).
-- A key RequestId comes first, as the service writes its answers. (Under LuaJIT that alone
-- does not spare the string table: OpenResty's LuaJIT hashes a string of 128 bytes or more
-- by its first and last 8 bytes and 16 samples at offsets drawn when the process starts, so
-- long texts that differ only in their RequestId may still share one chain; the emulator in
-- nginx writes its answers out in pieces for that reason, see shape.encode.)
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

local find, format, gsub = string.find, string.format, string.gsub
local concat, sort = table.concat, table.sort
local floor = math.floor
local math_type = math.type
local huge = math.huge
local null = core.null

-- Every character JSON needs escaped, to its escape (one gsub with a table, no callback).
local ESCAPES = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}
for c = 0, 127 do
  local ch = string.char(c)
  if not ESCAPES[ch] and ch:find("%c") then ESCAPES[ch] = format("\\u%04x", c) end
end
local NEEDS_ESCAPE = '[%c"\\]'

local function encode_string(s)
  if find(s, NEEDS_ESCAPE) then s = gsub(s, NEEDS_ESCAPE, ESCAPES) end
  return '"' .. s .. '"'
end

-- '"key":' for each object key seen, so that a key common to many objects is escaped and
-- joined once. Bounded: a caller encoding tables with ever new keys only loses the cache.
local KEYS, nkeys = {}, 0
local function key_text(k)
  local s = KEYS[k]
  if s then return s end
  s = encode_string(k) .. ":"
  if nkeys >= 4096 then KEYS, nkeys = {}, 0 end
  KEYS[k], nkeys = s, nkeys + 1
  return s
end

-- Sorts a list of key texts in place: RequestId first, then the others in byte order.
local function sort_keys(keys, count)
  sort(keys)
  if keys[1] ~= "RequestId" and keys[count] >= "RequestId" then
    for i = 2, count do
      if keys[i] == "RequestId" then
        table.remove(keys, i)
        table.insert(keys, 1, "RequestId")
        break
      end
    end
  end
end

local SHORTEST = { "%.15g", "%.16g" }

-- The text of a number, or nil when JSON cannot hold it.
local function number_text(v)
  if v ~= v or v == huge or v == -huge then return nil end
  if math_type and math_type(v) == "integer" then return format("%d", v) end
  if v == floor(v) and v >= -2 ^ 53 and v <= 2 ^ 53 then
    -- integral floats are written as integers: 20.0 -> 20 (the service rejects "20.0")
    return format("%.0f", v)
  end
  -- the shortest form that reads back as the same number: 0.1, not 0.10000000000000001
  for i = 1, 2 do
    local t = format(SHORTEST[i], v)
    if tonumber(t) == v then return t end
  end
  return format("%.17g", v)
end

-- The encoder appends pieces to one buffer and joins them once, with no path strings on the
-- way: the keys from the root are kept on a stack, from which an error names its place (and
-- a table that contains itself is found once the nesting passes the depth limit).
local MAX_DEPTH = 128
local buf, n, path, root, scratch
local failure

local function fail(depth, message, after)
  local p = { "$" }
  for i = 1, depth do
    local k = path[i]
    p[i + 1] = type(k) == "number" and ("[" .. k .. "]") or ("." .. tostring(k))
  end
  failure = message .. " at " .. concat(p) .. (after or "")
  error(failure, 0)
end

local function too_deep(depth)
  local chain = { root } -- chain[i + 1]: the table at depth i
  for i = 1, depth do chain[i + 1] = chain[i][path[i]] end
  for j = 2, depth + 1 do
    for i = 1, j - 1 do
      if chain[i] == chain[j] then fail(j - 1, "cannot encode a table that contains itself") end
    end
  end
  fail(depth, "cannot encode tables nested deeper than " .. MAX_DEPTH)
end

local put_value

local function put_array(t, len, depth)
  if len == 0 then
    n = n + 1; buf[n] = "[]"
    return
  end
  n = n + 1; buf[n] = "["
  for i = 1, len do
    if i > 1 then n = n + 1; buf[n] = "," end
    path[depth + 1] = i
    put_value(t[i], depth + 1)
  end
  n = n + 1; buf[n] = "]"
end

-- Key orders. Objects made by the same code have the same keys, which pairs meets in the same
-- order: a tree keyed by the keys in that order leads to the set's keys sorted, with their
-- texts ('{"a":', ',"b":' ...), so that most objects are written without sorting anything.
-- The tree starts afresh when it grows past a bound (a caller with ever new keys only loses
-- the cache).
local ORDERS, norders = {}, 0
local LEAF = {} -- the slot of a node holding its order (no string key can be this table)

local function order_of(keys, count)
  local texts = {}
  sort_keys(keys, count)
  for i = 1, count do
    texts[i] = (i == 1 and "{" or ",") .. key_text(keys[i])
  end
  return { keys = keys, texts = texts, count = count }
end

-- The general case, and the one for tables with keys other than strings: this depth's
-- scratch list takes the keys; when they are exactly 1..count the table is an array,
-- otherwise an object with its keys sorted (numeric keys written as their text).
local function put_mixed(t, depth, mt)
  local keys = scratch[depth]
  if not keys then keys = {}; scratch[depth] = keys end
  local count, max, others = 0, 0, false
  for k in pairs(t) do
    count = count + 1
    keys[count] = k
    if not others then
      if type(k) == "number" and k >= 1 and k == floor(k) then
        if k > max then max = k end
      else
        others = true
      end
    end
  end
  if mt ~= OBJECT and not others and max == count then
    -- an empty Lua table is most often an empty list; a sparse one stays an object (below)
    for i = 1, count do keys[i] = nil end
    return put_array(t, count, depth)
  end
  local numeric -- text -> the number key it stands for
  for i = 1, count do
    local k = keys[i]
    local tk = type(k)
    if tk ~= "string" then
      if tk ~= "number" then
        for j = 1, count do keys[j] = nil end
        fail(depth, "cannot encode a " .. tk .. " key")
      end
      numeric = numeric or {}
      local s = tostring(k)
      numeric[s] = k
      keys[i] = s
    end
  end
  sort_keys(keys, count)
  n = n + 1; buf[n] = "{"
  for i = 1, count do
    local k = keys[i]
    keys[i] = nil
    if i > 1 then n = n + 1; buf[n] = "," end
    n = n + 1; buf[n] = key_text(k)
    if numeric and numeric[k] ~= nil then k = numeric[k] end
    path[depth + 1] = k
    put_value(t[k], depth + 1)
  end
  n = n + 1; buf[n] = "}"
end

local function put_table(t, depth)
  if depth > MAX_DEPTH then too_deep(depth) end
  local mt = getmetatable(t)
  if mt == ARRAY then return put_array(t, #t, depth) end
  local node, count = ORDERS, 0
  for k in pairs(t) do
    if type(k) ~= "string" then return put_mixed(t, depth, mt) end
    count = count + 1
    local child = node[k]
    if not child then
      if norders >= 8192 then ORDERS, norders = {}, 0 end
      child = {}
      node[k], norders = child, norders + 1
    end
    node = child
  end
  if count == 0 then
    n = n + 1; buf[n] = mt == OBJECT and "{}" or "[]"
    return
  end
  local order = node[LEAF]
  if not order then
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    order = order_of(keys, count)
    node[LEAF] = order
  end
  local keys, texts = order.keys, order.texts
  for i = 1, count do
    local k = keys[i]
    n = n + 1; buf[n] = texts[i]
    path[depth + 1] = k
    put_value(t[k], depth + 1)
  end
  n = n + 1; buf[n] = "}"
end

-- Texts of strings and integral numbers met before (most recur from answer to answer),
-- bounded like the orders.
local STRINGS, nstrings = {}, 0
local NUMBERS, nnumbers = {}, 0

-- The text of a string between its quotes.
local function escaped(v)
  local e = v
  if find(v, NEEDS_ESCAPE) then e = gsub(v, NEEDS_ESCAPE, ESCAPES) end
  return e
end

-- The text of a string with its quotes, for the short ones (most recur from answer to
-- answer: one piece instead of three), nil for a longer one (written as '"', escaped, '"').
local function quoted(v)
  local q = STRINGS[v]
  if q then return q end
  if #v > 64 then return nil end
  q = '"' .. escaped(v) .. '"'
  if nstrings >= 8192 then STRINGS, nstrings = {}, 0 end
  STRINGS[v], nstrings = q, nstrings + 1
  return q
end

-- The text of a number (nil for NaN and the infinities).
local function number(v)
  local s = NUMBERS[v]
  if not s then
    s = number_text(v)
    if s and v ~= 0 then -- 0 and -0 are one key, with two texts
      if nnumbers >= 4096 then NUMBERS, nnumbers = {}, 0 end
      NUMBERS[v], nnumbers = s, nnumbers + 1
    end
  end
  return s
end

-- Writes string v after piece n of a buffer; returns the last piece's index.
local function write_string(b, at, v)
  local q = quoted(v)
  if q then
    b[at + 1] = q
    return at + 1
  end
  b[at + 1] = '"'; b[at + 2] = escaped(v); b[at + 3] = '"'
  return at + 3
end

-- For writers of JSON that know their shape (the emulator's answers): the same texts.
json.escaped, json.number, json.key_order, json.write_string = escaped, number, sort_keys, write_string

put_value = function(v, depth)
  local tv = type(v)
  if tv == "string" then
    n = write_string(buf, n, v)
  elseif tv == "number" then
    local s = number(v)
    if not s then fail(depth, "cannot encode " .. tostring(v), " (JSON has no NaN or infinity)") end
    n = n + 1; buf[n] = s
  elseif tv == "boolean" then
    n = n + 1; buf[n] = v and "true" or "false"
  elseif tv == "table" then
    put_table(v, depth)
  elseif v == nil or v == null then
    n = n + 1; buf[n] = "null"
  else
    fail(depth, "cannot encode a " .. tv)
  end
end

local function encode(value)
  put_value(value, 0)
  return concat(buf, "", 1, n)
end

local busy = false

-- json.encode(value) -> text | nil, message naming where the bad value is
function json.encode(value)
  if busy then error("json.encode called while encoding (from a metamethod?)", 2) end
  busy, n, root = true, 0, value
  if not buf or #buf > 4096 then buf = {} end -- reused, but a huge document's pieces are let go
  path, scratch = path or {}, scratch or {}
  local ok, text = pcall(encode, value)
  busy, root = false, nil
  if ok then return text end
  -- a failed encode leaves keys behind in the scratch lists: start those afresh
  scratch = {}
  if text ~= failure then error(text, 0) end
  return nil, text
end

return json
