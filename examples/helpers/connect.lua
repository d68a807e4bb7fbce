-- How the examples get their clients: against the local emulator, in-process, unless
-- ALIYUN_ENDPOINT names a server (bin/aliyun-emulator, or the real service with real keys
-- from the default credential chain).
local aliyun = require "aliyun"

local connect = {}

function connect.options(extra)
  local o = { region = "cn-hangzhou" }
  local endpoint = os.getenv("ALIYUN_ENDPOINT")
  if endpoint then
    o.endpoint = endpoint
  else
    local emulator = require "aliyun.emulator"
    connect.emulator = connect.emulator or emulator.new { delays = { disk_create = 1, disk_attach = 1 } }
    o.transport = emulator.transport(connect.emulator)
    o.access_key_id, o.access_key_secret = "testid", "testsecret"
  end
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

function connect.ecs(extra) return aliyun.ecs(connect.options(extra)) end
function connect.ens(extra) return aliyun.ens(connect.options(extra)) end

-- Stops the example with the error's one line and a non-zero exit.
function connect.check(value, err)
  if value == nil or value == false then
    io.stderr:write(tostring(err), "\n")
    os.exit(1)
  end
  return value
end

return connect
