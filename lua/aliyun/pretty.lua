-- Pretty-printing of results for people: nested tables as Lua-like text with a stable key
-- order (list items first, then the other keys sorted), short tables on one line, colour
-- only when asked (the REPL and the command line ask when stdout is a terminal).
--
--   pretty.format(value, {color = bool, width = 100, live = bool}) -> string
--   pretty.json(value, {live = bool}) -> string | nil, why
--   pretty.columns(result, {rows = "Disks.Disk", cols = {"DiskId", "Status"}}) -> string | nil, why
-- Secrets never show (mask.lua): dry runs, requests, clients, credentials and errors print
-- as their masked forms, and the library's own secret options as ****; live = true shows
-- them as they are (for a request that is to be sent elsewhere).
local core = require "aliyun.core"
local mask = require "aliyun.mask"

local pretty = {}

local COLORS = {
  string = "\27[32m", number = "\27[36m", boolean = "\27[35m", null = "\27[2m",
  key = "\27[1m", other = "\27[33m", error = "\27[31m",
}
local RESET = "\27[0m"

local function paint(color, what, text)
  if not color then return text end
  return COLORS[what] .. text .. RESET
end
pretty.paint = paint

local function is_index(k, n)
  return type(k) == "number" and k >= 1 and k <= n and k == math.floor(k)
end

local KEYWORDS = {}
for w in ("and break do else elseif end false for function goto if in local nil not or repeat return "
  .. "then true until while"):gmatch("%a+") do KEYWORDS[w] = true end

local function is_identifier(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil and not KEYWORDS[k]
end

local function quote(s)
  return (string.format("%q", s):gsub("\\\n", "\\n"))
end

-- The keys of t in display order: 1..n, then numbers, then strings, then the rest.
local TYPE_RANK = { number = 1, string = 2, boolean = 3 }

function pretty.keys(t)
  local n = #t
  local keys = {}
  for i = 1, n do keys[i] = i end
  local rest = {}
  for k in pairs(t) do
    if not is_index(k, n) then rest[#rest + 1] = k end
  end
  table.sort(rest, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then
      local ra, rb = TYPE_RANK[ta] or 9, TYPE_RANK[tb] or 9
      if ra ~= rb then return ra < rb end
      return ta < tb
    end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  return keys, n
end

local function scalar(v, color)
  local t = type(v)
  if v == core.null then return paint(color, "null", "null") end
  if t == "string" then return paint(color, "string", quote(v)) end
  if t == "number" then
    local s
    if math.type and math.type(v) == "integer" then s = tostring(v)
    elseif v ~= v then s = "nan"
    elseif v == math.huge then s = "inf"
    elseif v == -math.huge then s = "-inf"
    else s = string.format("%.14g", v) if not s:find("[%.eEn]") then s = s .. ".0" end end
    return paint(color, "number", s)
  end
  if t == "boolean" then return paint(color, "boolean", tostring(v)) end
  if t == "nil" then return paint(color, "null", "nil") end
  if t == "table" then
    local mt = getmetatable(v)
    if mt and mt.__tostring then return paint(color, "other", tostring(v)) end
    if next(v) == nil then return "{}" end
    return nil
  end
  if t == "function" then
    local ok, client = pcall(require, "aliyun.client")
    local product, action = nil, nil
    if ok and client.method_info then product, action = client.method_info(v) end
    if product then return paint(color, "other", "<action " .. product .. "." .. action .. ">") end
  end
  return paint(color, "other", "<" .. tostring(v) .. ">")
end

local function key_text(k, color)
  if is_identifier(k) then return paint(color, "key", k) end
  if type(k) == "string" then return "[" .. paint(color, "string", quote(k)) .. "]" end
  return "[" .. (scalar(k, color) or tostring(k)) .. "]"
end

-- Width of text without the colour escapes.
local function visible_len(s)
  return #(s:gsub("\27%[[%d;]*m", ""))
end

-- What a value shows as: its masked form, unless the caller asked for the live one.
local function shown(v, live)
  if not live then return mask.display(v) end
  return mask.live(v)
end

local function render(v, color, indent, width, seen, out, live)
  v = shown(v, live)
  local s = scalar(v, color)
  if s then out[#out + 1] = s return end
  if type(v) ~= "table" then out[#out + 1] = tostring(v) return end
  if seen[v] then out[#out + 1] = paint(color, "other", "<cycle>") return end
  local keys, n = pretty.keys(v)
  if #keys == 0 then out[#out + 1] = "{}" return end
  seen[v] = true
  -- one line when every value is a scalar and it fits
  local parts, flat = {}, true
  local function field(k)
    if live then return v[k] end
    return shown(mask.field(k, v[k]))
  end
  for _, k in ipairs(keys) do
    local vs = scalar(field(k), color)
    if not vs then flat = false break end
    if is_index(k, n) then parts[#parts + 1] = vs
    else parts[#parts + 1] = key_text(k, color) .. " = " .. vs end
  end
  if flat then
    local line = "{ " .. table.concat(parts, ", ") .. " }"
    if visible_len(line) + #indent <= width then
      out[#out + 1] = line
      seen[v] = nil
      return
    end
  end
  local inner = indent .. "  "
  out[#out + 1] = "{\n"
  for _, k in ipairs(keys) do
    out[#out + 1] = inner
    if not is_index(k, n) then
      out[#out + 1] = key_text(k, color) .. " = "
    end
    render(field(k), color, inner, width, seen, out, live)
    out[#out + 1] = ",\n"
  end
  out[#out + 1] = indent .. "}"
  seen[v] = nil
end

function pretty.format(v, opts)
  opts = opts or {}
  local out = {}
  render(v, opts.color and true or false, "", opts.width or 100, {}, out, opts.live)
  return table.concat(out)
end

-- JSON indented by two spaces, keys sorted (json.encode for the leaves and empty tables,
-- so [] and {} come out as the decoder saw them). Returns text or nil, why.
local function json_lines(v, indent, out, seen, live)
  local json = require "aliyun.json"
  v = shown(v, live)
  local mt = type(v) == "table" and getmetatable(v)
  -- an object that says how it prints (a client, credentials) is that text, not its fields
  if mt and mt.__tostring then v = tostring(v) end
  if type(v) ~= "table" or next(v) == nil then
    local s, err = json.encode(v)
    if not s then error(err, 0) end
    out[#out + 1] = s
    return
  end
  if seen[v] then error("cannot encode a table that contains itself", 0) end
  seen[v] = true
  local n, count, array = #v, 0, true
  for k in pairs(v) do
    count = count + 1
    if not is_index(k, n) then array = false end
  end
  if count ~= n then array = false end
  local inner = indent .. "  "
  if array then
    out[#out + 1] = "[\n"
    for i = 1, n do
      out[#out + 1] = inner
      json_lines(v[i], inner, out, seen, live)
      out[#out + 1] = i < n and ",\n" or "\n"
    end
    out[#out + 1] = indent .. "]"
  else
    local keys = {}
    for k in pairs(v) do
      if type(k) ~= "string" and type(k) ~= "number" then error("cannot encode a " .. type(k) .. " key", 0) end
      keys[#keys + 1] = tostring(k)
    end
    table.sort(keys)
    out[#out + 1] = "{\n"
    for i, k in ipairs(keys) do
      local val = v[k]
      if val == nil then val = v[tonumber(k)] end
      if not live then val = mask.field(k, val) end
      out[#out + 1] = inner .. json.encode(k) .. ": "
      json_lines(val, inner, out, seen, live)
      out[#out + 1] = i < #keys and ",\n" or "\n"
    end
    out[#out + 1] = indent .. "}"
  end
  seen[v] = nil
end

function pretty.json(v, opts)
  local out = {}
  local ok, err = pcall(json_lines, v, "", out, {}, opts and opts.live)
  if not ok then return nil, err end
  return table.concat(out)
end

-- The value at a dotted path ("Disks.Disk", "Instances.Instance[0].Status": [n] counts
-- from 0 as in JMESPath; a bare number counts from 1 as in Lua).
function pretty.at(value, path)
  local v = value
  if path == nil or path == "" then return v end
  for part in path:gsub("%[(%d+)%]", function(i) return "." .. (tonumber(i) + 1) end):gmatch("[^.]+") do
    if type(v) ~= "table" then return nil end
    local idx = tonumber(part)
    if idx and v[idx] ~= nil then v = v[idx] else v = v[part] end
  end
  return v
end

-- Paths in the official command-line client's syntax (JMESPath), the part of it that
-- names things: fields (a.b), indexes from 0 ([0], [-1] from the end), and [] / [*], which
-- apply the rest of the path to every item of a list ([] also flattens nested lists).
-- pretty.compile_path(path) -> steps | nil, why (filters and the like are refused, not
-- guessed at).
function pretty.compile_path(path)
  if type(path) ~= "string" or path == "" then return nil, "an empty path" end
  local steps, pos, n = {}, 1, #path
  local expect_name = true
  while pos <= n do
    local c = path:sub(pos, pos)
    if c == "[" then
      local inner, after = path:match("^%[([^%]]*)%]()", pos)
      if not inner then return nil, "unclosed [ in " .. path end
      if inner == "" then
        steps[#steps + 1] = { kind = "flatten" }
      elseif inner == "*" then
        steps[#steps + 1] = { kind = "project" }
      elseif inner:match("^%-?%d+$") then
        steps[#steps + 1] = { kind = "index", i = tonumber(inner) }
      else
        return nil, "[" .. inner .. "] in " .. path .. " is not supported (only [n], [] and [*])"
      end
      pos = after
      expect_name = false
    elseif c == "." then
      if expect_name then return nil, "a name is missing before . in " .. path end
      pos = pos + 1
      expect_name = true
      if pos > n then return nil, path .. " ends with ." end
    else
      local name, after = path:match("^([%a_][%w_%-]*)()", pos)
      if not name or not expect_name then
        return nil, "unexpected '" .. c .. "' in " .. path .. " (a path is Name.Name[0].Name, with [] for every item)"
      end
      steps[#steps + 1] = { kind = "field", name = name }
      pos = after
      expect_name = false
    end
  end
  return steps
end

local function is_array(v)
  return type(v) == "table" and (next(v) == nil or v[1] ~= nil)
end

local function run_steps(v, steps, from)
  for j = from, #steps do
    local st = steps[j]
    if st.kind == "field" then
      if type(v) ~= "table" then return nil end
      v = v[st.name]
    elseif st.kind == "index" then
      if not is_array(v) then return nil end
      v = v[st.i >= 0 and st.i + 1 or #v + st.i + 1]
    else
      if not is_array(v) then return nil end
      local out = {}
      for _, e in ipairs(v) do
        local items = (st.kind == "flatten" and is_array(e) and getmetatable(e) == nil) and e or { e }
        for _, x in ipairs(items) do
          local r = run_steps(x, steps, j + 1)
          if r ~= nil then out[#out + 1] = r end
        end
      end
      return out
    end
    if v == nil then return nil end
  end
  return v
end

-- pretty.query(value, path) -> the value at path (nil when nothing is there) | nil, why for
-- a path that is not valid.
function pretty.query(value, path)
  local steps, why = pretty.compile_path(path)
  if not steps then return nil, why end
  return run_steps(value, steps, 1)
end

-- The scalar fields of an item, flattened ("EipAddress.IpAddress").
local function flatten(item, prefix, out)
  for _, k in ipairs((pretty.keys(item))) do
    local v = mask.display(mask.field(k, item[k]))
    local name = prefix and (prefix .. "." .. tostring(k)) or tostring(k)
    if type(v) == "table" and v ~= core.null and not getmetatable(v) then
      if next(v) ~= nil then flatten(v, name, out) end
    else
      out[#out + 1] = { name, v }
    end
  end
  return out
end

local function cell(v)
  if v == nil then return "" end
  if v == core.null then return "null" end
  local s = tostring(v):gsub("[\r\n\t]", " ")
  return s
end

-- The names of the scalar fields the items have, in order of first appearance.
local function field_names(items)
  local cols, seen = {}, {}
  for _, item in ipairs(items) do
    local names = type(item) == "table" and flatten(item, nil, {}) or { { "Value" } }
    for _, pair in ipairs(names) do
      if not seen[pair[1]] then seen[pair[1]] = true cols[#cols + 1] = pair[1] end
    end
  end
  return cols
end

-- A text table. With rows (a path to a list, in the syntax of pretty.query) or when the
-- result holds exactly one list, one row per item and one column per field (cols, or every
-- scalar field of the items; "Name:0" takes item[0] of items that are lists); otherwise
-- one row per scalar field of the result. num = true adds a row number from 0. A rows
-- path that finds no list, or a column no row has, is an error (nil, why), never a table
-- of blanks.
function pretty.columns(result, opts)
  opts = opts or {}
  result = mask.display(result)
  -- an object that says how it prints (an error, a client) is that one cell
  local mt = type(result) == "table" and getmetatable(result)
  if type(result) ~= "table" or mt and mt.__tostring then return cell(result) .. "\n" end
  local rows_path = opts.rows
  local items
  if rows_path then
    local why
    items, why = pretty.query(result, rows_path)
    if why then return nil, "rows=" .. rows_path .. ": " .. why end
    if items == nil then
      local found = require("aliyun.paginate").find_items(result)
      return nil, "rows=" .. rows_path .. " finds nothing in the result" .. (found and ("; its list is at " .. found .. "[]") or "")
    end
    if not is_array(items) then return nil, "rows=" .. rows_path .. " is not a list in the result" end
  else
    rows_path = require("aliyun.paginate").find_items(result)
    items = rows_path and pretty.at(result, rows_path)
  end
  local header
  local rows = {}
  if type(items) == "table" then
    local cols = opts.cols
    local flat = {}
    for i, item in ipairs(items) do
      local f = {}
      if type(item) == "table" then
        for _, pair in ipairs(flatten(item, nil, {})) do f[pair[1]] = pair[2] end
      else
        f.Value = item
      end
      flat[i] = f
    end
    local getters = {}
    if not cols then
      cols = field_names(items)
    else
      local names = {}
      for j, c in ipairs(cols) do
        local label, index = c:match("^(.-):(%d+)$")
        names[j] = label or c
        if index then
          local k = tonumber(index) + 1
          getters[j] = function(item) return type(item) == "table" and item[k] or nil end
        else
          local steps = pretty.compile_path(c)
          getters[j] = function(item, f)
            if f[c] ~= nil then return f[c] end
            return steps and run_steps(item, steps, 1) or nil
          end
        end
      end
      -- every named column must be found in some row (when there are rows)
      for j, c in ipairs(cols) do
        local hit = #items == 0
        for i, item in ipairs(items) do
          if getters[j](item, flat[i]) ~= nil then hit = true break end
        end
        if not hit then
          local have = field_names(items)
          local near = require("aliyun.api").suggest(have, c, 3)
          return nil, "cols: no field " .. c .. " in the rows" .. (rows_path and (" of " .. rows_path) or "")
            .. (#near > 0 and ("; did you mean " .. table.concat(near, ", ") .. "?")
              or (" (they have " .. table.concat(have, ", ", 1, math.min(#have, 10)) .. (#have > 10 and ", ..." or "") .. ")"))
        end
      end
      cols = names
    end
    header = {}
    for j, c in ipairs(cols) do header[j] = c end
    for i, f in ipairs(flat) do
      local row = {}
      for j, c in ipairs(cols) do
        local v
        if getters[j] then v = getters[j](items[i], f) else v = f[c] ~= nil and f[c] or pretty.at(items[i], c) end
        row[j] = type(v) == "table" and v ~= core.null and (require("aliyun.json").encode(v) or "?") or cell(v)
      end
      rows[i] = row
    end
    if opts.num then
      table.insert(header, 1, "Num")
      for i, row in ipairs(rows) do table.insert(row, 1, tostring(i - 1)) end
    end
  else
    header = { "Field", "Value" }
    for _, pair in ipairs(flatten(result, nil, {})) do rows[#rows + 1] = { pair[1], cell(pair[2]) } end
  end
  local widths = {}
  for j, h in ipairs(header) do widths[j] = #h end
  for _, row in ipairs(rows) do
    for j, c in ipairs(row) do if #c > widths[j] then widths[j] = #c end end
  end
  local lines = {}
  local function line(cells)
    local parts = {}
    for j, c in ipairs(cells) do
      parts[j] = j < #cells and (c .. string.rep(" ", widths[j] - #c)) or c
    end
    lines[#lines + 1] = table.concat(parts, " | ")
  end
  line(header)
  local sep = {}
  for j = 1, #header do sep[j] = string.rep("-", widths[j]) end
  lines[#lines + 1] = table.concat(sep, "-+-")
  for _, row in ipairs(rows) do line(row) end
  return table.concat(lines, "\n") .. "\n"
end

return pretty
