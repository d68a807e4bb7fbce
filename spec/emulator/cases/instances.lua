-- Instances: the lifecycle with its intermediate states (Pending -> Starting -> Running,
-- Stopping, reboots), deletion and what goes with it, Amount and ordered names, ClientToken,
-- launch templates, and every other instance action (RAM roles, billing, auto-release, the
-- spec and bandwidth, private pools, deployment, maintenance, metadata options, the VPC
-- attributes), with the published codes and statuses clients branch on.
return function(world)
  describe(world.name .. " emulator: instances", function()
    before_each(world.reset)
    local R, Z = "cn-hangzhou", "cn-hangzhou-h"
    local IMAGE = "ubuntu_22_04_x64_20G_alibase_20240101.vhd"
    local WINDOWS = "win2022_21H2_x64_dtc_en-us_40G_alibase_20240101.vhd"

    local function expect(status, code, res, err)
      assert.is_nil(res)
      assert.are.same({ code, status }, { err and err.code, err and err.status })
    end

    -- The default network of the region: the vSwitch of a zone and the default group.
    local function network(ecs, zone)
      local vsw = assert(ecs:DescribeVSwitches { RegionId = R, ZoneId = zone or Z, IsDefault = true }).VSwitches.VSwitch[1]
      local sg = assert(ecs:DescribeSecurityGroups { RegionId = R, VpcId = vsw.VpcId }).SecurityGroups.SecurityGroup[1]
      return vsw, sg
    end

    local function params(ecs, p)
      local vsw, sg = network(ecs)
      local out = { RegionId = R, ImageId = IMAGE, InstanceType = "ecs.g7.large", VSwitchId = vsw.VSwitchId,
        SecurityGroupId = sg.SecurityGroupId }
      for k, v in pairs(p or {}) do out[k] = v end
      return out
    end

    local function run(ecs, p)
      return assert(ecs:RunInstances(params(ecs, p))).InstanceIdSets.InstanceIdSet
    end

    local function get(ecs, id)
      return assert(ecs:DescribeInstances { RegionId = R, InstanceIds = { id } }).Instances.Instance[1]
    end

    local function status(ecs, id)
      local i = get(ecs, id)
      return i and i.Status
    end

    -- A Running instance of its own (RunInstances, then the clock past both delays).
    local function running(ecs, p)
      local id = run(ecs, p)[1]
      world.advance(4)
      assert.are.equal("Running", status(ecs, id))
      return id
    end

    local function stopped(ecs, p)
      local id = running(ecs, p)
      assert(ecs:StopInstance { InstanceId = id })
      world.advance(2)
      assert.are.equal("Stopped", status(ecs, id))
      return id
    end

    local function disks(ecs, id)
      return assert(ecs:DescribeDisks { RegionId = R, InstanceId = id }).Disks.Disk
    end

    local function iso(seconds_from_now)
      return os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + seconds_from_now)
    end

    describe("lifecycle", function()
      it("runs an instance: Pending, then Starting, then Running, with its disks, primary ENI and public IP", function()
        local ecs = world.ecs()
        local ids = run(ecs, { InstanceName = "web", InternetMaxBandwidthOut = 5,
          DataDisk = { { Size = 40, Category = "cloud_essd" }, { Size = 50, DeleteWithInstance = false } },
          Tag = { { Key = "env", Value = "test" } } })
        assert.are.equal(1, #ids)
        assert.matches("^i%-", ids[1])
        local i = get(ecs, ids[1])
        assert.are.same({ "Pending", "web", "ecs.g7.large", 2, 8192, Z, 5, 10, "PostPaid" }, { i.Status, i.InstanceName,
          i.InstanceType, i.Cpu, i.Memory, i.ZoneId, i.InternetMaxBandwidthOut, i.InternetMaxBandwidthIn,
          i.InstanceChargeType })
        assert.matches("^47%.", i.PublicIpAddress.IpAddress[1])
        assert.are.equal("Primary", i.NetworkInterfaces.NetworkInterface[1].Type)
        assert.are.equal(i.VpcAttributes.PrivateIpAddress.IpAddress[1], i.NetworkInterfaces.NetworkInterface[1].PrimaryIpAddress)
        assert.are.equal("test", i.Tags.Tag[1].TagValue)
        world.advance(1)
        assert.are.equal("Pending", status(ecs, ids[1]))
        world.advance(1)
        assert.are.equal("Starting", status(ecs, ids[1]))
        world.advance(2)
        assert.are.equal("Running", status(ecs, ids[1]))
        local d = disks(ecs, ids[1])
        assert.are.equal(3, #d)
        assert.are.equal(1, assert(ecs:DescribeInstances { RegionId = R, Status = "Running", InstanceName = "web" }).TotalCount)
      end)

      it("creates an instance Stopped (CreateInstance) and starts it: Starting, then Running", function()
        local ecs = world.ecs()
        local id = assert(ecs:CreateInstance(params(ecs))).InstanceId
        assert.are.equal("Pending", status(ecs, id))
        world.advance(2)
        assert.are.equal("Stopped", status(ecs, id))
        assert(ecs:StartInstance { InstanceId = id })
        assert.are.equal("Starting", status(ecs, id))
        world.advance(2)
        assert.are.equal("Running", status(ecs, id))
      end)

      it("stops (Stopping, Stopped), reboots (Stopping, Starting, Running) and refuses the wrong states", function()
        local ecs = world.ecs()
        local id = running(ecs)
        expect(403, "IncorrectInstanceStatus", ecs:StartInstance { InstanceId = id })
        assert(ecs:RebootInstance { InstanceId = id })
        assert.are.equal("Stopping", status(ecs, id))
        expect(403, "IncorrectInstanceStatus", ecs:RebootInstance { InstanceId = id })
        world.advance(2)
        assert.are.equal("Starting", status(ecs, id))
        world.advance(2)
        assert.are.equal("Running", status(ecs, id))
        assert(ecs:StopInstance { InstanceId = id, StoppedMode = "StopCharging" })
        assert.are.equal("Stopping", status(ecs, id))
        expect(403, "IncorrectInstanceStatus", ecs:StopInstance { InstanceId = id })
        world.advance(2)
        local i = get(ecs, id)
        assert.are.same({ "Stopped", "StopCharging" }, { i.Status, i.StoppedMode })
        expect(403, "IncorrectInstanceStatus", ecs:StopInstance { InstanceId = id })
        expect(404, "InvalidInstanceId.NotFound", ecs:StopInstance { InstanceId = "i-nothere" })
        expect(404, "InvalidInstanceId.NotFound", ecs:RebootInstance { InstanceId = "i-nothere" })
      end)

      it("deletes: not while Pending, not Running without Force, not with deletion protection", function()
        local ecs = world.ecs()
        local id = run(ecs)[1]
        expect(403, "IncorrectInstanceStatus.Initializing", ecs:DeleteInstance { InstanceId = id, Force = true })
        world.advance(4)
        expect(403, "IncorrectInstanceStatus", ecs:DeleteInstance { InstanceId = id })
        assert(ecs:ModifyInstanceAttribute { InstanceId = id, DeletionProtection = true })
        assert.is_true(get(ecs, id).DeletionProtection)
        expect(403, "InvalidOperation.DeletionProtection", ecs:DeleteInstance { InstanceId = id, Force = true })
        assert(ecs:ModifyInstanceAttribute { InstanceId = id, DeletionProtection = false })
        expect(400, "DryRunOperation", ecs:DeleteInstance { InstanceId = id, Force = true, DryRun = true })
        assert.are.equal("Running", status(ecs, id))
        assert(ecs:DeleteInstance { InstanceId = id, Force = true })
        assert.is_nil(get(ecs, id))
        expect(404, "InvalidInstanceId.NotFound", ecs:DeleteInstance { InstanceId = id, Force = true })
        expect(404, "InvalidInstanceId.NotFound", ecs:StartInstance { InstanceId = id })
      end)

      it("releases with the instance its DeleteWithInstance disks, its primary ENI and its public IP; detaches the rest", function()
        local ecs = world.ecs()
        local id = running(ecs, { InternetMaxBandwidthOut = 5,
          DataDisk = { { Size = 40 }, { Size = 50, DeleteWithInstance = false } } })
        local i = get(ecs, id)
        local ip, public = i.VpcAttributes.PrivateIpAddress.IpAddress[1], i.PublicIpAddress.IpAddress[1]
        local extra = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 }).DiskId
        world.advance(2)
        assert(ecs:AttachDisk { InstanceId = id, DiskId = extra })
        world.advance(1)
        local ids = {}
        for k, d in ipairs(disks(ecs, id)) do ids[k] = d.DiskId end
        assert.are.equal(4, #ids)
        -- two secondary interfaces: one goes with the instance (DeleteOnRelease), one stays
        local vsw, sg = network(ecs)
        local enis = {}
        for k, release in ipairs { true, false } do
          enis[k] = assert(ecs:CreateNetworkInterface { RegionId = R, VSwitchId = vsw.VSwitchId,
            SecurityGroupId = sg.SecurityGroupId, DeleteOnRelease = release }).NetworkInterfaceId
          assert(ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = enis[k], InstanceId = id })
          world.advance(1)
        end
        assert.are.equal(3, #get(ecs, id).NetworkInterfaces.NetworkInterface)
        assert(ecs:StopInstance { InstanceId = id })
        world.advance(2)
        assert(ecs:DeleteInstance { InstanceId = id })
        assert.are.equal(0, #disks(ecs, id))
        local left = assert(ecs:DescribeNetworkInterfaces { RegionId = R, NetworkInterfaceId = enis })
          .NetworkInterfaceSets.NetworkInterfaceSet
        assert.are.same({ 1, enis[2], "Available", "" }, { #left, left[1].NetworkInterfaceId, left[1].Status,
          left[1].InstanceId or "" })
        local kept = {}
        for _, d in ipairs(assert(ecs:DescribeDisks { RegionId = R, DiskIds = ids }).Disks.Disk) do
          kept[#kept + 1] = d.Size .. " " .. d.Status .. " " .. d.InstanceId
        end
        table.sort(kept)
        assert.are.same({ "20 Available ", "50 Available " }, kept)
        -- the address and the public IP are free again
        local other = running(ecs, { PrivateIpAddress = ip })
        assert(ecs:ModifyInstanceNetworkSpec { InstanceId = other, InternetMaxBandwidthOut = 1 })
        assert.are.equal(public, assert(ecs:AllocatePublicIpAddress { InstanceId = other, IpAddress = public }).IpAddress)
      end)

      it("stops and starts many at once (StopInstances, StartInstances, RebootInstances, DeleteInstances)", function()
        local ecs = world.ecs()
        local ids = run(ecs, { Amount = 2 })
        world.advance(4)
        local res = assert(ecs:StopInstances { RegionId = R, InstanceId = ids })
        assert.are.equal("Stopping", res.InstanceResponses.InstanceResponse[1].CurrentStatus)
        world.advance(2)
        expect(403, "IncorrectInstanceStatus", ecs:RebootInstances { RegionId = R, InstanceId = ids })
        assert(ecs:StartInstances { RegionId = R, InstanceId = ids })
        world.advance(2)
        assert.are.equal("Running", status(ecs, ids[2]))
        expect(403, "IncorrectInstanceStatus", ecs:DeleteInstances { RegionId = R, InstanceId = ids })
        assert(ecs:DeleteInstances { RegionId = R, InstanceId = ids, Force = true })
        assert.is_nil(get(ecs, ids[1]))
      end)
    end)

    describe("RunInstances", function()
      it("makes Amount instances with ordered names (UniqueSuffix, name[begin,bits]) and HostNames", function()
        local ecs = world.ecs()
        local ids = run(ecs, { Amount = 3, UniqueSuffix = true, InstanceName = "web", HostName = "web" })
        assert.are.equal(3, #ids)
        local names, hosts = {}, {}
        for k, id in ipairs(ids) do
          local i = get(ecs, id)
          names[k], hosts[k] = i.InstanceName, i.HostName
        end
        assert.are.same({ "web001", "web002", "web003" }, names)
        assert.are.same({ "web001", "web002", "web003" }, hosts)
        ids = run(ecs, { Amount = 2, InstanceName = "node-[7,2]-x", HostNames = { "h-one", "h-two" } })
        assert.are.same({ "node-07-x", "h-one" }, { get(ecs, ids[1]).InstanceName, get(ecs, ids[1]).HostName })
        assert.are.same({ "node-08-x", "h-two" }, { get(ecs, ids[2]).InstanceName, get(ecs, ids[2]).HostName })
        local one = run(ecs, { HostName = "k8s-${instance_id}" })[1]
        assert.are.equal("k8s-" .. one, get(ecs, one).HostName)
        expect(403, "InvalidHostname.SizeInvalid", ecs:RunInstances(params(ecs, { Amount = 2, HostNames = { "a1" } })))
        expect(403, "InvalidHostname.SingleAndMultiConflict",
          ecs:RunInstances(params(ecs, { HostName = "abc", HostNames = { "a1" } })))
        expect(400, "InvalidInstanceName.CustomMalformed", ecs:RunInstances(params(ecs, { InstanceName = "n[x]" })))
        expect(403, "InvalidParams.InstanceNameExceed",
          ecs:RunInstances(params(ecs, { Amount = 2, UniqueSuffix = true, InstanceName = "a" .. string.rep("b", 126) })))
        expect(403, "InvalidParam.Amount", ecs:RunInstances(params(ecs, { Amount = 101 })))
        local before = assert(ecs:DescribeInstances { RegionId = R }).TotalCount
        expect(400, "InvalidParameter", ecs:RunInstances(params(ecs, { Amount = 2, PrivateIpAddress = "172.16.0.100" })))
        -- a vSwitch with room for four addresses (a /29 less the reserved ones) makes none of five
        local vsw = network(ecs)
        local small = assert(ecs:CreateVSwitch { VpcId = vsw.VpcId, ZoneId = Z, CidrBlock = "172.16.80.0/29" }).VSwitchId
        world.advance(1)
        expect(400, "QuotaExceeded.PrivateIpAddress", ecs:RunInstances(params(ecs, { Amount = 5, VSwitchId = small })))
        assert.are.equal(before, assert(ecs:DescribeInstances { RegionId = R }).TotalCount)
        assert.are.equal(4, #run(ecs, { Amount = 4, VSwitchId = small }))
        expect(400, "QuotaExceeded.PrivateIpAddress", ecs:RunInstances(params(ecs, { VSwitchId = small })))
      end)

      it("with the same ClientToken makes nothing new, and refuses other parameters with it", function()
        local ecs = world.ecs()
        local before = assert(ecs:DescribeInstances { RegionId = R }).TotalCount
        local first = run(ecs, { ClientToken = "token-1", Amount = 2 })
        local again = run(ecs, { ClientToken = "token-1", Amount = 2 })
        assert.are.same(first, again)
        assert.are.equal(before + 2, assert(ecs:DescribeInstances { RegionId = R }).TotalCount)
        expect(400, "IdempotentParameterMismatch", ecs:RunInstances(params(ecs, { ClientToken = "token-1", Amount = 1 })))
      end)

      it("launches from a launch template, the call's parameters winning", function()
        local ecs = world.ecs()
        local vsw, sg = network(ecs)
        local lt = assert(ecs:CreateLaunchTemplate { RegionId = R, LaunchTemplateName = "tpl", ImageId = IMAGE,
          InstanceType = "ecs.c7.large", VSwitchId = vsw.VSwitchId, SecurityGroupId = sg.SecurityGroupId,
          InstanceName = "from-template", InternetMaxBandwidthOut = 3, SystemDisk = { Category = "cloud_essd", Size = 60 },
          Tag = { { Key = "team", Value = "web" } } }).LaunchTemplateId
        local id = assert(ecs:RunInstances { RegionId = R, LaunchTemplateId = lt }).InstanceIdSets.InstanceIdSet[1]
        local i = get(ecs, id)
        assert.are.same({ "ecs.c7.large", "from-template", 3, "web" },
          { i.InstanceType, i.InstanceName, i.InternetMaxBandwidthOut, i.Tags.Tag[1].TagValue })
        local sys = assert(ecs:DescribeDisks { RegionId = R, InstanceId = id, DiskType = "system" }).Disks.Disk[1]
        assert.are.equal(60, sys.Size)
        id = assert(ecs:RunInstances { RegionId = R, LaunchTemplateName = "tpl", InstanceName = "mine",
          InstanceType = "ecs.g7.large" }).InstanceIdSets.InstanceIdSet[1]
        assert.are.same({ "mine", "ecs.g7.large" }, { get(ecs, id).InstanceName, get(ecs, id).InstanceType })
        expect(404, "InvalidLaunchTemplate.NotFound", ecs:RunInstances { RegionId = R, LaunchTemplateId = "lt-none" })
      end)

      it("refuses what the RunInstances table refuses", function()
        local ecs = world.ecs()
        local vsw, sg = network(ecs)
        local vpc = assert(ecs:CreateVpc { RegionId = R, CidrBlock = "10.0.0.0/16" }).VpcId
        world.advance(1)
        local far = assert(ecs:CreateSecurityGroup { RegionId = R, VpcId = vpc }).SecurityGroupId
        local function code(p) return ecs:RunInstances(params(ecs, p)) end
        expect(400, "InvalidSecurityGroupId.SingleIdAndMultiIdConflict", code { SecurityGroupIds = { sg.SecurityGroupId } })
        expect(400, "InvalidParameter.Mismatch", code { SecurityGroupId = far })
        expect(404, "InvalidSecurityGroupId.NotFound", code { SecurityGroupId = "sg-none" })
        expect(404, "InvalidVSwitchId.NotFound", code { VSwitchId = "vsw-none" })
        expect(400, "InvalidInstanceType.ValueUnauthorized", code { InstanceType = "ecs.huge" })
        expect(404, "InvalidImageId.NotFound", code { ImageId = "no-such-image" })
        expect(404, "InvalidZoneId.NotFound", code { ZoneId = "cn-beijing-g" })
        expect(400, "MissingParamter", code { InstanceChargeType = "PrePaid" })
        expect(400, "InvalidPeriod", code { InstanceChargeType = "PrePaid", Period = 10 })
        expect(403, "InvalidChargeType.ValueNotSupported",
          code { InstanceChargeType = "PrePaid", Period = 1, DeletionProtection = true })
        expect(400, "InvalidSpotPrepaid", code { InstanceChargeType = "PrePaid", Period = 1, SpotStrategy = "SpotAsPriceGo" })
        expect(400, "InvalidHttpTokens.NotSupported", code { HttpTokens = "sometimes" })
        expect(400, "InvalidInternetMaxBandwidthOut.Malformed", code { InternetMaxBandwidthOut = 101 })
        expect(404, "InvalidSystemDiskSize.LessThanMinSize", code { SystemDisk = { Size = 10 } })
        expect(404, "InvalidRamRole.NotFound", code { RamRoleName = "NoSuchRole" })
        expect(400, "InvalidPrivateIpAddress", code { PrivateIpAddress = "10.9.9.9" })
        expect(400, "InvalidPrivateIpAddress.Malformed", code { PrivateIpAddress = "10.9.9" })
        expect(400, "InvalidAutoReleaseTime.Malformed", code { AutoReleaseTime = iso(60) })
        expect(400, "Duplicate.TagKey", code { Tag = { { Key = "a", Value = "1" }, { Key = "a", Value = "2" } } })
        local many = {}
        for k = 1, 17 do many[k] = { Size = 20 } end
        expect(403, "InstanceDiskNumLimitExceed", code { DataDisk = many })
        assert(ecs:CreateKeyPair { RegionId = R, KeyPairName = "kp" })
        expect(403, "DependencyViolation.WindowsInstance", code { ImageId = WINDOWS, KeyPairName = "kp" })
        expect(400, "UnsupportedParameter.NotEmulated", code { DedicatedHostId = "dh-1" })
        local before = assert(ecs:DescribeInstances { RegionId = R }).TotalCount
        expect(400, "DryRunOperation", code { DryRun = true })
        assert.are.equal(before, assert(ecs:DescribeInstances { RegionId = R }).TotalCount)
        assert.are.equal(vsw.VpcId, sg.VpcId)
      end)

      it("answers the DescribeInstances table's codes for unknown filter values", function()
        local ecs = world.ecs()
        expect(404, "InvalidStatus.NotFound", ecs:DescribeInstances { RegionId = R, Status = "Sleeping" })
        expect(404, "InvalidInstanceChargeType.NotFound", ecs:DescribeInstances { RegionId = R, InstanceChargeType = "Free" })
        expect(404, "InvalidInternetChargeType.ValueNotSupported",
          ecs:DescribeInstances { RegionId = R, InternetChargeType = "Free" })
        expect(404, "InvalidNetworkType.NotFound", ecs:DescribeInstances { RegionId = R, InstanceNetworkType = "mesh" })
      end)
    end)

    describe("RAM roles", function()
      it("attaches, describes and detaches instance RAM roles", function()
        local ecs = world.ecs()
        local a = running(ecs)
        local b = running(ecs, { RamRoleName = "EcsInstanceRole" })
        local res = assert(ecs:AttachInstanceRamRole { RegionId = R, RamRoleName = "EcsInstanceRole", InstanceIds = { a, b } })
        assert.are.same({ 2, 1, "EcsInstanceRole" }, { res.TotalCount, res.FailCount, res.RamRoleName })
        local r = res.AttachInstanceRamRoleResults.AttachInstanceRamRoleResult
        assert.are.same({ a, "200", true }, { r[1].InstanceId, r[1].Code, r[1].Success })
        assert.are.same({ b, false }, { r[2].InstanceId, r[2].Success })
        local d = assert(ecs:DescribeInstanceRamRole { RegionId = R, RamRoleName = "EcsInstanceRole" })
        assert.are.equal(2, d.TotalCount)
        d = assert(ecs:DescribeInstanceRamRole { RegionId = R, InstanceIds = { a } })
        assert.are.same({ a, "EcsInstanceRole" }, { d.InstanceRamRoleSets.InstanceRamRoleSet[1].InstanceId,
          d.InstanceRamRoleSets.InstanceRamRoleSet[1].RamRoleName })
        res = assert(ecs:DetachInstanceRamRole { RegionId = R, RamRoleName = "EcsInstanceRole", InstanceIds = { a } })
        assert.are.same({ 1, 0 }, { res.TotalCount, res.FailCount })
        assert.are.equal("EcsInstanceRole", res.DetachInstanceRamRoleResults.DetachInstanceRamRoleResult[1]
          .InstanceRamRoleSets.InstanceRamRoleSet[1].RamRoleName)
        assert.are.equal(0, assert(ecs:DescribeInstanceRamRole { RegionId = R, InstanceIds = { a } }).TotalCount)
        res = assert(ecs:DetachInstanceRamRole { RegionId = R, InstanceIds = { a } })
        assert.are.equal(1, res.FailCount)
        expect(404, "InvalidRamRole.NotFound",
          ecs:AttachInstanceRamRole { RegionId = R, RamRoleName = "Nobody", InstanceIds = { a } })
        expect(404, "InvalidInstanceId.NotFound",
          ecs:AttachInstanceRamRole { RegionId = R, RamRoleName = "EcsInstanceRole", InstanceIds = { "i-none" } })
        expect(400, "InvalidInstanceIds.Malformed",
          ecs:AttachInstanceRamRole { RegionId = R, RamRoleName = "EcsInstanceRole", InstanceIds = "[not json" })
        expect(403, "InvalidParameter.AllEmpty", ecs:DescribeInstanceRamRole { RegionId = R })
      end)
    end)

    describe("billing", function()
      it("changes the charge type both ways, with the disks that follow it", function()
        local ecs = world.ecs()
        local id = running(ecs, { DataDisk = { { Size = 40 } } })
        local res = assert(ecs:ModifyInstanceChargeType { RegionId = R, InstanceIds = { id }, Period = 1 })
        assert.is_string(res.OrderId)
        local i = get(ecs, id)
        assert.are.equal("PrePaid", i.InstanceChargeType)
        assert.are_not.equal("2099-12-31T15:59Z", i.ExpiredTime)
        local charge = {}
        for _, d in ipairs(disks(ecs, id)) do charge[d.Type] = d.DiskChargeType end
        assert.are.same({ system = "PrePaid", data = "PostPaid" }, charge)
        expect(400, "InvalidInstanceChargeType.ValueNotSupported",
          ecs:ModifyInstanceChargeType { RegionId = R, InstanceIds = { id }, Period = 1 })
        expect(403, "ChargeTypeViolation", ecs:DeleteInstance { InstanceId = id, Force = true })
        res = assert(ecs:ModifyInstanceChargeType { RegionId = R, InstanceIds = { id }, InstanceChargeType = "PostPaid",
          IsDetailFee = true })
        assert.are.same({ id, "0" }, { res.FeeOfInstances.FeeOfInstance[1].InstanceId, res.FeeOfInstances.FeeOfInstance[1].Fee })
        assert.are.same({ "PostPaid", "2099-12-31T15:59Z" }, { get(ecs, id).InstanceChargeType, get(ecs, id).ExpiredTime })
        assert(ecs:ModifyInstanceChargeType { RegionId = R, InstanceIds = { id }, Period = 1, IncludeDataDisks = true })
        for _, d in ipairs(disks(ecs, id)) do assert.are.equal("PrePaid", d.DiskChargeType) end
        local other = running(ecs, { AutoReleaseTime = iso(7200) })
        expect(400, "ReleaseTimeHaveBeenSet", ecs:ModifyInstanceChargeType { RegionId = R, InstanceIds = { other }, Period = 1 })
        expect(400, "InvalidPeriod", ecs:ModifyInstanceChargeType { RegionId = R, InstanceIds = { other }, Period = 10 })
        local pending = run(ecs)[1]
        expect(400, "InvalidStatus.ValueNotSupported",
          ecs:ModifyInstanceChargeType { RegionId = R, InstanceIds = { pending }, Period = 1 })
      end)

      it("keeps the auto-renewal of subscriptions", function()
        local ecs = world.ecs()
        local id = running(ecs, { InstanceChargeType = "PrePaid", Period = 1, AutoRenew = true, AutoRenewPeriod = 2 })
        local function renewal()
          local res = assert(ecs:DescribeInstanceAutoRenewAttribute { RegionId = R, InstanceId = id })
          local a = res.InstanceRenewAttributes.InstanceRenewAttribute[1]
          return { a.RenewalStatus, a.AutoRenewEnabled, a.Duration, a.PeriodUnit }
        end
        assert.are.same({ "AutoRenewal", true, 2, "Month" }, renewal())
        assert(ecs:ModifyInstanceAutoRenewAttribute { RegionId = R, InstanceId = id, RenewalStatus = "NotRenewal" })
        assert.are.same({ "NotRenewal", false, 2, "Month" }, renewal())
        assert(ecs:ModifyInstanceAutoRenewAttribute { RegionId = R, InstanceId = id, AutoRenew = true, Duration = 1,
          PeriodUnit = "Year" })
        assert.are.same({ "AutoRenewal", true, 1, "Year" }, renewal())
        local listed = assert(ecs:DescribeInstanceAutoRenewAttribute { RegionId = R, RenewalStatus = "AutoRenewal" })
        assert.are.equal(1, listed.TotalCount)
        expect(403, "InvalidParameter.Duration",
          ecs:ModifyInstanceAutoRenewAttribute { RegionId = R, InstanceId = id, Duration = 5 })
        expect(403, "InvalidParameter.RenewalStatusInstanceId", ecs:DescribeInstanceAutoRenewAttribute { RegionId = R })
        local postpaid = running(ecs)
        expect(403, "ChargeTypeViolation",
          ecs:ModifyInstanceAutoRenewAttribute { RegionId = R, InstanceId = postpaid, AutoRenew = true })
        expect(403, "InvalidParameter.InvalidInstanceId",
          ecs:DescribeInstanceAutoRenewAttribute { RegionId = R, InstanceId = "i-none" })
        expect(403, "InvalidInstanceId.NotSupport", ecs:StopInstance { InstanceId = id, StoppedMode = "StopCharging" })
        -- a subscription is released only once expired, and only with TerminateSubscription
        expect(403, "ChargeTypeViolation", ecs:DeleteInstance { InstanceId = id, Force = true, TerminateSubscription = true })
        world.advance(31 * 86400)
        expect(403, "ChargeTypeViolation", ecs:DeleteInstance { InstanceId = id, Force = true })
        assert(ecs:DeleteInstance { InstanceId = id, Force = true, TerminateSubscription = true })
        assert.is_nil(get(ecs, id))
      end)

      it("releases an instance when the clock passes its auto-release time, whatever it went through", function()
        local ecs = world.ecs()
        local id = running(ecs, { DataDisk = { { Size = 40 } } })
        local kept = running(ecs, { AutoReleaseTime = iso(7200) })
        expect(400, "InvalidAutoReleaseTime.Malformed",
          ecs:ModifyInstanceAutoReleaseTime { InstanceId = id, AutoReleaseTime = iso(600) })
        expect(400, "InvalidAutoReleaseTime.Malformed",
          ecs:ModifyInstanceAutoReleaseTime { InstanceId = id, AutoReleaseTime = "tomorrow" })
        expect(404, "NoSuchResource", ecs:ModifyInstanceAutoReleaseTime { InstanceId = "i-none", AutoReleaseTime = iso(7200) })
        assert(ecs:ModifyInstanceAutoReleaseTime { InstanceId = id, AutoReleaseTime = iso(3600) })
        assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%dZ$", get(ecs, id).AutoReleaseTime)
        assert(ecs:StopInstance { InstanceId = id })
        world.advance(1800)
        assert(ecs:StartInstance { InstanceId = id })
        world.advance(1700)
        assert.are.equal("Running", status(ecs, id))
        world.advance(200)
        assert.is_nil(get(ecs, id))
        assert.are.equal(0, #disks(ecs, id))
        -- cancelled: kept
        assert(ecs:ModifyInstanceAutoReleaseTime { InstanceId = kept })
        assert.are.equal("", get(ecs, kept).AutoReleaseTime)
        world.advance(5000)
        assert.are.equal("Running", status(ecs, kept))
        local prepaid = running(ecs, { InstanceChargeType = "PrePaid", Period = 1 })
        expect(403, "ChargeTypeViolation", ecs:ModifyInstanceAutoReleaseTime { InstanceId = prepaid, AutoReleaseTime = iso(7200) })
      end)
    end)

    describe("spec and bandwidth", function()
      it("changes a pay-as-you-go instance's type while Stopped, within compatible families", function()
        local ecs = world.ecs()
        local id = running(ecs)
        expect(400, "InvalidInstanceStatus.NotStopped", ecs:ModifyInstanceSpec { InstanceId = id, InstanceType = "ecs.c7.xlarge" })
        assert(ecs:ModifyInstanceSpec { InstanceId = id, InternetMaxBandwidthOut = 20 })
        local i = get(ecs, id)
        assert.are.same({ 20, 10 }, { i.InternetMaxBandwidthOut, i.InternetMaxBandwidthIn })
        expect(400, "InvalidParameter", ecs:ModifyInstanceSpec { InstanceId = id, InternetMaxBandwidthOut = 200 })
        -- the same ClientToken: the same answer, nothing changed twice; other parameters refused
        assert(ecs:ModifyInstanceSpec { InstanceId = id, InternetMaxBandwidthOut = 30, ClientToken = "spec-1" })
        assert(ecs:ModifyInstanceSpec { InstanceId = id, InternetMaxBandwidthOut = 30, ClientToken = "spec-1" })
        expect(400, "IdempotenceParamNotMatch",
          ecs:ModifyInstanceSpec { InstanceId = id, InternetMaxBandwidthOut = 40, ClientToken = "spec-1" })
        assert.are.equal(30, get(ecs, id).InternetMaxBandwidthOut)
        assert(ecs:StopInstance { InstanceId = id })
        expect(403, "InvalidStatus.ValueNotSupported", ecs:ModifyInstanceSpec { InstanceId = id, InternetMaxBandwidthOut = 2 })
        world.advance(2)
        assert(ecs:ModifyInstanceSpec { InstanceId = id, InstanceType = "ecs.c7.xlarge", Async = true })
        i = get(ecs, id)
        assert.are.same({ "ecs.c7.xlarge", "ecs.c7", 4, 8192 }, { i.InstanceType, i.InstanceTypeFamily, i.Cpu, i.Memory })
        expect(400, "DependencyViolation.InstanceType", ecs:ModifyInstanceSpec { InstanceId = id, InstanceType = "ecs.t6-c1m1.large" })
        expect(400, "DependencyViolation.InstanceType", ecs:ModifyInstanceSpec { InstanceId = id, InstanceType = "ecs.c7.xlarge" })
        expect(400, "InvalidInstanceType.ValueNotSupported", ecs:ModifyInstanceSpec { InstanceId = id, InstanceType = "ecs.x" })
        expect(400, "InvalidParameter.Mismatch",
          ecs:ModifyInstanceSpec { InstanceId = id, InstanceType = "ecs.r7.large", InternetMaxBandwidthOut = 3 })
        expect(400, "UnsupportedParameter.NotEmulated",
          ecs:ModifyInstanceSpec { InstanceId = id, Temporary = { InternetMaxBandwidthOut = 50 } })
        local burst = stopped(ecs, { InstanceType = "ecs.t6-c1m1.large" })
        assert.are.equal("Standard", get(ecs, burst).CreditSpecification)
        expect(400, "DependencyViolation.InstanceType", ecs:ModifyInstanceSpec { InstanceId = burst, InstanceType = "ecs.g7.large" })
        local prepaid = stopped(ecs, { InstanceChargeType = "PrePaid", Period = 1 })
        expect(403, "ChargeTypeViolation", ecs:ModifyInstanceSpec { InstanceId = prepaid, InstanceType = "ecs.c7.large" })
      end)

      it("changes a subscription's type: upgrades, at most three downgrades while Stopped, reboots when asked", function()
        local ecs = world.ecs()
        local id = running(ecs, { InstanceChargeType = "PrePaid", Period = 1 })
        local function change(t, p)
          p = p or {}
          p.RegionId, p.InstanceId, p.InstanceType = R, id, t
          return ecs:ModifyPrepayInstanceSpec(p)
        end
        local res = assert(change("ecs.g7.xlarge", { RebootWhenFinished = true }))
        assert.is_string(res.OrderId)
        local i = get(ecs, id)
        assert.are.same({ "ecs.g7.xlarge", "Stopping" }, { i.InstanceType, i.Status })
        world.advance(4)
        assert.are.equal("Running", status(ecs, id))
        expect(400, "InvalidParameter", change("ecs.g7.large"))
        expect(400, "InvalidStatus.NotStopped", change("ecs.g7.large", { OperatorType = "downgrade" }))
        assert(ecs:StopInstance { InstanceId = id })
        world.advance(2)
        for _ = 1, 3 do
          assert(change("ecs.g7.large", { OperatorType = "downgrade" }))
          assert(change("ecs.g7.xlarge"))
        end
        expect(400, "InstanceDowngrade.QuotaExceed", change("ecs.g7.large", { OperatorType = "downgrade" }))
        expect(400, "InvalidInstanceType.ValueNotSupported", change("ecs.t6-c1m1.large", { OperatorType = "downgrade" }))
        assert(ecs:StartInstance { InstanceId = id })
        world.advance(2)
        expect(400, "InvalidStatus.NotStopped", change("ecs.r7.large", { OperatorType = "downgrade", RebootTime = iso(3600) }))
        expect(400, "InvalidRebootTime.MalFormed", change("ecs.r7.large", { RebootTime = "soon" }))
        local postpaid = running(ecs)
        expect(400, "InvalidInstanceChargeType.ValueNotSupported",
          ecs:ModifyPrepayInstanceSpec { RegionId = R, InstanceId = postpaid, InstanceType = "ecs.c7.large" })
      end)

      it("reboots at RebootTime, whatever happened in between", function()
        local ecs = world.ecs()
        local id = running(ecs, { InstanceChargeType = "PrePaid", Period = 1 })
        assert(ecs:ModifyPrepayInstanceSpec { RegionId = R, InstanceId = id, InstanceType = "ecs.r7.large",
          RebootTime = iso(3600) })
        assert(ecs:RebootInstance { InstanceId = id })
        world.advance(4)
        local started = get(ecs, id).StartTime
        world.advance(3500)
        assert.are.same({ "Running", started }, { status(ecs, id), get(ecs, id).StartTime })
        -- rebooted (Stopping, Starting, Running) when the clock passed RebootTime
        world.advance(200)
        local i = get(ecs, id)
        assert.are.equal("Running", i.Status)
        assert.are_not.equal(started, i.StartTime)
      end)

      it("changes bandwidth (ModifyInstanceNetworkSpec) and public IPs as each billing method allows", function()
        local ecs = world.ecs()
        local id = running(ecs)
        expect(400, "AllocateIpInvalidInstanceBandwidth", ecs:AllocatePublicIpAddress { InstanceId = id })
        assert.is_string(assert(ecs:ModifyInstanceNetworkSpec { InstanceId = id, InternetMaxBandwidthOut = 10 }).OrderId)
        local i = get(ecs, id)
        assert.are.same({ 10, 0 }, { i.InternetMaxBandwidthOut, #i.PublicIpAddress.IpAddress })
        local ip = assert(ecs:AllocatePublicIpAddress { InstanceId = id }).IpAddress
        assert.are.equal(ip, get(ecs, id).PublicIpAddress.IpAddress[1])
        expect(403, "AllocatedAlready", ecs:AllocatePublicIpAddress { InstanceId = id })
        local other = running(ecs)
        assert(ecs:ModifyInstanceNetworkSpec { InstanceId = other, InternetMaxBandwidthOut = 1 })
        expect(403, "IpInUse", ecs:AllocatePublicIpAddress { InstanceId = other, IpAddress = ip })
        expect(400, "InvalidIpAddress.Malformed", ecs:AllocatePublicIpAddress { InstanceId = other, IpAddress = "1.2" })
        local third = running(ecs)
        assert(ecs:ModifyInstanceNetworkSpec { InstanceId = third, InternetMaxBandwidthOut = 5, AllocatePublicIp = true,
          NetworkChargeType = "PayByBandwidth" })
        i = get(ecs, third)
        assert.are.same({ 1, "PayByBandwidth" }, { #i.PublicIpAddress.IpAddress, i.InternetChargeType })
        expect(400, "InvalidParam.AllocatePublicIp", ecs:ModifyInstanceNetworkSpec { InstanceId = third, AllocatePublicIp = true })
        expect(400, "InvalidInternetMaxBandwidthOut.ValueNotSupported",
          ecs:ModifyInstanceNetworkSpec { InstanceId = third, InternetMaxBandwidthOut = 101 })
        -- subscriptions: an address comes with the first bandwidth; paying by bandwidth only goes up
        local sub = running(ecs, { InstanceChargeType = "PrePaid", Period = 1, InternetChargeType = "PayByBandwidth" })
        assert(ecs:ModifyInstanceNetworkSpec { InstanceId = sub, InternetMaxBandwidthOut = 8 })
        assert.are.equal(1, #get(ecs, sub).PublicIpAddress.IpAddress)
        expect(400, "DecreasedBandwidthNotAllowed", ecs:ModifyInstanceNetworkSpec { InstanceId = sub, InternetMaxBandwidthOut = 4 })
        expect(403, "OperationDenied", ecs:ModifyInstanceNetworkSpec { InstanceId = sub, NetworkChargeType = "PayByTraffic" })
        local pending = run(ecs)[1]
        expect(403, "IncorrectInstanceStatus", ecs:ModifyInstanceNetworkSpec { InstanceId = pending, InternetMaxBandwidthOut = 2 })
      end)
    end)

    describe("VPC attributes", function()
      it("moves a Stopped instance to another vSwitch of its zone, and to another VPC with its groups", function()
        local ecs = world.ecs()
        local id = running(ecs)
        local vsw = network(ecs)
        local other = assert(ecs:CreateVSwitch { VpcId = vsw.VpcId, ZoneId = Z, CidrBlock = "172.16.64.0/20" }).VSwitchId
        local far_zone = network(ecs, "cn-hangzhou-i")
        world.advance(1)
        expect(400, "IncorrectInstanceStatus", ecs:ModifyInstanceVpcAttribute { InstanceId = id, VSwitchId = other })
        assert(ecs:StopInstance { InstanceId = id })
        world.advance(2)
        expect(400, "InvalidVSwitchId.Mismatch",
          ecs:ModifyInstanceVpcAttribute { InstanceId = id, VSwitchId = far_zone.VSwitchId })
        expect(404, "InvalidVSwitchId.NotFound", ecs:ModifyInstanceVpcAttribute { InstanceId = id, VSwitchId = "vsw-none" })
        expect(400, "InvalidPrivateIpAddress.Mismatch",
          ecs:ModifyInstanceVpcAttribute { InstanceId = id, VSwitchId = other, PrivateIpAddress = "172.16.0.50" })
        assert(ecs:ModifyInstanceVpcAttribute { InstanceId = id, VSwitchId = other, PrivateIpAddress = "172.16.64.50" })
        local i = get(ecs, id)
        assert.are.same({ other, "172.16.64.50", "172.16.64.50" }, { i.VpcAttributes.VSwitchId,
          i.VpcAttributes.PrivateIpAddress.IpAddress[1], i.NetworkInterfaces.NetworkInterface[1].PrimaryIpAddress })
        -- the next change waits for a start
        expect(400, "InvalidPrivateIp.Changing",
          ecs:ModifyInstanceVpcAttribute { InstanceId = id, VSwitchId = other, PrivateIpAddress = "172.16.64.51" })
        assert(ecs:StartInstance { InstanceId = id })
        world.advance(2)
        assert(ecs:StopInstance { InstanceId = id })
        world.advance(2)
        expect(400, "InvalidPrivateIpAddress.Duplicated",
          ecs:ModifyInstanceVpcAttribute { InstanceId = id, VSwitchId = other, PrivateIpAddress = "172.16.64.50" })
        -- another VPC: its vSwitch in the same zone, and groups of that VPC
        local vpc = assert(ecs:CreateVpc { RegionId = R, CidrBlock = "10.0.0.0/16" }).VpcId
        world.advance(1)
        local new_vsw = assert(ecs:CreateVSwitch { VpcId = vpc, ZoneId = Z, CidrBlock = "10.0.1.0/24" }).VSwitchId
        local new_sg = assert(ecs:CreateSecurityGroup { RegionId = R, VpcId = vpc }).SecurityGroupId
        world.advance(1)
        local _, old_sg = network(ecs)
        expect(404, "InvalidVSwitchId.NotFound", ecs:ModifyInstanceVpcAttribute { InstanceId = id, VSwitchId = new_vsw })
        expect(400, "MissingParameter.SecurityGroupId.1",
          ecs:ModifyInstanceVpcAttribute { InstanceId = id, VSwitchId = new_vsw, VpcId = vpc })
        expect(403, "OperationDenied", ecs:ModifyInstanceVpcAttribute { InstanceId = id, VSwitchId = new_vsw, VpcId = vpc,
          SecurityGroupId = { old_sg.SecurityGroupId } })
        -- not with a secondary interface attached
        local eni = assert(ecs:CreateNetworkInterface { RegionId = R, VSwitchId = other,
          SecurityGroupId = old_sg.SecurityGroupId }).NetworkInterfaceId
        assert(ecs:AttachNetworkInterface { RegionId = R, NetworkInterfaceId = eni, InstanceId = id })
        world.advance(1)
        expect(403, "OperationDenied", ecs:ModifyInstanceVpcAttribute { InstanceId = id, VSwitchId = new_vsw, VpcId = vpc,
          SecurityGroupId = { new_sg } })
        assert(ecs:DetachNetworkInterface { RegionId = R, NetworkInterfaceId = eni, InstanceId = id })
        world.advance(1)
        assert(ecs:DeleteNetworkInterface { RegionId = R, NetworkInterfaceId = eni })
        assert(ecs:ModifyInstanceVpcAttribute { InstanceId = id, VSwitchId = new_vsw, VpcId = vpc,
          SecurityGroupId = { new_sg } })
        i = get(ecs, id)
        assert.are.same({ vpc, new_vsw, new_sg }, { i.VpcAttributes.VpcId, i.VpcAttributes.VSwitchId,
          i.SecurityGroupIds.SecurityGroupId[1] })
        assert.matches("^10%.0%.1%.", i.VpcAttributes.PrivateIpAddress.IpAddress[1])
        -- the old vSwitch is free to go, the new one and the new group are not
        assert(ecs:DeleteVSwitch { VSwitchId = other })
        expect(400, "DependencyViolation", ecs:DeleteVSwitch { VSwitchId = new_vsw })
        expect(403, "DependencyViolation", ecs:DeleteSecurityGroup { RegionId = R, SecurityGroupId = new_sg })
        -- a new instance waits for its first start
        local fresh = assert(ecs:CreateInstance(params(ecs))).InstanceId
        world.advance(2)
        expect(400, "InvalidPrivateIp.Changing", ecs:ModifyInstanceVpcAttribute { InstanceId = fresh,
          VSwitchId = vsw.VSwitchId, PrivateIpAddress = "172.16.0.200" })
      end)
    end)

    describe("settings", function()
      it("keeps the private pool match of an instance", function()
        local ecs = world.ecs()
        local id = running(ecs)
        local function pool()
          local res = assert(ecs:DescribeInstanceAttachmentAttributes { RegionId = R, InstanceIds = { id } })
          local i = res.Instances.Instance[1]
          return { i.PrivatePoolOptionsMatchCriteria, i.PrivatePoolOptionsId }
        end
        assert.are.same({ "None", "" }, pool())
        assert(ecs:ModifyInstanceAttachmentAttributes { RegionId = R, InstanceId = id,
          PrivatePoolOptions = { MatchCriteria = "Open" } })
        assert.are.same({ "Open", "" }, pool())
        expect(400, "MissingParameter.PrivatePoolOptions.Id", ecs:ModifyInstanceAttachmentAttributes { RegionId = R,
          InstanceId = id, PrivatePoolOptions = { MatchCriteria = "Target" } })
        expect(400, "Invalid.PrivatePoolOptions.Id", ecs:ModifyInstanceAttachmentAttributes { RegionId = R,
          InstanceId = id, PrivatePoolOptions = { MatchCriteria = "Target", Id = "eap-none" } })
        expect(400, "InvalidParameter", ecs:ModifyInstanceAttachmentAttributes { RegionId = R,
          InstanceId = id, PrivatePoolOptions = { MatchCriteria = "None", Id = "eap-none" } })
      end)

      it("refuses deployment sets and dedicated hosts the emulator does not have", function()
        local ecs = world.ecs()
        local id = running(ecs)
        expect(404, "DeploymentSet.NotFound",
          ecs:ModifyInstanceDeployment { RegionId = R, InstanceId = id, DeploymentSetId = "ds-none", Force = true })
        expect(404, "InvalidDedicatedHostId.NotFound",
          ecs:ModifyInstanceDeployment { RegionId = R, InstanceId = id, DedicatedHostId = "dh-none" })
        expect(403, "IncorrectInstanceStatus",
          ecs:ModifyInstanceDeployment { RegionId = R, InstanceId = id, RemoveFromDeploymentSet = true })
        assert(ecs:ModifyInstanceDeployment { RegionId = R, InstanceId = id, RemoveFromDeploymentSet = true, Force = true })
        assert.are.equal("", get(ecs, id).DeploymentSetId)
        expect(400, "UnsupportedParameter.NotEmulated",
          ecs:ModifyInstanceDeployment { RegionId = R, InstanceId = id, Tenancy = "host" })
      end)

      it("keeps maintenance attributes", function()
        local ecs = world.ecs()
        local id = running(ecs)
        local function attrs()
          local res = assert(ecs:DescribeInstanceMaintenanceAttributes { RegionId = R, InstanceId = { id } })
          return res.MaintenanceAttributes.MaintenanceAttribute[1]
        end
        local m = attrs()
        assert.are.same({ "AutoRecover", "AutoRecover", false, 0 }, { m.ActionOnMaintenance.Value,
          m.ActionOnMaintenance.DefaultValue, m.NotifyOnMaintenance, #m.MaintenanceWindows.MaintenanceWindow })
        assert.are.equal(3, #m.ActionOnMaintenance.SupportedValues.SupportedValue)
        assert(ecs:ModifyInstanceMaintenanceAttributes { RegionId = R, InstanceId = { id }, ActionOnMaintenance = "Stop",
          NotifyOnMaintenance = true, MaintenanceWindow = { { StartTime = "22:00:00", EndTime = "02:00:00" } } })
        m = attrs()
        assert.are.same({ "Stop", true, "22:00:00", "02:00:00" }, { m.ActionOnMaintenance.Value, m.NotifyOnMaintenance,
          m.MaintenanceWindows.MaintenanceWindow[1].StartTime, m.MaintenanceWindows.MaintenanceWindow[1].EndTime })
        expect(403, "InvalidParameter", ecs:ModifyInstanceMaintenanceAttributes { RegionId = R, InstanceId = { id },
          MaintenanceWindow = { { StartTime = "02:30:00", EndTime = "04:00:00" } } })
        expect(403, "InvalidParameter", ecs:ModifyInstanceMaintenanceAttributes { RegionId = R, InstanceId = { id },
          ActionOnMaintenance = "Pray" })
        expect(404, "InvalidInstanceId.NotFound",
          ecs:ModifyInstanceMaintenanceAttributes { RegionId = R, InstanceId = { "i-none" }, NotifyOnMaintenance = true })
      end)

      it("changes metadata options", function()
        local ecs = world.ecs()
        local id = running(ecs)
        assert(ecs:ModifyInstanceMetadataOptions { RegionId = R, InstanceId = id, HttpEndpoint = "enabled",
          HttpTokens = "required", HttpPutResponseHopLimit = 5, InstanceMetadataTags = "enabled" })
        local m = get(ecs, id).MetadataOptions
        assert.are.same({ "enabled", "required", 5, "enabled" },
          { m.HttpEndpoint, m.HttpTokens, m.HttpPutResponseHopLimit, m.InstanceMetadataTags })
        expect(400, "InvalidHttpEndpoint.NotSupported",
          ecs:ModifyInstanceMetadataOptions { RegionId = R, InstanceId = id, HttpEndpoint = "maybe" })
        expect(400, "InvalidHttpPutResponseHopLimit.NotSupported",
          ecs:ModifyInstanceMetadataOptions { RegionId = R, InstanceId = id, HttpEndpoint = "enabled",
            HttpPutResponseHopLimit = 65 })
        expect(404, "InvalidInstanceId.NotFound",
          ecs:ModifyInstanceMetadataOptions { RegionId = R, InstanceId = "i-none", HttpEndpoint = "enabled" })
      end)

      it("modifies attributes as the ModifyInstanceAttribute table says", function()
        local ecs = world.ecs()
        local id = running(ecs)
        assert(ecs:ModifyInstanceAttribute { InstanceId = id, InstanceName = "renamed", HostName = "host-1",
          Description = "a description" })
        local i = get(ecs, id)
        assert.are.same({ "renamed", "host-1", "a description" }, { i.InstanceName, i.HostName, i.Description })
        expect(400, "InvalidInstanceName.Malformed", ecs:ModifyInstanceAttribute { InstanceId = id, InstanceName = "-x" })
        expect(400, "InvalidHostName.Malformed", ecs:ModifyInstanceAttribute { InstanceId = id, HostName = "a..b" })
        expect(403, "IncorrectInstanceStatus", ecs:ModifyInstanceAttribute { InstanceId = id, UserData = "ZWNobyBoaQ==" })
        expect(400, "InvalidParameter.CreditSpecification",
          ecs:ModifyInstanceAttribute { InstanceId = id, CreditSpecification = "Unlimited" })
        expect(404, "InvalidInstanceId.NotFound", ecs:ModifyInstanceAttribute { InstanceId = "i-none", InstanceName = "abc" })
      end)
    end)
  end)
end
