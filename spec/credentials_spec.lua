-- The credential providers and the default chain, without network or the real home
-- directory: files in temporary directories, the environment as a table, and transports
-- that are Lua functions answering like the metadata service, STS or a credentials URI.
local core = require "aliyun.core"
local json = require "aliyun.json"
local auth = require "aliyun.emulator.auth"
local value = require "aliyun.credentials.value"
local refresh = require "aliyun.credentials.refresh"
local chain = require "aliyun.credentials.chain"
local profile = require "aliyun.credentials.profile"
local ini = require "aliyun.credentials.ini"
local ecs_ram_role = require "aliyun.credentials.ecs_ram_role"
local uri = require "aliyun.credentials.uri"
local oidc = require "aliyun.credentials.oidc"
local ram_role_arn = require "aliyun.credentials.ram_role_arn"

-- Every secret used below: none may appear in any message or tostring.
local SECRETS = {
  "profile-secret-value", "ini-secret-value", "env-secret-value", "sts-issued-secret", "sts-issued-token",
  "md-secret-value", "md-token-value", "uri-secret-value", "uri-token-value", "oidc-jwt-token-value",
  "explicit-secret-value", "profile-sts-token",
}

local function assert_no_secret(s)
  s = tostring(s)
  for _, secret in ipairs(SECRETS) do
    assert(not s:find(secret, 1, true), "secret " .. secret .. " leaked into: " .. s)
  end
end

local tmp_dirs = {}

local function tmpdir()
  local d = assert(io.popen("mktemp -d /tmp/aliyun-creds.XXXXXX")):read("l")
  tmp_dirs[#tmp_dirs + 1] = d
  return d
end

local function write(path, text)
  os.execute("mkdir -p '" .. path:match("^(.*)/[^/]*$") .. "'")
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  os.execute("chmod 600 '" .. path .. "'") -- as the official tools write files that hold keys
end

local function env(t)
  return function(name) return t[name] end
end

local function iso(epoch)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(epoch))
end

local function parse_url(url)
  local path, query = url:match("^%a+://[^/]+(/[^?]*)%??(.*)$")
  return path, query
end

-- A fake transport: routes by method and path to handler(request, query_params) -> status, body.
local function fake(routes)
  local t = { calls = {} }
  t.send = function(request)
    local path, query = parse_url(request.url)
    t.calls[#t.calls + 1] = { method = request.method, path = path, headers = request.headers, request = request }
    local h = routes[request.method .. " " .. path] or routes[path]
    if not h then return { status = 404, headers = {}, body = "not found" } end
    local status, body, headers = h(request, auth.parse_form(query))
    return { status = status, headers = headers or {}, body = body }
  end
  return t
end

local function sts_answer(id, secret, token, expiration)
  return json.encode {
    RequestId = "req-1",
    AssumedRoleUser = { Arn = "acs:ram::1:role/r/s", AssumedRoleId = "1:s" },
    Credentials = { AccessKeyId = id, AccessKeySecret = secret, SecurityToken = token, Expiration = iso(expiration) },
  }
end

-- An STS that checks V1 signatures like the service (the emulator's verifier).
local function fake_sts(keys, counts)
  local verifier = auth.new { keys = keys, crypto = core }
  local function handler(request)
    local path, query = parse_url(request.url)
    local headers = {}
    for k, v in pairs(request.headers or {}) do headers[k:lower()] = v end
    local params = auth.parse_form(query)
    if params.Action == "AssumeRoleWithOIDC" or (request.body or ""):find("OIDCToken=", 1, true) then
      local all = auth.parse_form(request.body or "", auth.parse_form(query))
      counts.oidc = (counts.oidc or 0) + 1
      counts.last_oidc = all
      if all.OIDCToken ~= "oidc-jwt-token-value" then
        return 400, json.encode { Code = "InvalidParameter.OIDCToken", Message = "bad token", RequestId = "r" }
      end
      return 200, sts_answer("STS.oidc", "sts-issued-secret", "sts-issued-token", core.time() + 3600)
    end
    local ctx, err = verifier:verify {
      method = request.method, path = path, query_string = query, headers = headers, body = request.body,
    }
    if not ctx then return err.status, json.encode { Code = err.code, Message = err.message, RequestId = "r" } end
    counts.assume = (counts.assume or 0) + 1
    counts.last = ctx.params
    return 200, sts_answer("STS.role", "sts-issued-secret", "sts-issued-token", core.time() + 3600)
  end
  return fake { ["/"] = handler }
end

local function metadata_routes(opts)
  opts = opts or {}
  local routes = {}
  routes["PUT /latest/api/token"] = function(request)
    if opts.no_v2 then return 404, "not found" end
    assert(request.headers["X-aliyun-ecs-metadata-token-ttl-seconds"])
    return 200, "md-session-token"
  end
  local function check(request)
    local tok = request.headers["X-aliyun-ecs-metadata-token"]
    if opts.v2_required and tok ~= "md-session-token" then return false end
    if tok ~= nil and tok ~= "md-session-token" then return false end
    return true
  end
  routes["GET /latest/meta-data/ram/security-credentials/"] = function(request)
    if not check(request) then return 401, "" end
    return 200, "discovered-role\n"
  end
  for _, role in ipairs { "discovered-role", "named-role" } do
    routes["GET /latest/meta-data/ram/security-credentials/" .. role] = function(request)
      if not check(request) then return 401, "" end
      return 200, json.encode {
        Code = "Success", AccessKeyId = "STS.md." .. role, AccessKeySecret = "md-secret-value",
        SecurityToken = "md-token-value", Expiration = iso((opts.now or core.time)() + (opts.ttl or 3600)),
        LastUpdated = iso(core.time()),
      }
    end
  end
  return routes
end

teardown(function()
  for _, d in ipairs(tmp_dirs) do os.execute("rm -rf '" .. d .. "'") end
end)

describe("credentials", function()
  describe("expiration times", function()
    it("parses ISO 8601 UTC to epoch seconds without the local time zone", function()
      assert.are.equal(1795341600, refresh.parse_time("2026-11-22T10:00:00Z"))
      assert.are.equal(0, refresh.parse_time("1970-01-01T00:00:00Z"))
      assert.are.equal(951868799, refresh.parse_time("2000-02-29T23:59:59Z"))
      assert.are.equal(-86400, refresh.parse_time("1969-12-31T00:00:00Z"))
      assert.are.equal(4107542400, refresh.parse_time("2100-03-01T00:00:00Z"))
      assert.are.equal(1795341600, refresh.parse_time("2026-11-22T18:00:00+08:00"))
      assert.are.equal(1795341600, refresh.parse_time("2026-11-22T10:00:00.123Z"))
    end)

    it("refuses what is not such a time", function()
      for _, s in ipairs { "2026-11-22", "2026-13-01T00:00:00Z", "2026-11-22T10:00:00", "x", "", 42 } do
        assert.is_nil(refresh.parse_time(s), tostring(s))
      end
    end)

    it("agrees with the C core's timestamp for many instants", function()
      for i = 0, 200 do
        local t = 86400 * 365 * 30 + i * 7919 * 3607
        assert.are.equal(t, refresh.parse_time(core.timestamp(t)))
      end
    end)
  end)

  describe("a credential value", function()
    it("never shows its secret or token", function()
      local c = value.new { access_key_id = "LTAI5tExampleId", access_key_secret = "explicit-secret-value",
        security_token = "sts-issued-token", source = "test" }
      local s = tostring(c)
      assert_no_secret(s)
      assert.matches("LTAI%*%*%*%*", s)
      assert.matches("with STS token", s)
    end)
  end)

  describe("refresh", function()
    local function counter_fetch(clock, life)
      local n = 0
      return function()
        n = n + 1
        return value.new { access_key_id = "id" .. n, access_key_secret = "s", security_token = "t",
          expiration = clock.t + life }
      end
    end

    it("caches until the margin before expiry, then fetches again", function()
      local clock = { t = 1000 }
      local p = refresh.new { fetch = counter_fetch(clock, 3600), margin = 180, now = function() return clock.t end }
      assert.are.equal("id1", p.get().access_key_id)
      clock.t = 1000 + 3600 - 181
      assert.are.equal("id1", p.get().access_key_id)
      assert.are.equal(1, p.count)
      clock.t = 1000 + 3600 - 179
      assert.are.equal("id2", p.get().access_key_id)
      assert.are.equal(2, p.count)
    end)

    it("with a lifetime shorter than twice the margin, refreshes at half-life", function()
      local clock = { t = 0 }
      local p = refresh.new { fetch = counter_fetch(clock, 100), margin = 180, now = function() return clock.t end }
      p.get(); clock.t = 49; p.get()
      assert.are.equal(1, p.count)
      clock.t = 51; p.get()
      assert.are.equal(2, p.count)
    end)

    it("keeps still-valid credentials when a refresh fails, and retries later, not on every call", function()
      local clock = { t = 0 }
      local fail = false
      local hooks = {}
      local p = refresh.new {
        now = function() return clock.t end, margin = 180, retry_after = 10,
        on_refresh = function(n, creds, why) hooks[#hooks + 1] = { n, creds ~= nil, why } end,
        fetch = function()
          if fail then return nil, "STS is down" end
          return value.new { access_key_id = "good", access_key_secret = "s", expiration = clock.t + 1000 }
        end,
      }
      assert.are.equal("good", p.get().access_key_id)
      fail = true
      clock.t = 900 -- inside the margin: a refresh is due
      assert.are.equal("good", p.get().access_key_id)
      assert.are.equal(2, p.count)
      clock.t = 905
      assert.are.equal("good", p.get().access_key_id)
      assert.are.equal(2, p.count) -- not again within retry_after
      clock.t = 911
      p.get()
      assert.are.equal(3, p.count)
      clock.t = 1001 -- expired and still failing: the failure comes out
      local c, why = p.get()
      assert.is_nil(c)
      assert.matches("STS is down", why)
      assert.are.same({ 1, true }, { hooks[1][1], hooks[1][2] })
      assert.are.same({ 2, false, "STS is down" }, hooks[2])
    end)

    it("credentials already expired by the local clock are never used, nor fetched on every call", function()
      local clock = { t = 5000 }
      local n = 0
      local p = refresh.new { now = function() return clock.t end, retry_after = 10, fetch = function()
        n = n + 1
        if n == 3 then return value.new { access_key_id = "good", access_key_secret = "s", expiration = 9000 } end
        return value.new { access_key_id = "skewed" .. n, access_key_secret = "s", expiration = 4000 }
      end }
      local c, why = p.get()
      assert.is_nil(c)
      assert.matches("expired at 1970%-01%-01T01:06:40Z, 1000 s ago by the local clock", why)
      clock.t = 5005
      c = p.get()
      assert.is_nil(c)
      assert.are.equal(1, n) -- within retry_after: no second fetch
      clock.t = 5011
      assert.is_nil(p.get())
      assert.are.equal(2, n)
      clock.t = 5022
      assert.are.equal("good", p.get().access_key_id)
      -- and cached credentials stop being used when they expire, whatever the refresh does
      clock.t = 9000
      n = 0
      assert.is_nil(p.get())
    end)

    it("a fetch that raises becomes a failure, not an exception", function()
      local p = refresh.new { fetch = function() error("boom") end }
      local c, why = p.get()
      assert.is_nil(c)
      assert.matches("boom", why)
      assert.is_false(p.in_flight())
    end)

    describe("with coroutines and a transport that yields", function()
      -- a round-robin scheduler: resumes every live coroutine until all are done
      local function run_all(fns)
        local cos, results = {}, {}
        for i, f in ipairs(fns) do
          cos[i] = coroutine.create(function() results[i] = { f() } end)
        end
        local live = #cos
        local rounds = 0
        while live > 0 do
          live = 0
          rounds = rounds + 1
          for _, co in ipairs(cos) do
            if coroutine.status(co) ~= "dead" then
              assert(coroutine.resume(co))
              if coroutine.status(co) ~= "dead" then live = live + 1 end
            end
          end
          assert(rounds < 1000, "scheduler did not finish")
        end
        return results
      end

      it("many callers at the same moment cause one fetch; the others wait for its result", function()
        local clock = { t = 0 }
        local md = fake(metadata_routes { now = function() return clock.t end })
        local yields = 0
        local transport = function(request)
          -- the network is slow: give way three times, as a cosocket would
          for _ = 1, 3 do yields = yields + 1; coroutine.yield("io") end
          return md.send(request)
        end
        local refreshes = 0
        local p = ecs_ram_role.new {
          role_name = "named-role", metadata_endpoint = "http://127.0.0.1:9", transport = transport,
          now = function() return clock.t end, on_refresh = function() refreshes = refreshes + 1 end,
        }
        local fns = {}
        for i = 1, 10 do fns[i] = function() return p.get() end end
        local results = run_all(fns)
        assert.are.equal(1, refreshes)
        assert.are.equal(1, p.count)
        assert.are.equal(2, #md.calls) -- token PUT + one credentials GET
        for i = 1, 10 do
          assert.are.equal("STS.md.named-role", results[i][1].access_key_id)
        end
        assert.is_true(yields >= 6)
      end)

      it("while a refresh ahead of expiry is in flight, the others keep the old, still valid credentials", function()
        local clock = { t = 0 }
        local n = 0
        local p = refresh.new {
          now = function() return clock.t end, margin = 180,
          fetch = function()
            n = n + 1
            if n > 1 then for _ = 1, 5 do coroutine.yield() end end
            return value.new { access_key_id = "gen" .. n, access_key_secret = "s", expiration = clock.t + 3600 }
          end,
        }
        assert.are.equal("gen1", p.get().access_key_id)
        clock.t = 3500
        local order = {}
        local fns = {}
        for i = 1, 5 do
          fns[i] = function()
            local c = p.get()
            order[#order + 1] = i .. ":" .. c.access_key_id
            return c
          end
        end
        local results = run_all(fns)
        assert.are.equal(2, p.count)
        assert.are.equal("gen2", results[1][1].access_key_id)
        for i = 2, 5 do assert.are.equal("gen1", results[i][1].access_key_id) end
        -- the others did not wait for the refresher
        assert.are.equal("2:gen1", order[1])
        assert.are.equal("gen2", p.get().access_key_id)
      end)

      it("waiters share a failed fetch's reason instead of fetching again", function()
        local calls = 0
        local p = refresh.new {
          fetch = function()
            calls = calls + 1
            for _ = 1, 3 do coroutine.yield() end
            return nil, "metadata service unreachable"
          end,
        }
        local fns = {}
        for i = 1, 4 do fns[i] = function() return p.get() end end
        local results = run_all(fns)
        assert.are.equal(1, calls)
        for i = 1, 4 do
          assert.is_nil(results[i][1])
          assert.matches("unreachable", results[i][2])
        end
      end)

      it("a caller that cannot wait (main thread) gets an error, not a second fetch", function()
        local p = refresh.new { fetch = function() coroutine.yield(); return nil, "x" end }
        local co = coroutine.create(function() return p.get() end)
        assert(coroutine.resume(co))
        assert.is_true(p.in_flight())
        local c, why = p.get()
        assert.is_nil(c)
        assert.matches("in flight", why)
        assert(coroutine.resume(co))
        assert.are.equal(1, p.count)
      end)

      it("a custom wait function is used while waiting", function()
        local waits = 0
        local p
        local co = coroutine.create(function() return p.get() end)
        p = refresh.new {
          fetch = function()
            coroutine.yield()
            return value.new { access_key_id = "w", access_key_secret = "s", expiration = core.time() + 3600 }
          end,
          wait = function()
            waits = waits + 1
            assert(coroutine.resume(co)) -- lets the refresher finish
            return true
          end,
        }
        assert(coroutine.resume(co))
        assert.are.equal("w", p.get().access_key_id)
        assert.are.equal(1, waits)
        assert.are.equal(1, p.count)
      end)
    end)
  end)

  describe("ECS instance RAM role", function()
    it("is never asked when ALIBABA_CLOUD_ECS_METADATA is unset", function()
      local md = fake(metadata_routes())
      local p = ecs_ram_role.from_env { getenv = env {}, transport = md.send }
      local c, why = p.get()
      assert.is_nil(c)
      assert.matches("not asked", why)
      assert.are.equal(0, #md.calls)
      -- nor by the whole default chain
      local ch = chain.default { getenv = env {}, credentials_transport = md.send }
      assert.is_nil(ch.get())
      assert.are.equal(0, #md.calls)
    end)

    it("uses IMDSv2: a token first, then the role's credentials with it", function()
      local md = fake(metadata_routes { v2_required = true })
      local p = ecs_ram_role.from_env { getenv = env { ALIBABA_CLOUD_ECS_METADATA = "named-role" },
        transport = md.send, metadata_endpoint = "http://127.0.0.1:9" }
      local c = assert(p.get())
      assert.are.equal("STS.md.named-role", c.access_key_id)
      assert.are.equal("md-token-value", c.security_token)
      assert.is_number(c.expiration)
      assert.are.equal("PUT", md.calls[1].method)
      assert.are.equal("21600", md.calls[1].headers["X-aliyun-ecs-metadata-token-ttl-seconds"])
      assert.are.equal("md-session-token", md.calls[2].headers["X-aliyun-ecs-metadata-token"])
      for _, call in ipairs(md.calls) do
        assert.are.equal(1, call.request.timeout)
        assert.are.equal(1, call.request.connect_timeout)
        assert.matches("^http://127%.0%.0%.1:9/", call.request.url)
      end
      assert_no_secret(tostring(c))
    end)

    it("discovers the role with auto", function()
      local md = fake(metadata_routes())
      local p = ecs_ram_role.from_env { getenv = env { ALIBABA_CLOUD_ECS_METADATA = "auto" }, transport = md.send }
      assert.are.equal("STS.md.discovered-role", assert(p.get()).access_key_id)
      assert.are.equal("/latest/meta-data/ram/security-credentials/", md.calls[2].path)
    end)

    it("falls back to v1 when no token is given, unless ALIBABA_CLOUD_IMDSV1_DISABLED", function()
      local md = fake(metadata_routes { no_v2 = true })
      local p = ecs_ram_role.new { role_name = "named-role", transport = md.send, getenv = env {} }
      assert.are.equal("STS.md.named-role", assert(p.get()).access_key_id)
      assert.is_nil(md.calls[2].headers["X-aliyun-ecs-metadata-token"])

      md = fake(metadata_routes { no_v2 = true })
      p = ecs_ram_role.new { role_name = "named-role", transport = md.send,
        getenv = env { ALIBABA_CLOUD_IMDSV1_DISABLED = "true" } }
      local c, why = p.get()
      assert.is_nil(c)
      assert.matches("IMDSv1 is disabled", why)
      assert.are.equal(1, #md.calls)
    end)

    it("an explicit option indicates an instance too; the DISABLED variable wins", function()
      local md = fake(metadata_routes())
      local p = ecs_ram_role.from_env { getenv = env {}, ecs_ram_role = "named-role", transport = md.send }
      assert.are.equal("STS.md.named-role", assert(p.get()).access_key_id)
      p = ecs_ram_role.from_env { getenv = env { ALIBABA_CLOUD_ECS_METADATA = "named-role",
        ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true" }, transport = md.send }
      assert.is_nil(p.get())
    end)

    it("refuses a role name that would change the request path", function()
      local md = fake(metadata_routes())
      local p = ecs_ram_role.from_env { getenv = env { ALIBABA_CLOUD_ECS_METADATA = "../../user-data" }, transport = md.send }
      local c, why = p.get()
      assert.is_nil(c)
      assert.matches("not a RAM role name", why)
      assert.are.equal(0, #md.calls)
    end)

    it("reports an unknown role without the answer's body", function()
      local md = fake(metadata_routes())
      local p = ecs_ram_role.new { role_name = "nope", transport = md.send, getenv = env {} }
      local c, why = p.get()
      assert.is_nil(c)
      assert.matches("HTTP 404", why)
    end)
  end)

  describe("credentials URI", function()
    it("reads the JSON answer and refreshes ahead of its Expiration", function()
      local clock = { t = core.time() }
      local served = 0
      local t = fake { ["GET /creds"] = function()
        served = served + 1
        return 200, json.encode { Code = "Success", AccessKeyId = "uri-id-" .. served,
          AccessKeySecret = "uri-secret-value", SecurityToken = "uri-token-value",
          Expiration = iso(clock.t + 600) }
      end }
      local p = uri.from_env { getenv = env { ALIBABA_CLOUD_CREDENTIALS_URI = "http://127.0.0.1:9/creds?key=abcd" },
        transport = t.send, now = function() return clock.t end }
      assert.are.equal("uri-id-1", assert(p.get()).access_key_id)
      assert.are.equal("uri-id-1", assert(p.get()).access_key_id)
      clock.t = clock.t + 500
      assert.are.equal("uri-id-2", assert(p.get()).access_key_id)
      assert.is_nil(p.name:find("key=abcd", 1, true))
    end)

    it("refuses an answer whose Code is not Success", function()
      local t = fake { ["GET /creds"] = function() return 200, json.encode { Code = "Failed" } end }
      local p = uri.new { uri = "http://127.0.0.1:9/creds", transport = t.send }
      local c, why = p.get()
      assert.is_nil(c)
      assert.matches("Code Failed", why)
    end)
  end)

  describe("RAM role via STS AssumeRole", function()
    it("signs AssumeRole with the source key and returns the STS credentials", function()
      local counts = {}
      local s = fake_sts({ LTAIsource = { secret = "profile-secret-value" } }, counts)
      local p = assert(ram_role_arn.new {
        access_key_id = "LTAIsource", access_key_secret = "profile-secret-value",
        role_arn = "acs:ram::1:role/r", role_session_name = "sess", duration_seconds = 900,
        sts_endpoint = "http://127.0.0.1:9", transport = s.send,
      })
      local c = assert(p.get())
      assert.are.equal("STS.role", c.access_key_id)
      assert.are.equal("sts-issued-token", c.security_token)
      assert.are.equal(1, counts.assume)
      assert.are.equal("AssumeRole", counts.last.Action)
      assert.are.equal("2015-04-01", counts.last.Version)
      assert.are.equal("acs:ram::1:role/r", counts.last.RoleArn)
      assert.are.equal("sess", counts.last.RoleSessionName)
      assert.are.equal("900", counts.last.DurationSeconds)
      p.get()
      assert.are.equal(1, counts.assume)
    end)

    it("a wrong source secret gives a readable failure without the secret", function()
      local s = fake_sts({ LTAIsource = { secret = "the-right-one" } }, {})
      local p = assert(ram_role_arn.new {
        access_key_id = "LTAIsource", access_key_secret = "profile-secret-value", role_arn = "acs:ram::1:role/r",
        sts_endpoint = "http://127.0.0.1:9", transport = s.send, max_retries = 0,
      })
      local c, why = p.get()
      assert.is_nil(c)
      assert.matches("SignatureDoesNotMatch", why)
      assert_no_secret(why)
    end)
  end)

  describe("OIDC", function()
    it("calls AssumeRoleWithOIDC without a key or signature, the token in the body", function()
      local dir = tmpdir()
      write(dir .. "/token", "oidc-jwt-token-value\n")
      local counts = {}
      local s = fake_sts({}, counts)
      local p = oidc.from_env {
        getenv = env {
          ALIBABA_CLOUD_ROLE_ARN = "acs:ram::1:role/oidc", ALIBABA_CLOUD_OIDC_PROVIDER_ARN = "acs:ram::1:oidc-provider/p",
          ALIBABA_CLOUD_OIDC_TOKEN_FILE = dir .. "/token", ALIBABA_CLOUD_ROLE_SESSION_NAME = "pod-1",
        },
        sts_endpoint = "http://127.0.0.1:9", transport = s.send,
      }
      local c = assert(p.get())
      assert.are.equal("STS.oidc", c.access_key_id)
      local sent = counts.last_oidc
      assert.are.equal("AssumeRoleWithOIDC", sent.Action)
      assert.are.equal("acs:ram::1:role/oidc", sent.RoleArn)
      assert.are.equal("acs:ram::1:oidc-provider/p", sent.OIDCProviderArn)
      assert.are.equal("pod-1", sent.RoleSessionName)
      assert.is_nil(sent.AccessKeyId)
      assert.is_nil(sent.Signature)
      local call = s.calls[1].request
      assert.are.equal("POST", call.method)
      assert.is_nil(call.url:find("oidc-jwt-token-value", 1, true))
    end)

    it("a refused token gives the service's code, never the token", function()
      local dir = tmpdir()
      write(dir .. "/token", "some-other-oidc-token")
      local s = fake_sts({}, {})
      local p = assert(oidc.new { role_arn = "r", oidc_provider_arn = "p", oidc_token_file = dir .. "/token",
        sts_endpoint = "http://127.0.0.1:9", transport = s.send })
      local c, why = p.get()
      assert.is_nil(c)
      assert.matches("InvalidParameter.OIDCToken", why)
      assert.is_nil(why:find("some-other-oidc-token", 1, true))
    end)

    it("says what is missing when not configured, and names a missing token file", function()
      local p = oidc.from_env { getenv = env {} }
      local c, why = p.get()
      assert.is_nil(c)
      assert.matches("ALIBABA_CLOUD_OIDC_TOKEN_FILE", why)
      p = oidc.from_env { getenv = env { ALIBABA_CLOUD_ROLE_ARN = "r", ALIBABA_CLOUD_OIDC_PROVIDER_ARN = "p",
        ALIBABA_CLOUD_OIDC_TOKEN_FILE = "/nonexistent/aliyun/token" } }
      c, why = p.get()
      assert.is_nil(c)
      assert.matches("/nonexistent/aliyun/token", why)
    end)
  end)

  describe("the CLI profile file", function()
    local function config(dir, t)
      write(dir .. "/.aliyun/config.json", json.encode(t))
    end

    local PROFILES = {
      current = "work",
      profiles = {
        { name = "default", mode = "AK", access_key_id = "LTAIdefault", access_key_secret = "profile-secret-value",
          region_id = "cn-hangzhou" },
        { name = "work", mode = "StsToken", access_key_id = "STS.work", access_key_secret = "profile-secret-value",
          sts_token = "profile-sts-token", region_id = "cn-shanghai" },
        { name = "role", mode = "RamRoleArn", access_key_id = "LTAIsource", access_key_secret = "profile-secret-value",
          ram_role_arn = "acs:ram::1:role/r", ram_session_name = "cli", expired_seconds = 1200, region_id = "cn-beijing" },
        { name = "ecs", mode = "EcsRamRole", ram_role_name = "named-role", region_id = "cn-shenzhen" },
        { name = "chained", mode = "ChainableRamRoleArn", source_profile = "default", ram_role_arn = "acs:ram::1:role/c" },
        { name = "odd", mode = "Sso" },
      },
    }

    it("uses the current profile, and exposes its region_id", function()
      local home = tmpdir()
      config(home, PROFILES)
      local p = profile.new { home = home, getenv = env {} }
      local c = assert(p.get())
      assert.are.equal("STS.work", c.access_key_id)
      assert.are.equal("profile-sts-token", c.security_token)
      assert.are.equal("cn-shanghai", p.region())
      assert_no_secret(tostring(c))
    end)

    it("ALIBABA_CLOUD_PROFILE picks another; ALIBABA_CLOUD_CONFIG_FILE another file", function()
      local home = tmpdir()
      config(home, PROFILES)
      local p = profile.new { home = home, getenv = env { ALIBABA_CLOUD_PROFILE = "default" } }
      assert.are.equal("LTAIdefault", assert(p.get()).access_key_id)
      assert.are.equal("cn-hangzhou", p.region())
      local other = tmpdir() .. "/elsewhere.json"
      write(other, json.encode { profiles = { { name = "default", mode = "AK", access_key_id = "LTAIother",
        access_key_secret = "profile-secret-value" } } })
      p = profile.new { home = home, getenv = env { ALIBABA_CLOUD_CONFIG_FILE = other } }
      assert.are.equal("LTAIother", assert(p.get()).access_key_id)
      assert.is_nil(p.region())
    end)

    it("RamRoleArn calls STS AssumeRole signed with the profile's key", function()
      local home = tmpdir()
      config(home, PROFILES)
      local counts = {}
      local s = fake_sts({ LTAIsource = { secret = "profile-secret-value" } }, counts)
      local p = profile.new { home = home, getenv = env { ALIBABA_CLOUD_PROFILE = "role" },
        sts_endpoint = "http://127.0.0.1:9", transport = s.send }
      assert.are.equal("STS.role", assert(p.get()).access_key_id)
      assert.are.equal("acs:ram::1:role/r", counts.last.RoleArn)
      assert.are.equal("cli", counts.last.RoleSessionName)
      assert.are.equal("1200", counts.last.DurationSeconds)
      assert.are.equal("cn-beijing", p.region())
    end)

    it("ChainableRamRoleArn assumes the role with the source profile's credentials", function()
      local home = tmpdir()
      config(home, PROFILES)
      local counts = {}
      local s = fake_sts({ LTAIdefault = { secret = "profile-secret-value" } }, counts)
      local p = profile.new { home = home, profile = "chained", sts_endpoint = "http://127.0.0.1:9",
        transport = s.send, getenv = env {} }
      assert.are.equal("STS.role", assert(p.get()).access_key_id)
      assert.are.equal("acs:ram::1:role/c", counts.last.RoleArn)
    end)

    it("EcsRamRole asks the metadata service", function()
      local home = tmpdir()
      config(home, PROFILES)
      local md = fake(metadata_routes())
      local p = profile.new { home = home, getenv = env { ALIBABA_CLOUD_PROFILE = "ecs" }, transport = md.send }
      assert.are.equal("STS.md.named-role", assert(p.get()).access_key_id)
      assert.are.equal("cn-shenzhen", p.region())
    end)

    it("says what is wrong: no file, no such profile, an unsupported mode, no home", function()
      local home = tmpdir()
      local c, why = profile.new({ home = home, getenv = env {} }).get()
      assert.is_nil(c)
      assert.matches("no file " .. home:gsub("%p", "%%%0") .. "/%.aliyun/config%.json", why)
      config(home, PROFILES)
      c, why = profile.new({ home = home, getenv = env { ALIBABA_CLOUD_PROFILE = "ghost" } }).get()
      assert.is_nil(c)
      assert.matches("no profile named 'ghost'", why)
      c, why = profile.new({ home = home, profile = "odd", getenv = env {} }).get()
      assert.is_nil(c)
      assert.matches("mode Sso", why)
      c, why = profile.new({ getenv = env {} }).get()
      assert.is_nil(c)
      assert.matches("HOME unset", why)
    end)
  end)

  describe("the INI credentials file", function()
    it("parses sections, comments and quotes", function()
      local t = ini.parse("; c\n# c\ntop = 1\n[default]\n type = access_key \nAccess_Key_Id = \"x y\"\r\n[other]\nk=v=w\n")
      assert.are.equal("1", t[""].top)
      assert.are.equal("access_key", t.default.type)
      assert.are.equal("x y", t.default.access_key_id)
      assert.are.equal("v=w", t.other.k)
    end)

    it("reads [default] of each type", function()
      local home = tmpdir()
      local path = home .. "/.alibabacloud/credentials.ini"
      write(path, "[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = ini-secret-value\n")
      assert.are.equal("LTAIini", assert(ini.new({ home = home, getenv = env {} }).get()).access_key_id)

      write(path, "[default]\ntype = sts\naccess_key_id = STS.ini\naccess_key_secret = ini-secret-value\n"
        .. "security_token = sts-issued-token\n")
      local c = assert(ini.new({ home = home, getenv = env {} }).get())
      assert.are.equal("sts-issued-token", c.security_token)

      local counts = {}
      local s = fake_sts({ LTAIini = { secret = "ini-secret-value" } }, counts)
      write(path, "[default]\ntype = ram_role_arn\naccess_key_id = LTAIini\naccess_key_secret = ini-secret-value\n"
        .. "role_arn = acs:ram::1:role/ini\nrole_session_name = ini-session\n")
      c = assert(ini.new({ home = home, getenv = env {}, sts_endpoint = "http://127.0.0.1:9", transport = s.send }).get())
      assert.are.equal("STS.role", c.access_key_id)
      assert.are.equal("acs:ram::1:role/ini", counts.last.RoleArn)

      local md = fake(metadata_routes())
      write(path, "[default]\ntype = ecs_ram_role\nrole_name = named-role\n")
      c = assert(ini.new({ home = home, getenv = env {}, transport = md.send }).get())
      assert.are.equal("STS.md.named-role", c.access_key_id)
    end)

    it("ALIBABA_CLOUD_CREDENTIALS_FILE names the file; enable = false skips it", function()
      local path = tmpdir() .. "/creds.ini"
      write(path, "[default]\nenable = false\ntype = access_key\naccess_key_id = a\naccess_key_secret = ini-secret-value\n")
      local c, why = ini.new({ getenv = env { ALIBABA_CLOUD_CREDENTIALS_FILE = path } }).get()
      assert.is_nil(c)
      assert.matches("disabled", why)
      write(path, "[other]\ntype = access_key\n")
      c, why = ini.new({ getenv = env { ALIBABA_CLOUD_CREDENTIALS_FILE = path } }).get()
      assert.is_nil(c)
      assert.matches("no %[default%] section", why)
    end)
  end)

  describe("the default chain", function()
    -- a home with every file, and transports for every service: then remove one source at a time
    local function world()
      local home = tmpdir()
      write(home .. "/.aliyun/config.json", json.encode { current = "default", profiles = {
        { name = "default", mode = "AK", access_key_id = "LTAIprofile", access_key_secret = "profile-secret-value",
          region_id = "cn-qingdao" } } })
      write(home .. "/.alibabacloud/credentials.ini",
        "[default]\ntype = access_key\naccess_key_id = LTAIini\naccess_key_secret = ini-secret-value\n")
      write(home .. "/token", "oidc-jwt-token-value")
      local counts = {}
      local s = fake_sts({}, counts)
      local routes = metadata_routes()
      routes["GET /creds"] = function()
        return 200, json.encode { Code = "Success", AccessKeyId = "uri-id", AccessKeySecret = "uri-secret-value",
          SecurityToken = "uri-token-value", Expiration = iso(core.time() + 3600) }
      end
      routes["/"] = function(request)
        local r = s.send(request)
        return r.status, r.body
      end
      local t = fake(routes)
      local vars = {
        ALIBABA_CLOUD_ACCESS_KEY_ID = "LTAIenv", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "env-secret-value",
        ALIBABA_CLOUD_ROLE_ARN = "acs:ram::1:role/oidc", ALIBABA_CLOUD_OIDC_PROVIDER_ARN = "p",
        ALIBABA_CLOUD_OIDC_TOKEN_FILE = home .. "/token",
        ALIBABA_CLOUD_ECS_METADATA = "named-role",
        ALIBABA_CLOUD_CREDENTIALS_URI = "http://127.0.0.1:9/creds",
      }
      return home, vars, t
    end

    it("takes the first source in the documented order", function()
      local home, vars, t = world()
      local function first(extra)
        local o = { home = home, getenv = env(vars), credentials_transport = t.send,
          sts_endpoint = "http://127.0.0.1:9", metadata_endpoint = "http://127.0.0.1:9" }
        for k, v in pairs(extra or {}) do o[k] = v end
        return assert(chain.default(o).get()).access_key_id
      end
      assert.are.equal("LTAIexplicit", first { access_key_id = "LTAIexplicit", access_key_secret = "explicit-secret-value" })
      assert.are.equal("LTAIenv", first())
      vars.ALIBABA_CLOUD_ACCESS_KEY_ID = nil
      assert.are.equal("STS.oidc", first())
      vars.ALIBABA_CLOUD_OIDC_TOKEN_FILE, vars.ALIBABA_CLOUD_OIDC_PROVIDER_ARN = nil, nil
      assert.are.equal("LTAIprofile", first())
      os.remove(home .. "/.aliyun/config.json")
      assert.are.equal("LTAIini", first())
      os.remove(home .. "/.alibabacloud/credentials.ini")
      assert.are.equal("STS.md.named-role", first())
      vars.ALIBABA_CLOUD_ECS_METADATA = nil
      assert.are.equal("uri-id", first())
    end)

    it("uses a profile named in the options before the environment, and nothing in its place", function()
      local home, vars, t = world()
      local function chain_for(name)
        return chain.default { home = home, getenv = env(vars), credentials_transport = t.send,
          sts_endpoint = "http://127.0.0.1:9", metadata_endpoint = "http://127.0.0.1:9", profile = name }
      end
      -- the environment holds a key pair too, yet the named profile wins
      assert.are.equal("LTAIprofile", assert(chain_for("default").get()).access_key_id)
      assert.are.equal("cn-qingdao", chain_for("default").region())
      -- a profile that is not there is an error naming it, not the environment's keys
      local c, err = chain_for("missing").get()
      assert.is_nil(c)
      assert.matches("missing", tostring(err))
      assert.is_nil(tostring(err):find("env-secret-value", 1, true))
    end)

    it("offers the profile's region_id as region()", function()
      local home = world()
      assert.are.equal("cn-qingdao", chain.default({ home = home, getenv = env {} }).region())
      assert.is_nil(chain.default({ home = tmpdir(), getenv = env {} }).region())
    end)

    it("keeps to the provider that answered first", function()
      local vars = { ALIBABA_CLOUD_ACCESS_KEY_ID = "LTAIenv", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "env-secret-value" }
      local ch = chain.default { getenv = env(vars), home = tmpdir() }
      assert.are.equal("LTAIenv", assert(ch.get()).access_key_id)
      assert.matches("^environment", ch.winner().name)
    end)

    it("with nothing anywhere fails with kind credentials, listing every place looked", function()
      local home = tmpdir()
      local ch = chain.default { getenv = env {}, home = home }
      local c, err = ch.get()
      assert.is_nil(c)
      assert.are.equal("credentials", err.kind)
      local msg = tostring(err)
      for _, place in ipairs {
        "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALICLOUD_", "ALIYUN_", "ALIBABA_CLOUD_ROLE_ARN",
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "ALIBABA_CLOUD_CONFIG_FILE", "/.aliyun/config.json",
        "ALIBABA_CLOUD_CREDENTIALS_FILE", "/.alibabacloud/credentials.ini", "ALIBABA_CLOUD_ECS_METADATA",
        "ALIBABA_CLOUD_CREDENTIALS_URI",
      } do
        assert(msg:find(place, 1, true), place .. " missing from: " .. msg)
      end
      assert.is_nil(msg:find("\n", 1, true))
    end)

    it("half an explicit key pair is an error naming the client options", function()
      local c, err = chain.default({ access_key_id = "LTAIonly", getenv = env {}, home = tmpdir() }).get()
      assert.is_nil(c)
      assert.matches("client options", err.message)
    end)

    it("role_arn with an explicit key assumes that role", function()
      local counts = {}
      local s = fake_sts({ LTAIexplicit = { secret = "explicit-secret-value" } }, counts)
      local c = assert(chain.default({ access_key_id = "LTAIexplicit", access_key_secret = "explicit-secret-value",
        role_arn = "acs:ram::1:role/x", sts_endpoint = "http://127.0.0.1:9", credentials_transport = s.send,
        getenv = env {} }).get())
      assert.are.equal("STS.role", c.access_key_id)
      assert.are.equal("acs:ram::1:role/x", counts.last.RoleArn)
    end)

    it("passes credentials_max_retries to the STS client of an assumed role", function()
      local function tries(extra)
        local busy = fake { ["/"] = function()
          return 503, json.encode { Code = "ServiceUnavailable", Message = "busy", RequestId = "r" }
        end }
        local o = { access_key_id = "LTAIexplicit", access_key_secret = "explicit-secret-value",
          role_arn = "acs:ram::1:role/x", sts_endpoint = "http://127.0.0.1:9", credentials_transport = busy.send,
          getenv = env {}, credentials_wait = function() end }
        for k, v in pairs(extra) do o[k] = v end
        local c = chain.default(o).get()
        assert.is_nil(c)
        return #busy.calls
      end
      assert.are.equal(1, tries { credentials_max_retries = 0 })
      assert.are.equal(3, tries { credentials_max_retries = 2 })
    end)

    it("makes each provider only when it reaches it", function()
      local made, calls = {}, {}
      local function maker(name, creds)
        return function()
          made[#made + 1] = name
          return { name = name, get = function()
            calls[#calls + 1] = name
            if creds then return value.new(creds) end
            return nil, "nothing in " .. name
          end }
        end
      end
      local list = { maker("a"), maker("b", { access_key_id = "LTAIb", access_key_secret = "b-secret" }), maker("c") }
      local ch = chain.new(list, { reuse_last = true })
      assert.are.same({}, made)
      assert.are.equal("LTAIb", assert(ch.get()).access_key_id)
      assert.are.same({ "a", "b" }, made)
      assert.are.equal("b", ch.winner().name)
      assert.is_function(list[1]) -- the caller's list is left as it was
      assert.are.equal("LTAIb", assert(ch.get()).access_key_id)
      assert.are.same({ "a", "b" }, made)
      assert.are.same({ "a", "b", "b" }, calls)
      local none = chain.new { maker("x"), { name = "y", get = function() return nil, "no y" end } }
      local c, err = none.get()
      assert.is_nil(c)
      assert.matches("x: nothing in x; y: no y", err.message, 1, true)
    end)

    it("with the key pair in the options, loads no other provider's module", function()
      local code = string.format("package.path = %q; package.cpath = %q; ", package.path, package.cpath) .. [[
        local ch = require("aliyun.credentials.chain").default { access_key_id = "LTAIexplicit",
          access_key_secret = "explicit-secret-value", getenv = function() return nil end }
        assert(ch.get().access_key_id == "LTAIexplicit")
        local names = {}
        for name in pairs(package.loaded) do
          if name:match("^aliyun%.credentials%.") then names[#names + 1] = name end
        end
        table.sort(names)
        io.write(table.concat(names, " "))
      ]]
      local interpreter = rawget(_G, "jit") and "luajit" or "lua5.4"
      local p = assert(io.popen(interpreter .. " -e '" .. code:gsub("'", "'\\''") .. "' 2>&1"))
      local out = p:read("a")
      p:close()
      assert.are.equal("aliyun.credentials.chain aliyun.credentials.static aliyun.credentials.value", out)
    end)

    it("a client without credentials fails with kind credentials and no secret anywhere", function()
      local aliyun = require "aliyun"
      local home = tmpdir()
      -- broken sources with secrets in them: the messages must still not show them
      write(home .. "/.aliyun/config.json", json.encode { current = "x", profiles = {
        { name = "x", mode = "StsToken", access_key_id = "a", access_key_secret = "profile-secret-value" } } })
      write(home .. "/.alibabacloud/credentials.ini", "[default]\ntype = sts\naccess_key_secret = ini-secret-value\n")
      local client = aliyun.client("ecs", { endpoint = "http://127.0.0.1:9", home = home,
        getenv = env { ALIBABA_CLOUD_ACCESS_KEY_SECRET = "env-secret-value" },
        transport = function() error("nothing may be sent") end })
      local res, err = client:call("DescribeRegions", {})
      assert.is_nil(res)
      assert.are.equal("credentials", err.kind)
      assert.matches("StsToken", err.message)
      assert.matches("type sts", err.message)
      assert_no_secret(tostring(err))
      assert_no_secret(err.message)
      assert_no_secret(tostring(client))
    end)

    it("a source that is set up and fails is named first, with why, in one line; none stands in for it", function()
      local aliyun = require "aliyun"
      local down = fake {} -- answers 404 to everything
      local refused = fake { ["/"] = function()
        return 403, json.encode { Code = "NoPermission", Message = "You are not authorized to do this action.",
          RequestId = "r-403" }
      end }
      local raising = { name = "a provider that raises", get = function() error("boom\nsecond line") end }
      -- each: client options -> what the message must name
      local cases = {
        { { config_file = "profile.json", profile_text = { current = "r", profiles = { { name = "r",
            mode = "RamRoleArn", access_key_id = "LTAIprofile", access_key_secret = "profile-secret-value",
            ram_role_arn = "acs:ram::1:role/ops" } } }, credentials_transport = refused.send },
          { "profile file .*profile%.json", "profile 'r'", "AssumeRole failed", "NoPermission" } },
        { { config_file = "profile.json", profile_text = { current = "s", profiles = { { name = "s",
            mode = "StsToken", access_key_id = "LTAIprofile", access_key_secret = "profile-secret-value" } } } },
          { "profile 's' %(mode StsToken%) has no sts_token" } },
        { { config_file = "profile.json", profile_text = { current = "e", profiles = { { name = "e",
            mode = "EcsRamRole", ram_role_name = "named-role" } } }, credentials_transport = down.send },
          { "profile 'e'", "role named%-role", "HTTP 404" } },
        { { credentials_file = "creds.ini", ini_text = "[default]\ntype = ram_role_arn\naccess_key_id = LTAIini\n"
            .. "access_key_secret = ini-secret-value\nrole_arn = acs:ram::1:role/ini\n",
            credentials_transport = refused.send },
          { "INI file .*creds%.ini", "creds%.ini %[default%]", "AssumeRole failed" } },
        { { credentials_uri = "http://127.0.0.1:9/creds?token=uri-token-value", credentials_transport = down.send },
          { "credentials URI http://127.0.0.1:9/creds", "HTTP 404" } },
        { { oidc_provider_arn = "acs:ram::1:oidc-provider/k8s", oidc_token_file = "/nonexistent/token",
            role_arn = "acs:ram::1:role/oidc" }, { "OIDC role acs:ram::1:role/oidc", "no file /nonexistent/token" } },
        { { access_key_id = "LTAIexplicit", access_key_secret = "explicit-secret-value", role_arn = "acs:ram::1:role/x",
            credentials_transport = refused.send }, { "^no usable credentials: RAM role acs:ram::1:role/x", "NoPermission" } },
        { { access_key_id = "LTAIonly" }, { "client options: only half of the key pair is given" } },
        { { credentials_provider = raising }, { "a provider that raises: raised an error: .*boom second line" } },
      }
      for i, case in ipairs(cases) do
        local o, wanted = case[1], case[2]
        local dir = tmpdir()
        if o.profile_text then
          write(dir .. "/" .. o.config_file, json.encode(o.profile_text))
          o.config_file, o.profile_text = dir .. "/" .. o.config_file, nil
        end
        if o.ini_text then
          write(dir .. "/" .. o.credentials_file, o.ini_text)
          o.credentials_file, o.ini_text = dir .. "/" .. o.credentials_file, nil
        end
        -- beside credentials in the options, the environment holds a key pair: it must not
        -- stand in for them (the other sources come after the environment in the chain)
        o.getenv = env(o.access_key_id and { ALIBABA_CLOUD_ACCESS_KEY_ID = "LTAIenv",
          ALIBABA_CLOUD_ACCESS_KEY_SECRET = "env-secret-value" } or {})
        o.endpoint, o.home = "http://127.0.0.1:9", dir
        o.sts_endpoint, o.metadata_endpoint = "http://127.0.0.1:9", "http://127.0.0.1:9"
        o.credentials_max_retries, o.credentials_wait = 0, function() end
        o.transport = function() error("nothing may be sent") end
        local res, err = aliyun.client("ecs", o):call("DescribeRegions", {})
        assert.is_nil(res)
        assert.are.equal("credentials", err.kind)
        local line = tostring(err)
        assert.is_nil(line:find("\n", 1, true), "case " .. i .. ": " .. line)
        assert.is_nil(err.message:find("\n", 1, true), "case " .. i .. ": " .. err.message)
        for _, w in ipairs(wanted) do
          assert.truthy(err.message:find(w), "case " .. i .. " lacks " .. w .. ": " .. err.message)
        end
        assert_no_secret(line)
        assert.is_nil(line:find("uri-token-value", 1, true))
      end
    end)

    it("credentials given in the options are used or the call fails: the environment never stands in", function()
      local vars = { ALIBABA_CLOUD_ACCESS_KEY_ID = "LTAIenv", ALIBABA_CLOUD_ACCESS_KEY_SECRET = "env-secret-value" }
      local c, err = chain.default({ access_key_id = "LTAIonly", getenv = env(vars), home = tmpdir() }).get()
      assert.is_nil(c)
      assert.matches("^no usable credentials: client options: ", err.message)
      -- a profile file where none is set up is absent, not failing: the environment is used
      assert.are.equal("LTAIenv", assert(chain.default({ getenv = env(vars), home = tmpdir() }).get()).access_key_id)
    end)
  end)
end)
