-- The four ENS actions of the specification documents (RunServiceSchedule,
-- RescaleDeviceService, RescaleApplication, BatchEventRedeployInstance), whose handlers live
-- in aliyun.emulator.ens and keep their state in the account's world (world.db).
local ens = require "aliyun.emulator.ens"

local HONOURS = {
  RunServiceSchedule = { "AppId", "Uuid", "ClientIp", "ServiceAction", "ScheduleStrategy", "ServiceCommands",
    "PreLockedTimeout", "Directorys", "PodConfigName" },
  RescaleDeviceService = { "ResourceSelector", "ResourceSpec", "ResourceInfo", "RescaleType", "RescaleLevel",
    "Timeout", "ServiceId", "AppId", "IpType", "ImageId", "OrderType", "InstanceChargeType", "ResourceAttribute",
    "ResourceTimeout", "PostPaidType", "Tags" },
  RescaleApplication = { "AppId", "RescaleType", "RescaleLevel", "ResourceSelector", "Timeout", "ToAppVersion",
    "OrderType", "RescaleTimeout" },
  BatchEventRedeployInstance = { "EventInfos" },
}

local actions = {}
for name, fn in pairs(ens.actions) do
  actions[name] = {
    op = "custom", honours = HONOURS[name],
    handler = function(emu, a, ctx)
      local world = ctx.world
      if not world.db then
        world.db = {}
        emu.db = world.db
        ens.init(emu)
      end
      emu.db = world.db
      ens.tick(emu, emu:now())
      return fn(emu, a, ctx)
    end,
  }
end

return { name = "ens_schedule", product = "ens", id = "AppId", actions = actions }
