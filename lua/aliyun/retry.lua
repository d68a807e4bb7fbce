-- When to try a failed call again, and how long to wait first. Retried: network errors,
-- timeouts, HTTP 5xx and the service's overload codes (errors.is_retryable decides).
-- Waits grow exponentially up to a cap, with full jitter so that many clients throttled
-- at the same moment do not come back at the same moment; a server's x-acs-retry-after
-- (milliseconds) is honoured when it asks for longer.
local errors = require "aliyun.errors"

local retry = {}

local DEFAULTS = { max_retries = 3, base_delay = 0.2, max_delay = 20 }

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
      if type(v) ~= "number" or v < 0 or v ~= v then
        error("aliyun: retry option " .. k .. " must be a non-negative number", 3)
      end
      p[k] = v
    end
  end
  p.max_retries = math.floor(p.max_retries)
  p.random = opts.random or math.random
  return p
end

-- The server's requested wait in seconds, from x-acs-retry-after (milliseconds), or nil.
local function retry_after(headers)
  local v = headers and headers["x-acs-retry-after"]
  local ms = v and tonumber((tostring(v):match("^%s*(%d+)%s*$")))
  if ms and ms > 0 then return ms / 1000 end
  return nil
end

-- policy:delay(attempt, err, headers) -> seconds to wait before retry number `attempt`
-- (1 for the first retry), or nil when the error must be returned as it is.
function Policy:delay(attempt, err, headers)
  if attempt > self.max_retries then return nil end
  if not (errors.is_error(err) and err.retryable) then return nil end
  local cap = math.min(self.max_delay, self.base_delay * 2 ^ (attempt - 1))
  local wait = cap * self.random()
  local asked = retry_after(headers)
  if asked then wait = math.max(wait, math.min(asked, self.max_delay)) end
  return wait
end

retry.retry_after = retry_after

return retry
