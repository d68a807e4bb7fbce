-- The one error shape of the library. Every failure a caller sees is one of these:
-- a table with fields, and tostring() gives one readable line with no secrets in it.
-- aliyun.mask is loaded when an error is first shown (tostring), not with this module: a
-- call that succeeds never needs it.

local errors = {}

local Error = {}
Error.__index = Error
Error.__name = "aliyun.error"

-- The kinds, so a typo in a kind name is caught where the error is made.
local KINDS = {
  validation = true, credentials = true, network = true,
  timeout = true, service = true, decode = true,
}

-- Service codes that a retry may cure: overload and transient server trouble.
local RETRYABLE_CODES = {
  Throttling = true, ["Throttling.User"] = true, ["Throttling.Api"] = true,
  ["Throttling.Concurrent"] = true, ServiceUnavailable = true,
  InternalError = true, UnknownError = true,
}

-- Service codes that say the STS token has expired: temporary credentials are fetched
-- again and the call made once more (client.lua).
local EXPIRED_TOKEN_CODES = {
  ["InvalidSecurityToken.Expired"] = true, SecurityTokenExpired = true,
}

function Error.__tostring(e)
  local parts = { "aliyun" }
  if e.action then parts[#parts + 1] = " " .. e.action end
  parts[#parts + 1] = ": " .. e.kind
  if e.status then parts[#parts + 1] = " (HTTP " .. tostring(e.status) .. ")" end
  if e.code then parts[#parts + 1] = " " .. e.code end
  if e.message and e.message ~= "" then
    -- one line: the service sometimes puts newlines in messages
    parts[#parts + 1] = ": " .. (require("aliyun.mask").text(tostring(e.message)):gsub("[\r\n]+", " "))
  end
  if e.request_id then parts[#parts + 1] = " [RequestId " .. e.request_id .. "]" end
  -- the token a call again with the same parameters must carry to create nothing twice
  if e.client_token then parts[#parts + 1] = " [ClientToken " .. tostring(e.client_token) .. "]" end
  return table.concat(parts)
end

-- Build an error. fields.kind is required; retryable is derived when not given.
function errors.new(fields)
  assert(type(fields) == "table" and KINDS[fields.kind], "errors.new: unknown kind")
  local e = {
    kind = fields.kind, code = fields.code, message = fields.message or "",
    status = fields.status, request_id = fields.request_id, host_id = fields.host_id,
    recommend = fields.recommend, action = fields.action, retryable = fields.retryable,
    details = fields.details, client_token = fields.client_token,
  }
  -- false when the request provably never reached the server (no connection, nothing
  -- written): sending it again cannot do anything twice. nil otherwise.
  if fields.sent == false then e.sent = false end
  if e.retryable == nil then e.retryable = errors.is_retryable(e) end
  return setmetatable(e, Error)
end

-- Whether a retry may succeed where this attempt failed.
function errors.is_retryable(e)
  if e.kind == "network" or e.kind == "timeout" then return true end
  if e.kind == "service" then
    if e.code and RETRYABLE_CODES[e.code] then return true end
    if e.status and e.status >= 500 then return true end
  end
  return false
end

-- A reason (text or an error object) as one line of text, for messages that name a source.
function errors.line(why)
  if errors.is_error(why) then why = why.message end
  return (tostring(why or "no reason given"):gsub("[\r\n]+", " "))
end

-- Whether the service refused the call because the STS token has expired.
function errors.is_expired_token(e)
  return e.kind == "service" and e.code ~= nil and EXPIRED_TOKEN_CODES[e.code] == true
end

function errors.is_error(v)
  return getmetatable(v) == Error
end

-- Shorthands for the common kinds.
function errors.validation(action, message, details)
  return errors.new { kind = "validation", action = action, message = message, details = details }
end

return errors
