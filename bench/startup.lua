-- Start-up plus first call: a fresh `lua5.4` process that does `require "aliyun"`, builds an
-- ECS client and makes one call to the static nginx answer, timed from outside (so it
-- includes the interpreter's own start and exit). Median of RUNS; the bare interpreter
-- start is measured the same way and shown beside it. pop-core: node's start, require and
-- first call, timed inside node from its first line.
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"

local RUNS = tonumber(os.getenv("BENCH_STARTUP_RUNS")) or 15
local LUA = os.getenv("LUA") or "lua5.4"

local CHILD = [[
package.path = "%s/lua/?.lua;%s/lua/?/init.lua;" .. package.path
package.cpath = "%s/build/5.4/?.so;" .. package.cpath
local aliyun = require "aliyun"
local ecs = aliyun.ecs { endpoint = "%s", access_key_id = "testid", access_key_secret = "testsecret",
  region = "cn-hangzhou", method = "GET" }
local r, err = ecs:DescribeRegions { AcceptLanguage = "en-US" }
if not r then io.stderr:write(tostring(err), "\n") os.exit(1) end
]]

local function time_cmd(cmd)
  local t0 = lib.now()
  local ok = os.execute(cmd)
  local dt = lib.now() - t0
  if not ok then error("command failed: " .. cmd) end
  return dt * 1000
end

local function run()
  local server = lib.server()
  local R = lib.ROOT
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(CHILD:format(R, R, R, server.url))
  f:close()
  local bare, full = {}, {}
  local ok, err = pcall(function()
    time_cmd(LUA .. " " .. script) -- warm the page cache
    for i = 1, RUNS do
      bare[i] = time_cmd(LUA .. " -e ''")
      full[i] = time_cmd(LUA .. " " .. script)
    end
  end)
  os.remove(script)
  local peer, why
  if ok then
    local firsts = {}
    for i = 1, 3 do
      local p
      p, why = lib.node("calls.js", { endpoint = server.url, action = "DescribeRegions",
        params = { AcceptLanguage = "en-US" }, max_iter = 0, seconds = 0 })
      if not p then break end
      firsts[i] = p.first_call_ms
    end
    if #firsts == 3 then peer = lib.median(firsts) end
  end
  server.stop()
  if not ok then error(err) end
  local m = lib.median(full)
  lib.row(string.format("start-up + first call, fresh process (median of %d)", RUNS),
    string.format("%.1f ms (bare %s: %.1f ms)", m, LUA, lib.median(bare)),
    peer and string.format("%.0f ms pop-core (node, in-process)", peer) or why,
    peer and lib.fmt_ratio(peer / m) or "-", "< 20 ms", m < 20)
end

run()
