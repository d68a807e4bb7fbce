-- The instance queries and the batch reboot: DescribeInstanceAttribute, DescribeInstanceStatus,
-- DescribeUserData, RebootInstances.
return function(world)
  describe(world.name .. " emulator: instance queries", function()
    before_each(world.reset)
    local R = "cn-hangzhou"

    it("describes one instance, the statuses of many and the user data", function()
      local ecs = world.ecs()
      local insts = assert(ecs:DescribeInstances { RegionId = R }).Instances.Instance
      local attr = assert(ecs:DescribeInstanceAttribute { InstanceId = insts[1].InstanceId })
      assert.are.same({ insts[1].InstanceId, insts[1].InstanceType, "Running" }, { attr.InstanceId, attr.InstanceType,
        attr.Status })
      assert.are.equal(insts[1].VpcAttributes.VSwitchId, attr.VpcAttributes.VSwitchId)
      local _, err = ecs:DescribeInstanceAttribute { InstanceId = "i-none" }
      assert.are.equal("InvalidInstanceId.NotFound", err.code)
      local st = assert(ecs:DescribeInstanceStatus { RegionId = R, PageSize = 2 })
      assert.are.same({ 3, 2 }, { st.TotalCount, #st.InstanceStatuses.InstanceStatus })
      assert.are.equal("Running", st.InstanceStatuses.InstanceStatus[1].Status)
      local one = assert(ecs:DescribeInstanceStatus { RegionId = R, InstanceId = { insts[2].InstanceId } })
      assert.are.equal(insts[2].InstanceId, one.InstanceStatuses.InstanceStatus[1].InstanceId)
      local ud = assert(ecs:DescribeUserData { RegionId = R, InstanceId = insts[1].InstanceId })
      assert.are.same({ insts[1].InstanceId, R }, { ud.InstanceId, ud.RegionId })
    end)

    it("reboots many instances through Stopping and Starting back to Running", function()
      local ecs = world.ecs()
      local insts = assert(ecs:DescribeInstances { RegionId = R }).Instances.Instance
      local res = assert(ecs:RebootInstances { RegionId = R, InstanceId = { insts[1].InstanceId, insts[2].InstanceId } })
      local r = res.InstanceResponses.InstanceResponse
      assert.are.same({ "Running", "Stopping", "200" }, { r[1].PreviousStatus, r[1].CurrentStatus, r[1].Code })
      local function status(i)
        return assert(ecs:DescribeInstanceStatus { RegionId = R, InstanceId = { insts[i].InstanceId } })
          .InstanceStatuses.InstanceStatus[1].Status
      end
      assert.are.equal("Stopping", status(1))
      world.advance(10)
      assert.are.equal("Running", status(1))
      assert.are.equal("Running", status(2))
      local _, err = ecs:RebootInstances { RegionId = R, InstanceId = { "i-none" } }
      assert.are.equal("InvalidInstanceId.NotFound", err.code)
    end)
  end)
end
