-- The OpenResty gateway (examples/openresty) under load: requests per second of a location
-- that answers by calling the API through the SDK (DescribeInstances over cosockets, signed,
-- decoded, re-encoded) beside a location that only proxies to the same emulator
-- (proxy_pass, no SDK). Both are driven by wrk on loopback with the same connections and
-- duration; the emulator runs in its own nginx. The ratio is what the SDK costs a gateway
-- per request relative to nginx's own proxying.
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"
local start_gateway = require("support.gateway").start
local emulator = require "aliyun.emulator.server"

local SECONDS = tonumber(os.getenv("BENCH_GATEWAY_SECONDS")) or 5
local CONNECTIONS = 50
local CA = "/etc/ssl/certs/ca-certificates.crt" -- only read by nginx; the emulator here is plain HTTP

-- wrk for SECONDS (bounded by timeout) against url on the gateway gw; returns requests/s and
-- the gateway workers' CPU microseconds per request, or nil and why. Any non-2xx answer or
-- socket error makes the figure invalid: a fast error page is not a gateway.
local function wrk(gw, emu, path)
  local cpu0, emu0 = lib.workers_cpu(gw.prefix), lib.workers_cpu(emu.prefix)
  local out, ok = lib.capture(string.format("timeout %d wrk -t2 -c%d -d%ds --timeout 10s %s 2>&1",
    SECONDS + 15, CONNECTIONS, SECONDS, lib.shell_quote(gw.url .. path)))
  local cpu, emu_cpu = lib.workers_cpu(gw.prefix) - cpu0, lib.workers_cpu(emu.prefix) - emu0
  local rps, n = lib.wrk_parse(out, ok)
  if not rps then return nil, n end
  return { rps = rps, cpu_us = cpu / n * 1e6, emu_cpu_us = emu_cpu / n * 1e6, emu_busy = emu_cpu / SECONDS }
end

local function run()
  local emu = assert(emulator.start { keys = { testid = { secret = "testsecret" } } })
  local ok, gw = pcall(start_gateway, emu.url, CA)
  if not ok then
    emu.stop()
    error(gw)
  end
  local sdk, sdk_why, plain, plain_why
  local err
  ok, err = pcall(function()
    -- one call first: a failing gateway must fail loudly, not bench its error page
    local s = lib.core.session {}
    local r = assert(s:request { url = gw.url .. "/status?region=cn-hangzhou", timeout = 20 })
    s:close()
    if r.status ~= 200 then error("gateway /status answered " .. r.status .. ": " .. r.body:sub(1, 200)) end
    sdk, sdk_why = wrk(gw, emu, "/status?region=cn-hangzhou")
    plain, plain_why = wrk(gw, emu, "/proxy")
  end)
  gw.stop()
  emu.stop()
  if not ok then error(err) end

  local what = string.format("OpenResty gateway, wrk -t2 -c%d %ds: /status (SDK DescribeInstances) vs /proxy "
    .. "(proxy_pass to the emulator)", CONNECTIONS, SECONDS)
  if sdk and plain then
    lib.row(what, lib.fmt_rate(sdk.rps) .. " SDK", lib.fmt_rate(plain.rps) .. " proxy",
      lib.fmt_ratio(sdk.rps / plain.rps), "(info)", "n/a")
    lib.row("OpenResty gateway worker CPU per request (same runs)", string.format("%.0f us SDK", sdk.cpu_us),
      string.format("%.0f us proxy", plain.cpu_us), lib.fmt_ratio(sdk.cpu_us / plain.cpu_us), "(info)", "n/a")
    lib.note(string.format("behind /status the emulator's one worker spent %.0f us per request and was busy "
      .. "%.0f%% of the run (behind /proxy: %.0f us, %.0f%%): the SDK row's rate is bounded by the emulator; "
      .. "the CPU row is the gateway's own cost", sdk.emu_cpu_us, sdk.emu_busy * 100, plain.emu_cpu_us,
      plain.emu_busy * 100))
  else
    lib.row(what, sdk and lib.fmt_rate(sdk.rps) or sdk_why, plain and lib.fmt_rate(plain.rps) or plain_why, "-",
      "(info)", "NO")
  end
end

run()
