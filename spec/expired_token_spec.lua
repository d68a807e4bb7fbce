-- Temporary credentials the service calls expired: the client makes its provider fetch new
-- ones and sends the call once more (InvalidSecurityToken.Expired and the service's other
-- expired-token codes); credentials past their Expiration are never sent at all. The
-- service is the in-process emulator, whose STS keys expire at a time on its clock; the
-- credentials come from the library's credentials-URI provider, whose URI is served by a
-- Lua function that hands out the keys in turn.
local aliyun = require "aliyun"
local emulator = require "aliyun.emulator"
local errors = require "aliyun.errors"
local json = require "aliyun.json"

local function iso(epoch)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(epoch))
end

-- A world: the emulator with STS keys k1, k2, k3 (w.emu.keys[id].expiration ends one), a
-- spy on what reaches it, and a credentials URI that answers key `order[n]` at its n-th
-- fetch, with the Expiration o.claim(n, emulator's now) (an hour ahead by default).
local function world(o)
  local keys = {}
  for i = 1, 3 do keys["STS.k" .. i] = { secret = "secret-" .. i, security_token = "token-" .. i } end
  local emu = emulator.new { keys = keys }
  local t = emulator.transport(emu)
  local w = { emu = emu, sent = {}, fetches = 0 }
  w.send = function(request)
    w.sent[#w.sent + 1] = request
    return t.send(request)
  end
  w.creds = function(request)
    assert.are.equal("http://creds.test/creds", request.url)
    w.fetches = w.fetches + 1
    local i = o.order[math.min(w.fetches, #o.order)]
    local expiration = o.claim and o.claim(w.fetches, emu:now()) or (emu:now() + 3600)
    return { status = 200, headers = {}, body = json.encode { Code = "Success", AccessKeyId = "STS.k" .. i,
      AccessKeySecret = "secret-" .. i, SecurityToken = "token-" .. i, Expiration = iso(expiration) } }
  end
  w.client = function(extra)
    local opts = { endpoint = "http://127.0.0.1", transport = w.send, getenv = function() return nil end,
      credentials_uri = "http://creds.test/creds", credentials_transport = w.creds,
      credentials_now = function() return emu:now() end, sleep = function() end }
    for k, v in pairs(extra or {}) do opts[k] = v end
    return aliyun.ecs(opts)
  end
  return w
end

describe("an expired STS token", function()
  it("makes the provider fetch new credentials and the call go once more", function()
    local w = world { order = { 1, 2 } }
    w.emu.keys["STS.k1"].expiration = w.emu:now() + 100
    local ecs = w.client()
    assert(ecs:DescribeRegions {})
    assert.are.equal(1, w.fetches)
    -- the service ends the token before the provider expected (its Expiration says an hour)
    w.emu:advance(200)
    local res, err = ecs:DescribeRegions {}
    assert(res, tostring(err))
    assert.are.equal(2, w.fetches)
    assert.are.equal(3, #w.sent)
    assert.truthy(w.sent[2].url:find("SecurityToken=token-1", 1, true))
    assert.truthy(w.sent[3].url:find("SecurityToken=token-2", 1, true))
    -- and the new credentials stay: the next call fetches nothing
    assert(ecs:DescribeRegions {})
    assert.are.equal(2, w.fetches)
  end)

  it("is tried once more only: a second refusal is the call's error", function()
    local w = world { order = { 1, 2 } }
    w.emu.keys["STS.k1"].expiration = w.emu:now() - 1
    w.emu.keys["STS.k2"].expiration = w.emu:now() - 1
    local res, err = w.client():DescribeRegions {}
    assert.is_nil(res)
    assert.are.equal("InvalidSecurityToken.Expired", err.code)
    assert.are.equal(2, #w.sent)
    assert.are.equal(2, w.fetches)
  end)

  it("does the same for every call of a batch and for V3", function()
    local w = world { order = { 1, 2 } }
    w.emu.keys["STS.k1"].expiration = w.emu:now() - 1
    local results = w.client():batch { { "DescribeRegions", {} }, { "DescribeZones", { RegionId = "cn-hangzhou" } } }
    assert.is_false(errors.is_error(results[1]), tostring(results[1]))
    assert.is_false(errors.is_error(results[2]), tostring(results[2]))
    assert.are.equal(2, w.fetches)
    local w3 = world { order = { 1, 2 } }
    w3.emu.keys["STS.k1"].expiration = w3.emu:now() - 1
    assert(w3.client { signature_version = "v3" }:DescribeRegions {})
    assert.are.equal("token-2", w3.sent[2].headers["x-acs-security-token"])
  end)

  it("with credentials that cannot be refreshed (given in the options) is the call's error at once", function()
    local w = world { order = { 1 } }
    w.emu.keys["STS.k1"].expiration = w.emu:now() - 1
    local ecs = w.client { access_key_id = "STS.k1", access_key_secret = "secret-1", security_token = "token-1" }
    local res, err = ecs:DescribeRegions {}
    assert.is_nil(res)
    assert.are.equal("InvalidSecurityToken.Expired", err.code)
    assert.are.equal(1, #w.sent)
    assert.are.equal(0, w.fetches)
  end)

  it("is recognised by the service's codes for it", function()
    for _, code in ipairs { "InvalidSecurityToken.Expired", "SecurityTokenExpired" } do
      assert.is_true(errors.is_expired_token(errors.new { kind = "service", code = code, status = 400 }))
    end
    assert.is_false(errors.is_expired_token(errors.new { kind = "service", code = "InvalidSecurityToken.Mismatch" }))
    assert.is_false(errors.is_expired_token(errors.new { kind = "credentials", message = "x" }))
  end)
end)

describe("credentials past their Expiration", function()
  it("are never sent: the call fails naming the source, and the service sees nothing", function()
    local past = world { order = { 1 }, claim = function(_, now) return now - 30 end }
    local res, err = past.client():DescribeRegions {}
    assert.is_nil(res)
    assert.are.equal("credentials", err.kind)
    assert.matches("credentials URI http://creds.test/creds", err.message)
    assert.matches("expired at", err.message)
    assert.is_nil(err.message:find("\n", 1, true))
    assert.are.equal(0, #past.sent)
    assert.is_nil(tostring(err):find("secret-1", 1, true))
    assert.is_nil(tostring(err):find("token-1", 1, true))
  end)

  it("are fetched anew at their Expiration, never sent again", function()
    -- the provider's clock, apart from the emulator's; each fetch says "50 s from now"
    local clock = { t = 1000 }
    local w = world { order = { 1, 2 }, claim = function() return clock.t + 50 end }
    local ecs = w.client { credentials_now = function() return clock.t end, credentials_margin = 0 }
    assert(ecs:DescribeRegions {})
    clock.t = 1049 -- still good: no fetch
    assert(ecs:DescribeRegions {})
    assert.are.equal(1, w.fetches)
    clock.t = 1051 -- past the first Expiration: fetched again, never sent with the old token
    assert(ecs:DescribeRegions {})
    assert.are.equal(2, w.fetches)
    assert.truthy(w.sent[3].url:find("SecurityToken=token-2", 1, true))
  end)
end)
