-- The control endpoint under /_emulator/, for tests and playbooks driving an emulator over
-- HTTP (in process, call the emulator's methods instead). Unauthenticated: the server
-- listens on 127.0.0.1 only.
--   POST   /_emulator/faults   {"Action": "CreateDisk", "Type": "throttling", "Count": 2, ...}
--                               (or a JSON array of those); lower-case keys are accepted too
--   GET    /_emulator/faults   the queued faults
--   DELETE /_emulator/faults   clears them
--   POST   /_emulator/reset    fresh state; optional {"Seed": n, "Delays": {...}}
--   POST   /_emulator/clock    {"Advance": seconds} moves the emulator's clock forward
--   GET    /_emulator/health   {"Ok": true, ...}
local json = require "aliyun.json"

local control = {}

local function reply(status, t)
  return { status = status, headers = { ["content-type"] = "application/json;charset=utf-8" },
    body = assert(json.encode(t)) }
end

local function field(t, name)
  local v = t[name]
  if v == nil then v = t[name:lower()] end
  if v == nil then v = t[name:sub(1, 1):lower() .. name:sub(2)] end
  return v
end

local function decode(body)
  if body == nil or body == "" then return {} end
  local v, err = json.decode(body)
  if type(v) ~= "table" then return nil, "the body must be a JSON object: " .. tostring(err or type(v)) end
  return v
end

local function add_faults(emu, body)
  local spec, err = decode(body)
  if not spec then return reply(400, { Code = "InvalidParameter", Message = err }) end
  local list = spec[1] ~= nil and spec or { spec }
  local added = json.array {}
  for _, f in ipairs(list) do
    if type(f) ~= "table" then
      return reply(400, { Code = "InvalidParameter", Message = "each fault must be a JSON object" })
    end
    local action = field(f, "Action") or "*"
    local fault, why = emu:inject(action, {
      type = field(f, "Type"), count = field(f, "Count"), always = field(f, "Always"),
      status = field(f, "Status"), seconds = field(f, "Seconds"),
    })
    if not fault then return reply(400, { Code = "InvalidParameter", Message = why }) end
    added[#added + 1] = { Action = action, Type = fault.type, Count = fault.count }
  end
  return reply(200, { Added = added, Faults = json.array(emu.faults:list()) })
end

function control.handle(emu, method, path, body)
  if path == "/_emulator/faults" then
    if method == "POST" then return add_faults(emu, body) end
    if method == "DELETE" then
      emu:clear_faults()
      return reply(200, { Faults = json.array {} })
    end
    return reply(200, { Faults = json.array(emu.faults:list()) })
  elseif path == "/_emulator/reset" and method == "POST" then
    local o, err = decode(body)
    if not o then return reply(400, { Code = "InvalidParameter", Message = err }) end
    emu:reset { seed = field(o, "Seed"), delays = field(o, "Delays") }
    return reply(200, { Reset = true })
  elseif path == "/_emulator/clock" and method == "POST" then
    local o, err = decode(body)
    if not o then return reply(400, { Code = "InvalidParameter", Message = err }) end
    local s = tonumber(field(o, "Advance"))
    if not s or s < 0 then return reply(400, { Code = "InvalidParameter", Message = "Advance must be seconds >= 0" }) end
    emu:advance(s)
    return reply(200, { Now = emu:now() })
  elseif path == "/_emulator/health" then
    return reply(200, { Ok = true, Now = emu:now(), Ecs = json.array(emu:actions("ecs")),
      Ens = json.array(emu:actions("ens")) })
  end
  return reply(404, { Code = "NotFound", Message = "no control endpoint " .. method .. " " .. path })
end

return control
