-- The cosocket transport inside real nginx (LuaJIT core): the client is used from a
-- content handler and talks to a second server that verifies signatures
-- (server/echo.lua). Plain and TLS, keep-alive, chunked bodies, timeouts, phases
-- without cosockets, per-call credentials.
local core = require "aliyun.core"
local nginx = require "support.nginx"

local sh = require("support.shell").sh

local function get(url)
  local s = core.session { timeout = 10 }
  local r, err = s:request { url = url }
  s:close()
  assert(r, err)
  return r.status, r.body
end

-- A temporary folder with two self-signed certificates for 127.0.0.1: server.* and other.*
local function make_certs()
  local dir = io.popen("mktemp -d /tmp/aliyun-certs.XXXXXX"):read("l")
  for _, name in ipairs { "server", "other" } do
    assert(sh(string.format("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 "
      .. "-addext subjectAltName=IP:127.0.0.1 -keyout %s/%s.key -out %s/%s.crt 2>/dev/null",
      dir, name, dir, name)))
  end
  return dir
end

describe("the nginx cosocket transport #integration", function()
  local upstream, gateway, certdir

  setup(function()
    certdir = make_certs()
    upstream = nginx.start {
      http = [[
        server {
          listen 127.0.0.1:${PORT};
          listen 127.0.0.1:${TLSPORT} ssl;
          ssl_certificate ]] .. certdir .. [[/server.crt;
          ssl_certificate_key ]] .. certdir .. [[/server.key;
          location /chunked {
            content_by_lua_block {
              ngx.header["X-Conn"] = ngx.var.connection
              for i = 1, 4 do ngx.print("c", i); ngx.flush(true) end
            }
          }
          location /close {
            keepalive_timeout 0; # nginx answers with Connection: close
            content_by_lua_block {
              ngx.header["X-Conn"] = ngx.var.connection
              ngx.print("bye")
            }
          }
          location /slow { content_by_lua_block { ngx.sleep(1); ngx.print("late") } }
          location / { content_by_lua_block { require("integration.server.echo")() } }
        }
      ]],
    }
    local function gateway_conf(ca)
      return [[
        lua_ssl_trusted_certificate ]] .. ca .. [[;
        lua_ssl_verify_depth 2;
        init_by_lua_block {
          -- a client made in init is lazy: nothing is sent, no transport is chosen
          local aliyun = require "aliyun"
          INIT_CLIENT = aliyun.client("echo", { endpoint = "http://127.0.0.1:]] .. upstream.port .. [[",
            access_key_id = "testid", access_key_secret = "testsecret", version = "2020-01-01" })
        }
        server {
          listen 127.0.0.1:${PORT};
          location /call {
            content_by_lua_block {
              local aliyun = require "aliyun"
              local c = aliyun.client("echo", {
                endpoint = ngx.var.arg_scheme .. "://127.0.0.1:" .. ngx.var.arg_port,
                access_key_id = "testid", access_key_secret = "testsecret", version = "2020-01-01",
                signature_version = ngx.var.arg_sv or "v1", max_retries = 0, timeout = 0.3 })
              local r, err = c:call(ngx.var.arg_action or "EchoValues", { Name = "a b*~", Zh = "阿里云" })
              if not r then ngx.say("error ", err.kind, " ", tostring(err)); return end
              ngx.say("ok ", r.Action, " ", r.Params.Name, " ", r.Params.Zh)
            }
          }
          location /ecs {
            content_by_lua_block {
              -- the common call (V1, query parameters, the client's own key): the C core
              -- signs and writes it, parses and decodes the answer; cosockets move the bytes
              local c = require("aliyun").ecs { endpoint = "http://127.0.0.1:]] .. upstream.port .. [[",
                access_key_id = "testid", access_key_secret = ngx.var.arg_secret, max_retries = 0 }
              local r, err = c:DescribeInstances { RegionId = "cn-hangzhou", PageSize = 10 }
              ngx.say(r and ("ok " .. r.Action .. " " .. r.Params.PageSize) or ("error " .. tostring(err)))
            }
          }
          location /init-client {
            content_by_lua_block {
              local r, err = INIT_CLIENT:call("EchoValues", { X = "1" })
              ngx.say(r and ("ok " .. r.Params.X) or ("error " .. tostring(err)))
            }
          }
          location /tenants {
            content_by_lua_block {
              local aliyun = require "aliyun"
              local c = aliyun.client("echo", { endpoint = "http://127.0.0.1:]] .. upstream.port .. [[",
                version = "2020-01-01", max_retries = 0 })
              local out = {}
              local threads = {}
              for i, id in ipairs { "testid", "stsid", "testid", "nobody" } do
                local secret = ({ testid = "testsecret", stsid = "stssecret", nobody = "x" })[id]
                threads[i] = ngx.thread.spawn(function()
                  local r, err = c:call("EchoValues", { I = tostring(i) }, { credentials = {
                    access_key_id = id, access_key_secret = secret,
                    security_token = id == "stsid" and "ststoken" or nil } })
                  out[i] = r and (r.AccessKeyId .. ":" .. r.Params.I) or err.code
                end)
              end
              for _, th in ipairs(threads) do ngx.thread.wait(th) end
              ngx.say(table.concat(out, ","))
            }
          }
          location /raw {
            content_by_lua_block {
              local t = require("aliyun.transport.ngx").new { timeout = 2 }
              local url = "http://127.0.0.1:]] .. upstream.port .. [[" .. ngx.var.arg_path
              local a = assert(t.send { method = "GET", url = url })
              local b = assert(t.send { method = "GET", url = url })
              ngx.say(a.status, " ", a.body, " ", b.body, " ", a.headers["x-conn"] == b.headers["x-conn"] and "same" or "new")
            }
          }
          location /bad-header {
            content_by_lua_block {
              local t = require("aliyun.transport.ngx").new {}
              local r, err = t.send { method = "GET", url = "http://127.0.0.1:]] .. upstream.port .. [[/chunked",
                headers = { ["X-A"] = "1\r\nX-Injected: 2" } }
              ngx.say(r and "sent" or err.kind)
            }
          }
          location /log-phase {
            content_by_lua_block { ngx.say("see log") }
            log_by_lua_block {
              local t = require("aliyun.transport.ngx").new {}
              local _, err = t.send { method = "GET", url = "http://127.0.0.1:1/" }
              ngx.log(ngx.ERR, "LOGPHASE ", tostring(err))
            }
          }
        }
      ]]
    end
    gateway = nginx.start { http = gateway_conf(certdir .. "/server.crt") }
  end)

  teardown(function()
    if gateway then gateway.stop() end
    if upstream then upstream.stop() end
    if certdir then sh("rm -rf " .. certdir) end
  end)

  local function call(query)
    return get(gateway.url .. "/call?" .. query)
  end

  it("signs and sends V1 and V3 calls over cosockets, non-ASCII intact", function()
    for _, sv in ipairs { "v1", "v3" } do
      local status, body = call("scheme=http&port=" .. upstream.port .. "&sv=" .. sv)
      assert.equal(200, status)
      assert.equal("ok EchoValues a b*~ 阿里云\n", body)
    end
  end)

  it("verifies TLS against lua_ssl_trusted_certificate", function()
    local _, body = call("scheme=https&port=" .. upstream.tls_port)
    assert.equal("ok EchoValues a b*~ 阿里云\n", body)
  end)

  it("maps a slow answer to kind timeout and a closed port to kind network", function()
    local _, body = call("scheme=http&port=" .. upstream.port .. "&action=Sleep")
    -- echo's Sleep waits Seconds (default 1) - longer than the 0.3 s timeout
    assert.matches("^error timeout", body)
    _, body = call("scheme=http&port=1")
    assert.matches("^error network", body)
  end)

  it("reads chunked bodies and reuses the connection from the keep-alive pool", function()
    local _, body = get(gateway.url .. "/raw?path=/chunked")
    assert.equal("200 c1c2c3c4 c1c2c3c4 same\n", body)
    _, body = get(gateway.url .. "/raw?path=/close")
    assert.equal("200 bye bye new\n", body)
  end)

  it("refuses header injection", function()
    local _, body = get(gateway.url .. "/bad-header")
    assert.equal("validation\n", body)
  end)

  it("makes the common call through the C core's request writer and parser", function()
    local _, body = get(gateway.url .. "/ecs?secret=testsecret")
    assert.equal("ok DescribeInstances 10\n", body)
    -- a wrong secret: the string to sign, recovered from the request's bytes, explains it
    _, body = get(gateway.url .. "/ecs?secret=wrong")
    assert.matches("SignatureDoesNotMatch: the AccessKeySecret is wrong for AccessKeyId", body)
  end)

  it("lets a client made in init work once a request phase calls it", function()
    local _, body = get(gateway.url .. "/init-client")
    assert.equal("ok 1\n", body)
  end)

  it("refuses clearly in a phase without cosockets instead of blocking", function()
    get(gateway.url .. "/log-phase")
    local log
    for _ = 1, 50 do
      log = gateway.log()
      if log:find("LOGPHASE", 1, true) then break end
      core.sleep(0.02)
    end
    assert.matches("LOGPHASE [^\n]*'log' phase does not have", log)
  end)

  it("signs concurrent calls with their own per-call credentials", function()
    local _, body = get(gateway.url .. "/tenants")
    assert.equal("testid:1,stsid:2,testid:3,InvalidAccessKeyId.NotFound\n", body)
  end)
end)

describe("the nginx transport with the wrong CA #integration", function()
  local upstream, gateway, certdir

  setup(function()
    certdir = make_certs()
    upstream = nginx.start {
      http = [[
        server {
          listen 127.0.0.1:${PORT} ssl;
          ssl_certificate ]] .. certdir .. [[/server.crt;
          ssl_certificate_key ]] .. certdir .. [[/server.key;
          location / { content_by_lua_block { require("integration.server.echo")() } }
        }
      ]],
    }
    gateway = nginx.start {
      http = [[
        lua_ssl_trusted_certificate ]] .. certdir .. [[/other.crt;
        server {
          listen 127.0.0.1:${PORT};
          location /call {
            content_by_lua_block {
              local c = require("aliyun").client("echo", { endpoint = "https://127.0.0.1:]] .. upstream.port .. [[",
                access_key_id = "testid", access_key_secret = "testsecret", version = "2020-01-01", max_retries = 0 })
              local r, err = c:call("EchoValues", {})
              ngx.say(r and "ok" or ("error " .. err.kind .. " " .. err.message))
            }
          }
        }
      ]],
    }
  end)

  teardown(function()
    if gateway then gateway.stop() end
    if upstream then upstream.stop() end
    if certdir then sh("rm -rf " .. certdir) end
  end)

  it("fails the TLS handshake with kind network", function()
    local _, body = get(gateway.url .. "/call")
    assert.matches("^error network TLS handshake with 127.0.0.1:%d+ failed", body, nil, nil, gateway.log())
  end)
end)
