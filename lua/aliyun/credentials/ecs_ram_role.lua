-- The RAM role of an ECS instance, from the instance metadata service. IMDSv2 first (a
-- session token from PUT /latest/api/token), the plain v1 GET as a fallback unless
-- ALIBABA_CLOUD_IMDSV1_DISABLED is true. One-second timeouts.
--
-- The service is asked only when something says the code runs on an instance: an explicit
-- option, ALIBABA_CLOUD_ECS_METADATA (a role name, or "auto" to discover it), or a profile
-- of mode EcsRamRole. Never as a blind probe: off ECS, 100.100.100.200 hangs or answers
-- something else.
local core = require "aliyun.core"
local refresh = require "aliyun.credentials.refresh"
local value = require "aliyun.credentials.value"
local http = require "aliyun.credentials.http"

local ecs_ram_role = {}

ecs_ram_role.DEFAULT_ENDPOINT = "http://100.100.100.200"
ecs_ram_role.NAME = "ECS instance RAM role (ALIBABA_CLOUD_ECS_METADATA)"

local CREDENTIALS_PATH = "/latest/meta-data/ram/security-credentials/"
local TOKEN_PATH = "/latest/api/token"

-- opts: role_name (nil, "" or "auto": discover), metadata_endpoint, imdsv1_disabled
--   (default: ALIBABA_CLOUD_IMDSV1_DISABLED), token_ttl (seconds, default 21600), timeout and
--   connect_timeout (default 1), transport, getenv; margin, now, wait, on_refresh.
function ecs_ram_role.new(opts)
  opts = opts or {}
  local getenv = http.getenv(opts)
  local base = (opts.metadata_endpoint or ecs_ram_role.DEFAULT_ENDPOINT):gsub("/+$", "")
  local v1_disabled = opts.imdsv1_disabled
  if v1_disabled == nil then v1_disabled = http.truthy(getenv("ALIBABA_CLOUD_IMDSV1_DISABLED")) end
  local timeout, connect_timeout = opts.timeout or 1, opts.connect_timeout or 1
  -- the metadata service is on the instance's own link: never through a proxy
  local send = http.sender({ transport = opts.transport, no_proxy = "*" }, connect_timeout, timeout)
  local role = opts.role_name
  if role == "" or role == "auto" then role = nil end
  local ttl = opts.token_ttl or 21600
  if role and not role:match("^[%w_.@-]+$") then
    local bad = "the role name given is not a RAM role name (letters, digits and _.@- only)"
    return { name = ecs_ram_role.NAME, get = function() return nil, bad end, count = 0 }
  end

  local function request(method, path, headers)
    return http.send(send, {
      method = method, url = base .. path, headers = headers or {},
      body = method == "PUT" and "" or nil, timeout = timeout, connect_timeout = connect_timeout,
    })
  end

  -- The IMDSv2 session token, or nil (v1 then) when the service does not give one and v1
  -- is allowed.
  local function session_token()
    local response, err = request("PUT", TOKEN_PATH, { ["X-aliyun-ecs-metadata-token-ttl-seconds"] = tostring(ttl) })
    if response and response.status == 200 and response.body and response.body ~= "" then
      return response.body
    end
    local why = response and ("HTTP " .. tostring(response.status)) or err
    if v1_disabled then
      return nil, "no IMDSv2 token from the metadata service (" .. why
        .. ") and IMDSv1 is disabled (ALIBABA_CLOUD_IMDSV1_DISABLED)"
    end
    return false
  end

  local function get(path, token)
    local headers = {}
    if token then headers["X-aliyun-ecs-metadata-token"] = token end
    local response, err = request("GET", path, headers)
    if not response then return nil, err end
    if response.status ~= 200 then
      return nil, "HTTP " .. tostring(response.status) .. " from " .. base .. path
    end
    return response.body or ""
  end

  local function fetch()
    local token, terr = session_token()
    if token == nil then return nil, terr end
    if not role then
      local list, lerr = get(CREDENTIALS_PATH, token)
      if not list then return nil, "cannot discover the instance's RAM role: " .. lerr end
      local first = list:match("^%s*([^%s]+)")
      if not first then return nil, "the instance has no RAM role attached" end
      if not first:match("^[%w_.@-]+$") then return nil, "the metadata service named no valid RAM role" end
      role = first
    end
    local body, err = get(CREDENTIALS_PATH .. role, token)
    if not body then return nil, "role " .. role .. ": " .. err end
    local c = core.json_decode(body)
    if type(c) ~= "table" then return nil, "role " .. role .. ": the answer is not JSON" end
    if c.Code ~= nil and c.Code ~= "Success" then
      return nil, "role " .. role .. ": the metadata service answered Code " .. tostring(c.Code)
    end
    for _, k in ipairs { "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration" } do
      if type(c[k]) ~= "string" or c[k] == "" then return nil, "role " .. role .. ": the answer has no " .. k end
    end
    local expiration = refresh.parse_time(c.Expiration)
    if not expiration then return nil, "role " .. role .. ": the answer's Expiration is not an ISO 8601 time" end
    return value.new {
      access_key_id = c.AccessKeyId, access_key_secret = c.AccessKeySecret,
      security_token = c.SecurityToken, expiration = expiration,
      source = "ECS instance RAM role " .. role,
    }
  end

  local p = refresh.new {
    name = "ECS instance RAM role " .. (role or "(discovered)") .. " at " .. base,
    fetch = fetch, margin = opts.margin, now = opts.now, wait = opts.wait,
    on_refresh = opts.on_refresh, retry_after = opts.retry_after, shared_dict = opts.shared_dict,
  }
  function p.role() return role end
  return p
end

-- The provider for the chain: asks the metadata service only when opts.ecs_ram_role (a role
-- name, "auto" or true) or ALIBABA_CLOUD_ECS_METADATA says so; otherwise it says why not.
function ecs_ram_role.from_env(opts)
  opts = opts or {}
  local getenv = http.getenv(opts)
  local wanted = opts.ecs_ram_role
  local from_env = http.env(getenv, "ALIBABA_CLOUD_ECS_METADATA")
  if wanted == nil then wanted = from_env end
  local disabled = http.truthy(getenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED"))
  if wanted == nil or wanted == false or disabled then
    local why = disabled and "not asked: ALIBABA_CLOUD_ECS_METADATA_DISABLED is true"
      or "not asked: ALIBABA_CLOUD_ECS_METADATA is unset (the metadata service is never probed blindly)"
    return { name = ecs_ram_role.NAME, get = function() return nil, why, true end }
  end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.role_name = type(wanted) == "string" and wanted or nil
  local inner = ecs_ram_role.new(o)
  return { name = inner.name, get = inner.get, count = function() return inner.count end,
    invalidate = inner.invalidate }
end

return ecs_ram_role
