-- The service answers errors in XML when a request did not get JSON (a V1 request without
-- Format=JSON, a gateway or proxy in between): <Error><RequestId/><HostId/><Code/><Message/>
-- <Recommend/></Error>. This reads those fields, nothing more, so that such an error
-- becomes the same error object as a JSON one (and Throttling is retried alike).
local xml = {}

local ENTITIES = { lt = "<", gt = ">", amp = "&", quot = '"', apos = "'" }

local floor = math.floor

-- A code point as UTF-8 (written out: LuaJIT has no utf8 library and no // operator).
local function utf8_char(n)
  if n < 0 or n > 0x10FFFF or (n >= 0xD800 and n <= 0xDFFF) then return nil end
  if n < 0x80 then return string.char(n) end
  if n < 0x800 then return string.char(0xC0 + floor(n / 64), 0x80 + n % 64) end
  if n < 0x10000 then
    return string.char(0xE0 + floor(n / 4096), 0x80 + floor(n / 64) % 64, 0x80 + n % 64)
  end
  return string.char(0xF0 + floor(n / 262144), 0x80 + floor(n / 4096) % 64, 0x80 + floor(n / 64) % 64, 0x80 + n % 64)
end

local function entity(name)
  local named = ENTITIES[name]
  if named then return named end
  local hex = name:match("^#[xX](%x+)$")
  local n = hex and tonumber(hex, 16) or tonumber(name:match("^#(%d+)$") or "")
  return n and utf8_char(n) or ("&" .. name .. ";")
end

-- An element's text: CDATA as it is, the rest with its entities decoded.
local function text_of(raw)
  local out, pos = {}, 1
  while true do
    local s, e, cdata = raw:find("<!%[CDATA%[(.-)%]%]>", pos)
    local plain = raw:sub(pos, (s or #raw + 1) - 1)
    out[#out + 1] = (plain:gsub("&(#?[%w]+);", entity))
    if not s then break end
    out[#out + 1] = cdata
    pos = e + 1
  end
  return (table.concat(out):match("^%s*(.-)%s*$"))
end

local FIELDS = { "Code", "Message", "RequestId", "HostId", "Recommend" }

-- xml.error_fields(body) -> {Code =, Message =, RequestId =, HostId =, Recommend =} when
-- body is an XML document with a Code element, else nil.
function xml.error_fields(body)
  if type(body) ~= "string" then return nil end
  local start = body:match("^\239\187\191") and 4 or 1 -- a UTF-8 byte order mark
  if not body:find("^%s*<", start) then return nil end
  local fields = {}
  for _, name in ipairs(FIELDS) do
    local raw = body:match("<" .. name .. "%s*>(.-)</" .. name .. "%s*>")
    if raw then fields[name] = text_of(raw) end
  end
  if not fields.Code or fields.Code == "" then return nil end
  return fields
end

return xml
