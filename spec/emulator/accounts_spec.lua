-- Accounts and state, in process: each AccessKeyId belongs to an account, accounts never see
-- each other's resources, and the whole state survives a save and a load.
local aliyun = require "aliyun"
local emulator = require "aliyun.emulator"

local KEYS = {
  testid = { secret = "testsecret" },
  alice = { secret = "alicesecret", account = "1111111111111111" },
  bob = { secret = "bobsecret", account = "2222222222222222" },
  bob2 = { secret = "bob2secret", account = "2222222222222222" },
}

local function client(emu, key)
  return aliyun.ecs { endpoint = "http://127.0.0.1", access_key_id = key, access_key_secret = KEYS[key].secret,
    transport = emulator.transport(emu), max_retries = 0 }
end

describe("emulator accounts", function()
  local R = "cn-hangzhou"

  it("keeps each account's resources to itself", function()
    local emu = emulator.new { keys = KEYS, strict = true, delays = { vpc_create = 0 } }
    local alice, bob, bob2 = client(emu, "alice"), client(emu, "bob"), client(emu, "bob2")
    local vpc = assert(alice:CreateVpc { RegionId = R, CidrBlock = "10.0.0.0/16", VpcName = "alices" }).VpcId
    assert.are.equal(1, assert(alice:DescribeVpcs { RegionId = R, VpcId = vpc }).TotalCount)
    assert.are.equal(0, assert(bob:DescribeVpcs { RegionId = R, VpcId = vpc }).TotalCount)
    local _, err = bob:DeleteVpc { RegionId = R, VpcId = vpc }
    assert.are.same({ "InvalidVpcId.NotFound", 404 }, { err.code, err.status })
    _, err = bob:ModifyVpcAttribute { VpcId = vpc, VpcName = "stolen" }
    assert.are.equal("InvalidVpcId.NotFound", err.code)
    assert.are.equal("alices", assert(alice:DescribeVpcs { RegionId = R, VpcId = vpc }).Vpcs.Vpc[1].VpcName)
    -- two keys of one account share it
    local bobs_vpc = assert(bob:DescribeVpcs { RegionId = R, IsDefault = true }).Vpcs.Vpc[1].VpcId
    local sg = assert(bob:CreateSecurityGroup { RegionId = R, VpcId = bobs_vpc, SecurityGroupName = "shared" })
      .SecurityGroupId
    assert.are.equal(1, assert(bob2:DescribeSecurityGroups { RegionId = R, SecurityGroupId = sg }).TotalCount)
    assert.are.equal(0, assert(alice:DescribeSecurityGroups { RegionId = R, SecurityGroupId = sg }).TotalCount)
    -- every account has its own fixture: instances with other ids
    local a_ids, b_ids = {}, {}
    for _, i in ipairs(assert(alice:DescribeInstances { RegionId = R }).Instances.Instance) do a_ids[i.InstanceId] = true end
    for _, i in ipairs(assert(bob:DescribeInstances { RegionId = R }).Instances.Instance) do
      assert.is_nil(a_ids[i.InstanceId])
      b_ids[#b_ids + 1] = i.InstanceId
    end
    assert.are.equal(3, #b_ids)
    _, err = alice:StopInstance { InstanceId = b_ids[1] }
    assert.are.equal("InvalidInstanceId.NotFound", err.code)
  end)

  it("does not let a ClientToken of one account answer another's call", function()
    local emu = emulator.new { keys = KEYS, strict = true }
    local alice, bob = client(emu, "alice"), client(emu, "bob")
    local p = { RegionId = R, ZoneId = "cn-hangzhou-h", Size = 20, ClientToken = "same-token" }
    local a = assert(alice:CreateDisk(p)).DiskId
    local b = assert(bob:CreateDisk(p)).DiskId
    assert.are_not.equal(a, b)
    assert.are.equal(a, assert(alice:CreateDisk(p)).DiskId)
  end)
end)

describe("emulator state", function()
  local R = "cn-hangzhou"
  local path = os.tmpname()

  after_each(function() os.remove(path) end)

  it("saves every account's resources, pending transitions and tokens, and loads them back", function()
    os.remove(path)
    local emu = emulator.new { keys = KEYS, strict = true, state = path }
    local alice = client(emu, "alice")
    local vpc = assert(alice:CreateVpc { RegionId = R, CidrBlock = "10.0.0.0/16", VpcName = "kept" }).VpcId
    local disk = assert(alice:CreateDisk { RegionId = R, ZoneId = "cn-hangzhou-h", Size = 20, ClientToken = "t1" }).DiskId
    assert(emu:save())

    local again = emulator.new { keys = KEYS, strict = true, state = path }
    local alice2 = client(again, "alice")
    local v = assert(alice2:DescribeVpcs { RegionId = R, VpcId = vpc }).Vpcs.Vpc[1]
    assert.are.same({ "kept", "Pending" }, { v.VpcName, v.Status })
    again:advance(5) -- the pending transition was saved with it
    assert.are.equal("Available", assert(alice2:DescribeVpcs { RegionId = R, VpcId = vpc }).Vpcs.Vpc[1].Status)
    -- the ClientToken still answers with the first disk
    assert.are.equal(disk, assert(alice2:CreateDisk { RegionId = R, ZoneId = "cn-hangzhou-h", Size = 20,
      ClientToken = "t1" }).DiskId)
    -- new ids do not collide with the saved ones
    local other = assert(alice2:CreateVpc { RegionId = R, CidrBlock = "10.1.0.0/16" }).VpcId
    assert.are_not.equal(vpc, other)
    -- the other accounts are there too, untouched
    assert.are.equal(0, assert(client(again, "bob"):DescribeVpcs { RegionId = R, VpcId = vpc }).TotalCount)
  end)

  it("refuses a file that is not a state file, naming it", function()
    local f = assert(io.open(path, "wb"))
    f:write("{\"not\": \"a state\"}")
    f:close()
    local ok, err = pcall(emulator.new, { state = path })
    assert.is_false(ok)
    assert.matches("not an emulator state file", err)
    assert.matches(path, err, 1, true)
  end)
end)
