-- Batch speed-up: 1000 calls at concurrency 32 (client:batch over curl multi) against an
-- nginx location that answers after 20 ms, beside the same calls made one after another.
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"

local CALLS = 1000
local CONCURRENCY = 32
-- sequential calls at 20 ms each: a sample is enough for the rate (and keeps the run short)
local SEQUENTIAL = tonumber(os.getenv("BENCH_SEQUENTIAL_CALLS")) or 150
local PARAMS = { RegionId = "cn-hangzhou", AcceptLanguage = "en-US" }

local function run()
  local server = lib.server()
  local ecs = lib.ecs(server.url, { method = "GET" })
  local ok, err = ecs:DescribeZones(PARAMS)
  if not ok then
    server.stop()
    error("first call failed: " .. tostring(err))
  end

  local t0 = lib.now()
  for _ = 1, SEQUENTIAL do
    local r, e = ecs:DescribeZones(PARAMS)
    if not r then server.stop() error("sequential call failed: " .. tostring(e)) end
  end
  local seq_rate = SEQUENTIAL / (lib.now() - t0)

  local calls = {}
  for i = 1, CALLS do calls[i] = { "DescribeZones", PARAMS } end
  ecs:batch({ calls[1], calls[2] }, { concurrency = 2 }) -- warm-up
  t0 = lib.now()
  local results = ecs:batch(calls, { concurrency = CONCURRENCY })
  local batch_time = lib.now() - t0
  server.stop()
  local failed = 0
  for i = 1, CALLS do
    if type(results[i]) ~= "table" or results[i].RequestId == nil then failed = failed + 1 end
  end
  local batch_rate = CALLS / batch_time
  local r = batch_rate / seq_rate
  lib.row(string.format("batch %d calls, concurrency %d, 20 ms latency (calls/s)", CALLS, CONCURRENCY),
    string.format("%.0f /s batch (%.2f s%s)", batch_rate, batch_time, failed > 0 and (", " .. failed .. " failed") or ""),
    string.format("%.1f /s sequential (%d calls)", seq_rate, SEQUENTIAL),
    lib.fmt_ratio(r), ">= 10x", failed == 0 and r >= 10)
end

run()
