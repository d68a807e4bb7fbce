-- Debug output (`debug = true` on a client or a call): one line per request and one per
-- response, with signatures, tokens and secrets masked. Masking is by parameter and header
-- name, so whatever the values are, they never reach the output.
local trace = {}

-- Query/form parameters and headers whose values are never shown.
local SECRET_PARAMS = {
  Signature = true, SecurityToken = true, AccessKeySecret = true, Password = true,
  OIDCToken = true, ["x-acs-security-token"] = true,
}
local SECRET_HEADERS = {
  authorization = true, ["x-acs-security-token"] = true, ["x-acs-bearer-token"] = true,
  cookie = true,
}

-- Shows enough of an AccessKeyId to tell keys apart.
local function short_id(v)
  if #v > 8 then return v:sub(1, 4) .. "****" .. v:sub(-3) end
  return "****"
end

trace.short_id = short_id

-- Masks the values of secret parameters in a form-encoded string (query or body).
function trace.mask_form(s)
  if type(s) ~= "string" or s == "" then return s end
  return (s:gsub("([^&=?]+)=([^&]*)", function(k, v)
    if SECRET_PARAMS[k] or k:find("Password$") then return k .. "=****" end
    if k == "AccessKeyId" then return k .. "=" .. short_id(v) end
    return nil
  end))
end

function trace.mask_url(url)
  local base, query = tostring(url):match("^([^?]*)%?(.*)$")
  if not base then return tostring(url) end
  return base .. "?" .. trace.mask_form(query)
end

function trace.mask_headers(headers)
  local out = {}
  for k, v in pairs(headers or {}) do
    local lk = tostring(k):lower()
    out[k] = SECRET_HEADERS[lk] and "****" or v
  end
  return out
end

-- The sink: a function given as `debug`, or stderr for `debug = true`.
function trace.sink(opt)
  if type(opt) == "function" then return opt end
  if opt then
    return function(line) io.stderr:write(line, "\n") end
  end
  return nil
end

function trace.request(sink, action, request, attempt)
  sink(string.format("aliyun > %s%s %s %s (%d body bytes)", action,
    attempt > 1 and (" retry " .. (attempt - 1)) or "", request.method, trace.mask_url(request.url),
    request.body and #request.body or 0))
end

function trace.response(sink, action, response, elapsed)
  local rid = response.headers and response.headers["x-acs-request-id"]
  sink(string.format("aliyun < %s HTTP %d in %.1f ms (%d body bytes)%s", action, response.status,
    elapsed * 1000, response.body and #response.body or 0, rid and (" RequestId " .. rid) or ""))
end

function trace.failure(sink, action, err, elapsed)
  sink(string.format("aliyun < %s failed in %.1f ms: %s", action, elapsed * 1000, tostring(err)))
end

return trace
