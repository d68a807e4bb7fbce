-- The OpenResty transport: HTTP/1.1 over ngx.socket.tcp, so a call yields to nginx's event
-- loop instead of blocking the worker. Connections go back to nginx's keep-alive pool
-- after each response; TLS is verified against lua_ssl_trusted_certificate. Cosockets
-- exist only in some phases: elsewhere (init, init_worker, set, log, header/body filters)
-- the transport refuses with a clear error rather than falling back to anything blocking.
local errors = require "aliyun.errors"

local ngx = rawget(_G, "ngx")

local transport = {}

local COSOCKET_PHASES = {
  rewrite = true, access = true, content = true, timer = true, ssl_cert = true,
  ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}

local DEFAULT_MAX_BODY = 64 * 1024 * 1024

-- Whether this code runs inside nginx (ngx_lua), whatever the phase.
function transport.inside_nginx()
  return ngx ~= nil and type(ngx.get_phase) == "function" and ngx.socket ~= nil
end

-- Whether this code runs inside nginx in a phase where cosockets work.
function transport.available()
  if not (ngx and ngx.socket and ngx.get_phase) then return false end
  return COSOCKET_PHASES[ngx.get_phase()] == true
end

local function fail(kind, message)
  return nil, errors.new { kind = kind, message = message }
end

-- "https://host:port/path?q" -> scheme, host, port, target, authority
local function parse_url(url)
  local scheme, authority, target = tostring(url):match("^(https?)://([^/?#]+)(.*)$")
  if not scheme then return nil end
  local host, port = authority:match("^%[([^%]]+)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:]+):?(%d*)$") end
  if not host then return nil end
  port = tonumber(port) or (scheme == "https" and 443 or 80)
  if target == "" then target = "/" end
  if target:sub(1, 1) == "?" then target = "/" .. target end
  return scheme, host, port, target, authority
end

local function kind_of(err)
  return (err == "timeout") and "timeout" or "network"
end

-- Reads a body of n bytes, within the limit.
local function read_exact(sock, n, max)
  if n > max then return nil, "response body larger than the limit of " .. max .. " bytes" end
  if n == 0 then return "" end
  return sock:receive(n)
end

local function read_chunked(sock, max)
  local parts, total = {}, 0
  while true do
    local line, err = sock:receive("*l")
    if not line then return nil, err end
    local size = tonumber(line:match("^%s*(%x+)"), 16)
    if not size then return nil, "bad chunk size line in the response" end
    if size == 0 then
      -- trailers, up to the empty line
      repeat
        line, err = sock:receive("*l")
        if not line then return nil, err end
      until line == ""
      return table.concat(parts)
    end
    total = total + size
    if total > max then return nil, "response body larger than the limit of " .. max .. " bytes" end
    local data
    data, err = sock:receive(size)
    if not data then return nil, err end
    parts[#parts + 1] = data
    line, err = sock:receive("*l") -- the CRLF after the chunk
    if not line then return nil, err end
  end
end

local function has_crlf(s)
  return s:find("[\r\n%z]") ~= nil
end

-- opts: verify_tls (default true), max_body, pool_size, keepalive_timeout (seconds),
--       connect_timeout, timeout (seconds, defaults when a request has none)
function transport.new(opts)
  opts = opts or {}
  local verify = opts.verify_tls ~= false
  local max_body = opts.max_body or DEFAULT_MAX_BODY
  local keepalive_ms = (opts.keepalive_timeout or 60) * 1000
  local pool_size = opts.pool_size or 64
  local t = {}

  function t.send(request)
    if not transport.available() then
      return fail("network", "the nginx transport needs cosockets, which the '"
        .. (ngx and ngx.get_phase and ngx.get_phase() or "?") .. "' phase does not have; "
        .. "call from rewrite, access, content or a timer (ngx.timer.at)")
    end
    local scheme, host, port, target, authority = parse_url(request.url)
    if not scheme then return fail("validation", "request URL is not http(s)://host/...") end
    local method = request.method or "GET"
    local body = request.body
    local lines = { method .. " " .. target .. " HTTP/1.1" }
    local have_host = false
    for k, v in pairs(request.headers or {}) do
      k, v = tostring(k), tostring(v)
      if has_crlf(k) or has_crlf(v) or k:find(":", 1, true) then
        return fail("validation", "request header value contains CR, LF or NUL")
      end
      local lk = k:lower()
      if lk == "host" then have_host = true end
      if lk ~= "content-length" and lk ~= "connection" then lines[#lines + 1] = k .. ": " .. v end
    end
    if not have_host then lines[#lines + 1] = "Host: " .. authority end
    if body or method == "POST" then lines[#lines + 1] = "Content-Length: " .. #(body or "") end
    lines[#lines + 1] = "Connection: keep-alive"
    local head = table.concat(lines, "\r\n") .. "\r\n\r\n"

    local connect_ms = math.floor((request.connect_timeout or opts.connect_timeout or 5) * 1000)
    local timeout_ms = math.floor((request.timeout or opts.timeout or 10) * 1000)
    local sock = ngx.socket.tcp()
    sock:settimeouts(connect_ms, timeout_ms, timeout_ms)
    local pool = scheme .. ":" .. host .. ":" .. port .. (verify and "" or ":noverify")
    local started = ngx.now()
    local ok, err = sock:connect(host, port, { pool = pool, pool_size = pool_size })
    if not ok then
      return fail(kind_of(err), "connect to " .. host .. ":" .. port .. " failed: " .. tostring(err))
    end
    local fresh_tls = false
    if scheme == "https" and sock:getreusedtimes() == 0 then
      fresh_tls = true
      -- false: no TLS session object wanted (kept-alive connections make resumption rare);
      -- asking for one trips an assertion in lua-resty-core when verification fails
      ok, err = sock:sslhandshake(false, host, verify)
      if not ok then
        sock:close()
        return fail(kind_of(err), "TLS handshake with " .. host .. ":" .. port .. " failed: " .. tostring(err))
      end
    end

    local sent
    sent, err = sock:send(body and (head .. body) or head)
    if not sent then
      sock:close()
      if fresh_tls and err == "closed" then
        -- ngx_lua can report a handshake whose certificate check failed as done and hand
        -- back a closed socket; the verification error is in nginx's error log
        return fail("network", "TLS handshake with " .. host .. ":" .. port
          .. " failed: the connection was closed during certificate verification")
      end
      return fail(kind_of(err), "sending to " .. host .. " failed: " .. tostring(err))
    end

    local status_line
    status_line, err = sock:receive("*l")
    if not status_line then
      sock:close()
      return fail(kind_of(err), "reading the response from " .. host .. " failed: " .. tostring(err))
    end
    local status = tonumber(status_line:match("^HTTP/1%.[01] (%d%d%d)"))
    if not status then
      sock:close()
      return fail("network", "not an HTTP/1.x response from " .. host)
    end
    local headers = {}
    while true do
      local line
      line, err = sock:receive("*l")
      if not line then
        sock:close()
        return fail(kind_of(err), "reading headers from " .. host .. " failed: " .. tostring(err))
      end
      if line == "" then break end
      local k, v = line:match("^([^:]+):%s*(.-)%s*$")
      if k then
        k = k:lower()
        headers[k] = headers[k] and (headers[k] .. ", " .. v) or v
      end
    end

    local response_body
    local te = headers["transfer-encoding"]
    local reusable = true
    if method == "HEAD" or status == 204 or status == 304 then
      response_body = ""
    elseif te and te:lower():find("chunked", 1, true) then
      response_body, err = read_chunked(sock, max_body)
    elseif headers["content-length"] then
      local n = tonumber(headers["content-length"])
      if not n or n < 0 then
        sock:close()
        return fail("network", "bad Content-Length in the response from " .. host)
      end
      response_body, err = read_exact(sock, n, max_body)
    else
      -- no length: the body runs to the end of the connection
      reusable = false
      local parts, total = {}, 0
      local reader = sock:receiveuntil("\0\0\0never\0\0\0")
      while true do
        local chunk, rerr, partial = reader(65536)
        local piece = chunk or partial
        if piece and #piece > 0 then
          total = total + #piece
          if total > max_body then
            err = "response body larger than the limit of " .. max_body .. " bytes"
            break
          end
          parts[#parts + 1] = piece
        end
        if not chunk then
          if rerr ~= "closed" then err = rerr end
          break
        end
      end
      if not err then response_body = table.concat(parts) end
    end
    if not response_body then
      sock:close()
      return fail(kind_of(err), "reading the body from " .. host .. " failed: " .. tostring(err))
    end

    local conn = (headers.connection or ""):lower()
    if reusable and conn ~= "close" then
      sock:setkeepalive(keepalive_ms, pool_size)
    else
      sock:close()
    end
    return { status = status, headers = headers, body = response_body, elapsed = ngx.now() - started }
  end

  -- Concurrent sends on light threads, at most `concurrency` at a time; entries are the
  -- response or an error object, in input order.
  function t.batch(requests, concurrency)
    local results = {}
    local next_index, n = 1, #requests
    local function worker()
      while next_index <= n do
        local i = next_index
        next_index = next_index + 1
        local r, err = t.send(requests[i])
        results[i] = r or err
      end
    end
    local threads = {}
    for k = 1, math.min(concurrency or 16, n) do
      threads[k] = ngx.thread.spawn(worker)
    end
    for _, th in ipairs(threads) do ngx.thread.wait(th) end
    return results
  end

  return t
end

return transport
