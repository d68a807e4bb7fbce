-- The OpenResty transport: it only moves bytes. The C core writes the request
-- (core.http_request, core.v1_request) and parses the answer (core.response_reader: the
-- same parser and limits as the direct path: header line, header count, header bytes,
-- body); this file connects with ngx.socket.tcp, so a call yields to nginx's event loop
-- instead of blocking the worker, sends, and feeds what it receives to the reader. A
-- request's timeout bounds the whole exchange, not each read. Connections go back to
-- nginx's keep-alive pool after an answer that allows it; TLS is verified against
-- lua_ssl_trusted_certificate. Cosockets exist only in some phases: elsewhere (init,
-- init_worker, set, log, header/body filters) the transport refuses with a clear error
-- rather than falling back to anything blocking.
local core = require "aliyun.core"
local errors = require "aliyun.errors"
local lazy_response = require "aliyun.transport.response"

local ngx = rawget(_G, "ngx")

local transport = {}

local COSOCKET_PHASES = {
  rewrite = true, access = true, content = true, timer = true, ssl_cert = true,
  ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}

local DEFAULT_MAX_BODY = 64 * 1024 * 1024
local RECEIVE_SIZE = 65536

-- Whether this code runs inside nginx (ngx_lua), whatever the phase.
function transport.inside_nginx()
  return ngx ~= nil and type(ngx.get_phase) == "function" and ngx.socket ~= nil
end

-- Whether this code runs inside nginx in a phase where cosockets work.
function transport.available()
  if not (ngx and ngx.socket and ngx.get_phase) then return false end
  return COSOCKET_PHASES[ngx.get_phase()] == true
end

-- sent = false: the request provably never reached the server (so sending it again is
-- safe whatever it does).
local function fail(kind, message, sent)
  return nil, errors.new { kind = kind, message = message, sent = sent }
end

local function kind_of(err)
  return (err == "timeout") and "timeout" or "network"
end

-- origin "scheme://authority" -> {tls, host, port, where}, parsed once per origin (a
-- gateway talks to a few; the table starts afresh should one use very many)
local origins, origin_count = {}, 0

local function origin_of(key)
  local o = origins[key]
  if o then return o end
  local scheme, host, port = core.parse_origin(key)
  if not scheme then return nil end
  o = { tls = scheme == "https", host = host, port = port, where = host .. ":" .. port }
  if origin_count >= 256 then origins, origin_count = {}, 0 end
  origins[key], origin_count = o, origin_count + 1
  return o
end

local function ms(seconds)
  local v = math.floor(seconds * 1000)
  return v < 1 and 1 or v
end

local function not_available()
  return fail("network", "the nginx transport needs cosockets, which the '"
    .. (ngx and ngx.get_phase and ngx.get_phase() or "?") .. "' phase does not have; "
    .. "call from rewrite, access, content or a timer (ngx.timer.at)", false)
end

-- What is left of the time until deadline, set on sock as its timeout; nil once it is
-- used up.
local function time_left(sock, deadline)
  local left = deadline - ngx.now()
  if left <= 0 then return nil end
  sock:settimeout(ms(left))
  return left
end

-- The string to sign of a request core.v1_request wrote, from its first piece (method and
-- target); made only when a call failed, to explain a refused signature.
local function string_to_sign_of(line)
  local method, target = line:match("^(%u+) (.*)$")
  return method and require("aliyun.signer").v1_string_to_sign_of(method, target) or nil
end

local function out_of_time(sock, o)
  sock:close()
  return fail("timeout", "connecting to " .. o.where .. " used up the timeout", false)
end

-- The request's two pieces as sock:send takes them; send copies them before it returns
-- (even when it then waits), so one table serves every call.
local pieces = {}

-- opts: verify_tls (default true), max_body, pool_size, keepalive_timeout (seconds),
--       connect_timeout, timeout (seconds, defaults when a request has none), user_agent
function transport.new(opts)
  opts = opts or {}
  local verify = opts.verify_tls ~= false
  local max_body = opts.max_body or DEFAULT_MAX_BODY
  local keepalive_ms = (opts.keepalive_timeout or 60) * 1000
  local pool_size = opts.pool_size or 64
  local default_connect, default_timeout = opts.connect_timeout or 5, opts.timeout or 10
  local t = {}
  local connect_opts = {} -- origin -> the options of sock:connect for it

  -- Response readers kept for reuse, each ready for a GET's answer with this transport's
  -- limit: a reader's buffers serve many answers (a worker allocating two fresh buffers
  -- per call spent a good part of its time in malloc).
  local readers, reader_count = {}, 0

  local function take_reader(head)
    local r
    if reader_count > 0 then
      r = readers[reader_count]
      readers[reader_count], reader_count = nil, reader_count - 1
      if head then r:reset(max_body, true) end
      return r
    end
    return core.response_reader(max_body, head)
  end

  -- ready: the reader is already ready for another answer (feed(bytes, true) made it so)
  local function give_reader(r, ready)
    if reader_count < 32 then
      if not ready then r:reset(max_body) end
      reader_count = reader_count + 1
      readers[reader_count] = r
    end
  end

  -- Sends the request (its bytes in two pieces, line .. rest, as the C core writes them) to
  -- origin key and reads the answer into a response reader, all within timeout seconds
  -- (connecting within connect_timeout of them). Returns the reader (give it back with
  -- give_reader once read), or nil and an error object. With decode, a 2xx JSON answer
  -- comes back decoded instead: the result table, and true.
  local function exchange(key, line, rest, head, timeout, connect_timeout, decode)
    local o = origin_of(key)
    if not o then return fail("validation", "request URL is not http(s)://host/...", false) end
    timeout = timeout or default_timeout
    local now = ngx.now()
    local deadline = now + timeout
    local sock = ngx.socket.tcp()
    local connect_ms = ms(math.min(connect_timeout or default_connect, timeout))
    sock:settimeouts(connect_ms, ms(timeout), ms(timeout))
    local copts = connect_opts[key]
    if not copts then
      copts = { pool = verify and key or (key .. ":noverify"), pool_size = pool_size }
      connect_opts[key] = copts
    end
    local ok, err = sock:connect(o.host, o.port, copts)
    if not ok then
      return fail(kind_of(err), "connect to " .. o.where .. " failed: " .. tostring(err), false)
    end
    -- only TLS asks whether the connection is new (for its handshake): a plain one just
    -- takes what is left of the time if connecting took any
    local reused = not o.tls or sock:getreusedtimes() > 0
    if not reused or ngx.now() ~= now then
      if not time_left(sock, deadline) then return out_of_time(sock, o) end
      if o.tls and not reused then
        -- false: no TLS session object wanted (kept-alive connections make resumption
        -- rare); asking for one trips an assertion in lua-resty-core when verification fails
        ok, err = sock:sslhandshake(false, o.host, verify)
        if not ok then
          sock:close()
          return fail(kind_of(err), "TLS handshake with " .. o.where .. " failed: " .. tostring(err), false)
        end
        if not time_left(sock, deadline) then return out_of_time(sock, o) end
      end
    end
    pieces[1], pieces[2] = line, rest
    local sent
    sent, err = sock:send(pieces)
    pieces[1], pieces[2] = nil, nil
    if not sent then
      sock:close()
      if o.tls and not reused and err == "closed" then
        -- ngx_lua can report a handshake whose certificate check failed as done and hand
        -- back a closed socket; the verification error is in nginx's error log
        return fail("network", "TLS handshake with " .. o.where
          .. " failed: the connection was closed during certificate verification", false)
      end
      return fail(kind_of(err), "sending to " .. o.where .. " failed: " .. tostring(err))
    end

    local reader = take_reader(head)
    while true do
      -- each read waits only for what is left of the whole exchange's time
      if ngx.now() ~= now then
        now = ngx.now()
        if not time_left(sock, deadline) then err = "timeout" break end
      end
      local data
      data, err = sock:receiveany(RECEIVE_SIZE)
      local done, message, kind
      if data then
        done, message, kind = reader:feed(data, decode) -- message: keep_alive when done
      elseif err == "closed" then
        done, message, kind = reader:eof()
      else
        break
      end
      if done then
        if message then sock:setkeepalive(keepalive_ms, pool_size) else sock:close() end
        if done ~= true then -- decoded, and the reader readied, by feed
          give_reader(reader, true)
          return done, true
        end
        return reader
      end
      if done == nil then
        sock:close()
        give_reader(reader)
        return fail(kind, message .. " (from " .. o.where .. ")")
      end
    end
    sock:close()
    give_reader(reader)
    if err == "timeout" then
      return fail("timeout", "reading the response from " .. o.where .. " timed out after "
        .. ms(timeout) .. " ms")
    end
    return fail("network", "reading the response from " .. o.where .. " failed: " .. tostring(err))
  end

  function t.send(request)
    if not transport.available() then return not_available() end
    local line, rest, key = core.http_request(request, opts.user_agent)
    if not line then return fail(key, rest, false) end -- nil, message, kind
    local started = ngx.now()
    local reader, err = exchange(key, line, rest, request.method == "HEAD", request.timeout, request.connect_timeout)
    if not reader then return nil, err end
    local response = reader:response()
    give_reader(reader)
    response.elapsed = ngx.now() - started
    return lazy_response.lazy(response)
  end

  -- The client's common call (a V1 call whose parameters all go in the query) in one
  -- step, with the arguments and results of the direct path's session:v1_call: the C core
  -- signs and writes the request (core.v1_request), this transport moves the bytes, the C
  -- core parses the answer and decodes its JSON. Returns the decoded table; false, status,
  -- body, raw_headers, string_to_sign for any other answer; nil, message, kind,
  -- string_to_sign, sent for a failure; a lone false for an origin it does not take.
  function t.v1_call(_, origin, method, query, secret, action, version, access_key_id, security_token,
                     nonce, timestamp, timeout, connect_timeout)
    if not transport.available() then
      local _, err = not_available()
      return nil, err.message, err.kind, nil, false
    end
    local line, rest = core.v1_request(origin, method, query, secret, action, version, access_key_id,
      security_token, nonce, timestamp, opts.user_agent)
    if not line then return false end
    local reader, err = exchange(origin, line, rest, false, timeout, connect_timeout, true)
    if not reader then return nil, err.message, err.kind, string_to_sign_of(line), err.sent end
    if err then return reader end -- the decoded answer
    local result, status, body, raw = reader:decode()
    give_reader(reader)
    if result then return result end
    return false, status, body, raw, string_to_sign_of(line)
  end

  -- The transport itself, as the client asks a transport for the object of its common
  -- call (t:v1_call).
  function t.session() return t end

  -- Concurrent sends on light threads, at most `concurrency` at a time. The outcome of
  -- requests[i] (its response or an error object) goes to on_done(i, outcome) as soon as
  -- it is in; without on_done, the list of outcomes is returned.
  -- requests may also be a function making request i (1..count) when its turn comes
  -- (false: nothing to send for i), as for the other built-in transport.
  function t.batch(requests, concurrency, on_done, count)
    local results = {}
    local made = type(requests) == "function"
    local next_index, n = 1, made and count or #requests
    local function worker()
      while next_index <= n do
        local i = next_index
        next_index = next_index + 1
        local request = made and requests(i) or (not made and requests[i])
        if request then
          local r, err = t.send(request)
          if on_done then on_done(i, r or err) else results[i] = r or err end
        end
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
