-- The C core's HTTP/1.1 bytes for transports that move bytes themselves (csrc/wire.c over
-- csrc/h1.c): requests written by core.http_request and core.v1_request, answers read by
-- core.response_reader with the parser's limits. No network: bytes in, bytes out.
local core = require "aliyun.core"

-- Feeds the answer in pieces of `step` bytes; returns what the last feed (or eof) said.
local function read(bytes, step, max_body, head)
  local r = core.response_reader(max_body, head)
  local i = 1
  while i <= #bytes do
    local done, msg, kind = r:feed(bytes:sub(i, i + step - 1))
    if done ~= false then return r, done, msg, kind end
    i = i + step
  end
  return r, r:eof()
end

describe("core.response_reader #core", function()
  local OK = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"A\":[1,2]}"

  it("reads an answer fed whole or byte by byte, and decodes it", function()
    for _, step in ipairs { #OK, 1, 7 } do
      local r, done = read(OK, step)
      assert.is_true(done)
      assert.is_true(r:keep_alive())
      local resp = r:response()
      assert.are.same({ 200, "{\"A\":[1,2]}" }, { resp.status, resp.body })
      assert.matches("^HTTP/1.1 200 OK\r\nContent%-Type: application/json\r\n", resp.raw_headers)
      assert.are.same({ A = { 1, 2 } }, r:decode())
    end
  end)

  it("hands back an answer that is not a 2xx JSON object whole", function()
    local r = read("HTTP/1.1 503 Busy\r\nX-Acs-Request-Id: R1\r\nContent-Length: 4\r\n\r\nbusy", 5)
    local res, status, body, raw = r:decode()
    assert.are.same({ false, 503, "busy" }, { res, status, body })
    assert.are.equal("R1", core.parse_headers(raw)["x-acs-request-id"])
  end)

  it("decodes a 2xx JSON answer as it completes when asked, and is then ready for the next", function()
    local r = core.response_reader(1024)
    for _ = 1, 2 do -- the second answer on the same reader, with no reset between
      assert.is_false(r:feed(OK:sub(1, 20), true))
      local got, keep = r:feed(OK:sub(21), true)
      assert.are.same({ A = { 1, 2 } }, got)
      assert.is_true(keep)
    end
    -- the limit of the first answer still holds for the next
    local done, msg, kind = r:feed("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", true)
    assert.are.same({ nil, "network" }, { done, kind })
    assert.matches("larger than the limit of 1024 bytes", msg)
    -- any other complete answer: true, and decode() says what it is
    for bytes, status in pairs {
      ["HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy"] = 503,
      ["HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbusy"] = 200,
      ["HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\"x\""] = 200,
    } do
      r = core.response_reader()
      assert.are.same({ true, true }, { r:feed(bytes, true) })
      local res, got = r:decode()
      assert.are.same({ false, status }, { res, got })
    end
  end)

  it("skips interim answers and reads chunked bodies and bodies to the end of the connection", function()
    local r, done = read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      .. "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n", 3)
    assert.is_true(done)
    assert.are.same({ 200, "abcde" }, { r:response().status, r:response().body })
    r, done = read("HTTP/1.1 200 OK\r\n\r\nall of it", 4)
    assert.is_true(done)
    assert.are.equal("all of it", r:response().body)
    assert.is_false(r:keep_alive())
  end)

  it("does not keep a connection that carried bytes beyond the answer", function()
    local r, done = read(OK .. "HTTP/1.1 200 OK\r\n", #OK + 17)
    assert.is_true(done)
    assert.is_false(r:keep_alive())
  end)

  it("refuses what breaks the rules or the limits, with a network error", function()
    for bytes, why in pairs {
      ["HTTP/1.1 2000 OK\r\n\r\n"] = "malformed HTTP status line",
      ["HTTP/1.1 600 OK\r\n\r\n"] = "out of range",
      ["HTTP/1.1 099 OK\r\n\r\n"] = "malformed HTTP status code",
      ["HTTP/1.1 101 Switching\r\n\r\n"] = "protocol switch",
      ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"] = "malformed chunk size",
      ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n"] = "malformed chunk size",
      ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" .. ("f"):rep(20) .. "\r\n"] = "chunk size too large",
      ["HTTP/1.1 200 OK\r\nX-L: " .. ("a"):rep(70000)] = "header line longer than 64 KiB",
      ["HTTP/1.1 200 OK\r\n" .. ("X-R: v\r\n"):rep(501) .. "\r\n"] = "more than 500 header lines",
      ["HTTP/1.1 200 OK\r\n" .. ("X-F: " .. ("f"):rep(3000) .. "\r\n"):rep(120)] = "larger than 300 KiB",
      [("HTTP/1.1 100 Continue\r\n\r\n"):rep(20000)] = "larger than 300 KiB",
      ["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"] = "closed before the response was complete",
      [""] = "closed before any response",
    } do
      for _, step in ipairs { 1000, 1 } do
        if step == 1000 or #bytes < 5000 then
          local _, done, msg, kind = read(bytes, step)
          assert.is_nil(done, why)
          assert.are.equal("network", kind, why)
          assert.truthy(msg:find(why, 1, true), why .. " / " .. tostring(msg))
        end
      end
    end
  end)

  it("stops a body at max_body, whatever its framing", function()
    for _, bytes in ipairs {
      "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n01234567890\r\n",
      "HTTP/1.1 200 OK\r\n\r\n01234567890",
    } do
      local _, done, msg = read(bytes, 4, 10)
      assert.is_nil(done)
      assert.matches("larger than the limit of 10 bytes", msg)
    end
  end)

  it("reads no body for a HEAD request", function()
    local r, done = read("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", 100, nil, true)
    assert.is_true(done)
    assert.are.equal("", r:response().body)
  end)

  it("refuses use out of turn", function()
    local r = read(OK, 100)
    assert.has_error(function() r:feed("x") end, "response reader: the answer is already complete")
    assert.has_error(function() core.response_reader():response() end, "response reader: the answer is not complete")
  end)

  it("takes only a reader as self, and the C core's other objects only as themselves", function()
    local r = core.response_reader()
    local feed, call = r.feed, core.session {}
    for _, bad in ipairs { {}, "x", io.stdout, call, newproxy and newproxy(true) or setmetatable({}, {}) } do
      assert.has_error(function() feed(bad, "x") end)
      local ok, err = pcall(feed, bad, "x")
      assert.is_false(ok)
      assert.matches("response_reader expected", err)
    end
    -- a session's method refuses a reader, and a reader's a session: each checks its own kind
    local ok, err = pcall(call.close, r)
    assert.is_false(ok)
    assert.matches("session expected", err)
    call:close()
    assert.are.equal(r, r:reset()) -- and its own kind passes
  end)
end)

describe("core.parse_headers #core", function()
  it("joins repeated headers, however many, in order", function()
    local n = 400
    local raw = "HTTP/1.1 200 OK\r\n"
    for i = 1, n do raw = raw .. "X-R: " .. i .. "\r\n" end
    local values = {}
    for i = 1, n do values[i] = tostring(i) end
    local h = core.parse_headers(raw .. "Set-Cookie: a\r\nset-cookie: b\r\nX-One: 1\r\n")
    assert.are.equal(table.concat(values, ", "), h["x-r"])
    assert.are.same({ "a, b", "1" }, { h["set-cookie"], h["x-one"] })
  end)
end)

describe("core.http_request and core.v1_request #core", function()
  it("writes the request the direct path sends", function()
    local line, rest, origin = core.http_request({ method = "POST", url = "http://127.0.0.1:8080/x?a=1",
      headers = { ["X-A"] = "b", ["Content-Length"] = "99" }, body = "k=v" }, "ua/1")
    assert.are.equal("http://127.0.0.1:8080", origin)
    assert.are.equal("POST /x?a=1", line) -- the piece that ends with what differs between calls
    assert.are.equal(" HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: ua/1\r\nAccept: */*\r\n"
      .. "X-A: b\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\nk=v", rest)
    line, rest = core.http_request { url = "https://[::1]?q" }
    assert.are.equal("GET /?q HTTP/1.1\r\nHost: [::1]\r\nAccept: */*\r\n\r\n", line .. rest)
  end)

  it("refuses header injection and requests it does not take", function()
    local r, msg, kind = core.http_request { url = "http://h/", headers = { ["X-A"] = "1\r\nX-B: 2" } }
    assert.are.same({ nil, "validation" }, { r, kind })
    assert.matches("CR, LF or NUL", msg)
    for _, req in ipairs { { url = "ftp://h/" }, { url = "http://u@h/" }, { url = "http://h/a b" },
      { method = "TRACE", url = "http://h/" } } do
      r, msg, kind = core.http_request(req)
      assert.are.same({ nil, "validation" }, { r, kind }, req.url)
      assert.matches("not supported", msg)
    end
  end)

  it("writes the fused V1 call's request, signed as v1_sign_url signs it", function()
    local q = { RegionId = "cn-hangzhou" }
    local line, rest = core.v1_request("https://ecs.aliyuncs.com", "GET", q, "secret", "DescribeRegions",
      "2014-05-26", "id", nil, "nonce1", 1700000000, "ua/2")
    local url = core.v1_sign_url("GET", "https://ecs.aliyuncs.com", q, "secret", "DescribeRegions",
      "2014-05-26", "id", nil, "nonce1", 1700000000)
    local bytes = line .. rest
    assert.matches("&SignatureNonce=nonce1$", line) -- the nonce last
    assert.are.equal("GET " .. url:sub(#"https://ecs.aliyuncs.com" + 1) .. " HTTP/1.1\r\nHost: ecs.aliyuncs.com\r\n"
      .. "User-Agent: ua/2\r\nAccept: application/json\r\n\r\n", bytes)
    assert.is_false(core.v1_request("https://h/path", "GET", q, "s", "A", "V", "id"))
    assert.is_false(core.v1_request("https://h", "PUT", q, "s", "A", "V", "id"))
  end)

  it("splits an origin for connecting", function()
    assert.are.same({ "https", "::1", 8443 }, { core.parse_origin("https://[::1]:8443") })
    assert.are.same({ "http", "example.com", 80 }, { core.parse_origin("http://example.com") })
    assert.is_nil(core.parse_origin("ftp://x"))
  end)
end)
