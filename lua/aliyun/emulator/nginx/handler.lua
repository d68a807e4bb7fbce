-- The emulator inside nginx (ngx_lua, LuaJIT): init() builds the emulator in the master
-- from the options file the server wrote; serve() turns each request into the transport
-- interface's shape, asks the emulator, and answers, honouring injected latency (ngx.sleep,
-- which does not block the worker) and closed connections (cut off mid-answer).
local emulator = require "aliyun.emulator"
local json = require "aliyun.json"

local handler = {}

local emu

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- options file: {"keys": {...}, "delays": {...}, "seed": n, "rate_limit": n, "answer_cache": false, ...}
function handler.init(options_path)
  local opts = {}
  local text = options_path and read(options_path)
  if text and text ~= "" then
    local o = assert(json.decode(text))
    opts.keys, opts.delays, opts.seed, opts.rate_limit = o.keys, o.delays, o.seed, o.rate_limit
    opts.strict, opts.ram_roles = o.strict == true, o.ram_roles
    opts.answer_cache = o.answer_cache ~= false
    if type(o.state) == "string" then opts.state = o.state end
    if opts.keys then
      for _, k in pairs(opts.keys) do
        if k.security_token == json.null then k.security_token = nil end
      end
    end
  end
  opts.now = ngx.now
  -- here the world changes only by requests: a Describe's answer can be kept (see the
  -- router), unless the options say not to (the bench measures answers made afresh that way)
  if opts.answer_cache == nil then opts.answer_cache = true end
  emu = emulator.new(opts)
end

-- At a clean stop (exit_worker): the state goes to the --state file, when there is one.
function handler.save()
  if emu and emu.opts.state then
    local ok, err = emu:save()
    if not ok then ngx.log(ngx.ERR, "aliyun-emulator: could not save the state: ", err) end
  end
end

local concat = table.concat

-- The request in the transport interface's shape. The header table comes with lower-case
-- names already (a header given twice is a list, joined here); a body is read only when the
-- request says it has one.
local function request()
  local req, var = ngx.req, ngx.var
  local headers = req.get_headers(200)
  for k, v in pairs(headers) do
    if type(v) == "table" then headers[k] = concat(v, ",") end
  end
  local body
  if headers["content-length"] or headers["transfer-encoding"] then
    req.read_body()
    body = req.get_body_data()
  end
  local uri = var.request_uri
  local r = {
    method = req.get_method(),
    url = var.scheme .. "://" .. (headers.host or (var.server_addr .. ":" .. var.server_port)) .. uri,
    headers = headers,
    body = body,
    pieces = true, -- a JSON answer may come as a list of strings: ngx.print writes them as they are
  }
  -- the control endpoint checks that the Host names the port the request came in on
  if uri:sub(1, 11) == "/_emulator/" then r.server_port = tonumber(var.server_port) end
  return r
end

function handler.serve()
  if not emu then handler.init() end
  local resp = emu:handle(request())
  if resp.delay then ngx.sleep(resp.delay) end
  if resp.close then
    -- Drop the connection in the middle of an answer: a reply that never started would be
    -- resent by clients on a reused keep-alive connection (libcurl does), a cut-off one is not.
    ngx.status = 200
    ngx.header["Content-Type"] = "application/json;charset=utf-8"
    ngx.header["Content-Length"] = 4096
    ngx.print('{"RequestId":')
    ngx.flush(true)
    return ngx.exit(444)
  end
  ngx.status = resp.status
  -- the emulator's Date (its clock may be advanced) lets clients correct their skew
  for k, v in pairs(resp.headers or {}) do ngx.header[k] = v end
  local body = resp.body or ""
  -- the length, as the service sends it: without one nginx frames the answer in chunks and
  -- ends it with a chunk of its own, sent apart (a second write and TCP segment per answer)
  local length = 0
  if type(body) == "table" then
    for i = 1, #body do length = length + #body[i] end
  else
    length = #body
  end
  ngx.header["Content-Length"] = length
  ngx.print(body)
end

return handler
