-- The REPL in a real terminal: bin/aliyun-lua runs inside a private tmux server (its own
-- socket), is driven with send-keys and read with capture-pane, against the emulator served
-- by nginx on 127.0.0.1. HOME is a temporary directory; every wait is bounded.
-- Also the one-shot mode over real HTTP, with a waiter that sees a disk become Available.
local json = require "aliyun.json"
local server = require "aliyun.emulator.server"

local ROOT = server.ROOT
local BIN = ROOT .. "/bin/aliyun-lua"

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

local shell = require "support.shell"
local sh = shell.sh

local function read_cmd(cmd)
  local p = assert(io.popen(cmd, "r"))
  local s = p:read("a")
  p:close()
  return s
end

local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function have(cmd)
  return sh("command -v " .. cmd .. " >/dev/null 2>&1")
end

local srv, tmp, sock
local marks = 0

local function tmux(args)
  return sh("tmux -S " .. quote(sock) .. " " .. args .. " >/dev/null 2>&1")
end

local function screen()
  -- the whole scrollback, wrapped lines joined
  return read_cmd("tmux -S " .. quote(sock) .. " capture-pane -p -J -S -3000 2>/dev/null")
end

local function keys(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = quote((select(i, ...))) end
  assert(tmux("send-keys -t repl " .. table.concat(parts, " ")))
end

local function type_line(text)
  keys("-l", text)
  keys("Enter")
end

-- Polls the screen until find(screen) is truthy; at most `seconds`. Returns the screen.
local function wait_for(find, seconds, what)
  local deadline = os.time() + (seconds or 10)
  local s
  repeat
    s = screen()
    if find(s) then return s end
    sh("sleep 0.1")
  until os.time() > deadline
  error("timed out waiting for " .. tostring(what) .. "; the screen was:\n" .. tostring(s), 2)
end

local function wait_text(text, seconds)
  return wait_for(function(s) return s:find(text, 1, true) end, seconds, text)
end

-- Prints a fresh mark and returns a function giving the screen after it (this step's output).
local function step()
  marks = marks + 1
  local mark = "MARK-" .. marks .. "-END"
  type_line('print("MARK-' .. marks .. '".."-END")')
  wait_for(function(s) return s:find("\n" .. mark, 1, true) end, 10, mark)
  return function(text, seconds)
    local s = wait_for(function(sc)
      local at = select(2, sc:find("\n" .. mark, 1, true))
      return at and sc:find(text, at, true)
    end, seconds, text)
    local at = select(2, s:find("\n" .. mark, 1, true))
    return s:sub(at + 1)
  end
end

-- where: the options that say where calls go (default: the nginx emulator, cn-hangzhou);
-- wrap: a command the REPL runs under (valgrind), with `seconds` to show its prompt
local function start_repl(extra, where, wrap, seconds)
  local env = table.concat({
    "HOME=" .. quote(tmp), "PATH=" .. quote(os.getenv("PATH") or "/usr/bin:/bin"), "LANG=C.UTF-8",
    "TERM=xterm", "ALIBABA_CLOUD_ACCESS_KEY_ID=testid", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret",
    "ALIYUN_LUA_HISTORY=" .. quote(tmp .. "/history"),
  }, " ")
  where = where or ("--endpoint " .. quote(srv.url) .. " --region cn-hangzhou")
  local cmd = string.format("env -i %s %s %s %s %s; echo REPL-EXITED-$?; sleep 120",
    env, wrap or "", quote(BIN), where, extra or "")
  -- right after the last session was killed, the tmux server may still be shutting down and
  -- refuse a new one: try again for a few seconds
  local started = false
  for _ = 1, 50 do
    started = tmux("new-session -d -s repl -x 160 -y 50 " .. quote(cmd))
    if started then break end
    sh("sleep 0.1")
  end
  assert(started, "tmux could not start a session")
  wait_for(function(sc) return sc:find("aliyun[%[%w%-]*%]?> ") end, seconds or 10, "the prompt")
end

local function stop_repl()
  tmux("kill-session -t repl")
  -- wait until the session is gone, so that the next start does not meet it
  for _ = 1, 50 do
    if not tmux("has-session -t repl") then break end
    sh("sleep 0.1")
  end
end

describe("aliyun-lua REPL in a terminal #integration", function()
  local ready = have("tmux") and sh("lua5.4 -e 'require(\"readline\")' >/dev/null 2>&1")

  setup(function()
    if not ready then return end
    tmp = read_cmd("mktemp -d /tmp/aliyun-repl-spec.XXXXXX"):gsub("%s+$", "")
    assert(tmp:match("^/tmp/aliyun%-repl%-spec%."))
    sock = tmp .. "/tmux.sock"
    sh("mkdir -p " .. quote(tmp .. "/.aliyun"))
    local f = assert(io.open(tmp .. "/.aliyun/config.json", "w"))
    f:write(json.encode { current = "none", profiles = {
      { name = "hz", mode = "AK", access_key_id = "testid", access_key_secret = "testsecret", region_id = "cn-hangzhou" },
      { name = "wrong", mode = "AK", access_key_id = "testid", access_key_secret = "notthesecret" },
    } })
    f:close()
    sh("chmod 600 " .. quote(tmp .. "/.aliyun/config.json")) -- as aliyun-cli writes it
    srv = assert(server.start { seed = 1, delays = { disk_create = 1 } })
    start_repl()
  end)

  teardown(function()
    if sock then tmux("kill-server") end
    if srv then srv.stop() end
    if tmp and tmp:match("^/tmp/aliyun%-repl%-spec%.") then sh("rm -rf " .. quote(tmp)) end
  end)

  if not ready then
    pending("needs tmux and lua-readline (make deps)")
    return
  end

  it("makes a call and pretty-prints the result", function()
    local after = step()
    type_line('ecs:DescribeDisks{ RegionId = "cn-hangzhou", PageSize = 1 }')
    local out = after("TotalCount = 3,")
    assert.truthy(out:find('DiskId = "d%-[%w]+",'), out)
    assert.truthy(out:find("PageSize = 1,", 1, true), out)
    -- keys in order: Disks before PageNumber before RequestId
    assert.truthy(out:find("Disks = {", 1, true) < out:find("PageNumber = 1", 1, true))
  end)

  it("continues an incomplete chunk on the next line", function()
    local after = step()
    type_line('r = ecs:DescribeRegions{')
    wait_text("...> ")
    type_line("}")
    type_line("#r.Regions.Region > 0")
    assert.truthy(after("true"))
  end)

  it("completes action names after ecs: and parameter names inside the braces", function()
    local after = step()
    keys("-l", "ecs:DescribeDisksF")
    keys("Tab")
    wait_text("ecs:DescribeDisksFullStatus")
    keys("C-u")
    keys("-l", "ecs:DescribeDi")
    keys("Tab", "Tab")
    local out = after("ecs:DescribeDiskMonitorData")
    assert.truthy(out:find("ecs:DescribeDisks ", 1, true) or out:find("ecs:DescribeDisks\n", 1, true), out)
    keys("C-u")
    keys("-l", 'ecs:DescribeDisks{ Reg')
    keys("Tab")
    keys("-l", '"cn-hangzhou", PageS')
    keys("Tab")
    keys("-l", "2 }.PageSize")
    wait_text('ecs:DescribeDisks{ RegionId = "cn-hangzhou", PageSize = 2 }.PageSize')
    keys("Enter")
    assert.truthy(after("\n2\n"))
  end)

  it("help(ecs.CreateDisk) lists the parameters with type and required flag", function()
    local after = step()
    type_line("help(ecs.CreateDisk)")
    local out = after("ZoneId")
    assert.truthy(out:match("\n  RegionId%s+String%s+required\n"), out)
    assert.truthy(out:match("\n  Size%s+Integer\n"), out)
  end)

  it("prints errors on one line and goes on", function()
    local after = step()
    type_line('ecs:DescribeDisks{ RegionId = "xx-nowhere-1" }')
    local out = after("InvalidRegionId.NotFound")
    assert.truthy(out:find("error: aliyun DescribeDisks: service (HTTP 404) InvalidRegionId.NotFound", 1, true), out)
    type_line("ecs:DescribeDisk{}")
    out = after("did you mean DescribeDisks")
    assert.truthy(out:find("error: ", 1, true))
    type_line("1 + ")
    type_line("2")
    after("\n3\n")
  end)

  it("fills RegionId from the session's region; an unknown region is refused with the nearest", function()
    local after = step()
    type_line("ecs:DescribeInstances{}.Instances.Instance[1].RegionId")
    after('"cn-hangzhou"')
    type_line(":region cn-hangzou")
    local out = after("did you mean")
    assert.truthy(out:find("error: :region: unknown region 'cn-hangzou'; did you mean cn-hangzhou", 1, true), out)
    wait_text("aliyun[cn-hangzhou]> ")
  end)

  it("says why an assigned call gave nil, and how to call with a colon", function()
    local after = step()
    type_line('r = ecs:DescribeDisks{ RegionId = "xx-nowhere-1" }')
    after("error: aliyun DescribeDisks: service (HTTP 404) InvalidRegionId.NotFound")
    type_line("ecs.DescribeDisks{}")
    local out = after("needs a colon")
    assert.truthy(out:find("aliyun: ecs.DescribeDisks{...} needs a colon: write ecs:DescribeDisks{...}", 1, true), out)
    assert.is_nil(out:find("table index is nil", 1, true))
  end)

  it("Ctrl-C stops a running call within the second; the next command runs", function()
    -- every call answers 30 s late: only Ctrl-C brings the prompt back before the 10 s read timeout
    assert(shell.curl("POST", srv.url .. "/_emulator/faults", '{"Action":"*","Type":"latency","Seconds":30,"Always":true}'))
    local after = step()
    type_line("slow = ecs:DescribeRegions{}")
    sh("sleep 0.5")
    keys("C-c")
    local out = after("interrupted", 8) -- within the 10 s read timeout, which would say "timed out"
    assert.is_nil(out:find("timed out", 1, true), out)
    assert(shell.curl("DELETE", srv.url .. "/_emulator/faults"))
    type_line("#ecs:DescribeRegions{}.Regions.Region > 0")
    after("\ntrue\n")
  end)

  it(":region and :endpoint switch the clients", function()
    local after = step()
    type_line(":region cn-beijing")
    after("region cn-beijing")
    wait_text("aliyun[cn-beijing]> ")
    type_line(":endpoint http://127.0.0.1:9")
    after("endpoint http://127.0.0.1:9")
    type_line('ecs:DescribeRegions{}')
    after("error: aliyun DescribeRegions: network")
    type_line(":endpoint " .. srv.url)
    type_line(":region cn-hangzhou")
    type_line('#ecs:DescribeRegions{}.Regions.Region > 0')
    after("true")
  end)

  it(":profile switches the key pair", function()
    local after = step()
    type_line(":profile wrong")
    after("profile wrong,")
    type_line("ecs:DescribeRegions{}")
    local out = after("SignatureDoesNotMatch")
    assert.truthy(out:find("error: aliyun DescribeRegions: service", 1, true), out)
    assert.is_nil(out:find("notthesecret", 1, true))
    type_line(":profile nosuch")
    after("no profile named 'nosuch'")
    type_line(":profile hz")
    after("profile hz,")
    type_line('#ecs:DescribeRegions{}.Regions.Region > 0')
    after("true")
  end)

  it("plot(result) draws a monitoring series", function()
    local after = step()
    type_line('i = ecs:DescribeInstances{ RegionId = "cn-hangzhou" }.Instances.Instance[1].InstanceId')
    type_line('t = os.time() - 120; t = t - t % 60')
    type_line('m = ecs:DescribeInstanceMonitorData{ InstanceId = i, StartTime = os.date("!%Y-%m-%dT%H:%M:%SZ", t - 1800),'
      .. ' EndTime = os.date("!%Y-%m-%dT%H:%M:%SZ", t) }')
    type_line('plot(m, { metric = "CPU", height = 4 })')
    local out = after("CPU  (")
    assert.truthy(out:find("█", 1, true), out)
  end)

  it("Ctrl-C at the prompt clears the line, every time, and the next line runs as typed", function()
    for i = 1, 3 do
      local after = step()
      keys("-l", "abc" .. i)
      keys("C-c")
      after("abc" .. i .. "^C")
      type_line(40 + i .. " + 2")
      local out = after("\n" .. (42 + i) .. "\n")
      assert.is_nil(out:find("error", 1, true), out)
    end
    -- also the continuation of an unfinished chunk
    local after = step()
    type_line("f = function()")
    wait_text("...> ")
    keys("C-c")
    type_line("1 + 1")
    local out = after("\n2\n")
    assert.is_nil(out:find("error", 1, true), out)
  end)

  it(":endpoint leaves the in-process emulator, :endpoint alone goes back", function()
    type_line(":quit")
    wait_text("REPL-EXITED-0")
    stop_repl()
    start_repl(nil, "--emulator")
    local after = step()
    type_line(":endpoint " .. srv.url)
    after("endpoint " .. srv.url)
    -- the nginx emulator now: a fault queued there is met
    assert(shell.curl("POST", srv.url .. "/_emulator/faults", '{"Action":"DescribeRegions","Type":"status","Status":503,"Count":4}'))
    type_line("ecs:DescribeRegions{}")
    after("error: aliyun DescribeRegions: service (HTTP 503)")
    type_line(":endpoint")
    after("endpoint in-process emulator")
    type_line("#ecs:DescribeRegions{}.Regions.Region > 0")
    after("\ntrue\n")
    assert(shell.curl("DELETE", srv.url .. "/_emulator/faults"))
    type_line(":quit")
    wait_text("REPL-EXITED-0")
    stop_repl()
    start_repl()
  end)

  it("keeps the history across sessions", function()
    type_line("help(ecs.CreateDisk)")
    type_line(":quit")
    wait_text("REPL-EXITED-0")
    local hist = slurp(tmp .. "/history")
    assert.truthy(hist and hist:find("help(ecs.CreateDisk)", 1, true), hist)
    stop_repl()
    start_repl()
    keys("Up")
    wait_for(function(s) return s:find("aliyun%[cn%-hangzhou%]> :quit%s*$") end, 10, "the last line back")
    keys("C-u")
  end)

  -- lua-readline's handler_remove closes its terminal stream and then lets readline write
  -- to it: called while a line is still being read (a Ctrl-C at the prompt), that write
  -- went to a freed FILE, and the REPL crashed now and then. valgrind sees every such write.
  it("Ctrl-C at the prompt touches no freed memory (valgrind)", function()
    if not have("valgrind") then
      pending("needs valgrind")
      return
    end
    type_line(":quit")
    wait_text("REPL-EXITED-0")
    stop_repl()
    start_repl(nil, nil, "valgrind -q --error-exitcode=99 lua5.4", 120)
    for i = 1, 2 do
      local after = step()
      keys("-l", "abc" .. i)
      keys("C-c")
      after("abc" .. i .. "^C", 60)
      type_line(40 + i .. " + 2")
      after("\n" .. (42 + i) .. "\n", 60)
    end
    type_line(":quit")
    local out = wait_for(function(sc) return sc:find("REPL%-EXITED%-%d+") end, 120, "the end of the REPL")
    assert.truthy(out:find("REPL-EXITED-0", 1, true), out)
    stop_repl()
    start_repl()
  end)
end)

describe("aliyun-lua one-shot over HTTP #integration", function()
  local srv2, home

  setup(function()
    home = read_cmd("mktemp -d /tmp/aliyun-cli-http.XXXXXX"):gsub("%s+$", "")
    srv2 = assert(server.start { seed = 1, delays = { disk_create = 1 } })
  end)

  teardown(function()
    if srv2 then srv2.stop() end
    if home and home:match("^/tmp/aliyun%-cli%-http%.") then sh("rm -rf " .. quote(home)) end
  end)

  local function run(args)
    local parts = {}
    for i, a in ipairs(args) do parts[i] = quote(a) end
    local cmd = string.format("env -i HOME=%s PATH=%s ALIBABA_CLOUD_ACCESS_KEY_ID=testid "
      .. "ALIBABA_CLOUD_ACCESS_KEY_SECRET=testsecret timeout 60 %s --endpoint %s %s 2>%s", quote(home),
      quote(os.getenv("PATH") or "/usr/bin:/bin"), quote(BIN), quote(srv2.url), table.concat(parts, " "),
      quote(home .. "/stderr"))
    local p = assert(io.popen(cmd, "r"))
    local out = p:read("a")
    local _, _, code = p:close()
    return code, out, slurp(home .. "/stderr") or ""
  end

  it("creates a disk and waits for it to become Available, with a progress line", function()
    local code, out, err = run { "ecs", "DescribeZones", "--RegionId", "cn-hangzhou" }
    assert.equal(0, code, err)
    local zone = json.decode(out).Zones.Zone[1].ZoneId
    code, out, err = run { "ecs", "CreateDisk", "--RegionId", "cn-hangzhou", "--ZoneId", zone, "--Size", "20" }
    assert.equal(0, code, err)
    local disk = json.decode(out).DiskId
    assert.truthy(disk)
    code, out, err = run { "ecs", "DescribeDisks", "--RegionId", "cn-hangzhou", "--DiskIds", '["' .. disk .. '"]',
      "--waiter", "expr=Disks.Disk[0].Status", "to=Available", "interval=0.5" }
    assert.equal(0, code, err)
    assert.equal("Available", json.decode(out).Disks.Disk[1].Status)
    assert.truthy(err:find("Disks.Disk[0].Status = Available", 1, true), err)
  end)

  it("fails with exit 1 and one line when the service says no", function()
    local code, out, err = run { "ecs", "DescribeDisks", "--RegionId", "xx-nowhere-1" }
    assert.equal(1, code)
    assert.equal("", out)
    assert.truthy(err:find("^aliyun DescribeDisks: service %(HTTP 404%) InvalidRegionId.NotFound"), err)
  end)
end)
