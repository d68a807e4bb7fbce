-- The emulator's nonce store under a long run, in process: 40,000 signed requests through
-- the verifier while its clock moves 0.25 s per request (10,000 s, more than five
-- 30-minute windows). A nonce reused within 30 minutes of its first use is refused; what
-- the store holds stays bounded by two windows' worth of requests, whatever came before.
local auth = require "aliyun.emulator.auth"
local core = require "aliyun.core"
local nonces = require "aliyun.emulator.nonces"

local WINDOW = 30 * 60
local STEP = 0.25
local TOTAL = 40000

local function request(nonce, t)
  local url = core.v1_sign_url("GET", "", { RegionId = "cn-hangzhou" }, "testsecret", "DescribeRegions",
    "2014-05-26", "testid", nil, nonce, math.floor(t))
  return { method = "GET", path = "/", query_string = url:match("%?(.*)$"), headers = {} }
end

describe("emulator nonce store", function()
  it("refuses a nonce reused within the window and holds at most two windows of nonces", function()
    local t = 1.7e9
    local v = auth.new { keys = { testid = { secret = "testsecret" } }, crypto = core, now = function() return t end }
    local first_use = {} -- i -> the time nonce i was first accepted
    local most = 0
    local refused, accepted_again = 0, 0
    for i = 1, TOTAL do
      t = t + STEP
      local res, err = v:verify(request("n-" .. i, t))
      assert(res, err and err.code)
      first_use[i] = t
      -- every 1,000 requests: a nonce from just inside the window is refused, one from just
      -- past it is accepted again (each in a newly signed request with a current timestamp)
      if i % 1000 == 0 then
        local inside = i - math.floor(WINDOW / STEP) -- first used exactly WINDOW seconds ago
        if inside >= 1 then
          assert.are.equal(WINDOW, t - first_use[inside])
          local _, e = v:verify(request("n-" .. inside, t))
          assert.are.equal("SignatureNonceUsed", e and e.code)
          refused = refused + 1
        end
        local past = inside - 1 -- WINDOW + STEP seconds ago
        if past >= 1 then
          assert(v:verify(request("n-" .. past, t)))
          accepted_again = accepted_again + 1
        end
        -- and the nonce just used, of course
        local _, e = v:verify(request("n-" .. i, t))
        assert.are.equal("SignatureNonceUsed", e and e.code)
      end
      local held = v:nonces_held()
      if held > most then most = held end
    end
    assert.is_true(refused >= 30)
    assert.is_true(accepted_again >= 30)
    -- two windows at 4 requests a second, plus the nonces accepted again
    local bound = 2 * WINDOW / STEP + accepted_again
    assert.is_true(most <= bound, "held " .. most .. " > " .. bound)
    assert.is_true(most < TOTAL / 2, "held " .. most)
    -- the old generations were dropped: fewer than two windows' worth at the end
    assert.is_true(v:nonces_held() <= bound)
  end)

  it("forgets everything after two quiet windows and keeps a reused nonce refused across a turn", function()
    local s = nonces.new(100)
    assert.is_true(s:use("a", 0))
    assert.is_false(s:use("a", 99))
    assert.is_true(s:use("b", 150)) -- a new generation from 150; "a" is in the previous one
    assert.is_false(s:use("a", 100)) -- clock set back: still within the window of "a"
    assert.are.equal(2, s:count())
    assert.is_true(s:use("a", 101)) -- more than 100 s after its first use
    assert.is_true(s:use("c", 400)) -- two windows after the last turn: both generations dropped
    assert.are.equal(1, s:count())
    assert.is_true(s:use("b", 401))
    assert.is_false(s:use("c", 500))
  end)
end)
