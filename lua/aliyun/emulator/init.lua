-- A local emulator of ECS (2014-05-26) and ENS (2017-11-10): it checks signatures the way
-- the service does, keeps state across calls, and can be told to misbehave.
--
--   local emulator = require "aliyun.emulator"
--   local emu = emulator.new { seed = 1, now = function() return t end }
--   local ecs = aliyun.client("ecs", { endpoint = "http://emulator", access_key_id = "testid",
--     access_key_secret = "testsecret", transport = emulator.transport(emu) })
--
-- Options:
--   keys    {[AccessKeyId] = {secret = ..., security_token = ... (STS), expiration = epoch seconds
--           (the STS token is refused as expired from then on, by the signature clock)}};
--           default testid/testsecret
--   now     clock function (epoch seconds); tests advance it instead of sleeping
--   delays  seconds for asynchronous transitions (emulator.DEFAULT_DELAYS lists them):
--           instance_create, instance_start, instance_stop, disk_create, disk_attach, ...
--   keys[id].account  the account a key belongs to; keys without one share the default
--           account. Accounts never see each other's resources.
--   strict  answers that do not fit the response model, codes missing from the error
--           catalogue and parameters a handler accepted without reading become InternalError
--           (the specs run strict)
--   ram_roles  RAM role names the account has (the emulator does not emulate RAM)
--   state   a file: the state is loaded from it (when it exists) and emu:save() writes it
--   observe function(product, action, body) called with every success body (specs)
--   faults  {[Action or "*"] = fault or {fault, ...}} (see faults.lua)
--   seed    seed of the id generator (same seed, same ids)
--   rate_limit  requests per second per AccessKeyId beyond which calls get Throttling
--           (the service's flow control; default: no limit)
--   sleep   function(seconds) used by the in-process transport for latency faults
--           (default: the C core's sleep)
--   answer_cache  keep the answers of the Describes that allow it and give them again while
--           the world has not changed (see router.lua); only for an emulator whose world
--           changes by its requests alone, as in nginx (the handler sets it), not one that
--           code in the same process edits directly
-- emu:handle(request) -> response takes and gives the transport interface's shapes; a
-- response may also carry delay (seconds to wait before answering) and close (answer
-- nothing, drop the connection), which the in-process transport and the nginx handler honour.
-- A request with pieces = true (the nginx handler) may get a JSON answer's body as a list of
-- strings, to be written out one after the other.
local auth = require "aliyun.emulator.auth"
local core = require "aliyun.core"
local engine = require "aliyun.emulator.engine"
local faults = require "aliyun.emulator.faults"
local fixtures = require "aliyun.emulator.fixtures"
local router = require "aliyun.emulator.router"
local state = require "aliyun.emulator.state"

local emulator = {}

local Emulator = {}
Emulator.__index = Emulator

emulator.DEFAULT_KEYS = { testid = { secret = "testsecret" } }

-- Seconds each asynchronous transition takes unless the options say otherwise.
emulator.DEFAULT_DELAYS = {
  disk_create = 2, disk_attach = 1, disk_detach = 1, snapshot_create = 2, invocation = 2,
  instance_create = 2, instance_start = 2, instance_stop = 2, vpc_create = 1, vswitch_create = 1,
  image_create = 5, eni_attach = 1, eni_detach = 1,
  -- images copied to another region, imported from and exported to OSS, built by a pipeline
  -- (its execution is BUILDING, then DISTRIBUTING, then RELEASING)
  image_copy = 5, image_import = 5, image_export = 5, image_build = 10, image_distribute = 5, image_release = 2,
  ens_network_create = 1, ens_vswitch_create = 1, ens_instance_create = 2, ens_instance_start = 2,
  ens_instance_stop = 2, ens_disk_create = 2, ens_disk_attach = 1, ens_disk_detach = 1, ens_snapshot_create = 2,
  ens_image_create = 5, ens_eip_create = 1, ens_eip_associate = 1, ens_eip_unassociate = 1, ens_nat_create = 2,
}

-- The resource kinds, in the order their fixtures are made (a kind's fixture may use the
-- records of the kinds before it).
emulator.KINDS = {
  "aliyun.emulator.kinds.region", "aliyun.emulator.kinds.image", "aliyun.emulator.kinds.vpc",
  "aliyun.emulator.kinds.security_group", "aliyun.emulator.kinds.key_pair", "aliyun.emulator.kinds.eni",
  "aliyun.emulator.kinds.prefix_list", "aliyun.emulator.kinds.instance", "aliyun.emulator.kinds.instance_settings",
  "aliyun.emulator.kinds.disk", "aliyun.emulator.kinds.disk_encryption", "aliyun.emulator.kinds.disk_spec",
  "aliyun.emulator.kinds.snapshot_policy", "aliyun.emulator.kinds.snapshot_group", "aliyun.emulator.kinds.image_share",
  "aliyun.emulator.kinds.image_pipeline",
  "aliyun.emulator.kinds.launch_template",
  "aliyun.emulator.kinds.assistant", "aliyun.emulator.kinds.monitoring", "aliyun.emulator.kinds.tags",
  "aliyun.emulator.kinds.ens.schedule", "aliyun.emulator.kinds.ens.network", "aliyun.emulator.kinds.ens.security_group",
  "aliyun.emulator.kinds.ens.key_pair", "aliyun.emulator.kinds.ens.instance", "aliyun.emulator.kinds.ens.disk",
  "aliyun.emulator.kinds.ens.image", "aliyun.emulator.kinds.ens.eip", "aliyun.emulator.kinds.ens.nat",
  "aliyun.emulator.kinds.ens.lb", "aliyun.emulator.kinds.ens.tags",
}

local loaded = false
local kind_order = {}

local function load_kinds()
  if loaded then return emulator end
  for _, name in ipairs(emulator.KINDS) do
    local kinds = require(name)
    if kinds.name then kinds = { kinds } end
    for _, k in ipairs(kinds) do
      engine.register(k)
      if not k.extends then kind_order[#kind_order + 1] = k end
    end
  end
  loaded = true
  return emulator
end

-- Loads the kinds (engine.kinds, engine.actions) without making an emulator.
emulator.load = load_kinds

-- The account an AccessKeyId belongs to (keys without one share the default account).
local function account_of(key)
  return key and key.account and tostring(key.account) or fixtures.ACCOUNT
end

function emulator.new(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("aliyun.emulator.new: options must be a table", 2) end
  load_kinds()
  local self = setmetatable({ opts = opts }, Emulator)
  self.keys = opts.keys or emulator.DEFAULT_KEYS
  -- sub-second, as the service's clock is (os.time's whole seconds would let a transition due
  -- in 2 s come 1 s early, when a second ticks over between two calls)
  self.clock = opts.now or core.time
  self.rate_limit = tonumber(opts.rate_limit)
  self.sleep_fn = opts.sleep
  self.strict = opts.strict == true
  self.ram_roles = {}
  for _, r in ipairs(fixtures.RAM_ROLES) do self.ram_roles[r] = true end
  for _, r in ipairs(opts.ram_roles or {}) do self.ram_roles[r] = true end
  self.default_resource_group = fixtures.DEFAULT_RESOURCE_GROUP
  -- see the router: the nginx handler turns it on, where the world changes only by requests
  self.answer_cache = opts.answer_cache == true
  self.version = 0
  self:reset()
  if opts.state then
    local ok, err = self:load(opts.state)
    if not ok then error("aliyun.emulator.new: " .. err, 2) end
  end
  return self
end

-- Writes the whole state (every account's resources, pending transitions, ids, clock offset)
-- to a file; load reads one back. Returns true or nil, message.
function Emulator:save(path)
  return require("aliyun.emulator.persist").save(self, path or self.opts.state)
end

function Emulator:load(path)
  self.version = self.version + 1
  return require("aliyun.emulator.persist").load(self, path or self.opts.state)
end

-- The fixed geography every account shares.
local function geography(self)
  self.regions = state.collection()
  self.zones = {}
  for _, r in ipairs(fixtures.REGIONS) do
    self.regions:add(r.id, { RegionId = r.id, LocalName = r.name, RegionEndpoint = "ecs." .. r.id .. ".aliyuncs.com",
      zones = r.zones })
    for _, z in ipairs(r.zones) do self.zones[z] = r.id end
  end
end

-- Back to the initial world: fixtures, no faults but those of the options, clock offset 0.
-- o (optional) may change seed and delays.
function Emulator:reset(o)
  o = o or {}
  local opts = self.opts
  self.offset = 0
  self.version = (self.version or 0) + 1
  self.answers, self.answers_count = {}, 0
  -- a fresh verifier: the nonces seen so far belong to the old world
  -- signatures are checked against the emulator's clock, or against opts.signature_clock
  -- (aliyun.testing: the clients sign with real time while the emulator's clock is virtual)
  local sig_clock = opts.signature_clock
  self.verifier = auth.new { keys = self.keys, crypto = core,
    now = sig_clock or function() return self:now() end }
  self.seed = o.seed or opts.seed or 1
  self.ids = state.ids(self.seed)
  self.delays = {}
  for k, v in pairs(emulator.DEFAULT_DELAYS) do self.delays[k] = v end
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
  self.timers = {}
  self.timer_seq = 0
  self.worlds = {}
  geography(self)
  -- the default account's world first, so that the same seed gives the same fixture ids
  self:world(fixtures.ACCOUNT)
  return self
end

-- The world of an account: made with its fixture on first use.
function Emulator:world(account)
  local w = self.worlds[account]
  if not w then
    w = engine.new_world(account)
    self.worlds[account] = w
    local ctx = { world = w }
    for _, k in ipairs(kind_order) do
      if k.fixture then k.fixture(self, ctx) end
    end
  end
  return w
end

-- The account of an AccessKeyId (nil when the key is unknown).
function Emulator:account_of(key_id)
  local key = self.keys[key_id]
  if not key then return nil end
  return account_of(key)
end

function Emulator:now()
  return self.clock() + self.offset
end

-- Moves the emulator's clock (not the caller's); asynchronous transitions follow it.
function Emulator:advance(seconds)
  self.version = self.version + 1
  self.offset = self.offset + seconds
end

-- Queues a fault for an action ("*": any action). Returns the fault or nil, message.
function Emulator:inject(action, fault)
  return self.faults:add(action, fault)
end

function Emulator:clear_faults()
  self.faults:clear()
end

-- Applies the transitions that are due (Creating -> Available, Running -> Finished ...).
function Emulator:tick()
  engine.tick(self)
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
function Emulator.actions(_, product)
  local out = {}
  for name in pairs(engine.actions[product] or {}) do out[#out + 1] = name end
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
