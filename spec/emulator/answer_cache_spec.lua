-- The answer cache (the emulator's answer_cache option, on in nginx): a Describe that allows
-- it is answered again from its kept text while the world has not changed, and afresh as
-- soon as a request, a timer, the clock or a reset may have changed it. In process here,
-- through the raw transport so that the texts themselves are compared.
local emulator = require "aliyun.emulator"
local core = require "aliyun.core"
local json = require "aliyun.json"

local URL = "http://127.0.0.1:1"

-- One signed V1 call as the nginx handler hands it to the emulator: the status and the text.
local function call(emu, action, params, pieces)
  local url = core.v1_sign_url("GET", URL, params or {}, "testsecret", action, "2014-05-26", "testid", nil, nil,
    math.floor(emu:now()))
  local resp = emu:handle { method = "GET", url = url, headers = { host = "127.0.0.1:1" }, pieces = pieces }
  local body = resp.body
  if type(body) == "table" then body = table.concat(body) end
  return resp.status, body, resp.headers["x-acs-request-id"]
end

local function describe_text(emu, params, pieces)
  local status, text, rid = call(emu, "DescribeInstances", params or { RegionId = "cn-hangzhou" }, pieces)
  assert.are.equal(200, status, text)
  return text, rid
end

-- The text without its RequestId (the only part that differs between two answers).
local function without_rid(text, rid)
  local head = '{"RequestId":"' .. rid .. '"'
  assert.are.equal(head, text:sub(1, #head))
  return text:sub(#head + 1)
end

local function first_instance(text)
  return json.decode(text).Instances.Instance[1]
end

describe("emulator answer cache", function()
  local t
  local function new(opts)
    t = 1.7e9
    opts = opts or {}
    opts.now = function() return t end
    if opts.answer_cache == nil then opts.answer_cache = true end
    return emulator.new(opts)
  end

  it("answers an unchanged world's Describe again, with a new RequestId, as a list of pieces or one text", function()
    local emu = new()
    local a, ra = describe_text(emu, nil, true)
    local b, rb = describe_text(emu, nil, true)
    local c, rc = describe_text(emu)
    assert.are_not.equal(ra, rb)
    assert.are_not.equal(rb, rc)
    assert.are.equal(without_rid(a, ra), without_rid(b, rb))
    assert.are.equal(without_rid(a, ra), without_rid(c, rc))
    -- the same answers, RequestIds included, as an emulator without the cache gives
    local plain = new { answer_cache = false }
    for _, want in ipairs { a, b, c } do assert.are.equal(want, (describe_text(plain))) end
  end)

  it("keeps it only until the world may have changed: another action, a timer, the clock, a reset", function()
    local emu = new()
    local before = first_instance(describe_text(emu))
    assert.are.equal("Running", before.Status)
    local status, text = call(emu, "StopInstance", { InstanceId = before.InstanceId })
    assert.are.equal(200, status, text)
    assert.are.equal("Stopping", first_instance(describe_text(emu)).Status)
    t = t + 60 -- the stop's timer fires at the next request
    assert.are.equal("Stopped", first_instance(describe_text(emu)).Status)
    status, text = call(emu, "ModifyInstanceAttribute", { InstanceId = before.InstanceId, InstanceName = "renamed" })
    assert.are.equal(200, status, text)
    assert.are.equal("renamed", first_instance(describe_text(emu)).InstanceName)
    emu:reset()
    local after = first_instance(describe_text(emu))
    assert.are.same({ "Running", before.InstanceName }, { after.Status, after.InstanceName })
  end)

  it("keeps an answer per set of parameters, and none that drew a NextToken", function()
    local emu = new()
    local all = json.decode(describe_text(emu)).Instances.Instance
    local one = json.decode(describe_text(emu, { RegionId = "cn-hangzhou", InstanceIds = json.encode { all[2].InstanceId } }))
    assert.are.same({ all[2].InstanceId }, { one.Instances.Instance[1].InstanceId })
    assert.are.equal(#all, #json.decode(describe_text(emu)).Instances.Instance)
    -- a NextToken is drawn per answer (each one a new token), never kept
    local p1 = json.decode(describe_text(emu, { RegionId = "cn-hangzhou", MaxResults = "1" }))
    local p2 = json.decode(describe_text(emu, { RegionId = "cn-hangzhou", MaxResults = "1" }))
    assert.are_not.equal("", p1.NextToken)
    assert.are_not.equal(p1.NextToken, p2.NextToken)
  end)

  it("is off by default: code in the process may edit the world directly", function()
    local emu = new { answer_cache = false }
    local world = emu:world(emu:account_of("testid"))
    local id = first_instance(describe_text(emu)).InstanceId
    world.colls.instance:get(id).InstanceName = "edited"
    assert.are.equal("edited", first_instance(describe_text(emu)).InstanceName)
    -- with the cache, such an edit goes unseen (the documented limit of the option) ...
    emu = new()
    world = emu:world(emu:account_of("testid"))
    describe_text(emu)
    world.colls.instance:get(id).InstanceName = "edited"
    assert.are_not.equal("edited", first_instance(describe_text(emu)).InstanceName)
  end)

  it("in strict mode answers afresh, and refuses a kept answer that differs from the fresh one", function()
    local emu = new { strict = true }
    local world = emu:world(emu:account_of("testid"))
    local id = first_instance(describe_text(emu)).InstanceId
    assert.are.equal(200, (call(emu, "DescribeInstances", { RegionId = "cn-hangzhou" })))
    world.colls.instance:get(id).InstanceName = "edited"
    local status, text = call(emu, "DescribeInstances", { RegionId = "cn-hangzhou" })
    assert.are.equal(500, status)
    assert.matches("the kept answer of DescribeInstances differs from a fresh one", json.decode(text).Message, 1, true)
  end)
end)
