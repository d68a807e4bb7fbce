-- The direct path's own connector (csrc/conn.c): IPv6 literals, refused and timed-out
-- connects, TLS hostname checks, verify_tls = false, kept TLS connections the server closed,
-- and no SIGPIPE, against real nginx on loopback.
local core = require "aliyun.core"
local nginx = require "support.nginx"

local shell = require "support.shell"
local sh, run = shell.sh, shell.run

-- A self-signed certificate in dir/name.{crt,key} whose subjectAltName is san.
local function make_cert(dir, name, san)
  assert(sh(string.format(
    "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=%s "
      .. "-addext subjectAltName=%s -keyout %s/%s.key -out %s/%s.crt 2>/dev/null",
    name, san, dir, name, dir, name)))
  return dir .. "/" .. name .. ".crt", dir .. "/" .. name .. ".key"
end

local function has_ipv6_loopback()
  local f = io.open("/proc/net/if_inet6")
  if not f then return false end
  local text = f:read("a")
  f:close()
  return text:find("00000000000000000000000000000001", 1, true) ~= nil
end

-- children run the interpreter of this process, with its module paths
local ENV, LUA = shell.ENV, shell.LUA

describe("the direct path's connector #core #integration", function()
  local server, other, certdir, ip_cert, name_cert

  setup(function()
    certdir = run("mktemp -d /tmp/aliyun-conn.XXXXXX"):match("%S+")
    local ip_key, name_key
    ip_cert, ip_key = make_cert(certdir, "ip", "IP:127.0.0.1")
    name_cert, name_key = make_cert(certdir, "localhost", "DNS:localhost")
    local body = [[
          location /conn { content_by_lua_block { ngx.header["X-Conn"] = ngx.var.connection; ngx.print("ok") } }
          location /tiny { client_max_body_size 10; content_by_lua_block { ngx.req.read_body(); ngx.print("read") } }
    ]]
    server = nginx.start {
      http = [[
        keepalive_timeout 1s;
        server {
          listen 127.0.0.1:${PORT};
          listen 127.0.0.1:${TLSPORT} ssl;
          ssl_certificate ]] .. ip_cert .. [[;
          ssl_certificate_key ]] .. ip_key .. [[;
          ]] .. body .. [[
        }
      ]],
    }
    -- a certificate for the name localhost only: right for "localhost", wrong for 127.0.0.1
    other = nginx.start {
      http = [[
        server {
          listen 127.0.0.1:${TLSPORT} ssl;
          ssl_certificate ]] .. name_cert .. [[;
          ssl_certificate_key ]] .. name_key .. [[;
          ]] .. body .. [[
        }
      ]],
    }
  end)

  teardown(function()
    if server then server.stop() end
    if other then other.stop() end
    if certdir then sh("rm -rf " .. certdir) end
  end)

  it("connects to an IPv6 literal in brackets", function()
    if not has_ipv6_loopback() then
      pending("no IPv6 loopback on this machine")
      return
    end
    local ok, v6 = pcall(nginx.start, {
      http = [[ server { listen [::1]:${PORT}; location / { content_by_lua_block { ngx.print("v6 ", ngx.var.remote_addr) } } } ]],
    })
    if not ok then
      pending("nginx cannot listen on [::1]: " .. tostring(v6))
      return
    end
    local s = core.session()
    local r, msg = s:request { url = "http://[::1]:" .. v6.port .. "/" }
    v6.stop()
    assert(r, msg)
    assert.are.equal("v6 ::1", r.body)
  end)

  it("says which host and port refused the connection", function()
    local r, msg, kind = core.session():request { url = "http://127.0.0.1:1/" }
    assert.is_nil(r)
    assert.are.equal("network", kind)
    assert.matches("connect to 127%.0%.0%.1 port 1: Connection refused", msg)
  end)

  it("fails a name that does not resolve", function()
    local r, msg, kind = core.session():request { url = "http://no-such-host.invalid/" }
    assert.is_nil(r)
    assert.are.equal("network", kind)
    assert.matches("resolve host: no%-such%-host%.invalid", msg)
  end)

  it("times out a connect that is never accepted", function()
    -- a listening socket whose backlog is full: the kernel drops further SYNs
    if not sh("command -v python3 >/dev/null 2>&1") then
      pending("python3 is needed for a socket with a full backlog")
      return
    end
    local script = [[
import socket, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(0)
keep = []
for _ in range(4):
    c = socket.socket(); c.setblocking(False)
    try: c.connect(l.getsockname())
    except BlockingIOError: pass
    keep.append(c)
time.sleep(0.2)
print(l.getsockname()[1], flush=True)
time.sleep(5)
]]
    local f = assert(io.popen("python3 -c '" .. script .. "'"))
    local port = f:read("l")
    local s = core.session { connect_timeout = 0.3 }
    local t0 = core.monotonic()
    local r, msg, kind = s:request { url = "http://127.0.0.1:" .. port .. "/" }
    local took = core.monotonic() - t0
    f:close()
    if r then
      pending("this kernel accepted past the backlog")
      return
    end
    assert.are.equal("timeout", kind, msg)
    assert.matches("127%.0%.0%.1 port " .. port .. " timed out after %d+ ms", msg)
    assert.is_true(took >= 0.25 and took < 2, tostring(took))
  end)

  it("checks the certificate's IP address and host name", function()
    local tls = "https://127.0.0.1:" .. server.tls_port
    -- the right CA and the IP in subjectAltName
    assert.are.equal("ok", assert(core.session({ ca_file = ip_cert }):request { url = tls .. "/conn" }).body)
    -- a certificate for localhost, reached as 127.0.0.1: refused although its CA is trusted
    local r, msg, kind = core.session({ ca_file = name_cert }):request {
      url = "https://127.0.0.1:" .. other.tls_port .. "/conn" }
    assert.is_nil(r)
    assert.are.equal("network", kind)
    assert.matches("TLS handshake with 127%.0%.0%.1:" .. other.tls_port .. ": certificate verify failed", msg)
    assert.matches("mismatch", msg)
    -- the same server by its name passes (SNI and the name check)
    r, msg = core.session({ ca_file = name_cert }):request { url = "https://localhost:" .. other.tls_port .. "/conn" }
    assert(r, msg)
    assert.are.equal("ok", r.body)
    -- the IP certificate reached by the name localhost is refused
    r, msg = core.session({ ca_file = ip_cert }):request { url = "https://localhost:" .. server.tls_port .. "/conn" }
    assert.is_nil(r)
    assert.matches("certificate verify failed", msg)
  end)

  it("accepts any certificate with verify_tls = false", function()
    local s = core.session { verify_tls = false }
    assert.are.equal("ok", assert(s:request { url = "https://127.0.0.1:" .. other.tls_port .. "/conn" }).body)
    assert.are.equal("ok", assert(s:request { url = "https://127.0.0.1:" .. server.tls_port .. "/conn" }).body)
  end)

  it("reports a CA file it cannot load", function()
    local r, msg, kind = core.session({ ca_file = certdir .. "/missing.pem" }):request {
      url = "https://127.0.0.1:" .. server.tls_port .. "/conn" }
    assert.is_nil(r)
    assert.are.equal("network", kind)
    assert.matches("CA file", msg)
  end)

  it("replaces a kept TLS connection the server closed while idle", function()
    local s = core.session { ca_file = ip_cert }
    local url = "https://127.0.0.1:" .. server.tls_port .. "/conn"
    local c1 = assert(s:request { url = url }).headers["x-conn"]
    assert.are.equal(c1, assert(s:request { url = url }).headers["x-conn"])
    core.sleep(1.5) -- past keepalive_timeout: nginx has closed it
    local r = assert(s:request { url = url })
    assert.are.equal("ok", r.body)
    assert.are_not.equal(c1, r.headers["x-conn"])
  end)

  it("survives a server that closes while a large body is being sent (no SIGPIPE)", function()
    for _, url in ipairs {
      server.url .. "/tiny",
      "https://127.0.0.1:" .. server.tls_port .. "/tiny",
    } do
      local script = string.format([[
        local core = require "aliyun.core"
        local s = core.session { verify_tls = false }
        for _ = 1, 3 do s:request { method = "POST", url = %q, body = string.rep("x", 8 * 1024 * 1024) } end
        io.write("alive")
      ]], url)
      local out = run(ENV .. " " .. LUA .. " -e '" .. script:gsub("'", "'\\''") .. "' 2>&1")
      assert.are.equal("alive", out, url)
    end
  end)

  it("loads libcurl only when a session needs its engine", function()
    local function maps_curl(code)
      local script = [[
        local core = require "aliyun.core"
        local function curl_mapped()
          local f = assert(io.open("/proc/self/maps"))
          local maps = f:read("a")
          f:close()
          return maps:find("libcurl", 1, true) ~= nil
        end
      ]] .. code
      return run(ENV .. " http_proxy= https_proxy= HTTPS_PROXY= all_proxy= ALL_PROXY= " .. LUA .. " -e '"
        .. script:gsub("'", "'\\''") .. "' 2>&1")
    end
    local url = server.url .. "/conn"
    -- require, a session, direct calls and batches (http and https): no libcurl
    assert.are.equal("false false", maps_curl(string.format([[
      local before = curl_mapped()
      local s = core.session { verify_tls = false }
      assert(s:request { url = %q })
      assert(s:request { url = %q })
      assert(s:batch({}, 4))
      assert(s:batch({ { url = %q }, { url = %q } }, 2)[2].status == 200)
      io.write(tostring(before), " ", tostring(curl_mapped()))
    ]], url, "https://127.0.0.1:" .. server.tls_port .. "/conn", url, "https://127.0.0.1:" .. server.tls_port .. "/conn")))
    -- a proxy option, a batch through a proxy, curl_http: libcurl is loaded then
    for _, code in ipairs {
      string.format("assert(core.session({ proxy = %q }):request { url = %q })", server.url, url),
      string.format("assert(core.session({ proxy = %q }):batch({ { url = %q } })[1].status == 200)", server.url, url),
      string.format("assert(core.session({ curl_http = true }):request { url = %q })", url),
    } do
      assert.are.equal("false true", maps_curl("local before = curl_mapped()\n" .. code
        .. "\nio.write(tostring(before), ' ', tostring(curl_mapped()))"), code)
    end
    -- and a proxy from the environment, read when the session is made
    local out = run(ENV .. " http_proxy=" .. server.url .. " " .. LUA .. " -e '"
      .. "local core = require \"aliyun.core\"; local s = core.session(); "
      .. "assert(s:request { url = \"" .. url .. "\" }); "
      .. "io.write(io.open(\"/proc/self/maps\"):read(\"a\"):find(\"libcurl\", 1, true) and \"curl\" or \"none\")' 2>&1")
    assert.are.equal("curl", out)
  end)

  it("closes the libcurl session with the session", function()
    local s = core.session { curl_http = true }
    assert(s:request { url = server.url .. "/conn" })
    s:close()
    assert.has_error(function() s:request { url = server.url .. "/conn" } end, "session is closed")
    assert.matches("closed", tostring(s))
  end)
end)
