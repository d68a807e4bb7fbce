-- Credentials from a local URI (ALIBABA_CLOUD_CREDENTIALS_URI): a GET answering
-- {"Code": "Success", "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration"}.
-- Cached and refreshed ahead of expiry.
local core = require "aliyun.core"
local refresh = require "aliyun.credentials.refresh"
local value = require "aliyun.credentials.value"
local http = require "aliyun.credentials.http"

local uri = {}

uri.NAME = "credentials URI (ALIBABA_CLOUD_CREDENTIALS_URI)"

-- opts: uri (required), timeout and connect_timeout (default 5), transport; margin, now,
-- wait, on_refresh. Returns a provider, or nil and why.
function uri.new(opts)
  local url = opts.uri
  if type(url) ~= "string" or not url:match("^https?://") then return nil, "no http(s) credentials URI given" end
  local shown = http.show_url(url)
  local timeout, connect_timeout = opts.timeout or 5, opts.connect_timeout or 5
  local send = http.sender(opts, connect_timeout, timeout)

  local function fetch()
    local response, err = http.send(send, {
      method = "GET", url = url, headers = { Accept = "application/json" },
      timeout = timeout, connect_timeout = connect_timeout,
    })
    if not response then return nil, err end
    if response.status ~= 200 then return nil, "HTTP " .. tostring(response.status) .. " from " .. shown end
    local c = core.json_decode(response.body or "")
    if type(c) ~= "table" then return nil, shown .. " did not answer JSON" end
    if c.Code ~= "Success" then
      return nil, shown .. " answered Code " .. tostring(c.Code)
    end
    for _, k in ipairs { "AccessKeyId", "AccessKeySecret" } do
      if type(c[k]) ~= "string" or c[k] == "" then return nil, shown .. " gave no " .. k end
    end
    local expiration
    if c.Expiration ~= nil and c.Expiration ~= core.null then
      expiration = refresh.parse_time(c.Expiration)
      if not expiration then return nil, shown .. " gave an Expiration that is not an ISO 8601 time" end
    end
    return value.new {
      access_key_id = c.AccessKeyId, access_key_secret = c.AccessKeySecret,
      security_token = type(c.SecurityToken) == "string" and c.SecurityToken ~= "" and c.SecurityToken or nil,
      expiration = expiration, source = "credentials URI " .. shown,
    }
  end

  return refresh.new {
    name = "credentials URI " .. shown, fetch = fetch, margin = opts.margin, now = opts.now,
    wait = opts.wait, on_refresh = opts.on_refresh, retry_after = opts.retry_after, shared_dict = opts.shared_dict,
  }
end

-- The provider for the chain: opts.credentials_uri or ALIBABA_CLOUD_CREDENTIALS_URI.
function uri.from_env(opts)
  opts = opts or {}
  local u = opts.credentials_uri or http.env(http.getenv(opts), "ALIBABA_CLOUD_CREDENTIALS_URI")
  if not u then
    return { name = uri.NAME, get = function() return nil, "ALIBABA_CLOUD_CREDENTIALS_URI not set", true end }
  end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.uri = u
  local inner, why = uri.new(o)
  if not inner then return { name = uri.NAME, get = function() return nil, why end } end
  return { name = inner.name, get = inner.get, invalidate = inner.invalidate }
end

return uri
