-- Asks every region for its zones at once; one failure does not hide the other answers.
--   lua5.4 examples/helpers/batch.lua
local aliyun = require "aliyun"
local connect = require "examples.helpers.connect"
local check = connect.check
local ecs = connect.ecs()

local regions = check(ecs:DescribeRegions {}).Regions.Region
local calls = {}
for i, r in ipairs(regions) do calls[i] = { "DescribeZones", { RegionId = r.RegionId } } end
local results = ecs:batch(calls, { concurrency = 8 })
for i, r in ipairs(results) do
  if aliyun.errors.is_error(r) then
    print(regions[i].RegionId, "failed: " .. tostring(r))
  else
    print(regions[i].RegionId, #r.Zones.Zone .. " zones")
  end
end
