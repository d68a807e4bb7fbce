-- Resident memory after 1,000 and after 100,000 sequential calls through the client
-- (static nginx answer, libcurl keep-alive), in this fresh process. A full garbage
-- collection runs before each reading, so what remains is what is still held.
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"

local FIRST = 1000
local TOTAL = tonumber(os.getenv("BENCH_MEMORY_CALLS")) or 100000
local LIMIT_KB = 2048
local MAX_SECONDS = 120
local PARAMS = { AcceptLanguage = "en-US", InstanceChargeType = "PostPaid", ResourceType = "instance" }

local function run()
  local server = lib.server()
  local ecs = lib.ecs(server.url, { method = "GET" })
  local t0 = lib.now()
  local function calls(n)
    for _ = 1, n do
      local r, err = ecs:DescribeRegions(PARAMS)
      if not r then server.stop() error("call failed: " .. tostring(err)) end
    end
  end
  calls(FIRST)
  collectgarbage("collect")
  local rss1 = lib.rss_kb()
  local done = FIRST
  while done < TOTAL and lib.now() - t0 < MAX_SECONDS do
    calls(1000)
    done = done + 1000
  end
  collectgarbage("collect")
  local rss2 = lib.rss_kb()
  server.stop()
  local growth = rss2 - rss1
  lib.row(string.format("RSS after %d and after %d calls", FIRST, done),
    string.format("%.1f MB -> %.1f MB (%+d kB)", rss1 / 1024, rss2 / 1024, growth), "-", "-",
    "growth < 2 MB", done == TOTAL and growth < LIMIT_KB or (done < TOTAL and "n/a (time bound hit)" or false))
end

run()
