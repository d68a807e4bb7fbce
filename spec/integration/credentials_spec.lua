-- The credential providers over real HTTP: a real nginx on 127.0.0.1 plays the ECS
-- metadata service, STS and a credentials URI (spec/integration/server/credentials.lua).
-- Nothing here sends anything outside 127.0.0.0/8: every address is the local server's.
local aliyun = require "aliyun"
local core = require "aliyun.core"
local json = require "aliyun.json"
local nginx = require "support.nginx"
local chain = require "aliyun.credentials.chain"
local ecs_ram_role = require "aliyun.credentials.ecs_ram_role"

describe("#integration credentials against local services", function()
  local server, control_session
  local dirs = {}

  setup(function()
    server = nginx.start {
      http = [[
        server {
          listen 127.0.0.1:${PORT};
          location / { content_by_lua_block { require("integration.server.credentials")() } }
        }
      ]],
    }
    control_session = core.session { timeout = 5 }
  end)

  teardown(function()
    if server then server.stop() end
    for _, d in ipairs(dirs) do os.execute("rm -rf '" .. d .. "'") end
  end)

  -- changes the server's behaviour and returns what it was asked so far
  local function control(query)
    local r = assert(control_session:request { method = "GET", url = server.url .. "/control?" .. (query or "") })
    return json.decode(r.body)
  end

  before_each(function() control("reset=1") end)

  local function tmpdir()
    local d = assert(io.popen("mktemp -d /tmp/aliyun-creds-int.XXXXXX")):read("l")
    dirs[#dirs + 1] = d
    return d
  end

  local function write(path, text)
    os.execute("mkdir -p '" .. path:match("^(.*)/[^/]*$") .. "'")
    local f = assert(io.open(path, "wb"))
    f:write(text)
    f:close()
    os.execute("chmod 600 '" .. path .. "'") -- as the official tools write files that hold keys
  end

  local function env(t) return function(k) return t[k] end end

  -- the chain with every address pointing at the local server, an empty home, and vars
  local function local_chain(vars, extra)
    local o = { getenv = env(vars), home = tmpdir(), sts_endpoint = server.url,
      metadata_endpoint = server.url }
    for k, v in pairs(extra or {}) do o[k] = v end
    return chain.default(o)
  end

  describe("the ECS metadata service", function()
    it("is not asked at all when ALIBABA_CLOUD_ECS_METADATA is unset", function()
      local c, err = local_chain({}).get()
      assert.is_nil(c)
      assert.are.equal("credentials", err.kind)
      assert.matches("ALIBABA_CLOUD_ECS_METADATA is unset", err.message)
      local n = control()
      assert.are.equal(0, n.token + n.list + n.creds)
    end)

    it("with auto: IMDSv2 token, role discovery, then the role's credentials", function()
      control("imds=required")
      local c = assert(local_chain({ ALIBABA_CLOUD_ECS_METADATA = "auto" }).get())
      assert.are.equal("STS.md.1", c.access_key_id)
      assert.matches("^issued%-token%-", c.security_token)
      assert.is_true(c.expiration > core.time() + 3000)
      local n = control()
      assert.are.same({ 1, 1, 1, 0 }, { n.token, n.list, n.creds, n.v1 })
    end)

    it("falls back to v1 when there is no token service", function()
      control("imds=v1only")
      local c = assert(local_chain({ ALIBABA_CLOUD_ECS_METADATA = "testrole" }).get())
      assert.are.equal("STS.md.1", c.access_key_id)
      local n = control()
      assert.are.same({ 1, 0, 1, 1 }, { n.token, n.list, n.creds, n.v1 })
    end)

    it("does not fall back when ALIBABA_CLOUD_IMDSV1_DISABLED is true", function()
      control("imds=v1only")
      local c, err = local_chain({ ALIBABA_CLOUD_ECS_METADATA = "testrole", ALIBABA_CLOUD_IMDSV1_DISABLED = "true" }).get()
      assert.is_nil(c)
      assert.are.equal("credentials", err.kind)
      assert.matches("IMDSv1 is disabled", err.message)
      local n = control()
      assert.are.same({ 1, 0 }, { n.token, n.creds })
    end)

    it("gives up after one-second timeouts", function()
      control("imds=slow")
      local started = core.monotonic()
      local c, err = local_chain({ ALIBABA_CLOUD_ECS_METADATA = "testrole" }).get()
      local took = core.monotonic() - started
      assert.is_nil(c)
      assert.matches("ECS instance RAM role", err.message)
      -- the token PUT and the v1 GET, one second each at most
      assert.is_true(took < 2.8, "took " .. took)
    end)

    it("refreshes ahead of expiry, with the clock moved forward", function()
      local clock = core.time()
      local refreshes = 0
      local p = ecs_ram_role.new { role_name = "testrole", metadata_endpoint = server.url, getenv = env {},
        now = function() return clock end, on_refresh = function() refreshes = refreshes + 1 end }
      assert.are.equal("STS.md.1", assert(p.get()).access_key_id)
      clock = clock + 3000
      assert.are.equal("STS.md.1", assert(p.get()).access_key_id)
      clock = clock + 500 -- 100 s before the one-hour expiry: inside the 180 s margin
      assert.are.equal("STS.md.2", assert(p.get()).access_key_id)
      assert.are.equal(2, refreshes)
    end)

    it("refreshes short-lived credentials on the real clock", function()
      control("ttl=2")
      -- back to an hour for the tests after this one: with 2 s, a slow machine refreshes
      -- again during them
      finally(function() control("ttl=3600") end)
      local p = ecs_ram_role.new { role_name = "testrole", metadata_endpoint = server.url, getenv = env {} }
      local first = assert(p.get()).access_key_id
      assert.are.equal(first, assert(p.get()).access_key_id)
      core.sleep(1.3)
      local second = assert(p.get()).access_key_id
      assert.are_not.equal(first, second)
      assert.are.equal(2, control().creds)
    end)

    it("inside nginx, many light threads wanting credentials at once cause one fetch", function()
      local r = assert(control_session:request { method = "GET", url = server.url .. "/concurrency?n=20" })
      assert.are.equal(200, r.status)
      local res = json.decode(r.body)
      assert.are.equal(1, res.fetches)
      assert.are.equal(20, #res.ids)
      for i = 1, 20 do assert.are.equal("STS.md.1", res.ids[i]) end
      local n = control()
      assert.are.equal(1, n.token)
      assert.are.equal(1, n.creds)
    end)

    it("a client calls an API with the instance role's credentials and STS token", function()
      local c = aliyun.client("sts", { endpoint = server.url, version = "2015-04-01",
        getenv = env { ALIBABA_CLOUD_ECS_METADATA = "testrole" }, home = tmpdir(),
        metadata_endpoint = server.url })
      for _ = 1, 3 do
        local res = assert(c:call("WhoAmI", {}))
        assert.are.equal("STS.md.1", res.AccessKeyId)
      end
      local n = control()
      assert.are.equal(1, n.creds)
      assert.are.equal(3, n.whoami)
    end)
  end)

  describe("STS", function()
    it("a RamRoleArn profile calls AssumeRole signed with the profile's key", function()
      local home = tmpdir()
      write(home .. "/.aliyun/config.json", json.encode { current = "role", profiles = {
        { name = "role", mode = "RamRoleArn", access_key_id = "LTAIsource", access_key_secret = "source-secret-value",
          ram_role_arn = "acs:ram::123:role/deploy", ram_session_name = "ci", region_id = "cn-hangzhou" } } })
      local ch = chain.default { getenv = env {}, home = home, sts_endpoint = server.url }
      local c = assert(ch.get())
      assert.are.equal("STS.role.1", c.access_key_id)
      assert.are.equal("cn-hangzhou", ch.region())
      local n = control()
      assert.are.equal(1, n.assume)
      assert.are.equal("acs:ram::123:role/deploy", n.last_role)
      assert.are.equal("LTAIsource", n.last_source)
      -- the issued credentials work, and AssumeRole is not called again
      local client = aliyun.client("sts", { endpoint = server.url, version = "2015-04-01", credentials_provider = ch })
      assert.are.equal("STS.role.1", assert(client:call("WhoAmI", {})).AccessKeyId)
      assert.are.equal(1, control().assume)
    end)

    it("a wrong source secret fails with SignatureDoesNotMatch and no secret in the message", function()
      local ch = chain.default { getenv = env {}, home = tmpdir(), sts_endpoint = server.url,
        access_key_id = "LTAIsource", access_key_secret = "not-the-secret-value", role_arn = "acs:ram::123:role/x",
      }
      local c, err = ch.get()
      assert.is_nil(c)
      assert.are.equal("credentials", err.kind)
      assert.matches("SignatureDoesNotMatch", err.message)
      assert.is_nil(tostring(err):find("not-the-secret-value", 1, true))
    end)

    it("OIDC: AssumeRoleWithOIDC with the token from its file, anonymously", function()
      local dir = tmpdir()
      write(dir .. "/token", "oidc-jwt-token-value\n")
      local c = assert(local_chain {
        ALIBABA_CLOUD_ROLE_ARN = "acs:ram::123:role/pod", ALIBABA_CLOUD_OIDC_PROVIDER_ARN = "acs:ram::123:oidc-provider/k8s",
        ALIBABA_CLOUD_OIDC_TOKEN_FILE = dir .. "/token", ALIBABA_CLOUD_ROLE_SESSION_NAME = "pod-session",
      }.get())
      assert.are.equal("STS.oidc.1", c.access_key_id)
      local n = control()
      assert.are.equal(1, n.oidc)
      assert.are.equal("acs:ram::123:role/pod", n.last_oidc_role)
    end)

    it("OIDC: a refused token gives the service's code, never the token", function()
      local dir = tmpdir()
      write(dir .. "/token", "a-token-the-server-refuses")
      local c, err = local_chain({
        ALIBABA_CLOUD_ROLE_ARN = "acs:ram::123:role/pod", ALIBABA_CLOUD_OIDC_PROVIDER_ARN = "p",
        ALIBABA_CLOUD_OIDC_TOKEN_FILE = dir .. "/token",
      }).get()
      assert.is_nil(c)
      assert.matches("InvalidParameter.OIDCToken", err.message)
      assert.is_nil(tostring(err):find("a-token-the-server-refuses", 1, true))
    end)
  end)

  describe("the credentials URI", function()
    it("gives credentials from ALIBABA_CLOUD_CREDENTIALS_URI and caches them", function()
      local ch = local_chain { ALIBABA_CLOUD_CREDENTIALS_URI = server.url .. "/credentials-uri" }
      assert.are.equal("STS.uri.1", assert(ch.get()).access_key_id)
      assert.are.equal("STS.uri.1", assert(ch.get()).access_key_id)
      assert.are.equal(1, control().uri)
    end)
  end)
end)
