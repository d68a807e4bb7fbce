-- The signature nonces an emulator has seen, for SignatureNonceUsed: a nonce is refused when
-- it was first used at most `window` seconds ago.
--
-- Two generations, each holding the nonces first used during `window` seconds: a check looks
-- in both and records in the current one, and a generation is dropped whole once everything
-- in it is older than the window. So a check costs two table look-ups however many requests
-- came before, and memory holds at most two windows' worth of nonces.
--
-- A generation keys each nonce by a 47-bit hash of it, a number, and keeps in the value a
-- second, 29-bit hash beside the time of first use: a table of numbers is one object for the
-- garbage collector, where a million nonce strings are a million (each marked and swept on
-- every cycle, which slowed every request as the store grew). Two different nonces are taken
-- for one only when both hashes agree (about one chance in 2^76 per pair).
local nonces = {}

local byte, floor = string.byte, math.floor

local P1 = 140737488355213 -- a prime below 2^47: h * 31 + 255 stays exact in a double
local P2 = 536870909 -- a prime below 2^29
local TICKS = 1024 -- times kept in 1/1024 s, modulo SPAN (16384 s), so that an entry is
local SPAN = 2 ^ 24 -- h2 * SPAN + time, below 2^53; an entry is read before it is three
local HALF = 2 ^ 23 -- windows old (see _turn), so an age past HALF is a clock set back

local function hashes(s)
  local h1, h2 = #s, 0
  for i = 1, #s do
    local b = byte(s, i)
    h1 = (h1 * 31 + b) % P1
    h2 = (h2 * 257 + b) % P2
  end
  return h1, h2
end

local Store = {}
Store.__index = Store

function nonces.new(window)
  if window * TICKS * 3 >= HALF then error("nonces.new: window too long", 2) end
  return setmetatable({ window = window, cur = {}, prev = {}, cur_n = 0, prev_n = 0, started = nil }, Store)
end

-- Makes the current generation the previous one once it has lasted a window; drops both when
-- the last turn was two windows ago. Entries of the current generation were made before
-- started + window, so at the turn every entry of the dropped one is older than the window.
function Store:_turn(now)
  local started = self.started
  if not started then
    self.started = now
    return
  end
  local age = now - started
  if age < self.window then return end
  if age >= 2 * self.window then
    self.prev, self.prev_n = {}, 0
  else
    self.prev, self.prev_n = self.cur, self.cur_n
  end
  self.cur, self.cur_n, self.started = {}, 0, now
end

-- The entry's time of first use, when it belongs to this nonce (second hash h2), as ticks
-- before now_ticks; a clock set back gives a negative age.
local function age_of(entry, h2, now_ticks)
  if entry == nil or floor(entry / SPAN) ~= h2 then return nil end
  local age = (now_ticks - entry % SPAN) % SPAN
  if age >= HALF then age = age - SPAN end
  return age
end

-- Records nonce as used at `now` (epoch seconds). Returns false when it was already used
-- within the window (then nothing changes), true otherwise.
function Store:use(nonce, now)
  self:_turn(now)
  local h1, h2 = hashes(nonce)
  local now_ticks = floor(now * TICKS) % SPAN
  local cur = self.cur
  local entry = cur[h1]
  local age = age_of(entry, h2, now_ticks)
  if age == nil then age = age_of(self.prev[h1], h2, now_ticks) end
  if age ~= nil and age <= self.window * TICKS then return false end
  -- (a different nonce under the same first hash, about one chance in 2^47, is overwritten:
  -- the older one may then be accepted again, never a new one refused)
  if entry == nil then self.cur_n = self.cur_n + 1 end
  cur[h1] = h2 * SPAN + now_ticks
  return true
end

-- How many nonces are held (both generations).
function Store:count()
  return self.cur_n + self.prev_n
end

return nonces
