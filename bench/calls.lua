-- Sequential calls per second over one keep-alive connection to a static nginx answer,
-- through the whole client pipeline (validate, flatten, sign, libcurl, decode), beside
-- `wrk -c1 -t1` on the same location (the ceiling) and beside @alicloud/pop-core in Node.js.
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"

local SECONDS = tonumber(os.getenv("BENCH_SECONDS")) or 5 -- ours, over all rounds
local ROUNDS = 5
local WRK_SECONDS = tonumber(os.getenv("BENCH_WRK_SECONDS")) or 1 -- per round
local MAX = 2000000
local PARAMS = { AcceptLanguage = "en-US", InstanceChargeType = "PostPaid", ResourceType = "instance" }

local function wrk(url)
  local out, ok = lib.capture(string.format("timeout %d wrk -c1 -t1 -d%ds %s 2>&1",
    WRK_SECONDS + 10, WRK_SECONDS, lib.shell_quote(url)))
  local rps = ok and tonumber(out:match("Requests/sec:%s*([%d.]+)"))
  if not rps then return nil, "wrk failed: " .. out:sub(1, 200) end
  return rps
end

local function run()
  local server = lib.server()
  local ecs = lib.ecs(server.url, { method = "GET" })
  local res, err = ecs:DescribeRegions(PARAMS)
  if not res then
    server.stop()
    error("first call failed: " .. tostring(err))
  end
  -- Rounds alternate between our calls and wrk, and each side keeps its best round: on a
  -- shared machine both then get the same chances of a quiet moment.
  local ours, ceiling, wrk_why = 0, 0, nil
  for _ = 1, ROUNDS do
    local r = lib.rate(function()
      local answer = ecs:DescribeRegions(PARAMS)
      if not answer then error("call failed") end
    end, MAX, SECONDS / ROUNDS, 50)
    if r > ours then ours = r end
    local w, why = wrk(server.url .. lib.STATIC_PATH)
    if not w then
      ceiling, wrk_why = nil, why
      break
    end
    if w > ceiling then ceiling = w end
  end
  local peer, peer_why = lib.node("calls.js", { endpoint = server.url, action = "DescribeRegions",
    params = PARAMS, max_iter = MAX, seconds = SECONDS })
  server.stop()

  if peer then
    local r = ours / peer.calls_per_s
    lib.row("sequential calls, one keep-alive connection, vs pop-core", lib.fmt_rate(ours),
      lib.fmt_rate(peer.calls_per_s) .. " pop-core", lib.fmt_ratio(r), ">= 3x", r >= 3)
  else
    lib.row("sequential calls, one keep-alive connection, vs pop-core", lib.fmt_rate(ours), peer_why,
      "-", ">= 3x", "n/a")
  end
  if ceiling then
    local r = ours / ceiling
    lib.row("sequential calls vs wrk -c1 -t1 on the same location", lib.fmt_rate(ours),
      lib.fmt_rate(ceiling) .. " wrk", lib.fmt_ratio(r), ">= 0.9x", r >= 0.9)
  else
    lib.row("sequential calls vs wrk -c1 -t1 on the same location", lib.fmt_rate(ours), wrk_why,
      "-", ">= 0.9x", "n/a")
  end
end

run()
