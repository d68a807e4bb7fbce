-- aliyun.testing: a playbook tested as it is written (examples/testing/web_tier.lua), its
-- clients taken by an in-process emulator, with virtual time, faults and accounts at hand.
local aliyun = require "aliyun"
local testing = require "aliyun.testing"

package.path = "examples/?.lua;" .. package.path
local web_tier = require "testing.web_tier"

local OPTS = { region = "cn-hangzhou", zone = "cn-hangzhou-h", count = 2, type = "ecs.g7.large",
  image = "ubuntu_22_04_x64_20G_alibase_20240101.vhd", public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIWebTier ops" }

describe("aliyun.testing", function()
  local cloud
  before_each(function() cloud = testing.start { seed = 7, strict = true } end)
  after_each(function() cloud:stop() end)

  it("runs a playbook unchanged against a fresh emulator, waiting in virtual time", function()
    local started = os.time()
    local ids = assert(web_tier.deploy(OPTS))
    assert.are.equal(2, #ids)
    assert.is_true(os.time() - started < 5, "the waits were virtual")
    local ecs = cloud:client("ecs")
    local res = assert(ecs:DescribeInstances { RegionId = "cn-hangzhou", Tag = { { Key = "tier", Value = "web" } } })
    assert.are.equal(2, res.TotalCount)
    local names = {}
    for _, i in ipairs(res.Instances.Instance) do
      assert.are.equal("Running", i.Status)
      assert.are.equal("web-key", i.KeyPairName)
      names[#names + 1] = i.InstanceName
    end
    table.sort(names)
    assert.are.same({ "web-001", "web-002" }, names)
  end)

  it("ignores the credentials and endpoint the code was given", function()
    local ecs = aliyun.ecs { endpoint = "https://ecs.cn-hangzhou.aliyuncs.com", access_key_id = "LTAIreal",
      access_key_secret = "not-a-test-secret" }
    assert.are.equal(6, #assert(ecs:DescribeRegions {}).Regions.Region)
  end)

  it("lets a test inject faults the playbook must survive", function()
    cloud:inject("RunInstances", { type = "throttling", count = 1 })
    local ids = assert(web_tier.deploy(OPTS)) -- the client retries Throttling
    assert.are.equal(2, #ids)
    cloud:inject("CreateSecurityGroup", { type = "status", status = 503, count = 10 })
    local res, err = web_tier.deploy(OPTS)
    assert.is_nil(res)
    assert.are.equal("ServiceUnavailable", err.code)
  end)

  it("gives each test a fresh cloud and real clients after stop", function()
    assert(web_tier.deploy(OPTS))
    cloud:stop()
    cloud = testing.start { seed = 7 }
    local res = assert(cloud:client("ecs"):DescribeSecurityGroups { RegionId = "cn-hangzhou", SecurityGroupName = "web" })
    assert.are.equal(0, res.TotalCount)
  end)
end)

describe("aliyun.testing.mock", function()
  it("stops the cloud even when the test fails", function()
    local ok = pcall(testing.mock, function() error("boom") end)
    assert.is_false(ok)
    assert.is_nil(testing.active())
  end)
end)
