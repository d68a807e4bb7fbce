-- When to try a failed call again, and how long to wait first. Retried: network errors,
-- timeouts, HTTP 5xx and the service's overload codes (errors.is_retryable decides) - but a
-- request that may have reached the server (a connection lost after it was written, a
-- timeout waiting for the answer) only when it is safe to repeat: a read-only action, or
-- one carrying its ClientToken. Never two creates from one call.
-- Waits grow exponentially up to a cap, with full jitter so that many clients throttled
-- at the same moment do not come back at the same moment; a server's x-acs-retry-after
-- (milliseconds) or Retry-After (seconds or an HTTP date) is honoured when it asks for
-- longer, up to the cap.
local core = require "aliyun.core"
local errors = require "aliyun.lazy" "aliyun.errors" -- loaded by the first failure

local retry = {}

local DEFAULTS = { max_retries = 3, base_delay = 0.2, max_delay = 20 }

-- More retries than this only hide an outage (and the call's deadline ends them anyway).
retry.MAX_RETRIES = 10

local Policy = {}
Policy.__index = Policy

-- retry.new{max_retries = 3, base_delay = 0.2, max_delay = 20, random = math.random}
function retry.new(opts)
  opts = opts or {}
  local p = setmetatable({}, Policy)
  for k, v in pairs(DEFAULTS) do p[k] = v end
  for _, k in ipairs { "max_retries", "base_delay", "max_delay" } do
    local v = opts[k]
    if v ~= nil then
      if type(v) ~= "number" or v < 0 or v ~= v or v == math.huge then
        error("aliyun: retry option " .. k .. " must be a non-negative number", 3)
      end
      p[k] = v
    end
  end
  if p.max_retries > retry.MAX_RETRIES then
    error("aliyun: max_retries must be at most " .. retry.MAX_RETRIES, 3)
  end
  p.max_retries = math.floor(p.max_retries)
  p.random = opts.random or math.random
  return p
end

-- The server's requested wait in seconds, from x-acs-retry-after (milliseconds) or
-- Retry-After (delay-seconds or an HTTP date), or nil.
local function retry_after(headers)
  if not headers then return nil end
  local v = headers["x-acs-retry-after"]
  local ms = v and tonumber((tostring(v):match("^%s*(%d+)%s*$")))
  if ms and ms > 0 then return ms / 1000 end
  v = headers["retry-after"]
  if v == nil then return nil end
  v = tostring(v)
  local s = tonumber((v:match("^%s*(%d+)%s*$")))
  if not s then
    local at = core.parse_http_date(v)
    s = at and at - core.time()
  end
  if s and s > 0 then return s end
  return nil
end

-- Whether err may come from a request the server received: then only a request that is
-- safe to repeat may be sent again.
local function maybe_delivered(err)
  return (err.kind == "network" or err.kind == "timeout") and err.sent ~= false
end

-- policy:delay(attempt, err, headers, safe) -> seconds to wait before retry number
-- `attempt` (1 for the first retry), or nil when the error must be returned as it is.
-- safe: the request may be repeated whatever the server did with it.
function Policy:delay(attempt, err, headers, safe)
  if attempt > self.max_retries then return nil end
  if not (errors.is_error(err) and err.retryable) then return nil end
  if not safe and maybe_delivered(err) then return nil end
  local cap = math.min(self.max_delay, self.base_delay * 2 ^ (attempt - 1))
  local wait = cap * self.random()
  local asked = retry_after(headers)
  if asked then wait = math.max(wait, math.min(asked, self.max_delay)) end
  return wait
end

-- retry.safe_to_repeat(action, params) -> whether sending the call twice does no harm:
-- the action only reads (by the API's naming: Describe*, List*, Get*, Query*), or it
-- carries a ClientToken, with which the service makes a repeat return the first result.
local READ_ONLY = { "^Describe%u", "^List%u", "^Get%u", "^Query%u" }
local read_only = {}

function retry.safe_to_repeat(action, params)
  if params and params.ClientToken ~= nil then return true end
  local ro = read_only[action]
  if ro == nil then
    ro = false
    for _, pat in ipairs(READ_ONLY) do
      if action:find(pat) then ro = true break end
    end
    read_only[action] = ro
  end
  return ro
end

retry.retry_after = retry_after

return retry
