-- Ctrl-C (SIGINT) against every wait of the C core and the commands built on it. Each case
-- runs a process that waits far longer than the case is given (an hour's sleep, a pipe
-- that never speaks, a server that answers after 30 s with a 60 s read timeout) and sends
-- it SIGINT once it is under way: a wait that did not wake would run into `timeout`, or end
-- with its own timeout error, and the case would fail on what it sees, not on a clock.
local server = require "aliyun.emulator.server"
local shell = require "support.shell"

local ROOT = server.ROOT
local BIN = ROOT .. "/bin/aliyun-lua"

local quote = shell.quote

local tmp, srv

-- Runs cmd (a shell command line) in the background; once it has written something on
-- stderr (it is ready: its handler installed, its call sent) and half a second more, sends
-- it SIGINT and waits for it (at most 20 s in all). Returns its exit code, stdout and stderr.
local function interrupted(cmd)
  local out, err = tmp .. "/out", tmp .. "/err"
  local script = string.format(
    "rm -f %s; timeout -s KILL 20 sh -c %s >%s 2>%s & pid=$!; "
      .. "i=0; while [ ! -s %s ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; "
      .. "sleep 0.5; pkill -INT -P $pid; wait $pid; echo $?",
    quote(err), quote("exec " .. cmd), quote(out), quote(err), quote(err))
  local code = tonumber((shell.run("env -u LD_PRELOAD sh -c " .. quote(script)):match("(%d+)%s*$")))
  return code, shell.slurp(out), shell.slurp(err)
end

-- A Lua 5.4 script with this checkout's modules, as a command line (no proxy from the
-- environment: the cases that want one name it).
local function lua(code)
  local path = tmp .. "/case" .. tostring(math.random(1e9)) .. ".lua"
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  return string.format("env -u LD_PRELOAD -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY -u ALL_PROXY "
    .. "-u all_proxy -u no_proxy -u NO_PROXY LUA_PATH=%s LUA_CPATH=%s lua5.4 %s",
    quote(ROOT .. "/lua/?.lua;" .. ROOT .. "/lua/?/init.lua;;"), quote(ROOT .. "/build/5.4/?.so;;"), quote(path))
end

-- Prints what a pcall of body gave: "caught <message> <interrupted flag>".
local function case(body)
  return lua([[
local core = require "aliyun.core"
core.catch_interrupts()
io.stderr:write("ready\n")
local ok, err = pcall(function() ]] .. body .. [[ end)
print("caught", ok, tostring(err), core.interrupted(true), core.interrupted())
]])
end

describe("Ctrl-C #integration", function()
  setup(function()
    tmp = shell.run("mktemp -d /tmp/aliyun-interrupt-spec.XXXXXX"):gsub("%s+$", "")
    assert(tmp:match("^/tmp/aliyun%-interrupt%-spec%."))
    srv = assert(server.start { seed = 1 })
  end)

  teardown(function()
    if srv then srv.stop() end
    if tmp and tmp:match("^/tmp/aliyun%-interrupt%-spec%.") then shell.sh("rm -rf " .. quote(tmp)) end
  end)

  -- every call of every action answers 30 s late, until cleared
  local function slow()
    assert(shell.curl("POST", srv.url .. "/_emulator/faults", '{"Action":"*","Type":"latency","Seconds":30,"Always":true}'))
  end

  after_each(function()
    if srv then shell.curl("DELETE", srv.url .. "/_emulator/faults") end
  end)

  it("wakes core.sleep", function()
    local code, out = interrupted(case("core.sleep(3600)"))
    assert.equal(0, code)
    assert.truthy(out:find("^caught\tfalse\t.*interrupted!\ttrue\tfalse\n$"), out)
  end)

  it("wakes core.wait_input", function()
    -- stdin: a FIFO opened for reading and writing, which never has input nor an end
    local fifo = tmp .. "/fifo"
    assert(shell.sh("mkfifo " .. quote(fifo)))
    local code, out = interrupted(lua([[
local core = require "aliyun.core"
core.catch_interrupts()
io.stderr:write("ready\n")
local r, why
local ok, err = pcall(function() r, why = core.wait_input(0) end)
print("caught", ok, r, why, tostring(err))
]]) .. " 0<>" .. quote(fifo))
    assert.equal(0, code)
    -- the hook raises before the results could be assigned
    assert.truthy(out:find("^caught\tfalse\tnil\tnil\t.*interrupted!\n$"), out)
  end)

  it("wakes a call on the core's own connection (the direct path)", function()
    slow()
    local code, out = interrupted(case(string.format([[
      local aliyun = require "aliyun"
      local ecs = aliyun.ecs { endpoint = %q, access_key_id = "testid", access_key_secret = "testsecret", timeout = 60 }
      return ecs:DescribeRegions {}
    ]], srv.url)))
    assert.equal(0, code)
    assert.truthy(out:find("^caught\tfalse\t.*interrupted!\ttrue\tfalse\n$"), out)
  end)

  -- The session's waits: a DescribeRegions request, signed for the emulator, sent alone
  -- (request) or twice at once (batch) on a session made with these options.
  local SESSIONS = {
    { "the core's own connections", "{ timeout = 60 }", { "batch" } }, -- request: the direct-path case above
    { "libcurl", "{ curl_http = true, timeout = 60 }", { "request", "batch" } },
    { "libcurl through a proxy", "{ proxy = %q, timeout = 60 }", { "request", "batch" } },
  }
  for _, engine in ipairs(SESSIONS) do
    it("wakes the waits of " .. engine[1] .. " (" .. table.concat(engine[3], ", ") .. ")", function()
      slow()
      for _, how in ipairs(engine[3]) do
        local code, out = interrupted(case(string.format([[
          local signer = require "aliyun.signer"
          local req = signer.v1 { method = "GET", base_url = %q, host = %q, action = "DescribeRegions",
            version = "2014-05-26", query = {}, body = {},
            credentials = { access_key_id = "testid", access_key_secret = "testsecret" } }
          local s = core.session(]] .. engine[2]:format(srv.url) .. [[)
          local one = { method = "GET", url = req.url, headers = req.headers, timeout = 60 }
          if %q == "batch" then return s:batch({ one, one }, 2) end
          return s:request(one)
        ]], srv.url, srv.url:match("//(.*)"), how)))
        assert.equal(0, code, how)
        assert.truthy(out:find("^caught\tfalse\t.*interrupted!\ttrue\tfalse\n$"), how .. ": " .. out)
      end
    end)
  end

  it("wakes the client's backoff between retries", function()
    assert(shell.curl("POST", srv.url .. "/_emulator/faults", '{"Action":"*","Type":"throttling","Always":true}'))
    -- throttled at once, then a backoff of 600 s before the first retry
    local code, out = interrupted(case(string.format([[
      local aliyun = require "aliyun"
      local ecs = aliyun.ecs { endpoint = %q, access_key_id = "testid", access_key_secret = "testsecret",
        deadline = 3600, retry = { max_retries = 10, base_delay = 600, max_delay = 600, random = function() return 1 end } }
      return ecs:DescribeRegions {}
    ]], srv.url)))
    assert.equal(0, code)
    assert.truthy(out:find("^caught\tfalse\t.*interrupted!\ttrue\tfalse\n$"), out)
  end)

  -- As spec/integration/resolver_spec.lua: in a private user and network namespace, a DNS
  -- server on 127.0.0.1 that never answers, and the resolver's own timeout at 30 s with 2
  -- attempts (60 s, past the case's 20).
  it("wakes a name lookup that never ends, on the direct path and in libcurl", function()
    if not shell.namespaces_work() then
      pending("unshare -rmn (user and network namespaces) or luajit is not available here")
      return
    end
    local f = assert(io.open(tmp .. "/resolv.conf", "w"))
    f:write("nameserver 127.0.0.1\noptions timeout:30 attempts:2\n")
    f:close()
    for _, run in ipairs { { "false", "request" }, { "false", "batch" }, { "true", "request" }, { "true", "batch" } } do
      local curl = run[1] .. " " .. run[2]
      local call = case(string.format([[
        local s = core.session { connect_timeout = 60, timeout = 60, curl_http = %s }
        local one = { url = "http://never.example.test/" }
        if %q == "batch" then return s:batch({ one, one }, 2) end
        return s:request(one)
      ]], run[1], run[2]))
      -- the DNS server's "ready" goes to /dev/null: the case's own "ready" says the lookup is under way
      local code, out = interrupted(string.format(
        "unshare -rmn sh -c %s", quote(string.format("ip link set lo up && mount --bind %s /etc/resolv.conf && "
          .. "(luajit %s 25 >/dev/null 2>&1 &) && sleep 0.3 && exec %s", quote(tmp .. "/resolv.conf"),
          quote(ROOT .. "/spec/support/blackhole_dns.lua"), call))))
      assert.equal(0, code, "curl_http = " .. curl)
      assert.truthy(out:find("^caught\tfalse\t.*interrupted!\ttrue\tfalse\n$"), "curl_http = " .. curl .. ": " .. out)
    end
  end)

  local function cli(args)
    local parts = {}
    for i, a in ipairs(args) do parts[i] = quote(a) end
    return string.format("env -i HOME=%s PATH=%s ALIBABA_CLOUD_ACCESS_KEY_ID=testid ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret %s %s",
      quote(tmp), quote(os.getenv("PATH") or "/usr/bin:/bin"), quote(BIN), table.concat(parts, " "))
  end

  it("stops the one-shot command with exit 130 and one line", function()
    slow()
    -- --debug: a line on stderr when the request goes out, which says the call is under way
    local code, out, err = interrupted(cli { "--endpoint", srv.url, "--read-timeout", "60", "--debug", "ecs",
      "DescribeRegions" })
    assert.equal(130, code)
    assert.equal("", out)
    assert.truthy(err:find("DescribeRegions", 1, true), err)
    assert.equal("\naliyun-lua: interrupted\n", err:sub(-25), err)
    assert.is_nil(err:find("timeout", 1, true), err)
  end)

  it("stops a --waiter between its polls with exit 130", function()
    local code, out, err = interrupted(cli { "--endpoint", srv.url, "ecs", "DescribeInstances", "--RegionId", "cn-hangzhou",
      "--waiter", "expr=Instances.Instance[0].Status", "to=Stopped", "interval=3600" })
    assert.equal(130, code)
    assert.equal("", out)
    assert.truthy(err:find("Instances.Instance[0].Status = Running", 1, true), err)
    assert.equal("\naliyun-lua: interrupted\n", err:sub(-25), err)
  end)
end)
