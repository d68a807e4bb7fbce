-- A credential value: the key pair and optional STS token. tostring() never shows secrets.
local value = {}

local Credentials = {}
Credentials.__index = Credentials
Credentials.__name = "aliyun.credentials"

function Credentials.__tostring(c)
  local id = c.access_key_id or "?"
  -- enough of the id to tell keys apart, never the secret or the token
  local shown = #id > 8 and (id:sub(1, 4) .. "****" .. id:sub(-3)) or "****"
  return string.format("aliyun.credentials(%s%s, from %s)", shown,
    c.security_token and ", with STS token" or "", c.source or "?")
end

-- fields: access_key_id, access_key_secret, security_token (optional), expiration (epoch
-- seconds, optional), source (where it came from, for messages)
function value.new(fields)
  return setmetatable({
    access_key_id = fields.access_key_id,
    access_key_secret = fields.access_key_secret,
    security_token = fields.security_token,
    expiration = fields.expiration,
    source = fields.source,
  }, Credentials)
end

-- Why c cannot sign a request, or nil: the signer takes a non-empty key pair of strings
-- and, when there is one, a token that is a string. Checked before every signature, since
-- a provider of the caller's own may give anything.
local PAIR = { "access_key_id", "access_key_secret" }

function value.problem(c)
  if type(c) ~= "table" then return "gave a " .. type(c) .. ", not credentials" end
  for _, k in ipairs(PAIR) do
    local v = c[k]
    if type(v) ~= "string" or v == "" then
      return "gave an " .. k .. " that is " .. (v == "" and "empty" or ("a " .. type(v))) .. ", not a non-empty string"
    end
  end
  if c.security_token ~= nil and type(c.security_token) ~= "string" then
    return "gave a security_token that is a " .. type(c.security_token) .. ", not a string"
  end
  return nil
end

function value.is_complete(c)
  return type(c) == "table" and type(c.access_key_id) == "string" and c.access_key_id ~= ""
    and type(c.access_key_secret) == "string" and c.access_key_secret ~= ""
end

return value
