-- The emulator under a test suite's load.
-- Nonces: a million signed V1 requests through the emulator's verifier, in process, at a
-- steady 500 requests per second of the emulator's clock (so 900,000 nonces fall within one
-- 30-minute window): the rate of the last slices of 100,000 beside the first, in CPU time
-- (the rest of a shared machine moves wall-clock figures more than the store does).
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"
local core = lib.core
local auth = require "aliyun.emulator.auth"

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

nonces()
