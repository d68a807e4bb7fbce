-- What the STS-based providers (ram_role_arn, oidc) share: where STS is, and turning its
-- answer into a credential value.
local value = require "aliyun.credentials.value"
local refresh = require "aliyun.credentials.refresh"
local http = require "aliyun.credentials.http"

local sts = {}

sts.VERSION = "2015-04-01"
sts.DEFAULT_ENDPOINT = "https://sts.aliyuncs.com"

-- opts.sts_endpoint, else ALIBABA_CLOUD_STS_REGION (sts.<region>.aliyuncs.com), else the
-- global endpoint. No scheme means HTTPS; no trailing slash.
function sts.endpoint(opts)
  local e = opts and opts.sts_endpoint
  if not e then
    local region = http.env(http.getenv(opts), "ALIBABA_CLOUD_STS_REGION")
    if region and region:match("^[%w-]+$") then
      e = "https://sts." .. region .. ".aliyuncs.com"
    else
      e = sts.DEFAULT_ENDPOINT
    end
  end
  if not e:match("^%a[%w+.-]*://") then e = "https://" .. e end
  return (e:gsub("/+$", ""))
end

-- A session name when none is given: the service wants 2 to 64 of [%w.@_-].
function sts.session_name(given)
  if given and given ~= "" then return given end
  return "lua-aliyun-" .. string.format("%d", math.floor(require("aliyun.core").time()))
end

-- The Credentials of an AssumeRole* answer as a value; nil and why when incomplete.
function sts.credentials(res, source)
  local c = type(res) == "table" and res.Credentials
  if type(c) ~= "table" then return nil, "the answer has no Credentials" end
  for _, k in ipairs { "AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration" } do
    if type(c[k]) ~= "string" or c[k] == "" then return nil, "the answer's Credentials have no " .. k end
  end
  local expiration = refresh.parse_time(c.Expiration)
  if not expiration then return nil, "the answer's Expiration is not an ISO 8601 time" end
  return value.new {
    access_key_id = c.AccessKeyId, access_key_secret = c.AccessKeySecret,
    security_token = c.SecurityToken, expiration = expiration, source = source,
  }
end

return sts
