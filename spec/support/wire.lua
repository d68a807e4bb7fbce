-- Spec helper: a client whose transport keeps the request instead of sending it, and
-- the request taken apart again (query string and form body decoded) so that specs can
-- compare exact wire parameters.
local aliyun = require "aliyun"
local core = require "aliyun.core"

local wire = {}

-- The common parameters the V1 signer adds to every request.
wire.COMMON = {
  "Action", "Version", "Format", "AccessKeyId", "SignatureMethod", "SignatureVersion",
  "SignatureNonce", "Timestamp", "Signature",
}

local function hex_byte(h)
  return string.char(tonumber(h, 16))
end

-- "%41b+c" -> "Ab c"
function wire.decode(s)
  return (s:gsub("+", " "):gsub("%%(%x%x)", hex_byte))
end

-- "a=1&b=%20" -> {a = "1", b = " "}; a name seen twice is an error.
function wire.parse(s)
  local t = {}
  if s == nil or s == "" then return t end
  for pair in s:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if not k then k, v = pair, "" end
    k, v = wire.decode(k), wire.decode(v)
    assert(t[k] == nil, "parameter " .. k .. " appears twice on the wire")
    t[k] = v
  end
  return t
end

-- A client for product whose transport records the request and answers {"RequestId":"x"}.
-- Returns the client and a function giving the last request.
function wire.client(product, opts)
  local captured
  local o = {
    endpoint = "http://127.0.0.1:1",
    access_key_id = "testid",
    access_key_secret = "testsecret",
    transport = function(req)
      captured = req
      return { status = 200, headers = {}, body = '{"RequestId":"x"}' }
    end,
  }
  for k, v in pairs(opts or {}) do o[k] = v end
  local c = aliyun.client(product, o)
  return c, function()
    local r = captured
    captured = nil
    return r
  end
end

-- The request taken apart: {method, query = all query parameters, body = form parameters,
-- params = query and body without the common parameters, common = the common ones}.
function wire.split(req)
  local qs = req.url:match("%?(.*)$") or ""
  local query = wire.parse(qs)
  local body = wire.parse(req.body)
  local params, common = {}, {}
  local is_common = {}
  for _, k in ipairs(wire.COMMON) do is_common[k] = true end
  for k, v in pairs(query) do
    if is_common[k] then common[k] = v else params[k] = v end
  end
  for k, v in pairs(body) do
    assert(params[k] == nil and common[k] == nil, "parameter " .. k .. " both in the query and the body")
    params[k] = v
  end
  return { method = req.method, query = query, body = body, params = params, common = common }
end

-- Whether the V1 signature of the request verifies with secret: recomputed over every
-- parameter but Signature, query and body together.
function wire.v1_verifies(req, secret)
  local parts = wire.split(req)
  local signed = {}
  for k, v in pairs(parts.query) do
    if k ~= "Signature" then signed[k] = v end
  end
  for k, v in pairs(parts.body) do signed[k] = v end
  local expected = core.v1_sign(req.method, signed, secret)
  return expected == parts.query.Signature, expected, parts.query.Signature
end

return wire
