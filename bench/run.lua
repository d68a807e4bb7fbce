-- make bench: runs every bench in its own fresh process against one nginx on 127.0.0.1
-- and prints one table (Markdown) of figures taken side by side in this run.
-- Usage: lua5.4 bench/run.lua [name ...]   (names: sign json calls batch memory startup gateway emulator;
-- gateway_ir, the gateway in instructions under callgrind, runs only when named)
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"

local LUA = os.getenv("LUA") or "lua5.4"
local BENCHES = { "sign", "json", "calls", "batch", "memory", "startup", "gateway", "emulator" }

local function machine()
  local cpu = (lib.read("/proc/cpuinfo") or ""):match("model name%s*:%s*([^\n]+)") or "?"
  local mem = tonumber((lib.read("/proc/meminfo") or ""):match("MemTotal:%s*(%d+)")) or 0
  local nproc = lib.capture("nproc"):match("%d+") or "?"
  return string.format("%s CPU(s), %s, %.1f GB RAM", nproc, cpu, mem / 1024 / 1024)
end

local function versions()
  local v = {}
  v[#v + 1] = _VERSION
  local ok, cjson = pcall(require, "cjson")
  if ok then v[#v + 1] = "lua-cjson " .. tostring(cjson._VERSION) end
  v[#v + 1] = "node " .. (lib.capture("node --version 2>/dev/null"):match("%S+") or "?")
  local pj = lib.read(lib.ROOT .. "/bench/node/node_modules/@alicloud/pop-core/package.json")
  v[#v + 1] = "@alicloud/pop-core " .. (pj and pj:match('"version"%s*:%s*"([^"]+)"') or "not installed")
  v[#v + 1] = (lib.capture("nginx -v 2>&1"):match("nginx/%S+") or "nginx ?")
  v[#v + 1] = (lib.capture("wrk -v 2>&1"):match("wrk %S+") or "wrk ?")
  return table.concat(v, ", ")
end

-- BENCH_PIN=1: the benches (and the wrk and node processes they start) on CPU 0, nginx's
-- worker on the last CPU, so the two sides of a network figure never share a core. Off by
-- default: on a machine shared with other work, a pinned side cannot move off a busy core.
local PIN = ""
if lib.PIN and os.execute("command -v taskset >/dev/null 2>&1") then PIN = "taskset -c 0 " end

local function main()
  local names = #arg > 0 and arg or BENCHES
  local server = lib.start_nginx()
  local rows, notes = {}, {}
  local ok, err = pcall(function()
    for _, name in ipairs(names) do
      io.stderr:write("bench: ", name, " ...\n")
      local cmd = "BENCH_URL=" .. lib.shell_quote(server.url) .. " " .. PIN .. LUA .. " "
        .. lib.shell_quote(lib.ROOT .. "/bench/" .. name .. ".lua")
      local out, good = lib.capture(cmd .. " 2>&1")
      local got = false
      for line in out:gmatch("[^\n]+") do
        if line:sub(1, 4) == "ROW\t" then
          local f = {}
          for field in (line:sub(5) .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = field end
          rows[#rows + 1] = f
          got = true
        elseif line:sub(1, 5) == "NOTE\t" then
          notes[#notes + 1] = name .. ": " .. line:sub(6)
        end
      end
      if not good or not got then
        rows[#rows + 1] = { name .. " bench failed", "-", "-", "-", "-", "NO" }
        notes[#notes + 1] = name .. ": " .. out:gsub("%s+$", ""):sub(-400)
      end
    end
  end)
  server.stop()
  if not ok then error(err, 0) end

  print("")
  print("lua-aliyun benchmarks, " .. os.date("!%Y-%m-%d %H:%M UTC"))
  print("machine: " .. machine() .. (PIN ~= "" and "; benches pinned to CPU 0, nginx worker to the last CPU" or ""))
  print("software: " .. versions())
  print("")
  print("| what | ours | theirs | ratio | target | met? |")
  print("|---|---|---|---|---|---|")
  for _, f in ipairs(rows) do print("| " .. table.concat(f, " | ") .. " |") end
  for _, n in ipairs(notes) do print("note: " .. n) end
  print("")
end

main()
