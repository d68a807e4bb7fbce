-- Cloud assistant: commands, invocations Running -> Finished with per-instance output,
-- stopping, results, installation status and install.
local core = require "aliyun.core"

return function(world)
  describe(world.name .. " emulator: cloud assistant", function()
    before_each(world.reset)
    local R = "cn-hangzhou"

    local function instances(ecs)
      return assert(ecs:DescribeInstances { RegionId = R }).Instances.Instance
    end

    local function command(ecs, script, extra)
      local p = { RegionId = R, Name = "hello", Type = "RunShellScript", CommandContent = core.base64(script) }
      for k, v in pairs(extra or {}) do p[k] = v end
      return assert(ecs:CreateCommand(p)).CommandId
    end

    it("creates, describes, modifies and deletes commands", function()
      local ecs = world.ecs()
      local id = command(ecs, "echo hi", { Description = "says hi", Timeout = 30 })
      assert.matches("^c%-", id)
      local c = assert(ecs:DescribeCommands { RegionId = R, CommandId = id }).Commands.Command[1]
      assert.are.same({ "hello", "says hi", "RunShellScript", core.base64("echo hi"), 60 },
        { c.Name, c.Description, c.Type, c.CommandContent, c.Timeout })
      assert(ecs:ModifyCommand { RegionId = R, CommandId = id, Name = "hello2", CommandContent = core.base64("echo yo") })
      c = assert(ecs:DescribeCommands { RegionId = R, Name = "hello2" }).Commands.Command[1]
      assert.are.equal(core.base64("echo yo"), c.CommandContent)
      assert(ecs:DeleteCommand { RegionId = R, CommandId = id })
      assert.are.equal(0, assert(ecs:DescribeCommands { RegionId = R }).TotalCount)
      local _, err = ecs:DeleteCommand { RegionId = R, CommandId = id }
      assert.are.same({ "InvalidCmdId.NotFound", 404 }, { err.code, err.status })
      _, err = ecs:ModifyCommand { RegionId = R, CommandId = "c-none", Name = "x" }
      assert.are.same({ "InvalidCmdId.NotFound", 404 }, { err.code, err.status })
    end)

    it("checks command types and content", function()
      local ecs = world.ecs()
      local _, err = ecs:CreateCommand { RegionId = R, Name = "x", Type = "RunPythonScript", CommandContent = "ZQ==" }
      assert.are.same({ "InvalidCmdType.NotFound", 404 }, { err.code, err.status })
      _, err = ecs:CreateCommand { RegionId = R, Name = "x", Type = "RunShellScript", CommandContent = "%%%" }
      assert.are.same({ "Invalid.CommandContent", 400 }, { err.code, err.status })
      _, err = ecs:CreateCommand { RegionId = R, Name = "x", Type = "RunShellScript",
        CommandContent = core.base64(string.rep("x", 16 * 1024 + 1)) }
      assert.are.equal("Invalid.CommandContent", err.code)
      _, err = ecs:CreateCommand { RegionId = "xx-none", Name = "x", Type = "RunShellScript", CommandContent = "ZQ==" }
      assert.are.same({ "InvalidRegionId.NotFound", 404 }, { err.code, err.status })
    end)

    it("runs an invocation from Running to Finished with each instance's output", function()
      local ecs = world.ecs()
      local insts = instances(ecs)
      local id = command(ecs, "echo hello from {{name}}\nhostname\nexit 3", { EnableParameter = true })
      local inv = assert(ecs:InvokeCommand { RegionId = R, CommandId = id,
        InstanceId = { insts[1].InstanceId, insts[2].InstanceId }, Parameters = { name = "specs" } }).InvokeId
      assert.matches("^t%-", inv)
      local d = assert(ecs:DescribeInvocations { RegionId = R, InvokeId = inv }).Invocations.Invocation[1]
      assert.are.equal("Running", d.InvokeStatus)
      assert.are.equal(2, #d.InvokeInstances.InvokeInstance)
      assert.are.equal("Running", d.InvokeInstances.InvokeInstance[1].InstanceInvokeStatus)
      world.advance(3)
      d = assert(ecs:DescribeInvocations { RegionId = R, InvokeId = inv }).Invocations.Invocation[1]
      assert.are.equal("Finished", d.InvokeStatus)
      local res = assert(ecs:DescribeInvocationResults { RegionId = R, InvokeId = inv })
      assert.are.equal(2, res.Invocation.TotalCount)
      local r1 = res.Invocation.InvocationResults.InvocationResult[1]
      assert.are.same({ "Finished", 3, insts[1].InstanceId }, { r1.InvokeRecordStatus, r1.ExitCode, r1.InstanceId })
      assert.are.equal("hello from specs\n" .. insts[1].HostName .. "\n", core.base64_decode(r1.Output))
      assert.matches("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$", r1.FinishedTime)
      local only = assert(ecs:DescribeInvocationResults { RegionId = R, InvokeId = inv,
        InstanceId = insts[2].InstanceId })
      assert.are.equal(1, only.Invocation.TotalCount)
      assert.are.equal(1, assert(ecs:DescribeInvocations { RegionId = R, InvokeStatus = "Finished" }).TotalCount)
    end)

    it("stops a running invocation, and keeps periodic ones running until stopped", function()
      local ecs = world.ecs()
      local insts = instances(ecs)
      local id = command(ecs, "echo tick")
      local inv = assert(ecs:InvokeCommand { RegionId = R, CommandId = id, InstanceId = { insts[1].InstanceId } }).InvokeId
      assert(ecs:StopInvocation { RegionId = R, InvokeId = inv })
      world.advance(5)
      local d = assert(ecs:DescribeInvocations { RegionId = R, InvokeId = inv }).Invocations.Invocation[1]
      assert.are.equal("Stopped", d.InvokeStatus)
      local _, err = ecs:InvokeCommand { RegionId = R, CommandId = id, InstanceId = { insts[1].InstanceId }, Timed = true }
      assert.are.same({ "MissingParameter.Frequency", 400 }, { err.code, err.status })
      local timed = assert(ecs:InvokeCommand { RegionId = R, CommandId = id, InstanceId = { insts[1].InstanceId },
        Timed = true, Frequency = "0 */20 * * * *" }).InvokeId
      world.advance(60)
      d = assert(ecs:DescribeInvocations { RegionId = R, InvokeId = timed }).Invocations.Invocation[1]
      assert.are.same({ "Running", true, "0 */20 * * * *" }, { d.InvokeStatus, d.Timed, d.Frequency })
      assert(ecs:StopInvocation { RegionId = R, InvokeId = timed })
      _, err = ecs:StopInvocation { RegionId = R, InvokeId = "t-none" }
      assert.are.same({ "InvalidInvokeId.NotFound", 400 }, { err.code, err.status })
    end)

    it("refuses instances without the client until it is installed, and stopped ones", function()
      local ecs = world.ecs()
      local insts = instances(ecs)
      local third = insts[3].InstanceId
      local st = assert(ecs:DescribeCloudAssistantStatus { RegionId = R, InstanceId = { insts[1].InstanceId, third } })
      local set = st.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus
      assert.are.same({ "True", "False" }, { set[1].CloudAssistantStatus, set[2].CloudAssistantStatus })
      local id = command(ecs, "echo hi")
      local _, err = ecs:InvokeCommand { RegionId = R, CommandId = id, InstanceId = { third } }
      assert.are.same({ "InvalidInstance.NoClient", 400 }, { err.code, err.status })
      assert(ecs:InstallCloudAssistant { RegionId = R, InstanceId = { third } })
      st = assert(ecs:DescribeCloudAssistantStatus { RegionId = R, InstanceId = { third } })
      assert.are.equal("True", st.InstanceCloudAssistantStatusSet.InstanceCloudAssistantStatus[1].CloudAssistantStatus)
      assert(ecs:InvokeCommand { RegionId = R, CommandId = id, InstanceId = { third } })
      assert(ecs:StopInstance { InstanceId = third })
      world.advance(3)
      _, err = ecs:InvokeCommand { RegionId = R, CommandId = id, InstanceId = { third } }
      assert.are.same({ "InvalidInstanceStatus", 400 }, { err.code, err.status })
      _, err = ecs:InvokeCommand { RegionId = R, CommandId = id, InstanceId = { "i-none" } }
      assert.are.same({ "InvalidInstance.NotFound", 404 }, { err.code, err.status })
      _, err = ecs:InstallCloudAssistant { RegionId = R, InstanceId = { "i-none" } }
      assert.are.same({ "InvalidInstance.NotFound", 404 }, { err.code, err.status })
      _, err = ecs:InvokeCommand { RegionId = R, CommandId = "c-none", InstanceId = { third } }
      assert.are.same({ "InvalidCmdId.NotFound", 404 }, { err.code, err.status })
      _, err = ecs:call("InvokeCommand", { RegionId = R, CommandId = id }, { validate = false })
      assert.are.same({ "MissingParameter.InstanceIds", 400 }, { err.code, err.status })
    end)
  end)
end
