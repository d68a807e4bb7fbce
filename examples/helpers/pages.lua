-- Every disk of a region, across pages, and how many pages that took.
--   lua5.4 examples/helpers/pages.lua
local connect = require "examples.helpers.connect"
local check = connect.check
local ecs = connect.ecs()

local zone = check(ecs:DescribeZones { RegionId = "cn-hangzhou" }).Zones.Zone[1].ZoneId
for i = 1, 25 do
  check(ecs:CreateDisk { RegionId = "cn-hangzhou", ZoneId = zone, Size = 20, DiskName = "example-" .. i })
end

local pages = 0
for page, err in ecs:pages("DescribeDisks", { RegionId = "cn-hangzhou", PageSize = 10 }) do
  check(page, err)
  pages = pages + 1
end

local count = 0
for disk, err in ecs:each("DescribeDisks", { RegionId = "cn-hangzhou", MaxResults = 10 }) do
  check(disk, err)
  count = count + 1
end
print(string.format("%d disks in cn-hangzhou, %d pages of 10", count, pages))
