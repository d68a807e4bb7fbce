-- Shows the signed request a call would send, without sending it.
--   lua5.4 examples/helpers/dry_run.lua
local connect = require "examples.helpers.connect"
local check = connect.check
local ecs = connect.ecs { dry_run = true }

local request = check(ecs:CreateDisk { RegionId = "cn-hangzhou", ZoneId = "cn-hangzhou-b", Size = 20 })
print(request.method .. " " .. request.url)
print(request.body)
