-- Cloud assistant (ECS API reference chapter 9): commands, invocations that go from Running to
-- Finished after `invocation` seconds with an output per instance, stopping, the client's
-- installation status, and activation codes for managed instances. Shell scripts are "run"
-- by a tiny interpreter (echo, hostname, uname, exit, true, false, {{parameters}}) so that
-- outputs mean something.
local core = require "aliyun.core"
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local state = require "aliyun.emulator.state"

local raise = errors.raise

local TYPES = { "RunBatScript", "RunPowerShellScript", "RunShellScript" }
local MAX_CONTENT = 16 * 1024

local decode_content = engine.base64

local function check_content(a, required)
  local text = required and a:need("CommandContent") or a:str("CommandContent")
  if text == nil then return nil end
  local encoding = a:enum("ContentEncoding", { "Base64", "PlainText" }, "Base64")
  local raw = text
  if encoding == "Base64" then raw = decode_content(text) end
  if not raw or #raw > MAX_CONTENT then raise("Invalid.CommandContent") end
  return core.base64(raw)
end

local function timeout(a)
  local t = a:int("Timeout", 3600)
  if t < 60 then t = 60 end -- below 60 the service uses 60
  return t
end

local function check_type(v)
  for _, t in ipairs(TYPES) do if t == v then return v end end
  raise("InvalidCmdType.NotFound")
end

local function find_command(ctx, rid, id)
  local c = engine.get(ctx, "command", id)
  if not c or c.RegionId ~= rid then raise("InvalidCmdId.NotFound") end
  return c
end

-- The tiny shell: what a script prints, and its exit code.
local function run_script(content, ctype, inst, parameters)
  local raw = core.base64_decode(content) or ""
  raw = raw:gsub("{{%s*([%w_%-]+)%s*}}", function(k)
    local v = parameters and parameters[k]
    return v ~= nil and tostring(v) or ""
  end)
  if ctype ~= "RunShellScript" then
    return "ran " .. ctype .. " on " .. inst.InstanceId .. " (emulated)\n", 0
  end
  local out, code = {}, 0
  for line in (raw .. "\n"):gmatch("([^\n]*)\n") do
    line = line:match("^%s*(.-)%s*$")
    local word, rest = line:match("^(%S+)%s*(.*)$")
    if word == nil or word:sub(1, 1) == "#" then
      code = code -- blank lines and comments
    elseif word == "echo" then
      out[#out + 1] = (rest:gsub("^[\"'](.*)[\"']$", "%1")) .. "\n"
    elseif word == "hostname" then
      out[#out + 1] = inst.HostName .. "\n"
    elseif word == "uname" then
      out[#out + 1] = (rest:find("a") and ("Linux " .. inst.HostName .. " 5.10.134 x86_64 GNU/Linux") or "Linux") .. "\n"
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

-- The overall status from the per-instance ones, as DescribeInvocations documents it.
local function overall(inv)
  local running, failed, stopped, n = 0, 0, 0, #inv._records
  for _, r in ipairs(inv._records) do
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

engine.hooks.invocation_finish = function(emu, _, inv)
  local now = emu:now()
  for _, r in ipairs(inv._records) do
    if r.status == "Running" then r.status, r.finished = "Finished", now end
  end
  inv.InvokeStatus = overall(inv)
end

local function instances_in(emu, a, ctx, rid, code)
  local ids = a:list("InstanceId")
  if #ids == 0 then errors.missing("InstanceIds") end
  if #ids > 100 then errors.invalid("InstanceId", nil, nil, "At most 100 instances.") end
  local insts = {}
  for i, id in ipairs(ids) do
    local inst = engine.get(ctx, "instance", id)
    if not inst or inst.RegionId ~= rid then raise(code or "InvalidInstance.NotFound") end
    insts[i] = inst
  end
  local _ = emu
  return insts
end

local command_actions = {
  CreateCommand = {
    op = "custom", honours = { "Name", "Type", "CommandContent", "ContentEncoding", "Description", "WorkingDir",
      "Timeout", "EnableParameter", "Tag", "ResourceGroupId" },
    handler = function(emu, a, ctx)
      local rid = engine.region(emu, a)
      local name = a:need("Name")
      local ctype = check_type(a:need("Type"))
      local content = check_content(a, true)
      local tags = engine.tags(a)
      engine.commit(a)
      local c = engine.record(emu, ctx, engine.kinds.command, {
        CommandId = "c-" .. emu.ids:hex(30), RegionId = rid, Name = name, Description = a:str("Description") or "",
        Type = ctype, CommandContent = content, WorkingDir = a:str("WorkingDir") or "", Timeout = timeout(a),
        EnableParameter = a:bool("EnableParameter", false), Tags = tags, InvokeTimes = 0, Latest = true,
        Version = 1, Provider = "", Category = "", ResourceGroupId = a:str("ResourceGroupId") or emu.default_resource_group,
      })
      engine.store(ctx, c)
      return { CommandId = c.CommandId }
    end,
  },
  ModifyCommand = {
    op = "custom", honours = { "CommandId", "Name", "Description", "WorkingDir", "Timeout", "CommandContent" },
    handler = function(emu, a, ctx)
      local rid = engine.region(emu, a)
      local c = find_command(ctx, rid, a:need("CommandId"))
      local content = check_content(a, false)
      engine.commit(a)
      c.Name = a:str("Name") or c.Name
      c.Description = a:str("Description") or c.Description
      c.WorkingDir = a:str("WorkingDir") or c.WorkingDir
      if a:has("Timeout") then c.Timeout = timeout(a) end
      if content then c.CommandContent = content end
      return {}
    end,
  },
  DeleteCommand = {
    op = "custom", honours = { "CommandId" },
    handler = function(emu, a, ctx)
      local rid = engine.region(emu, a)
      local c = find_command(ctx, rid, a:need("CommandId"))
      engine.commit(a)
      -- the invocations keep their own copy of what they ran
      engine.remove(emu, ctx, c)
      return {}
    end,
  },
  DescribeCommands = {
    op = "describe", page_max = 50, ids = { CommandId = "CommandId" },
    filters = { Name = "Name", Description = "Description", Latest = "Latest",
      Type = { field = "Type", enum = TYPES },
      Provider = { field = "Provider", match = function(rec, v) return rec.Provider == v end } },
    honours = { "ContentEncoding" },
    prepare = function(_, a) a:enum("ContentEncoding", { "Base64", "PlainText" }, "Base64") end,
  },
  InvokeCommand = {
    op = "custom", honours = { "CommandId", "InstanceId", "Timed", "Frequency", "Parameters", "RepeatMode", "Tag",
      "ResourceGroupId", "Timeout", "WorkingDir", "Username" },
    handler = function(emu, a, ctx)
      local rid = engine.region(emu, a)
      local c = find_command(ctx, rid, a:need("CommandId"))
      local insts = instances_in(emu, a, ctx, rid)
      local timed = a:bool("Timed", false)
      local repeat_mode = a:enum("RepeatMode", { "Once", "Period", "NextRebootOnly", "EveryReboot" },
        timed and "Period" or "Once")
      local frequency = a:str("Frequency")
      if (timed or repeat_mode == "Period") and not frequency then raise("MissingParameter.Frequency") end
      local parameters = a:json("Parameters")
      local tags = engine.tags(a)
      local t = a:int("Timeout", c.Timeout)
      local workdir, user = a:str("WorkingDir"), a:str("Username")
      for _, inst in ipairs(insts) do
        if inst.Status ~= "Running" then raise("InvalidInstanceStatus") end
        if not inst._assistant then raise("InvalidInstance.NoClient") end
      end
      engine.commit(a)
      local now = emu:now()
      local inv = engine.record(emu, ctx, engine.kinds.invocation, {
        InvokeId = "t-" .. emu.ids:hex(30), RegionId = rid, CommandId = c.CommandId, CommandName = c.Name,
        CommandType = c.Type, CommandContent = c.CommandContent, CommandDescription = c.Description,
        Timed = timed or repeat_mode == "Period", Frequency = frequency or "", RepeatMode = repeat_mode,
        Timeout = t, WorkingDir = workdir or c.WorkingDir, Username = user or "root", Tags = tags,
        Parameters = a:str("Parameters") or "{}", InvokeStatus = "Running", _records = {},
        ResourceGroupId = a:str("ResourceGroupId") or emu.default_resource_group,
      })
      for i, inst in ipairs(insts) do
        local output, code = run_script(c.CommandContent, c.Type, inst, parameters)
        inv._records[i] = { instance = inst.InstanceId, status = "Running", output = output, exit_code = code,
          started = now }
      end
      c.InvokeTimes = c.InvokeTimes + 1
      engine.store(ctx, inv)
      if not inv.Timed then engine.later(emu, ctx, inv, emu.delays.invocation or 0, nil, "invocation_finish") end
      return { InvokeId = inv.InvokeId }
    end,
  },
}

local INVOKE_STATUSES = { "Running", "Finished", "Failed", "PartialFailed", "Stopped", "Pending", "Scheduled",
  "Success" }

local invocation_actions = {
  StopInvocation = {
    op = "custom", honours = { "InvokeId", "InstanceId" },
    handler = function(emu, a, ctx)
      local rid = engine.region(emu, a)
      local inv = engine.get(ctx, "invocation", a:need("InvokeId"))
      if not inv or inv.RegionId ~= rid then raise("InvalidInvokeId.NotFound") end
      local only = a:list("InstanceId")
      engine.commit(a)
      local set = {}
      for _, id in ipairs(only) do set[id] = true end
      local now = emu:now()
      for _, r in ipairs(inv._records) do
        if r.status == "Running" and (#only == 0 or set[r.instance]) then
          r.status, r.finished, r.output, r.exit_code = "Stopped", now, "", -1
        end
      end
      inv.InvokeStatus = overall(inv)
      return {}
    end,
  },
  DescribeInvocations = {
    op = "describe", page_max = 50, ids = { InvokeId = "InvokeId" },
    filters = {
      CommandId = "CommandId", CommandName = "CommandName", CommandType = "CommandType", Timed = "Timed",
      RepeatMode = "RepeatMode",
      InvokeStatus = { field = "InvokeStatus", enum = INVOKE_STATUSES },
      InstanceId = { field = "InstanceId", match = function(rec, v)
        for _, r in ipairs(rec._records) do if r.instance == v then return true end end
        return false
      end },
    },
    honours = { "IncludeOutput", "ContentEncoding" },
    prepare = function(_, a, ctx)
      ctx.include_output = a:bool("IncludeOutput", false)
      ctx.plain = a:enum("ContentEncoding", { "Base64", "PlainText" }, "Base64") == "PlainText"
    end,
    show = function(_, ctx, rec)
      local out = {}
      for k, v in pairs(rec) do out[k] = v end
      local insts = {}
      for k, r in ipairs(rec._records) do
        local output = r.status ~= "Running" and r.output or ""
        insts[k] = { InstanceId = r.instance, InstanceInvokeStatus = r.status, InvocationStatus = r.status,
          CreationTime = state.iso(r.started), StartTime = state.iso(r.started),
          FinishTime = r.finished and state.iso(r.finished) or nil,
          Output = ctx.include_output and (ctx.plain and output or core.base64(output)) or nil,
          ExitCode = r.status ~= "Running" and r.exit_code or nil, Timed = rec.Timed }
      end
      out.InvokeInstances = insts
      out.InvocationStatus = rec.InvokeStatus
      if ctx.plain then out.CommandContent = core.base64_decode(rec.CommandContent) end
      return out
    end,
  },
  DescribeInvocationResults = {
    op = "custom", honours = { "InvokeId", "CommandId", "InstanceId", "InvokeRecordStatus", "ContentEncoding",
      "IncludeHistory", "PageNumber", "PageSize", "NextToken", "MaxResults", "Tag", "ResourceGroupId" },
    handler = function(emu, a, ctx)
      local rid = engine.region(emu, a)
      local invoke_id, command_id, instance = a:str("InvokeId"), a:str("CommandId"), a:str("InstanceId")
      local status = a:enum("InvokeRecordStatus", { "Running", "Finished", "Failed", "Stopped" })
      local plain = a:enum("ContentEncoding", { "Base64", "PlainText" }, "Base64") == "PlainText"
      a:bool("IncludeHistory", false)
      local tags = engine.tags(a)
      local group = a:str("ResourceGroupId")
      local rows = {}
      for _, inv in ipairs(engine.list(ctx, "invocation")) do
        if inv.RegionId == rid and (not invoke_id or inv.InvokeId == invoke_id)
          and (not command_id or inv.CommandId == command_id) and engine.has_tags(inv, tags)
          and (not group or inv.ResourceGroupId == group) then
          for _, r in ipairs(inv._records) do
            if (not instance or r.instance == instance) and (not status or r.status == status) then
              local output = r.status == "Running" and "" or r.output
              rows[#rows + 1] = { CommandId = inv.CommandId, InvokeId = inv.InvokeId, InstanceId = r.instance,
                InvokeRecordStatus = r.status, InvocationStatus = r.status,
                StartTime = state.iso(r.started), FinishedTime = r.finished and state.plain_time(r.finished) or "",
                Output = plain and output or core.base64(output), ExitCode = r.status == "Running" and 0 or r.exit_code,
                Username = inv.Username, Tags = inv.Tags }
            end
          end
        end
      end
      -- the paging fields sit inside Invocation here, so the unfiltered form
      local page, meta = engine.page_items(emu, a, ctx, rows, { page_max = 50 })
      meta.MaxResults = nil
      meta.InvocationResults = { InvocationResult = page }
      return { Invocation = meta }
    end,
  },
  DescribeCloudAssistantStatus = {
    op = "custom", honours = { "InstanceId", "OSType", "PageNumber", "PageSize", "NextToken", "MaxResults" },
    handler = function(emu, a, ctx)
      local rid = engine.region(emu, a)
      local ids = a:list("InstanceId")
      if #ids > 50 then errors.invalid("InstanceId", nil, nil, "At most 50 instances.") end
      local os_type = a:enum("OSType", { "Windows", "Linux" })
      local set = {}
      for _, id in ipairs(ids) do
        if not engine.get(ctx, "instance", id) then raise("InvalidInstance.NotFound", "The specified instances do not exist.") end
        set[id] = true
      end
      local items = engine.list(ctx, "instance", function(i)
        return i.RegionId == rid and (#ids == 0 or set[i.InstanceId])
          and (not os_type or (i.OSType or "linux"):lower() == os_type:lower())
      end)
      local page, meta = engine.page(emu, a, ctx, items, { page_max = 50 })
      local out = {}
      for i, inst in ipairs(page) do
        local n, active, last = 0, 0, nil
        for _, inv in ipairs(engine.list(ctx, "invocation")) do
          for _, r in ipairs(inv._records) do
            if r.instance == inst.InstanceId then
              n = n + 1
              if r.status == "Running" then active = active + 1 end
              last = r.started
            end
          end
        end
        out[i] = { InstanceId = inst.InstanceId, CloudAssistantStatus = inst._assistant and "True" or "False",
          OSType = (inst.OSType or "linux") == "windows" and "Windows" or "Linux",
          CloudAssistantVersion = inst._assistant and "2.2.3.256" or "", InvocationCount = n, ActiveTaskCount = active,
          LastInvokedTime = last and state.iso(last) or "", SupportSessionManager = inst._assistant == true }
      end
      meta.InstanceCloudAssistantStatusSet = { InstanceCloudAssistantStatus = out }
      return meta
    end,
  },
  InstallCloudAssistant = {
    op = "custom", honours = { "InstanceId" },
    handler = function(emu, a, ctx)
      local rid = engine.region(emu, a)
      local insts = instances_in(emu, a, ctx, rid)
      engine.commit(a)
      for _, inst in ipairs(insts) do inst._assistant = true end
      return {}
    end,
  },
}

local activation_actions = {
  CreateActivation = {
    op = "create", honours = {},
    answer = function(_, _, rec) return { ActivationId = rec.ActivationId, ActivationCode = rec._code } end,
    before = function(emu, _, _, rec)
      rec._code = "a-" .. emu.ids:chars(30)
      rec.RegisteredCount, rec.DeregisteredCount, rec.Disabled = 0, 0, false
    end,
  },
  DescribeActivations = {
    op = "describe", page_max = 50, ids = { ActivationId = "ActivationId" }, filters = { InstanceName = "InstanceName" },
  },
  DeleteActivation = {
    op = "custom", honours = { "ActivationId" },
    handler = function(emu, a, ctx)
      local rec = engine.find(ctx, "activation", a:need("ActivationId"), engine.region(emu, a))
      engine.commit(a)
      engine.remove(emu, ctx, rec)
      return { Activation = rec }
    end,
  },
}

local command = {
  name = "command", product = "ecs", id = "CommandId", scope = "region", name_field = "Name",
  not_found = "InvalidCmdId.NotFound", tag_type = "command",
  roundtrip = {
    create = { "CreateCommand", function(fx)
      return { RegionId = fx.region, Name = "rt", Type = "RunShellScript", CommandContent = "ZWNobyBydA==" }
    end },
    describe = { "DescribeCommands", function(fx, id) return { RegionId = fx.region, CommandId = id } end },
    modify = { "ModifyCommand", function(fx, id) return { RegionId = fx.region, CommandId = id, Name = "renamed" } end,
      "Name", "renamed" },
    delete = { "DeleteCommand", function(fx, id) return { RegionId = fx.region, CommandId = id } end },
    not_found = "InvalidCmdId.NotFound",
  }, fields = {}, actions = command_actions,
}

local invocation = {
  name = "invocation", product = "ecs", id = "InvokeId", scope = "region",
  not_found = "InvalidInvokeId.NotFound", fields = {}, actions = invocation_actions,
}

local activation = {
  name = "activation", product = "ecs", id = "ActivationId", prefix = "act", scope = "region",
  not_found = "InvalidActivationId.NotFound", tag_type = "activation",
  roundtrip = {
    create = { "CreateActivation", function(fx) return { RegionId = fx.region, InstanceName = "managed" } end },
    describe = { "DescribeActivations", function(fx, id) return { RegionId = fx.region, ActivationId = id } end },
    delete = { "DeleteActivation", function(fx, id) return { RegionId = fx.region, ActivationId = id } end },
    not_found = "InvalidActivationId.NotFound",
  },
  fields = {
    Description = { check = "description", code = "InvalidDescription.Malformed", default = "" },
    InstanceName = { check = "name", code = "InvalidInstanceName.Malformed", default = "" },
    InstanceCount = { min = 1, max = 1000, default = 10 },
    TimeToLiveInHours = { min = 1, max = 876000, default = 4 },
    IpAddressRange = { default = "0.0.0.0/0" },
  },
  actions = activation_actions,
}

return { command, invocation, activation }
