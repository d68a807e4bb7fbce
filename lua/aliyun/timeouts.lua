-- Default timeouts, in seconds. Most actions answer in well under a second; those that
-- create, start, stop or delete instances and their kind do work before they answer and
-- get a longer read timeout, so users don't see timeouts on calls that would succeed.
local timeouts = {
  connect = 5,
  read = 10,
  long_read = 60,
}

-- Action name patterns of long-running calls, across products.
local LONG = {
  "^RunInstances$", "^CreateInstance$", "^DeleteInstances?$", "^StartInstances?$",
  "^StopInstances?$", "^RebootInstances?$", "^ModifyInstanceSpec$", "^ModifyPrepayInstanceSpec$",
  "^ReplaceSystemDisk$", "^ResetDisks?$", "^ReInitDisk$", "^CreateImage$", "^ImportImage$",
  "^CopyImage$", "^RedeployInstance$", "^RenewInstance$", "^CreateDedicatedHostCluster$",
  "^AllocateDedicatedHosts$", "^RunServiceSchedule$", "^RescaleDeviceService$",
  "^RescaleApplication$", "^BatchEventRedeployInstance$", "^CreateEnsService$",
}

-- The whole call, retries and their waits included, when the caller gives no deadline:
-- a few of the attempt's own timeout, so that a stalled server cannot hold a call for
-- max_retries times the timeout plus the backoff.
timeouts.deadline_factor = 3

function timeouts.deadline_for(timeout)
  return timeouts.deadline_factor * timeout
end

local cache = {}

-- timeouts.read_for(action) -> the default read timeout for that action
function timeouts.read_for(action)
  local t = cache[action]
  if t then return t end
  t = timeouts.read
  for _, pat in ipairs(LONG) do
    if action:find(pat) then
      t = timeouts.long_read
      break
    end
  end
  cache[action] = t
  return t
end

return timeouts
