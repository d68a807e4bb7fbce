-- Spec helper: "worlds" in which the emulator cases run. The in-process world drives an
-- emulator through aliyun.emulator.transport; the HTTP world drives one served by nginx
-- (aliyun.emulator.server) through the libcurl transport and its control endpoint. Both
-- give clients, a raw send, clock advance, fault injection and reset, so that every case
-- runs unchanged in both and must give the same answers.
local aliyun = require "aliyun"
local json = require "aliyun.json"
local signer = require "aliyun.signer"

local support = {}

local VERSIONS = { ecs = "2014-05-26", ens = "2017-11-10" }

-- The emulator options every world uses: the default key, an STS key, short delays.
support.OPTIONS = {
  keys = { testid = { secret = "testsecret" }, stsid = { secret = "stssecret", security_token = "ststoken" },
    -- a second account (images shared across accounts)
    other = { secret = "othersecret", account = "2222222222222222" },
    -- another account (network interface permissions grant to it)
    otherid = { secret = "othersecret", account = "2234567890123456" } },
  delays = { disk_create = 2, disk_attach = 1, disk_detach = 1, invocation = 2, instance_create = 2,
    instance_start = 2, instance_stop = 2, vpc_create = 1, vswitch_create = 1, snapshot_create = 2 },
  seed = 1,
  -- answers checked against the response models, codes against the catalogue, parameters
  -- against what the handlers read
  strict = true,
}

local function client_for(world, product, opts)
  local o = { endpoint = world.url, access_key_id = "testid", access_key_secret = "testsecret",
    max_retries = 0, transport = world.transport, ca_file = world.ca_file }
  for k, v in pairs(opts or {}) do o[k] = v end
  return aliyun.client(product, o)
end

-- A signed request built by hand (to tamper with), for world.send.
-- o: product, action, params, method, secret, access_key_id, timestamp, nonce, token, v3
function support.signed(world, o)
  local product = o.product or "ecs"
  local sign = o.v3 and signer.v3 or signer.v1
  local base = o.base_url or world.url
  local req = sign {
    method = o.method or "GET", base_url = base, host = base:match("^%a+://([^/]+)"),
    action = o.action or "DescribeRegions", version = o.version or VERSIONS[product],
    query = o.params or {}, body = o.body or {},
    credentials = { access_key_id = o.access_key_id or "testid", access_key_secret = o.secret or "testsecret",
      security_token = o.token },
    timestamp = o.timestamp, nonce = o.nonce, user_agent = "emulator-spec",
  }
  req.timeout = 10
  return req
end

-- send(request) -> status, decoded body (or nil, err for a network failure)
local function raw(world, request)
  local resp, err = world.transport.send(request)
  if not resp then return nil, err end
  return resp.status, json.decode(resp.body or ""), resp
end

-- The emulator is made on first use, not when a spec file is loaded: busted loads every
-- file even to run a few tagged specs, and a world per file would only make garbage there.
function support.inprocess(opts)
  local emulator = require "aliyun.emulator"
  local slept = {}
  local o = { sleep = function(s) slept[#slept + 1] = s end }
  for k, v in pairs(opts or {}) do o[k] = v end
  local emu, transport
  local world = { name = "in-process", url = "http://127.0.0.1", slept = slept }
  local function get()
    if not emu then
      emu = emulator.new(o)
      transport = emulator.transport(emu)
      world.emulator = emu
    end
    return emu
  end
  world.transport = { send = function(request)
    get()
    return transport.send(request)
  end }
  function world.ecs(copts) return client_for(world, "ecs", copts) end
  function world.ens(copts) return client_for(world, "ens", copts) end
  function world.send(request) return raw(world, request) end
  function world.advance(seconds) get():advance(seconds) end
  function world.inject(action, fault) return assert(get():inject(action, fault)) end
  function world.reset() get():reset { seed = 1 }; for i = #slept, 1, -1 do slept[i] = nil end end
  function world.control(method, path, body)
    local resp = get():handle { method = method, url = world.url .. path,
      headers = { ["Content-Type"] = "application/json" }, body = body and json.encode(body) }
    return resp.status, json.decode(resp.body)
  end
  return world
end

-- A world served over HTTP (tls: its HTTPS port). The server is bound later with
-- world.bind(server), from a setup block, so that merely loading a spec starts nothing.
function support.http(tls)
  local curl = require "aliyun.transport.curl"
  local world = { name = tls and "HTTPS" or "HTTP" }
  function world.bind(server)
    world.url = tls and server.tls_url or server.url
    world.ca_file = server.cert
    world.transport = curl.new { ca_file = server.cert, timeout = 10 }
  end
  function world.ecs(copts) return client_for(world, "ecs", copts) end
  function world.ens(copts) return client_for(world, "ens", copts) end
  function world.send(request) return raw(world, request) end
  function world.control(method, path, body)
    local resp, err = world.transport.send { method = method, url = world.url .. path,
      headers = { ["Content-Type"] = "application/json" }, body = body and assert(json.encode(body)) or "", timeout = 10 }
    assert(resp, err)
    return resp.status, json.decode(resp.body)
  end
  function world.advance(seconds) assert(world.control("POST", "/_emulator/clock", { Advance = seconds }) == 200) end
  function world.inject(action, fault)
    local f = { Action = action }
    for k, v in pairs(fault) do f[k:sub(1, 1):upper() .. k:sub(2)] = v end
    local status, body = world.control("POST", "/_emulator/faults", f)
    assert(status == 200, body and body.Message)
  end
  function world.reset() assert(world.control("POST", "/_emulator/reset", { Seed = 1 }) == 200) end
  return world
end

-- A call that failed with this status and code (res, err: what the client returned).
function support.expect(status, code, res, err)
  local assert = require "luassert"
  assert.is_nil(res)
  assert.are.equal(code, err and err.code)
  assert.are.equal(status, err.status)
end

-- The cases, each a function(world) that declares describe/it blocks.
support.CASES = { "auth", "regions", "launch_templates", "disks", "monitoring", "assistant", "ens", "faults",
  "roundtrip", "network", "keys_tags", "instances", "snapshots_policies", "images", "network_interfaces",
  "prefix_lists", "ens_network", "ens_instances", "ens_storage", "ens_edge", "instance_queries" }

local HERE = debug.getinfo(1, "S").source:sub(2):match("^(.*)/support/emulator%.lua$") or "spec"

-- Runs a case in the calling spec file's environment (busted's describe, it, assert live
-- there, not in the globals a required module sees). env: the spec file's _ENV.
function support.run(name, world, env)
  env = env or (getfenv and getfenv(2)) -- luacheck: ignore getfenv
  local path = HERE .. "/emulator/cases/" .. name .. ".lua"
  local chunk, err
  if setfenv then -- luacheck: ignore setfenv
    chunk, err = loadfile(path)
    if chunk then setfenv(chunk, env) end -- luacheck: ignore setfenv
  else
    chunk, err = loadfile(path, "t", env)
  end
  assert(chunk, err)
  chunk()(world)
end

return support
