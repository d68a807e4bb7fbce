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
      local half -- a pair with one of its two variables set: the message names it
      for _, n in ipairs(NAMES) do
        local id, secret = getenv(n[1]), getenv(n[2])
        local has_id, has_secret = id ~= nil and id ~= "", secret ~= nil and secret ~= ""
        if not half and has_id ~= has_secret then
          half = (has_id and n[1] or n[2]) .. " is set but " .. (has_id and n[2] or n[1]) .. " is not"
        end
        if has_id and has_secret then
          local token = getenv(n[3])
          return value.new {
            access_key_id = id, access_key_secret = secret,
            security_token = (token ~= "" and token) or nil, source = "environment " .. n[1],
          }
        end
      end
      if half then return nil, half end -- set up, but wrongly: not absent
      return nil, "no " .. NAMES[1][1] .. "/" .. NAMES[1][2] .. " (nor ALICLOUD_*, ALIYUN_*) set", true
    end,
  }
end

return env
