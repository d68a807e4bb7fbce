-- The emulator served by nginx keeps its world in a --state file across a clean stop and a
-- new start, and keeps accounts apart over HTTP: bin/aliyun-emulator --state FILE
-- --key ID:SECRET@ACCOUNT, driven with the client library.
local aliyun = require "aliyun"
local json = require "aliyun.json"
local server = require "aliyun.emulator.server"
local shell = require "support.shell"

local ROOT = server.ROOT
local sh = shell.sh

-- Starts bin/aliyun-emulator in the background; returns its pid and a stop function.
local function start(port, args, dir)
  assert(sh(string.format("cd %s && (bin/aliyun-emulator --port %d %s >/dev/null 2>>%s/err & echo $! >%s/pid)",
    ROOT, port, args, dir, dir)))
  local pid = io.open(dir .. "/pid"):read("l")
  local curl = require("aliyun.transport.curl").new { timeout = 5 }
  for _ = 1, 100 do -- bounded wait for nginx to listen
    local resp = curl.send { method = "GET", url = "http://127.0.0.1:" .. port .. "/_emulator/health",
      headers = { Host = "127.0.0.1:" .. port }, timeout = 2 }
    if resp then break end
    sh("sleep 0.05")
  end
  local function stop()
    sh("kill -TERM " .. pid .. " 2>/dev/null")
    for _ = 1, 100 do
      if not sh("kill -0 " .. pid .. " 2>/dev/null") then break end
      sh("sleep 0.05")
    end
  end
  return pid, stop
end

describe("bin/aliyun-emulator --state and accounts #integration", function()
  it("saves the world at a clean stop and serves it again at the next start", function()
    local dir = shell.run("mktemp -d /tmp/aliyun-emulator-state.XXXXXX"):gsub("%s+$", "")
    local state = dir .. "/world.json"
    local port = 20000 + (os.time() * 7) % 20000
    local args = "--state " .. state .. " --key alice:alicesecret@1111 --key bob:bobsecret@2222"
    local _, stop = start(port, args, dir)
    local stop_again = function() end
    -- whatever the assertions say, no emulator is left running
    finally(function() stop(); stop_again(); sh("rm -rf " .. dir) end)
    local function client(key, secret)
      return aliyun.ecs { endpoint = "http://127.0.0.1:" .. port, access_key_id = key, access_key_secret = secret,
        max_retries = 0 }
    end
    local alice, bob = client("alice", "alicesecret"), client("bob", "bobsecret")
    local vpc = assert(alice:CreateVpc { RegionId = "cn-hangzhou", CidrBlock = "10.9.0.0/16", VpcName = "survivor" })
      .VpcId
    assert.are.equal(0, assert(bob:DescribeVpcs { RegionId = "cn-hangzhou", VpcId = vpc }).TotalCount)
    stop()
    local saved = json.decode(io.open(state, "rb"):read("*a"))
    assert.is_table(saved.Worlds["1111"])

    _, stop_again = start(port, args, dir)
    local v = assert(alice:DescribeVpcs { RegionId = "cn-hangzhou", VpcId = vpc })
    assert.are.equal(1, v.TotalCount)
    assert.are.equal("survivor", v.Vpcs.Vpc[1].VpcName)
    assert.are.equal(0, assert(bob:DescribeVpcs { RegionId = "cn-hangzhou", VpcId = vpc }).TotalCount)
  end)
end)
