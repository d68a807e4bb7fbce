-- What the ENS kinds share: the edge node a call names (EnsRegionId, ENS's scope: records
-- carry it), the ENS error forms, names, JSON list parameters, sizes and order ids.
--
-- ENS answers a bad field with InvalidParameter.<Field> ("The specified field X invalid")
-- and a request it cannot carry out with InvalidParameter ("The errorMessage is ..."):
-- both forms are on every ENS action's published error table. Where an action's table
-- names a resource-specific code (PubKeyNameExisted, InstanceNotFound, ...) the kinds use it.
local engine = require "aliyun.emulator.engine"
local errors = require "aliyun.emulator.errors"
local json = require "aliyun.json"
local state = require "aliyun.emulator.state"

local common = {}

local raise = errors.raise

function common.bad_field(name, why)
  raise("InvalidParameter." .. name, "The specified field " .. name .. " invalid." .. (why and (" " .. why) or "")
    .. " Please check it again.", 400)
end

function common.refuse(why)
  raise("InvalidParameter", "The errorMessage is " .. why .. ". Please check it again.", 400)
end

-- The edge node a call names (param, default EnsRegionId); nil when optional and absent.
function common.node(a, ctx, param, optional)
  param = param or "EnsRegionId"
  local id
  if optional then id = a:str(param) else id = a:need(param) end
  if id == nil then return nil end
  local node = engine.get(ctx, "ens_node", id)
  if not node then common.bad_field(param, "The edge node " .. id .. " does not exist.") end
  return node
end

-- A create op in ENS scope: the record takes the call's EnsRegionId (checked).
function common.create(decl)
  decl.op = "create"
  local honours = { "EnsRegionId" }
  for _, p in ipairs(decl.honours or {}) do honours[#honours + 1] = p end
  decl.honours = honours
  local before = decl.before
  decl.before = function(emu, a, ctx, rec)
    rec.EnsRegionId = common.node(a, ctx).EnsRegionId
    if before then before(emu, a, ctx, rec) end
  end
  return decl
end

-- A describe op in ENS scope: EnsRegionId and EnsRegionIds (any list form) filter.
function common.describe(decl)
  decl.op = "describe"
  decl.filters = decl.filters or {}
  decl.ids = decl.ids or {}
  decl.filters.EnsRegionId = "EnsRegionId"
  decl.ids.EnsRegionIds = "EnsRegionId"
  return decl
end

-- The find of a kind in ENS: the record, or the kind's not-found code (status 400, as the
-- ENS tables give every code).
function common.find(ctx, kind_name, id, code)
  local rec = id and engine.get(ctx, kind_name, id)
  if not rec then
    local kind = engine.kinds[kind_name]
    local c = code or kind.not_found
    raise(c, c:match("^InvalidParameter%.") and ("The specified field " .. c:sub(18) .. " invalid: " .. tostring(id)
      .. " does not exist. Please check it again.") or nil, 400)
  end
  return rec
end

-- ENS names: 2 to 128 characters, starting with a letter (or a Chinese character), not
-- with http:// or https://, of letters, digits, colons, underscores, periods and hyphens.
function common.name(field)
  return { check = engine.CHECKS.name, code = "InvalidParameter." .. field }
end

function common.description(field)
  return { check = engine.CHECKS.description, code = "InvalidParameter." .. (field or "Description") }
end

-- A parameter carrying a JSON array of objects (ENS Json parameters), each checked to be an
-- object; nil when absent.
function common.objects(a, name)
  local v = a:json(name, "InvalidParameter." .. name)
  if v == nil then return nil end
  if type(v) == "table" and v[1] == nil and next(v) ~= nil then v = { v } end -- one object alone
  if type(v) ~= "table" then common.bad_field(name, "It must be a JSON array of objects.") end
  for _, item in ipairs(v) do
    if type(item) ~= "table" then common.bad_field(name, "It must be a JSON array of objects.") end
  end
  return v
end

-- An order id as ENS answers them (a long decimal string).
function common.order_id(emu)
  return tostring(emu.ids:number(100000000, 999999999)) .. tostring(emu.ids:number(100000, 999999))
end

-- Disk sizes: requests give GiB, DescribeDisks and DescribeInstances answer MiB.
function common.mib(gib)
  return math.floor(gib * 1024)
end

function common.now(emu)
  return state.iso(emu:now())
end

-- A public address of an edge node, each new one after the last (the node keeps the count).
function common.public_ip(ctx, node_id)
  local node = engine.get(ctx, "ens_node", node_id)
  node.ips = (node.ips or 0) + 1
  local n = node.ips
  local nodes = engine.list(ctx, "ens_node")
  local index = 1
  for i, nd in ipairs(nodes) do
    if nd == node then index = i end
  end
  return string.format("%d.%d.%d.%d", 100 + index, 64 + math.floor(n / 62500) % 64, math.floor(n / 250) % 250, 1 + n % 250)
end

-- For round trips (kind.roundtrip.setup): an Available network and vSwitch of the fixture's
-- node, as fx.ens_network and fx.ens_vswitch, in 10.<n>.0.0/16.
function common.roundtrip_network(fx, call, n)
  fx.ens_network = call("CreateNetwork", { EnsRegionId = fx.ens_region, CidrBlock = "10." .. n .. ".0.0/16" }).NetworkId
  fx.ens_vswitch = call("CreateVSwitch", { EnsRegionId = fx.ens_region, NetworkId = fx.ens_network,
    CidrBlock = "10." .. n .. ".1.0/24" }).VSwitchId
end

-- The ENS answer of the Code field: 0 on success.
common.OK = { Code = 0 }

-- Whether a list holds a value.
function common.has(list, v)
  for _, x in ipairs(list or {}) do
    if x == v then return true end
  end
  return false
end

function common.remove_value(list, v)
  local out = {}
  for _, x in ipairs(list or {}) do
    if x ~= v then out[#out + 1] = x end
  end
  return out
end

-- A list of strings as a JSON array when the answer wants one.
function common.array(list)
  local out = json.array {}
  for i, v in ipairs(list or {}) do out[i] = v end
  return out
end

return common
