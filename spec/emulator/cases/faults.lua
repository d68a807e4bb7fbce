-- Fault injection (Throttling for N calls, HTTP 500/503, latency, closed connection,
-- commit-then-drop), ClientToken idempotency, and the control endpoint.
return function(world)
  describe(world.name .. " emulator: faults and idempotency", function()
    before_each(world.reset)
    local R, Z = "cn-hangzhou", "cn-hangzhou-h"
    local function no_wait() end

    local function count_disks(ecs)
      return assert(ecs:DescribeDisks { RegionId = R, DiskType = "data" }).TotalCount
    end

    it("throttles the next N calls of an action, and a retrying client gets through", function()
      world.inject("DescribeRegions", { type = "throttling", count = 2 })
      local ecs = world.ecs()
      for _ = 1, 2 do
        local res, err = ecs:DescribeRegions {}
        assert.is_nil(res)
        assert.are.same({ "Throttling", 400, true }, { err.code, err.status, err.retryable })
      end
      assert(ecs:DescribeRegions {})
      assert(ecs:DescribeZones { RegionId = R }) -- other actions were never affected
      world.inject("DescribeRegions", { type = "throttling", count = 2 })
      local res, err = world.ecs { max_retries = 3, sleep = no_wait }:DescribeRegions {}
      assert.is_nil(err)
      assert.is_table(res.Regions)
    end)

    it("answers HTTP 500 and 503 with the service's error bodies", function()
      world.inject("DescribeZones", { type = "status", status = 500 })
      world.inject("DescribeZones", { type = "status", status = 503 })
      local ecs = world.ecs()
      local _, err = ecs:DescribeZones { RegionId = R }
      assert.are.same({ "InternalError", 500 }, { err.code, err.status })
      _, err = ecs:DescribeZones { RegionId = R }
      assert.are.same({ "ServiceUnavailable", 503 }, { err.code, err.status })
      assert(ecs:DescribeZones { RegionId = R })
      world.inject("*", { type = "status", status = 503 })
      _, err = ecs:DescribeInstances { RegionId = R }
      assert.are.equal("ServiceUnavailable", err.code)
    end)

    it("adds latency: within the timeout the call succeeds, beyond it the call times out", function()
      world.inject("DescribeRegions", { type = "latency", seconds = 0.2 })
      local ecs = world.ecs { timeout = 1.5 }
      assert(ecs:DescribeRegions {})
      if world.slept then assert.are.same({ 0.2 }, world.slept) end
      world.inject("DescribeRegions", { type = "latency", seconds = 3 })
      local _, err = world.ecs { timeout = 0.5 }:DescribeRegions {}
      assert.are.equal("timeout", err.kind)
    end)

    it("closes the connection without an answer", function()
      world.inject("DescribeRegions", { type = "close" })
      local _, err = world.ecs():DescribeRegions {}
      assert.are.equal("network", err.kind)
      assert(world.ecs():DescribeRegions {})
    end)

    it("commits then drops: the disk exists although the client saw a failure", function()
      local ecs = world.ecs()
      world.inject("CreateDisk", { type = "commit_drop" })
      local res, err = ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 }
      assert.is_nil(res)
      assert.are.equal("network", err.kind)
      assert.are.equal(1, count_disks(ecs))
    end)

    it("honours ClientToken: a retry after a dropped answer creates nothing new", function()
      local ecs = world.ecs { max_retries = 2, sleep = no_wait }
      world.inject("CreateDisk", { type = "commit_drop" })
      -- the client fills in a ClientToken and keeps it across its retries
      local res = assert(ecs:CreateDisk { RegionId = R, ZoneId = Z, Size = 20 })
      assert.are.equal(1, count_disks(ecs))
      local p = { RegionId = R, ZoneId = Z, Size = 30, ClientToken = "token-123" }
      local first = assert(ecs:CreateDisk(p)).DiskId
      local second = assert(ecs:CreateDisk(p)).DiskId
      assert.are.equal(first, second)
      assert.are_not.equal(res.DiskId, first)
      assert.are.equal(2, count_disks(ecs))
      p.Size = 40
      local _, err = ecs:CreateDisk(p)
      assert.are.same({ "IdempotentParameterMismatch", 400 }, { err.code, err.status })
    end)

    it("lists and clears faults through the control endpoint", function()
      world.inject("DeleteDisk", { type = "throttling", count = 3 })
      local status, body = world.control("GET", "/_emulator/faults")
      assert.are.equal(200, status)
      assert.are.same({ Action = "DeleteDisk", Type = "throttling", Count = 3, Always = false }, body.Faults[1])
      status, body = world.control("POST", "/_emulator/faults", { Action = "X", Type = "earthquake" })
      assert.are.equal(400, status)
      assert.matches("unknown fault type", body.Message)
      assert.are.equal(200, (world.control("DELETE", "/_emulator/faults")))
      body = select(2, world.control("GET", "/_emulator/faults"))
      assert.are.same({}, body.Faults)
      body = select(2, world.control("GET", "/_emulator/health"))
      assert.is_true(body.Ok)
      assert.are.equal(66, #body.Ens) -- the ENS table of ACTIONS.md, the four seed actions, ReleaseInstance, DescribeLoadBalancers
    end)
  end)
end
