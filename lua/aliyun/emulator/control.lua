-- The control endpoint under /_emulator/, for tests and playbooks driving an emulator over
-- HTTP (in process, call the emulator's methods instead). Unauthenticated: the server
-- listens on 127.0.0.1 only.
--   POST   /_emulator/faults   {"Action": "CreateDisk", "Type": "throttling", "Count": 2, ...}
--                               (or a JSON array of those); lower-case keys are accepted too
--   GET    /_emulator/faults   the queued faults
--   DELETE /_emulator/faults   clears them
--   POST   /_emulator/reset    fresh state; optional {"Seed": n, "Delays": {"disk_create": s, ...}}
--   POST   /_emulator/clock    {"Advance": seconds} moves the emulator's clock forward
--   GET    /_emulator/health   {"Ok": true, ...}
--
-- A web page must not be able to drive it. Every request must name the emulator by a
-- loopback Host (127.0.0.1, localhost or [::1], with the server's port when the server
-- says which): a page whose own name was made to resolve to 127.0.0.1 (DNS rebinding) still
-- sends its own name. Every POST and DELETE must be Content-Type: application/json, which
-- a page can send to another origin only after a CORS preflight that is never answered.
-- Refusals are 403, malformed requests 400 naming the field; either way nothing changes,
-- since every request is checked whole before anything is done.
local faults = require "aliyun.emulator.faults"
local json = require "aliyun.json"

local control = {}

local function reply(status, t)
  return { status = status, headers = { ["content-type"] = "application/json;charset=utf-8" },
    body = assert(json.encode(t)) }
end

local function refuse(why)
  return reply(403, { Code = "Forbidden", Message = why })
end

local function invalid(message)
  return reply(400, { Code = "InvalidParameter", Message = message })
end

local function header(headers, name)
  for k, v in pairs(headers or {}) do
    if type(k) == "string" and k:lower() == name then return v end
  end
  return nil
end

local LOOPBACK = { ["127.0.0.1"] = true, localhost = true, ["[::1]"] = true }

-- nil when the Host names this emulator on loopback, else why not. server_port: the port the
-- request came in on, when the server says (over HTTP); in process there is none to match.
local function host_problem(request, scheme, url_host)
  local host = header(request.headers, "host") or url_host
  if type(host) ~= "string" or host == "" then return "the request names no Host" end
  local lower = host:lower()
  local name, port = lower:match("^(%[[^%]]*%])(.*)$")
  if not name then name, port = lower:match("^([^:]*)(.*)$") end
  if not LOOPBACK[name] then
    return "Host \"" .. host .. "\" is not a loopback name (127.0.0.1, localhost or [::1]): the control endpoint "
      .. "answers only requests addressed to this machine"
  end
  if port ~= "" then
    port = port:match("^:(%d+)$")
    if not port then return "Host \"" .. host .. "\" has a malformed port" end
  end
  local server_port = tonumber(request.server_port)
  if server_port then
    local given = tonumber(port) or (scheme == "https" and 443 or 80)
    if given ~= server_port then
      return "Host \"" .. host .. "\" does not name this server's port (" .. server_port .. ")"
    end
  end
  return nil
end

local function is_json(request)
  local ctype = header(request.headers, "content-type")
  if type(ctype) ~= "string" then return false end
  local media = ctype:match("^%s*([^;%s]+)")
  return media ~= nil and media:lower() == "application/json"
end

-- The body as a JSON object (or, where allowed, an array): nil and a message otherwise.
-- An empty body is an empty object.
local function decode(body, arrays)
  if body == nil or body:match("^%s*$") then return {} end
  local first = body:match("^%s*(.)")
  if first ~= "{" and not (arrays and first == "[") then
    return nil, "the body must be a JSON object" .. (arrays and " or array" or "")
  end
  local v, err = json.decode(body)
  if type(v) ~= "table" then return nil, "the body is not valid JSON: " .. tostring(err) end
  return v, nil, first == "["
end

-- The fields of a JSON object by their canonical names ("seed" and "SEED" are Seed), each
-- known name once; nil and a message naming the field otherwise. json null is no value.
local function fields(o, known, where)
  local out, seen = {}, {}
  local by_lower = {}
  for _, name in ipairs(known) do by_lower[name:lower()] = name end
  for k, v in pairs(o) do
    local name = type(k) == "string" and by_lower[k:lower()]
    if not name then
      return nil, "unknown field " .. json.encode(k) .. where .. " (known: " .. table.concat(known, ", ") .. ")"
    end
    if seen[name] then return nil, "the field " .. name .. where .. " is given twice" end
    seen[name] = true
    if v ~= json.null then out[name] = v end
  end
  return out
end

local function finite(v)
  return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge
end

local function integer(v)
  return finite(v) and v == math.floor(v) and v >= -2 ^ 53 and v <= 2 ^ 53
end

local FAULT_FIELDS = { "Action", "Type", "Count", "Always", "Status", "Seconds" }

-- One fault of a POST, checked whole: {action, fault} or nil and a message naming the field.
local function fault_spec(f, where)
  if type(f) ~= "table" then return nil, "each fault must be a JSON object" .. where end
  local o, err = fields(f, FAULT_FIELDS, where)
  if not o then return nil, err end
  local action = o.Action == nil and "*" or o.Action
  if type(action) ~= "string" or action == "" then
    return nil, "Action" .. where .. " must be an action name or \"*\""
  end
  if type(o.Type) ~= "string" then return nil, "Type" .. where .. " must be a string (throttling, status, latency, "
    .. "close, commit_drop)" end
  if o.Count ~= nil and not integer(o.Count) then return nil, "Count" .. where .. " must be an integer" end
  if o.Always ~= nil and type(o.Always) ~= "boolean" then return nil, "Always" .. where .. " must be true or false" end
  if o.Status ~= nil and not integer(o.Status) then return nil, "Status" .. where .. " must be 500 or 503" end
  if o.Seconds ~= nil and not finite(o.Seconds) then return nil, "Seconds" .. where .. " must be a number" end
  local fault = { type = o.Type, count = o.Count, always = o.Always, status = o.Status, seconds = o.Seconds }
  local ok, why = faults.check(fault)
  if not ok then return nil, why .. where end
  return { action = action, fault = fault }
end

local function add_faults(emu, body)
  local spec, err, is_array = decode(body, true)
  if not spec then return invalid(err) end
  local list = is_array and spec or { spec }
  if is_array and #list == 0 then return invalid("the array holds no fault") end
  local checked = {}
  for i, f in ipairs(list) do
    local c, why = fault_spec(f, is_array and (" (fault " .. i .. ")") or "")
    if not c then return invalid(why) end
    checked[i] = c
  end
  -- every fault is valid: only now is anything queued
  local added = json.array {}
  for _, c in ipairs(checked) do
    local fault = assert(emu:inject(c.action, c.fault))
    added[#added + 1] = { Action = c.action, Type = fault.type, Count = fault.count }
  end
  return reply(200, { Added = added, Faults = json.array(emu.faults:list()) })
end

local function reset(emu, body)
  local o, err = decode(body)
  if not o then return invalid(err) end
  o, err = fields(o, { "Seed", "Delays" }, "")
  if not o then return invalid(err) end
  if o.Seed ~= nil and not integer(o.Seed) then return invalid("Seed must be an integer") end
  local delays = o.Delays
  if delays ~= nil then
    if type(delays) ~= "table" then
      return invalid("Delays must be an object of seconds by transition, e.g. {\"disk_create\": 2}")
    end
    for k, v in pairs(delays) do
      if type(k) ~= "string" or k == "" then
        return invalid("Delays must be an object of seconds by transition, e.g. {\"disk_create\": 2}")
      end
      if not finite(v) or v < 0 then
        return invalid("Delays." .. k .. " must be a number of seconds >= 0")
      end
    end
  end
  emu:reset { seed = o.Seed, delays = delays }
  return reply(200, { Reset = true })
end

local function clock(emu, body)
  local o, err = decode(body)
  if not o then return invalid(err) end
  o, err = fields(o, { "Advance" }, "")
  if not o then return invalid(err) end
  local s = o.Advance
  if not finite(s) or s < 0 then return invalid("Advance must be a number of seconds >= 0") end
  emu:advance(s)
  return reply(200, { Now = emu:now() })
end

-- request: the transport request {method, url, headers, body}, and server_port when it came
-- over HTTP (the nginx handler says).
function control.handle(emu, request)
  local method = request.method or "GET"
  local scheme, url_host, rest = tostring(request.url or ""):match("^(%a[%w+.-]*)://([^/?#]*)(.*)$")
  local path = (rest or tostring(request.url or "")):match("^[^?#]*")
  local problem = host_problem(request, scheme and scheme:lower(), url_host)
  if problem then return refuse(problem) end
  if method ~= "GET" and method ~= "HEAD" and not is_json(request) then
    return refuse(method .. " " .. path .. " must be sent with Content-Type: application/json (what a web page "
      .. "cannot send to another site without asking first)")
  end
  local body = request.body
  if path == "/_emulator/faults" then
    if method == "POST" then return add_faults(emu, body) end
    if method == "DELETE" then
      emu:clear_faults()
      return reply(200, { Faults = json.array {} })
    end
    if method == "GET" then return reply(200, { Faults = json.array(emu.faults:list()) }) end
  elseif path == "/_emulator/reset" and method == "POST" then
    return reset(emu, body)
  elseif path == "/_emulator/clock" and method == "POST" then
    return clock(emu, body)
  elseif path == "/_emulator/health" and method == "GET" then
    return reply(200, { Ok = true, Now = emu:now(), Ecs = json.array(emu:actions("ecs")),
      Ens = json.array(emu:actions("ens")) })
  end
  return reply(404, { Code = "NotFound", Message = "no control endpoint " .. method .. " " .. path })
end

return control
