-- The emulator over real HTTP and HTTPS (nginx with ngx_lua on 127.0.0.1): every case of
-- spec/emulator/cases runs through the client library and the libcurl transport, the same
-- script gives the same answers as the in-process transport, and bin/aliyun-emulator
-- starts in the foreground and cleans up after SIGTERM.
local json = require "aliyun.json"
local server = require "aliyun.emulator.server"
local support = require "support.emulator"

local ROOT = server.ROOT

local srv

describe("emulator over HTTP #integration", function()
  local http, https = support.http(), support.http(true)

  setup(function()
    srv = assert(server.start { tls = true, keys = support.OPTIONS.keys, delays = support.OPTIONS.delays, seed = 1,
      strict = true })
    http.bind(srv)
    https.bind(srv)
  end)

  teardown(function()
    if srv then srv.stop() end
  end)

  for _, name in ipairs(support.CASES) do support.run(name, http, _ENV) end
  for _, name in ipairs { "auth", "disks", "faults" } do support.run(name, https, _ENV) end

  -- The same script in process and over HTTP, from the same seed: the same answers, once
  -- the per-request and time-dependent fields are set aside.
  describe("gives the same answers as the in-process transport", function()
    local function normalise(v)
      if type(v) ~= "table" then return v end
      local out = {}
      for k, x in pairs(v) do
        if type(k) == "number" or not (k == "RequestId" or k:find("Time") or k == "NextToken") then
          out[k] = normalise(x)
        end
      end
      return out
    end

    local function script(world)
      world.reset()
      local ecs, ens = world.ecs(), world.ens()
      local out = {}
      local function call(c, action, p, opts)
        local res, err = c:call(action, p, opts)
        out[#out + 1] = normalise(res or { code = err.code, status = err.status, kind = err.kind })
        return res
      end
      call(ecs, "DescribeRegions", {})
      local insts = call(ecs, "DescribeInstances", { RegionId = "cn-hangzhou" }).Instances.Instance
      local disk = call(ecs, "CreateDisk", { RegionId = "cn-hangzhou", ZoneId = insts[1].ZoneId, Size = 20,
        ClientToken = "same-token" }).DiskId
      call(ecs, "CreateDisk", { RegionId = "cn-hangzhou", ZoneId = insts[1].ZoneId, Size = 20,
        ClientToken = "same-token" })
      call(ecs, "AttachDisk", { InstanceId = insts[1].InstanceId, DiskId = disk })
      world.advance(3)
      call(ecs, "AttachDisk", { InstanceId = insts[1].InstanceId, DiskId = disk })
      call(ecs, "DescribeDisks", { RegionId = "cn-hangzhou", DiskType = "data" })
      call(ecs, "CreateLaunchTemplate", { RegionId = "cn-hangzhou", LaunchTemplateName = "same",
        InstanceType = "ecs.g7.large" })
      call(ecs, "DescribeLaunchTemplateVersions", { RegionId = "cn-hangzhou", LaunchTemplateName = "same" })
      local cmd = call(ecs, "CreateCommand", { RegionId = "cn-hangzhou", Name = "n", Type = "RunShellScript",
        CommandContent = "ZWNobyBzYW1l" }).CommandId
      call(ecs, "InvokeCommand", { RegionId = "cn-hangzhou", CommandId = cmd, InstanceId = { insts[1].InstanceId } })
      world.advance(3)
      call(ecs, "DescribeInvocationResults", { RegionId = "cn-hangzhou" })
      call(ecs, "CreateInstance", { RegionId = "cn-hangzhou" }, { validate = false })
      call(ens, "RunServiceSchedule", { AppId = "a", Uuid = "u", ClientIp = "10.0.0.1", ServiceAction = "Start" })
      call(ens, "BatchEventRedeployInstance", { EventInfos = { { EventId = "e-emu0000000000000001" } } })
      return out
    end

    it("for a script touching every domain", function()
      local here = script(support.inprocess(support.OPTIONS))
      local there = script(http)
      assert.are.equal(#here, #there)
      for i = 1, #here do assert.are.same(here[i], there[i]) end
    end)
  end)

  describe("control endpoint over HTTP", function()
    it("refuses a body that is not JSON and unknown endpoints", function()
      local status, body = http.control("POST", "/_emulator/clock", nil)
      assert.are.equal(400, status)
      assert.are.equal("InvalidParameter", body.Code)
      local resp = assert(http.transport.send { method = "POST", url = srv.url .. "/_emulator/faults",
        headers = { ["Content-Type"] = "application/json" }, body = "{nope", timeout = 5 })
      assert.are.equal(400, resp.status)
      assert.are.equal(404, (http.control("GET", "/_emulator/nothing")))
    end)
  end)
end)

describe("bin/aliyun-emulator #integration", function()
  local server_port = 20000 + os.time() % 20000
  local sh = require("support.shell").sh

  it("serves HTTP and HTTPS in the foreground and removes its files after SIGTERM", function()
    local port = server_port
    local dir = io.popen("mktemp -d /tmp/aliyun-emulator-bin.XXXXXX"):read("l")
    assert(sh(string.format("cd %s && (bin/aliyun-emulator --port %d --tls-port %d >/dev/null 2>%s/err & echo $! >%s/pid)",
      ROOT, port, port + 1, dir, dir)))
    local pid = io.open(dir .. "/pid"):read("l")
    finally(function() -- whatever the assertions say, nothing is left running
      sh("kill -TERM " .. pid .. " 2>/dev/null")
      sh("rm -rf " .. dir)
    end)
    local curl = require("aliyun.transport.curl").new { verify_tls = false, timeout = 5 }
    local resp
    for _ = 1, 100 do -- bounded wait for nginx to listen
      resp = curl.send { method = "GET", url = "http://127.0.0.1:" .. port .. "/_emulator/health", headers = {},
        timeout = 2 }
      if resp then break end
      sh("sleep 0.05")
    end
    assert.is_table(resp, "the emulator did not come up: " .. (io.open(dir .. "/err"):read("a") or ""))
    assert.is_true(json.decode(resp.body).Ok)
    local tls = assert(curl.send { method = "GET", url = "https://127.0.0.1:" .. (port + 1) .. "/_emulator/health",
      headers = {}, timeout = 2 })
    assert.are.equal(200, tls.status)
    local prefix = io.open(dir .. "/err"):read("a"):match("nginx files in (%S+)")
    assert.matches("^/tmp/aliyun%-emulator%.", prefix)
    assert.is_true(sh("test -d " .. prefix))
    assert(sh("kill -TERM " .. pid))
    for _ = 1, 100 do
      if not sh("kill -0 " .. pid .. " 2>/dev/null") then break end
      sh("sleep 0.05")
    end
    assert.is_false(sh("kill -0 " .. pid .. " 2>/dev/null"))
    assert.is_false(sh("test -d " .. prefix))
    assert.matches("testid / testsecret", io.open(dir .. "/err"):read("a"))
  end)
end)
