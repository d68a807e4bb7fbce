-- Service errors as the emulator answers them: the code, the HTTP status and the message
-- of the ECS API reference (section 4.5 and the per-action error tables), raised from deep
-- inside a handler and turned into the documented error body by the router.
local errors = {}

local Failure = {}
Failure.__index = Failure
Failure.__tostring = function(e) return e.code .. ": " .. e.message end

-- Default status and message per code. Per-action tables in the seed sometimes give another
-- status for the same code (IncorrectInstanceStatus is 400 for AttachDisk, 403 for
-- DetachDisk); the handlers pass those explicitly.
local CATALOG = {
  MissingParameter = { 400, "The input parameter that is mandatory for processing this request is not supplied." },
  InvalidParameter = { 400, "The specified parameter is not valid." },
  IdempotentParameterMismatch = { 400, "The request is retried with updated parameters." },
  Throttling = { 400, "Request was denied due to request throttling." },
  InvalidVersion = { 400, "Specified parameter Version is not valid." },
  ["InvalidAction.NotFound"] = { 404, "Specified api is not found, please check your url and method." },
  ["UnsupportedOperation.NotEmulated"] = { 400, "The action is not emulated." },
  InternalError = { 500, "The request processing has failed due to some unknown error, exception or failure." },
  ServiceUnavailable = { 503, "The request has failed due to a temporary failure of the server." },
  ["InvalidRegionId.NotFound"] = { 404, "The specified RegionId does not exist." },
  ["InvalidZoneId.NotFound"] = { 404, "The specified zone does not exist." },
  ["InvalidDiskId.NotFound"] = { 404, "The specified disk does not exist." },
  ["InvalidInstanceId.NotFound"] = { 404, "The specified InstanceId does not exist." },
  ["InvalidSnapshotId.NotFound"] = { 404, "The specified SnapshotId does not exist." },
  ["InvalidImageId.NotFound"] = { 404, "The specified ImageId does not exist." },
  IncorrectDiskStatus = { 403, "The current disk status does not support this operation." },
  IncorrectInstanceStatus = { 403, "The current status of the resource does not support this operation." },
}

function errors.new(code, message, status)
  local c = CATALOG[code]
  if not c then
    local base = code:match("^([^.]+)%.")
    c = base and CATALOG[base]
  end
  return setmetatable({
    code = code,
    status = status or (c and c[1]) or 400,
    message = message or (c and c[2]) or code,
  }, Failure)
end

-- Raises a service error; the router catches it and answers with it.
function errors.raise(code, message, status)
  error(errors.new(code, message, status), 0)
end

function errors.is(v)
  return getmetatable(v) == Failure
end

-- The messages the service uses for the two most common parameter errors.
function errors.missing(name, code)
  errors.raise(code or ("MissingParameter." .. name),
    "The input parameter \"" .. name .. "\" that is mandatory for processing this request is not supplied.", 400)
end

function errors.invalid(name, code, status, why)
  errors.raise(code or "InvalidParameter",
    "The specified parameter \"" .. name .. "\" is not valid." .. (why and (" " .. why) or ""), status or 400)
end

return errors
