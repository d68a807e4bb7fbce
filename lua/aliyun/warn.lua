-- Warnings about settings that put credentials at risk. Each is said once per process and
-- sink: to the client's `warn` option when given (a function taking the line), else stderr
-- (in nginx, the error log).
--
--   warn.once(key, text, sink) -> true when said now, false when said before
local warn = {}

-- sink (or false for stderr) -> {[key] = true}; weak, so a sink a client dropped goes too
local said = setmetatable({}, { __mode = "k" })

function warn.say(text, sink)
  local line = "aliyun: warning: " .. text
  if type(sink) == "function" then sink(line) else io.stderr:write(line, "\n") end
end

function warn.once(key, text, sink)
  local by = type(sink) == "function" and sink or false
  local keys = said[by]
  if not keys then
    keys = {}
    said[by] = keys
  end
  if keys[key] then return false end
  keys[key] = true
  warn.say(text, sink)
  return true
end

return warn
