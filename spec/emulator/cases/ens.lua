-- ENS: RunServiceSchedule (Start/Stop/Console; PreSchedule/Confirm/Cancel with
-- PreLockedTimeout), RescaleDeviceService, RescaleApplication, BatchEventRedeployInstance.
return function(world)
  describe(world.name .. " emulator: ENS", function()
    before_each(world.reset)

    local function schedule(ens, action, extra)
      local p = { AppId = "app-1", Uuid = "dev-1", ClientIp = "180.166.45.146", ServiceAction = action }
      for k, v in pairs(extra or {}) do p[k] = v end
      return ens:RunServiceSchedule(p)
    end

    it("starts a device on an idle pod, repeats idempotently, shows it on Console and stops it", function()
      local ens = world.ens()
      local res = assert(schedule(ens, "Start", { ServiceCommands = {
        { containerName = "android", commands = { "ls -l /data" } } } }))
      assert.are.equal("false", res.RequestRepeated)
      assert.matches("^i%-", res.InstanceId)
      assert.are.same({ Command = "ls -l /data", ContainerName = "android", ResultMsg = "success" },
        res.CommandResults.CommandResult[1])
      assert.is_number(res.InstancePort)
      assert.is_number(res.Index)
      local again = assert(schedule(ens, "Start"))
      assert.are.equal("true", again.RequestRepeated)
      assert.are.equal(res.InstanceId, again.InstanceId)
      local console = assert(schedule(ens, "Console"))
      assert.is_nil(console.RequestRepeated)
      assert.are.equal(res.InstanceId, console.InstanceId)
      assert(schedule(ens, "Stop"))
      local _, err = schedule(ens, "Console")
      assert.are.same({ "InvalidParameter", 400 }, { err.code, err.status })
      _, err = schedule(ens, "Stop")
      assert.are.equal("InvalidParameter", err.code)
    end)

    it("pre-schedules, confirms and cancels, and lets a lock lapse after PreLockedTimeout", function()
      local ens = world.ens()
      local pre = assert(schedule(ens, "PreSchedule", { PreLockedTimeout = 30 }))
      assert.are.equal("false", pre.RequestRepeated)
      local conf = assert(schedule(ens, "Confirm"))
      assert.are.equal(pre.InstanceId, conf.InstanceId)
      assert(schedule(ens, "Stop"))
      assert(schedule(ens, "PreSchedule", { Uuid = "dev-2" }))
      assert(schedule(ens, "Cancel", { Uuid = "dev-2" }))
      local _, err = schedule(ens, "Confirm", { Uuid = "dev-2" })
      assert.are.equal("InvalidParameter", err.code)
      assert(schedule(ens, "PreSchedule", { Uuid = "dev-3", PreLockedTimeout = 10 }))
      world.advance(11)
      _, err = schedule(ens, "Confirm", { Uuid = "dev-3" })
      assert.are.equal("InvalidParameter", err.code)
      assert.matches("PreLockedTimeout", err.message)
    end)

    it("honours ScheduleStrategy and runs out of idle resources", function()
      local ens = world.ens()
      local strategy = { selectLevel = "RegionId", values = { "cn-shanghai-cmcc" } }
      local seen = {}
      for i = 1, 2 do
        local r = assert(schedule(ens, "Start", { Uuid = "d" .. i, ScheduleStrategy = strategy }))
        seen[r.InstanceId] = true
      end
      assert.are.equal(2, #(function() local l = {} for k in pairs(seen) do l[#l + 1] = k end return l end)())
      local _, err = schedule(ens, "Start", { Uuid = "d3", ScheduleStrategy = strategy })
      assert.are.equal("ens.interface.error", err.code)
      _, err = schedule(ens, "Start", { Uuid = "d4", ScheduleStrategy = "{not json" })
      assert.are.equal("InvalidParameter.ScheduleStrategy", err.code)
      _, err = schedule(ens, "Start", { Uuid = "d5", Directorys = { "/data/../etc" } })
      assert.are.equal("InvalidParameter.Directorys", err.code)
      _, err = schedule(ens, "Start", { Uuid = "d6", ClientIp = "999.1.1.1" })
      assert.are.equal("InvalidParameter.ClientIp", err.code)
    end)

    it("rescales a device service and reports the new devices", function()
      local ens = world.ens()
      local res = assert(ens:RescaleDeviceService { RescaleType = "Add", RescaleLevel = "RegionId",
        ResourceSelector = { { regionCode = "cn-chongqing-1", ispCode = "telecom", count = 2 } },
        ResourceSpec = "ens.ac6.large" })
      assert.are.equal(2, #res.DeviceIds)
      local info = res.ResourceDetailInfos[1]
      assert.are.same({ "cn-chongqing-1", res.DeviceIds[1], "ens.ac6.large", "Running", "telecom" },
        { info.RegionID, info.ID, info.Type, info.Status, info.ISP })
      assert.is_string(res.OrderId)
      local _, err = ens:RescaleDeviceService { RescaleType = "Del", RescaleLevel = "RegionId",
        ResourceSelector = { { regionCode = "cn-chongqing-1", count = 1 } } }
      assert.are.same({ "InvalidParameter.RescaleType", 400 }, { err.code, err.status })
      _, err = ens:RescaleDeviceService { RescaleType = "Add", RescaleLevel = "RegionId",
        ResourceSelector = { { regionCode = "mars-1", count = 1 } } }
      assert.are.equal("InvalidParameter.ResourceSelector", err.code)
    end)

    it("rescales an application, releasing no more than it holds", function()
      local ens = world.ens()
      local sel = { { regionCode = "cn-chengdu-telecom-2", count = 2 } }
      assert(ens:RescaleApplication { AppId = "app-9", RescaleType = "Add", RescaleLevel = "RegionId",
        ResourceSelector = sel })
      assert(ens:RescaleApplication { AppId = "app-9", RescaleType = "Del", RescaleLevel = "RegionId",
        ResourceSelector = { { regionCode = "cn-chengdu-telecom-2", count = 1 } } })
      local _, err = ens:RescaleApplication { AppId = "app-9", RescaleType = "Del", RescaleLevel = "RegionId",
        ResourceSelector = sel }
      assert.are.same({ "InvalidParameter", 400 }, { err.code, err.status })
      _, err = ens:RescaleApplication { AppId = "app-9", RescaleType = "Add", RescaleLevel = "Planet",
        ResourceSelector = sel }
      assert.are.equal("InvalidParameter.RescaleLevel", err.code)
    end)

    it("redeploys events immediately or on schedule, with a result per event", function()
      local ens = world.ens()
      local res = assert(ens:BatchEventRedeployInstance { EventInfos = {
        { EventId = "e-emu0000000000000001", ResourceId = "i-emuens000000000000001", OpsType = "immediate" },
        { EventId = "e-emu0000000000000002", OpsType = "scheduled", PlanTime = (os.time() + 3600) * 1000 },
        { EventId = "e-emu0000000000000003", OpsType = "scheduled" },
        { EventId = "e-nothing" },
      } })
      local codes = {}
      for i, r in ipairs(res.Results) do codes[i] = r.Code end
      assert.are.same({ 200, 200, 400, 404 }, codes)
      assert.are.equal("success", res.Results[1].Message)
      local again = assert(ens:BatchEventRedeployInstance { EventInfos = { { EventId = "e-emu0000000000000001" } } })
      assert.are.equal(400, again.Results[1].Code)
    end)
  end)
end
