-- Playbook helpers and retry safety against the emulator (in-process transport, the same
-- handler that nginx serves): pagination at its edges, waiters on a moving clock, batches,
-- and creates that are retried without being duplicated.
local aliyun = require "aliyun"
local emulator = require "aliyun.emulator"

local function world(opts)
  opts = opts or {}
  local t = 1800000000
  local emu = emulator.new { seed = 7, now = function() return t end, delays = opts.delays, sleep = function() end }
  local client_opts = {
    endpoint = "http://127.0.0.1:1", access_key_id = "testid", access_key_secret = "testsecret",
    transport = emulator.transport(emu),
    sleep = function(s) t = t + s end, -- retries and waiters move the emulator's clock
  }
  for k, v in pairs(opts.client or {}) do client_opts[k] = v end
  local w = { emu = emu, ecs = aliyun.ecs(client_opts), ens = aliyun.ens(client_opts) }
  function w.advance(s) t = t + s end
  function w.now() return t end
  function w.zone()
    local z = assert(w.ecs:DescribeZones { RegionId = "cn-hangzhou" })
    return z.Zones.Zone[1].ZoneId
  end
  return w
end

local function create_disks(w, n, name)
  local zone = w.zone()
  for i = 1, n do
    assert(w.ecs:CreateDisk { RegionId = "cn-hangzhou", ZoneId = zone, Size = 20, DiskName = name,
      ClientToken = name .. "-" .. i })
  end
end

local function collect(iter)
  local ids, seen, dup = {}, {}, 0
  for item, err in iter do
    assert(item, err and tostring(err))
    if seen[item.DiskId] then dup = dup + 1 end
    seen[item.DiskId] = true
    ids[#ids + 1] = item.DiskId
  end
  return ids, dup
end

describe("pagination against the emulator", function()
  for _, n in ipairs { 0, 1, 10, 1000 } do
    it("lists " .. n .. " disks with PageNumber/PageSize: nothing lost, nothing repeated", function()
      local w = world()
      create_disks(w, n, "bulk")
      local ids, dup = collect(w.ecs:each("DescribeDisks",
        { RegionId = "cn-hangzhou", DiskName = "bulk", PageNumber = 1, PageSize = 10 }))
      assert.equal(n, #ids)
      assert.equal(0, dup)
      local pages = 0
      for page in w.ecs:pages("DescribeDisks", { RegionId = "cn-hangzhou", DiskName = "bulk", PageSize = 10 }) do
        pages = pages + 1
        assert.equal(pages, page.PageNumber)
      end
      -- a full last page is not followed by an empty one; an empty listing is one page
      assert.equal(math.max(1, math.ceil(n / 10)), pages)
    end)

    it("lists " .. n .. " disks with NextToken/MaxResults", function()
      local w = world()
      create_disks(w, n, "bulk")
      local ids, dup = collect(w.ecs:each("DescribeDisks", { RegionId = "cn-hangzhou", DiskName = "bulk", MaxResults = 10 }))
      assert.equal(n, #ids)
      assert.equal(0, dup)
    end)
  end

  it("finds the item list by itself, or takes it from the items option", function()
    local w = world()
    create_disks(w, 3, "auto")
    local ids = collect(w.ecs:each("DescribeDisks", { RegionId = "cn-hangzhou", DiskName = "auto" }))
    assert.equal(3, #ids)
    ids = collect(w.ecs:each("DescribeDisks", { RegionId = "cn-hangzhou", DiskName = "auto" }, { items = "Disks.Disk" }))
    assert.equal(3, #ids)
  end)

  it("fails on an items path that names no list, rather than yielding nothing", function()
    local w = world()
    create_disks(w, 3, "typo")
    local iter = w.ecs:each("DescribeDisks", { RegionId = "cn-hangzhou", DiskName = "typo" }, { items = "Disks.Disks" })
    local item, err = iter()
    assert.equal(false, item)
    assert.equal("validation", err.kind)
    assert.matches("no list at items path Disks.Disks in the response; its list is at Disks.Disk", err.message, 1, true)
    -- pages() with the same mistake: the error, not one page taken for the last
    local pages = w.ecs:pages("DescribeDisks", { RegionId = "cn-hangzhou", PageSize = 1 }, { items = "Disk.Disks" })
    local page, perr = pages()
    assert.equal(false, page)
    assert.matches("its list is at Disks.Disk", perr.message, 1, true)
    -- an empty listing with the right path is no error
    assert.is_nil((w.ecs:each("DescribeDisks", { RegionId = "cn-hangzhou", DiskName = "none" }, { items = "Disks.Disk" })()))
  end)

  it("ends with the error of a page that fails, instead of swallowing it", function()
    local w = world { client = { max_retries = 0 } }
    create_disks(w, 25, "fail")
    local got, failure = 0, nil
    local pages = w.ecs:pages("DescribeDisks", { RegionId = "cn-hangzhou", DiskName = "fail", PageSize = 10 })
    assert(pages())
    assert(w.emu:inject("DescribeDisks", { type = "throttling" }))
    for page, err in pages do
      if page then got = got + 1 else failure = err end
    end
    assert.equal(0, got)
    assert.equal("Throttling", failure.code)
    assert.equal("DescribeDisks", failure.action)
  end)
end)

describe("waiters against the emulator", function()
  it("waits for a new disk to become Available, then In_use once attached", function()
    local w = world { delays = { disk_create = 30, disk_attach = 10 } }
    local zone = w.zone()
    local created = assert(w.ecs:CreateDisk { RegionId = "cn-hangzhou", ZoneId = zone, Size = 20 })
    local r = assert(w.ecs:wait_for("DiskAvailable", { RegionId = "cn-hangzhou", DiskId = created.DiskId },
      { interval = 5, progress = false }))
    assert.equal("Available", r.Disks.Disk[1].Status)
    local inst = assert(w.ecs:DescribeInstances { RegionId = "cn-hangzhou", ZoneId = zone }).Instances.Instance[1]
    assert(w.ecs:AttachDisk { InstanceId = inst.InstanceId, DiskId = created.DiskId })
    r = assert(w.ecs:wait_for("DiskInUse", { RegionId = "cn-hangzhou", DiskId = created.DiskId },
      { interval = 2, progress = false }))
    assert.equal("In_use", r.Disks.Disk[1].Status)
  end)

  it("gives a timeout error that says what it last saw", function()
    local w = world { delays = { disk_create = 1000 } }
    local created = assert(w.ecs:CreateDisk { RegionId = "cn-hangzhou", ZoneId = w.zone(), Size = 20 })
    local r, err = w.ecs:wait_for("DiskAvailable", { RegionId = "cn-hangzhou", DiskId = created.DiskId },
      { timeout = 60, interval = 5, progress = false, clock = w.now })
    assert.is_nil(r)
    assert.equal("timeout", err.kind)
    assert.matches("last state: Creating", err.message)
  end)

  it("polls until the timeout is up, the last poll at the deadline, not one interval early", function()
    local w = world { delays = { disk_create = 1000 } }
    local created = assert(w.ecs:CreateDisk { RegionId = "cn-hangzhou", ZoneId = w.zone(), Size = 20 })
    local start = w.now()
    local r, err = w.ecs:wait_for("DiskAvailable", { RegionId = "cn-hangzhou", DiskId = created.DiskId },
      { timeout = 5, interval = 2, progress = false, clock = w.now })
    assert.is_nil(r)
    assert.equal("timeout", err.kind)
    assert.equal(5, w.now() - start) -- slept 2, then the 3 s left (the next interval was 3)
    assert.matches("still not ready after 5 s and 3 polls", err.message, 1, true)
  end)

  it("stops at once when the resource is not there", function()
    local w = world()
    local start = w.now()
    local r, err = w.ecs:wait_for("DiskAvailable", { RegionId = "cn-hangzhou", DiskId = "d-nosuchdisk" },
      { interval = 2, progress = false, clock = w.now })
    assert.is_nil(r)
    assert.equal("service", err.kind)
    assert.matches("nothing to wait for: the resource is not there (not found, 2 polls in a row)", err.message, 1, true)
    assert.equal(2, w.now() - start) -- one interval, not the 600 s default
  end)

  it("waits on a predicate of the caller's own", function()
    local w = world()
    local polls = 0
    local r = assert(w.ecs:wait("DescribeRegions", {}, function()
      polls = polls + 1
      return polls == 3, "poll " .. polls
    end, { interval = 1, progress = false }))
    assert.is_table(r.Regions)
    assert.equal(3, polls)
  end)
end)

describe("retries against the emulator", function()
  local function count_disks(w, name)
    local n = 0
    for _ in w.ecs:each("DescribeDisks", { RegionId = "cn-hangzhou", DiskName = name }) do n = n + 1 end
    return n
  end

  it("creates exactly one disk when the first answer is lost after the commit", function()
    local w = world()
    local zone = w.zone()
    assert(w.emu:inject("CreateDisk", { type = "commit_drop" }))
    local r = assert(w.ecs:CreateDisk { RegionId = "cn-hangzhou", ZoneId = zone, Size = 20, DiskName = "once" })
    assert.matches("^d%-", r.DiskId)
    assert.equal(1, count_disks(w, "once"))
  end)

  it("succeeds on the fourth try after three Throttling answers", function()
    local w = world()
    assert(w.emu:inject("DescribeRegions", { type = "throttling", count = 3 }))
    assert(w.ecs:DescribeRegions {})
  end)

  it("returns the first error with max_retries = 0", function()
    local w = world { client = { max_retries = 0 } }
    assert(w.emu:inject("DescribeRegions", { type = "status", status = 503 }))
    local r, err = w.ecs:DescribeRegions {}
    assert.is_nil(r)
    assert.equal(503, err.status)
    assert.is_true(err.retryable)
  end)
end)

describe("batches against the emulator (in-process, sent one by one)", function()
  it("returns every result in input order, errors in place", function()
    local w = world()
    local zone = w.zone()
    local calls = {}
    for i = 1, 50 do
      calls[i] = { "CreateDisk", { RegionId = "cn-hangzhou", ZoneId = zone, Size = 20, DiskName = "b" .. i } }
    end
    calls[51] = { "CreateDisk", { RegionId = "cn-hangzhou", ZoneId = zone, Size = "big" } }
    local results = w.ecs:batch(calls, { concurrency = 8 })
    assert.equal(51, #results)
    for i = 1, 50 do
      local d = assert(w.ecs:DescribeDisks { RegionId = "cn-hangzhou", DiskIds = { results[i].DiskId } })
      assert.equal("b" .. i, d.Disks.Disk[1].DiskName)
    end
    assert.equal("validation", results[51].kind)
  end)
end)

describe("the ENS schedule waiter", function()
  it("waits until the device is scheduled and says where", function()
    local w = world()
    local p = { Uuid = "dev-wait", AppId = "app-1", ClientIp = "10.0.0.8" }
    assert(w.ens:RunServiceSchedule { Uuid = p.Uuid, AppId = p.AppId, ClientIp = p.ClientIp, ServiceAction = "PreSchedule" })
    local r = assert(w.ens:wait_for("ScheduleDone", p, { interval = 1, progress = false }))
    assert.matches("^i%-", r.InstanceId)
    assert.has_error(function() w.ecs:wait_for("ScheduleDone", p) end)
    assert.has_error(function() w.ecs:wait_for("NoSuchWaiter", p) end)
  end)
end)

describe("the client's region", function()
  it("fills RegionId when the action takes one and the call gave none", function()
    local w = world { client = { region = "cn-beijing" } }
    local r = assert(w.ecs:DescribeInstances {})
    assert.equal("cn-beijing", r.Instances.Instance[1].RegionId)
    -- the call's own RegionId wins; actions without RegionId get none
    r = assert(w.ecs:DescribeInstances { RegionId = "cn-shanghai" })
    assert.equal("cn-shanghai", r.Instances.Instance[1].RegionId)
    local results = w.ecs:batch { { "DescribeInstances", {} } }
    assert.equal("cn-beijing", results[1].Instances.Instance[1].RegionId)
  end)

  it("reports a profile that is not there before the RegionId it would have given", function()
    local w = world { client = { profile = "nope", config_file = "/nonexistent/aliyun-config.json" } }
    local r, err = w.ecs:DescribeInstances {}
    assert.is_nil(r)
    assert.equal("credentials", err.kind)
    assert.equal("DescribeInstances", err.action)
    assert.matches("/nonexistent/aliyun-config.json", err.message, 1, true)
  end)
end)
