-- The fused call: session:v1_call signs, sends over the direct path and decodes in one C
-- call, and the client uses it for its common calls. Against real nginx on 127.0.0.1 that
-- checks every V1 signature (spec/integration/server/echo.lua).
local aliyun = require "aliyun"
local core = require "aliyun.core"
local nginx = require "support.nginx"

local SECRET = "testsecret"
local VERSION = "2014-05-26"

-- Test modes chosen by the AcceptLanguage parameter of DescribeRegions (an ECS action,
-- so that the client's fused path takes it); everything else goes to the echo handler.
local HANDLER = [[
  local mode = ngx.var.arg_AcceptLanguage
  local dict = ngx.shared.fused
  if mode == "plain" then
    ngx.print("not JSON at all")
    return
  elseif mode == "slow" then
    ngx.sleep(1)
  elseif mode == "array" then
    ngx.header["Content-Type"] = "application/json"
    ngx.print("[1,2,3]")
    return
  elseif mode and mode:match("^busy%-once") then
    if dict:incr(mode, 1, 0) == 1 then
      ngx.status = 503
      ngx.header["Content-Type"] = "application/json"
      ngx.print('{"Code":"ServiceUnavailable","Message":"try again","RequestId":"R-1"}')
      return
    end
  elseif mode == "big" then
    local parts = {}
    for i = 1, 3000 do parts[i] = '{"Id":' .. i .. ',"Name":"item ' .. i .. '","Tags":{"A":[1,2,3]}}' end
    ngx.header["Content-Type"] = "application/json"
    ngx.print('{"RequestId":"big","Items":[' .. table.concat(parts, ",") .. ']}')
    return
  end
  if mode then dict:incr("seen:" .. mode, 1, 0) end
  require("integration.server.echo")()
]]

describe("the fused V1 call #integration", function()
  local server

  setup(function()
    server = nginx.start {
      http = [[
        lua_shared_dict fused 1m;
        server {
          listen 127.0.0.1:${PORT};
          location / { content_by_lua_block { ]] .. HANDLER .. [[ } }
        }
      ]],
    }
  end)

  teardown(function()
    if server then server.stop() end
  end)

  local TRICKY = {
    Space = "a b", Star = "x*y", Tilde = "~home", Slash = "a/b/c", Plus = "1+1",
    Amp = "a&b", Eq = "k=v", Chinese = "阿里云 测试", Mixed = " *~/+'()&=%25 \t\n阿",
  }

  describe("session:v1_call", function()
    local session

    before_each(function()
      session = core.session { user_agent = "fused-spec", raw_headers = true }
    end)

    after_each(function()
      session:close()
    end)

    for _, method in ipairs { "GET", "POST" } do
      it("signs, sends and decodes a " .. method .. " call the server accepts", function()
        local res = session:v1_call(server.url, method, TRICKY, SECRET, "EchoValues", VERSION, "testid")
        assert.is_table(res)
        assert.are.equal("EchoValues", res.Action)
        assert.are.equal(method, res.Method)
        assert.are.equal("v1", res.SignatureVersion)
        assert.are.same(TRICKY, res.Params)
        assert.are.equal(42, res.Count)
        assert.are.equal(core.null, res.Nothing)
      end)
    end

    it("signs the security token, a given nonce and a given timestamp", function()
      local res = session:v1_call(server.url, "GET", { A = "1" }, "stssecret", "EchoValues", VERSION, "stsid",
        "ststoken", "fixed-nonce-" .. core.nonce(), os.time())
      assert.is_table(res)
      assert.are.equal("stsid", res.AccessKeyId)
      -- a timestamp an hour off is refused by the server: the argument is really used
      local ok, status, body = session:v1_call(server.url, "GET", {}, SECRET, "EchoValues", VERSION, "testid",
        nil, nil, os.time() - 3600)
      assert.is_false(ok)
      assert.are.equal(400, status)
      assert.matches("InvalidTimeStamp", body)
    end)

    it("keeps one connection across calls", function()
      local first = session:v1_call(server.url, "GET", {}, SECRET, "EchoValues", VERSION, "testid")
      for _ = 1, 20 do
        local again = session:v1_call(server.url, "GET", {}, SECRET, "EchoValues", VERSION, "testid")
        assert.are.equal(first.Connection, again.Connection)
      end
    end)

    it("hands back an error answer whole, with the string to sign", function()
      local ok, status, body, raw_headers, sts = session:v1_call(server.url, "GET", { A = "1" }, "wrong",
        "EchoValues", VERSION, "testid")
      assert.is_false(ok)
      assert.are.equal(400, status)
      assert.matches('"Code":"SignatureDoesNotMatch"', body, 1, true)
      assert.matches("^HTTP/1%.1 400", raw_headers)
      assert.matches("^GET&%%2F&A%%3D1%%26AccessKeyId%%3Dtestid%%26", sts)
      -- the server computed the same string to sign: only the key differs
      assert.are.equal(body:match("string to sign is:%s*(.-)\""), sts)
    end)

    it("hands back a 2xx answer that is not a JSON object", function()
      local ok, status, body, raw_headers = session:v1_call(server.url, "GET", { AcceptLanguage = "plain" },
        SECRET, "DescribeRegions", VERSION, "testid")
      assert.is_false(ok)
      assert.are.equal(200, status)
      assert.are.equal("not JSON at all", body)
      assert.is_string(raw_headers)
      -- a JSON array is a table too, as the ordinary path's decode_response takes it
      assert.are.same({ 1, 2, 3 }, session:v1_call(server.url, "GET", { AcceptLanguage = "array" }, SECRET,
        "DescribeRegions", VERSION, "testid"))
    end)

    it("reports a refused connection and a timeout as network and timeout failures", function()
      local res, message, kind, sts = session:v1_call("http://127.0.0.1:1", "GET", {}, SECRET, "A", VERSION,
        "testid")
      assert.is_nil(res)
      assert.are.equal("network", kind)
      assert.is_string(message)
      assert.matches("^GET&", sts)
      res, message, kind = session:v1_call(server.url, "GET", { AcceptLanguage = "slow" }, SECRET,
        "DescribeRegions", VERSION, "testid", nil, nil, nil, 0.2, 1)
      assert.is_nil(res)
      assert.are.equal("timeout", kind)
      assert.is_nil(message:find(SECRET, 1, true))
    end)

    it("declines what the direct path does not take, with a lone false", function()
      local function declined(...)
        return select("#", ...) == 1 and (...) == false
      end
      assert.is_true(declined(session:v1_call("http://user@127.0.0.1:1", "GET", {}, SECRET, "A", VERSION, "k")))
      assert.is_true(declined(session:v1_call("ftp://127.0.0.1:1", "GET", {}, SECRET, "A", VERSION, "k")))
      assert.is_true(declined(session:v1_call(server.url .. "/path", "GET", {}, SECRET, "A", VERSION, "k")))
      assert.is_true(declined(session:v1_call(server.url, "PUT", {}, SECRET, "A", VERSION, "k")))
      local proxied = core.session { proxy = "http://127.0.0.1:1" }
      assert.is_true(declined(proxied:v1_call(server.url, "GET", {}, SECRET, "A", VERSION, "k")))
      proxied:close()
    end)

    it("refuses bad arguments with clear errors", function()
      assert.has_error(function()
        session:v1_call(server.url, "GET", {}, SECRET, "A", VERSION, "k", nil, nil, nil, -1)
      end)
      local ok, err = pcall(session.v1_call, session, server.url, "GET", { A = 1 }, SECRET, "A", VERSION, "k")
      assert.is_false(ok)
      assert.matches("value of 'A' must be a string", err)
      assert.is_nil(err:find(SECRET, 1, true))
    end)

    it("keeps its buffers away from finalizers that use the session during a decode", function()
      local outcomes = { busy = 0, other = 0 }
      local mt = {
        __gc = function()
          local ok, err = pcall(session.v1_call, session, server.url, "GET", {}, SECRET, "EchoValues", VERSION,
            "testid")
          if not ok and tostring(err):find("busy", 1, true) then
            outcomes.busy = outcomes.busy + 1
          else
            outcomes.other = outcomes.other + 1
          end
        end,
      }
      -- garbage with finalizers, collected in small steps while the big answer is decoded;
      -- rounds until a finalizer has run during a decode (bounded: the heap's size decides
      -- when a cycle reaches its finalizers: the collector works hard and in small steps,
      -- so that a cycle fits in a decode even when the specs before left a large heap)
      collectgarbage("collect")
      collectgarbage("incremental", 10, 1000, 10)
      for _ = 1, 200 do
        for _ = 1, 200 do setmetatable({}, mt) end
        local res = session:v1_call(server.url, "GET", { AcceptLanguage = "big" }, SECRET, "DescribeRegions",
          VERSION, "testid")
        assert.is_table(res)
        assert.are.equal(3000, #res.Items)
        assert.are.equal(3000, res.Items[3000].Id)
        if outcomes.busy > 0 then break end
      end
      collectgarbage("incremental", 200, 100)
      collectgarbage("collect")
      assert.is_true(outcomes.busy > 0, "no finalizer ran during a decode")
      -- the session still works
      assert.are.equal("EchoValues", session:v1_call(server.url, "GET", {}, SECRET, "EchoValues", VERSION,
        "testid").Action)
    end)
  end)

  describe("the client", function()
    -- An ECS client whose ordinary send is counted: the fused path does not use it.
    local function ecs(opts)
      local o = { endpoint = server.url, access_key_id = "testid", access_key_secret = SECRET }
      for k, v in pairs(opts or {}) do o[k] = v end
      local c = aliyun.ecs(o)
      local sent = { n = 0 }
      local send = c:_transport()
      c._send = function(request)
        sent.n = sent.n + 1
        return send(request)
      end
      return c, sent
    end

    it("makes its common calls through the fused path, GET and POST", function()
      for _, method in ipairs { "GET", "POST" } do
        local c, sent = ecs { method = method }
        local res, err = c:DescribeRegions { AcceptLanguage = "en-US", ResourceType = "instance" }
        assert.is_nil(err)
        assert.are.equal(method, res.Method)
        assert.are.same({ AcceptLanguage = "en-US", ResourceType = "instance" }, res.Params)
        assert.are.equal(0, sent.n)
      end
    end)

    it("gives the same result as the ordinary path", function()
      local c, sent = ecs { method = "GET" }
      local params = { AcceptLanguage = "zh-CN", InstanceChargeType = "PostPaid", ResourceType = "disk" }
      local fused = c:DescribeRegions(params)
      local ordinary = c:DescribeRegions(params, { debug = function() end })
      assert.are.equal(1, sent.n)
      for _, k in ipairs { "Action", "Version", "Method", "AccessKeyId", "SignatureVersion", "Count" } do
        assert.are.equal(ordinary[k], fused[k])
      end
      assert.are.same(ordinary.Params, fused.Params)
    end)

    it("converts typed values and leaves the caller's table as it was", function()
      local c, sent = ecs()
      local params = { RegionId = "cn-hangzhou", PageSize = 10, PageNumber = "2", DryRun = false }
      local res, err = c:DescribeInstances(params)
      assert.is_nil(err)
      assert.are.same({ RegionId = "cn-hangzhou", PageSize = "10", PageNumber = "2", DryRun = "false" }, res.Params)
      assert.are.same({ RegionId = "cn-hangzhou", PageSize = 10, PageNumber = "2", DryRun = false }, params)
      assert.are.equal(0, sent.n)
    end)

    it("leaves lists, body parameters and bad values to the ordinary path", function()
      local c, sent = ecs()
      local res = assert(c:DescribeInstances { RegionId = "cn-hangzhou", InstanceIds = { "i-1", "i-2" } })
      assert.are.equal('["i-1","i-2"]', res.Params.InstanceIds)
      assert.are.equal(1, sent.n)
      local _, err = c:DescribeInstances { RegionId = "cn-hangzhou", PageSize = "ten" }
      assert.are.equal("validation", err.kind)
      assert.are.equal("PageSize", err.details.parameter)
      local _, err2 = c:DescribeInstances { RegionID = "cn-hangzhou" }
      assert.are.equal("validation", err2.kind)
      assert.matches("RegionId", err2.message)
      assert.are.equal(1, sent.n) -- validation errors send nothing
      local ens = aliyun.ens { endpoint = server.url, access_key_id = "testid", access_key_secret = SECRET }
      local r = assert(ens:ReinitInstance { ImageId = "m-1", InstanceId = "i-1" })
      assert.is_true(r.InBody)
    end)

    it("explains a wrong secret from the string to sign the fused call hands back", function()
      local c, sent = ecs { access_key_secret = "not-the-secret" }
      local res, err = c:DescribeRegions {}
      assert.is_nil(res)
      assert.are.equal("SignatureDoesNotMatch", err.code)
      assert.are.equal("DescribeRegions", err.action)
      assert.matches("AccessKeySecret is wrong", err.message)
      assert.is_nil(tostring(err):find("not-the-secret", 1, true))
      assert.are.equal(0, sent.n)
    end)

    it("retries a busy service through the fused path", function()
      local c, sent = ecs { retry = { base_delay = 0.01, max_delay = 0.02 } }
      local mode = "busy-once-" .. core.nonce()
      local res, err = c:DescribeRegions { AcceptLanguage = mode }
      assert.is_nil(err)
      assert.are.equal(mode, res.Params.AcceptLanguage)
      assert.are.equal(0, sent.n)
    end)

    it("turns a non-JSON answer and a timeout into decode and timeout errors", function()
      local c = ecs { max_retries = 0, timeout = 0.2 }
      local _, err = c:DescribeRegions { AcceptLanguage = "plain" }
      assert.are.equal("decode", err.kind)
      assert.are.equal(200, err.status)
      _, err = c:DescribeRegions { AcceptLanguage = "slow" }
      assert.are.equal("timeout", err.kind)
      assert.are.equal("DescribeRegions", err.action)
    end)

    it("re-signs with the server's clock after InvalidTimeStamp.Expired", function()
      local c, sent = ecs()
      c._clock_offset = -3600 -- as if the local clock were an hour fast
      local res, err = c:DescribeRegions { AcceptLanguage = "skew" }
      assert.is_nil(err)
      assert.is_table(res)
      assert.is_true(math.abs(c._clock_offset) < 120)
      assert.are.equal(0, sent.n)
    end)

    it("goes the ordinary way through a proxy", function()
      local c, sent = ecs { proxy = server.url, max_retries = 0 }
      local res = c:DescribeRegions {}
      -- nginx is no proxy, but the request reached it through libcurl's engine
      assert.is_not_nil(res)
      assert.are.equal(1, sent.n)
      assert.is_nil(rawget(c, "_session"))
    end)
  end)
end)
