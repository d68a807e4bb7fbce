-- The emulator's memory: ordered collections of resources, a seeded id generator (so that
-- a run with the same seed gives the same ids), and time formatting. Pure Lua, the same
-- under Lua 5.4 and LuaJIT (no integer-only operators).
local state = {}

local floor = math.floor

-- An ordered map: Describe* actions list resources in creation order, which pairs() would
-- not. Removal is lazy (the id stays in `order` until the next compaction), so deleting
-- from a large collection does not scan it.
local Collection = {}
Collection.__index = Collection

function state.collection()
  return setmetatable({ by_id = {}, order = {}, live = 0, dead = {} }, Collection)
end

function Collection:add(id, item)
  if self.by_id[id] == nil then
    -- an id used again (a key pair's name) must not stay twice in `order`
    if self.dead[id] then self:_compact() end
    self.order[#self.order + 1] = id
    self.live = self.live + 1
  end
  self.by_id[id] = item
  return item
end

function Collection:get(id)
  if id == nil then return nil end
  return self.by_id[id]
end

-- Drops the ids of removed items from `order` once they are as many as the live ones.
function Collection:_compact()
  local by_id, out = self.by_id, {}
  for _, id in ipairs(self.order) do
    if by_id[id] ~= nil then out[#out + 1] = id end
  end
  self.order = out
  self.dead = {}
end

function Collection:remove(id)
  if id == nil or self.by_id[id] == nil then return end
  self.by_id[id] = nil
  self.dead[id] = true
  self.live = self.live - 1
  if #self.order > 2 * self.live + 16 then self:_compact() end
end

-- The items in creation order, optionally filtered: keep(item, arg) (an argument rather than
-- a closure made per call keeps a hot caller compiled under LuaJIT, which does not compile
-- the making of a closure).
function Collection:list(keep, arg)
  local out = {}
  local by_id = self.by_id
  for _, id in ipairs(self.order) do
    local item = by_id[id]
    if item ~= nil and (not keep or keep(item, arg)) then out[#out + 1] = item end
  end
  return out
end

function Collection:count()
  return self.live
end

-- Plain data for a state file (items in order), and back.
function Collection:dump()
  return self:list()
end

function state.collection_from(items, id_field)
  local c = state.collection()
  for _, item in ipairs(items or {}) do c:add(item[id_field], item) end
  return c
end

-- Park-Miller "minimal standard" generator: the products stay below 2^53, so the same
-- arithmetic is exact for Lua 5.4 integers and for LuaJIT doubles.
local Ids = {}
Ids.__index = Ids

local MOD = 2147483647

function state.ids(seed)
  local s = floor(tonumber(seed) or 1) % (MOD - 1) + 1
  return setmetatable({ x = s }, Ids)
end

-- The generator's position, for a state file.
function Ids:position()
  return self.x
end

function Ids:next()
  self.x = (self.x * 16807) % MOD
  return self.x
end

local ALNUM = "0123456789abcdefghijklmnopqrstuvwxyz"
local HEX = "0123456789abcdef"

function Ids:chars(n, alphabet)
  alphabet = alphabet or ALNUM
  local out = {}
  for i = 1, n do
    local k = self:next() % #alphabet + 1
    out[i] = alphabet:sub(k, k)
  end
  return table.concat(out)
end

-- "d-" .. 20 characters, the shape of ECS resource ids.
function Ids:resource(prefix, n)
  return prefix .. "-" .. self:chars(n or 20)
end

function Ids:hex(n)
  return self:chars(n, HEX)
end

-- A RequestId: upper-case UUID form.
local UHEX = {}
for i = 0, 15 do UHEX[i + 1] = ("0123456789ABCDEF"):sub(i + 1, i + 1) end
local RID = {}
function Ids:request_id()
  -- the same 32 draws as before, written straight in the UUID's form
  local j = 0
  for i = 1, 36 do
    if i == 9 or i == 14 or i == 19 or i == 24 then RID[i] = "-" else
      j = j + 1
      RID[i] = UHEX[self:next() % 16 + 1]
    end
  end
  return table.concat(RID, "", 1, 36)
end

function Ids:number(lo, hi)
  return lo + self:next() % (hi - lo + 1)
end

-- Time as the API writes it: 2018-05-14T14:18:00Z (UTC).
function state.iso(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", floor(t))
end

-- The minute form some fields use: 2018-05-14T14:18Z.
function state.iso_minute(t)
  return os.date("!%Y-%m-%dT%H:%MZ", floor(t))
end

-- "2018-01-05 15:45:02", the form of the cloud assistant's FinishedTime.
function state.plain_time(t)
  return os.date("!%Y-%m-%d %H:%M:%S", floor(t))
end

local last_second, last_date
function state.http_date(t)
  local s = floor(t)
  if s ~= last_second then last_second, last_date = s, os.date("!%a, %d %b %Y %H:%M:%S GMT", s) end
  return last_date
end

-- A stable small number from a string (for deterministic synthetic data).
function state.hash(s)
  local h = 5381
  for i = 1, #s do h = (h * 33 + s:byte(i)) % 4294967296 end
  return h
end

return state
