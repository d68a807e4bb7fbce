-- What is never shown: the AccessKeySecret, the STS SecurityToken and request signatures
-- (whoever reads a signed request can replay it until its nonce is used). Everything the
-- library prints or formats (debug lines, errors, pretty-printing, dry runs) goes through
-- here. Masking is by parameter and header name, so whatever the values are, they never
-- reach the output.
--
--   mask.form(s), mask.url(url), mask.headers(h), mask.text(s)   masked copies
--   mask.request(r)        a masked copy of a request {method, url, headers, body}
--   mask.dry_run(r)        r, marked: printing it shows the masked copy; its fields stay real
--   mask.display(v)        what pretty-printing shows for a value (its masked form)
local mask = {}

local HIDDEN = "****"

-- Query/form parameters whose values are never shown (and any name ending in Password).
local SECRET_PARAMS = {
  Signature = true, SecurityToken = true, AccessKeySecret = true, Password = true,
  OIDCToken = true, ["x-acs-security-token"] = true,
}
-- Headers whose values are never shown; authorization keeps all but its Signature.
local SECRET_HEADERS = {
  ["x-acs-security-token"] = true, ["x-acs-bearer-token"] = true, cookie = true,
}
-- The library's own option names for secrets (client options, call credentials).
local SECRET_KEYS = { access_key_secret = true, security_token = true }

mask.SECRET_KEYS = SECRET_KEYS

-- Enough of an AccessKeyId to tell keys apart.
function mask.short_id(v)
  v = tostring(v or "")
  if #v > 8 then return v:sub(1, 4) .. HIDDEN .. v:sub(-3) end
  return HIDDEN
end

-- The values of secret parameters in a form-encoded string (query or body) masked;
-- short_ids: the AccessKeyId shortened too (debug lines).
function mask.form(s, short_ids)
  if type(s) ~= "string" or s == "" then return s end
  return (s:gsub("([^&=?]+)=([^&]*)", function(k, v)
    if SECRET_PARAMS[k] or k:find("Password$") then return k .. "=" .. HIDDEN end
    if short_ids and k == "AccessKeyId" then return k .. "=" .. mask.short_id(v) end
    return nil
  end))
end

function mask.url(url, short_ids)
  local base, query = tostring(url):match("^([^?]*)%?(.*)$")
  if not base then return tostring(url) end
  return base .. "?" .. mask.form(query, short_ids)
end

function mask.headers(headers)
  local out = {}
  for k, v in pairs(headers or {}) do
    local lk = tostring(k):lower()
    if SECRET_HEADERS[lk] then
      v = HIDDEN
    elseif lk == "authorization" then
      v = (tostring(v):gsub("Signature=[^,%s]*", "Signature=" .. HIDDEN))
    end
    out[k] = v
  end
  return out
end

-- Free text (error messages, strings to sign): secret parameters as name=value, as the
-- percent-encoded pairs of a V1 string to sign (SecurityToken%3D...%26), and as the STS
-- header of a V3 canonical request.
local TEXT_NAMES = { "Signature", "SecurityToken", "AccessKeySecret", "OIDCToken" }

function mask.text(s)
  if type(s) ~= "string" then return s end
  for _, n in ipairs(TEXT_NAMES) do
    if s:find(n, 1, true) then
      s = s:gsub("%f[%w]" .. n .. "=[^&%s,;\"']*", n .. "=" .. HIDDEN)
        :gsub(n .. "%%3D([^%s&]*)", function(rest)
          -- the value ends at the next encoded & (%26), or with the word
          local at = rest:find("%26", 1, true)
          return n .. "%3D" .. HIDDEN .. (at and rest:sub(at) or "")
        end)
    end
  end
  if s:find("security-token", 1, true) then
    s = s:gsub("(x%-acs%-security%-token:)[^\n]*", "%1" .. HIDDEN)
  end
  return s
end

-- A masked copy of a request: the method, URL, headers and body as they may be shown.
function mask.request(r)
  local out = {}
  for k, v in pairs(r) do out[k] = v end
  out.url = r.url ~= nil and mask.url(r.url) or nil
  out.headers = r.headers ~= nil and mask.headers(r.headers) or nil
  out.body = mask.form(r.body)
  return out
end

-- A dry run's result: the real request, which prints as its masked copy.
local Request = {
  __name = "aliyun.request",
  __masked = mask.request,
  __tostring = function(r)
    return string.format("aliyun.request(%s %s, %d body bytes)", tostring(r.method), mask.url(r.url),
      type(r.body) == "string" and #r.body or 0)
  end,
}

function mask.dry_run(r)
  return setmetatable(r, Request)
end

-- What pretty-printing shows for v: the value's own masked form (a metatable's __masked:
-- dry runs), a plain table shaped like a request masked as one, or v (objects with a
-- __tostring, such as clients, credentials and errors, print as that text).
function mask.display(v)
  if type(v) ~= "table" then return v end
  local mt = getmetatable(v)
  if mt then
    local f = type(mt) == "table" and rawget(mt, "__masked")
    if f then return f(v) end
    return v
  end
  if type(v.method) == "string" and type(v.url) == "string" then return mask.request(v) end
  return v
end

-- What a live (unmasked) display shows for v: a dry run's real fields, as a plain table.
function mask.live(v)
  if type(v) == "table" and getmetatable(v) == Request then
    local out = {}
    for k, x in pairs(v) do out[k] = x end
    return out
  end
  return v
end

-- The value shown under key k of a plain table: the library's secret options hidden.
function mask.field(k, v)
  if SECRET_KEYS[k] and type(v) == "string" then return HIDDEN end
  return v
end

return mask
