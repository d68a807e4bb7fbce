-- Debug output (`debug = true` on a client or a call): one line per request and one per
-- response, with signatures, tokens and secrets masked (mask.lua).
local mask = require "aliyun.mask"

local trace = {}

trace.short_id = mask.short_id

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
    attempt > 1 and (" retry " .. (attempt - 1)) or "", request.method, mask.url(request.url, true),
    request.body and #request.body or 0))
end

function trace.response(sink, action, response, elapsed)
  local rid = response.headers and response.headers["x-acs-request-id"]
  sink(string.format("aliyun < %s HTTP %d in %.1f ms (%d body bytes)%s", action, response.status,
    elapsed * 1000, response.body and #response.body or 0, rid and (" RequestId " .. rid) or ""))
end

function trace.failure(sink, action, err, elapsed)
  sink(string.format("aliyun < %s failed in %.1f ms: %s", action, elapsed * 1000, mask.text(tostring(err))))
end

return trace
