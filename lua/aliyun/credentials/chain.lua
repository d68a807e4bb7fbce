-- The default credential chain: the first provider that yields a complete key pair wins.
-- With none, the error lists every place looked, so the user knows what to set.
local errors = require "aliyun.errors"

local chain = {}

function chain.new(providers)
  return {
    name = "default chain",
    get = function()
      local looked = {}
      for _, p in ipairs(providers) do
        local creds, why = p.get()
        if creds then return creds end
        looked[#looked + 1] = p.name .. ": " .. tostring(why)
      end
      return nil, errors.new {
        kind = "credentials",
        message = "no credentials found; looked in " .. table.concat(looked, "; "),
      }
    end,
  }
end

-- The chain for a client's options.
function chain.default(opts)
  local providers = {}
  local explicit = require("aliyun.credentials.static").new(opts)
  if explicit then providers[#providers + 1] = explicit end
  providers[#providers + 1] = require("aliyun.credentials.env").new(opts.getenv)
  return chain.new(providers)
end

return chain
