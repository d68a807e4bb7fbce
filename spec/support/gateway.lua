-- Starts the OpenResty gateway of examples/openresty in its own nginx, with its own config
-- file pointed at an API endpoint and trusting a CA file; used by the gateway's integration
-- spec and by its benchmark.
local nginx = require "support.nginx"

local gateway = {}

function gateway.start(endpoint, ca)
  local f = assert(io.open(nginx.ROOT .. "/examples/openresty/gateway.conf", "rb"))
  local conf = f:read("a")
  f:close()
  conf = conf:gsub("%${ENDPOINT}", endpoint):gsub("%${CA}", ca)
  return nginx.start {
    http = conf,
    own_lua_paths = true,
    -- no `env` directive: the gateway must capture these in init, before workers lose them
    env = { ALIBABA_CLOUD_ACCESS_KEY_ID = "testid", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "testsecret" },
  }
end

return gateway
