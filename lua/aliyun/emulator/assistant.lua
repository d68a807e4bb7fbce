-- Cloud assistant (ECS API reference chapter 9): commands, invocations that go from Running
-- to Finished after emu.delays.invocation seconds with an output per instance, stopping,
-- and the client's installation status. Shell scripts are "run" by a tiny interpreter
-- (echo, hostname, uname, exit, {{parameters}}) so that outputs are meaningful.
local core = require "aliyun.core"
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"
local regions = require "aliyun.emulator.regions"
local state = require "aliyun.emulator.state"

local assistant = { product = "ecs", actions = {} }
local A = assistant.actions

local arr = json.array
local raise = errors.raise

local TYPES = { "RunBatScript", "RunPowerShellScript", "RunShellScript" }
local MAX_CONTENT = 16 * 1024

function assistant.init(emu)
  emu.db.commands = state.collection()
  emu.db.invocations = state.collection()
end

-- Running invocations finish once their time has come (periodic ones never do).
function assistant.tick(emu, now)
  for _, inv in ipairs(emu.db.invocations:list()) do
    if not inv.timed then
      for _, r in ipairs(inv.records) do
        if r.status == "Running" and now >= inv.finish_at then
          r.status, r.finished = "Finished", inv.finish_at
        end
      end
    end
  end
end

local function decode_content(text)
  if not text:match("^[%w+/]*=?=?$") or #text % 4 ~= 0 then return nil end
  local ok, raw = pcall(core.base64_decode, text)
  if not ok then return nil end
  return raw
end

local function check_content(a, required)
  local text = required and a:need("CommandContent") or a:str("CommandContent")
  if text == nil then return nil end
  local encoding = a:enum("ContentEncoding", { "Base64", "PlainText" }, "Base64")
  local raw = text
  if encoding == "Base64" then raw = decode_content(text) end
  if not raw or #raw > MAX_CONTENT then
    raise("Invalid.CommandContent", "The specified CommandContent is not valid or exceed max size.", 400)
  end
  return core.base64(raw)
end

local function timeout(a)
  local t = a:int("Timeout", 3600)
  if t < 60 then t = 60 end -- below 60 the service uses 60
  return t
end

A.CreateCommand = function(emu, a)
  local rid = regions.region(emu, a)
  local name = a:need("Name")
  local ctype = a:need("Type")
  local ok = false
  for _, t in ipairs(TYPES) do if t == ctype then ok = true end end
  if not ok then raise("InvalidCmdType.NotFound", "The specified command type does not exist.", 404) end
  local content = check_content(a, true)
  local c = { id = "c-" .. emu.ids:hex(30), region = rid, name = name, description = a:str("Description") or "",
    type = ctype, content = content, working_dir = a:str("WorkingDir") or "", timeout = timeout(a),
    enable_parameter = a:bool("EnableParameter", false), created = emu:now() }
  emu.db.commands:add(c.id, c)
  return { CommandId = c.id }
end

local function find_command(emu, rid, id)
  local c = emu.db.commands:get(id)
  if not c or c.region ~= rid or c.deleted then
    raise("InvalidCmdId.NotFound", "The specified commandId does not exist.", 404)
  end
  return c
end

A.ModifyCommand = function(emu, a)
  local rid = regions.region(emu, a)
  local c = find_command(emu, rid, a:need("CommandId"))
  local content = check_content(a, false)
  c.name = a:str("Name") or c.name
  c.description = a:str("Description") or c.description
  c.working_dir = a:str("WorkingDir") or c.working_dir
  if a:has("Timeout") then c.timeout = timeout(a) end
  if content then c.content = content end
  return {}
end

A.DeleteCommand = function(emu, a)
  local rid = regions.region(emu, a)
  local c = find_command(emu, rid, a:need("CommandId"))
  -- the invocations' records are kept, so the command stays known to them
  c.deleted = true
  emu.db.commands:remove(c.id)
  emu.db.deleted_commands = emu.db.deleted_commands or {}
  emu.db.deleted_commands[c.id] = c
  return {}
end

local function describe_command(c)
  return { CommandId = c.id, Name = c.name, Description = c.description, Type = c.type,
    CommandContent = c.content, WorkingDir = c.working_dir, Timeout = c.timeout,
    EnableParameter = c.enable_parameter, CreationTime = state.iso(c.created) }
end

A.DescribeCommands = function(emu, a)
  local rid = regions.region(emu, a)
  local id, name, desc = a:str("CommandId"), a:str("Name"), a:str("Description")
  local ctype = a:str("Type")
  if ctype then
    local ok = false
    for _, t in ipairs(TYPES) do if t == ctype then ok = true end end
    if not ok then errors.invalid("Type") end
  end
  local items = emu.db.commands:list(function(c)
    return c.region == rid and (not id or c.id == id) and (not name or c.name == name)
      and (not desc or c.description == desc) and (not ctype or c.type == ctype)
  end)
  local page, meta = a:page(emu, items, 50, { tokens = true })
  local out = arr {}
  for i, c in ipairs(page) do out[i] = describe_command(c) end
  meta.Commands = { Command = out }
  return meta
end

-- The tiny shell: what a script prints, and its exit code.
local function run_script(c, inst, parameters)
  local raw = core.base64_decode(c.content) or ""
  raw = raw:gsub("{{%s*([%w_%-]+)%s*}}", function(k)
    local v = parameters and parameters[k]
    return v ~= nil and tostring(v) or ""
  end)
  local out, code = {}, 0
  if c.type ~= "RunShellScript" then
    return "ran " .. c.type .. " on " .. inst.id .. " (emulated)\n", 0
  end
  for line in (raw .. "\n"):gmatch("([^\n]*)\n") do
    line = line:match("^%s*(.-)%s*$")
    local word, rest = line:match("^(%S+)%s*(.*)$")
    if word == nil or word:sub(1, 1) == "#" then
      code = code -- blank lines and comments
    elseif word == "echo" then
      out[#out + 1] = (rest:gsub("^[\"'](.*)[\"']$", "%1")) .. "\n"
    elseif word == "hostname" then
      out[#out + 1] = inst.host .. "\n"
    elseif word == "uname" then
      out[#out + 1] = (rest:find("a") and ("Linux " .. inst.host .. " 5.10.134 x86_64 GNU/Linux") or "Linux") .. "\n"
    elseif word == "exit" then
      code = tonumber(rest) or 0
      break
    elseif word == "true" then
      code = 0
    elseif word == "false" then
      code = 1
    else
      out[#out + 1] = "sh: " .. word .. ": emulated, no output\n"
    end
  end
  return table.concat(out), code
end

A.InvokeCommand = function(emu, a)
  local rid = regions.region(emu, a)
  local c = find_command(emu, rid, a:need("CommandId"))
  local ids = a:list("InstanceId")
  if #ids == 0 then errors.missing("InstanceIds") end
  if #ids > 100 then errors.invalid("InstanceId", nil, 400, "At most 100 instances.") end
  local timed = a:bool("Timed", false)
  local frequency = a:str("Frequency")
  if timed and not frequency then
    raise("MissingParameter.Frequency", "The frequency parameter must exist when create a timed Invocation.", 400)
  end
  local parameters = a:json("Parameters")
  local insts = {}
  for i, id in ipairs(ids) do
    local inst = emu.db.instances:get(id)
    if not inst or inst.region ~= rid then
      raise("InvalidInstance.NotFound", "The specified instances does not exist.", 404)
    end
    insts[i] = inst
  end
  for _, inst in ipairs(insts) do
    if inst.status ~= "Running" then
      raise("InvalidInstanceStatus", "The specified instance's status can not execute this operation.", 400)
    end
    if not inst.assistant then
      raise("InvalidInstance.NoClient", "The specified instances have no cloud assistant client installed.", 400)
    end
  end
  local now = emu:now()
  local inv = { id = "t-" .. emu.ids:hex(30), region = rid, command = c, timed = timed, frequency = frequency or "",
    created = now, finish_at = now + emu.delays.invocation, records = {} }
  for i, inst in ipairs(insts) do
    local output, code = run_script(c, inst, parameters)
    inv.records[i] = { instance = inst.id, status = "Running", output = output, exit_code = code, started = now }
  end
  emu.db.invocations:add(inv.id, inv)
  if not timed and emu.delays.invocation <= 0 then assistant.tick(emu, now) end
  return { InvokeId = inv.id }
end

-- The overall status from the per-instance ones, as DescribeInvocations documents it.
local function overall(inv)
  local running, failed, stopped, n = 0, 0, 0, #inv.records
  for _, r in ipairs(inv.records) do
    if r.status == "Running" then running = running + 1
    elseif r.status == "Failed" then failed = failed + 1
    elseif r.status == "Stopped" then stopped = stopped + 1 end
  end
  if running > 0 then return "Running" end
  if stopped == n then return "Stopped" end
  if failed == n then return "Failed" end
  if failed > 0 then return "PartialFailed" end
  return "Finished"
end

A.StopInvocation = function(emu, a)
  local rid = regions.region(emu, a)
  local inv = emu.db.invocations:get(a:need("InvokeId"))
  if not inv or inv.region ~= rid then
    raise("InvalidInvokeId.NotFound", "The specified InvokeId does not exist.", 400)
  end
  local only = a:list("InstanceId")
  local set = {}
  for _, id in ipairs(only) do set[id] = true end
  local now = emu:now()
  for _, r in ipairs(inv.records) do
    if r.status == "Running" and (#only == 0 or set[r.instance]) then
      r.status, r.finished, r.output, r.exit_code = "Stopped", now, "", -1
    end
  end
  return {}
end

local INVOKE_STATUSES = { "Running", "Finished", "Failed", "PartialFailed", "Stopped" }

A.DescribeInvocations = function(emu, a)
  local rid = regions.region(emu, a)
  local invoke_id, command_id, name = a:str("InvokeId"), a:str("CommandId"), a:str("CommandName")
  local ctype = a:str("CommandType") or a:str("Type")
  local status = a:enum("InvokeStatus", INVOKE_STATUSES)
  local timed = a:bool("Timed")
  local instance = a:str("InstanceId")
  local include_output = a:bool("IncludeOutput", false)
  local items = emu.db.invocations:list(function(inv)
    if inv.region ~= rid then return false end
    if invoke_id and inv.id ~= invoke_id then return false end
    if command_id and inv.command.id ~= command_id then return false end
    if name and inv.command.name ~= name then return false end
    if ctype and inv.command.type ~= ctype then return false end
    if timed ~= nil and inv.timed ~= timed then return false end
    if status and overall(inv) ~= status then return false end
    if instance then
      local found = false
      for _, r in ipairs(inv.records) do if r.instance == instance then found = true end end
      if not found then return false end
    end
    return true
  end)
  local page, meta = a:page(emu, items, 50, { tokens = true })
  local out = arr {}
  for i, inv in ipairs(page) do
    local insts = arr {}
    for k, r in ipairs(inv.records) do
      insts[k] = { InstanceId = r.instance, InstanceInvokeStatus = r.status, InvocationStatus = r.status,
        Output = include_output and core.base64(r.output) or nil, ExitCode = r.status ~= "Running" and r.exit_code or nil }
    end
    out[i] = { InvokeId = inv.id, CommandId = inv.command.id, CommandName = inv.command.name,
      CommandType = inv.command.type, CommandContent = inv.command.content, InvokeStatus = overall(inv),
      Timed = inv.timed, Frequency = inv.frequency, CreationTime = state.iso(inv.created),
      InvokeInstances = { InvokeInstance = insts } }
  end
  meta.Invocations = { Invocation = out }
  return meta
end

A.DescribeInvocationResults = function(emu, a)
  local rid = regions.region(emu, a)
  local invoke_id, command_id, instance = a:str("InvokeId"), a:str("CommandId"), a:str("InstanceId")
  local status = a:enum("InvokeRecordStatus", { "Running", "Finished", "Failed", "Stopped" })
  local rows = {}
  for _, inv in ipairs(emu.db.invocations:list()) do
    if inv.region == rid and (not invoke_id or inv.id == invoke_id)
      and (not command_id or inv.command.id == command_id) then
      for _, r in ipairs(inv.records) do
        if (not instance or r.instance == instance) and (not status or r.status == status) then
          rows[#rows + 1] = { CommandId = inv.command.id, InvokeId = inv.id, InstanceId = r.instance,
            InvokeRecordStatus = r.status, InvocationStatus = r.status,
            FinishedTime = r.finished and state.plain_time(r.finished) or "",
            Output = r.status == "Running" and "" or core.base64(r.output),
            ExitCode = r.status == "Running" and 0 or r.exit_code }
        end
      end
    end
  end
  local page, meta = a:page(emu, rows, 50, { tokens = true })
  meta.InvocationResults = { InvocationResult = arr(page) }
  return { Invocation = meta }
end

A.DescribeCloudAssistantStatus = function(emu, a)
  local rid = regions.region(emu, a)
  local ids = a:list("InstanceId")
  if #ids > 50 then errors.invalid("InstanceId", nil, 400, "At most 50 instances.") end
  local a_os = a:enum("OSType", { "Windows", "Linux" })
  local set = {}
  for _, id in ipairs(ids) do
    if not emu.db.instances:get(id) then
      raise("InvalidInstance.NotFound", "The specified instances do not exist.", 404)
    end
    set[id] = true
  end
  local items = emu.db.instances:list(function(i)
    return i.region == rid and (#ids == 0 or set[i.id]) and (a_os ~= "Windows")
  end)
  local page, meta = a:page(emu, items, 50, { tokens = true })
  local out = arr {}
  for i, inst in ipairs(page) do
    out[i] = { InstanceId = inst.id, CloudAssistantStatus = inst.assistant and "True" or "False",
      OSType = "Linux", CloudAssistantVersion = inst.assistant and "2.2.3.256" or "" }
  end
  meta.InstanceCloudAssistantStatusSet = { InstanceCloudAssistantStatus = out }
  -- the shape of the reference's example as well
  meta.InstanceCloudAssistantStatus = { InstanceCloudAssistantStatusSet = out }
  return meta
end

A.InstallCloudAssistant = function(emu, a)
  local rid = regions.region(emu, a)
  local ids = a:list("InstanceId")
  if #ids == 0 then errors.missing("InstanceIds") end
  if #ids > 100 then errors.invalid("InstanceId", nil, 400, "At most 100 instances.") end
  local insts = {}
  for i, id in ipairs(ids) do
    local inst = emu.db.instances:get(id)
    if not inst or inst.region ~= rid then
      raise("InvalidInstance.NotFound", "The specified instances do not exist.", 404)
    end
    insts[i] = inst
  end
  for _, inst in ipairs(insts) do inst.assistant = true end
  return {}
end

return assistant
