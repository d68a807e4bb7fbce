-- The C core's libcurl session against real nginx servers on 127.0.0.1: plain HTTP, TLS
-- with verification, proxies (option and environment), limits and failures.
local core = require "aliyun.core"
local nginx = require "support.nginx"

local shell = require "support.shell"
local sh = shell.sh

-- A self-signed certificate for 127.0.0.1 in dir/name.{crt,key}.
local function make_cert(dir, name)
  assert(sh(string.format(
    "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
      .. "-addext subjectAltName=IP:127.0.0.1 -keyout %s/%s.key -out %s/%s.crt 2>/dev/null",
    dir, name, dir, name)))
  return dir .. "/" .. name .. ".crt", dir .. "/" .. name .. ".key"
end

describe("core.session #core #integration", function()
  local server, proxy, certdir, cert, other_cert

  setup(function()
    certdir = io.popen("mktemp -d /tmp/aliyun-certs.XXXXXX"):read("l")
    local key
    cert, key = make_cert(certdir, "server")
    other_cert = make_cert(certdir, "other")
    server = nginx.start {
      http = [[
        server {
          listen 127.0.0.1:${PORT};
          listen 127.0.0.1:${TLSPORT} ssl;
          ssl_certificate ]] .. cert .. [[;
          ssl_certificate_key ]] .. key .. [[;
          location /hello {
            content_by_lua_block {
              ngx.header["X-Multi"] = { "a", "b" }
              ngx.header["X-Conn"] = ngx.var.connection
              ngx.req.read_body()
              ngx.print(ngx.req.get_method(), " ", ngx.var.scheme, " ", ngx.var.http_x_custom or "-", " ",
                ngx.req.get_body_data() or "")
            }
          }
          location /big { content_by_lua_block { ngx.print(string.rep("x", 100000)) } }
          location /chunked {
            content_by_lua_block { for i = 1, 5 do ngx.print("part", i, ";"); ngx.flush(true) end }
          }
          location /nul { content_by_lua_block { ngx.print("a\0b") } }
          location /status { return 503 "busy"; }
          location /slow { content_by_lua_block { ngx.sleep(0.6); ngx.print("slow") } }
          location /blob {
            content_by_lua_block {
              local n = tonumber(ngx.var.arg_kb) * 1024
              ngx.header.content_length = n
              local piece = string.rep(ngx.var.arg_c or "z", 65536)
              for _ = 1, n / 65536 do ngx.print(piece); ngx.flush(true) end
            }
          }
          location /delay {
            content_by_lua_block {
              ngx.req.read_body()
              ngx.sleep(tonumber(ngx.var.arg_ms) / 1000)
              ngx.header["X-Conn"] = ngx.var.connection
              ngx.print(ngx.var.arg_i, ":", ngx.req.get_body_data() or "")
            }
          }
        }
      ]],
    }
    proxy = nginx.start {
      http = [[
        server {
          listen 127.0.0.1:${PORT};
          location / {
            content_by_lua_block {
              -- a forward proxy receives the absolute URL as the request target; nginx takes
              -- the host from it (nothing listens on 127.0.0.2:9, so only the proxy answers)
              ngx.print("proxied ", ngx.var.host, ngx.var.request_uri)
            }
          }
        }
      ]],
    }
  end)

  teardown(function()
    if server then server.stop() end
    if proxy then proxy.stop() end
    if certdir then sh("rm -rf " .. certdir) end
  end)

  it("returns status, lower-case headers and body", function()
    local s = core.session()
    local r = assert(s:request { method = "POST", url = server.url .. "/hello", body = "k=v",
      headers = { ["X-Custom"] = "yes" } })
    assert.are.equal(200, r.status)
    assert.are.equal("POST http yes k=v", r.body)
    assert.are.equal("a, b", r.headers["x-multi"])
    assert.is_string(r.headers["content-type"])
    assert.is_number(r.elapsed)
  end)

  it("keeps the connection alive across requests", function()
    local s = core.session()
    local c1 = assert(s:request { url = server.url .. "/hello" }).headers["x-conn"]
    for _ = 1, 5 do
      assert.are.equal(c1, assert(s:request { url = server.url .. "/hello" }).headers["x-conn"])
    end
  end)

  it("reads chunked bodies and bodies with NUL bytes", function()
    local s = core.session()
    assert.are.equal("part1;part2;part3;part4;part5;", assert(s:request { url = server.url .. "/chunked" }).body)
    assert.are.equal("a\0b", assert(s:request { url = server.url .. "/nul" }).body)
  end)

  it("returns error statuses as responses, not failures", function()
    local r = assert(core.session():request { url = server.url .. "/status" })
    assert.are.equal(503, r.status)
    assert.are.equal("busy", r.body)
  end)

  it("refuses a response body over max_body", function()
    local s = core.session { max_body = 1000 }
    local r, msg, kind = s:request { url = server.url .. "/big" }
    assert.is_nil(r)
    assert.are.equal("network", kind)
    assert.matches("larger than the limit of 1000 bytes", msg)
    -- the session is still usable afterwards
    assert.are.equal(200, assert(s:request { url = server.url .. "/hello" }).status)
  end)

  it("refuses header values with CR or LF", function()
    local r, msg, kind = core.session():request { url = server.url .. "/hello",
      headers = { ["X-Custom"] = "a\r\nX-Injected: 1" } }
    assert.is_nil(r)
    assert.are.equal("validation", kind)
    assert.matches("CR, LF", msg)
  end)

  it("maps a refused connection to kind network", function()
    local r, msg, kind = core.session():request { url = "http://127.0.0.1:1/" }
    assert.is_nil(r)
    assert.are.equal("network", kind)
    assert.matches("onnect", msg)
  end)

  it("verifies TLS by default: a self-signed server fails without its CA", function()
    local tls = server.url:gsub("http://", "https://"):gsub(":%d+$", ":" .. server.tls_port)
    local r, msg, kind = core.session():request { url = tls .. "/hello" }
    assert.is_nil(r)
    assert.are.equal("network", kind)
    assert.matches("certificate", msg:lower())
    -- the wrong CA fails too
    r, msg = core.session({ ca_file = other_cert }):request { url = tls .. "/hello" }
    assert.is_nil(r)
    assert.matches("certificate", msg:lower())
    -- the right CA succeeds
    r = assert(core.session({ ca_file = cert }):request { url = tls .. "/hello" })
    assert.are.equal("GET https - ", r.body)
    -- and verification can be turned off explicitly
    r = assert(core.session({ verify_tls = false }):request { url = tls .. "/hello" })
    assert.are.equal(200, r.status)
  end)

  it("goes through a proxy given as an option", function()
    local s = core.session { proxy = proxy.url }
    local r = assert(s:request { url = "http://127.0.0.2:9/some/path?x=1" })
    assert.are.equal("proxied 127.0.0.2/some/path?x=1", r.body)
  end)

  it("goes through a proxy from the http_proxy environment variable", function()
    local script = [[
      local core = require "aliyun.core"
      local r, msg = core.session():request { url = "http://127.0.0.2:9/env" }
      io.write(r and r.body or ("failed: " .. msg))
    ]]
    local f = io.popen(string.format("http_proxy=%s NO_PROXY= no_proxy= lua5.4 -e %q", proxy.url, script))
    local out = f:read("a")
    f:close()
    assert.are.equal("proxied 127.0.0.2/env", out)
  end)

  it("times out on a slow answer, per session and per request", function()
    local r, msg, kind = core.session({ timeout = 0.2 }):request { url = server.url .. "/slow" }
    assert.is_nil(r)
    assert.are.equal("timeout", kind)
    assert.matches("imeout", msg)
    r = assert(core.session({ timeout = 0.2 }):request { url = server.url .. "/slow", timeout = 5 })
    assert.are.equal("slow", r.body)
  end)

  it("is closed by close() and refuses use afterwards", function()
    local s = core.session()
    s:close()
    assert.has_error(function() s:request { url = server.url } end, "session is closed")
    assert.matches("closed", tostring(s))
  end)

  it("checks its arguments", function()
    assert.has_error(function() core.session { timeout = -1 } end)
    assert.has_error(function() core.session { timeout = "x" } end)
    assert.has_error(function() core.session():request { url = 42 } end)
    assert.has_error(function() core.session():request { url = server.url, body = {} } end)
  end)

  it("takes SSL_CERT_FILE as the CA store on both engines, a single call and a batch alike", function()
    local script = string.format([[
      local s = require("aliyun.core").session { timeout = 5 }
      local one, msg = s:request { url = "https://127.0.0.1:%d/hello" }
      local many = s:batch({ { url = "https://127.0.0.1:%d/hello" } }, 1)
      io.write(one and one.status or msg, "|", many[1].status or many[1].error, "\n")
    ]], server.tls_port, server.tls_port)
    local function run_with(ca)
      return shell.run(string.format("SSL_CERT_FILE=%s %s %s -e %q 2>&1", ca, shell.ENV, shell.LUA, script))
    end
    assert.are.equal("200|200\n", run_with(cert))
    local out = run_with(other_cert)
    assert.matches("^[^|]*certificate[^|]*|[^|]*[Cc]ertificate", out)
  end)

  -- on the core's own connections, and on libcurl's engine (through a proxy, or
  -- curl_http = true): the same outcomes
  for _, engine in ipairs { { name = "own connections", opts = {} }, { name = "libcurl", opts = { curl_http = true } } } do
    local function session(o)
      for k, v in pairs(engine.opts) do o[k] = v end
      return core.session(o)
    end
  describe("batch (" .. engine.name .. ")", function()
    local function url(path) return "http://127.0.0.1:" .. server.port .. path end

    it("returns every response in input order, whatever order they finish in", function()
      local s = session { timeout = 5 }
      local reqs = {}
      for i = 1, 40 do
        -- later requests finish first: order must come from the input, not completion
        reqs[i] = { method = "POST", url = url("/delay?i=" .. i .. "&ms=" .. (40 - i)), body = "b" .. i }
      end
      local results = s:batch(reqs, 8)
      assert.equal(40, #results)
      for i = 1, 40 do
        assert.equal(200, results[i].status)
        assert.equal(i .. ":b" .. i, results[i].body)
      end
      s:close()
    end)

    it("runs requests concurrently up to the limit and reuses connections", function()
      local s = session { timeout = 5 }
      local reqs = {}
      for i = 1, 16 do reqs[i] = { url = url("/delay?i=" .. i .. "&ms=200") } end
      local results = s:batch(reqs, 8)
      local conns = {}
      for i = 1, 16 do conns[results[i].headers["x-conn"]] = true end
      local n = 0
      for _ in pairs(conns) do n = n + 1 end
      -- 8 at a time: the second wave rides on the first wave's connections
      assert.equal(8, n)
      local again = s:batch(reqs, 8)
      for i = 1, 16 do assert.is_true(conns[again[i].headers["x-conn"]]) end
      s:close()
    end)

    it("keeps failures apart from successes", function()
      local s = session { timeout = 0.3 }
      local results = s:batch({
        { url = url("/hello") },
        { url = "http://127.0.0.1:1/refused" },
        { url = url("/slow") },
        { url = url("/hello"), headers = { ["X-Bad"] = "a\r\nInjected: 1" } },
        { url = url("/status") },
      }, 3)
      assert.equal(200, results[1].status)
      assert.equal("network", results[2].kind)
      assert.is_string(results[2].error)
      assert.equal("timeout", results[3].kind)
      assert.equal("validation", results[4].kind)
      assert.equal(503, results[5].status)
      s:close()
    end)

    it("carries raw_headers instead of headers when the session says so, as request() does", function()
      local s = session { timeout = 5, raw_headers = true }
      local results = s:batch({ { url = url("/hello") }, { url = url("/status") } }, 2)
      assert.is_nil(results[1].headers)
      assert.matches("^HTTP/1%.1 200", results[1].raw_headers)
      assert.is_string(core.parse_headers(results[1].raw_headers)["x-conn"])
      assert.matches("^HTTP/1%.1 503", results[2].raw_headers)
      s:close()
    end)

    if engine.name == "own connections" then
      it("gives a finished slot its next request before on_done sees the answer", function()
        local s = session { timeout = 5 }
        local events = {}
        s:batch(function(i)
          events[#events + 1] = "make " .. i
          return { url = url("/delay?i=" .. i .. "&ms=5") }
        end, 1, function(i, r)
          assert.equal(i .. ":", r.body)
          events[#events + 1] = "done " .. i
        end, 4)
        assert.are.same({ "make 1", "make 2", "done 1", "make 3", "done 2", "make 4", "done 3", "done 4" }, events)
        s:close()
      end)
    end

    it("hands each outcome to on_done as soon as it is in, and refills its slot at once", function()
      local s = session { timeout = 5 }
      local reqs, order = {}, {}
      -- one slow request and many quick ones on 2 slots: the quick ones all go through the
      -- second slot while the first waits
      reqs[1] = { url = url("/delay?i=1&ms=600") }
      for i = 2, 30 do reqs[i] = { url = url("/delay?i=" .. i .. "&ms=0") } end
      local results = s:batch(reqs, 2, function(i, r)
        assert.are.equal(i .. ":", r.body)
        order[#order + 1] = i
      end)
      assert.are.same({}, results)
      assert.are.equal(30, #order)
      assert.are.equal(1, order[30]) -- the slow one last, after 29 refills of the other slot
      assert.has_error(function()
        s:batch(reqs, 2, function() s:batch(reqs, 1) end)
      end, "session is busy (batch called from a batch's on_done)")
      assert.has_error(function() s:batch({ reqs[2] }, 1, function() error("boom") end) end)
      assert.are.equal(200, s:batch({ reqs[2] }, 1)[1].status) -- and the session goes on
      s:close()
    end)

    it("holds the answers it receives within batch_memory, however large they are", function()
      local budget = 1024 * 1024
      local s = session { timeout = 20, batch_memory = budget }
      local reqs = {}
      for i = 1, 12 do reqs[i] = { url = url("/blob?kb=3072&c=" .. string.char(96 + i)) } end
      local seen = 0
      local _, peak = s:batch(reqs, 12, function(i, r)
        assert.are.equal(200, r.status)
        assert.are.equal(3 * 1024 * 1024, #r.body)
        assert.are.equal(string.char(96 + i), r.body:sub(-1))
        seen = seen + 1
      end)
      assert.are.equal(12, seen)
      -- the oldest transfer always goes on: the budget plus one answer at the most (and a
      -- read's worth, 16 KiB, per slot that was reading when the budget filled)
      assert.is_true(peak <= budget + 3 * 1024 * 1024 + 12 * 16384, "peak " .. peak)
      assert.is_true(peak >= 3 * 1024 * 1024, "peak " .. peak)
      s:close()
    end)

    it("makes each request when its turn comes, and skips those it is told to", function()
      local s = session { timeout = 5 }
      local made, seen = {}, {}
      local _, peak = s:batch(function(i)
        made[#made + 1] = i
        if i % 3 == 0 then return false end -- nothing to send for these
        return { url = url("/delay?i=" .. i .. "&ms=0") }
      end, 2, function(i, r) seen[i] = r.body end, 9)
      assert.are.same({ 1, 2, 3, 4, 5, 6, 7, 8, 9 }, made)
      assert.are.same({ [1] = "1:", [2] = "2:", [4] = "4:", [5] = "5:", [7] = "7:", [8] = "8:" }, seen)
      assert.is_number(peak)
      s:close()
    end)

    it("runs over TLS, verified", function()
      local s = session { timeout = 5, ca_file = cert }
      local reqs = {}
      for i = 1, 6 do reqs[i] = { url = "https://127.0.0.1:" .. server.tls_port .. "/delay?i=" .. i .. "&ms=10" } end
      local results = s:batch(reqs, 3)
      for i = 1, 6 do assert.are.equal(i .. ":", results[i].body) end
      local again = s:batch(reqs, 3) -- on the kept TLS connections
      assert.are.equal("6:", again[6].body)
      s:close()
      local wrong = session { timeout = 5, ca_file = other_cert }:batch({ reqs[1] }, 1)
      assert.are.equal("network", wrong[1].kind)
      assert.matches("[Cc]ertificate", wrong[1].error)
      assert.is_false(wrong[1].sent)
    end)

    it("accepts an empty list and rejects bad arguments", function()
      local s = session {}
      assert.same({}, s:batch({}, 4))
      assert.has_error(function() s:batch({ { url = url("/hello") } }, 0) end)
      assert.has_error(function() s:batch({ "not a table" }, 2) end)
      -- the session still works after a batch that raised
      assert.equal(200, s:batch({ { url = url("/hello") } }, 2)[1].status)
      s:close()
    end)
  end)
  end
end)
