-- make valgrind: 10,000 client calls through the whole pipeline against a local nginx (the
-- signature-checking echo handler, spec/integration/server/echo.lua), run under valgrind
-- to show no definitely-lost blocks. Every 100th call goes through client:batch, and a few
-- go through the error paths (bad signature, non-JSON answer), so those paths are covered too;
-- every 4th is a flat V1 call, which the client makes through the fused session:v1_call.
-- Bounded in count (LEAKLOOP_CALLS, 10000) and in time (LEAKLOOP_SECONDS, 900).
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"

local CALLS = tonumber(os.getenv("LEAKLOOP_CALLS")) or 10000
local MAX_SECONDS = tonumber(os.getenv("LEAKLOOP_SECONDS")) or 900

local server = lib.start_nginx()
local ok, err = pcall(function()
  local v1 = lib.ecs(server.url)
  local v3 = lib.ecs(server.url, { signature_version = "v3" })
  local wrong = lib.ecs(server.url, { access_key_secret = "not-the-secret", max_retries = 0 })
  local t0 = lib.now()
  local done, failures = 0, 0
  while done < CALLS and lib.now() - t0 < MAX_SECONDS do
    local i = done + 1
    if i % 100 == 0 then
      local results = v1:batch({
        { "DescribeInstances", { RegionId = "cn-hangzhou", PageSize = 10 } },
        { "DescribeDisks", { RegionId = "cn-hangzhou", DiskIds = { "d-1", "d-2" } } },
      }, { concurrency = 2 })
      for _, r in ipairs(results) do if r.RequestId == nil then failures = failures + 1 end end
    elseif i % 250 == 1 then
      local r = wrong:DescribeInstances { RegionId = "cn-hangzhou" }
      if r then failures = failures + 1 end -- must be refused
    elseif i % 4 == 0 then
      -- flat parameters: the fused call (session:v1_call), its decode in C included
      local r = v1:DescribeInstances { RegionId = "cn-hangzhou", PageNumber = i % 7 + 1, PageSize = 10 }
      if not r or r.RequestId == nil then failures = failures + 1 end
    else
      local c = (i % 2 == 0) and v1 or v3
      local r = c:DescribeInstances { RegionId = "cn-hangzhou", PageNumber = i % 7 + 1, PageSize = 10,
        InstanceIds = { "i-" .. i, "i-x" }, Tag = { { Key = "k", Value = "v " .. i } } }
      if not r or r.RequestId == nil then failures = failures + 1 end
    end
    done = i
  end
  v1:close()
  v3:close()
  wrong:close()
  collectgarbage("collect")
  io.write(string.format("leakloop: %d calls in %.1f s, %d unexpected answers\n", done, lib.now() - t0, failures))
  if failures > 0 then error("unexpected answers") end
  if done < CALLS then error("time bound hit before " .. CALLS .. " calls") end
end)
server.stop()
if not ok then
  io.stderr:write("leakloop: ", tostring(err), "\n")
  os.exit(1)
end
