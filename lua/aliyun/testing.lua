-- Testing a playbook without an account and without rewriting it: while a test cloud is
-- active, every client the code under test creates (aliyun.ecs{...}, aliyun.client(...))
-- talks to a fresh in-process emulator instead of Alibaba Cloud, whatever endpoint, region or
-- credentials it was given. Time is virtual: the library's sleeps (retry backoff, waiters)
-- move the emulator's clock instead of waiting, so a playbook that waits for Running
-- finishes at once and still sees Pending and Starting on the way.
--
--   local testing = require "aliyun.testing"
--   local cloud = testing.start { seed = 1 }      -- emulator options: delays, faults, keys, ...
--   run_my_playbook()                             -- its clients use the emulator
--   local ecs = cloud:client("ecs")               -- look at what it did
--   cloud:advance(60); cloud:inject("RunInstances", { type = "throttling" })
--   cloud:stop()                                  -- clients made afterwards are real again
--
--   testing.mock(function(cloud) ... end, opts)   -- the same around one function (stops on error)
--
-- Keys: a client whose access_key_id is one of the emulator's keys (opts.keys) uses it, so
-- that tests can act as several accounts; any other credentials (explicit, environment,
-- profiles, roles) are replaced by the default key, and no credential source is consulted.
local core = require "aliyun.core"
local emulator = require "aliyun.emulator"

local testing = {}

local Cloud = {}
Cloud.__index = Cloud

-- The cloud currently intercepting client creation (one at a time).
local active = nil
local real = { sleep = core.sleep, monotonic = core.monotonic }

-- Client options that would send a request elsewhere or fetch credentials: a test cloud
-- replaces them all.
local REPLACED = {
  "endpoint", "endpoint_type", "transport", "access_key_id", "access_key_secret", "security_token", "role_arn",
  "role_session_name", "profile", "ecs_ram_role", "credentials_uri", "proxy", "no_proxy", "ca_file", "verify_tls",
  "curl_http",
}

-- Called by aliyun.client while a cloud is active: the options, pointed at the emulator.
function testing.rewrite(_, opts)
  local cloud = active
  if not cloud then return opts end
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  local keys = cloud.emulator.keys
  local id = type(o.access_key_id) == "string" and keys[o.access_key_id] and o.access_key_id or cloud.default_key
  for _, k in ipairs(REPLACED) do o[k] = nil end
  o.endpoint = "http://127.0.0.1"
  o.transport = cloud.transport
  o.access_key_id, o.access_key_secret = id, keys[id].secret
  o.security_token = keys[id].security_token
  return o
end

-- testing.start(opts) -> cloud. opts: the emulator's options (seed, delays, faults, keys,
-- rate_limit, strict, state); plus key = the AccessKeyId cloud:client() uses by default.
function testing.start(opts)
  if active then error("aliyun.testing: a test cloud is already active; stop it first", 2) end
  opts = opts or {}
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  o.keys = o.keys or { testid = { secret = "testsecret" } }
  -- signatures are checked against real time; the emulator's own clock is virtual
  o.signature_clock = os.time
  local self = setmetatable({}, Cloud)
  o.sleep = function(s) self:advance(s) end
  local default = opts.key
  if not default then
    default = o.keys.testid and "testid" or nil
    if not default then
      for id in pairs(o.keys) do
        if not default or id < default then default = id end
      end
    end
  end
  if not o.keys[default] then error("aliyun.testing: key " .. tostring(default) .. " is not one of the keys", 2) end
  self.default_key = default
  self.emulator = emulator.new(o)
  self.transport = emulator.transport(self.emulator)
  self.virtual = 0
  active = self
  -- the library's clock and sleeps follow the emulator's
  core.sleep = function(s)
    if active then active:advance(s) else real.sleep(s) end
  end
  core.monotonic = function()
    return real.monotonic() + (active and active.virtual or 0)
  end
  package.loaded["aliyun.testing"] = testing
  return self
end

-- Moves the emulator's clock (and the library's virtual clock) forward.
function Cloud:advance(seconds)
  if type(seconds) ~= "number" or seconds < 0 then error("aliyun.testing: advance takes seconds >= 0", 2) end
  self.emulator:advance(seconds)
  self.virtual = self.virtual + seconds
end

-- A client of the cloud (as the default key, or opts.access_key_id among the emulator's keys).
function Cloud:client(product, opts)
  if active ~= self then error("aliyun.testing: this cloud is stopped", 2) end
  return require("aliyun").client(product or "ecs", opts or {})
end

function Cloud:inject(action, fault)
  return self.emulator:inject(action, fault)
end

function Cloud:clear_faults()
  self.emulator:clear_faults()
end

function Cloud:reset(o)
  self.emulator:reset(o)
end

-- Clients created from now on are real again; the library's clock and sleeps are restored.
function Cloud:stop()
  if active == self then
    active = nil
    core.sleep, core.monotonic = real.sleep, real.monotonic
  end
end

-- Runs fn(cloud) with a fresh test cloud and stops it afterwards, even when fn fails.
function testing.mock(fn, opts)
  local cloud = testing.start(opts)
  local ok, err = pcall(fn, cloud)
  cloud:stop()
  if not ok then error(err, 0) end
  return cloud
end

function testing.active()
  return active
end

return testing
