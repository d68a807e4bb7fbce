-- The OpenResty gateway example (examples/openresty) in real nginx against the emulator,
-- itself served by nginx: answers, timeouts, TLS verification, per-call credentials under
-- concurrency, and a bounded load run with wrk.
local core = require "aliyun.core"
local json = require "aliyun.json"
local server = require "aliyun.emulator.server"

local KEYS = {
  testid = { secret = "testsecret" },
  tenant1 = { secret = "secret-one" },
  tenant2 = { secret = "secret-two" },
}

local start_gateway = require("support.gateway").start

local function get(session, url, headers)
  local r, err = session:request { url = url, headers = headers, timeout = 20 }
  assert(r, err)
  return r.status, json.decode(r.body) or r.body
end

describe("the OpenResty gateway example #integration", function()
  local emu, gw, tls_gw, wrong_gw, s, other_cert

  setup(function()
    emu = assert(server.start { tls = true, keys = KEYS })
    other_cert = emu.prefix .. "/other.crt"
    assert(os.execute("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 -addext "
      .. "subjectAltName=IP:127.0.0.1 -keyout " .. emu.prefix .. "/other.key -out " .. other_cert .. " 2>/dev/null"))
    gw = start_gateway(emu.url, emu.cert)
    tls_gw = start_gateway(emu.tls_url, emu.cert)
    wrong_gw = start_gateway(emu.tls_url, other_cert)
    s = core.session {}
  end)

  teardown(function()
    if s then s:close() end
    for _, x in ipairs { gw, tls_gw, wrong_gw, emu } do if x then x.stop() end end
  end)

  local function control(body)
    local r = assert(s:request { method = "POST", url = emu.url .. "/_emulator/faults", body = body,
      headers = { ["Content-Type"] = "application/json" } })
    assert.equal(200, r.status, r.body)
  end

  it("answers /status from DescribeInstances with environment credentials captured at init", function()
    local status, body = get(s, gw.url .. "/status?region=cn-hangzhou")
    assert.equal(200, status, json.encode(body))
    assert.equal("cn-hangzhou", body.region)
    assert.is_true(#body.instances > 0)
    assert.equal("Running", body.instances[1].status)
  end)

  it("answers /schedule from RunServiceSchedule for the caller's IP", function()
    local status, body = get(s, gw.url .. "/schedule?uuid=device-1")
    assert.equal(200, status, json.encode(body))
    assert.equal("127.0.0.1", body.client_ip)
    assert.is_string(body.instance_id)
    status, body = get(s, gw.url .. "/schedule")
    assert.equal(400, status)
    assert.equal("validation", body.error)
  end)

  it("turns a slow API into a 504 with kind timeout", function()
    control('{"Action": "DescribeInstances", "Type": "latency", "Seconds": 4, "Count": 2}')
    local status, body = get(s, gw.url .. "/status?region=cn-hangzhou")
    assert.equal(504, status, json.encode(body))
    assert.equal("timeout", body.error)
    s:request { method = "DELETE", url = emu.url .. "/_emulator/faults", headers = { ["Content-Type"] = "application/json" } }
  end)

  it("verifies TLS: the right CA works, the wrong one fails the handshake", function()
    local status, body = get(s, tls_gw.url .. "/status?region=cn-hangzhou")
    assert.equal(200, status, json.encode(body) .. tls_gw.log())
    status, body = get(s, wrong_gw.url .. "/status?region=cn-hangzhou")
    assert.equal(502, status, json.encode(body) .. wrong_gw.log())
    assert.equal("network", body.error)
    assert.matches("TLS handshake", body.message, nil, nil, wrong_gw.log())
  end)

  it("signs concurrent calls with each tenant's own key", function()
    local reqs, want = {}, {}
    local tenants = {
      { "tenant1", "secret-one", 200 }, { "tenant2", "secret-two", 200 },
      { "tenant1", "secret-two", 502 }, { "unknown", "x", 502 },
    }
    for i = 1, 80 do
      local t = tenants[(i % #tenants) + 1]
      reqs[i] = { url = gw.url .. "/status?region=cn-hangzhou",
        headers = { ["X-Tenant-Key-Id"] = t[1], ["X-Tenant-Key-Secret"] = t[2] } }
      want[i] = t
    end
    local results = s:batch(reqs, 40)
    for i, r in ipairs(results) do
      assert.equal(want[i][3], r.status, r.body)
      if r.status == 502 then
        local code = json.decode(r.body).code
        assert.equal(want[i][1] == "unknown" and "InvalidAccessKeyId.NotFound" or "SignatureDoesNotMatch", code)
      end
    end
  end)

  it("serves a bounded wrk run on loopback with zero errors", function()
    -- wrk watches sockets in a table sized for its own connections: descriptors it inherits
    -- from this process (libcurl keeps a socket pair per handle without close-on-exec)
    -- push its sockets past that table, which it counts as connect errors. It starts
    -- with only stdin, stdout and stderr.
    local p = assert(io.popen("bash -c 'for fd in /proc/$$/fd/*; do n=${fd##*/}; "
      .. "if [ \"$n\" -gt 2 ]; then eval \"exec $n>&-\"; fi; done; "
      .. "exec wrk -t2 -c50 -d5s --timeout 10s " .. gw.url .. "/status?region=cn-hangzhou' 2>&1"))
    local out = p:read("a")
    p:close()
    assert.matches("Requests/sec:%s+[%d.]+", out, nil, nil, out)
    assert.is_nil(out:find("Non%-2xx"), out)
    assert.is_nil(out:find("Socket errors"), out)
    local n = tonumber(out:match("(%d+) requests in"))
    assert.is_true(n and n > 0, out)
  end)
end)
