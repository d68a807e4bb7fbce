-- Temporary credentials: a provider that caches what a fetch function returns and fetches
-- again ahead of expiry. When many callers want fresh credentials at the same moment, one
-- fetch is made: while it is in flight (inside a transport that yields, an nginx cosocket
-- or a coroutine scheduler of the caller's), the others either keep using the old
-- credentials, if these are still valid, or wait for the fetch's result.
local refresh = {}

local floor = math.floor

-- Days since 1970-01-01 of a proleptic Gregorian date, computed here so that no local time
-- zone (os.time's) gets in the way.
local function days_from_civil(y, m, d)
  local yy = m <= 2 and y - 1 or y
  local era = floor(yy / 400)
  local yoe = yy - era * 400
  local doy = floor((153 * (m + (m > 2 and -3 or 9)) + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- refresh.parse_time("2026-11-22T10:00:00Z") -> epoch seconds (UTC), or nil.
-- Also takes fractional seconds and a numeric offset ("+08:00"), which some services send.
function refresh.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, se, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil end
  y, mo, d, h, mi, se = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(se)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or se > 60 then return nil end
  rest = rest:gsub("^%.%d+", "")
  local offset
  if rest == "Z" or rest == "z" then
    offset = 0
  else
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then return nil end
    offset = (tonumber(oh) * 3600 + tonumber(om) * 60) * (sign == "+" and 1 or -1)
  end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset
end

local function default_now()
  return require("aliyun.core").time()
end

-- Lets other coroutines run while this one waits for a fetch in flight. Returns false when
-- the caller cannot wait (the main thread, or an nginx phase where sleeping is not allowed).
function refresh.default_wait()
  local ngx = rawget(_G, "ngx")
  if type(ngx) == "table" and type(ngx.sleep) == "function" then
    -- inside nginx a bare coroutine.yield would go to ngx_lua itself: sleep, or give up
    return (pcall(ngx.sleep, 0.001))
  end
  if coroutine.isyieldable() then
    coroutine.yield()
    return true
  end
  return false
end

local DEFAULT_MARGIN = 180       -- seconds before expiry at which a new fetch is made
local DEFAULT_RETRY_AFTER = 10   -- after a failed fetch, seconds before the next try while old ones are valid

-- refresh.new{
--   name = "...",            -- for messages
--   fetch = function() -> credentials (with .expiration, epoch seconds, or none) | nil, why
--   margin = 180,            -- refresh this many seconds before expiry
--   retry_after = 10,        -- after a failed refresh, keep the old credentials this long before trying again
--   now = function,          -- clock (epoch seconds), for tests
--   wait = function,         -- lets others run while a fetch is in flight; false when it cannot
--   on_refresh = function(count, creds | nil, why), -- called after every fetch
-- } -> provider {name, get, count, invalidate}
-- Inside nginx, temporary credentials can be shared by all workers through a
-- lua_shared_dict: the first worker to need new ones takes a lock in the dict and fetches,
-- the others wait for its result instead of asking the service themselves.
local function shared_fetch(fetch, dict_name, key, margin, now)
  local ngx = rawget(_G, "ngx")
  local dict = ngx and ngx.shared and ngx.shared[dict_name]
  if not dict then
    return function() return nil, "no lua_shared_dict named '" .. tostring(dict_name) .. "'" end, function() end
  end
  local value = require "aliyun.credentials.value"
  local json = require "aliyun.json"
  local function from_dict()
    local text = dict:get(key)
    local t = text and json.decode(text)
    if type(t) ~= "table" then return nil end
    if t.expiration and t.expiration - now() <= margin then return nil end
    return value.new(t)
  end
  -- forgets the shared copy of the credentials the service refused; a newer copy (another
  -- worker refreshed first) stays, so that the workers make one fetch between them
  local function forget(stale)
    local t = dict:get(key)
    t = t and json.decode(t)
    if type(t) == "table" and stale and (t.access_key_id ~= stale.access_key_id
      or t.security_token ~= stale.security_token) then
      return
    end
    dict:delete(key)
  end
  return function()
    local c = from_dict()
    if c then return c end
    if dict:add(key .. "\0lock", true, 30) then
      local creds, why = fetch()
      if creds and not (creds.expiration and creds.expiration <= now()) then
        local ttl = creds.expiration and math.max(1, creds.expiration - now()) or 0
        dict:set(key, json.encode {
          access_key_id = creds.access_key_id, access_key_secret = creds.access_key_secret,
          security_token = creds.security_token, expiration = creds.expiration,
          source = (creds.source or "") .. " (shared)",
        }, ttl)
      end
      dict:delete(key .. "\0lock")
      return creds, why
    end
    -- another worker is fetching: wait for its answer, bounded
    for _ = 1, 1000 do
      ngx.sleep(0.01)
      c = from_dict()
      if c then return c end
      if not dict:get(key .. "\0lock") then break end
    end
    return fetch()
  end, forget
end

function refresh.new(opts)
  assert(type(opts) == "table" and type(opts.fetch) == "function", "refresh.new: fetch function expected")
  local forget_shared
  if opts.shared_dict then
    local o = {}
    for k, v in pairs(opts) do o[k] = v end
    o.fetch, forget_shared = shared_fetch(opts.fetch, opts.shared_dict, "aliyun-credentials:" .. (opts.name or "?"),
      opts.margin or DEFAULT_MARGIN, opts.now or default_now)
    o.shared_dict = nil
    opts = o
  end
  local now = opts.now or default_now
  local wait = opts.wait or refresh.default_wait
  local margin = opts.margin or DEFAULT_MARGIN
  local retry_after = opts.retry_after or DEFAULT_RETRY_AFTER
  local provider = { name = opts.name or "temporary credentials", count = 0 }

  local cached        -- the last credentials fetched
  local refresh_at    -- when to fetch again (epoch seconds); nil: never (no expiration)
  local in_flight = false -- true while one caller is inside fetch
  local last_why      -- why the last fetch failed, for callers that waited on it
  local stale_until   -- after a fetch gave expired credentials: no fetch again before this

  local function valid(c, t)
    return c ~= nil and (c.expiration == nil or t < c.expiration)
  end

  local function fresh(t)
    return cached ~= nil and (refresh_at == nil or t < refresh_at)
  end

  -- Makes the one fetch; every other caller sees in_flight and does not start another.
  local function do_fetch()
    in_flight = true
    local ok, creds, why = pcall(opts.fetch)
    in_flight = false
    if not ok then creds, why = nil, "failed: " .. tostring(creds) end
    provider.count = provider.count + 1
    local t = now()
    if creds and creds.expiration and creds.expiration <= t then
      -- credentials past their Expiration are never used: the service would refuse them,
      -- or (with the local clock behind) accept a token its owner meant to be dead
      creds, why = nil, string.format("the credentials fetched expired at %s, %d s ago by the local clock "
        .. "(check the system time if the source is right)", os.date("!%Y-%m-%dT%H:%M:%SZ", floor(creds.expiration)),
        floor(t - creds.expiration))
      -- the source would most likely give the same again: not a fetch on every call
      stale_until = t + retry_after
    end
    if creds then
      cached, last_why, stale_until = creds, nil, nil
      if creds.expiration then
        -- a lifetime shorter than twice the margin would be refreshed on every call: use
        -- half of it then
        local life = creds.expiration - t
        local m = margin
        if life < 2 * margin then m = life / 2 end
        refresh_at = creds.expiration - m
      else
        refresh_at = nil
      end
    else
      last_why = why or "no credentials"
      if valid(cached, t) then
        -- keep using what still works; try again a little later, not on every call
        refresh_at = math.min(t + retry_after, cached.expiration)
      end
    end
    if opts.on_refresh then opts.on_refresh(provider.count, creds, why) end
    if creds then return creds end
    if valid(cached, t) then return cached end
    return nil, last_why
  end

  function provider.get()
    local t = now()
    if fresh(t) then return cached end
    if stale_until and t < stale_until and not valid(cached, t) then return nil, last_why end
    if not in_flight then return do_fetch() end
    -- another caller is fetching: what still works is good enough meanwhile
    if valid(cached, t) then return cached end
    while in_flight do
      if not wait() then
        return nil, provider.name .. ": a refresh is in flight in another coroutine and this caller cannot wait for it"
      end
    end
    t = now()
    if valid(cached, t) then return cached end
    return nil, last_why or "no credentials"
  end

  -- Forgets the cached credentials (the next get fetches): the client calls it when the
  -- service says the token has expired. True: there is something to fetch anew.
  function provider.invalidate()
    local stale = cached
    cached, refresh_at, stale_until = nil, nil, nil
    if forget_shared then forget_shared(stale) end
    return true
  end

  function provider.in_flight() return in_flight end

  return provider
end

return refresh
