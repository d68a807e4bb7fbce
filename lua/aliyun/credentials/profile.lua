-- The command-line client's profile file, ~/.aliyun/config.json (or ALIBABA_CLOUD_CONFIG_FILE):
-- the profile named by ALIBABA_CLOUD_PROFILE, else the file's `current`, else "default".
-- Modes: AK, StsToken, RamRoleArn (STS AssumeRole signed with the profile's key),
-- EcsRamRole (the metadata service), and also ChainableRamRoleArn, OIDC, CredentialsURI.
-- The profile's region_id is offered as the default region (provider.region()).
local json = require "aliyun.json"
local value = require "aliyun.credentials.value"
local http = require "aliyun.credentials.http"
local errors = require "aliyun.errors"

local profile = {}

local function str(v)
  if type(v) == "string" and v ~= "" then return v end
  if type(v) == "number" then return tostring(v) end
  return nil
end

-- The path of the file, or nil and why.
function profile.path(opts)
  opts = opts or {}
  return http.settings_path(opts, opts.config_file, "ALIBABA_CLOUD_CONFIG_FILE", ".aliyun/config.json")
end

-- Reads the file and picks the profile: returns profile, config, or nil, why and whether
-- the source is simply absent (no file where none was named, no home directory).
function profile.load(opts)
  opts = opts or {}
  local getenv = http.getenv(opts)
  local named = opts.config_file or opts.profile or http.env(getenv, "ALIBABA_CLOUD_CONFIG_FILE")
    or http.env(getenv, "ALIBABA_CLOUD_PROFILE")
  local path, perr = profile.path(opts)
  if not path then return nil, perr, not named end
  local text, err, missing = http.read_file(path)
  if not text then return nil, err, missing and not named end
  http.check_private(path, opts)
  local cfg = json.decode(text)
  if type(cfg) ~= "table" then return nil, path .. " is not a JSON object" end
  local wanted = opts.profile or http.env(getenv, "ALIBABA_CLOUD_PROFILE") or str(cfg.current) or "default"
  if type(cfg.profiles) ~= "table" then return nil, path .. " has no profiles" end
  for _, p in ipairs(cfg.profiles) do
    if type(p) == "table" and p.name == wanted then return p, cfg, path end
  end
  return nil, path .. " has no profile named '" .. wanted .. "'"
end

local function find(cfg, name)
  for _, p in ipairs(cfg.profiles) do
    if type(p) == "table" and p.name == name then return p end
  end
end

local function sts_endpoint(p, opts)
  if opts.sts_endpoint then return opts.sts_endpoint end
  local region = str(p.sts_region)
  if region then return "https://sts." .. region .. ".aliyuncs.com" end
  return nil
end

-- A provider, or nil and why prefixed with where the settings came from.
local function labelled(label, p, why)
  if p then return p end
  return nil, label .. ": " .. tostring(why)
end

-- The provider a profile describes, or nil and why. `seen` stops source_profile loops.
local function provider_for(p, cfg, opts, seen)
  local mode = str(p.mode) or "AK"
  local label = "profile '" .. tostring(p.name) .. "'"
  local function sub(extra)
    local o = {}
    for k, v in pairs(opts) do o[k] = v end
    for k, v in pairs(extra) do o[k] = v end
    return o
  end
  if mode == "AK" or mode == "StsToken" then
    local id, secret = str(p.access_key_id), str(p.access_key_secret)
    if not (id and secret) then return nil, label .. " (mode " .. mode .. ") has no access_key_id/access_key_secret" end
    local token
    if mode == "StsToken" then
      token = str(p.sts_token)
      if not token then return nil, label .. " (mode StsToken) has no sts_token" end
    end
    local creds = value.new { access_key_id = id, access_key_secret = secret, security_token = token, source = label }
    return { name = label, get = function() return creds end }
  elseif mode == "RamRoleArn" then
    local id, secret = str(p.access_key_id), str(p.access_key_secret)
    if not (id and secret) then return nil, label .. " (mode RamRoleArn) has no access_key_id/access_key_secret" end
    return labelled(label, require("aliyun.credentials.ram_role_arn").new(sub {
      access_key_id = id, access_key_secret = secret, security_token = str(p.sts_token),
      role_arn = str(p.ram_role_arn), role_session_name = str(p.ram_session_name),
      duration_seconds = tonumber(p.expired_seconds) and tonumber(p.expired_seconds) > 0
        and tonumber(p.expired_seconds) or nil,
      external_id = str(p.external_id), policy = str(p.policy),
      sts_endpoint = sts_endpoint(p, opts), source_name = label,
    }))
  elseif mode == "ChainableRamRoleArn" then
    local src_name = str(p.source_profile)
    if not src_name then return nil, label .. " (mode ChainableRamRoleArn) has no source_profile" end
    if seen[src_name] then return nil, label .. ": source_profile loop through '" .. src_name .. "'" end
    seen[src_name] = true
    local src = find(cfg, src_name)
    if not src then return nil, label .. ": no source profile named '" .. src_name .. "'" end
    local source, why = provider_for(src, cfg, opts, seen)
    if not source then return nil, why end
    return labelled(label, require("aliyun.credentials.ram_role_arn").new(sub {
      source_provider = source, role_arn = str(p.ram_role_arn), role_session_name = str(p.ram_session_name),
      duration_seconds = tonumber(p.expired_seconds) and tonumber(p.expired_seconds) > 0
        and tonumber(p.expired_seconds) or nil,
      external_id = str(p.external_id), policy = str(p.policy), sts_endpoint = sts_endpoint(p, opts),
    }))
  elseif mode == "EcsRamRole" then
    return require("aliyun.credentials.ecs_ram_role").new(sub { role_name = str(p.ram_role_name) })
  elseif mode == "OIDC" then
    return labelled(label, require("aliyun.credentials.oidc").new(sub {
      role_arn = str(p.ram_role_arn), oidc_provider_arn = str(p.oidc_provider_arn),
      oidc_token_file = str(p.oidc_token_file), role_session_name = str(p.ram_session_name),
      duration_seconds = tonumber(p.expired_seconds) and tonumber(p.expired_seconds) > 0
        and tonumber(p.expired_seconds) or nil,
      sts_endpoint = sts_endpoint(p, opts),
    }))
  elseif mode == "CredentialsURI" then
    return labelled(label, require("aliyun.credentials.uri").new(sub { uri = str(p.credentials_uri) }))
  end
  return nil, label .. " has mode " .. mode .. ", which this library does not support"
end

-- opts: config_file, home, profile, getenv; sts_endpoint, metadata_endpoint, transport
-- and the refresh options (margin, now, wait, on_refresh) for the modes that need them.
-- The file is read on the first get (or region) and not again.
function profile.new(opts)
  opts = opts or {}
  local path = profile.path(opts)
  local name = "profile file " .. (path or "~/.aliyun/config.json") .. " (ALIBABA_CLOUD_CONFIG_FILE, ALIBABA_CLOUD_PROFILE)"
  local loaded, inner, failure, absent, region, label

  local function load()
    if loaded then return end
    loaded = true
    local p, cfg, none = profile.load(opts)
    if not p then failure, absent = cfg, none return end
    region = str(p.region_id)
    label = "profile '" .. tostring(p.name) .. "'"
    local why
    inner, why = provider_for(p, cfg, opts, { [p.name] = true })
    if not inner then failure = why end
  end

  return {
    name = name,
    invalidate = http.invalidator(function() return inner end),
    get = function()
      load()
      if not inner then return nil, failure, absent end
      local creds, why = inner.get()
      if creds then return creds end
      -- which profile failed, not only which file
      return nil, label .. ": " .. errors.line(why)
    end,
    -- the selected profile's region_id, or nil
    region = function()
      load()
      return region
    end,
  }
end

return profile
