-- The process environment as the credential providers see it. nginx clears the environment
-- of its workers (all but TZ and `env`-declared names), so inside OpenResty the variables
-- the providers read are captured when aliyun is loaded in the init phase (master) and
-- served from that snapshot afterwards; elsewhere this is os.getenv.
local environ = {}

-- Every variable any provider reads.
environ.NAMES = {
  "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
  "ALICLOUD_ACCESS_KEY", "ALICLOUD_SECRET_KEY", "ALICLOUD_SECURITY_TOKEN",
  "ALICLOUD_ACCESS_KEY_ID", "ALICLOUD_ACCESS_KEY_SECRET",
  "ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ALIYUN_SECURITY_TOKEN",
  "ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
  "ALIBABA_CLOUD_ROLE_SESSION_NAME", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_CONFIG_FILE",
  "ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_ECS_METADATA", "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
  "ALIBABA_CLOUD_IMDSV1_DISABLED", "ALIBABA_CLOUD_CREDENTIALS_URI", "ALIBABA_CLOUD_STS_REGION",
  "HOME", "USERPROFILE",
}

local snapshot

-- Takes the snapshot (called by aliyun's init.lua in nginx's init phase).
function environ.capture(getenv)
  getenv = getenv or os.getenv
  snapshot = {}
  for _, n in ipairs(environ.NAMES) do snapshot[n] = getenv(n) end
end

function environ.captured()
  return snapshot ~= nil
end

-- getenv for the providers: the snapshot when there is one, else the live environment.
function environ.getenv(name)
  if snapshot then
    local v = snapshot[name]
    if v ~= nil then return v end
  end
  return os.getenv(name)
end

return environ
