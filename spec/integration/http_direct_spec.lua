-- The session's direct path (csrc/h1conn.c, csrc/h1.c): requests written and answers parsed
-- by the C core over connections it opens and keeps itself (csrc/conn.c), against real nginx on 127.0.0.1. Answers
-- nginx would never give on its own (interim 1xx, HTTP/1.0, bare LF, malformed framing)
-- come from a handler that writes raw bytes on the request's socket.
local core = require "aliyun.core"
local nginx = require "support.nginx"

-- Raw answers by name; each is written as is, then the handler ends the connection.
local RAW = {
  interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
  http10 = "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nold!",
  until_close = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nthe body runs to the end",
  bare_lf = "HTTP/1.1 201 Created\nContent-Length: 2\nX-A:  b \n\nlf",
  chunk_ext = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n"
    .. "A\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
  te_and_length = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
    .. "2\r\nte\r\n0\r\n\r\n",
  no_content = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
  bad_length = "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
  two_lengths = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
  bad_chunk = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  truncated = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
  not_http = "SSH-2.0-OpenSSH_9.2\r\n\r\n",
  extra = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmug!",
  switch = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
  nothing = "",
}

local function raw_handler()
  local lines = {}
  for name, bytes in pairs(RAW) do
    lines[#lines + 1] = string.format("[%q] = %q", name, bytes)
  end
  table.sort(lines)
  return "local RAW = {" .. table.concat(lines, ",\n") .. "}\n" .. [[
    local sock = assert(ngx.req.socket(true))
    sock:send(RAW[ngx.var.arg_case])
    sock:close()
  ]]
end

describe("core.session's direct path #core #integration", function()
  local server

  setup(function()
    server = nginx.start {
      http = [[
        keepalive_timeout 1s;
        server {
          listen 127.0.0.1:${PORT};
          location /echo {
            content_by_lua_block {
              ngx.req.read_body()
              local h = ngx.req.get_headers()
              ngx.header["X-Conn"] = ngx.var.connection
              ngx.print(ngx.req.get_method(), "|", ngx.var.request_uri, "|", h.host or "-", "|",
                h["user-agent"] or "-", "|", h.accept or "-", "|", h["content-type"] or "-", "|",
                h["content-length"] or "-", "|", h["x-custom"] or "-", "|", ngx.req.get_body_data() or "")
            }
          }
          location /size {
            client_body_buffer_size 8m;
            client_max_body_size 8m;
            content_by_lua_block {
              ngx.req.read_body()
              local body = ngx.req.get_body_data() or ""
              ngx.print(#body, " ", ngx.encode_base64(ngx.hmac_sha1("k", body)))
            }
          }
          location /large {
            content_by_lua_block {
              local body = string.rep("0123456789abcdef", 196608) -- 3 MB
              ngx.header.content_length = #body
              ngx.print(body)
            }
          }
          location /few { keepalive_requests 3; content_by_lua_block { ngx.print(ngx.var.connection) } }
          location /raw { content_by_lua_block { ]] .. raw_handler() .. [[ } }
          location /slowbody {
            content_by_lua_block { ngx.print("first"); ngx.flush(true); ngx.sleep(0.6); ngx.print("second") }
          }
          location /bigchunked {
            content_by_lua_block { for _ = 1, 20 do ngx.print(string.rep("y", 1000)); ngx.flush(true) end }
          }
        }
      ]],
    }
  end)

  teardown(function()
    if server then server.stop() end
  end)

  local function raw(s, case)
    return s:request { url = server.url .. "/raw?case=" .. case }
  end

  it("sends what libcurl's engine sends, for every method", function()
    local direct, engine = core.session { user_agent = "ua/1" }, core.session { user_agent = "ua/1", curl_http = true }
    for _, req in ipairs {
      { url = server.url .. "/echo?a=1&b=%20" },
      { method = "POST", url = server.url .. "/echo?x", body = "k=v&w=%2F" },
      { method = "POST", url = server.url .. "/echo" },
      { method = "PUT", url = server.url .. "/echo", body = "put", headers = { ["Content-Type"] = "text/plain" } },
      { method = "DELETE", url = server.url .. "/echo" },
      { method = "PATCH", url = server.url .. "/echo", body = "p" },
      { url = server.url .. "/echo", headers = { Accept = "application/json", ["User-Agent"] = "mine",
        ["X-Custom"] = "", host = "example.com" } },
      { url = server.url .. "?q" },
    } do
      local a = assert(direct:request(req))
      local b = assert(engine:request(req))
      assert.are.equal(b.status, a.status)
      assert.are.equal(b.body, a.body)
    end
    local r = assert(direct:request { url = server.url .. "/echo" })
    assert.are.equal("GET|/echo|127.0.0.1:" .. server.port .. "|ua/1|*/*|-|-|-|", r.body)
  end)

  it("keeps one connection, and opens a new one when the server ends it", function()
    local s = core.session()
    local seen = {}
    for i = 1, 7 do seen[i] = assert(s:request { url = server.url .. "/few" }).body end
    -- nginx answers three requests per connection here, the third with Connection: close
    assert.are.equal(seen[1], seen[2])
    assert.are.equal(seen[1], seen[3])
    assert.are_not.equal(seen[3], seen[4])
    assert.are.equal(seen[4], seen[6])
    assert.are_not.equal(seen[6], seen[7])
  end)

  it("replaces a kept connection the server closed while idle, without an error", function()
    local s = core.session()
    local c1 = assert(s:request { url = server.url .. "/echo" }).headers["x-conn"]
    core.sleep(1.5) -- past nginx's keepalive_timeout of 1 s: it has closed the connection
    local r = assert(s:request { method = "POST", url = server.url .. "/echo", body = "once" })
    assert.are.equal(200, r.status)
    assert.matches("|once$", r.body)
    assert.are_not.equal(c1, r.headers["x-conn"])
  end)

  it("reads interim answers, HTTP/1.0, bodies to the end of the connection, bare LF and chunk extensions", function()
    local s = core.session()
    local r = assert(raw(s, "interim"))
    assert.are.same({ 200, "ok" }, { r.status, r.body })
    r = assert(raw(s, "http10"))
    assert.are.same({ 200, "old!" }, { r.status, r.body })
    r = assert(raw(s, "until_close"))
    assert.are.same({ 200, "the body runs to the end" }, { r.status, r.body })
    r = assert(raw(s, "bare_lf"))
    assert.are.same({ 201, "lf", "b" }, { r.status, r.body, r.headers["x-a"] })
    r = assert(raw(s, "chunk_ext"))
    assert.are.same({ 200, "abc0123456789" }, { r.status, r.body })
    r = assert(raw(s, "te_and_length"))
    assert.are.same({ 200, "te" }, { r.status, r.body })
    r = assert(raw(s, "no_content"))
    assert.are.same({ 204, "" }, { r.status, r.body })
    r = assert(raw(s, "extra"))
    assert.are.same({ 200, "ok" }, { r.status, r.body })
    -- and the session goes on working after each
    assert.are.equal(200, assert(s:request { url = server.url .. "/echo" }).status)
  end)

  it("turns malformed or cut answers into network errors that say what was wrong", function()
    local s = core.session()
    for case, why in pairs {
      bad_length = "malformed Content%-Length", two_lengths = "conflicting Content%-Length",
      bad_chunk = "malformed chunk size", truncated = "closed before the response was complete",
      not_http = "malformed HTTP status line", switch = "protocol switch",
      nothing = "closed before any response",
    } do
      local r, msg, kind = raw(s, case)
      assert.is_nil(r, case)
      assert.are.equal("network", kind, case)
      assert.matches(why, msg, nil, nil, case .. ": " .. tostring(msg))
      assert.are.equal(200, assert(s:request { url = server.url .. "/echo" }).status, case)
    end
  end)

  it("times out in the middle of a body and stays usable", function()
    local s = core.session { timeout = 0.2 }
    local r, msg, kind = s:request { url = server.url .. "/slowbody" }
    assert.is_nil(r)
    assert.are.equal("timeout", kind)
    assert.matches("timed out after 200 milliseconds with %d+ bytes received", msg)
    assert.are.equal("firstsecond", assert(s:request { url = server.url .. "/slowbody", timeout = 5 }).body)
  end)

  it("stops a chunked body at max_body and stays usable", function()
    local s = core.session { max_body = 5000 }
    local r, msg, kind = s:request { url = server.url .. "/bigchunked" }
    assert.is_nil(r)
    assert.are.equal("network", kind)
    assert.matches("larger than the limit of 5000 bytes", msg)
    assert.are.equal(200, assert(s:request { url = server.url .. "/echo" }).status)
  end)

  it("gives the raw header block on request, which core.parse_headers turns into the same table", function()
    for _, curl_http in ipairs { false, true } do
      local plain = assert(core.session { raw_headers = true, curl_http = curl_http }:request {
        url = server.url .. "/echo" })
      local cooked = assert(core.session { curl_http = curl_http }:request { url = server.url .. "/echo" })
      assert.is_nil(plain.headers)
      assert.matches("^HTTP/1%.1 200", plain.raw_headers)
      local h = core.parse_headers(plain.raw_headers)
      assert.are.equal(cooked.headers["content-type"], h["content-type"])
      assert.is_string(h["x-conn"])
      assert.is_nil(h["http/1.1 200 ok"])
    end
    assert.are.same({ ["x-a"] = "1, 2", b = "" }, core.parse_headers("HTTP/1.1 200 OK\r\nX-A: 1\r\nB:\r\nx-a: 2\r\n\r\n"))
  end)

  it("sends a large body whole, however many writes it takes, and a large answer", function()
    local s = core.session()
    local body = {}
    for i = 1, 200000 do body[i] = string.char(33 + i % 90) end
    body = table.concat(body):rep(20) -- 4 MB
    local r = assert(s:request { method = "POST", url = server.url .. "/size", body = body })
    assert.are.equal(#body .. " " .. core.base64(core.hmac_sha1("k", body)), r.body)
    local big = assert(s:request { url = server.url .. "/large" })
    assert.are.equal(3 * 1024 * 1024, #big.body)
    assert.are.equal(string.rep("0123456789abcdef", 196608), big.body)
    -- and the connection carries on
    assert.are.equal(200, assert(s:request { url = server.url .. "/echo" }).status)
  end)

  it("keeps its connections out of the processes a program starts", function()
    local run = require("support.shell").run
    local function sockets_of(pid)
      local set = {}
      for inode in run("ls -l /proc/" .. pid .. "/fd 2>/dev/null"):gmatch("socket:%[(%d+)%]") do set[inode] = true end
      return set
    end
    local f = assert(io.open("/proc/self/stat"))
    local pid = f:read("l"):match("^(%d+)")
    f:close()
    for _, curl_http in ipairs { false, true } do
      local before = sockets_of(pid)
      local s = core.session { curl_http = curl_http }
      assert(s:request { url = server.url .. "/echo" })
      -- the new TCP sockets (libcurl also keeps a socket pair per handle for its own
      -- wake-ups, which it makes without close-on-exec; that one is not ours to mark)
      local tcp = {}
      for _, table_name in ipairs { "/proc/net/tcp", "/proc/net/tcp6" } do
        local t = io.open(table_name)
        if t then
          for line in t:lines() do
            local inode = line:match("^%s*%d+:%s+%S+%s+%S+%s+%S+%s+%S+%s+%S+%s+%S+%s+%S+%s+%S+%s+(%d+)")
            if inode then tcp[inode] = true end
          end
          t:close()
        end
      end
      local ours = {}
      for inode in pairs(sockets_of(pid)) do
        if not before[inode] and tcp[inode] then ours[#ours + 1] = inode end
      end
      assert.is_true(#ours >= 1, "the kept connection is open")
      local child = run("sh -c 'ls -l /proc/$$/fd'")
      for _, inode in ipairs(ours) do
        assert.is_nil(child:find("socket:[" .. inode .. "]", 1, true), child)
      end
      s:close()
    end
  end)

  it("keeps a connection per origin", function()
    local s = core.session()
    local a = assert(s:request { url = server.url .. "/echo" }).headers["x-conn"]
    local other = "http://localhost:" .. server.port
    local b = assert(s:request { url = other .. "/echo" }).headers["x-conn"]
    assert.are_not.equal(a, b)
    assert.are.equal(a, assert(s:request { url = server.url .. "/echo" }).headers["x-conn"])
    assert.are.equal(b, assert(s:request { url = other .. "/echo" }).headers["x-conn"])
  end)

  it("leaves URLs it does not take to libcurl's engine, which judges them", function()
    local s = core.session()
    local r, msg, kind = s:request { url = "http://127.0.0.1:" .. server.port .. "/echo with space" }
    assert.is_nil(r)
    assert.are.equal("network", kind)
    assert.is_string(msg)
    r = assert(s:request { url = "http://user:pw@127.0.0.1:" .. server.port .. "/echo" })
    assert.are.equal(200, r.status)
  end)
end)
