-- The one-shot command from a shell, against the emulator served by nginx: the flags that
-- need a real server (timeouts, retries, TLS), the bash completion script, and the
-- commands installed by `make install` (PREFIX, DESTDIR) and by luarocks into temporary
-- trees, run from outside the checkout with no LUA_PATH.
local json = require "aliyun.json"
local server = require "aliyun.emulator.server"
local shell = require "support.shell"

local ROOT = server.ROOT
local BIN = ROOT .. "/bin/aliyun-lua"
local PATH = os.getenv("PATH") or "/usr/bin:/bin"

local quote, slurp = shell.quote, shell.slurp

local tmp, srv

-- run(bin, {args}, {env}) -> exit code, stdout, stderr (support.shell.command in tmp)
local function run(bin, args, env)
  return shell.command(tmp, bin, args, env)
end

local KEYS = { ALIBABA_CLOUD_ACCESS_KEY_ID = "testid", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "testsecret" }

local function fault(body)
  assert(shell.curl("POST", srv.url .. "/_emulator/faults", body))
end

describe("aliyun-lua from a shell #integration", function()
  setup(function()
    tmp = shell.run("mktemp -d /tmp/aliyun-cli-int.XXXXXX"):gsub("%s+$", "")
    assert(tmp:match("^/tmp/aliyun%-cli%-int%."))
    srv = assert(server.start { seed = 1, tls = true })
  end)

  teardown(function()
    if srv then srv.stop() end
    if tmp and tmp:match("^/tmp/aliyun%-cli%-int%.") then shell.sh("rm -rf " .. quote(tmp)) end
  end)

  after_each(function()
    shell.curl("DELETE", srv.url .. "/_emulator/faults")
  end)

  it("--read-timeout bounds each attempt and --retry-count the attempts", function()
    fault('{"Action":"DescribeRegions","Type":"latency","Seconds":3,"Count":1}')
    local code, out, err = run(BIN, { "--endpoint", srv.url, "--read-timeout", "1", "--retry-count", "0", "ecs",
      "DescribeRegions" }, KEYS)
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("^aliyun DescribeRegions: timeout"), err)
    -- one slow answer, then a retry that is answered at once
    fault('{"Action":"DescribeRegions","Type":"latency","Seconds":3,"Count":1}')
    code, out, err = run(BIN, { "--endpoint", srv.url, "--read-timeout", "1", "--retry-count", "1", "ecs",
      "DescribeRegions" }, KEYS)
    assert.equal(0, code, err)
    assert.truthy(json.decode(out).Regions)
  end)

  it("--skip-secure-verify takes a certificate nobody signed; without it the call fails", function()
    local code, out, err = run(BIN, { "--endpoint", srv.tls_url, "ecs", "DescribeRegions" }, KEYS)
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("network", 1, true), err)
    code, out, err = run(BIN, { "--endpoint", srv.tls_url, "--skip-secure-verify", "ecs", "DescribeRegions" }, KEYS)
    assert.equal(0, code, err)
    assert.truthy(json.decode(out).Regions)
  end)

  it("--insecure with a bare host:port speaks plain HTTP to it; https:// to a plain server says so", function()
    local code, out, err = run(BIN, { "--insecure", "--endpoint", srv.url:gsub("^http://", ""), "ecs", "DescribeRegions" }, KEYS)
    assert.equal(0, code, err)
    assert.truthy(json.decode(out).Regions)
    code, out, err = run(BIN, { "--endpoint", srv.url:gsub("^http://", "https://"), "--retry-count", "0", "ecs",
      "DescribeRegions" }, KEYS)
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("the server answered plain HTTP: give the endpoint as http://HOST:PORT", 1, true), err)
  end)

  it("the bash completion script completes products, actions and parameter names", function()
    local script = ROOT .. "/completions/aliyun-lua.bash"
    local function complete(line)
      -- as bash calls it: COMP_WORDS split at blanks (and at = and :), the cursor at the end
      local words = string.format([[
        source %s
        COMP_LINE=%s; COMP_POINT=${#COMP_LINE}
        COMP_WORDS=(); for w in $COMP_LINE; do COMP_WORDS+=("$w"); done
        case "$COMP_LINE" in *" ") COMP_WORDS+=("");; esac
        COMP_WORDS[0]=%s; COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
        _aliyun_lua; printf '%%s\n' "${COMPREPLY[@]}"
      ]], quote(script), quote(line), quote(BIN))
      return shell.run("cd /tmp && env -i PATH=" .. quote(PATH) .. " HOME=" .. quote(tmp) .. " bash -c " .. quote(words))
    end
    assert.equal("ecs\nens\n", complete("aliyun-lua e"))
    assert.equal("DescribeDisksFullStatus\n", complete("aliyun-lua ecs DescribeDisksF"))
    assert.equal("--RegionId\n", complete("aliyun-lua ecs DescribeDisks --Regi"))
    assert.equal("--Tag\n", complete("aliyun-lua ecs CreateDisk --Size 20 --Ta"))
    assert.equal("cn-hangzhou\n", complete("aliyun-lua --region cn-hangz"))
    assert.truthy(complete("aliyun-lua ens Describe"):find("\nDescribeInstances\n", 1, true))
    assert.truthy(shell.sh("bash -n " .. quote(script)))
  end)
end)

describe("installed #integration", function()
  local stage

  setup(function()
    stage = shell.run("mktemp -d /tmp/aliyun-install-spec.XXXXXX"):gsub("%s+$", "")
    assert(stage:match("^/tmp/aliyun%-install%-spec%."))
    tmp = stage
  end)

  teardown(function()
    if stage and stage:match("^/tmp/aliyun%-install%-spec%.") then shell.sh("rm -rf " .. quote(stage)) end
  end)

  -- Both commands of an installed tree: a call through the in-process emulator, then the
  -- nginx emulator started by the installed aliyun-emulator and called by aliyun-lua.
  local function works(bindir)
    local code, out, err = run(bindir .. "/aliyun-lua", { "--emulator", "ecs", "DescribeInstances", "--region", "cn-hangzhou",
      "--output", "cols=InstanceId,Status", "rows=Instances.Instance[]" })
    assert.equal(0, code, err)
    assert.truthy(out:find("\ni%-%w+%s+| Running\n"), out)
    local log = stage .. "/emulator.log"
    local pidfile = stage .. "/emulator.pid"
    local url, pid, port
    local ok = false
    for _ = 1, 3 do -- a port another server took in the meantime: once more on another
      port = nil
      for _ = 1, 50 do -- a port nothing answers on
        local p = 20000 + math.random(0, 30000)
        if not shell.curl("GET", "http://127.0.0.1:" .. p .. "/") then port = p break end
      end
      assert(port, "no free port")
      assert(shell.sh(string.format("cd / && exec env -i PATH=%s HOME=%s %s --port %d >%s 2>&1 & echo $! >%s", quote(PATH),
        quote(stage), quote(bindir .. "/aliyun-emulator"), port, quote(log), quote(pidfile))))
      url = "http://127.0.0.1:" .. port
      pid = tonumber(slurp(pidfile):match("^%d+"))
      for _ = 1, 100 do -- at most 10 s for nginx to listen, while the command runs
        if not (pid and shell.sh("kill -0 " .. pid .. " 2>/dev/null")) then break end
        if shell.curl("GET", url .. "/_emulator/health") then ok = true break end
        shell.sh("sleep 0.1")
      end
      if ok or not slurp(log):find("Address already in use", 1, true) then break end
    end
    local got
    if ok then
      code, got, err = run(bindir .. "/aliyun-lua", { "--endpoint", url, "ecs", "DescribeRegions" }, KEYS)
    end
    -- only the process started here: never kill 0 (the whole process group) for want of a pid
    if pid and pid > 1 then shell.sh("kill -TERM " .. pid .. " 2>/dev/null") end
    for _ = 1, 50 do -- it stops nginx and removes its files
      if not shell.curl("GET", url .. "/_emulator/health") then break end
      shell.sh("sleep 0.1")
    end
    assert(ok, "the installed aliyun-emulator did not serve: " .. slurp(log))
    assert.equal(0, code, err)
    assert.truthy(json.decode(got).Regions, got)
  end

  it("make install PREFIX=... installs both commands, which run with no LUA_PATH", function()
    local prefix = stage .. "/prefix"
    assert(shell.sh("env -u LD_PRELOAD make -s -C " .. quote(ROOT) .. " install PREFIX=" .. quote(prefix) .. " >/dev/null"))
    for _, f in ipairs { "/bin/aliyun-lua", "/bin/aliyun-emulator", "/share/lua/5.4/aliyun/cli.lua",
      "/lib/lua/5.4/aliyun/core.so", "/lib/lua/5.4/aliyun/luajit/aliyun/core.so",
      "/share/bash-completion/completions/aliyun-lua" } do
      assert.truthy(io.open(prefix .. f), f)
    end
    works(prefix .. "/bin")
  end)

  it("make install DESTDIR=... stages a tree that runs where it was copied to", function()
    local dest = stage .. "/dest"
    assert(shell.sh("env -u LD_PRELOAD make -s -C " .. quote(ROOT) .. " install DESTDIR=" .. quote(dest)
      .. " PREFIX=/nonexistent/aliyun >/dev/null"))
    assert.is_nil(io.open("/nonexistent/aliyun/bin/aliyun-lua"))
    works(dest .. "/nonexistent/aliyun/bin")
  end)

  it("luarocks make installs both commands into a tree", function()
    if not shell.sh("command -v luarocks >/dev/null 2>&1") then
      pending("needs luarocks (make deps)")
      return
    end
    local tree = stage .. "/rocks"
    assert(shell.sh("cd " .. quote(ROOT) .. " && env -u LD_PRELOAD luarocks --lua-version 5.4 --tree " .. quote(tree)
      .. " make aliyun-scm-1.rockspec >" .. quote(stage .. "/luarocks.log") .. " 2>&1"), slurp(stage .. "/luarocks.log"))
    works(tree .. "/bin")
  end)
end)
