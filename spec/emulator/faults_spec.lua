-- The emulator case "faults", in process (over HTTP in spec/integration/emulator_spec.lua),
-- plus what only exists in process: faults given as options, and the transport's shapes.
local emulator = require "aliyun.emulator"
local support = require "support.emulator"

support.run("faults", support.inprocess(support.OPTIONS), _ENV)

describe("in-process emulator options", function()
  it("takes faults per action from its options, and gives them again after reset", function()
    local world = support.inprocess { faults = { DescribeRegions = { type = "throttling", count = 1 } } }
    local _, err = world.ecs():DescribeRegions {}
    assert.are.equal("Throttling", err.code)
    assert(world.ecs():DescribeRegions {})
    world.emulator:reset()
    _, err = world.ecs():DescribeRegions {}
    assert.are.equal("Throttling", err.code)
  end)

  it("throttles beyond rate_limit requests per second per AccessKeyId, as the service's flow control", function()
    local t = os.time()
    local world = support.inprocess { rate_limit = 3, now = function() return t end }
    local ecs = world.ecs()
    for _ = 1, 3 do assert(ecs:DescribeRegions {}) end
    local _, err = ecs:DescribeRegions {}
    assert.are.same({ "Throttling", 400 }, { err.code, err.status })
    t = t + 1 -- a second later the bucket holds three again
    assert(ecs:DescribeRegions {})
  end)

  it("refuses a malformed fault", function()
    local emu = emulator.new {}
    local ok, why = emu:inject("CreateDisk", { type = "status", status = 418 })
    assert.is_nil(ok)
    assert.matches("500 or 503", why)
    assert.is_nil((emu:inject("CreateDisk", { type = "throttling", count = 0 })))
  end)

  it("gives the same ids for the same seed", function()
    local function ids(seed)
      local w = support.inprocess { seed = seed }
      local out = {}
      for _, i in ipairs(assert(w.ecs():DescribeInstances { RegionId = "cn-hangzhou" }).Instances.Instance) do
        out[#out + 1] = i.InstanceId
      end
      return out
    end
    assert.are.same(ids(7), ids(7))
    assert.are_not.same(ids(7), ids(8))
  end)

  it("is also aliyun.transport.emulator, the third transport", function()
    local ecs = require("aliyun").ecs { endpoint = "http://127.0.0.1", access_key_id = "testid",
      access_key_secret = "testsecret", transport = require("aliyun.transport.emulator").new { seed = 3 } }
    assert.are.equal(3, assert(ecs:DescribeInstances { RegionId = "eu-central-1" }).TotalCount)
  end)

  it("answers requests in the transport interface's shapes", function()
    local emu = emulator.new {}
    local resp = emu:handle { method = "GET", url = "http://127.0.0.1/?Action=DescribeRegions&Format=JSON",
      headers = {} }
    assert.are.equal(400, resp.status)
    assert.are.equal("application/json;charset=utf-8", resp.headers["content-type"])
    assert.matches("\"Code\":\"MissingParameter\"", resp.body)
    assert.are.equal(resp.headers["x-acs-request-id"], require("aliyun.json").decode(resp.body).RequestId)
    -- without Format a V1 request gets the service's default, XML
    resp = emu:handle { method = "GET", url = "http://127.0.0.1/?Action=DescribeRegions", headers = {} }
    assert.are.equal("text/xml;charset=utf-8", resp.headers["content-type"])
    assert.matches("^<%?xml version=\"1.0\" encoding=\"UTF%-8\"%?><Error><Code>MissingParameter</Code>", resp.body)
  end)
end)
