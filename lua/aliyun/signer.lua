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

local function hex_char(h) return string.char(tonumber(h, 16)) end

-- signer.v1_string_to_sign_of(method, target) -> the string to sign of a V1 request, made
-- again from its target ("/?query" as the C core writes it: the pairs in canonical order
-- but for the signature and the nonce, which come last). Only a failed call needs it (to
-- explain a refused signature), so signing does not make it for every call.
function signer.v1_string_to_sign_of(method, target)
  local query = target:match("%?(.*)$")
  if not query then return nil end
  local list = {}
  for pair in query:gmatch("[^&]+") do
    local name = pair:match("^[^=]*")
    -- canonical order is that of the names' own bytes, not of their encoded text
    if name ~= "Signature" then list[#list + 1] = { name:gsub("%%(%x%x)", hex_char), pair } end
  end
  table.sort(list, function(a, b) return a[1] < b[1] end)
  for i, p in ipairs(list) do list[i] = p[2] end
  return core.v1_string_to_sign(method, table.concat(list, "&"))
end

-- meta of a V1 request whose string to sign is made on first use from its URL
local LAZY_STS = {
  __index = function(meta, k)
    if k ~= "string_to_sign" then return nil end
    local sts = signer.v1_string_to_sign_of(rawget(meta, "_method"), rawget(meta, "_url"))
    rawset(meta, k, sts)
    return sts
  end,
}

-- args: method, base_url ("https://host[:port]"), host, action, version, query, body,
--       credentials {access_key_id, access_key_secret, security_token},
--       timestamp (epoch seconds, optional), nonce (optional), user_agent
-- Both return request, meta: meta.string_to_sign (and for V3 meta.canonical_request) let the
-- client explain a SignatureDoesNotMatch; they are never sent.
function signer.v1(args)
  local creds = args.credentials
  if not has_any(args.body) then
    -- the usual call: the C core adds the common parameters, signs and writes the URL
    local url = core.v1_sign_url(args.method, args.base_url, args.query,
      creds.access_key_secret, args.action, args.version, creds.access_key_id, creds.security_token,
      args.nonce, args.timestamp, false)
    local post = args.method == "POST"
    return {
      method = args.method,
      url = url,
      headers = { Accept = "application/json", ["User-Agent"] = args.user_agent, ["Content-Type"] = post and FORM or nil },
      body = post and "" or nil,
    }, setmetatable({ _method = args.method, _url = url }, LAZY_STS)
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
