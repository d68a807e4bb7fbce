-- Monitoring: deterministic series honouring StartTime, EndTime and Period, the window
-- rules, full status, history events, console output and screenshot.
local core = require "aliyun.core"

return function(world)
  describe(world.name .. " emulator: monitoring", function()
    before_each(world.reset)
    local R = "cn-hangzhou"

    local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end
    local function minute(t) return t - t % 60 end

    local function first_instance(ecs)
      return assert(ecs:DescribeInstances { RegionId = R }).Instances.Instance[1]
    end

    it("gives instance data at Period steps between StartTime and EndTime, the same every time", function()
      local ecs = world.ecs()
      local inst = first_instance(ecs)
      local s = minute(os.time()) - 3600
      local q = { InstanceId = inst.InstanceId, StartTime = iso(s), EndTime = iso(s + 600), Period = 60 }
      local a = assert(ecs:DescribeInstanceMonitorData(q)).MonitorData.InstanceMonitorData
      assert.are.equal(11, #a)
      assert.are.equal(iso(s), a[1].TimeStamp)
      assert.are.equal(iso(s + 600), a[11].TimeStamp)
      assert.is_true(a[1].CPU >= 1 and a[1].CPU <= 95)
      assert.are.equal(math.floor((a[1].IntranetRX + a[1].IntranetTX) / 60), a[1].IntranetBandwidth)
      local b = assert(ecs:DescribeInstanceMonitorData(q)).MonitorData.InstanceMonitorData
      assert.are.same(a, b)
      q.Period = 600
      assert.are.equal(2, #assert(ecs:DescribeInstanceMonitorData(q)).MonitorData.InstanceMonitorData)
      -- seconds other than 00 round up to the next minute
      q.Period, q.StartTime = 60, iso(s + 1)
      local c = assert(ecs:DescribeInstanceMonitorData(q)).MonitorData.InstanceMonitorData
      assert.are.equal(iso(s + 60), c[1].TimeStamp)
    end)

    it("applies the window rules with their error codes", function()
      local ecs = world.ecs()
      local id = first_instance(ecs).InstanceId
      local s = minute(os.time()) - 7200
      local function code(p)
        p.InstanceId = id
        local _, err = ecs:DescribeInstanceMonitorData(p)
        return err and err.code, err and err.status
      end
      assert.are.same({ "InvalidPeriod.ValueNotSupported", 400 }, { code { StartTime = iso(s), EndTime = iso(s + 60),
        Period = 120 } })
      assert.are.same({ "InvalidParameter.TooManyDataQueried", 400 }, { code { StartTime = iso(s - 86400),
        EndTime = iso(s), Period = 60 } })
      assert.are.same({ "InvalidStartTime.TooEarly", 400 }, { code { StartTime = iso(s - 40 * 86400),
        EndTime = iso(s - 40 * 86400 + 60) } })
      assert.are.same({ "InvalidStartTime.Malformed", 400 }, { code { StartTime = "yesterday", EndTime = iso(s) } })
      assert.are.same({ "InvalidEndTime.Malformed", 400 }, { code { StartTime = iso(s), EndTime = "2024-13-01" } })
      local _, err = ecs:DescribeInstanceMonitorData { InstanceId = "i-none", StartTime = iso(s), EndTime = iso(s) }
      assert.are.equal("InvalidInstanceId.NotFound", err.code)
    end)

    it("measures disks in use and ENIs", function()
      local ecs = world.ecs()
      local inst = first_instance(ecs)
      local sys = assert(ecs:DescribeDisks { RegionId = R, InstanceId = inst.InstanceId, DiskType = "system" })
        .Disks.Disk[1]
      local s = minute(os.time()) - 600
      local d = assert(ecs:DescribeDiskMonitorData { DiskId = sys.DiskId, StartTime = iso(s), EndTime = iso(s + 120) })
      assert.are.equal(3, d.TotalCount)
      local p = d.MonitorData.DiskMonitorData[2]
      assert.are.equal(p.BPSRead + p.BPSWrite, p.BPSTotal)
      assert.are.equal(sys.DiskId, p.DiskId)
      local free = assert(ecs:CreateDisk { RegionId = R, ZoneId = inst.ZoneId, Size = 20 }).DiskId
      assert.are.equal(0, assert(ecs:DescribeDiskMonitorData { DiskId = free, StartTime = iso(s),
        EndTime = iso(s + 120) }).TotalCount)
      local _, err = ecs:DescribeDiskMonitorData { DiskId = "d-none", StartTime = iso(s), EndTime = iso(s) }
      assert.are.equal("InvalidDiskId.NotFound", err.code)
      local e = assert(ecs:DescribeEniMonitorData { RegionId = R, InstanceId = inst.InstanceId, StartTime = iso(s),
        EndTime = iso(s + 180) })
      assert.are.equal(4, #e.MonitorData.EniMonitorData)
      assert.matches("^eni%-", e.MonitorData.EniMonitorData[1].EniId)
    end)

    it("reports full status with scheduled events, and history events with filters", function()
      local ecs = world.ecs()
      local fs = assert(ecs:DescribeInstancesFullStatus { RegionId = R })
      assert.are.equal(3, fs.TotalCount)
      local first = fs.InstanceFullStatusSet.InstanceFullStatusType[1]
      assert.are.same({ Code = 1, Name = "Running" }, first.Status)
      assert.are.same({ Code = 64, Name = "Warning" }, first.HealthStatus)
      local ev = first.ScheduledSystemEventSet.ScheduledSystemEventType[1]
      assert.are.same({ Code = 24, Name = "Scheduled" }, ev.EventCycleStatus)
      assert.are.same({ Code = 1, Name = "SystemMaintenance.Reboot" }, ev.EventType)
      local second = fs.InstanceFullStatusSet.InstanceFullStatusType[2]
      assert.are.same({}, second.ScheduledSystemEventSet.ScheduledSystemEventType)
      local one = assert(ecs:DescribeInstancesFullStatus { RegionId = R, InstanceId = { second.InstanceId } })
      assert.are.equal(1, one.TotalCount)
      local _, err = ecs:DescribeInstancesFullStatus { RegionId = R, Status = "Dreaming" }
      assert.are.same({ "InvalidParameter", 403 }, { err.code, err.status })
      local h = assert(ecs:DescribeInstanceHistoryEvents { RegionId = R })
      assert.are.equal(3, h.TotalCount)
      local done = assert(ecs:DescribeInstanceHistoryEvents { RegionId = R, EventCycleStatus = "Executed" })
      assert.are.equal(1, done.TotalCount)
      local e = done.InstanceSystemEventSet.InstanceSystemEventType[1]
      assert.are.same({ Code = 0, Name = "Executed" }, e.EventCycleStatus)
      assert.are_not.equal("", e.EventFinishTime)
      _, err = ecs:DescribeInstanceHistoryEvents { RegionId = R, EventCycleStatus = "Pondering" }
      assert.are.same({ "InvalidParameter", 403 }, { err.code, err.status })
      local ids = {}
      for i = 1, 101 do ids[i] = "e-" .. i end
      _, err = ecs:DescribeInstanceHistoryEvents { RegionId = R, EventId = ids }
      assert.are.same({ "EventIdLimitExceeded", 403 }, { err.code, err.status })
    end)

    it("returns the console output and a JPEG screenshot in base64 for running instances", function()
      local ecs = world.ecs()
      local inst = first_instance(ecs)
      local out = assert(ecs:GetInstanceConsoleOutput { RegionId = R, InstanceId = inst.InstanceId })
      assert.are.equal(inst.InstanceId, out.InstanceId)
      assert.matches(inst.HostName .. " login:", core.base64_decode(out.ConsoleOutput))
      local shot = assert(ecs:GetInstanceScreenshot { RegionId = R, InstanceId = inst.InstanceId })
      local jpeg = core.base64_decode(shot.Screenshot)
      assert.are.equal("\255\216\255", jpeg:sub(1, 3))
      assert.are.equal("\255\217", jpeg:sub(-2))
      local _, err = ecs:GetInstanceScreenshot { RegionId = R, InstanceId = "i-none" }
      assert.are.same({ "InvalidParameter", 404 }, { err.code, err.status })
      assert(ecs:StopInstance { InstanceId = inst.InstanceId })
      world.advance(3)
      -- history events select by their instance's tags and resource group
      local R2 = "cn-hangzhou"
      local all = assert(ecs:DescribeInstanceHistoryEvents { RegionId = R2 }).InstanceSystemEventSet.InstanceSystemEventType
      assert.is_true(#all > 0)
      assert(ecs:TagResources { RegionId = R2, ResourceType = "instance", ResourceId = { all[1].InstanceId },
        Tag = { { Key = "watch", Value = "yes" } } })
      local tagged = assert(ecs:DescribeInstanceHistoryEvents { RegionId = R2, Tag = { { Key = "watch", Value = "yes" } } })
      assert.are.equal(#all, tagged.TotalCount)
      assert.are.equal(0, assert(ecs:DescribeInstanceHistoryEvents { RegionId = R2, ResourceGroupId = "rg-aek2none" })
        .TotalCount)
      _, err = ecs:GetInstanceConsoleOutput { RegionId = R, InstanceId = inst.InstanceId }
      assert.are.same({ "IncorrectInstanceStatus", 405 }, { err.code, err.status })
      local data = assert(ecs:DescribeInstanceMonitorData { InstanceId = inst.InstanceId,
        StartTime = iso(minute(os.time()) - 300), EndTime = iso(minute(os.time()) - 60) })
      assert.are.same({}, data.MonitorData.InstanceMonitorData) -- a stopped instance reports nothing
    end)
  end)
end
