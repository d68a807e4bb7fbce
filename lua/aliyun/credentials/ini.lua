-- The shared credentials file ~/.alibabacloud/credentials.ini (or
-- ALIBABA_CLOUD_CREDENTIALS_FILE), section [default] (or opts.ini_section):
--   type = access_key     access_key_id, access_key_secret
--   type = sts            access_key_id, access_key_secret, security_token
--   type = ram_role_arn   access_key_id, access_key_secret, role_arn, role_session_name, policy
--   type = ecs_ram_role   role_name
-- A section with enable = false is skipped.
local value = require "aliyun.credentials.value"
local http = require "aliyun.credentials.http"
local errors = require "aliyun.errors"

local ini = {}

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- ini.parse(text) -> {[section] = {[key] = value}}; keys outside a section go to "".
-- Comments start with ; or #; a value may be quoted.
function ini.parse(text)
  local sections = { [""] = {} }
  local current = sections[""]
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = trim(line:gsub("\r$", ""))
    if line ~= "" and not line:match("^[;#]") then
      local section = line:match("^%[%s*(.-)%s*%]$")
      if section then
        sections[section] = sections[section] or {}
        current = sections[section]
      else
        local k, v = line:match("^([^=]-)%s*=%s*(.*)$")
        if k and k ~= "" then
          v = v:match('^"(.*)"$') or v:match("^'(.*)'$") or v
          current[trim(k):lower()] = v
        end
      end
    end
  end
  return sections
end

function ini.path(opts)
  opts = opts or {}
  return http.settings_path(opts, opts.credentials_file, "ALIBABA_CLOUD_CREDENTIALS_FILE", ".alibabacloud/credentials.ini")
end

local function str(v) return (v ~= nil and v ~= "") and v or nil end

-- A provider, or nil and why prefixed with where the settings came from.
local function labelled(label, p, why)
  if p then return p end
  return nil, label .. ": " .. tostring(why)
end

-- opts: credentials_file, home, ini_section, getenv; sts_endpoint, metadata_endpoint,
-- transport and the refresh options for the types that need them.
function ini.new(opts)
  opts = opts or {}
  local path = ini.path(opts)
  local section_name = opts.ini_section or "default"
  local name = "INI file " .. (path or "~/.alibabacloud/credentials.ini") .. " (ALIBABA_CLOUD_CREDENTIALS_FILE)"
  local loaded, inner, failure

  local named = opts.credentials_file or http.env(http.getenv(opts), "ALIBABA_CLOUD_CREDENTIALS_FILE")
  local label

  -- The provider the file describes, or nil, why and whether the source is simply absent
  -- (no file where none was named, no [default], a section disabled).
  local function build()
    local p, perr = ini.path(opts)
    if not p then return nil, perr, not named end
    local text, err, missing = http.read_file(p)
    if not text then return nil, err, missing and not named end
    http.check_private(p, opts)
    local s = ini.parse(text)[section_name]
    if not s then return nil, p .. " has no [" .. section_name .. "] section", opts.ini_section == nil end
    label = p .. " [" .. section_name .. "]"
    if s.enable and not http.truthy(s.enable) then
      return nil, label .. " is disabled (enable = " .. s.enable .. ")", true
    end
    local kind = str(s.type)
    if not kind then return nil, label .. " has no type" end
    local function sub(extra)
      local o = {}
      for k, v in pairs(opts) do o[k] = v end
      for k, v in pairs(extra) do o[k] = v end
      return o
    end
    if kind == "access_key" or kind == "sts" then
      local id, secret = str(s.access_key_id), str(s.access_key_secret)
      if not (id and secret) then return nil, label .. " (type " .. kind .. ") has no access_key_id/access_key_secret" end
      local token
      if kind == "sts" then
        token = str(s.security_token) or str(s.sts_token)
        if not token then return nil, label .. " (type sts) has no security_token" end
      end
      local creds = value.new { access_key_id = id, access_key_secret = secret, security_token = token, source = label }
      return { name = label, get = function() return creds end }
    elseif kind == "ram_role_arn" then
      local id, secret = str(s.access_key_id), str(s.access_key_secret)
      if not (id and secret) then return nil, label .. " (type ram_role_arn) has no access_key_id/access_key_secret" end
      return labelled(label, require("aliyun.credentials.ram_role_arn").new(sub {
        access_key_id = id, access_key_secret = secret, role_arn = str(s.role_arn),
        role_session_name = str(s.role_session_name), policy = str(s.policy),
        external_id = str(s.external_id), source_name = label,
        duration_seconds = tonumber(s.duration_seconds),
      }))
    elseif kind == "ecs_ram_role" then
      return require("aliyun.credentials.ecs_ram_role").new(sub { role_name = str(s.role_name) })
    end
    return nil, label .. " has type " .. kind .. ", which this library does not support"
  end

  local absent
  return {
    name = name,
    invalidate = http.invalidator(function() return inner end),
    get = function()
      if not loaded then
        loaded = true
        inner, failure, absent = build()
      end
      if not inner then return nil, failure, absent end
      local creds, why = inner.get()
      if creds then return creds end
      return nil, label .. ": " .. errors.line(why)
    end,
  }
end

return ini
