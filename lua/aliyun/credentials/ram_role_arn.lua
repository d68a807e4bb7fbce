-- A RAM role assumed through STS AssumeRole, signed like any RPC call with the source
-- credentials (a key pair, or another provider's credentials). The STS credentials are
-- cached and refreshed ahead of expiry (see refresh.lua).
local refresh = require "aliyun.credentials.refresh"
local sts = require "aliyun.credentials.sts"
local http = require "aliyun.credentials.http"

local ram_role_arn = {}

-- opts: role_arn (required), role_session_name, duration_seconds (default 3600), policy,
--   external_id; the source: source_provider, or access_key_id + access_key_secret
--   (+ security_token); sts_endpoint, transport, getenv; margin, now, wait, on_refresh
--   (see refresh.new). Returns a provider, or nil and why when the options are incomplete.
function ram_role_arn.new(opts)
  if type(opts.role_arn) ~= "string" or opts.role_arn == "" then return nil, "no role ARN given" end
  local source = opts.source_provider
  if not source then
    source = require("aliyun.credentials.static").new({
      access_key_id = opts.access_key_id, access_key_secret = opts.access_key_secret,
      security_token = opts.security_token,
    }, opts.source_name or "the role's source key")
    if not source then return nil, "no access key to call AssumeRole with" end
  end
  local endpoint = sts.endpoint(opts)
  local name = "RAM role " .. opts.role_arn .. " (STS AssumeRole at " .. http.show_url(endpoint) .. ")"
  local client

  local function fetch()
    if not client then
      client = require("aliyun").client("sts", {
        endpoint = endpoint, version = sts.VERSION, credentials_provider = source,
        transport = opts.transport, sleep = opts.sleep, max_retries = opts.max_retries,
        proxy = opts.proxy, no_proxy = opts.no_proxy, verify_tls = opts.verify_tls, ca_file = opts.ca_file,
      })
    end
    local params = {
      RoleArn = opts.role_arn,
      RoleSessionName = sts.session_name(opts.role_session_name),
      DurationSeconds = tostring(opts.duration_seconds or 3600),
      Policy = opts.policy,
      ExternalId = opts.external_id,
    }
    local res, err = client:call("AssumeRole", params)
    if not res then
      return nil, "AssumeRole failed: " .. http.scrub(tostring(err), opts.access_key_secret, opts.security_token)
    end
    local creds, why = sts.credentials(res, "RAM role " .. opts.role_arn)
    if not creds then return nil, "AssumeRole: " .. why end
    return creds
  end

  local p = refresh.new {
    name = name, fetch = fetch, margin = opts.margin, now = opts.now, wait = opts.wait,
    on_refresh = opts.on_refresh, retry_after = opts.retry_after, shared_dict = opts.shared_dict,
  }
  return p
end

return ram_role_arn
