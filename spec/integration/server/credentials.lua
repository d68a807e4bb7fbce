-- An nginx content handler for the credential specs, on 127.0.0.1: the ECS metadata
-- service (IMDSv2 token and v1), STS (AssumeRole checked with the emulator's V1
-- verifier; AssumeRoleWithOIDC, anonymous), a credentials URI, and a WhoAmI action that
-- accepts only the credentials issued here. GET /control changes the behaviour and
-- reports what was asked (one worker: module state is the server's state).
local core = require "aliyun.core"
local cjson = require "cjson"
local auth = require "aliyun.emulator.auth"

local OIDC_TOKEN = "oidc-jwt-token-value"

local keys = { LTAIsource = { secret = "source-secret-value" } }
local verifier = auth.new { keys = keys, crypto = core }

local state, counts, tokens

local function reset()
  -- imds: "optional" (v2 and v1), "required" (v2 only), "v1only" (no token service), "slow"
  state = { imds = "optional", ttl = 3600, role = "testrole" }
  counts = { token = 0, list = 0, creds = 0, v1 = 0, assume = 0, oidc = 0, uri = 0, whoami = 0 }
  tokens = {}
end
reset()

local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end

local function reply(status, body, ctype)
  ngx.status = status
  ngx.header["Content-Type"] = ctype or "application/json"
  ngx.print(type(body) == "table" and cjson.encode(body) or body)
end

-- Issues credentials that WhoAmI accepts afterwards.
local function issue(prefix, n)
  local id = prefix .. "." .. n
  local secret, token = "issued-secret-" .. core.nonce(), "issued-token-" .. core.nonce()
  keys[id] = { secret = secret, security_token = token }
  return { AccessKeyId = id, AccessKeySecret = secret, SecurityToken = token, Expiration = iso(ngx.time() + state.ttl) }
end

local function metadata(path, method, headers)
  if state.imds == "slow" then ngx.sleep(3) end
  if path == "/latest/api/token" then
    if method ~= "PUT" then return reply(405, "", "text/plain") end
    counts.token = counts.token + 1
    if state.imds == "v1only" then return reply(403, "", "text/plain") end
    local ttl = tonumber(headers["x-aliyun-ecs-metadata-token-ttl-seconds"])
    if not ttl or ttl < 1 or ttl > 21600 then return reply(400, "", "text/plain") end
    local t = "imds-" .. core.nonce()
    tokens[t] = true
    return reply(200, t, "text/plain")
  end
  local given = headers["x-aliyun-ecs-metadata-token"]
  if given then
    if not tokens[given] then return reply(401, "", "text/plain") end
  else
    if state.imds == "required" then return reply(401, "", "text/plain") end
  end
  local base = "/latest/meta-data/ram/security-credentials/"
  if path == base then
    counts.list = counts.list + 1
    return reply(200, state.role .. "\n", "text/plain")
  end
  if path == base .. state.role then
    counts.creds = counts.creds + 1
    if not given then counts.v1 = counts.v1 + 1 end
    local c = issue("STS.md", counts.creds)
    c.Code = "Success"
    c.LastUpdated = iso(ngx.time())
    return reply(200, c)
  end
  return reply(404, "", "text/plain")
end

local function sts(req, headers)
  local query = auth.parse_form(ngx.var.args or "") or {}
  if query.Action == "AssumeRoleWithOIDC" then
    local all = auth.parse_form(req.body or "", auth.parse_form(ngx.var.args or "")) or {}
    if all.AccessKeyId or all.Signature or headers.authorization then
      return reply(400, { Code = "InvalidParameter", Message = "AssumeRoleWithOIDC is anonymous", RequestId = "r" })
    end
    if all.OIDCToken ~= OIDC_TOKEN then
      return reply(400, { Code = "InvalidParameter.OIDCToken", Message = "The OIDC token is invalid.", RequestId = "r" })
    end
    if not (all.RoleArn and all.OIDCProviderArn and all.RoleSessionName) then
      return reply(400, { Code = "MissingParameter", Message = "RoleArn, OIDCProviderArn, RoleSessionName", RequestId = "r" })
    end
    counts.oidc = counts.oidc + 1
    counts.last_oidc_role = all.RoleArn
    return reply(200, { RequestId = "r", Credentials = issue("STS.oidc", counts.oidc) })
  end
  local ctx, err = verifier:verify(req)
  if not ctx then
    return reply(err.status, { RequestId = "r", Code = err.code, Message = err.message })
  end
  if ctx.action == "AssumeRole" then
    if ctx.version ~= "2015-04-01" or not ctx.params.RoleArn or not ctx.params.RoleSessionName then
      return reply(400, { RequestId = "r", Code = "MissingParameter", Message = "RoleArn, RoleSessionName" })
    end
    counts.assume = counts.assume + 1
    counts.last_role = ctx.params.RoleArn
    counts.last_source = ctx.access_key_id
    return reply(200, { RequestId = "r", AssumedRoleUser = { Arn = ctx.params.RoleArn .. "/" .. ctx.params.RoleSessionName },
      Credentials = issue("STS.role", counts.assume) })
  elseif ctx.action == "WhoAmI" then
    counts.whoami = counts.whoami + 1
    return reply(200, { RequestId = "r", AccessKeyId = ctx.access_key_id })
  end
  return reply(400, { RequestId = "r", Code = "InvalidAction.NotFound", Message = "no such action" })
end

-- GET /concurrency?n=N: N light threads want the instance role's credentials at the same
-- moment through one provider (its default transport inside nginx: cosockets, which yield);
-- answers what each got and how many fetches were made.
local function concurrency()
  local n = tonumber(ngx.req.get_uri_args().n) or 10
  local p = require("aliyun.credentials.ecs_ram_role").new {
    role_name = "testrole", metadata_endpoint = "http://127.0.0.1:" .. ngx.var.server_port,
    getenv = function() return nil end,
  }
  local threads = {}
  for i = 1, n do
    threads[i] = ngx.thread.spawn(function()
      local c, why = p.get()
      return c and c.access_key_id or ("error: " .. tostring(why))
    end)
  end
  local ids = {}
  for i = 1, n do
    local _, id = ngx.thread.wait(threads[i])
    ids[i] = id
  end
  return reply(200, { ids = ids, fetches = p.count })
end

return function()
  ngx.req.read_body()
  local headers = {}
  for k, v in pairs(ngx.req.get_headers(200)) do
    headers[k:lower()] = type(v) == "table" and table.concat(v, ",") or v
  end
  local path = ngx.var.request_uri:match("^[^?]*")
  local method = ngx.req.get_method()
  if path == "/control" then
    local args = ngx.req.get_uri_args()
    if args.reset then reset() end
    if args.imds then state.imds = args.imds end
    if args.ttl then state.ttl = tonumber(args.ttl) end
    return reply(200, counts)
  end
  if path:sub(1, 8) == "/latest/" then return metadata(path, method, headers) end
  if path == "/concurrency" then return concurrency() end
  if path == "/credentials-uri" then
    counts.uri = counts.uri + 1
    local c = issue("STS.uri", counts.uri)
    c.Code = "Success"
    return reply(200, c)
  end
  if path == "/" then
    return sts({ method = method, path = path, query_string = ngx.var.args, headers = headers,
      body = ngx.req.get_body_data() }, headers)
  end
  return reply(404, { Code = "NotFound" })
end
