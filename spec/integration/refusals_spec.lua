-- Nothing the caller did not mean goes out, on every call path: the fused C call, the
-- ordinary pipeline, batch, pages and each, the REPL and the CLI. Each case of issue 16 is
-- refused with an error naming the action and what is wrong, against a real nginx on
-- 127.0.0.1 that counts the requests it gets (spec/integration/server/counting.lua); a good
-- call on the same path is counted, so the count would see a request that went out.
local aliyun = require "aliyun"
local core = require "aliyun.core"
local json = require "aliyun.json"
local nginx = require "support.nginx"
local run = require("support.shell").run

describe("refused calls send nothing #integration", function()
  local server, session

  setup(function()
    server = nginx.start {
      http = [[
        lua_shared_dict counting 1m;
        server {
          listen 127.0.0.1:${PORT};
          location / { content_by_lua_block { require("integration.server.counting")() } }
        }
      ]],
    }
    session = core.session {}
  end)

  teardown(function()
    if server then server.stop() end
  end)

  local function control(method, path)
    local r = assert(session:request { method = method, url = server.url .. path, timeout = 5 })
    assert.are.equal(200, r.status)
    return r.body
  end

  local function reset(throttle)
    control("POST", "/_reset?throttle=" .. (throttle or 0))
  end

  local function count()
    return tonumber(control("GET", "/_count"))
  end

  local function has(text, ...)
    text = tostring(text)
    for i = 1, select("#", ...) do
      local want = select(i, ...)
      assert(text:find(want, 1, true), "'" .. text .. "' lacks '" .. want .. "'")
    end
    assert.is_nil(text:find("bad argument", 1, true), "a C argument error reached the user: " .. text)
  end

  local OPTS = { access_key_id = "testid", access_key_secret = "testsecret" }

  local function new_client(extra)
    local o = { endpoint = server.url }
    for k, v in pairs(OPTS) do o[k] = v end
    for k, v in pairs(extra or {}) do o[k] = v end
    return aliyun.ecs(o)
  end

  local REGION = "cn-hangzhou"

  -- The cases: {name, params, call options, what the message says}.
  local proxy_list = setmetatable({}, {
    __index = function(_, i) if i == 1 then return "d-1" end end,
    __len = function() return 1 end,
  })
  local inherited = setmetatable({ DiskName = "x" }, { __index = { RegionId = REGION } })
  local cyclic = { Key = "k" }
  cyclic.self = cyclic
  local CASES = {
    { "a misspelt call option", { RegionId = REGION }, { dryrun = true }, { "unknown call option 'dryrun'", "dry_run" } },
    { "timeout = -1", { RegionId = REGION }, { timeout = -1 }, { "call option timeout", "got -1" } },
    { "timeout = NaN", { RegionId = REGION }, { timeout = 0 / 0 }, { "call option timeout" } },
    { "signature_version = v9", { RegionId = REGION }, { signature_version = "v9" }, { 'got "v9"' } },
    { "security_token = true", { RegionId = REGION },
      { credentials = { access_key_id = "testid", access_key_secret = "testsecret", security_token = true } },
      { "credentials.security_token must be a non-empty string" } },
    { "a list with a hole", { RegionId = REGION, DiskIds = { "d-1", nil, "d-3" } }, nil,
      { "parameter DiskIds", "hole at index 2" } },
    { "a list served by __index/__len", { RegionId = REGION, DiskIds = proxy_list }, nil,
      { "parameter DiskIds", "metatable" } },
    { "a parameter table served by __index", inherited, nil, { "parameter table", "__index" } },
    { "a cyclic value", { RegionId = REGION, Tag = { cyclic } }, nil, { "parameter Tag.1.self", "contains itself" } },
  }

  local function refused_err(err, case)
    assert(err, case[1] .. ": no error")
    assert.are.equal("validation", err.kind, case[1])
    assert.are.equal("DescribeDisks", err.action, case[1])
    has(tostring(err), table.unpack(case[4]))
  end

  -- Calls every case on client c: each refused, nothing sent.
  local function every_case_refused(c)
    for _, case in ipairs(CASES) do
      local res, err = c:DescribeDisks(case[2], case[3])
      assert.is_nil(res, case[1])
      refused_err(err, case)
    end
    assert.are.equal(0, count())
  end

  it("client options: a misspelt name or a bad value raises when the client is made", function()
    reset()
    for _, case in ipairs {
      { { endpiont = server.url }, "unknown option 'endpiont'; did you mean endpoint?" },
      { { endpoint = server.url, debgu = true }, "did you mean debug?" },
      { { endpoint = server.url, access_key_id = 42, access_key_secret = "s" },
        "option access_key_id must be a non-empty string, got 42" },
      { { endpoint = server.url, signature_version = "v9" }, 'got "v9"' },
    } do
      local ok, err = pcall(aliyun.ecs, case[1])
      assert.is_false(ok)
      has(err, case[2])
    end
    assert.are.equal(0, count())
  end)

  it("the fused C call: each case refused, nothing sent; a good call goes through the fused call", function()
    local c = new_client()
    reset()
    assert(c:DescribeDisks { RegionId = REGION })
    assert.are.equal(1, count())
    -- watch the session's fused call from now on
    local real, fused = c._session, 0
    c._session = function()
      local s = real()
      return setmetatable({}, { __index = function(_, k)
        if k == "v1_call" then
          return function(_, ...)
            fused = fused + 1
            return s:v1_call(...)
          end
        end
        return s[k]
      end })
    end
    reset()
    every_case_refused(c)
    assert.are.equal(0, fused)
    assert(c:DescribeDisks { RegionId = REGION, PageSize = 10 })
    assert.are.equal(1, count())
    assert.are.equal(1, fused)
  end)

  it("the ordinary pipeline: the same", function()
    local lines = {}
    local c = new_client { debug = function(line) lines[#lines + 1] = line end } -- debug: never fused
    reset()
    every_case_refused(c)
    assert.are.same({}, lines)
    local res = assert(c:DescribeDisks { RegionId = REGION, DiskIds = { "d-1", "d-2" } })
    assert.are.equal('["d-1","d-2"]', res.Params.DiskIds)
    assert.are.equal(1, count())
  end)

  it("batch: each refused call's result is its error, and only the good one is sent", function()
    local c = new_client()
    reset()
    local calls = {}
    for i, case in ipairs(CASES) do calls[i] = { "DescribeDisks", case[2], case[3] } end
    calls[#calls + 1] = { "DescribeDisks", { RegionId = REGION } }
    local results = c:batch(calls)
    for i, case in ipairs(CASES) do refused_err(results[i], case) end
    assert.are.equal(REGION, results[#calls].Params.RegionId)
    assert.are.equal(1, count())
  end)

  it("pages and each: the error once, nothing sent", function()
    local c = new_client()
    reset()
    for _, case in ipairs(CASES) do
      local pages = c:pages("DescribeDisks", case[2], case[3])
      local page, err = pages()
      assert.is_false(page, case[1])
      refused_err(err, case)
      assert.is_nil(pages())
      local n = 0
      for item, e in c:each("DescribeDisks", case[2], case[3]) do
        n = n + 1
        assert.is_false(item, case[1])
        refused_err(e, case)
      end
      assert.are.equal(1, n)
    end
    local pages = c:pages("DescribeDisks", { RegionId = REGION }, { itmes = "Disks.Disk" })
    local page, err = pages()
    assert.is_false(page)
    has(err, "unknown call option 'itmes'; did you mean items?")
    assert.are.equal(0, count())
  end)

  it("the REPL: one error line per case, nothing sent", function()
    local out = {}
    local s = require("aliyun.repl").new({ endpoint = server.url }, {
      write = function(x) out[#out + 1] = x end, color = false,
    })
    -- the session's ecs, with a key pair (its own would look in this machine's environment)
    s.env.ecs = new_client()
    s.env.proxy_list, s.env.inherited, s.env.cyclic = proxy_list, inherited, cyclic
    reset()
    for _, line in ipairs {
      'ecs:DescribeDisks({ RegionId = "cn-hangzhou" }, { dryrun = true })',
      'ecs:DescribeDisks({ RegionId = "cn-hangzhou" }, { timeout = -1 })',
      'ecs:DescribeDisks({ RegionId = "cn-hangzhou" }, { signature_version = "v9" })',
      'ecs:DescribeDisks({ RegionId = "cn-hangzhou", DiskIds = { "d-1", nil, "d-3" } })',
      'ecs:DescribeDisks({ RegionId = "cn-hangzhou", DiskIds = proxy_list })',
      "ecs:DescribeDisks(inherited)",
      'ecs:DescribeDisks({ RegionId = "cn-hangzhou", Tag = { cyclic } })',
      'aliyun.ecs { endpiont = "http://127.0.0.1:1" }',
    } do
      out = {}
      assert.is_nil(s:feed(line))
      local text = table.concat(out)
      assert.truthy(text:find("^error: "), line .. " -> " .. text)
      has(text, line:find("endpiont") and "did you mean endpoint?" or "DescribeDisks: validation")
    end
    assert.are.equal(0, count())
    out = {}
    s:feed('ecs:DescribeDisks { RegionId = "cn-hangzhou" }')
    assert.truthy(table.concat(out):find("R-1", 1, true))
    assert.are.equal(1, count())
  end)

  describe("the CLI", function()
    local function cli(args)
      local cmd = "ALIBABA_CLOUD_ACCESS_KEY_ID=testid ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret HOME=/nonexistent "
        .. nginx.ROOT .. "/bin/aliyun-lua " .. args .. " 2>&1; echo \"exit=$?\""
      return run(cmd)
    end

    it("refuses a misspelt flag and an unknown parameter, sending nothing", function()
      reset()
      local out = cli("ecs DescribeDisks --endpiont " .. server.url .. " --RegionId cn-hangzhou")
      has(out, "unknown option --endpiont", "did you mean --endpoint?", "exit=2")
      out = cli("ecs DescribeDisks --endpoint " .. server.url .. " --RegionId cn-hangzhou --DiskIdz '[\"d-1\"]'")
      has(out, "unknown parameter DiskIdz", "did you mean DiskIds?", "exit=1")
      assert.are.equal(0, count())
    end)

    it("sends list parameters in their style", function()
      reset()
      local out = cli("ecs AuthorizeSecurityGroup --endpoint " .. server.url .. " --RegionId cn-hangzhou"
        .. " --SecurityGroupId sg-1 --Permissions '[{\"IpProtocol\":\"tcp\",\"PortRange\":\"22/22\"}]'")
      has(out, "exit=0")
      local res = json.decode(out:match("^(.*)exit=0"))
      assert.are.equal("tcp", res.Params["Permissions.1.IpProtocol"])
      assert.are.equal("22/22", res.Params["Permissions.1.PortRange"])
      assert.is_nil(res.Params.Permissions)
      out = cli("ens DescribeHistoryEvents --endpoint " .. server.url .. " --EventTypes '[\"a\",\"b\"]'")
      res = json.decode(out:match("^(.*)exit=0"))
      assert.are.equal("a,b", res.Params.EventTypes)
      assert.are.equal(2, count())
    end)
  end)

  it("Throttling answered as XML is retried like JSON, on the fused call, the pipeline and batch", function()
    for _, c in ipairs { new_client { retry = { base_delay = 0.001 } },
      new_client { retry = { base_delay = 0.001 }, debug = function() end } } do
      reset(2)
      local res = assert(c:DescribeDisks { RegionId = REGION })
      assert.are.equal(REGION, res.Params.RegionId)
      assert.are.equal(3, count())
      reset(5)
      local _, err = c:DescribeDisks({ RegionId = REGION }, { max_retries = 1 })
      assert.are.equal("Throttling", err.code)
      assert.are.equal("R-THROTTLED", err.request_id)
      assert.are.equal("127.0.0.1", err.host_id)
      assert.are.equal("https://api.aliyun.com/troubleshoot?q=Throttling", err.recommend)
      assert.are.equal(2, count())
    end
    reset(1)
    local results = new_client { retry = { base_delay = 0.001 } }:batch { { "DescribeDisks", { RegionId = REGION } } }
    assert.are.equal(REGION, results[1].Params.RegionId)
    assert.are.equal(2, count())
  end)
end)
