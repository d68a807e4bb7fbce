-- A RAM role assumed with an OIDC token (Kubernetes RRSA and the like): STS
-- AssumeRoleWithOIDC, which the service takes without an access key or signature; the
-- token read from its file at every refresh (it rotates). Configured by options or by
-- ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE
-- and ALIBABA_CLOUD_ROLE_SESSION_NAME.
local core = require "aliyun.core"
local refresh = require "aliyun.credentials.refresh"
local sts = require "aliyun.credentials.sts"
local http = require "aliyun.credentials.http"

local oidc = {}

oidc.NAME = "OIDC role (ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE)"

-- opts: role_arn, oidc_provider_arn, oidc_token_file (all required), role_session_name,
--   duration_seconds (default 3600), policy; sts_endpoint, transport, timeout,
--   connect_timeout; margin, now, wait, on_refresh (see refresh.new).
-- Returns a provider, or nil and why when the options are incomplete.
function oidc.new(opts)
  for _, k in ipairs { "role_arn", "oidc_provider_arn", "oidc_token_file" } do
    if type(opts[k]) ~= "string" or opts[k] == "" then return nil, "no " .. k .. " given" end
  end
  local endpoint = sts.endpoint(opts)
  local send = http.sender(opts, opts.connect_timeout or 5, opts.timeout or 10)
  local name = "OIDC role " .. opts.role_arn .. " (STS AssumeRoleWithOIDC at " .. http.show_url(endpoint) .. ")"

  local function fetch()
    local token, ferr = http.read_file(opts.oidc_token_file)
    if not token then return nil, "OIDC token file: " .. ferr end
    token = token:gsub("^%s+", ""):gsub("%s+$", "")
    if token == "" then return nil, "OIDC token file " .. opts.oidc_token_file .. " is empty" end
    -- common parameters in the query, the rest (with the token) in the body: no signature,
    -- no AccessKeyId, as the service documents for this action
    local query = core.form_encode {
      Action = "AssumeRoleWithOIDC", Format = "JSON", Version = sts.VERSION,
      Timestamp = core.timestamp(), SignatureNonce = core.nonce(),
    }
    local body = core.form_encode {
      RoleArn = opts.role_arn, OIDCProviderArn = opts.oidc_provider_arn, OIDCToken = token,
      RoleSessionName = sts.session_name(opts.role_session_name),
      DurationSeconds = tostring(opts.duration_seconds or 3600), Policy = opts.policy,
    }
    local response, err = http.send(send, {
      method = "POST", url = endpoint .. "/?" .. query, body = body,
      headers = { ["Content-Type"] = "application/x-www-form-urlencoded", Accept = "application/json" },
      timeout = opts.timeout or 10, connect_timeout = opts.connect_timeout or 5,
    })
    if not response then return nil, "AssumeRoleWithOIDC: " .. http.scrub(err, token) end
    local res = core.json_decode(response.body or "")
    if response.status ~= 200 then
      local detail = type(res) == "table" and type(res.Code) == "string"
        and (res.Code .. (type(res.Message) == "string" and (": " .. res.Message) or "")
          .. (type(res.RequestId) == "string" and (" [RequestId " .. res.RequestId .. "]") or ""))
        or "no error code in the answer"
      return nil, "AssumeRoleWithOIDC failed with HTTP " .. tostring(response.status) .. ": " .. http.scrub(detail, token)
    end
    local creds, why = sts.credentials(res, "OIDC role " .. opts.role_arn)
    if not creds then return nil, "AssumeRoleWithOIDC: " .. why end
    return creds
  end

  return refresh.new {
    name = name, fetch = fetch, margin = opts.margin, now = opts.now, wait = opts.wait,
    on_refresh = opts.on_refresh, retry_after = opts.retry_after, shared_dict = opts.shared_dict,
  }
end

-- The provider for the chain: configured by the environment (or opts.role_arn,
-- opts.oidc_provider_arn, opts.oidc_token_file); when nothing is set it says so.
function oidc.from_env(opts)
  opts = opts or {}
  local getenv = http.getenv(opts)
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.role_arn = opts.role_arn or http.env(getenv, "ALIBABA_CLOUD_ROLE_ARN")
  o.oidc_provider_arn = opts.oidc_provider_arn or http.env(getenv, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN")
  o.oidc_token_file = opts.oidc_token_file or http.env(getenv, "ALIBABA_CLOUD_OIDC_TOKEN_FILE")
  o.role_session_name = opts.role_session_name or http.env(getenv, "ALIBABA_CLOUD_ROLE_SESSION_NAME")
  local inner
  local p = { name = oidc.NAME, invalidate = http.invalidator(function() return inner end) }
  function p.get()
    if not inner then
      if not (o.oidc_provider_arn or o.oidc_token_file) then
        return nil, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE not set", true
      end
      local why
      inner, why = oidc.new(o)
      if not inner then return nil, why end
      p.name = inner.name -- which role, for messages
    end
    return inner.get()
  end
  return p
end

return oidc
