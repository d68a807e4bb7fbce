-- End to end through the public client over real HTTP: a real nginx on 127.0.0.1 that
-- checks V1 and V3 signatures with its own canonicalisation (spec/integration/server/echo.lua).
local aliyun = require "aliyun"
local nginx = require "support.nginx"

local SECRET = "testsecret"

describe("the request pipeline against nginx", function()
  local server

  setup(function()
    server = nginx.start {
      http = [[
        server {
          listen 127.0.0.1:${PORT};
          client_body_buffer_size 1m;
          location / { content_by_lua_block { require("integration.server.echo")() } }
        }
      ]],
    }
  end)

  teardown(function()
    if server then server.stop() end
  end)

  local function new_client(opts)
    local o = { endpoint = server.url, access_key_id = "testid", access_key_secret = SECRET,
      version = "2020-01-01" }
    for k, v in pairs(opts or {}) do o[k] = v end
    return aliyun.client("echo", o)
  end

  local TRICKY = {
    Space = "a b", Star = "x*y", Tilde = "~home", Slash = "a/b/c", Plus = "1+1",
    Quote = "it's", Parens = "(x)", Amp = "a&b", Eq = "k=v", Chinese = "阿里云 测试",
    Accent = "café", Mixed = " *~/+'()&=%25 \t\n阿",
  }

  for _, variant in ipairs {
    { name = "V1 POST", opts = { signature_version = "v1", method = "POST" }, method = "POST", sv = "v1" },
    { name = "V1 GET", opts = { signature_version = "v1", method = "GET" }, method = "GET", sv = "v1" },
    { name = "V3 POST", opts = { signature_version = "v3", method = "POST" }, method = "POST", sv = "v3" },
    { name = "V3 GET", opts = { signature_version = "v3", method = "GET" }, method = "GET", sv = "v3" },
  } do
    describe(variant.name, function()
      it("is accepted and every tricky value round-trips exactly", function()
        local c = new_client(variant.opts)
        local res, err = c:call("EchoValues", TRICKY)
        assert.is_nil(err)
        assert.are.equal("EchoValues", res.Action)
        assert.are.equal("2020-01-01", res.Version)
        assert.are.equal(variant.method, res.Method)
        assert.are.equal(variant.sv, res.SignatureVersion)
        assert.are.same(TRICKY, res.Params)
      end)

      it("answers SignatureDoesNotMatch with status 400 to a wrong secret, without leaking it", function()
        local c = new_client(variant.opts)
        c.opts.access_key_secret = "wrong-secret-value"
        local res, err = c:call("EchoValues", { A = "1" })
        assert.is_nil(res)
        assert.are.equal("service", err.kind)
        assert.are.equal("SignatureDoesNotMatch", err.code)
        assert.are.equal(400, err.status)
        assert.are.equal("EchoValues", err.action)
        assert.matches("^%x+%-", err.request_id)
        assert.is_false(err.retryable)
        local line = tostring(err)
        assert.is_nil(line:find("\n", 1, true))
        assert.is_nil(line:find("wrong-secret-value", 1, true))
        assert.matches("SignatureDoesNotMatch", line)
      end)
    end)
  end

  it("sends the STS security token (V1 and V3) and the server checks it", function()
    for _, sv in ipairs { "v1", "v3" } do
      local c = new_client { access_key_id = "stsid", access_key_secret = "stssecret",
        security_token = "ststoken", signature_version = sv }
      local res, err = c:call("EchoValues", { A = "1" })
      assert.is_nil(err)
      assert.are.same({ A = "1" }, res.Params)
      c = new_client { access_key_id = "stsid", access_key_secret = "stssecret",
        security_token = "other", signature_version = sv }
      res, err = c:call("EchoValues", { A = "1" })
      assert.is_nil(res)
      assert.are.equal("InvalidSecurityToken.Mismatch", err.code)
    end
  end)

  it("decodes the result into a plain table: integers, floats, null", function()
    local res = assert(new_client():call("EchoValues", {}))
    assert.are.equal(42, res.Count)
    if math.type then assert.are.equal("integer", math.type(res.Count)) end
    assert.are.equal(0.5, res.Ratio)
    assert.are.equal(aliyun.null, res.Nothing)
    assert.are.equal(require("cjson").null, res.Nothing)
  end)

  it("an unknown access key gives InvalidAccessKeyId.NotFound", function()
    local res, err = new_client({ access_key_id = "nobody" }):call("EchoValues", {})
    assert.is_nil(res)
    assert.are.equal("InvalidAccessKeyId.NotFound", err.code)
    assert.are.equal(400, err.status)
    assert.is_string(err.host_id)
    assert.matches("troubleshoot", err.recommend)
  end)

  it("reuses one connection across calls (keep-alive)", function()
    local c = new_client()
    local first = assert(c:call("EchoValues", {})).Connection
    for _ = 1, 5 do
      assert.are.equal(first, assert(c:call("EchoValues", {})).Connection)
    end
    -- a different client has a session of its own
    assert.are_not.equal(first, assert(new_client():call("EchoValues", {})).Connection)
  end)

  it("a closed port gives kind network", function()
    local c = aliyun.client("echo", { endpoint = "http://127.0.0.1:1", access_key_id = "testid",
      access_key_secret = SECRET, version = "2020-01-01" })
    local res, err = c:call("EchoValues", {})
    assert.is_nil(res)
    assert.are.equal("network", err.kind)
    assert.are.equal("EchoValues", err.action)
    assert.is_true(err.retryable)
    assert.matches("onnect", err.message)
  end)

  it("a server that answers after the timeout gives kind timeout", function()
    local c = new_client { timeout = 0.3 }
    local res, err = c:call("Sleep", { Seconds = "2" })
    assert.is_nil(res)
    assert.are.equal("timeout", err.kind)
    assert.is_true(err.retryable)
    -- a per-call timeout overrides the client's
    res = assert(new_client({ timeout = 0.3 }):call("Sleep", { Seconds = "0.5" }, { timeout = 5 }))
    assert.are.equal("Sleep", res.Action)
  end)

  it("a non-JSON error page becomes a service error with the status", function()
    local res, err = new_client():call("Status", { Code = "502" })
    assert.is_nil(res)
    assert.are.equal("service", err.kind)
    assert.are.equal(502, err.status)
    assert.is_true(err.retryable)
    assert.matches("not JSON", err.message)
  end)

  it("fails with kind credentials, naming the places looked, when there is no key", function()
    local c = aliyun.client("echo", { endpoint = server.url, version = "2020-01-01",
      getenv = function() return nil end })
    local res, err = c:call("EchoValues", {})
    assert.is_nil(res)
    assert.are.equal("credentials", err.kind)
    assert.matches("ALIBABA_CLOUD_ACCESS_KEY_ID", err.message)
  end)

  it("raises for programmer mistakes only", function()
    local c = new_client()
    assert.has_error(function() c:call(42) end)
    assert.has_error(function() c:call("EchoValues", "not a table") end)
    assert.has_error(function() aliyun.client("echo", { signature_version = "v2" }) end)
  end)
end)
