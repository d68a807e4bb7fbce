-- A wrk script (wrk's LuaJIT): every request is a freshly signed V1 GET, with its own nonce
-- and timestamp, as a client sends it, so that an emulator answers each one in full (a
-- replayed URL would be refused as a reused nonce). The C core signs (loaded from the
-- checkout's LuaJIT build); the static nginx the emulator is compared with gets the same
-- requests, under the URL's path (/DescribeRegions/?...). Environment: BENCH_ROOT (the
-- checkout), BENCH_ACTION (DescribeRegions or DescribeInstances).
-- luacheck: globals wrk request
package.cpath = os.getenv("BENCH_ROOT") .. "/build/luajit/?.so;" .. package.cpath
local core = require "aliyun.core"

local action = os.getenv("BENCH_ACTION") or "DescribeRegions"
local params = action == "DescribeInstances" and { RegionId = "cn-hangzhou" } or {}
local sign_url = core.v1_sign_url
local base = (wrk.path or "/"):gsub("/$", "")

function request()
  return wrk.format("GET", (sign_url("GET", base, params, "testsecret", action, "2014-05-26", "testid")))
end
