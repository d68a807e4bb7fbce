-- Turns an action call into a signed HTTP request {method, url, headers, body}.
-- V1: common parameters + HMAC-SHA1 Signature in the query (ECS API reference 4.4).
-- V3: x-acs-* headers + ACS3-HMAC-SHA256 Authorization header.
-- The canonical strings and MACs are computed by the C core.
local core = require "aliyun.core"

local signer = {}

local FORM = "application/x-www-form-urlencoded"

local function copy(t)
  local r = {}
  if t then for k, v in pairs(t) do r[k] = v end end
  return r
end

local function has_any(t)
  return t ~= nil and next(t) ~= nil
end

-- args: method, base_url ("https://host[:port]"), host, action, version, query, body,
--       credentials {access_key_id, access_key_secret, security_token},
--       timestamp (epoch seconds, optional), nonce (optional), user_agent
-- Both return request, meta: meta.string_to_sign (and for V3 meta.canonical_request) let the
-- client explain a SignatureDoesNotMatch; they are never sent.
function signer.v1(args)
  local creds = args.credentials
  if not has_any(args.body) then
    -- the usual call: the C core adds the common parameters, signs and writes the URL
    local url, string_to_sign = core.v1_sign_url(args.method, args.base_url, args.query,
      creds.access_key_secret, args.action, args.version, creds.access_key_id, creds.security_token,
      args.nonce, args.timestamp)
    local post = args.method == "POST"
    return {
      method = args.method,
      url = url,
      headers = { Accept = "application/json", ["User-Agent"] = args.user_agent, ["Content-Type"] = post and FORM or nil },
      body = post and "" or nil,
    }, { string_to_sign = string_to_sign }
  end
  -- with body parameters: the common parameters first, in one constructor (sized once), then the action's own;
  -- a common parameter wins over one of the same name in the query
  local q = {
    Action = args.action, Version = args.version, Format = "JSON", AccessKeyId = creds.access_key_id,
    SignatureMethod = "HMAC-SHA1", SignatureVersion = "1.0", SignatureNonce = args.nonce or core.nonce(),
    Timestamp = core.timestamp(args.timestamp), SecurityToken = creds.security_token,
  }
  for k, v in pairs(args.query or q) do
    if q[k] == nil then q[k] = v end
  end

  -- Body parameters are part of the signature too: sign the union, send them apart.
  local signed = q
  if has_any(args.body) then
    signed = copy(q)
    for k, v in pairs(args.body) do
      if signed[k] ~= nil then
        return nil, "parameter '" .. k .. "' given both in the query and in the body"
      end
      signed[k] = v
    end
  end
  local signature, string_to_sign, canonical = core.v1_sign(args.method, signed, creds.access_key_secret)

  local headers = { Accept = "application/json", ["User-Agent"] = args.user_agent }
  local body
  local query_string = canonical
  if has_any(args.body) then
    query_string = core.form_encode(q)
    body = core.form_encode(args.body)
    headers["Content-Type"] = FORM
  elseif args.method == "POST" then
    body = ""
    headers["Content-Type"] = FORM
  end
  return {
    method = args.method,
    url = args.base_url .. "/?" .. query_string .. "&Signature=" .. core.percent_encode(signature),
    headers = headers,
    body = body,
  }, { string_to_sign = string_to_sign }
end

function signer.v3(args)
  local creds = args.credentials
  local body = has_any(args.body) and core.form_encode(args.body) or ""
  local headers = {
    host = args.host,
    ["x-acs-action"] = args.action,
    ["x-acs-version"] = args.version,
    ["x-acs-date"] = core.timestamp(args.timestamp),
    ["x-acs-signature-nonce"] = args.nonce or core.nonce(),
    ["x-acs-content-sha256"] = core.sha256_hex(body),
    ["x-acs-security-token"] = creds.security_token,
    accept = "application/json",
    ["user-agent"] = args.user_agent,
  }
  if body ~= "" or args.method == "POST" then headers["content-type"] = FORM end
  local query = args.query or {}
  local authorization, _, canonical_request, string_to_sign = core.v3_sign {
    method = args.method, path = "/", query = query, headers = headers,
    payload_hash = headers["x-acs-content-sha256"],
    access_key_id = creds.access_key_id, access_key_secret = creds.access_key_secret,
  }
  headers.authorization = authorization
  local qs = core.form_encode(query)
  return {
    method = args.method,
    url = args.base_url .. "/" .. (qs ~= "" and ("?" .. qs) or ""),
    headers = headers,
    body = (args.method ~= "GET") and body or nil,
  }, { string_to_sign = string_to_sign, canonical_request = canonical_request }
end

return signer
