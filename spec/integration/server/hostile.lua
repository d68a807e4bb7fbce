-- An nginx content handler that answers like a hostile or broken server: it takes over the
-- request's socket and writes raw bytes (?case=NAME). Endless answers stop when the client
-- goes away, after MAX_BYTES or after MAX_SECONDS, so that no spec can hang on one.
--   ngx.shared.hostile (a lua_shared_dict) counts the requests each case received.
local MAX_BYTES = 8 * 1024 * 1024
local MAX_SECONDS = 15

local function stream(sock, head, piece)
  local sent, started = 0, ngx.now()
  if not sock:send(head) then return end
  while sent < MAX_BYTES and ngx.now() - started < MAX_SECONDS do
    if not sock:send(piece) then return end
    sent = sent + #piece
  end
end

-- Sends body one byte every `gap` seconds.
local function trickle(sock, head, body, gap)
  if not sock:send(head) then return end
  for i = 1, #body do
    ngx.sleep(gap)
    if not sock:send(body:sub(i, i)) then return end
  end
end

local OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

local CASES = {
  -- a header line that never ends
  long_line = function(sock) stream(sock, "HTTP/1.1 200 OK\r\nX-Long: ", string.rep("a", 65536)) end,
  -- 40,000 headers of one name (each small): the line count is the first limit it meets
  many_headers = function(sock)
    sock:send("HTTP/1.1 200 OK\r\n" .. string.rep("X-R: v\r\n", 40000) .. "Content-Length: 2\r\n\r\nok")
  end,
  -- 400 lines of 3,000 bytes: each line fine, the head over 300 KiB
  fat_headers = function(sock)
    sock:send("HTTP/1.1 200 OK\r\n" .. string.rep("X-F: " .. string.rep("f", 3000) .. "\r\n", 400)
      .. "Content-Length: 2\r\n\r\nok")
  end,
  -- interim answers without end
  interim_flood = function(sock) stream(sock, "", string.rep("HTTP/1.1 100 Continue\r\n\r\n", 1000)) end,
  -- 69 bytes of body, one every 0.1 s: each read is quick, the whole answer takes 6.9 s
  slow_body = function(sock)
    local body = string.rep("x", 69)
    trickle(sock, "HTTP/1.1 200 OK\r\nContent-Length: 69\r\n\r\n", body, 0.1)
  end,
  bad_chunk = function(sock) sock:send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n") end,
  negative_chunk = function(sock) sock:send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nab\r\n0\r\n\r\n") end,
  huge_chunk = function(sock)
    sock:send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nab\r\n0\r\n\r\n")
  end,
  long_chunk_line = function(sock)
    stream(sock, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;", string.rep("e", 4096))
  end,
  status_2000 = function(sock) sock:send("HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok") end,
  status_600 = function(sock) sock:send("HTTP/1.1 600 Odd\r\nContent-Length: 2\r\n\r\nok") end,
  status_099 = function(sock) sock:send("HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nok") end,
  continue = function(sock) sock:send("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" .. OK) end,
  huge_body = function(sock)
    stream(sock, "HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n", string.rep("b", 65536))
  end,
}

return function()
  local case = ngx.var.arg_case
  local counts = ngx.shared.hostile
  if counts then counts:incr(case or "?", 1, 0) end
  local handler = CASES[case]
  if not handler then
    ngx.status = 404
    ngx.say("no case ", tostring(case))
    return
  end
  local sock = assert(ngx.req.socket(true))
  handler(sock)
  sock:close()
end
