-- client:batch over curl multi against the emulator served by nginx, with 20 ms of added
-- latency on every call: 1000 calls at concurrency 32 all come back, right and in order.
-- (How much faster than sequential calls this is, bench/ measures; no timing asserted here.)
local aliyun = require "aliyun"
local core = require "aliyun.core"
local server = require "aliyun.emulator.server"

describe("client:batch against the emulator over HTTP #integration", function()
  local emu

  setup(function()
    emu = assert(server.start {})
    local s = core.session {}
    local r = assert(s:request { method = "POST", url = emu.url .. "/_emulator/faults",
      headers = { ["Content-Type"] = "application/json" },
      body = '{"Action": "*", "Type": "latency", "Seconds": 0.02, "Always": true}' })
    assert.equal(200, r.status, r.body)
    s:close()
  end)

  teardown(function()
    if emu then emu.stop() end
  end)

  it("returns 1000 results at concurrency 32, each the answer to its own call", function()
    local ecs = aliyun.ecs { endpoint = emu.url, access_key_id = "testid", access_key_secret = "testsecret" }
    local regions = assert(ecs:DescribeRegions {}).Regions.Region
    local calls = {}
    for i = 1, 1000 do
      local r = regions[(i % #regions) + 1].RegionId
      calls[i] = { "DescribeZones", { RegionId = r } }
    end
    calls[500] = { "DescribeZones", { RegionId = "no-such-region-1" } }
    local results = ecs:batch(calls, { concurrency = 32 })
    assert.equal(1000, #results)
    for i = 1, 1000 do
      if i == 500 then
        assert.is_true(aliyun.errors.is_error(results[i]))
        assert.equal("service", results[i].kind)
      else
        local want = calls[i][2].RegionId
        local zones = results[i].Zones and results[i].Zones.Zone
        assert.is_table(zones, tostring(results[i]))
        assert.matches("^" .. want:gsub("%-", "%%-"), zones[1].ZoneId)
      end
    end
  end)

  it("explains a refused signature in a batch, for calls signed either way", function()
    local ecs = aliyun.ecs { endpoint = emu.url, access_key_id = "testid", access_key_secret = "wrong-secret-value",
      max_retries = 0 }
    local results = ecs:batch({
      { "DescribeZones", { RegionId = "cn-hangzhou" } }, -- the usual call: signed straight into the URL
      { "DescribeZones", { RegionId = "cn-hangzhou" }, { credentials = { access_key_id = "testid",
        access_key_secret = "wrong-secret-value" } } }, -- its own credentials: the ordinary way
      { "DescribeZones", { RegionId = "cn-hangzhou" }, { credentials = { access_key_id = "testid",
        access_key_secret = "testsecret" } } },
    }, { concurrency = 3 })
    for i = 1, 2 do
      assert.is_true(aliyun.errors.is_error(results[i]))
      assert.equal("SignatureDoesNotMatch", results[i].code)
      assert.equal(400, results[i].status)
      assert.is_string(results[i].request_id)
      assert.matches("AccessKeySecret is wrong", results[i].message)
      assert.is_nil(tostring(results[i]):find("wrong-secret-value", 1, true))
    end
    assert.is_table(results[3].Zones, tostring(results[3]))
  end)
end)
