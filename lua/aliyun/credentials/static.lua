-- Credentials given explicitly: client options or a per-call `credentials` table.
local value = require "aliyun.credentials.value"

local static = {}

-- Returns a provider, or nil when the options hold no key pair at all.
function static.new(opts, source)
  if not (opts.access_key_id or opts.access_key_secret) then return nil end
  local creds = value.new {
    access_key_id = opts.access_key_id, access_key_secret = opts.access_key_secret,
    security_token = opts.security_token, source = source or "client options",
  }
  -- checked once: the pair does not change, and get() runs at every call
  local why
  if not value.is_complete(creds) then
    -- the provider's name says whose: the chain and the client put it first
    why = "only half of the key pair is given (access_key_id and access_key_secret are both needed)"
  end
  return {
    name = source or "client options",
    get = function()
      if why then return nil, why end
      return creds
    end,
  }
end

return static
