-- The emulator under a test suite's load.
-- Over HTTP: the emulator in nginx (its one worker) beside a static answer, the same body
-- sent by nginx itself (`return 200`, no Lua) from another nginx on this machine. wrk drives
-- each with the same connections and duration, every request a freshly signed V1 GET
-- (bench/wrk/signed.lua), in rounds that alternate between the two; the CPU time of each
-- worker (utime + stime from /proc/PID/stat, before and after) over the requests wrk counted
-- gives the CPU per request. Every answer must be a 200. DescribeRegions and
-- DescribeInstances are the calls.
-- Nonces: a million signed V1 requests through the emulator's verifier, in process, at a
-- steady 500 requests per second of the emulator's clock (so 900,000 nonces fall within one
-- 30-minute window): the rate of the last slices of 100,000 beside the first, in CPU time
-- (the rest of a shared machine moves wall-clock figures more than the store does).
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"
local core = lib.core
local auth = require "aliyun.emulator.auth"

local emulator = require "aliyun.emulator.server"

local ACTIONS = { "DescribeRegions", "DescribeInstances" }
local ROUNDS = tonumber(os.getenv("BENCH_EMULATOR_ROUNDS")) or 5
local SECONDS = tonumber(os.getenv("BENCH_EMULATOR_SECONDS")) or 3 -- per wrk run
local CONNECTIONS = 16
local TARGET = 3 -- the emulator's CPU per request within 3x the static answer's

local HELD = 1000000 -- nonces held, for the row under LuaJIT
local HELD_REQUESTS = 20000

local NONCE_TOTAL = tonumber(os.getenv("BENCH_NONCES")) or 1000000
local NONCE_SLICE = 100000
local NONCE_RATE = 500 -- requests per second of the emulator's clock
local NONCE_SECONDS = tonumber(os.getenv("BENCH_NONCE_SECONDS")) or 120 -- bound on the whole run

local function median_of(list, from, to)
  local t = {}
  for i = from, to do t[#t + 1] = list[i] end
  return lib.median(t)
end

local function nonces()
  local t = 1.7e9
  local v = auth.new { keys = { testid = { secret = "testsecret" } }, crypto = core, now = function() return t end }
  local params = { RegionId = "cn-hangzhou" }
  local req = { method = "GET", path = "/", headers = {} }
  local sign_url = core.v1_sign_url
  local rates = {}
  local start = lib.now()
  local n = 0
  local over = false
  while n < NONCE_TOTAL and not over do
    local t0, done = os.clock(), 0
    while done < NONCE_SLICE do
      for _ = 1, 1000 do
        n = n + 1
        t = t + 1 / NONCE_RATE
        local url = sign_url("GET", "", params, "testsecret", "DescribeRegions", "2014-05-26", "testid", nil,
          "bench-" .. n, math.floor(t))
        req.query_string = url:sub(3)
        local ok, err = v:verify(req)
        if not ok then error("request " .. n .. " refused: " .. err.code) end
      end
      done = done + 1000
      if lib.now() - start > NONCE_SECONDS then
        over = true
        break
      end
    end
    rates[#rates + 1] = done / (os.clock() - t0)
  end
  local lo, hi = math.huge, 0
  local each = {}
  for i, r in ipairs(rates) do
    if r < lo then lo = r end
    if r > hi then hi = r end
    each[i] = string.format("%.1f", r / 1e3)
  end
  local k = math.min(3, #rates)
  local first, last = median_of(rates, 1, k), median_of(rates, #rates - k + 1, #rates)
  lib.row(string.format("nonce store: %d signed V1 requests through the verifier (in process, %s) at %d/s of "
      .. "emulator time: the last 300,000 vs the first (medians of slices of 100,000, CPU time)",
      n, _VERSION, NONCE_RATE),
    lib.fmt_rate(last) .. " last", lib.fmt_rate(first) .. " first", lib.fmt_ratio(last / first),
    "flat (>= 0.75x)", n >= NONCE_TOTAL and last / first >= 0.75)
  lib.note(string.format("nonce store: k requests/s per slice of 100,000 (sign + verify, CPU time): %s (spread "
    .. "%.2fx); nonces held at the end: %d (at most two 30-minute windows: %d)", table.concat(each, ", "),
    hi / lo, v:nonces_held(), 2 * 1800 * NONCE_RATE))
end

-- One wrk run of SECONDS against url: requests/s and CPU microseconds per request of the
-- workers of the nginx at prefix, or nil and why (any non-2xx answer voids the figure).
local function wrk(url, prefix, action)
  local cpu0 = lib.workers_cpu(prefix)
  local out, ok = lib.capture(string.format("BENCH_ROOT=%s BENCH_ACTION=%s timeout %d wrk -t1 -c%d -d%ds "
    .. "--timeout 10s -s %s %s 2>&1", lib.shell_quote(lib.ROOT), action, SECONDS + 15, CONNECTIONS, SECONDS,
    lib.shell_quote(lib.ROOT .. "/bench/wrk/signed.lua"), lib.shell_quote(url)))
  local cpu = lib.workers_cpu(prefix) - cpu0
  local rps, n = lib.wrk_parse(out, ok)
  if not rps then return nil, n end
  return { rps = rps, cpu_us = cpu / n * 1e6 }
end

-- The body the emulator gives for action, to be served as it is by the static nginx.
local function answer(url, action)
  local s = core.session {}
  local params = action == "DescribeInstances" and { RegionId = "cn-hangzhou" } or {}
  local r = assert(s:request { url = core.v1_sign_url("GET", url, params, "testsecret", action, "2014-05-26",
    "testid"), timeout = 10 })
  s:close()
  if r.status ~= 200 then error(action .. " answered " .. r.status .. ": " .. r.body:sub(1, 200)) end
  if r.body:find("['$\\]") then error("the " .. action .. " answer holds a quote, $ or \\: not for nginx's config") end
  return r.body
end

-- An nginx answering each action's body from its configuration: location /<Action>/, the
-- body in pieces of 2,000 bytes (nginx's limit on one parameter is 4 KB) joined by return.
local function static_nginx(bodies)
  local locations = {}
  for action, body in pairs(bodies) do
    local sets, refs = {}, {}
    for i = 1, #body, 2000 do
      local name = "$b" .. (#refs + 1)
      sets[#sets + 1] = "set " .. name .. " '" .. body:sub(i, i + 1999) .. "';"
      refs[#refs + 1] = name
    end
    locations[#locations + 1] = "location /" .. action .. "/ { default_type application/json; "
      .. table.concat(sets, " ") .. " return 200 \"" .. table.concat(refs) .. "\"; }"
  end
  return require("support.nginx").start { http = "keepalive_requests 10000000;\n server { listen 127.0.0.1:${PORT}; "
    .. table.concat(locations, "\n") .. " }" }
end

local function spread(list)
  local lo, hi = math.huge, 0
  for _, x in ipairs(list) do
    if x < lo then lo = x end
    if x > hi then hi = x end
  end
  return lo, hi
end

-- The emulator keeps DescribeInstances' answer while its world is unchanged (the router's
-- answer cache), as it is here between requests: the last row measures an emulator told not
-- to (every answer made afresh, as when the world changes between two calls).
local function http()
  local emu = assert(emulator.start { keys = { testid = { secret = "testsecret" } } })
  local fresh = assert(emulator.start { keys = { testid = { secret = "testsecret" } }, answer_cache = false })
  local ok, err = pcall(function()
    local bodies = {}
    for _, action in ipairs(ACTIONS) do bodies[action] = answer(emu.url, action) end
    local static = static_nginx(bodies)
    local cases = {}
    for _, action in ipairs(ACTIONS) do cases[#cases + 1] = { action = action, emu = emu, how = "" } end
    cases[#cases + 1] = { action = "DescribeInstances", emu = fresh, how = ", every answer made afresh (answer_cache off)" }
    local ok2, err2 = pcall(function()
      for _, case in ipairs(cases) do
        local action, target = case.action, case.emu
        local e, s, why = { rps = {}, cpu = {} }, { rps = {}, cpu = {} }, nil
        for _ = 1, ROUNDS do
          local a, w1 = wrk(target.url, target.prefix, action)
          local b, w2 = wrk(static.url .. "/" .. action, static.prefix, action)
          why = why or w1 or w2
          if a then e.rps[#e.rps + 1], e.cpu[#e.cpu + 1] = a.rps, a.cpu_us end
          if b then s.rps[#s.rps + 1], s.cpu[#s.cpu + 1] = b.rps, b.cpu_us end
        end
        local what = string.format("emulator %s over HTTP (%d bytes)%s, wrk -t1 -c%d %ds x %d rounds: CPU per "
          .. "request of its worker vs nginx's static answer of the same body", action, #bodies[action], case.how,
          CONNECTIONS, SECONDS, ROUNDS)
        if #e.cpu == ROUNDS and #s.cpu == ROUNDS then
          local ec, sc = lib.median(e.cpu), lib.median(s.cpu)
          local elo, ehi = spread(e.cpu)
          local slo, shi = spread(s.cpu)
          local rlo, rhi = spread(e.rps)
          local qlo, qhi = spread(s.rps)
          lib.row(what, string.format("%.0f us emulator", ec), string.format("%.1f us static", sc),
            lib.fmt_ratio(ec / sc), "<= " .. TARGET .. "x", ec / sc <= TARGET)
          lib.note(string.format("%s%s: CPU per request (median, range over %d rounds): emulator %.0f us (%.0f-%.0f), "
            .. "static %.1f us (%.1f-%.1f); requests/s: emulator %.0f (%.0f-%.0f), static %.0f (%.0f-%.0f)",
            action, case.how, ROUNDS, ec, elo, ehi, sc, slo, shi, lib.median(e.rps), rlo, rhi, lib.median(s.rps), qlo, qhi))
        else
          lib.row(what, "-", "-", "-", "<= " .. TARGET .. "x", "NO")
          lib.note(action .. ": " .. tostring(why))
        end
      end
    end)
    static.stop()
    if not ok2 then error(err2, 0) end
  end)
  emu.stop()
  fresh.stop()
  if not ok then error(err, 0) end
end

-- Under LuaJIT (nginx's VM): the verifier's cost per request, in process, with no nonces held
-- and with a million (a store this size is reached at 556 requests per second over 30
-- minutes). 20,000 requests are signed first (random nonces), then verified.
local function held_once(count)
  local t = 1.7e9
  local v = auth.new { keys = { testid = { secret = "testsecret" } }, crypto = core, now = function() return t end }
  for _ = 1, count do v.nonces:use(core.nonce(), t) end
  local qs = {}
  for i = 1, HELD_REQUESTS do
    qs[i] = core.v1_sign_url("GET", "", { RegionId = "cn-hangzhou" }, "testsecret", "DescribeInstances", "2014-05-26",
      "testid", nil, nil, t):sub(3)
  end
  collectgarbage()
  collectgarbage()
  local h = {}
  local t0 = os.clock()
  for i = 1, HELD_REQUESTS do
    local ok, err = v:verify { method = "GET", path = "/", query_string = qs[i], headers = h }
    if not ok then error("refused: " .. err.code) end
  end
  return (os.clock() - t0) / HELD_REQUESTS * 1e6
end

local function held()
  local none, many = {}, {}
  for r = 1, 3 do
    none[r] = held_once(0)
    many[r] = held_once(HELD)
  end
  local a, b = lib.median(many), lib.median(none)
  lib.row(string.format("verification under %s (nginx's VM), in process: CPU per request with %d nonces held vs "
    .. "none (median of 3 rounds of %d)", jit and jit.version or _VERSION, HELD, HELD_REQUESTS),
    string.format("%.1f us held", a), string.format("%.1f us none", b), lib.fmt_ratio(a / b), "flat (<= 1.33x)",
    a / b <= 1.33)
  local function list(t) return string.format("%.1f, %.1f, %.1f", t[1], t[2], t[3]) end
  lib.note(string.format("verification under LuaJIT: us per request with %d held: %s; with none: %s", HELD,
    list(many), list(none)))
end

local only = os.getenv("BENCH_EMULATOR_PARTS") or "http nonces held"
if only:find("http", 1, true) then http() end
if only:find("nonces", 1, true) then nonces() end
if only:find("held", 1, true) then
  if jit then
    held()
  else
    -- the same bench, under LuaJIT, for that row
    local out, ok = lib.capture("BENCH_EMULATOR_PARTS=held " .. (os.getenv("LUAJIT") or "luajit") .. " "
      .. lib.shell_quote(lib.ROOT .. "/bench/emulator.lua") .. " 2>&1")
    if ok then io.write(out) else lib.note("verification under LuaJIT: failed: " .. out:sub(-300)) end
  end
end
