-- Polling until a resource reaches a state. client:wait(action, params, predicate, opts)
-- calls the action until predicate(response) is true, waiting `interval` seconds first and
-- a little longer each time (x backoff, 1.5 by default, up to max_interval), and gives up
-- after `timeout` seconds with a timeout error saying what it last saw: the last poll is
-- made when the time is up, never skipped because the next wait would overrun it. A
-- resource that does not exist (the predicate's third result) ends the wait with an error
-- at the second poll in a row that misses it, rather than polling until the timeout (one
-- miss is forgiven: a listing may lag a create). On a terminal, a progress line on stderr
-- shows the elapsed time and the last state; elsewhere it prints nothing.
local core = require "aliyun.core"
local errors = require "aliyun.errors"
local json = require "aliyun.json"

local wait = {}

local DEFAULTS = { timeout = 600, interval = 2, max_interval = 30, backoff = 1.5 }

-- Every option wait takes; call holds the options of each call (checked by the call).
local KNOWN_NAMES = { "backoff", "call", "clock", "interval", "max_interval", "progress", "sleep", "timeout" }
local KNOWN = {}
for _, n in ipairs(KNOWN_NAMES) do KNOWN[n] = true end

local function describe_state(state, response)
  if state ~= nil then return tostring(state) end
  local s = json.encode(response) or "?"
  if #s > 120 then s = s:sub(1, 117) .. "..." end
  return s
end

-- predicate(response) -> done, state, missing: state (a string such as "Creating") is shown
-- in the progress line and in the errors; missing = true says the resource is not there.
function wait.wait(client, action, params, predicate, opts)
  if type(predicate) ~= "function" then error("aliyun: wait: predicate function expected", 3) end
  opts = opts or {}
  for k in pairs(opts) do
    if not KNOWN[k] then
      local near = type(k) == "string" and require("aliyun.api").suggest(KNOWN_NAMES, k, 2) or {}
      error("aliyun: wait: unknown option '" .. tostring(k) .. "'"
        .. (#near > 0 and ("; did you mean " .. table.concat(near, ", ") .. "?") or ""), 3)
    end
  end
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = opts[k] ~= nil and opts[k] or v end
  for _, k in ipairs { "timeout", "interval", "max_interval", "backoff" } do
    if type(o[k]) ~= "number" or o[k] < 0 then error("aliyun: wait: " .. k .. " must be a non-negative number", 3) end
  end
  local now = opts.clock or core.monotonic
  local sleep = opts.sleep or function(s) client:_sleep(s) end
  local progress = opts.progress
  if progress == nil then progress = core.isatty(2) end
  local call_opts = opts.call or {}
  local started = now()
  local interval = o.interval
  local polls, misses = 0, 0
  while true do
    polls = polls + 1
    local response, err = client:call(action, params, call_opts)
    if not response then
      if progress then io.stderr:write("\n") end
      return nil, err
    end
    local done, state, missing = predicate(response)
    local last_state = describe_state(state, response)
    local elapsed = now() - started
    if progress then
      io.stderr:write(string.format("\r%s: %.0f s, %s   ", action, elapsed, last_state))
    end
    if done then
      if progress then io.stderr:write("\n") end
      return response
    end
    misses = missing and misses + 1 or 0
    if misses >= 2 then
      if progress then io.stderr:write("\n") end
      return nil, errors.new {
        kind = "service", action = action,
        message = string.format("nothing to wait for: the resource is not there (%s, %d polls in a row)",
          last_state, misses),
      }
    end
    local left = o.timeout - elapsed
    if left <= 0 then
      if progress then io.stderr:write("\n") end
      return nil, errors.new {
        kind = "timeout", action = action,
        message = string.format("still not ready after %.0f s and %d polls; last state: %s",
          elapsed, polls, last_state),
      }
    end
    sleep(math.min(interval, left))
    interval = math.min(interval * o.backoff, o.max_interval)
  end
end

-- Ready-made waiters: name -> {product, action, params(p), predicate}. Each takes the
-- id of the thing to wait for and returns the response in the awaited state.
local function first(list)
  return type(list) == "table" and list[1] or nil
end

local function disk_status(wanted)
  return {
    product = "ecs", action = "DescribeDisks",
    params = function(p) return { RegionId = p.RegionId, DiskIds = { p.DiskId } } end,
    predicate = function(r)
      local d = first(r.Disks and r.Disks.Disk)
      local status = d and d.Status or "not found"
      return status == wanted, status, d == nil
    end,
  }
end

wait.WAITERS = {
  DiskAvailable = disk_status("Available"),
  DiskInUse = disk_status("In_use"),
  InstanceRunning = {
    product = "ecs", action = "DescribeInstances",
    params = function(p) return { RegionId = p.RegionId, InstanceIds = { p.InstanceId } } end,
    predicate = function(r)
      local i = first(r.Instances and r.Instances.Instance)
      local status = i and i.Status or "not found"
      return status == "Running", status, i == nil
    end,
  },
  InvocationFinished = {
    product = "ecs", action = "DescribeInvocations",
    params = function(p) return { RegionId = p.RegionId, InvokeId = p.InvokeId } end,
    predicate = function(r)
      local inv = first(r.Invocations and r.Invocations.Invocation)
      local status = inv and (inv.InvocationStatus or inv.InvokeStatus) or "not found"
      local finished = { Finished = true, Success = true, Failed = true, Stopped = true,
        PartialFailed = true, Cancelled = true }
      return finished[status] == true, status, inv == nil
    end,
  },
  -- an edge device's scheduling, asked with RunServiceSchedule's Console action (the
  -- documented way to read a device's current scheduling)
  ScheduleDone = {
    product = "ens", action = "RunServiceSchedule",
    params = function(p)
      return { Uuid = p.Uuid, AppId = p.AppId, ClientIp = p.ClientIp, ServiceAction = "Console" }
    end,
    predicate = function(r)
      local ready = type(r.InstanceId) == "string" and r.InstanceId ~= ""
      return ready, ready and ("scheduled on " .. r.InstanceId) or "not scheduled"
    end,
  },
}

-- client:wait_for(name, params, opts): one of the ready-made waiters by name.
function wait.wait_for(client, name, params, opts)
  local w = wait.WAITERS[name]
  if not w then
    local names = {}
    for n in pairs(wait.WAITERS) do names[#names + 1] = n end
    table.sort(names)
    error("aliyun: wait_for: no waiter '" .. tostring(name) .. "'; there are " .. table.concat(names, ", "), 3)
  end
  if w.product ~= client.product then
    error("aliyun: wait_for: " .. name .. " is a waiter for " .. w.product .. " clients", 3)
  end
  return wait.wait(client, w.action, w.params(params or {}), w.predicate, opts)
end

return wait
