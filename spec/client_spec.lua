-- The request pipeline's robustness: retries, ClientToken, clock skew, signature-mismatch
-- explanations, timeouts, dry runs, debug output and secret hygiene. The service side is
-- a small in-process server built on the emulator's signature verifier (the real check,
-- with its own canonicalisation), reached through the transport interface.
local aliyun = require "aliyun"
local auth = require "aliyun.emulator.auth"
local core = require "aliyun.core"
local json = require "aliyun.json"

local SECRET = "s3cr3t-Value-Never-Shown"
local TOKEN = "sts-Token-Never-Shown/+="

local function parse_url(url)
  local path, qs = url:match("^https?://[^/]+(/[^?]*)%??(.*)$")
  return path, qs
end

local function lower_headers(h)
  local r = {}
  for k, v in pairs(h or {}) do r[k:lower()] = v end
  return r
end

local function http_date(epoch)
  return os.date("!%a, %d %b %Y %H:%M:%S GMT", epoch)
end

-- A service: verifies every request and answers through `script`, a function
-- (params, attempt) -> status, body table, extra headers. Records what it saw.
local function service(opts)
  opts = opts or {}
  local s = { seen = {}, attempts = 0 }
  local offset = opts.clock_offset or 0
  local verifier = auth.new {
    keys = { testid = { secret = SECRET, security_token = opts.token } }, crypto = core,
    now = function() return os.time() + offset end,
  }
  function s.send(req)
    s.attempts = s.attempts + 1
    local path, qs = parse_url(req.url)
    local headers = lower_headers(req.headers)
    local ok, err = verifier:verify { method = req.method, path = path, query_string = qs,
      headers = headers, body = req.body }
    local date = http_date(os.time() + offset)
    if not ok then
      return { status = err.status, headers = { date = date },
        body = json.encode { Code = err.code, Message = err.message, RequestId = "r-" .. s.attempts } }
    end
    s.seen[#s.seen + 1] = { params = ok.params, request = req }
    local status, body, extra = 200, { RequestId = "r-" .. s.attempts }, nil
    if opts.script then status, body, extra = opts.script(ok.params, s.attempts) end
    local h = { date = date }
    for k, v in pairs(extra or {}) do h[k] = v end
    if type(body) == "table" then body = json.encode(body) end
    return { status = status, headers = h, body = body }
  end
  return s
end

local function client(svc, opts)
  local o = {
    endpoint = "https://ecs.example.test", access_key_id = "testid", access_key_secret = SECRET,
    transport = svc.send, sleep = function(s) svc.slept = (svc.slept or 0) + s end,
  }
  for k, v in pairs(opts or {}) do o[k] = v end
  return aliyun.ecs(o)
end

local function throttle_first(n, headers)
  return function(params, attempt)
    if attempt <= n then
      return 400, { Code = "Throttling", Message = "Request was denied due to request throttling.",
        RequestId = "t" .. attempt }, headers
    end
    return 200, { RequestId = "ok", DiskId = "d-1", Token = params.ClientToken }
  end
end

describe("retries", function()
  it("retries Throttling and succeeds on the fourth try, each try signed afresh", function()
    local svc = service { script = throttle_first(3) }
    local r = assert(client(svc):CreateDisk { RegionId = "cn-hangzhou", ZoneId = "cn-hangzhou-b", Size = 20 })
    assert.equal("d-1", r.DiskId)
    assert.equal(4, svc.attempts)
    local nonces, tokens = {}, {}
    for _, seen in ipairs(svc.seen) do
      nonces[seen.params.SignatureNonce] = true
      tokens[seen.params.ClientToken] = true
    end
    local n, t = 0, 0
    for _ in pairs(nonces) do n = n + 1 end
    for tok in pairs(tokens) do t = t + 1; assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", tok) end
    assert.equal(4, n) -- a new nonce per try: the service refuses a replayed one
    assert.equal(1, t) -- one ClientToken across tries: a retried create is not a second create
    assert.equal(r.Token, next(tokens))
    assert.is_true(svc.slept > 0)
  end)

  it("keeps a ClientToken the caller gave", function()
    local svc = service { script = throttle_first(1) }
    local r = assert(client(svc):CreateDisk { RegionId = "cn-hangzhou", ZoneId = "z", Size = 20, ClientToken = "mine" })
    assert.equal("mine", r.Token)
  end)

  it("adds no ClientToken to actions that do not take one", function()
    local svc = service()
    assert(client(svc):DescribeRegions {})
    assert.is_nil(svc.seen[1].params.ClientToken)
  end)

  it("gives the first error back with max_retries = 0, on the client or the call", function()
    local svc = service { script = throttle_first(3) }
    local r, err = client(svc, { max_retries = 0 }):DescribeRegions {}
    assert.is_nil(r)
    assert.equal("Throttling", err.code)
    assert.equal(1, svc.attempts)
    local svc2 = service { script = throttle_first(3) }
    local _, err2 = client(svc2):DescribeRegions({}, { max_retries = 0 })
    assert.equal("Throttling", err2.code)
    assert.equal(1, svc2.attempts)
  end)

  it("stops after max_retries and returns the last error", function()
    local svc = service { script = throttle_first(10) }
    local _, err = client(svc, { max_retries = 2 }):DescribeRegions {}
    assert.equal("Throttling", err.code)
    assert.equal(3, svc.attempts)
    assert.is_true(err.retryable)
  end)

  it("honours x-acs-retry-after (milliseconds)", function()
    local svc = service { script = throttle_first(1, { ["x-acs-retry-after"] = "1500" }) }
    assert(client(svc, { retry = { base_delay = 0.001 } }):DescribeRegions {})
    assert.is_true(svc.slept >= 1.5)
  end)

  it("honours Retry-After in seconds or as an HTTP date, up to max_delay", function()
    local svc = service { script = throttle_first(1, { ["retry-after"] = "3" }) }
    assert(client(svc, { retry = { base_delay = 0.001 } }):DescribeRegions {})
    assert.is_true(svc.slept >= 3)
    svc = service { script = throttle_first(1, { ["retry-after"] = http_date(os.time() + 6) }) }
    assert(client(svc, { retry = { base_delay = 0.001 } }):DescribeRegions {})
    assert.is_true(svc.slept >= 4 and svc.slept <= 6, tostring(svc.slept))
    svc = service { script = throttle_first(1, { ["retry-after"] = "3600" }) }
    assert(client(svc, { retry = { base_delay = 0.001, max_delay = 2 } }):DescribeRegions {})
    assert.is_true(svc.slept <= 2)
  end)

  it("sends a failed request again only when it never left or is safe to repeat", function()
    local function flaky(sent)
      local svc, calls = service(), 0
      return svc, function(req)
        calls = calls + 1
        if calls == 1 then return nil, aliyun.errors.new { kind = "network", message = "reset", sent = sent } end
        return svc.send(req)
      end
    end
    -- StartInstance changes something and takes no ClientToken
    local svc, send = flaky(nil)
    local _, err = client(svc, { transport = send }):StartInstance { InstanceId = "i-1" }
    assert.are.equal("network", err.kind)
    assert.are.equal(0, svc.attempts)
    svc, send = flaky(false) -- provably not delivered: safe whatever the action
    assert(client(svc, { transport = send }):StartInstance { InstanceId = "i-1" })
    assert.are.equal(1, svc.attempts)
    svc, send = flaky(nil) -- a read
    assert(client(svc, { transport = send }):DescribeRegions {})
    svc, send = flaky(nil) -- a create with its ClientToken
    assert(client(svc, { transport = send }):CreateDisk { RegionId = "cn-hangzhou", ZoneId = "z", Size = 20 })
    -- a service error is an answer: retried as before when retryable
    local busy = service { script = function(_, attempt)
      if attempt == 1 then return 503, { Code = "ServiceUnavailable", Message = "busy" } end
      return 200, { RequestId = "ok" }
    end }
    assert(client(busy):StartInstance { InstanceId = "i-1" })
    assert.are.equal(2, busy.attempts)
  end)

  it("tells read-only actions and calls with a ClientToken apart from the rest", function()
    local retry = require "aliyun.retry"
    assert.is_true(retry.safe_to_repeat("DescribeDisks", {}))
    assert.is_true(retry.safe_to_repeat("ListTagResources"))
    assert.is_true(retry.safe_to_repeat("RunInstances", { ClientToken = "t" }))
    assert.is_false(retry.safe_to_repeat("RunInstances", {}))
    assert.is_false(retry.safe_to_repeat("Describer", {}))
    assert.is_false(retry.safe_to_repeat("DeleteDisk", {}))
  end)

  it("retries HTTP 5xx and network errors, not client errors", function()
    local svc = service { script = function(_, attempt)
      if attempt == 1 then return 503, "<html>busy</html>" end
      return 200, { RequestId = "ok" }
    end }
    assert(client(svc):DescribeRegions {})
    assert.equal(2, svc.attempts)

    local bad = service { script = function() return 400, { Code = "InvalidParameter", Message = "no" } end }
    local _, err = client(bad):DescribeRegions {}
    assert.equal("InvalidParameter", err.code)
    assert.equal(1, bad.attempts)

    local calls = 0
    local flaky = service()
    local c = client(flaky, { transport = function(req)
      calls = calls + 1
      if calls < 3 then return nil, aliyun.errors.new { kind = "network", message = "connection reset" } end
      return flaky.send(req)
    end })
    assert(c:DescribeRegions {})
    assert.equal(3, calls)
  end)

  it("backs off exponentially with full jitter under the cap", function()
    local retry = require "aliyun.retry"
    local p = retry.new { base_delay = 1, max_delay = 5, random = function() return 1 end }
    local e = aliyun.errors.new { kind = "service", code = "Throttling", status = 400 }
    assert.equal(1, p:delay(1, e))
    assert.equal(2, p:delay(2, e))
    assert.equal(4, p:delay(3, e))
    assert.is_nil(p:delay(4, e))
    local q = retry.new { base_delay = 1, max_delay = 5, max_retries = 10, random = function() return 0.5 end }
    assert.equal(2.5, q:delay(8, e)) -- capped at 5, then jittered
    assert.is_nil(q:delay(1, aliyun.errors.new { kind = "validation", message = "x" }))
  end)
end)

describe("errors answered in XML", function()
  local function xml_error(code, rid)
    return '<?xml version="1.0" encoding="UTF-8"?>\n<Error>\n  <RequestId>' .. rid .. '</RequestId>\n'
      .. '  <HostId>ecs.aliyuncs.com</HostId>\n  <Code>' .. code .. '</Code>\n'
      .. '  <Message>Request was denied &amp; throttled &lt;now&gt; &#x4e2d;</Message>\n'
      .. '  <Recommend><![CDATA[https://api.aliyun.com/troubleshoot?q=' .. code .. '&a=<b>]]></Recommend>\n</Error>\n'
  end

  it("decodes them into the same error object as JSON ones", function()
    local json_svc = service { script = function()
      return 400, { Code = "InvalidParameter", Message = "Request was denied & throttled <now> \228\184\173",
        RequestId = "r-1", HostId = "ecs.aliyuncs.com",
        Recommend = "https://api.aliyun.com/troubleshoot?q=InvalidParameter&a=<b>" }
    end }
    local xml_svc = service { script = function() return 400, xml_error("InvalidParameter", "r-1") end }
    local _, from_json = client(json_svc):DescribeRegions {}
    local _, from_xml = client(xml_svc):DescribeRegions {}
    assert.are.same(from_json, from_xml)
    assert.are.equal("InvalidParameter", from_xml.code)
    assert.are.equal("r-1", from_xml.request_id)
    assert.are.equal("ecs.aliyuncs.com", from_xml.host_id)
    assert.are.equal("https://api.aliyun.com/troubleshoot?q=InvalidParameter&a=<b>", from_xml.recommend)
    assert.are.equal(getmetatable(from_json), getmetatable(from_xml))
  end)

  it("retries Throttling in XML as in JSON", function()
    local svc = service { script = function(params, attempt)
      if attempt <= 3 then return 400, xml_error("Throttling", "t" .. attempt) end
      return 200, { RequestId = "ok", DiskId = "d-1", Token = params.ClientToken }
    end }
    local r = assert(client(svc):CreateDisk { RegionId = "cn-hangzhou", ZoneId = "cn-hangzhou-b", Size = 20 })
    assert.equal("d-1", r.DiskId)
    assert.equal(4, svc.attempts)
    local svc2 = service { script = function() return 503, xml_error("ServiceUnavailable", "u") end }
    local _, err = client(svc2, { max_retries = 1 }):DescribeRegions {}
    assert.equal("ServiceUnavailable", err.code)
    assert.is_true(err.retryable)
    assert.equal(2, svc2.attempts)
  end)

  it("keeps a body that is neither JSON nor an XML error as a snippet", function()
    local svc = service { script = function() return 502, "<html><body>Bad Gateway</body></html>" end }
    local _, err = client(svc, { max_retries = 0 }):DescribeRegions {}
    assert.is_nil(err.code)
    assert.truthy(err.message:find("Bad Gateway", 1, true))
  end)
end)

describe("clock skew", function()
  it("learns the server's clock from its Date header and re-signs once", function()
    local svc = service { clock_offset = 3600 }
    local c = client(svc, { max_retries = 0 })
    assert(c:DescribeRegions {})
    assert.equal(2, svc.attempts)
    assert(c:DescribeRegions {}) -- the offset is kept
    assert.equal(3, svc.attempts)
  end)

  it("says how far off the local clock is when re-signing does not help", function()
    local svc = service()
    local tries = 0
    local c = client(svc, { max_retries = 0, transport = function()
      -- a server that refuses every timestamp, even one corrected by its own Date header
      tries = tries + 1
      return { status = 400, headers = { date = http_date(os.time() - 7200) },
        body = json.encode { Code = "InvalidTimeStamp.Expired", Message = "Specified time stamp or date value is expired." } }
    end })
    local _, err = c:DescribeRegions {}
    assert.equal("InvalidTimeStamp.Expired", err.code)
    assert.matches("local clock is off by 7[12]%d%d seconds", err.message)
    assert.equal(2, tries)
  end)
end)

describe("SignatureDoesNotMatch", function()
  it("says the secret is wrong when the strings to sign agree", function()
    local svc = service()
    local _, err = client(svc, { access_key_secret = "wrong-secret-value" }):DescribeRegions {}
    assert.equal("SignatureDoesNotMatch", err.code)
    assert.equal(400, err.status)
    assert.matches("AccessKeySecret is wrong", err.message)
    assert.is_nil(tostring(err):find("wrong-secret-value", 1, true))
  end)

  it("shows both strings to sign, token masked, when the request was changed on the way", function()
    local svc = service { token = TOKEN }
    local c = client(svc, { security_token = TOKEN, transport = function(req)
      -- a proxy that rewrites a parameter: the service signs something else
      req.url = req.url:gsub("RegionId=cn%-hangzhou", "RegionId=cn-beijing")
      return svc.send(req)
    end })
    local _, err = c:DescribeDisks { RegionId = "cn-hangzhou" }
    assert.equal("SignatureDoesNotMatch", err.code)
    assert.matches("client string to sign: POST&%%2F&.*cn%-hangzhou", err.message)
    assert.matches("server string to sign: POST&%%2F&.*cn%-beijing", err.message)
    assert.is_nil(err.message:find(core.percent_encode(core.percent_encode(TOKEN)), 1, true))
    assert.is_nil(err.message:find(core.percent_encode(TOKEN), 1, true))
    assert.matches("SecurityToken%%3D%*%*%*%*", err.message)
  end)
end)

describe("timeouts", function()
  it("uses a longer read timeout for long-running actions, and overrides", function()
    local seen
    local svc = service()
    local c = client(svc, { transport = function(req) seen = req; return svc.send(req) end })
    assert(c:DescribeRegions {})
    assert.equal(10, seen.timeout)
    assert.equal(5, seen.connect_timeout)
    c:call("RunInstances", { RegionId = "cn-hangzhou", ImageId = "i", InstanceType = "t" })
    assert.equal(60, seen.timeout)
    c:DescribeRegions({}, { timeout = 3, connect_timeout = 1 })
    assert.equal(3, seen.timeout)
    assert.equal(1, seen.connect_timeout)
    local c2 = client(svc, { timeout = 7, transport = function(req) seen = req; return svc.send(req) end })
    c2:RunInstances { RegionId = "cn-hangzhou", ImageId = "i", InstanceType = "t" }
    assert.equal(7, seen.timeout)
  end)
end)

describe("dry run", function()
  it("returns the signed request without sending it; the service's DryRun passes through", function()
    local svc = service()
    local req = assert(client(svc, { dry_run = true }):DescribeDisks { RegionId = "cn-hangzhou", DryRun = true })
    assert.equal(0, svc.attempts)
    assert.equal("POST", req.method)
    assert.matches("Signature=", req.url)
    local all = req.url .. "&" .. (req.body or "")
    assert.matches("DryRun=true", all)
    -- what a dry run returns is exactly what would be sent: the service accepts it
    local r = svc.send(req)
    assert.equal(200, r.status)
    local req2 = assert(client(svc):DescribeRegions({}, { dry_run = true }))
    assert.matches("Action=DescribeRegions", req2.url)
  end)
end)

describe("limits and warnings", function()
  it("warns once about a plain-HTTP endpoint that is not on loopback", function()
    local lines = {}
    local svc = service()
    local c = client(svc, { endpoint = "http://ecs.example.test", warn = function(l) lines[#lines + 1] = l end })
    assert(c:DescribeRegions {})
    assert(c:DescribeRegions {})
    assert.equal(1, #lines)
    assert.matches("plain HTTP", lines[1])
    local quiet = {}
    local c2 = client(svc, { endpoint = "http://127.0.0.1:9", warn = function(l) quiet[#quiet + 1] = l end })
    assert(c2:DescribeRegions {})
    assert.equal(0, #quiet)
  end)

  it("refuses JSON nested beyond the decoder's limit with a decode error", function()
    local svc = service { script = function() return 200, string.rep("[", 600) .. string.rep("]", 600) end }
    local _, err = client(svc):DescribeRegions {}
    assert.equal("decode", err.kind)
    assert.matches("deep", err.message)
  end)
end)

describe("secret hygiene", function()
  it("never shows the secret, the token or a signature in messages, debug lines or tostring", function()
    local lines = {}
    local outputs = {}
    local svc = service { token = TOKEN, script = throttle_first(1) }
    local signatures = {}
    local spy = function(req)
      signatures[#signatures + 1] = req.url:match("Signature=([^&]+)")
      return svc.send(req)
    end
    local c = client(svc, { security_token = TOKEN, transport = spy, debug = function(l) lines[#lines + 1] = l end })
    assert(c:CreateDisk { RegionId = "cn-hangzhou", ZoneId = "z", Size = 20 })
    local _, e1 = client(svc, { access_key_secret = "other" .. SECRET, security_token = TOKEN,
      debug = function(l) lines[#lines + 1] = l end }):DescribeRegions {}
    local _, e2 = c:DescribeRegions { Bogus = 1 }
    local v3 = client(svc, { access_key_id = "testid", access_key_secret = SECRET, security_token = TOKEN,
      signature_version = "v3", debug = function(l) lines[#lines + 1] = l end })
    assert(v3:DescribeRegions {})
    local _, e3 = v3:DescribeRegions({}, { credentials = { access_key_id = "x" } })
    for _, e in ipairs { e1, e2, e3 } do
      outputs[#outputs + 1] = tostring(e)
      outputs[#outputs + 1] = e.message
    end
    outputs[#outputs + 1] = tostring(c)
    local creds = require("aliyun.credentials.value").new { access_key_id = "testid", access_key_secret = SECRET,
      security_token = TOKEN }
    outputs[#outputs + 1] = tostring(creds)
    for _, l in ipairs(lines) do outputs[#outputs + 1] = l end
    assert.is_true(#lines >= 4)
    local needles = { SECRET, TOKEN, core.percent_encode(TOKEN), "other" .. SECRET }
    for _, sig in ipairs(signatures) do needles[#needles + 1] = sig end
    assert.is_true(#signatures >= 2)
    for _, out in ipairs(outputs) do
      for _, needle in ipairs(needles) do
        assert.is_nil(out:find(needle, 1, true), "secret found in: " .. out)
      end
    end
  end)

  it("writes one line per request and response when debug is on", function()
    local lines = {}
    local svc = service()
    assert(client(svc, { debug = function(l) lines[#lines + 1] = l end }):DescribeRegions {})
    assert.equal(2, #lines)
    assert.matches("^aliyun > DescribeRegions POST https://ecs.example.test/%?", lines[1])
    assert.matches("Signature=%*%*%*%*", lines[1])
    assert.matches("^aliyun < DescribeRegions HTTP 200 in [%d.]+ ms %(%d+ body bytes%)", lines[2])
  end)
end)

describe("batch without a batch-capable transport", function()
  it("returns results and errors in input order", function()
    local svc = service()
    local results = client(svc):batch({
      { "DescribeRegions", {} },
      { "DescribeDisks", { RegionId = "cn-hangzhou", Bogus = 1 } },
      { action = "DescribeZones", params = { RegionId = "cn-hangzhou" } },
    }, { concurrency = 2 })
    assert.equal(3, #results)
    assert.equal("r-1", results[1].RequestId)
    assert.is_true(aliyun.errors.is_error(results[2]))
    assert.equal("validation", results[2].kind)
    assert.equal("r-2", results[3].RequestId)
  end)
end)

describe("the CLI profile", function()
  it("gives its key and its region_id as the default region", function()
    local dir = io.popen("mktemp -d /tmp/aliyun-profile.XXXXXX"):read("l")
    local f = assert(io.open(dir .. "/config.json", "w"))
    f:write(json.encode { current = "work", profiles = {
      { name = "work", mode = "AK", access_key_id = "testid", access_key_secret = SECRET, region_id = "cn-shanghai" },
    } })
    f:close()
    os.execute("chmod 600 " .. dir .. "/config.json")
    local env = { ALIBABA_CLOUD_CONFIG_FILE = dir .. "/config.json" }
    local c = aliyun.ecs { getenv = function(k) return env[k] end, dry_run = true }
    local req = assert(c:DescribeRegions {})
    assert.matches("^https://ecs%.cn%-shanghai%.aliyuncs%.com/%?", req.url)
    assert.matches("AccessKeyId=testid", req.url)
    -- an explicit region wins over the profile's
    local req2 = assert(aliyun.ecs { getenv = function(k) return env[k] end, dry_run = true, region = "eu-central-1" }
      :DescribeRegions {})
    assert.matches("^https://ecs%.eu%-central%-1%.aliyuncs%.com/", req2.url)
    os.execute("rm -rf " .. dir)
  end)
end)

describe("per-action plans", function()
  it("are kept for calls without options and never hide a call's own options", function()
    local seen
    local c = aliyun.ecs { endpoint = "https://ecs.example.com", access_key_id = "id", access_key_secret = "k",
      method = "GET", timeout = 7,
      transport = function(req)
        seen = req
        return { status = 200, headers = {}, body = '{"RequestId":"r"}' }
      end }
    local function call(opts)
      assert(c:DescribeRegions({}, opts))
      return seen.method, seen.timeout
    end
    assert.are.same({ "GET", 7 }, { call() })
    assert.are.same({ "POST", 7 }, { call { method = "POST" } })
    assert.are.same({ "GET", 2 }, { call { timeout = 2 } })
    -- options the plan does not depend on leave the kept plan in use
    assert.are.same({ "GET", 7 }, { call { credentials = { access_key_id = "x", access_key_secret = "y" } } })
    assert.are.same({ "GET", 7 }, { call { max_retries = 0 } })
    local dry = assert(c:DescribeRegions({}, { dry_run = true }))
    assert.matches("^https://ecs%.example%.com/%?", dry.url)
    assert.are.same({ "GET", 7 }, { call() })
    -- a debug sink given for one call sees that call only
    local lines = {}
    assert(c:DescribeRegions({}, { debug = function(l) lines[#lines + 1] = l end }))
    local n = #lines
    assert.is_true(n > 0)
    call()
    assert.are.equal(n, #lines)
  end)
end)
