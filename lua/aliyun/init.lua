-- lua-aliyun: Alibaba Cloud ECS and ENS for Lua.
--   local aliyun = require "aliyun"
--   local ecs = aliyun.ecs { region = "cn-hangzhou" }
--   local disks, err = ecs:DescribeDisks { RegionId = "cn-hangzhou" }
local core = require "aliyun.core"

local aliyun = {
  VERSION = "0.1.0",
  -- JSON null in results; the same value as cjson.null and ngx.null
  null = core.null,
}

-- Inside nginx, loading aliyun in init_by_lua captures the credential variables before
-- the workers lose their environment.
do
  local ngx = rawget(_G, "ngx")
  if ngx and type(ngx.get_phase) == "function" and ngx.get_phase() == "init" then
    require("aliyun.credentials.environ").capture()
  end
end

function aliyun.client(product, opts)
  -- a test cloud (aliyun.testing) takes every client made while it is active
  local testing = package.loaded["aliyun.testing"]
  if testing and testing.active() then opts = testing.rewrite(product, opts) end
  return require("aliyun.client").new(product, opts)
end

function aliyun.ecs(opts)
  return aliyun.client("ecs", opts)
end

function aliyun.ens(opts)
  return aliyun.client("ens", opts)
end

-- aliyun.api (introspection, with the tables it reads) and aliyun.errors are loaded on
-- first use.
local ON_USE = { api = "aliyun.api", errors = "aliyun.errors" }

return setmetatable(aliyun, {
  __index = function(t, k)
    local name = ON_USE[k]
    if name then
      local m = require(name)
      rawset(t, k, m)
      return m
    end
  end,
})
