-- Client and call options checked against the options the library knows: an unknown one
-- names itself and the nearest, a bad value says what was expected, and nothing is sent.
-- The wire client's transport records what would have gone out.
local aliyun = require "aliyun"
local wire = require "support.wire"

local function client_error(opts)
  local ok, err = pcall(aliyun.ecs, opts)
  assert.is_false(ok, "the client was made")
  return tostring(err)
end

local function has(text, ...)
  for i = 1, select("#", ...) do
    local want = select(i, ...)
    assert(text:find(want, 1, true), "'" .. text .. "' lacks '" .. want .. "'")
  end
end

describe("client options", function()
  it("refuse an unknown name, naming it and the nearest", function()
    has(client_error { endpiont = "http://127.0.0.1:8080" }, "unknown option 'endpiont'", "did you mean endpoint?")
    has(client_error { debgu = true }, "unknown option 'debgu'", "did you mean debug?")
    has(client_error { dryrun = true }, "unknown option 'dryrun'", "dry_run")
    has(client_error { ["dry-run"] = true }, "dry_run")
    has(client_error { AccessKeyId = "x" }, "unknown option 'AccessKeyId'", "access_key_id")
    has(client_error { [1] = "x" }, "unknown option 1")
    has(client_error { credentials = { access_key_id = "a", access_key_secret = "b" } },
      "credentials is an option of a call")
  end)

  it("refuse a bad value, saying what was expected", function()
    has(client_error { timeout = -1 }, "option timeout must be a number of seconds", "got -1")
    has(client_error { timeout = 0 / 0 }, "option timeout", "got " .. tostring(0 / 0))
    has(client_error { connect_timeout = "5" }, "option connect_timeout", 'got "5"')
    has(client_error { signature_version = "v9" }, 'signature_version must be "v1" or "v3", got "v9"')
    has(client_error { method = "PUT" }, 'method must be "GET" or "POST"')
    has(client_error { access_key_id = 42, access_key_secret = "s" }, "access_key_id must be a non-empty string, got 42")
    has(client_error { security_token = true }, "security_token must be a non-empty string")
    has(client_error { endpoint = "ftp://x" }, "option endpoint must be an http(s) URL")
    has(client_error { endpoint_type = "private" }, 'endpoint_type must be "public" or "vpc"')
    has(client_error { max_retries = 1.5 }, "max_retries must be a whole number")
    has(client_error { retry = { base_dela = 1 } }, "retry: unknown field 'base_dela'", "did you mean base_delay?")
    has(client_error { retry = { max_delay = -1 } }, "retry.max_delay must be a number of seconds >= 0, got -1")
    has(client_error { transport = "curl" }, "transport must be a function")
    has(client_error { version = "2014" }, "YYYY-MM-DD")
    has(client_error { dry_run = "yes" }, "dry_run must be true or false")
  end)

  it("never show a secret given with the wrong type", function()
    local msg = client_error { access_key_id = "id", access_key_secret = 123456789 }
    has(msg, "access_key_secret must be a non-empty string, got a number")
    assert.is_nil(msg:find("123456789", 1, true))
  end)

  it("take every option the README lists", function()
    local c = aliyun.ecs {
      endpoint = "http://127.0.0.1:1", region = "cn-hangzhou", endpoint_type = "vpc", access_key_id = "a",
      access_key_secret = "b", security_token = "t", signature_version = "v3", method = "GET", timeout = 2.5,
      connect_timeout = 1, max_retries = 0, retry = { base_delay = 0.1, max_delay = 1 }, dry_run = false,
      debug = false, verify_tls = true, ca_file = "/etc/ssl/certs/ca-certificates.crt", proxy = "http://127.0.0.1:3128",
      no_proxy = "localhost", transport = function() end, validate = true, version = "2014-05-26",
      profile = "default", credentials_shared_dict = "creds",
    }
    assert.is_table(c)
  end)
end)

describe("call options", function()
  local c, last

  before_each(function()
    c, last = wire.client("ecs")
  end)

  local function refused(call_opts, ...)
    local res, err = c:DescribeDisks({ RegionId = "cn-hangzhou" }, call_opts)
    assert.is_nil(res)
    assert.are.equal("validation", err.kind)
    assert.are.equal("DescribeDisks", err.action)
    has(err.message, ...)
    assert.is_nil(last(), "nothing is sent")
    return err
  end

  it("refuse an unknown name, naming it and the nearest; nothing is sent", function()
    local err = refused({ dryrun = true }, "unknown call option 'dryrun'", "did you mean dry_run?")
    assert.are.equal("dryrun", err.details.option)
    refused({ timout = 5 }, "unknown call option 'timout'", "did you mean timeout?")
    refused({ endpoint = "http://127.0.0.1:2" }, "endpoint is an option of the client, not of a call")
    refused({ credentials = { access_key = "a" } }, "credentials: unknown field 'access_key'", "access_key_id")
  end)

  it("refuse a bad value before the C core sees it", function()
    refused({ timeout = -1 }, "call option timeout must be a number of seconds", "got -1")
    refused({ timeout = 0 / 0 }, "call option timeout")
    refused({ connect_timeout = 1e9 }, "at most 86400")
    refused({ signature_version = "v9" }, 'signature_version must be "v1" or "v3", got "v9"')
    refused({ credentials = { access_key_id = "a", access_key_secret = "b", security_token = true } },
      "credentials.security_token must be a non-empty string, got a boolean")
    refused({ credentials = { access_key_id = 42, access_key_secret = "b" } },
      "credentials.access_key_id must be a non-empty string, got a number")
    refused({ max_retries = -1 }, "max_retries must be a whole number from 0 to 10")
    refused({ max_retries = math.huge }, "max_retries must be a whole number from 0 to 10")
    refused({ max_retries = 11 }, "max_retries must be a whole number from 0 to 10")
    refused({ deadline = 0 }, "deadline must be a number of seconds for the whole call, more than 0")
    refused({ debug = "yes" }, "debug must be true, false or a function")
  end)

  it("still take the good ones", function()
    local res = assert(c:DescribeDisks({ RegionId = "cn-hangzhou" }, { dry_run = true }))
    assert.is_string(res.url)
    assert.is_nil(last())
    assert(c:DescribeDisks({ RegionId = "cn-hangzhou" }, { timeout = 3, validate = true, max_retries = 0,
      credentials = { access_key_id = "testid", access_key_secret = "testsecret" } }))
    assert.is_table(last())
  end)

  it("are checked the same in batch, pages and each", function()
    local results = c:batch({
      { "DescribeDisks", { RegionId = "cn-hangzhou" }, { dryrun = true } },
      { "DescribeDisks", { RegionId = "cn-hangzhou" }, { timeout = -1 } },
    })
    has(results[1].message, "did you mean dry_run?")
    has(results[2].message, "call option timeout")
    assert.is_nil(last())
    results = c:batch({ { "DescribeDisks", { RegionId = "cn-hangzhou" } } }, { concurency = 2 })
    has(results[1].message, "unknown call option 'concurency'", "did you mean concurrency?")
    assert.is_nil(last())

    local it_pages = c:pages("DescribeDisks", { RegionId = "cn-hangzhou" }, { itmes = "Disks.Disk" })
    local page, err = it_pages()
    assert.is_false(page)
    has(err.message, "unknown call option 'itmes'", "did you mean items?")
    assert.is_nil(it_pages())
    for item, e in c:each("DescribeDisks", { RegionId = "cn-hangzhou" }, { dryrun = true }) do
      assert.is_false(item)
      has(e.message, "did you mean dry_run?")
    end
    assert.is_nil(last())
  end)
end)

describe("wait options", function()
  it("refuse an unknown name, naming the nearest, before any call", function()
    local c, last = wire.client("ecs")
    local ok, err = pcall(c.wait, c, "DescribeRegions", {}, function() return true end, { timout = 5 })
    assert.is_false(ok)
    has(tostring(err), "wait: unknown option 'timout'", "did you mean timeout?")
    assert.is_nil(last())
    -- the calls' own options are checked by the call
    local res, cerr = c:wait("DescribeRegions", {}, function() return true end, { call = { dryrun = true } })
    assert.is_nil(res)
    has(cerr.message, "did you mean dry_run?")
    assert.is_nil(last())
  end)
end)

describe("credentials from a provider of the caller's own", function()
  it("are checked before signing: a wrong type is a credentials error, not a C bad argument", function()
    for _, creds in ipairs {
      { access_key_id = 42, access_key_secret = "s" },
      { access_key_id = "a", access_key_secret = "s", security_token = true },
      { access_key_id = "", access_key_secret = "s" },
    } do
      local sent = 0
      local c = aliyun.ecs { endpoint = "http://127.0.0.1:1",
        transport = function() sent = sent + 1 return { status = 200, headers = {}, body = "{}" } end,
        credentials_provider = { name = "mine", get = function() return creds end } }
      local res, err = c:DescribeDisks { RegionId = "cn-hangzhou" }
      assert.is_nil(res)
      assert.are.equal("credentials", err.kind)
      has(err.message, "mine gave a")
      assert.are.equal(0, sent)
    end
  end)
end)
