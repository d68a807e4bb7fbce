-- The third transport: the local emulator in the same process, no network at all.
--   aliyun.ecs { endpoint = "http://127.0.0.1", transport = require("aliyun.transport.emulator").new { seed = 1 } }
-- new(opts) takes the emulator's options (see aliyun.emulator) or an emulator already made.
local transport = {}

function transport.new(opts_or_emulator)
  return require("aliyun.emulator").transport(opts_or_emulator)
end

return transport
