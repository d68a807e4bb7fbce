-- ENS instances: RunInstances (placement, network, disks, names, checks), DescribeInstances
-- filters and paging, the Pending/Starting/Stopping states and their delays, attribute
-- changes, the billing actions and their effect on the record, releases and what goes with
-- them, and the tag actions.
return function(world)
  describe(world.name .. " emulator: ENS instances", function()
    before_each(world.reset)
    local N, N2 = "cn-chengdu-telecom-2", "cn-wuxi-telecom_unicom_cmcc-3"
    local IMAGE = "centos_7_9_x64_20G_alibase_20240101"

    local expect = require("support.emulator").expect

    local function run(ens, extra)
      local p = { EnsRegionId = N, InstanceType = "ens.sn1.small", ImageId = IMAGE, ScheduleAreaLevel = "Region",
        InstanceChargeType = "PostPaid", InternetChargeType = "BandwidthByDay", InternetMaxBandwidthOut = 10 }
      for k, v in pairs(extra or {}) do p[k] = v end
      return ens:RunInstances(p)
    end

    local function instance(ens, id)
      return assert(ens:DescribeInstances { InstanceId = id }).Instances.Instance[1]
    end

    it("runs instances that are Pending, then Running, with their disks, names and addresses", function()
      local ens = world.ens()
      local res = assert(run(ens, { Amount = 2, InstanceName = "web", HostName = "web", UniqueSuffix = true,
        SystemDisk = { Size = 40, Category = "cloud_ssd" }, DataDisk = { { Size = 100 }, { Size = 20, Category = "cloud_ssd" } },
        PublicIpIdentification = true, Tag = { { Key = "env", Value = "test" } } }))
      assert.are.equal(2, #res.InstanceIds)
      assert.is_string(res.OrderId)
      local i = instance(ens, res.InstanceIds[1])
      assert.are.same({ "Pending", "web001", "web001", N, "ens.sn1.small", "1", 2048, IMAGE, "EnsPostInstance" },
        { i.Status, i.InstanceName, i.HostName, i.EnsRegionId, i.SpecName, i.Cpu, i.Memory, i.ImageId,
          i.InstanceResourceType })
      assert.are.same({ 40960, "cloud_ssd" }, { i.SystemDisk.Size, i.SystemDisk.Category })
      assert.are.same({ 102400, 20480 }, { i.DataDisk.DataDisk[1].Size, i.DataDisk.DataDisk[2].Size })
      assert.are.equal(1, #i.PublicIpAddresses.PublicIpAddress)
      assert.are.same({ { TagKey = "env", TagValue = "test" } }, i.Tags.Tags)
      assert.are.equal("web002", instance(ens, res.InstanceIds[2]).InstanceName)
      world.advance(1)
      assert.are.equal("Pending", instance(ens, res.InstanceIds[1]).Status)
      world.advance(2)
      assert.are.equal("Running", instance(ens, res.InstanceIds[1]).Status)
      local disks = assert(ens:DescribeDisks { InstanceId = res.InstanceIds[1] })
      assert.are.equal(3, disks.TotalCount)
      assert.are.equal("In_use", disks.Disks.Disks[1].Status)
    end)

    it("places instances by area scheduling, concentrated or dispersed over the carrier's nodes", function()
      local ens = world.ens()
      local ids = assert(run(ens, { EnsRegionId = "", ScheduleAreaLevel = "Big", Carrier = "telecom",
        SchedulingStrategy = "Disperse", Amount = 2 })).InstanceIds
      assert.are.same({ N, N2 }, { instance(ens, ids[1]).EnsRegionId, instance(ens, ids[2]).EnsRegionId })
      ids = assert(run(ens, { EnsRegionId = "", ScheduleAreaLevel = "Small", Carrier = "cmcc", Amount = 2 })).InstanceIds
      assert.are.same({ "cn-shanghai-cmcc", "cn-shanghai-cmcc" },
        { instance(ens, ids[1]).EnsRegionId, instance(ens, ids[2]).EnsRegionId })
      expect(400, "MissingParameter.Carrier", run(ens, { EnsRegionId = "", ScheduleAreaLevel = "Big" }))
      expect(400, "InvalidParameter.EnsRegionId", run(ens, { ScheduleAreaLevel = "Big", Carrier = "cmcc" }))
    end)

    it("checks what RunInstances is given", function()
      local ens = world.ens()
      expect(400, "InvalidParameter.InstanceType", run(ens, { InstanceType = "ens.huge" }))
      expect(400, "InvalidParameter.ImageId", run(ens, { ImageId = "nope" }))
      expect(400, "InvalidParameter.EnsRegionId", run(ens, { EnsRegionId = "mars-1" }))
      expect(400, "InvalidParameter.Amount", run(ens, { Amount = 101 }))
      expect(400, "InvalidParameter.Password", run(ens, { Password = "short" }))
      expect(400, "InvalidParameter.KeyPairName", run(ens, { KeyPairName = "nobody" }))
      expect(400, "InvalidSecurityGroupId.NotFound", run(ens, { SecurityId = "sg-none" }))
      expect(400, "InvalidParameter.SystemDisk", run(ens, { SystemDisk = { Size = 10 } }))
      expect(400, "InvalidParameter.DataDisk", run(ens, { DataDisk = { { Size = 20, Category = "floppy" } } }))
      expect(400, "InvalidParameter.InstanceChargeType", run(ens, { InstanceChargeType = "Free" }))
      expect(400, "InvalidParameter.UserData", run(ens, { UserData = "%%%" }))
      expect(400, "InvalidParameter.AutoReleaseTime", run(ens, { AutoReleaseTime = "2000-01-01T00:00:00Z" }))
      expect(400, "InvalidNetworkId.NotFound", run(ens, { NetWorkId = "n-none", VSwitchId = "vsw-none" }))
      expect(400, "MissingParameter.VSwitchId", run(ens, { NetWorkId = "n-none" }))
      local _, err = run(ens, { LaunchTemplateId = "lt-1" })
      assert.are.equal("UnsupportedParameter.NotEmulated", err.code)
      assert.are.equal(0, assert(ens:DescribeInstances {}).TotalCount)
    end)

    it("puts instances in a vSwitch of a network, at an address of the vSwitch", function()
      local ens = world.ens()
      local net = assert(ens:CreateNetwork { EnsRegionId = N, CidrBlock = "10.0.0.0/16" }).NetworkId
      world.advance(2)
      local vsw = assert(ens:CreateVSwitch { EnsRegionId = N, NetworkId = net, CidrBlock = "10.0.5.0/24" }).VSwitchId
      expect(400, "IncorrectVSwitchStatus", run(ens, { NetWorkId = net, VSwitchId = vsw }))
      world.advance(2)
      local id = assert(run(ens, { NetWorkId = net, VSwitchId = vsw, PrivateIpAddress = "10.0.5.50" })).InstanceIds[1]
      local i = instance(ens, id)
      assert.are.same({ net, vsw, { "10.0.5.50" } }, { i.NetworkAttributes.NetworkId, i.NetworkAttributes.VSwitchId,
        i.NetworkAttributes.PrivateIpAddress.IpAddress })
      assert.are.same({}, i.PublicIpAddresses.PublicIpAddress)
      expect(400, "InvalidParameter.PrivateIpAddress", run(ens, { NetWorkId = net, VSwitchId = vsw,
        PrivateIpAddress = "10.0.5.50" }))
      expect(400, "InvalidParameter.PrivateIpAddress", run(ens, { NetWorkId = net, VSwitchId = vsw,
        PrivateIpAddress = "10.9.9.9" }))
      expect(400, "InvalidParameter.VSwitchId", run(ens, { EnsRegionId = N2, NetWorkId = net, VSwitchId = vsw }))
      assert.are.equal(id, assert(ens:DescribeInstances { VSwitchId = vsw }).Instances.Instance[1].InstanceId)
      assert.are.equal(1, assert(ens:DescribeInstances { NetworkId = net }).TotalCount)
      assert.are.equal(1, assert(ens:DescribeInstances { IntranetIp = "10.0.5.50" }).TotalCount)
    end)

    it("filters and pages DescribeInstances", function()
      local ens = world.ens()
      local a = assert(run(ens, { InstanceName = "alpha", Tag = { { Key = "team", Value = "red" } } })).InstanceIds[1]
      local b = assert(run(ens, { InstanceName = "beta", EnsRegionId = N2, InstanceType = "ens.sn1.large",
        ImageId = "ubuntu_22_04_x64_20G_alibase_20240101", InstanceChargeType = "PrePaid", Period = 1,
        PeriodUnit = "Month" })).InstanceIds[1]
      world.advance(3)
      assert(ens:StopInstance { InstanceId = b })
      world.advance(3)
      local function count(p) return assert(ens:DescribeInstances(p)).TotalCount end
      assert.are.equal(2, count {})
      assert.are.equal(1, count { EnsRegionId = N })
      assert.are.equal(2, count { EnsRegionIds = '["' .. N .. '","' .. N2 .. '"]' })
      assert.are.equal(2, count { InstanceIds = '["' .. a .. '","' .. b .. '"]' })
      assert.are.equal(1, count { InstanceName = "beta" })
      assert.are.equal(1, count { Status = "Stopped" })
      assert.are.equal(1, count { InstanceType = "ens.sn1.large" })
      assert.are.equal(1, count { ImageId = IMAGE })
      assert.are.equal(1, count { InstanceResourceType = "EnsInstance" })
      assert.are.equal(2, count { SearchKey = "a" })
      assert.are.equal(1, count { SearchKey = "alp" })
      assert.are.equal(1, count { Tags = { { Key = "team", Value = "red" } } })
      assert.are.equal(0, count { Tags = { { Key = "team", Value = "blue" } } })
      local page = assert(ens:DescribeInstances { PageSize = 1, PageNumber = 2 })
      assert.are.same({ 2, 2, 1, b }, { page.TotalCount, page.PageNumber, #page.Instances.Instance,
        page.Instances.Instance[1].InstanceId })
      assert.are.equal(0, assert(ens:DescribeInstances {}).Code)
    end)

    it("stops and starts through Stopping and Starting, and refuses the wrong states", function()
      local ens = world.ens()
      local id = assert(run(ens)).InstanceIds[1]
      expect(400, "IncorrectInstanceStatus", ens:StopInstance { InstanceId = id })
      world.advance(3)
      expect(400, "IncorrectInstanceStatus", ens:StartInstance { InstanceId = id })
      assert.are.equal(0, assert(ens:StopInstance { InstanceId = id }).Code)
      assert.are.equal("Stopping", instance(ens, id).Status)
      world.advance(3)
      assert.are.equal("Stopped", instance(ens, id).Status)
      assert(ens:StartInstance { InstanceId = id })
      assert.are.equal("Starting", instance(ens, id).Status)
      world.advance(3)
      assert.are.equal("Running", instance(ens, id).Status)
      assert(ens:StopInstance { InstanceId = id, ForceStop = "true" })
      assert.are.equal("Stopped", instance(ens, id).Status)
      expect(400, "InstanceNotFound", ens:StartInstance { InstanceId = "i-none" })
      expect(400, "InstanceIdNotFound", ens:StopInstance { InstanceId = "i-none" })
    end)

    it("changes names, host names, passwords and deletion protection", function()
      local ens = world.ens()
      local id = assert(run(ens)).InstanceIds[1]
      local res = assert(ens:ModifyInstanceAttribute { InstanceId = id, InstanceName = "renamed", HostName = "host-1",
        Password = "Passw0rd!", DeletionProtection = true, UserData = "ZWNobyBoaQ==" })
      assert.are.equal(0, res.Code)
      local i = instance(ens, id)
      assert.are.same({ "renamed", "host-1", true }, { i.InstanceName, i.HostName, i.DeletionProtection })
      expect(400, "InvalidParameter.HostName", ens:ModifyInstanceAttribute { InstanceId = id, HostName = "-bad" })
      expect(400, "InvalidParameter.Password", ens:ModifyInstanceAttribute { InstanceId = id, Password = "abc" })
      expect(400, "InstanceIdNotFound", ens:ModifyInstanceAttribute { InstanceId = "i-none", InstanceName = "x1" })
      world.advance(3)
      expect(400, "InvalidParameter", ens:ReleasePostPaidInstance { InstanceId = id })
      assert(ens:ModifyInstanceAttribute { InstanceId = id, DeletionProtection = false })
      assert(ens:ReleasePostPaidInstance { InstanceId = id })
    end)

    it("releases instances by billing method, with what goes with them", function()
      local ens = world.ens()
      local post = assert(run(ens, { DataDisk = { { Size = 20 } } })).InstanceIds[1]
      local pre = assert(run(ens, { InstanceChargeType = "PrePaid", Period = 1 })).InstanceIds[1]
      expect(400, "IncorrectInstanceStatus", ens:ReleasePostPaidInstance { InstanceId = post })
      world.advance(3)
      local kept = assert(ens:CreateDisk { EnsRegionId = N, Category = "cloud_efficiency", Size = "20",
        InstanceChargeType = "PostPaid" }).InstanceIds[1]
      world.advance(3)
      assert(ens:AttachDisk { DiskId = kept, InstanceId = post })
      world.advance(2)
      expect(400, "InvalidParameter", ens:ReleasePostPaidInstance { InstanceId = pre })
      expect(400, "InvalidParameter", ens:ReleasePrePaidInstance { InstanceId = post })
      local sys = instance(ens, post).SystemDisk.DiskId
      local snap = assert(ens:CreateSnapshot { EnsRegionId = N, DiskId = sys }).SnapShotId[1]
      expect(400, "DependencyViolation.Snapshot", ens:ReleasePostPaidInstance { InstanceId = post })
      world.advance(3)
      assert(ens:DeleteSnapshot { SnapshotId = snap })
      assert(ens:ReleasePostPaidInstance { InstanceId = post })
      assert.are.equal(0, assert(ens:DescribeInstances { InstanceId = post }).TotalCount)
      local left = assert(ens:DescribeDisks { EnsRegionId = N }).Disks.Disks
      local states = {}
      for _, d in ipairs(left) do states[d.DiskId] = d.Status .. "/" .. d.InstanceId end
      assert.are.equal("Available/", states[kept])
      assert.is_nil(states[sys])
      assert(ens:ReleasePrePaidInstance { InstanceId = pre })
      expect(400, "InstanceIdNotFound", ens:ReleasePrePaidInstance { InstanceId = pre })
      assert.are.same({ kept }, { assert(ens:DescribeDisks { EnsRegionId = N }).Disks.Disks[1].DiskId })
    end)

    it("releases an instance at its AutoReleaseTime, whatever state it went through", function()
      local ens = world.ens()
      local at = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + 3600)
      local id = assert(run(ens, { AutoReleaseTime = at, DataDisk = { { Size = 20 } } })).InstanceIds[1]
      local other = assert(run(ens)).InstanceIds[1]
      assert.are.equal(at, instance(ens, id).AutoReleaseTime)
      world.advance(3)
      assert(ens:StopInstance { InstanceId = id })
      world.advance(1800)
      assert(ens:StartInstance { InstanceId = id })
      world.advance(1700)
      assert.are.equal("Running", instance(ens, id).Status)
      world.advance(200)
      assert.are.equal(0, assert(ens:DescribeInstances { InstanceId = id }).TotalCount)
      for _, d in ipairs(assert(ens:DescribeDisks { EnsRegionId = N }).Disks.Disks) do
        assert.are_not.equal(id, d.InstanceId)
      end
      assert.are.equal("Running", instance(ens, other).Status)
    end)

    it("changes the charge type and the subscription's type on the record", function()
      local ens = world.ens()
      local id = assert(run(ens, { DataDisk = { { Size = 20 } } })).InstanceIds[1]
      world.advance(3)
      local res = assert(ens:ModifyInstanceChargeType { InstanceIds = '["' .. id .. '"]', InstanceChargeType = "PrePaid",
        Period = "1", PeriodUnit = "Month", AutoPay = true, IncludeDataDisks = true })
      assert.are.same({ id }, res.InstanceIds)
      assert.is_number(res.OrderId)
      local i = instance(ens, id)
      assert.are.equal("EnsInstance", i.InstanceResourceType)
      assert.matches("^%d%d%d%d%-", i.ExpiredTime)
      for _, d in ipairs(assert(ens:DescribeDisks { InstanceId = id }).Disks.Disks) do
        assert.are.equal("PrePaid", d.DiskChargeType)
      end
      expect(400, "InvalidParameter", ens:ModifyInstanceChargeType { InstanceIds = '["' .. id .. '"]',
        InstanceChargeType = "PrePaid" })
      expect(400, "InstanceIdNotFound", ens:ModifyInstanceChargeType { InstanceIds = '["i-none"]',
        InstanceChargeType = "PostPaid" })
      assert(ens:ModifyPrepayInstanceSpec { InstanceId = id, InstanceType = "ens.sn1.large" })
      i = instance(ens, id)
      assert.are.same({ "ens.sn1.large", "4", 8192 }, { i.SpecName, i.Cpu, i.Memory })
      expect(400, "InvalidParameter.InstanceType", ens:ModifyPrepayInstanceSpec { InstanceId = id,
        InstanceType = "ens.sn1.large" })
      expect(400, "InvalidParameter.InstanceType", ens:ModifyPrepayInstanceSpec { InstanceId = id,
        InstanceType = "ens.nope" })
      assert(ens:ModifyInstanceChargeType { InstanceIds = '["' .. id .. '"]', InstanceChargeType = "PostPaid" })
      assert.are.equal("EnsPostInstance", instance(ens, id).InstanceResourceType)
      expect(400, "InvalidParameter", ens:ModifyPrepayInstanceSpec { InstanceId = id, InstanceType = "ens.sn1.medium" })
    end)

    it("tags instances, lists and removes the tags; other types are not taggable", function()
      local ens = world.ens()
      local a = assert(run(ens)).InstanceIds[1]
      local b = assert(run(ens)).InstanceIds[1]
      assert(ens:TagResources { ResourceType = "instance", ResourceId = { a, b },
        Tag = { { Key = "env", Value = "prod" }, { Key = "team", Value = "edge" } } })
      local rows = assert(ens:ListTagResources { ResourceType = "instance", ResourceId = { a } }).TagResources
      assert.are.equal(2, #rows)
      assert.are.same({ a, "instance" }, { rows[1].ResourceId, rows[1].ResourceType })
      assert.are.equal(4, #assert(ens:ListTagResources { ResourceType = "instance" }).TagResources)
      assert.are.equal(1, assert(ens:DescribeInstances { Tags = { { Key = "env", Value = "prod" } },
        InstanceId = b }).TotalCount)
      assert(ens:UntagResources { ResourceType = "instance", ResourceId = { a }, TagKey = { "env" } })
      assert.are.equal(1, #assert(ens:ListTagResources { ResourceType = "instance", ResourceId = { a } }).TagResources)
      assert(ens:UntagResources { ResourceType = "instance", ResourceId = { b }, All = true })
      assert.are.equal(0, #assert(ens:ListTagResources { ResourceType = "instance", ResourceId = { b } }).TagResources)
      local rows2 = assert(ens:ListTagResources { ResourceType = "instance", Tag = { { Key = "team" } } }).TagResources
      assert.are.equal(1, #rows2)
      expect(400, "InvalidParameter.ResourceType", ens:TagResources { ResourceType = "disk", ResourceId = { a },
        Tag = { { Key = "k", Value = "v" } } })
      expect(400, "InvalidParameter.ResourceId", ens:TagResources { ResourceType = "instance", ResourceId = { "i-none" },
        Tag = { { Key = "k", Value = "v" } } })
      expect(400, "InvalidTagKey.Malformed", ens:TagResources { ResourceType = "instance", ResourceId = { a },
        Tag = { { Key = "acs:x", Value = "v" } } })
    end)
  end)
end
