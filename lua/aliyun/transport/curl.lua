-- The libcurl transport: send(request) over a keep-alive session of the C core.
local core = require "aliyun.core"
local errors = require "aliyun.lazy" "aliyun.errors" -- loaded by the first failure

local curl = {}

-- A response of the session's fused call (session:v1_call) in the shape send() returns.
-- (aliyun.transport.response is loaded when a response is first made: a fresh process's
-- first successful call needs none.)
function curl.response(status, body, raw_headers)
  return require("aliyun.transport.response").new(status, body, raw_headers)
end

-- opts: connect_timeout, timeout (seconds), verify_tls (default true), ca_file, proxy,
--       no_proxy, user_agent, max_body. Returns a transport {send = function(request)}.
function curl.new(opts)
  opts = opts or {}
  local session -- created on first use, so building a client never touches the network stack
  local transport = {}

  local function get_session()
    if not session then
      session = core.session {
        connect_timeout = opts.connect_timeout, timeout = opts.timeout,
        verify_tls = opts.verify_tls, ca_file = opts.ca_file, proxy = opts.proxy,
        no_proxy = opts.no_proxy, user_agent = opts.user_agent, max_body = opts.max_body,
        raw_headers = true,
      }
    end
    return session
  end

  function transport.send(request)
    local response, message, kind, sent = get_session():request(request)
    if not response then
      return nil, errors.new { kind = kind, message = message, sent = sent }
    end
    return require("aliyun.transport.response").lazy(response)
  end

  -- transport.batch(requests, concurrency[, on_done[, count]]): sent concurrently by the C
  -- core (its own connections; curl multi through a proxy). requests is a list, or a
  -- function making request i (1..count) when its turn comes (false: nothing to send for
  -- i). The outcome of request i (its response or an error object) goes to on_done(i,
  -- outcome) as soon as it is in; without on_done, the list of outcomes is returned.
  -- (the session's answers carry the raw header block: the headers table is made if read)
  local function outcome(r)
    if r.error then return errors.new { kind = r.kind, message = r.error, sent = r.sent } end
    return require("aliyun.transport.response").lazy(r)
  end

  function transport.batch(requests, concurrency, on_done, count)
    if on_done then
      get_session():batch(requests, concurrency, function(i, r) on_done(i, outcome(r)) end, count)
      return {}
    end
    local raw = get_session():batch(requests, concurrency)
    for i = 1, #requests do raw[i] = outcome(raw[i]) end
    return raw
  end

  -- The session itself, for the client's fused call (session:v1_call): sign, send and
  -- decode in one C call, with no request or response table.
  transport.session = get_session

  function transport.close()
    if session then session:close() end
    session = nil
  end

  return transport
end

return curl
