-- Creates a disk and waits until it is Available, with a progress line on a terminal.
--   lua5.4 examples/helpers/wait.lua
local connect = require "examples.helpers.connect"
local check = connect.check
local ecs = connect.ecs()

local zone = check(ecs:DescribeZones { RegionId = "cn-hangzhou" }).Zones.Zone[1].ZoneId
local disk = check(ecs:CreateDisk { RegionId = "cn-hangzhou", ZoneId = zone, Size = 20 })
print("created " .. disk.DiskId)
local ready = check(ecs:wait_for("DiskAvailable", { RegionId = "cn-hangzhou", DiskId = disk.DiskId },
  { timeout = 60, interval = 0.5 }))
print(disk.DiskId .. " is " .. ready.Disks.Disk[1].Status)
