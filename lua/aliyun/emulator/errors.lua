-- Service errors as the emulator answers them, raised from deep inside a handler and turned
-- into the documented error body by the router. Codes, statuses and default messages come
-- from one catalogue (catalogue.lua), which also says where each comes from.
local catalogue = require "aliyun.emulator.catalogue"

local errors = {}

local Failure = {}
Failure.__index = Failure
Failure.__tostring = function(e) return e.code .. ": " .. e.message end

-- The catalogue entry of a code: its own, or its field-named form's (MissingParameter.X).
function errors.entry(code)
  local c = catalogue[code]
  if c then return c end
  local base = code:match("^([^.]+)%.")
  return base and catalogue[base .. ".%s"] or nil
end

-- A failure. A status given here wins over the catalogue's (a few per-action tables give
-- another status for the same code: IncorrectInstanceStatus is 400 for AttachDisk).
-- `uncatalogued` marks a code the catalogue lacks: a bug the strict mode reports.
function errors.new(code, message, status)
  local c = errors.entry(code)
  return setmetatable({
    code = code,
    status = status or (c and c[1]) or 400,
    message = message or (c and c[2]) or code,
    uncatalogued = c == nil or nil,
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
    "The specified parameter \"" .. name .. "\" is not valid." .. (why and (" " .. why) or ""), status)
end

errors.catalogue = catalogue

return errors
