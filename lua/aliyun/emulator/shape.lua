-- What each action answers, as the official SDKs model it (generated into shapes/ by
-- tools/gen-shapes.lua), and the one place where an answer is made to fit it: every
-- success body the emulator sends goes through shape.render, which keeps only the fields
-- of the model, gives each its model's type (integers stay integers, booleans are JSON
-- booleans, lists are JSON arrays even when empty) and wraps lists where ECS wraps them
-- (`Tags = {...}` becomes `Tags = {Tag = [...]}` when the model says so).
--
-- Stored resources ("records") carry internal fields beside their wire fields; those are
-- simply not in any model. In strict mode (the emulator's `strict` option; the specs use
-- it) a field of a plain answer table that is not in the model, or a value that does not
-- fit its type, is an error naming the action and the field, so a handler cannot invent
-- fields or send "20" for 20 without a spec noticing.
local json = require "aliyun.json"

local shape = {}

local arr, obj = json.array, json.object
local concat = table.concat
local tointeger = math.tointeger
local floor = math.floor

-- Tag lists are stored once as {Key =, Value =}; models name them TagKey/TagValue in places.
local ALIASES = { TagKey = "Key", TagValue = "Value" }

-- What both walks (render, encode) want of an object node, worked out once: its names in
-- the order JSON writes them (json.key_order), each as a key's text, and the one list field
-- that a bare list is wrapped in, when the object has nothing else.
local function finish(node)
  if node.t == "[" then return finish(node.item) end
  if node.t ~= "o" then return end
  local names = node.names or {}
  node.names = names
  local order = {}
  for i, name in ipairs(names) do order[i] = name end
  if #order > 0 then json.key_order(order, #order) end
  local keys, more, types = {}, {}, {}
  for i, name in ipairs(order) do
    keys[i] = '"' .. json.escaped(name) .. '":'
    more[i] = "," .. keys[i]
    types[i] = node.fields[name].t
  end
  node.order, node.keys, node.more, node.types = order, keys, more, types
  if #names == 1 and node.fields[names[1]].t == "[" then node.wrap = names[1] end
  for _, name in ipairs(names) do finish(node.fields[name]) end
end

-- Decoded shapes: {t = "o", fields = {[name] = node}} | {t = "[", item = node} | {t = "s"|"i"|"n"|"b"|"a"|"m"}
local function decode(text)
  local root = { t = "o", fields = {} }
  local parents = { [-1] = root }
  for line in text:gmatch("[^\n]+") do
    local indent, name, code = line:match("^( *)(%S+) (%S+)$")
    local depth = #indent
    -- a type code is a chain of "[" ending in a scalar or "o": build it inside out
    local node, leaf = nil, nil
    local outer
    for c in code:gmatch(".") do
      local n = { t = c }
      if c == "o" then n.fields = {} end
      if node then node.item = n else outer = n end
      node = n
      leaf = n
    end
    local parent = parents[depth - 1]
    parent.fields[name] = outer
    -- the names as an array too: render walks them in a numeric loop
    parent.names = parent.names or {}
    parent.names[#parent.names + 1] = name
    if ALIASES[name] then parent.aliased = true end
    if leaf.t == "o" then parents[depth] = leaf end
  end
  finish(root)
  return root
end

local cache = { ecs = {}, ens = {} }
local texts = {}

-- shape.of(product, action) -> the decoded shape of the answer's body, or nil.
function shape.of(product, action)
  local c = cache[product]
  if not c then return nil end
  local s = c[action]
  if s == nil then
    local t = texts[product]
    if not t then
      t = require("aliyun.emulator.shapes." .. product)
      texts[product] = t
    end
    s = t[action] and decode(t[action]) or false
    c[action] = s
  end
  return s or nil
end

-- Where a model's one list of resources is: {"Vpcs", "Vpc"} for DescribeVpcs, {"Instances"}
-- for a bare list; the first list of objects found in name order, nil when there is none.
function shape.list_path(node, path)
  if not path and node.list_path ~= nil then return node.list_path or nil end
  local top = not path
  path = path or {}
  local names = {}
  for name in pairs(node.fields or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local f = node.fields[name]
    path[#path + 1] = name
    if f.t == "[" and f.item.t == "o" then
      if top then node.list_path = path end
      return path
    end
    if f.t == "o" then
      local found = shape.list_path(f, path)
      if found then
        if top then node.list_path = found end
        return found
      end
    end
    path[#path] = nil
  end
  if top then node.list_path = false end
  return nil
end

local ARRAY_MT = getmetatable(arr {})

-- A record of the store, whose extra fields are internal rather than mistakes.
local function is_record(v)
  return rawget(v, "_kind") ~= nil
end

local function is_list(v)
  return v[1] ~= nil or next(v) == nil or getmetatable(v) == ARRAY_MT
end

local render

-- a record keeps one type per field where models differ (IoOptimized is a boolean in
-- DescribeInstances, a string in DescribeInstanceAttribute): converting it is no mistake
local function inner_ctx(ctx, v)
  if ctx.strict and is_record(v) then return ctx.lenient end
  return ctx
end

-- A field of an object, from an overlay (engine.overlay: computed fields, then the record's
-- own under _base) or a plain table, under the model's name or the one tags are stored under.
local function field(v, base, name, aliased)
  local x = v[name]
  if x == nil and base then x = base[name] end
  if x == nil and aliased and ALIASES[name] then
    x = v[ALIASES[name]]
    if x == nil and base then x = base[ALIASES[name]] end
  end
  return x
end

local function violation(ctx, path, problem)
  if ctx.strict then
    error({ shape_violation = true, message = ctx.action .. ": " .. path .. ": " .. problem }, 0)
  end
end

local function scalar(node, v, ctx, path)
  local t, tv = node.t, type(v)
  if t == "a" then return v end
  if v == json.null then return v end
  if t == "s" then
    if tv == "string" then return v end
    if tv == "number" then
      violation(ctx, path, "a number where the model has a string")
      if v == floor(v) then return string.format("%d", v) end
      return tostring(v)
    end
    if tv == "boolean" then
      violation(ctx, path, "a boolean where the model has a string")
      return v and "true" or "false"
    end
  elseif t == "i" then
    if tv == "number" then
      local i = tointeger and tointeger(v) or (v == floor(v) and v or nil)
      if i then return i end
      violation(ctx, path, "a fraction where the model has an integer")
      return floor(v)
    end
    if tv == "string" and v:match("^%-?%d+$") then
      violation(ctx, path, "a string where the model has an integer")
      return tonumber(v)
    end
  elseif t == "n" then
    if tv == "number" then return v end
    if tv == "string" and tonumber(v) then
      violation(ctx, path, "a string where the model has a number")
      return tonumber(v)
    end
  elseif t == "b" then
    if tv == "boolean" then return v end
    if v == "true" or v == "false" then
      violation(ctx, path, "a string where the model has a boolean")
      return v == "true"
    end
  elseif t == "m" then
    if tv == "table" then return obj(v) end
  end
  violation(ctx, path, "a " .. tv .. " where the model has type " .. t)
  return nil
end

-- Whether v is a table, as an object or list node needs.
local function container(node, v, ctx, path)
  if type(v) == "table" then return true end
  violation(ctx, path, "a " .. type(v) .. " where the model has " .. (node.t == "o" and "an object" or "a list"))
  return false
end

-- Strict mode: the wire fields of a plain answer table that the model lacks.
local function check_fields(ctx, fields, v, path)
  if is_record(v) then return end
  for k in pairs(v) do
    if type(k) == "string" and fields[k] == nil and not (k == "Key" and fields.TagKey)
      and not (k == "Value" and fields.TagValue) and k:match("^%u") then
      violation(ctx, path .. "." .. k, "not a field of the model")
    end
  end
end

local function render_list(node, v, ctx, path)
  local out = arr {}
  for i = 1, #v do
    local x = render(node.item, v[i], ctx, ctx.strict and (path .. "[" .. i .. "]") or path)
    if x ~= nil then out[#out + 1] = x end
  end
  return out
end

render = function(node, v, ctx, path)
  if v == nil then return nil end
  local t = node.t
  if t == "o" then
    if not container(node, v, ctx, path) then return nil end
    local fields = node.fields
    -- a bare list where the model wraps it: {Tag = [...]}
    if is_list(v) and not is_record(v) then
      local only = node.wrap
      if only then
        return { [only] = render_list(fields[only], v, ctx, ctx.strict and (path .. "." .. only) or path) }
      end
      if next(v) == nil then return obj {} end
    end
    local out = {}
    local inner = inner_ctx(ctx, v)
    local names, aliased = node.names, node.aliased
    local base = rawget(v, "_base")
    for i = 1, #names do
      local name = names[i]
      local x = field(v, base, name, aliased)
      if x ~= nil then out[name] = render(fields[name], x, inner, ctx.strict and (path .. "." .. name) or path) end
    end
    if ctx.strict then check_fields(ctx, fields, v, path) end
    return obj(out)
  elseif t == "[" then
    if not container(node, v, ctx, path) then return nil end
    return render_list(node, v, ctx, path)
  end
  return scalar(node, v, ctx, path)
end

-- shape.render(product, action, body, strict) -> the body as the model has it. RequestId
-- and the like pass through when the model has them. Without a model the body is sent as it is.
function shape.render(product, action, body, strict)
  local s = shape.of(product, action)
  if not s then return body end
  local ctx = { strict = strict, action = action }
  ctx.lenient = { strict = false, action = action }
  return render(s, body, ctx, action)
end

-- The same walk as render, writing the JSON text of the rendered answer straight into one
-- buffer (no rendered copy to build and then encode): json.encode of render's table, byte
-- for byte (strict mode checks that on every answer, see the router). Conversions and
-- violations are render's; a field whose value renders to nothing is taken back out.
local buf, n = {}, 0
local number, write_string = json.number, json.write_string
local put

local function put_string(x)
  n = write_string(buf, n, x)
end

local function put_list(node, v, ctx, path)
  local open, item, strict, first = n + 1, node.item, ctx.strict, true
  n = open; buf[n] = "["
  for i = 1, #v do
    local mark = n
    if not first then n = n + 1; buf[n] = "," end
    if put(item, v[i], ctx, strict and (path .. "[" .. i .. "]") or path) then first = false else n = mark end
  end
  if first then buf[open] = "[]" else n = n + 1; buf[n] = "]" end
  return true
end

-- An object's fields; rid: the answer's RequestId, written first (the top level only).
local function put_object(node, v, ctx, path, rid)
  local fields, strict = node.fields, ctx.strict
  local open = n + 1
  n = open
  if rid then
    buf[n] = '{"RequestId":"'; buf[n + 1] = rid; buf[n + 2] = '"'
    n = n + 2
  else
    buf[n] = "{"
  end
  local first = not rid
  if is_list(v) and not is_record(v) then
    local only = node.wrap
    if only then
      n = n + 1; buf[n] = first and node.keys[1] or node.more[1]
      put_list(fields[only], v, ctx, strict and (path .. "." .. only) or path)
      n = n + 1; buf[n] = "}"
      return true
    end
    if next(v) == nil then
      if first then buf[open] = "{}" else n = n + 1; buf[n] = "}" end
      return true
    end
  end
  local inner = inner_ctx(ctx, v)
  local order, keys, more, types, aliased = node.order, node.keys, node.more, node.types, node.aliased
  local base = rawget(v, "_base")
  for i = 1, #order do
    local name = order[i]
    if not (rid and name == "RequestId") then
      local x = field(v, base, name, aliased)
      if x ~= nil then
        local mark = n
        n = n + 1; buf[n] = first and keys[i] or more[i]
        if types[i] == "s" and type(x) == "string" then -- the common case, written here
          put_string(x)
          first = false
        elseif put(fields[name], x, inner, strict and (path .. "." .. name) or path) then
          first = false
        else
          n = mark
        end
      end
    end
  end
  if strict then check_fields(ctx, fields, v, path) end
  if first then buf[open] = "{}" else n = n + 1; buf[n] = "}" end
  return true
end

-- A value of any shape, as json.encode writes it.
local function put_any(v, path)
  local text, err = json.encode(v)
  if not text then error("emulator: " .. path .. ": " .. err, 0) end
  n = n + 1; buf[n] = text
  return true
end

-- Writes v as node has it; false when it renders to nothing.
put = function(node, v, ctx, path)
  if v == nil then return false end
  local t = node.t
  if t == "o" then
    return container(node, v, ctx, path) and put_object(node, v, ctx, path)
  elseif t == "[" then
    return container(node, v, ctx, path) and put_list(node, v, ctx, path)
  end
  local x = scalar(node, v, ctx, path)
  local tx = type(x)
  if tx == "string" then
    put_string(x)
  elseif tx == "number" then
    local s = number(x)
    if not s then error("emulator: " .. path .. ": cannot encode " .. tostring(x) .. " in JSON", 0) end
    n = n + 1; buf[n] = s
  elseif tx == "boolean" then
    n = n + 1; buf[n] = x and "true" or "false"
  elseif x == nil then
    return false
  elseif x == json.null then
    n = n + 1; buf[n] = "null"
  else
    return put_any(x, path)
  end
  return true
end

-- shape.encode(product, action, body, strict, request_id, pieces) -> the JSON text of the
-- answer with its RequestId, as json.encode would write render's table with that RequestId;
-- nil when the action has no model. pieces: the text as a list of three strings instead (the
-- head, the RequestId, the rest), for a caller that writes them out one after the other.
-- (Under LuaJIT, which interns every string and hashes a long one by sampling it, answers that
-- differ only in their RequestId would all be distinct strings in one chain of its string
-- table; the rest, the same from answer to answer, is one string.)
local LENIENT = {} -- action -> the context of a walk outside strict mode (nothing in it changes)
function shape.encode(product, action, body, strict, request_id, pieces)
  local s = shape.of(product, action)
  if not s then return nil end
  local ctx = LENIENT[action]
  if strict or not ctx then
    ctx = { strict = strict, action = action }
    ctx.lenient = { strict = false, action = action }
    if not strict then LENIENT[action] = ctx end
  end
  if #buf > 4096 then buf = {} end -- reused, but a huge answer's pieces are let go
  n = 0
  if type(body) ~= "table" then
    violation(ctx, action, "a " .. type(body) .. " where the model has an object")
    body = {}
  end
  put_object(s, body, ctx, action, request_id)
  if pieces and request_id then return { buf[1], buf[2], concat(buf, "", 3, n) } end
  return concat(buf, "", 1, n)
end

-- shape.check(node, value) -> list of problems (for specs): fields not in the model, values
-- of another type, objects where lists belong. An independent walk from render's.
function shape.check(node, v, path, out)
  out = out or {}
  path = path or ""
  local t = node.t
  local tv = type(v)
  if v == json.null or t == "a" then return out end
  if t == "o" then
    if tv ~= "table" then
      out[#out + 1] = path .. ": expected an object, got " .. tv
    elseif getmetatable(v) == ARRAY_MT and next(v) ~= nil then
      out[#out + 1] = path .. ": expected an object, got a list"
    else
      for k, x in pairs(v) do
        local f = node.fields[k]
        if not f then
          out[#out + 1] = path .. "." .. tostring(k) .. ": not in the model"
        else
          shape.check(f, x, path .. "." .. k, out)
        end
      end
    end
  elseif t == "[" then
    if tv ~= "table" then
      out[#out + 1] = path .. ": expected a list, got " .. tv
    else
      local count = 0
      for _ in pairs(v) do count = count + 1 end
      if count ~= #v then out[#out + 1] = path .. ": expected a list, got an object" end
      for i = 1, #v do shape.check(node.item, v[i], path .. "[" .. i .. "]", out) end
    end
  elseif t == "s" then
    if tv ~= "string" then out[#out + 1] = path .. ": expected a string, got " .. tv end
  elseif t == "i" then
    if tv ~= "number" or v ~= floor(v) or (math.type and math.type(v) ~= "integer") then
      out[#out + 1] = path .. ": expected an integer, got " .. tostring(v)
    end
  elseif t == "n" then
    if tv ~= "number" then out[#out + 1] = path .. ": expected a number, got " .. tv end
  elseif t == "b" then
    if tv ~= "boolean" then out[#out + 1] = path .. ": expected a boolean, got " .. tv end
  elseif t == "m" then
    if tv ~= "table" then out[#out + 1] = path .. ": expected an object, got " .. tv end
  end
  return out
end

shape.decode = decode

return shape
