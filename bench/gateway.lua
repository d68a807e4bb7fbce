-- What one SDK call costs an OpenResty gateway: the CPU time of the gateway's one worker
-- per request, for a location that answers by calling the API through the SDK
-- (ecs:DescribeRegions over cosockets: checked, signed, sent, parsed, decoded) beside a
-- location that proxies to the same static upstream with nginx's own keep-alive proxy
-- (proxy_pass to an upstream block with keepalive, HTTP/1.1). The upstream is the bench
-- nginx's static answer (no Lua), so neither side waits on anything slower than nginx.
-- wrk drives both with the same connections; rounds alternate, and the ratio is the
-- median of the rounds' ratios (each round's pair taken back to back, on the same host
-- load); every round is printed in a note.
-- A third location shows the floor of any Lua cosocket client: a hand-written exchange
-- with the same upstream (pooled connect, send of one SDK request's bytes, one receive, keep-alive;
-- no signing, no parsing, no decoding). What the SDK costs above that floor is the SDK's
-- own; what the floor costs above the proxy is the content handler and the cosocket API.
-- The SDK's own cost is also taken inside the worker, where the proxy's cost (which moves
-- with the host as much as the SDK's does) does not divide it: /inworker times rounds of
-- SDK calls and of the floor's exchange alternately with os.clock (the worker's CPU).
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"
local nginx = require "support.nginx"
local gateway_conf = require "gateway_conf"

local SECONDS = tonumber(os.getenv("BENCH_GATEWAY_SECONDS")) or 3
-- rounds: single rounds on a shared 2-CPU host range over a factor of 1.5-2, so the median
-- needs more than a few of them
local ROUNDS = tonumber(os.getenv("BENCH_GATEWAY_ROUNDS")) or 9
local CONNECTIONS = 32
local INWORKER_ROUNDS, INWORKER_CALLS = 10, 1000

-- wrk on the gateway's path; returns requests/s and the worker's CPU microseconds per
-- request, or nil and why. Any non-2xx answer or socket error voids the figure.
local function wrk(gw, path)
  local cpu0 = lib.workers_cpu(gw.prefix)
  local out, ok = lib.capture(string.format("timeout %d wrk -t2 -c%d -d%ds --timeout 10s %s 2>&1",
    SECONDS + 15, CONNECTIONS, SECONDS, lib.shell_quote(gw.url .. path)))
  local cpu = lib.workers_cpu(gw.prefix) - cpu0
  local rps, n = lib.wrk_parse(out, ok)
  if not rps then return nil, n end
  return { rps = rps, cpu_us = cpu / n * 1e6 }
end

local function start_gateway(upstream)
  return nginx.start { http = gateway_conf(upstream, lib.STATIC_PATH) }
end

local function run()
  local server = lib.server()
  local gw = start_gateway(server.url)
  local sdk, plain, floor, why = {}, {}, {}, nil
  local in_sdk, in_floor = {}, {}
  local ok, err = pcall(function()
    local s = lib.core.session {}
    for _, path in ipairs { "/sdk", "/floor", "/proxy" } do
      local r = assert(s:request { url = gw.url .. path, timeout = 20 })
      if r.status ~= 200 then error("gateway " .. path .. " answered " .. r.status .. ": " .. r.body:sub(1, 200)) end
    end
    s:close()
    -- a warm-up run of each: the measured rounds are the steady state (LuaJIT's traces
    -- compiled, nginx's pools filled)
    for _, path in ipairs { "/sdk", "/floor", "/proxy" } do
      local w
      w, why = wrk(gw, path)
      if not w then return end
    end
    for round = 1, ROUNDS do
      -- the order turns round every other round, so that neither side always runs first
      local order = round % 2 == 1 and { "/sdk", "/floor", "/proxy" } or { "/proxy", "/floor", "/sdk" }
      local got = {}
      for _, path in ipairs(order) do
        got[path], why = wrk(gw, path)
        if not got[path] then return end
      end
      sdk[#sdk + 1], plain[#plain + 1], floor[#floor + 1] = got["/sdk"], got["/proxy"], got["/floor"]
    end
    s = lib.core.session {}
    local r = assert(s:request { url = string.format("%s/inworker?rounds=%d&calls=%d", gw.url, INWORKER_ROUNDS,
      INWORKER_CALLS), timeout = 120 })
    s:close()
    if r.status ~= 200 then error("gateway /inworker answered " .. r.status .. ": " .. r.body:sub(1, 200)) end
    for a, b in r.body:gmatch("([%d.]+) ([%d.]+)") do
      in_sdk[#in_sdk + 1], in_floor[#in_floor + 1] = tonumber(a), tonumber(b)
    end
    if #in_sdk ~= INWORKER_ROUNDS then error("gateway /inworker: unexpected answer: " .. r.body:sub(1, 200)) end
  end)
  gw.stop()
  server.stop()
  if not ok then error(err) end

  local what = string.format("OpenResty gateway worker CPU per request, wrk -t2 -c%d: SDK DescribeRegions "
    .. "vs keep-alive proxy_pass to the same static upstream", CONNECTIONS)
  if #sdk < ROUNDS then
    lib.row(what, why, "-", "-", "<= 1.3x", "NO")
    return
  end
  local function field(list, k)
    local t = {}
    for i, x in ipairs(list) do t[i] = x[k] end
    return t
  end
  local ratios, floor_ratios = {}, {}
  for i = 1, ROUNDS do
    ratios[i] = sdk[i].cpu_us / plain[i].cpu_us
    floor_ratios[i] = floor[i].cpu_us / plain[i].cpu_us
  end
  local s_cpu, p_cpu = lib.median(field(sdk, "cpu_us")), lib.median(field(plain, "cpu_us"))
  local r = lib.median(ratios)
  lib.row(what, string.format("%.1f us SDK", s_cpu), string.format("%.1f us proxy", p_cpu),
    lib.fmt_ratio(r), "<= 1.3x", r <= 1.3)
  lib.row("OpenResty gateway requests/s (same runs)", lib.fmt_rate(lib.median(field(sdk, "rps"))) .. " SDK",
    lib.fmt_rate(lib.median(field(plain, "rps"))) .. " proxy",
    lib.fmt_ratio(lib.median(field(sdk, "rps")) / lib.median(field(plain, "rps"))), "(info)", "n/a")
  lib.row("OpenResty gateway: a hand-written cosocket exchange (no SDK) vs the same proxy_pass: the floor of "
    .. "any Lua client", string.format("%.1f us floor", lib.median(field(floor, "cpu_us"))),
    string.format("%.1f us proxy", p_cpu), lib.fmt_ratio(lib.median(floor_ratios)), "(info)", "n/a")
  local in_s, in_f = lib.median(in_sdk), lib.median(in_floor)
  lib.row(string.format("OpenResty gateway: the SDK's call vs the floor's exchange, timed inside the worker "
    .. "(os.clock, %d alternating rounds of %d calls each; no proxy to divide by)", INWORKER_ROUNDS, INWORKER_CALLS),
    string.format("%.1f us SDK", in_s), string.format("%.1f us floor", in_f),
    lib.fmt_ratio(in_s / in_f), "(info)", "n/a")
  local rounds_in = {}
  for i = 1, INWORKER_ROUNDS do rounds_in[i] = string.format("%.1f/%.1f", in_sdk[i], in_floor[i]) end
  lib.note(string.format("the SDK's own cost inside the worker: %.1f us a call above the floor's "
    .. "exchange (medians); SDK/floor us per call, each round: %s", in_s - in_f, table.concat(rounds_in, " ")))
  local parts = {}
  for i = 1, ROUNDS do
    parts[i] = string.format("%.1f/%.1f/%.1f us = %.2fx (floor %.2fx)", sdk[i].cpu_us, floor[i].cpu_us,
      plain[i].cpu_us, ratios[i], floor_ratios[i])
  end
  lib.note("gateway CPU per request, SDK/floor/proxy, each round: " .. table.concat(parts, "; "))
end

run()
