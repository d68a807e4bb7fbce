-- Responses of the built-in transports carry the raw header block; the headers table is
-- made on first use (on errors, with debug on), not for every answer: most calls only
-- read the body.
local core = require "aliyun.core"

local response = {}

local LAZY_HEADERS = {
  __index = function(r, k)
    if k ~= "headers" then return nil end
    local h = core.parse_headers(rawget(r, "raw_headers") or "")
    rawset(r, "headers", h)
    return h
  end,
}

-- response.lazy(t) -> t, whose headers field is made from t.raw_headers when first read
function response.lazy(t)
  return setmetatable(t, LAZY_HEADERS)
end

-- response.new(status, body, raw_headers) -> {status, body, raw_headers, headers (lazy)}
function response.new(status, body, raw_headers)
  return setmetatable({ status = status, body = body, raw_headers = raw_headers }, LAZY_HEADERS)
end

return response
