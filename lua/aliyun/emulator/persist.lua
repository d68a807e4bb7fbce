-- The emulator's state in a file (--state FILE): every account's resources, the pending
-- transitions, the id generator's position, the clock offset and the ClientTokens seen, as
-- JSON. Loaded when the emulator starts, written when it stops cleanly, so that a local cloud
-- keeps what a playbook made between runs. The geography (regions, zones, public images in
-- each world's fixture) is data, made again, not saved.
local engine = require "aliyun.emulator.engine"
local json = require "aliyun.json"
local state = require "aliyun.emulator.state"

local persist = {}

local FORMAT = 1

-- Empty tables are lists or objects by where they are; JSON needs to know which.
local function plain(v)
  if type(v) ~= "table" then return v end
  local out = {}
  local n = 0
  for k, x in pairs(v) do
    n = n + 1
    out[k] = plain(x)
  end
  if n == 0 then return json.object {} end
  if #v == n then return json.array(out) end
  return out
end

function persist.dump(emu)
  local worlds = {}
  for account, w in pairs(emu.worlds) do
    local colls = {}
    for kind, c in pairs(w.colls) do colls[kind] = json.array(plain(c:dump())) end
    worlds[account] = { colls = json.object(colls), db = w.db and plain(w.db) or nil }
  end
  return {
    Format = FORMAT, Seed = emu.seed, Ids = emu.ids:position(), Offset = emu.offset, TimerSeq = emu.timer_seq,
    Timers = json.array(plain(emu.timers)), Worlds = json.object(worlds),
    Idempotency = json.object(plain(emu.idempotency)),
  }
end

-- Replaces the emulator's state with a dump. Returns true, or nil and why.
function persist.restore(emu, d)
  if type(d) ~= "table" or d.Format ~= FORMAT then
    return nil, "not an emulator state file of format " .. FORMAT
  end
  emu.seed = d.Seed or emu.seed
  emu.ids = state.ids(1)
  emu.ids.x = d.Ids or emu.ids.x
  emu.offset = d.Offset or 0
  emu.timer_seq = d.TimerSeq or 0
  emu.timers = {}
  for i, t in ipairs(d.Timers or {}) do emu.timers[i] = t end
  emu.idempotency = {}
  for k, v in pairs(d.Idempotency or {}) do emu.idempotency[k] = v end
  emu.worlds = {}
  for account, wd in pairs(d.Worlds or {}) do
    local w = engine.new_world(account)
    for kind_name, items in pairs(wd.colls or {}) do
      local kind = engine.kinds[kind_name]
      if kind then w.colls[kind_name] = state.collection_from(items, kind.id) end
    end
    w.db = wd.db
    emu.worlds[account] = w
  end
  return true
end

function persist.save(emu, path)
  local text, err = json.encode(persist.dump(emu))
  if not text then return nil, "cannot encode the emulator's state: " .. tostring(err) end
  local tmp = path .. ".tmp"
  local f, ferr = io.open(tmp, "wb")
  if not f then return nil, ferr end
  f:write(text)
  f:close()
  -- a crash while writing leaves the previous state, not half of a new one
  local ok, rerr = os.rename(tmp, path)
  if not ok then return nil, rerr end
  return true
end

-- Loads a state file into the emulator. A file that does not exist is no error (the state
-- starts fresh and is written at the next clean stop).
function persist.load(emu, path)
  local f = io.open(path, "rb")
  if not f then return true end
  local text = f:read("*a")
  f:close()
  local ok, d = pcall(json.decode, text)
  if not ok or type(d) ~= "table" then return nil, path .. ": not JSON: " .. tostring(d) end
  local done, err = persist.restore(emu, d)
  if not done then return nil, path .. ": " .. err end
  return true
end

return persist
