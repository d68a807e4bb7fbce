-- The control endpoint in process (emu:handle): the same checks as over HTTP
-- (spec/integration/emulator_control_spec.lua), with the Host taken from the URL when the
-- request has no Host header, and no port to match (an emulator in process listens on none).
local emulator = require "aliyun.emulator"
local json = require "aliyun.json"

describe("emulator control endpoint in process", function()
  local emu

  before_each(function()
    emu = emulator.new { seed = 1, now = function() return 1.7e9 end }
  end)

  local function ctl(method, url, body, headers)
    local resp = emu:handle { method = method, url = url, body = body,
      headers = headers or { ["Content-Type"] = "application/json" } }
    return resp.status, json.decode(resp.body)
  end

  it("answers a malformed reset with 400 naming the field and keeps the world as it was", function()
    emu:advance(50)
    assert(emu:inject("DescribeZones", { type = "throttling", always = true }))
    local ids = emu.ids
    local status, body = ctl("POST", "http://127.0.0.1/_emulator/reset", '{"Delays":5}')
    assert.are.equal(400, status)
    assert.matches("Delays", body.Message)
    assert.are.equal(1.7e9 + 50, emu:now())
    assert.are.equal(1, #emu.faults:list())
    assert.are.equal(ids, emu.ids)
    status = ctl("POST", "http://127.0.0.1/_emulator/reset", '{"Seed":3,"Delays":{"disk_create":0}}')
    assert.are.equal(200, status)
    assert.are.equal(1.7e9, emu:now())
    assert.are.equal(0, #emu.faults:list())
    assert.are.equal(0, emu.delays.disk_create)
  end)

  it("refuses mutating requests without a JSON content type, and any request to another host", function()
    local status, body = ctl("POST", "http://127.0.0.1/_emulator/clock", '{"Advance":5}', {})
    assert.are.equal(403, status)
    assert.matches("Content%-Type", body.Message)
    status = ctl("DELETE", "http://127.0.0.1/_emulator/faults", nil, { ["content-type"] = "text/plain" })
    assert.are.equal(403, status)
    assert.are.equal(1.7e9, emu:now())
    status, body = ctl("GET", "http://emulator.example/_emulator/health")
    assert.are.equal(403, status)
    assert.matches("loopback", body.Message)
    -- the Host header, when there is one, is what counts
    status = ctl("GET", "http://127.0.0.1/_emulator/health", nil, { host = "rebound.example:80" })
    assert.are.equal(403, status)
    for _, url in ipairs { "http://127.0.0.1/_emulator/health", "http://localhost:8080/_emulator/health",
      "http://[::1]:1/_emulator/health" } do
      assert.are.equal(200, (ctl("GET", url)), url)
    end
    assert.are.equal(200, (ctl("POST", "http://localhost/_emulator/clock", '{"advance":5}')))
    assert.are.equal(1.7e9 + 5, emu:now())
  end)
end)
