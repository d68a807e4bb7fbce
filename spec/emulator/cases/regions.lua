-- DescribeRegions, DescribeZones, DescribeInstances (fixture, filters, both paginations),
-- StopInstance / StartInstance.
return function(world)
  describe(world.name .. " emulator: regions, zones and instances", function()
    before_each(world.reset)

    it("lists the fixture's regions and zones", function()
      local ecs = world.ecs()
      local res = assert(ecs:DescribeRegions {})
      assert.are.equal(6, #res.Regions.Region)
      assert.are.same({ RegionId = "cn-hangzhou", LocalName = "China (Hangzhou)",
        RegionEndpoint = "ecs.cn-hangzhou.aliyuncs.com", Status = "available" }, res.Regions.Region[1])
      local z = assert(ecs:DescribeZones { RegionId = "cn-hangzhou" })
      assert.are.equal(3, #z.Zones.Zone)
      assert.are.equal("cn-hangzhou-h", z.Zones.Zone[1].ZoneId)
      assert.is_truthy(z.Zones.Zone[1].AvailableDiskCategories.DiskCategories[1])
      local terse = assert(ecs:DescribeZones { RegionId = "cn-hangzhou", Verbose = false })
      assert.is_nil(terse.Zones.Zone[1].AvailableDiskCategories)
    end)

    it("describes a few Running instances per region with the documented fields", function()
      local res = assert(world.ecs():DescribeInstances { RegionId = "cn-shanghai" })
      assert.are.equal(3, res.TotalCount)
      assert.are.equal(1, res.PageNumber)
      assert.are.equal(10, res.PageSize)
      local inst = res.Instances.Instance[1]
      assert.are.equal("Running", inst.Status)
      assert.are.equal("cn-shanghai", inst.RegionId)
      assert.matches("^i%-", inst.InstanceId)
      assert.are.equal("vpc", inst.InstanceNetworkType)
      assert.is_string(inst.VpcAttributes.PrivateIpAddress.IpAddress[1])
      assert.are.same({}, inst.OperationLocks.LockReason)
    end)

    it("filters instances and pages through them both ways", function()
      local ecs = world.ecs()
      local all = assert(ecs:DescribeInstances { RegionId = "cn-hangzhou" }).Instances.Instance
      local one = assert(ecs:DescribeInstances { RegionId = "cn-hangzhou", InstanceIds = { all[2].InstanceId } })
      assert.are.equal(1, one.TotalCount)
      assert.are.equal(all[2].InstanceId, one.Instances.Instance[1].InstanceId)
      local p2 = assert(ecs:DescribeInstances { RegionId = "cn-hangzhou", PageSize = 2, PageNumber = 2 })
      assert.are.equal(3, p2.TotalCount)
      assert.are.equal(1, #p2.Instances.Instance)
      assert.are.equal(all[3].InstanceId, p2.Instances.Instance[1].InstanceId)
      local seen, token = {}, nil
      for _ = 1, 5 do -- bounded: three instances, one per page
        local page = assert(ecs:DescribeInstances { RegionId = "cn-hangzhou", MaxResults = 1, NextToken = token })
        seen[#seen + 1] = page.Instances.Instance[1].InstanceId
        token = page.NextToken
        if token == "" then break end
      end
      assert.are.same({ all[1].InstanceId, all[2].InstanceId, all[3].InstanceId }, seen)
      local _, err = ecs:DescribeInstances { RegionId = "cn-hangzhou", NextToken = "bogus" }
      assert.are.equal("InvalidParameter.NextToken", err.code)
      _, err = ecs:DescribeInstances { RegionId = "cn-hangzhou", PageSize = 101 }
      assert.are.equal("InvalidParameter", err.code)
      _, err = ecs:DescribeInstances { RegionId = "cn-hangzhou", Status = "Sleeping" }
      assert.are.same({ "InvalidStatus.NotFound", 404 }, { err.code, err.status })
    end)

    it("lists instance types, their families, what a zone has available, and public images", function()
      local ecs = world.ecs()
      local types = assert(ecs:DescribeInstanceTypes { InstanceTypeFamily = "ecs.g7" }).InstanceTypes.InstanceType
      assert.are.equal(2, #types)
      assert.are.same({ "ecs.g7.large", 2, 8 }, { types[1].InstanceTypeId, types[1].CpuCoreCount, types[1].MemorySize })
      local big = assert(ecs:DescribeInstanceTypes { MinimumCpuCoreCount = 4 }).InstanceTypes.InstanceType
      for _, t in ipairs(big) do assert.is_true(t.CpuCoreCount >= 4) end
      local fams = assert(ecs:DescribeInstanceTypeFamilies { RegionId = "cn-hangzhou" }).InstanceTypeFamilies
        .InstanceTypeFamily
      assert.is_true(#fams >= 3)
      local avail = assert(ecs:DescribeAvailableResource { RegionId = "cn-hangzhou", DestinationResource = "InstanceType",
        ZoneId = "cn-hangzhou-h" }).AvailableZones.AvailableZone
      assert.are.equal(1, #avail)
      local supported = avail[1].AvailableResources.AvailableResource[1].SupportedResources.SupportedResource
      assert.are.equal("ecs.g7.large", supported[1].Value)
      local disks = assert(ecs:DescribeAvailableResource { RegionId = "cn-hangzhou", DestinationResource = "DataDisk" })
        .AvailableZones.AvailableZone
      assert.are.equal(3, #disks)
      -- DescribeAvailableResource names its own codes (its published table)
      local _, err = ecs:DescribeAvailableResource { RegionId = "cn-hangzhou", DestinationResource = "Nothing" }
      assert.are.same({ "Invalid.DestinationResource", 404 }, { err.code, err.status })
      _, err = ecs:DescribeAvailableResource { RegionId = "cn-nowhere", DestinationResource = "Zone" }
      assert.are.same({ "Invalid.RegionId", 404 }, { err.code, err.status })
      _, err = ecs:DescribeAvailableResource { RegionId = "cn-hangzhou", DestinationResource = "InstanceType",
        InstanceType = "ecs.g7.large", Cores = 2 }
      assert.are.same({ "InvalidParam.TypeAndCpuMem.Conflict", 403 }, { err.code, err.status })
      local images = assert(ecs:DescribeImages { RegionId = "cn-hangzhou", ImageOwnerAlias = "system" })
      assert.is_true(images.TotalCount >= 3)
      assert.are.equal("Available", images.Images.Image[1].Status)
      assert.are.equal(1, assert(ecs:DescribeImages { RegionId = "cn-hangzhou", OSType = "windows" }).TotalCount)
    end)

    it("stops and starts instances with the documented status rules", function()
      local ecs = world.ecs()
      local id = assert(ecs:DescribeInstances { RegionId = "cn-beijing" }).Instances.Instance[1].InstanceId
      assert(ecs:StopInstance { InstanceId = id })
      local function status()
        return assert(ecs:DescribeInstances { RegionId = "cn-beijing", InstanceIds = { id } }).Instances.Instance[1].Status
      end
      assert.are.equal("Stopping", status())
      world.advance(3)
      local res = assert(ecs:DescribeInstances { RegionId = "cn-beijing", Status = "Stopped" })
      assert.are.equal(id, res.Instances.Instance[1].InstanceId)
      local _, err = ecs:StopInstance { InstanceId = id }
      assert.are.equal("IncorrectInstanceStatus", err.code)
      assert.are.equal(403, err.status)
      assert(ecs:StartInstance { InstanceId = id })
      _, err = ecs:StartInstance { InstanceId = "i-nothere" }
      assert.are.equal("InvalidInstanceId.NotFound", err.code)
      assert.are.equal(404, err.status)
    end)
  end)
end
