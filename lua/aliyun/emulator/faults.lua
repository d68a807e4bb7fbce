-- Injected faults, queued per action ("*" for any action) and consumed one per call:
--   {type = "throttling"}                 the service's Throttling error (HTTP 400)
--   {type = "status", status = 500|503}   InternalError / ServiceUnavailable
--   {type = "latency", seconds = 2}       the answer comes that much later
--   {type = "close"}                      the connection is closed without an answer
--   {type = "commit_drop"}                the action takes effect, then the connection is closed
-- count (default 1) says for how many calls; always = true keeps the fault until cleared.
local faults = {}

local Faults = {}
Faults.__index = Faults

local TYPES = { throttling = true, status = true, latency = true, close = true, commit_drop = true }

-- Checks and normalises one fault; returns it or nil and a message.
function faults.check(f)
  if type(f) == "string" then f = { type = f } end
  if type(f) ~= "table" then return nil, "a fault must be a table such as {type = \"throttling\"}" end
  if not TYPES[f.type] then
    return nil, "unknown fault type " .. tostring(f.type)
      .. " (throttling, status, latency, close, commit_drop)"
  end
  local out = { type = f.type, always = f.always == true }
  local count = f.count == nil and 1 or tonumber(f.count)
  if not count or count < 1 or count ~= math.floor(count) then
    return nil, "fault count must be a positive integer"
  end
  out.count = count
  if f.type == "status" then
    local s = tonumber(f.status or 500)
    if s ~= 500 and s ~= 503 then return nil, "a status fault takes status 500 or 503" end
    out.status = s
  elseif f.type == "latency" then
    local s = tonumber(f.seconds)
    if not s or s < 0 or s > 600 then return nil, "a latency fault takes seconds between 0 and 600" end
    out.seconds = s
  end
  return out
end

function faults.new()
  return setmetatable({ queues = {} }, Faults)
end

function Faults:add(action, f)
  if type(action) ~= "string" or action == "" then return nil, "a fault needs an action name (or \"*\")" end
  local fault, why = faults.check(f)
  if not fault then return nil, why end
  local q = self.queues[action]
  if not q then
    q = {}
    self.queues[action] = q
  end
  q[#q + 1] = fault
  return fault
end

-- The first fault of a queue, counted as used (unless it always applies).
local function take(q)
  local f = q and q[1]
  if f and not f.always then
    f.count = f.count - 1
    if f.count <= 0 then table.remove(q, 1) end
  end
  return f
end

-- The fault for this call, if any: the action's own queue first, then "*".
function Faults:take(action)
  local queues = self.queues
  return take(queues[action]) or take(queues["*"])
end

function Faults:clear()
  self.queues = {}
end

-- What is queued, for the control endpoint: {{action =, type =, count =, ...}, ...}
function Faults:list()
  local names = {}
  for k in pairs(self.queues) do names[#names + 1] = k end
  table.sort(names)
  local out = {}
  for _, name in ipairs(names) do
    for _, f in ipairs(self.queues[name]) do
      out[#out + 1] = { Action = name, Type = f.type, Count = f.count, Always = f.always,
        Status = f.status, Seconds = f.seconds }
    end
  end
  return out
end

return faults
