-- A local emulator of ECS (2014-05-26) and ENS (2017-11-10): it checks signatures the way
-- the service does, keeps state across calls, and can be told to misbehave.
--
--   local emulator = require "aliyun.emulator"
--   local emu = emulator.new { seed = 1, now = function() return t end }
--   local ecs = aliyun.client("ecs", { endpoint = "http://emulator", access_key_id = "testid",
--     access_key_secret = "testsecret", transport = emulator.transport(emu) })
--
-- Options:
--   keys    {[AccessKeyId] = {secret = ..., security_token = ... (STS)}}; default testid/testsecret
--   now     clock function (epoch seconds); tests advance it instead of sleeping
--   delays  seconds for asynchronous transitions: disk_create, disk_attach, disk_detach,
--           invocation (Running -> Finished)
--   faults  {[Action or "*"] = fault or {fault, ...}} (see faults.lua)
--   seed    seed of the id generator (same seed, same ids)
--   rate_limit  requests per second per AccessKeyId beyond which calls get Throttling
--           (the service's flow control; default: no limit)
--   sleep   function(seconds) used by the in-process transport for latency faults
--           (default: the C core's sleep)
-- emu:handle(request) -> response takes and gives the transport interface's shapes; a
-- response may also carry delay (seconds to wait before answering) and close (answer
-- nothing, drop the connection), which the in-process transport and the nginx handler honour.
local auth = require "aliyun.emulator.auth"
local core = require "aliyun.core"
local faults = require "aliyun.emulator.faults"
local router = require "aliyun.emulator.router"
local state = require "aliyun.emulator.state"

local emulator = {}

local Emulator = {}
Emulator.__index = Emulator

emulator.DEFAULT_KEYS = { testid = { secret = "testsecret" } }

local DEFAULT_DELAYS = { disk_create = 2, disk_attach = 1, disk_detach = 1, invocation = 2 }

-- The domain modules, each {product =, actions = {Name = fn}, init = fn(emu), tick = fn(emu, now)}.
local MODULES = {
  "aliyun.emulator.regions", "aliyun.emulator.launch_templates", "aliyun.emulator.disks",
  "aliyun.emulator.monitoring", "aliyun.emulator.assistant", "aliyun.emulator.ens",
}

local function load_modules()
  local handlers, mods = { ecs = {}, ens = {} }, {}
  for _, name in ipairs(MODULES) do
    local m = require(name)
    mods[#mods + 1] = m
    for action, fn in pairs(m.actions) do handlers[m.product][action] = fn end
  end
  return handlers, mods
end

function emulator.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("aliyun.emulator.new: options must be a table", 2) end
  local self = setmetatable({ opts = opts }, Emulator)
  self.keys = opts.keys or emulator.DEFAULT_KEYS
  self.clock = opts.now or os.time
  self.rate_limit = tonumber(opts.rate_limit)
  self.sleep_fn = opts.sleep
  self.handlers, self.modules = load_modules()
  self:reset()
  return self
end

-- Back to the initial world: fixtures, no faults but those of the options, clock offset 0.
-- o (optional) may change seed and delays.
function Emulator:reset(o)
  o = o or {}
  local opts = self.opts
  self.offset = 0
  -- a fresh verifier: the nonces seen so far belong to the old world
  self.verifier = auth.new { keys = self.keys, crypto = core, now = function() return self:now() end }
  self.seed = o.seed or opts.seed or 1
  self.ids = state.ids(self.seed)
  self.delays = {}
  for k, v in pairs(DEFAULT_DELAYS) do self.delays[k] = v end
  for k, v in pairs(opts.delays or {}) do self.delays[k] = v end
  for k, v in pairs(o.delays or {}) do self.delays[k] = v end
  self.faults = faults.new()
  for action, list in pairs(opts.faults or {}) do
    if list.type or type(list) == "string" then list = { list } end
    for _, f in ipairs(list) do assert(self.faults:add(action, f)) end
  end
  self.idempotency = {}
  self.buckets = {}
  self.page_tokens = {}
  self.db = {}
  for _, m in ipairs(self.modules) do
    if m.init then m.init(self) end
  end
  return self
end

function Emulator:now()
  return self.clock() + self.offset
end

-- Moves the emulator's clock (not the caller's); asynchronous transitions follow it.
function Emulator:advance(seconds)
  self.offset = self.offset + seconds
end

-- Queues a fault for an action ("*": any action). Returns the fault or nil, message.
function Emulator:inject(action, fault)
  return self.faults:add(action, fault)
end

function Emulator:clear_faults()
  self.faults:clear()
end

-- Progresses time-driven transitions (Creating -> Available, Running -> Finished ...).
function Emulator:tick()
  local now = self:now()
  for _, m in ipairs(self.modules) do
    if m.tick then m.tick(self, now) end
  end
end

function Emulator:handle(request)
  return router.handle(self, request)
end

function Emulator:sleep(seconds)
  if seconds <= 0 then return end
  local f = self.sleep_fn or core.sleep
  f(seconds)
end

-- The names of the emulated actions of a product, sorted.
function Emulator:actions(product)
  local out = {}
  for name in pairs(self.handlers[product] or {}) do out[#out + 1] = name end
  table.sort(out)
  return out
end

emulator.Emulator = Emulator

-- A transport for a client's `transport` option: the emulator in the same process.
-- Latency faults wait (up to the request's timeout, past which the call times out) and
-- closed connections come back as network errors, as they would over HTTP.
function emulator.transport(opts_or_emu)
  local emu = getmetatable(opts_or_emu) == Emulator and opts_or_emu or emulator.new(opts_or_emu)
  local errors = require "aliyun.errors"
  return {
    emulator = emu,
    send = function(request)
      local resp = emu:handle(request)
      local delay = resp.delay or 0
      local limit = tonumber(request.timeout)
      if limit and delay > limit then
        emu:sleep(limit)
        return nil, errors.new { kind = "timeout", message = "the emulator did not answer within "
          .. limit .. " s (injected latency " .. delay .. " s)" }
      end
      emu:sleep(delay)
      if resp.close then
        return nil, errors.new { kind = "network", message = "connection closed by the emulator (injected fault)" }
      end
      return { status = resp.status, headers = resp.headers, body = resp.body }
    end,
  }
end

return emulator
