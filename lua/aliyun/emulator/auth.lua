-- The emulator's request authentication, done the way the service does it: parse the
-- request as received, canonicalise it here (independently of the client's C signer, so
-- that a bug in one is caught by the other), recompute the signature and compare.
-- Only the MAC and digest primitives come from outside (opts.crypto).
local compat = require "aliyun.compat"
local nonces = require "aliyun.emulator.nonces"

local auth = {}

local SKEW = 15 * 60 -- the service refuses timestamps more than 15 minutes off

local char, find, format, gsub, sub = string.char, string.find, string.format, string.gsub,
  string.sub
local concat, sort = table.concat, table.sort
local new_table = compat.new_table

-- RFC 3986 encoding, written out here rather than borrowed from the client. The hot path
-- of every request: a plain find first (most names and values need nothing), then one gsub
-- with a table rather than a function per character.
local RESERVED = "[^A-Za-z0-9%-_%.~]"
local ENCODED = {}
for c = 0, 255 do ENCODED[char(c)] = format("%%%02X", c) end

local function encode(s)
  if not find(s, RESERVED) then return s end
  return (gsub(s, RESERVED, ENCODED))
end

-- "%3a" and "%3A" alike -> ":"
local DECODED = {}
for c = 0, 255 do
  local hex = format("%02x", c)
  for _, h in ipairs { hex, hex:upper(), hex:sub(1, 1) .. hex:sub(2):upper(), hex:sub(1, 1):upper() .. hex:sub(2) } do
    DECODED[h] = char(c)
  end
end

-- (plain finds first: LuaJIT compiles those, not a find with a character class)
local function decode(s)
  if find(s, "+", 1, true) then s = gsub(s, "%+", " ") end
  if not find(s, "%", 1, true) then return s end
  return (gsub(s, "%%(%x%x)", DECODED))
end

-- Parses "a=1&b=2" into {a="1", b="2"}; a name given twice is refused, as the service does.
-- from, to: the part of s that is the form (a URL's query: no string of it made).
function auth.parse_form(s, into, from, to)
  local t = into or new_table(0, 16)
  if s == nil then return t end
  local pos, len = from or 1, to or #s
  while pos <= len do
    local amp = find(s, "&", pos, true)
    if not amp or amp > len then amp = len + 1 end
    if amp > pos then
      local eq = find(s, "=", pos, true)
      local k, v
      if eq and eq < amp then
        k, v = sub(s, pos, eq - 1), sub(s, eq + 1, amp - 1)
      else
        k, v = sub(s, pos, amp - 1), ""
      end
      k = decode(k)
      if k ~= "" then
        if t[k] ~= nil then return nil, k end
        t[k] = decode(v)
      end
    end
    pos = amp + 1
  end
  return t
end

-- "2016-02-23T12:46:24Z" -> epoch seconds (UTC), or nil
local function parse_timestamp(s)
  local y, mo, d, h, mi, se = tostring(s):match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)Z$")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  -- days from civil (proleptic Gregorian), independent of the local time zone;
  -- math.floor rather than // so that LuaJIT (inside nginx) parses this file too
  local floor = math.floor
  local yy = mo <= 2 and y - 1 or y
  local era = floor(yy / 400)
  local yoe = yy - era * 400
  local doy = floor((153 * (mo + (mo > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(se)
end
auth.parse_timestamp = parse_timestamp

local function fail(status, code, message, extra)
  local e = { status = status, code = code, message = message }
  if extra then for k, v in pairs(extra) do e[k] = v end end
  return nil, e
end

local function missing(name)
  return fail(400, "MissingParameter",
    "The input parameter \"" .. name .. "\" that is mandatory for processing this request is not supplied.")
end

-- Compares two strings in time independent of where they first differ.
local function same(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do
    if a:byte(i) ~= b:byte(i) then diff = diff + 1 end
  end
  return diff == 0
end

local Verifier = {}
Verifier.__index = Verifier

-- opts.keys: {[access_key_id] = {secret = "...", security_token = "..." (for STS keys),
--   expiration = epoch seconds on opts.now's clock (an STS key refused from then on)}}
-- opts.crypto: {hmac_sha1=, hmac_sha256=, sha256_hex=, base64=, hex=} (hmac_sha1 takes its data as a
-- list of strings too)
-- opts.now: function returning epoch seconds (os.time by default)
function auth.new(opts)
  return setmetatable({
    keys = opts.keys, crypto = assert(opts.crypto, "auth.new: crypto primitives needed"),
    now = opts.now or os.time, nonces = nonces.new(2 * SKEW),
  }, Verifier)
end

function Verifier:_check_time(ts)
  -- a run of requests shares its timestamps (one per second): parsed once
  local t
  if ts == self.last_ts then t = self.last_t else
    t = parse_timestamp(ts)
    self.last_ts, self.last_t = ts, t
  end
  if not t then
    return fail(400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted.")
  end
  if math.abs(self.now() - t) > SKEW then
    return fail(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
  end
  return true
end

-- A nonce may be used once within the window in which its timestamp is accepted.
function Verifier:_check_nonce(nonce)
  if not self.nonces:use(nonce, self.now()) then
    return fail(400, "SignatureNonceUsed", "The request signature nonce has been used.")
  end
  return true
end

-- How many nonces the verifier holds (bounded by the requests of two 30-minute windows).
function Verifier:nonces_held()
  return self.nonces:count()
end

function Verifier:_key(id, token)
  local key = self.keys[id]
  if not key then
    return fail(400, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
  end
  if key.security_token and key.security_token ~= token then
    return fail(400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken does not match the access key.")
  end
  if key.expiration and self.now() >= key.expiration then
    return fail(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
  end
  return key
end

-- The request's parameters: the query plus a form-encoded body.
local function request_params(req)
  local params, dup = req.form, nil
  if not params then params, dup = auth.parse_form(req.query_string) end
  if not params then return fail(400, "InvalidParameter", "The parameter \"" .. dup .. "\" is given twice.") end
  local body = req.body
  if body and body ~= "" and find(req.headers["content-type"] or "", "application/x-www-form-urlencoded", 1, true) then
    local _, dup2 = auth.parse_form(body, params)
    if dup2 then return fail(400, "InvalidParameter", "The parameter \"" .. dup2 .. "\" is given twice.") end
  end
  return params
end

local V1_REQUIRED = { "Action", "Version", "AccessKeyId", "Signature", "Timestamp", "SignatureNonce" }

-- The string to sign of section 4.4: METHOD&%2F&encode(canonical query), where the canonical
-- query is the sorted encode(name)=encode(value) pairs joined by "&". Encoding the joined
-- query again only turns "%" into "%25" and "=", "&" into "%3D", "%26", so the pieces go
-- into one list, encoded twice each, and are joined once: no intermediate query string.
--
-- Names and most values (AccessKeyId, Action, Version, RegionId ...) recur from request to
-- request: their twice-encoded text is remembered, in a table that starts afresh when full.
local TWICE, ntwice = {}, 0
local function twice(s)
  local e = TWICE[s]
  if e then return e end
  e = encode(s)
  if find(e, "%", 1, true) then e = gsub(e, "%%", "%%25") end
  if ntwice >= 2048 then TWICE, ntwice = {}, 0 end
  TWICE[s], ntwice = e, ntwice + 1
  return e
end

-- (The nonce is new with every request: encoded, never remembered.)
local function twice_once(s)
  local e = encode(s)
  if find(e, "%", 1, true) then e = gsub(e, "%%", "%%25") end
  return e
end

-- A name's piece, "name%3D", and with the separator before it, "%26name%3D"; and the head
-- of the string, "GET&%2F&": remembered, so that the MAC gets two pieces per parameter.
local FIRST, LATER, HEADS, nnames = {}, {}, {}, 0
local function name_pieces(k)
  local first = FIRST[k]
  if first then return first, LATER[k] end
  first = twice_once(k) .. "%3D"
  if nnames >= 2048 then FIRST, LATER, nnames = {}, {}, 0 end
  FIRST[k], LATER[k], nnames = first, "%26" .. first, nnames + 1
  return first, LATER[k]
end

-- The names and the pieces go into two lists kept from call to call (a check runs from
-- start to end without yielding, and the pieces are used before it returns).
local keys, out, nkeys, nout = {}, {}, 0, 0

local function v1_string_to_sign(method, params)
  local nk = 0
  for k in pairs(params) do
    if k ~= "Signature" then nk = nk + 1; keys[nk] = k end
  end
  for i = nk + 1, nkeys do keys[i] = nil end
  nkeys = nk
  sort(keys)
  local n = 1
  local head = HEADS[method]
  if not head then
    head = method .. "&%2F&"
    if #method < 16 then HEADS[method] = head end
  end
  out[1] = head
  for i = 1, nk do
    local k = keys[i]
    local first, later = name_pieces(k)
    out[n + 1] = i == 1 and first or later
    out[n + 2] = k == "SignatureNonce" and twice_once(params[k]) or twice(params[k])
    n = n + 2
  end
  for i = n + 1, nout do out[i] = nil end
  nout = n
  return out, n
end

function Verifier:_v1(req)
  local params, perr = request_params(req)
  if not params then return nil, perr end
  for i = 1, #V1_REQUIRED do
    local name = V1_REQUIRED[i]
    if params[name] == nil or params[name] == "" then return missing(name) end
  end
  if params.SignatureMethod ~= "HMAC-SHA1" then
    return fail(400, "IncompleteSignature",
      "The request signature does not conform to Aliyun standards (SignatureMethod must be HMAC-SHA1).")
  end
  if params.SignatureVersion ~= "1.0" then
    return fail(400, "IncompleteSignature",
      "The request signature does not conform to Aliyun standards (SignatureVersion must be 1.0).")
  end
  local key, kerr = self:_key(params.AccessKeyId, params.SecurityToken)
  if not key then return nil, kerr end
  -- the pieces go to the MAC as a list: no string to sign is made unless it is needed for
  -- an error (LuaJIT interns every string, and strings to sign differ only past the head it
  -- hashes, so they would all share one chain of its string table, longer as the heap grows)
  local pieces, np = v1_string_to_sign(req.method, params)
  local crypto = self.crypto
  local expected = crypto.base64(crypto.hmac_sha1(key.secret .. "&", pieces))
  if not same(expected, params.Signature) then
    local sts = concat(pieces, "", 1, np)
    return fail(400, "SignatureDoesNotMatch",
      "Specified signature is not matched with our calculation. server string to sign is:" .. sts,
      { string_to_sign = sts })
  end
  local ok, terr = self:_check_time(params.Timestamp)
  if not ok then return nil, terr end
  ok, terr = self:_check_nonce(params.SignatureNonce)
  if not ok then return nil, terr end
  -- params is this request's own table: handed over as it is
  return { action = params.Action, version = params.Version, access_key_id = params.AccessKeyId,
    signature_version = "v1", params = params }
end

local V3_REQUIRED = { "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256" }

function Verifier:_v3(req, authorization)
  local h = req.headers
  local id, signed, sig = authorization:match(
    "^ACS3%-HMAC%-SHA256%s+Credential=([^,]+),%s*SignedHeaders=([^,]+),%s*Signature=(%x+)%s*$")
  if not id then
    return fail(400, "IncompleteSignature",
      "The request signature does not conform to Aliyun standards (malformed Authorization header).")
  end
  for i = 1, #V3_REQUIRED do
    local name = V3_REQUIRED[i]
    if not h[name] or h[name] == "" then return missing(name) end
  end
  local signed_set, names = {}, {}
  for name in signed:gmatch("[^;]+") do signed_set[name] = true; names[#names + 1] = name end
  for name in pairs(h) do
    if (name == "host" or name:sub(1, 6) == "x-acs-") and not signed_set[name] then
      return fail(400, "IncompleteSignature",
        "The request signature does not conform to Aliyun standards (header " .. name .. " is not signed).")
    end
  end
  local key, kerr = self:_key(id, h["x-acs-security-token"])
  if not key then return nil, kerr end
  local body_hash = self.crypto.sha256_hex(req.body or "")
  if body_hash ~= h["x-acs-content-sha256"] then
    return fail(400, "SignatureDoesNotMatch", "The x-acs-content-sha256 header does not match the request body.")
  end
  local query, dup = auth.parse_form(req.query_string)
  if not query then return fail(400, "InvalidParameter", "The parameter \"" .. dup .. "\" is given twice.") end
  local qparts = {}
  local enc = {}
  for k, v in pairs(query) do enc[#enc + 1] = { encode(k), encode(v) } end
  table.sort(enc, function(a, b) return a[1] < b[1] end)
  for _, kv in ipairs(enc) do qparts[#qparts + 1] = kv[1] .. "=" .. kv[2] end
  local lines = { req.method, req.path or "/", table.concat(qparts, "&") }
  table.sort(names)
  for _, name in ipairs(names) do
    local v = h[name]
    if v == nil then
      return fail(400, "IncompleteSignature", "Signed header " .. name .. " is missing from the request.")
    end
    lines[#lines + 1] = name .. ":" .. tostring(v):match("^%s*(.-)%s*$")
  end
  local canonical = table.concat(lines, "\n") .. "\n\n" .. table.concat(names, ";") .. "\n" .. body_hash
  local sts = "ACS3-HMAC-SHA256\n" .. self.crypto.sha256_hex(canonical)
  local expected = self.crypto.hex(self.crypto.hmac_sha256(key.secret, sts))
  if not same(expected, sig:lower()) then
    return fail(400, "SignatureDoesNotMatch",
      "The request signature does not match. server string to sign is:" .. sts,
      { string_to_sign = sts, canonical_request = canonical })
  end
  local ok, terr = self:_check_time(h["x-acs-date"])
  if not ok then return nil, terr end
  ok, terr = self:_check_nonce(h["x-acs-signature-nonce"])
  if not ok then return nil, terr end
  local params, perr = request_params(req)
  if not params then return nil, perr end
  return { action = h["x-acs-action"], version = h["x-acs-version"], access_key_id = id,
    signature_version = "v3", params = params }
end

-- req: {method, path, query_string, headers (lower-case names), body}
-- -> {action, version, access_key_id, signature_version, params} | nil, {status, code, message}
function Verifier:verify(req)
  local authorization = req.headers.authorization
  if authorization then return self:_v3(req, authorization) end
  return self:_v1(req)
end

return auth
