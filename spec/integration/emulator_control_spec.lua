-- The control endpoint over real HTTP (nginx on 127.0.0.1): a malformed request is a 400
-- naming the field and changes nothing (the world, the clock, the queued faults stay as they
-- were, and later calls work); a web page cannot drive it: POST and DELETE need
-- Content-Type: application/json, and every request needs a loopback Host with the server's
-- port (DNS rebinding); refusals are 403 with a JSON body saying why.
local aliyun = require "aliyun"
local core = require "aliyun.core"
local json = require "aliyun.json"
local server = require "aliyun.emulator.server"

local JSON = { ["Content-Type"] = "application/json" }

describe("emulator control endpoint over HTTP #integration", function()
  local srv, s, ecs

  setup(function()
    srv = assert(server.start { keys = { testid = { secret = "testsecret" } }, seed = 1 })
    s = core.session {}
    ecs = aliyun.ecs { endpoint = srv.url, access_key_id = "testid", access_key_secret = "testsecret",
      region = "cn-hangzhou", max_retries = 0 }
  end)

  teardown(function()
    if s then s:close() end
    if srv then srv.stop() end
  end)

  -- method, path, body (a table is encoded), headers (default: JSON) -> status, decoded body
  local function ctl(method, path, body, headers)
    if type(body) == "table" then body = assert(json.encode(body)) end
    local r = assert(s:request { method = method, url = srv.url .. path, body = body, headers = headers or JSON,
      timeout = 10 })
    return r.status, json.decode(r.body)
  end

  local function host(h)
    return { Host = h, ["Content-Type"] = "application/json" }
  end

  -- A world with something in it: a VPC, the clock 100 s ahead, a fault queued.
  local function populate()
    assert.are.equal(200, (ctl("POST", "/_emulator/reset", { Seed = 1 })))
    local vpc = assert(ecs:CreateVpc { RegionId = "cn-hangzhou", CidrBlock = "10.0.0.0/16" }).VpcId
    local before = select(2, ctl("GET", "/_emulator/health")).Now
    assert.are.equal(200, (ctl("POST", "/_emulator/clock", { Advance = 100 })))
    assert.are.equal(200, (ctl("POST", "/_emulator/faults", { Action = "DescribeZones", Type = "throttling",
      Always = true })))
    return vpc, before
  end

  -- The world populate() made is all still there, and ordinary calls work.
  local function unchanged(vpc, before)
    local vpcs = assert(ecs:DescribeVpcs { RegionId = "cn-hangzhou", VpcId = vpc })
    assert.are.equal(1, vpcs.TotalCount)
    assert.is_true(select(2, ctl("GET", "/_emulator/health")).Now >= before + 100)
    local faults = select(2, ctl("GET", "/_emulator/faults")).Faults
    assert.are.equal(1, #faults)
    assert.are.equal("DescribeZones", faults[1].Action)
    local res, err = ecs:DescribeRegions {}
    assert.is_nil(err)
    assert.is_table(res.Regions)
  end

  it("answers a malformed reset with 400 naming the field, and changes nothing", function()
    local vpc, before = populate()
    for _, case in ipairs {
      { '{"Delays":5}', "Delays" },
      { '{"Delays":"fast"}', "Delays" },
      { '{"Delays":{"disk_create":-1}}', "Delays.disk_create" },
      { '{"Delays":{"instance_start":"2"}}', "Delays.instance_start" },
      { '{"Delays":{"disk_create":1,"vpc_create":1e999}}', "Delays.vpc_create" },
      { '{"Seed":"one"}', "Seed" },
      { '{"Seed":1.5}', "Seed" },
      { '{"Seed":1,"Sed":2}', '"Sed"' },
      { '{"Seed":1,"seed":2}', "Seed" },
      { '[1]', "JSON object" },
      { '{nope', "JSON" },
    } do
      local status, body = ctl("POST", "/_emulator/reset", case[1])
      assert.are.equal(400, status, case[1])
      assert.are.equal("InvalidParameter", body.Code)
      assert.truthy(body.Message:find(case[2], 1, true), case[1] .. " -> " .. body.Message)
    end
    unchanged(vpc, before)
  end)

  it("resets with a valid seed and delays, and every later call works", function()
    local vpc = populate()
    local status, body = ctl("POST", "/_emulator/reset", { Seed = 7, Delays = { vpc_create = 0, disk_create = 3,
      my_own_thing_start = 1.5 } })
    assert.are.equal(200, status, body and body.Message)
    assert.are.equal(0, assert(ecs:DescribeVpcs { RegionId = "cn-hangzhou", VpcId = vpc }).TotalCount)
    assert.are.equal(0, #select(2, ctl("GET", "/_emulator/faults")).Faults)
    assert.is_table(assert(ecs:DescribeZones { RegionId = "cn-hangzhou" }).Zones)
    assert.are.equal(200, (ctl("POST", "/_emulator/reset", "")))
  end)

  it("refuses POST and DELETE without a JSON content type (403, saying why), and changes nothing", function()
    local vpc, before = populate()
    for _, ctype in ipairs { false, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
      "application/jsonx" } do
      local headers = ctype and { ["Content-Type"] = ctype } or {}
      for _, req in ipairs { { "POST", "/_emulator/reset", "{}" }, { "POST", "/_emulator/clock", '{"Advance":5}' },
        { "POST", "/_emulator/faults", '{"Type":"close"}' }, { "DELETE", "/_emulator/faults" } } do
        local status, body = ctl(req[1], req[2], req[3], headers)
        assert.are.equal(403, status, req[1] .. " " .. req[2] .. " " .. tostring(ctype))
        assert.are.equal("Forbidden", body.Code)
        assert.matches("Content%-Type: application/json", body.Message)
      end
    end
    unchanged(vpc, before)
    -- a charset parameter and another case are fine
    local status = ctl("POST", "/_emulator/clock", { Advance = 0 }, { ["content-type"] = "Application/JSON; charset=utf-8" })
    assert.are.equal(200, status)
  end)

  it("refuses a Host that is not a loopback name with this server's port (403, saying why)", function()
    local vpc, before = populate()
    local port = srv.port
    for _, h in ipairs { "evil.example:" .. port, "evil.example", "127.0.0.2:" .. port, "127.0.0.1:" .. (port + 1),
      "127.0.0.1", "localhost.evil.example:" .. port, "127.0.0.1:" .. port .. "x" } do
      for _, req in ipairs { { "GET", "/_emulator/health" }, { "GET", "/_emulator/faults" },
        { "POST", "/_emulator/reset", "{}" }, { "DELETE", "/_emulator/faults" } } do
        local status, body = ctl(req[1], req[2], req[3], host(h))
        assert.are.equal(403, status, req[1] .. " " .. req[2] .. " Host: " .. h)
        assert.are.equal("Forbidden", body.Code)
        assert.truthy(body.Message:find(h, 1, true), body.Message)
      end
    end
    unchanged(vpc, before)
    for _, h in ipairs { "127.0.0.1:" .. port, "localhost:" .. port, "LOCALHOST:" .. port, "[::1]:" .. port } do
      assert.are.equal(200, (ctl("GET", "/_emulator/health", nil, host(h))), h)
    end
  end)

  it("queues no fault of a list with a bad one, and refuses a bad clock move", function()
    local vpc, before = populate()
    local status, body = ctl("POST", "/_emulator/faults", { { Action = "DescribeRegions", Type = "throttling" },
      { Action = "DescribeRegions", Type = "earthquake" } })
    assert.are.equal(400, status)
    assert.matches("fault 2", body.Message)
    for _, f in ipairs { { Type = "latency", Seconds = "2" }, { Type = "throttling", Count = 1.5 },
      { Type = "throttling", Colour = "red" }, { Type = "close", Always = "yes" }, { Action = 5, Type = "close" } } do
      status = ctl("POST", "/_emulator/faults", f)
      assert.are.equal(400, status, json.encode(f))
    end
    for _, c in ipairs { { Advance = -1 }, { Advance = "5" }, json.object {}, { Advance = 5, Later = 1 } } do
      status, body = ctl("POST", "/_emulator/clock", c)
      assert.are.equal(400, status, json.encode(c))
      assert.matches("Advance", body.Message)
    end
    unchanged(vpc, before)
  end)

  -- nginx keeps DescribeInstances' answer while the world is unchanged (this server is not
  -- strict: kept answers are given as they are); a change, the clock and a reset end it
  it("answers a Describe of a changed world afresh, after a request, a move of the clock or a reset", function()
    assert.are.equal(200, (ctl("POST", "/_emulator/reset", { Seed = 1 })))
    local function first() return assert(ecs:DescribeInstances { RegionId = "cn-hangzhou" }).Instances.Instance[1] end
    local a, b = first(), first()
    assert.are.same({ a.InstanceId, "Running" }, { b.InstanceId, b.Status })
    assert(ecs:StopInstance { InstanceId = a.InstanceId })
    assert.are.equal("Stopping", first().Status)
    assert.are.equal(200, (ctl("POST", "/_emulator/clock", { Advance = 60 })))
    assert.are.equal("Stopped", first().Status)
    assert(ecs:ModifyInstanceAttribute { InstanceId = a.InstanceId, InstanceName = "renamed" })
    assert.are.equal("renamed", first().InstanceName)
    assert.are.equal(200, (ctl("POST", "/_emulator/reset", { Seed = 1 })))
    assert.are.same({ "Running", a.InstanceName }, { first().Status, first().InstanceName })
  end)
end)
