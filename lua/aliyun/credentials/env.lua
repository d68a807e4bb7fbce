-- Credentials from the environment: ALIBABA_CLOUD_* and the older ALICLOUD_* / ALIYUN_* names.
local value = require "aliyun.credentials.value"

local env = {}

local NAMES = {
  { "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN" },
  { "ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN" },
  { "ALICLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY_SECRET", "ALICLOUD_SECURITY_TOKEN" },
  { "ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ALIYUN_SECURITY_TOKEN" },
}

-- getenv is a parameter so that OpenResty can hand in values captured at init time.
function env.new(getenv)
  getenv = getenv or require("aliyun.credentials.environ").getenv
  return {
    name = "environment (" .. NAMES[1][1] .. ", ALICLOUD_*, ALIYUN_*)",
    get = function()
      for _, n in ipairs(NAMES) do
        local id, secret = getenv(n[1]), getenv(n[2])
        if id and id ~= "" and secret and secret ~= "" then
          local token = getenv(n[3])
          return value.new {
            access_key_id = id, access_key_secret = secret,
            security_token = (token ~= "" and token) or nil, source = "environment " .. n[1],
          }
        end
      end
      return nil, "no " .. NAMES[1][1] .. "/" .. NAMES[1][2] .. " (nor ALICLOUD_*, ALIYUN_*) set", true
    end,
  }
end

return env
