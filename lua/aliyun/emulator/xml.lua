-- The service's other answer format: V1 requests get XML unless they ask for Format=JSON
-- (section 4.5). Objects become elements, a list under a key becomes that element repeated
-- (Regions.Region = [...] -> <Regions><Region>..</Region><Region>..</Region></Regions>).
local json = require "aliyun.json"

local xml = {}

local ESC = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }

local function text(v)
  local t = type(v)
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then
    if v == math.floor(v) and v >= -2 ^ 53 and v <= 2 ^ 53 then return string.format("%.0f", v) end
    return string.format("%.17g", v)
  end
  if v == nil or v == json.null then return "" end
  return (tostring(v):gsub("[&<>\"']", ESC))
end

local ARRAY = getmetatable(json.array {})

local function is_list(v)
  return type(v) == "table" and (v[1] ~= nil or getmetatable(v) == ARRAY)
end

local emit

local function element(out, name, v)
  if is_list(v) then
    for _, item in ipairs(v) do emit(out, name, item) end
  else
    emit(out, name, v)
  end
end

emit = function(out, name, v)
  if type(v) == "table" then
    out[#out + 1] = "<" .. name .. ">"
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for _, k in ipairs(keys) do element(out, k, v[k]) end
    out[#out + 1] = "</" .. name .. ">"
  else
    out[#out + 1] = "<" .. name .. ">" .. text(v) .. "</" .. name .. ">"
  end
end

-- xml.encode(root_name, table) -> the document
function xml.encode(root, t)
  local out = { '<?xml version="1.0" encoding="UTF-8"?>' }
  emit(out, root, t)
  return table.concat(out)
end

return xml
