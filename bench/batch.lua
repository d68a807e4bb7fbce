-- Batch throughput: ecs:batch (on the core's own connections) at concurrency 32 and 256
-- against an nginx location that answers after 20 ms, beside wrk with as many connections
-- on the same location (the ceiling: a connection can carry at most 50 answers a second),
-- and beside the same calls made one after another. Rounds alternate between batch and
-- wrk; each side keeps its best round. A batch (30 calls a slot, about 0.7 s at 256) is
-- shorter than wrk's 2 s run; batches of 100 calls a slot, as long as wrk's run, gave the
-- same ratios within the host's spread (BENCHMARKS.md, issue 17), so the figure stays this.
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"

local WAVES = tonumber(os.getenv("BENCH_BATCH_WAVES")) or 30 -- calls per slot in one batch
local ROUNDS = 3
local WRK_SECONDS = tonumber(os.getenv("BENCH_WRK_SECONDS")) or 2
-- sequential calls at 20 ms each: a sample is enough for the rate (and keeps the run short)
local SEQUENTIAL = tonumber(os.getenv("BENCH_SEQUENTIAL_CALLS")) or 100
local PARAMS = { RegionId = "cn-hangzhou", AcceptLanguage = "en-US" }
local PATH = "/?Action=DescribeZones"

local function wrk(url, conns)
  local out, ok = lib.capture(string.format("timeout %d wrk -t2 -c%d -d%ds --timeout 10s %s 2>&1",
    WRK_SECONDS + 15, conns, WRK_SECONDS, lib.shell_quote(url)))
  local rps = ok and tonumber(out:match("Requests/sec:%s*([%d.]+)"))
  if not rps then return nil, "wrk failed: " .. out:sub(1, 200) end
  if out:find("Non%-2xx") or out:find("Socket errors") then return nil, "wrk saw errors: " .. out:gsub("%s+", " "):sub(1, 200) end
  return rps
end

local function batch_rate(ecs, conc)
  local n = conc * WAVES
  local calls = {}
  for i = 1, n do calls[i] = { "DescribeZones", PARAMS } end
  local t0 = lib.now()
  local results = ecs:batch(calls, { concurrency = conc })
  local took = lib.now() - t0
  local failed = 0
  for i = 1, n do
    if type(results[i]) ~= "table" or results[i].RequestId == nil then failed = failed + 1 end
  end
  return n / took, failed, n
end

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

  local rows = {}
  for _, conc in ipairs { 32, 256 } do
    ecs:batch({ { "DescribeZones", PARAMS } }, { concurrency = 1 }) -- libcurl loaded, connections warm
    local best, ceiling, failed, n, why = 0, 0, 0, 0, nil
    for _ = 1, ROUNDS do
      local r, f, calls = batch_rate(ecs, conc)
      failed, n = failed + f, calls
      if r > best then best = r end
      local w, wwhy = wrk(server.url .. PATH, conc)
      if not w then why = wwhy break end
      if w > ceiling then ceiling = w end
    end
    rows[#rows + 1] = { conc = conc, rate = best, ceiling = ceiling, failed = failed, n = n, why = why }
  end
  server.stop()

  for _, row in ipairs(rows) do
    local what = string.format("batch calls/s vs wrk -c%d on the same 20 ms location (%d calls a batch)",
      row.conc, row.n)
    local ours = lib.fmt_rate(row.rate) .. (row.failed > 0 and (", " .. row.failed .. " failed") or "")
    if row.why then
      lib.row(what, ours, row.why, "-", ">= 0.9x", "n/a")
    else
      local r = row.rate / row.ceiling
      lib.row(what, ours, lib.fmt_rate(row.ceiling) .. " wrk", lib.fmt_ratio(r), ">= 0.9x",
        row.failed == 0 and r >= 0.9)
    end
  end
  local r = rows[1].rate / seq_rate
  lib.row("batch at concurrency 32 vs the same calls one after another, 20 ms latency",
    lib.fmt_rate(rows[1].rate) .. " batch", string.format("%.1f /s sequential (%d calls)", seq_rate, SEQUENTIAL),
    lib.fmt_ratio(r), ">= 10x", rows[1].failed == 0 and r >= 10)
end

run()
