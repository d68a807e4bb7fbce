-- The default credential chain: the first provider that yields a complete key pair wins.
-- With none, the error is one line that leads with the sources that are set up and failed
-- (each with why) and then names the places where nothing is set, so the user knows what
-- to fix or what to set.
local errors = require "aliyun.lazy" "aliyun.errors" -- loaded by the first failure

local chain = {}

-- A provider's get, made safe: a provider that raises has failed, with the error as why.
-- Returns creds | nil, why, absent (true when nothing is set up there).
local function ask(p)
  local ok, creds, why, absent = pcall(p.get)
  if not ok then return nil, "raised an error: " .. tostring(creds), false end
  return creds, why, absent
end

-- chain.new(providers, opts) -> provider. Each element of providers is a provider, or a
-- function that makes one when the chain first reaches it (so that a client whose options
-- hold the key pair loads none of the other providers' modules). A provider's get returns
-- credentials, or nil, why and true when nothing is set up where it looks (a variable
-- unset, no file) rather than something set up that failed. opts.reuse_last: once a
-- provider has given credentials, later calls go to it alone (its errors are then the
-- chain's), so that the files and variables before it are not read again at every call and
-- the identity does not silently change.
function chain.new(providers, opts)
  local reuse = opts and opts.reuse_last
  local list = {}
  for i, p in ipairs(providers) do list[i] = p end
  local winner
  return {
    name = "default chain",
    get = function()
      if winner then
        local creds, why = ask(winner)
        if creds then return creds end
        return nil, errors.new { kind = "credentials", message = winner.name .. ": " .. errors.line(why) }
      end
      local failed, looked, unset = {}, {}, {}
      for i = 1, #list do
        local p = list[i]
        if type(p) == "function" then
          p = p()
          list[i] = p
        end
        local creds, why, absent = ask(p)
        if creds then
          if reuse then winner = p end
          return creds
        end
        local line = p.name .. ": " .. errors.line(why)
        looked[#looked + 1] = line
        if absent then unset[#unset + 1] = p.name else failed[#failed + 1] = line end
      end
      if #failed == 0 then
        return nil, errors.new {
          kind = "credentials",
          message = "no credentials found; looked in " .. table.concat(looked, "; "),
        }
      end
      return nil, errors.new {
        kind = "credentials",
        message = "no usable credentials: " .. table.concat(failed, "; ")
          .. (#unset > 0 and ("; nothing set up in " .. table.concat(unset, ", ")) or ""),
      }
    end,
    -- the provider that gave the last credentials (reuse_last), or nil
    winner = function() return winner end,
    -- after the service refused an expired token: the winner fetches anew, if it can
    invalidate = function()
      local w = winner
      if w and type(w.invalidate) == "function" then return w.invalidate() ~= false end
      return false
    end,
  }
end

-- The client options that the providers take, under the providers' own names.
local PASSED = {
  "getenv", "home", "sts_endpoint", "metadata_endpoint", "credentials_uri", "config_file",
  "credentials_file", "profile", "ini_section", "ecs_ram_role", "imdsv1_disabled",
  "oidc_provider_arn", "oidc_token_file", "role_session_name", "verify_tls", "ca_file", "proxy", "no_proxy",
  "warn",
}
local RENAMED = {
  credentials_transport = "transport", credentials_margin = "margin", credentials_now = "now",
  credentials_wait = "wait", credentials_on_refresh = "on_refresh", credentials_retry_after = "retry_after",
  credentials_shared_dict = "shared_dict", credentials_max_retries = "max_retries",
}

function chain.provider_options(opts)
  local o = {}
  for _, k in ipairs(PASSED) do o[k] = opts[k] end
  for from, to in pairs(RENAMED) do o[to] = opts[from] end
  return o
end

-- The chain for a client's options, in this order: explicit options (access_key_id,
-- access_key_secret, security_token; with role_arn, a role assumed with that key); the
-- environment; OIDC; the CLI profile file; the INI file; the ECS instance RAM role (only
-- when indicated); the credentials URI. Credentials in the options, when given, are the
-- only source; else a `profile` named in the options is, and nothing else is tried.
-- Options naming addresses and paths: sts_endpoint, metadata_endpoint, credentials_uri,
-- config_file, credentials_file, home; getenv replaces os.getenv. credentials_transport,
-- credentials_margin, credentials_now, credentials_wait, credentials_on_refresh and
-- credentials_max_retries go to the providers that fetch (as transport, margin, now, wait,
-- on_refresh, and max_retries for the STS client of an assumed role).
-- The result also has region(): the profile file's region_id, or nil.
function chain.default(opts)
  opts = opts or {}
  local po = chain.provider_options(opts)
  local providers = {}
  local explicit = require("aliyun.credentials.static").new(opts)
  if explicit and opts.role_arn and not (opts.oidc_provider_arn or opts.oidc_token_file) then
    local o = {}
    for k, v in pairs(po) do o[k] = v end
    o.source_provider = explicit
    o.role_arn = opts.role_arn
    o.duration_seconds = opts.duration_seconds
    o.policy = opts.policy
    o.external_id = opts.external_id
    local role, why = require("aliyun.credentials.ram_role_arn").new(o)
    explicit = role or { name = "client options", get = function() return nil, why end }
  end
  local profile
  local function profile_provider()
    profile = profile or require("aliyun.credentials.profile").new(po)
    return profile
  end
  if explicit then
    -- credentials in the options are used, or the call fails saying why: nothing else (with
    -- another identity) stands in for a key pair or a role that was given
    local c = chain.new({ explicit }, { reuse_last = true })
    c.region = function() return profile_provider().region() end
    return c
  end
  if opts.profile ~= nil then
    -- a profile named in the options is as explicit as a key pair: it is used, or the
    -- chain fails saying why; credentials from the environment never stand in for it
    providers[#providers + 1] = profile_provider
    local c = chain.new(providers, { reuse_last = true })
    c.region = function() return profile_provider().region() end
    return c
  end
  -- the others are made when reached: most clients stop at their options or the environment
  providers[#providers + 1] = function() return require("aliyun.credentials.env").new(opts.getenv) end
  providers[#providers + 1] = function()
    local oo = {}
    for k, v in pairs(po) do oo[k] = v end
    if opts.oidc_provider_arn or opts.oidc_token_file then oo.role_arn = opts.role_arn end
    return require("aliyun.credentials.oidc").from_env(oo)
  end
  providers[#providers + 1] = profile_provider
  providers[#providers + 1] = function() return require("aliyun.credentials.ini").new(po) end
  providers[#providers + 1] = function() return require("aliyun.credentials.ecs_ram_role").from_env(po) end
  providers[#providers + 1] = function() return require("aliyun.credentials.uri").from_env(po) end
  local c = chain.new(providers, { reuse_last = true })
  c.region = function() return profile_provider().region() end
  return c
end

return chain
