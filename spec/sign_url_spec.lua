-- core.v1_sign_url: a whole V1 URL in one call, held to core.v1_sign (which the signature
-- vectors check) on the same parameters, and core.nonce's reserve of random bytes.
local core = require "aliyun.core"
local signer = require "aliyun.signer"

local COMMON = { "AccessKeyId", "Action", "Format", "SecurityToken", "SignatureMethod", "SignatureNonce",
  "SignatureVersion", "Timestamp", "Version" }

-- What v1_sign_url must sign: the query without the common names, plus the common values.
-- In the URL the nonce pair comes last, behind the signature (see sign.c: nonce_after).
local function reference(method, base, query, secret, action, version, id, token, nonce, epoch)
  local full = {}
  for k, v in pairs(query or {}) do full[k] = v end
  for _, k in ipairs(COMMON) do full[k] = nil end
  full.Action, full.Version, full.Format, full.AccessKeyId = action, version, "JSON", id
  full.SignatureMethod, full.SignatureVersion, full.SignatureNonce = "HMAC-SHA1", "1.0", nonce
  full.Timestamp, full.SecurityToken = core.timestamp(epoch), token
  local sig, sts, cq = core.v1_sign(method, full, secret)
  local pair = "SignatureNonce=" .. core.percent_encode(nonce)
  local rest = cq:gsub("&" .. pair:gsub("%p", "%%%0"), "", 1)
  return base .. "/?" .. rest .. "&Signature=" .. core.percent_encode(sig) .. "&" .. pair, sts
end

local CHARS = { "a", "Z", "0", "-", "_", ".", "~", " ", "&", "=", "+", "*", "%", "/", "?", "é", "阿", "\0", "\n" }

local function random_string(max)
  local t = {}
  for i = 1, math.random(0, max) do t[i] = CHARS[math.random(#CHARS)] end
  return table.concat(t)
end

describe("core.v1_sign_url #core", function()
  it("gives the URL and string to sign that v1_sign gives for the same parameters", function()
    math.randomseed(7)
    for round = 1, 300 do
      local query = {}
      for _ = 1, math.random(0, 30) do query["P" .. random_string(6)] = random_string(40) end
      -- a common name in the query loses to the common value
      if round % 5 == 0 then query.Format, query.Timestamp = "XML", "yesterday" end
      local method = round % 2 == 0 and "GET" or "POST"
      local token = round % 3 == 0 and ("token/" .. random_string(20)) or nil
      local base = round % 4 == 0 and "https://ecs.aliyuncs.com" or "http://127.0.0.1:8080"
      local secret = "s" .. random_string(30)
      -- a caller's nonce may need encoding too
      local nonce = round % 7 == 0 and ("n" .. random_string(12) .. round) or string.format("%032x", round)
      local epoch = 1700000000 + round * 3607
      local url, sts = core.v1_sign_url(method, base, query, secret, "DescribeThings", "2014-05-26", "id" .. round,
        token, nonce, epoch)
      local want_url, want_sts = reference(method, base, query, secret, "DescribeThings", "2014-05-26", "id" .. round,
        token, nonce, epoch)
      assert.are.equal(want_sts, sts, "round " .. round)
      assert.are.equal(want_url, url, "round " .. round)
      -- the string to sign made again from the URL, as the client does when a call failed
      assert.are.equal(sts, signer.v1_string_to_sign_of(method, url), "round " .. round)
      assert.are.equal(url, (core.v1_sign_url(method, base, query, secret, "DescribeThings", "2014-05-26",
        "id" .. round, token, nonce, epoch, false)))
    end
  end)

  it("matches the documented DescribeRegions signature with Format=JSON's own result", function()
    -- the seed's sample, moved to Format=JSON: checked through v1_sign, which the vectors pin
    local url = core.v1_sign_url("GET", "https://ecs.aliyuncs.com", {}, "testsecret", "DescribeRegions",
      "2014-05-26", "testid", nil, "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", 1456231584)
    assert.matches("^https://ecs%.aliyuncs%.com/%?AccessKeyId=testid&Action=DescribeRegions&Format=JSON&", url)
    assert.matches("&Timestamp=2016%-02%-23T12%%3A46%%3A24Z&Version=2014%-05%-26&Signature=[%w%%]+"
      .. "&SignatureNonce=3ee8c1b8%-83d3%-44af%-a94f%-4e0ad82fd6cf$", url)
    assert.are.equal(url, (reference("GET", "https://ecs.aliyuncs.com", {}, "testsecret", "DescribeRegions",
      "2014-05-26", "testid", nil, "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", 1456231584)))
  end)

  it("makes a fresh nonce and takes the time of now when none are given", function()
    local seen = {}
    for _ = 1, 100 do
      local url = core.v1_sign_url("GET", "http://h", nil, "k", "A", "v", "id")
      local nonce = url:match("SignatureNonce=(%x+)$")
      assert.are.equal(32, #nonce)
      assert.is_nil(seen[nonce])
      seen[nonce] = true
      local ts = url:match("Timestamp=([^&]+)"):gsub("%%3A", ":")
      local now = math.floor(core.time())
      assert.is_true(ts == core.timestamp(now) or ts == core.timestamp(now - 1), ts)
    end
  end)

  it("refuses what v1_sign refuses, naming the parameter but never a value", function()
    assert.has_error(function() core.v1_sign_url("get", "http://h", {}, "k", "A", "v", "id") end)
    local ok, err = pcall(core.v1_sign_url, "GET", "http://h", { Size = 5 }, "k", "A", "v", "id")
    assert.is_false(ok)
    assert.matches("Size", err)
    ok, err = pcall(core.v1_sign_url, "GET", "http://h", { [1] = "secret-value" }, "k", "A", "v", "id")
    assert.is_false(ok)
    assert.is_nil(err:find("secret-value", 1, true))
    assert.has_error(function() core.v1_sign_url("GET", "http://h", {}, "k", "A", "v", "id", nil, nil, -1) end)
  end)
end)

describe("core.nonce #core", function()
  it("gives 32 hex characters, never the same twice, across many refills of its reserve", function()
    local seen, n = {}, 0
    for _ = 1, 5000 do
      local v = core.nonce()
      assert.matches("^%x+$", v)
      assert.are.equal(32, #v)
      if not seen[v] then n = n + 1 end
      seen[v] = true
    end
    assert.are.equal(5000, n)
  end)
end)
