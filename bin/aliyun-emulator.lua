-- The Lua half of bin/aliyun-emulator: reads the options, writes nginx's prefix (config,
-- emulator options, certificate) and prints its path for the shell half, which runs nginx
-- in the foreground and cleans up on SIGINT/SIGTERM (a Lua script cannot trap signals).
local server = require "aliyun.emulator.server"

local USAGE = [==[
usage: aliyun-emulator --port N [--tls-port M] [--seed S] [--key ID:SECRET[:TOKEN][@ACCOUNT]]...
       [--delay NAME=SECONDS]... [--rate-limit R] [--state FILE] [--strict]
       aliyun-emulator --coverage

Serves a local emulator of ECS (2014-05-26) and ENS (2017-11-10) on 127.0.0.1 until Ctrl-C.
  --port N          HTTP port
  --tls-port M      also HTTPS on port M, with a self-signed certificate for 127.0.0.1
  --seed S          seed of the generated ids (default 1)
  --key ID:SECRET   an accepted key pair (default testid:testsecret); ID:SECRET:TOKEN for STS;
                    @ACCOUNT puts the key in that account (keys without one share the default
                    account; accounts never see each other's resources)
  --delay NAME=S    seconds a transition takes: instance_create, instance_start, instance_stop,
                    disk_create, disk_attach, disk_detach, snapshot_create, vpc_create,
                    vswitch_create, invocation, ... (0 for immediate)
  --state FILE      load the world from FILE at start (when it exists), save it there at a clean stop
  --strict          answers outside the response models and unread parameters are errors
  --coverage        print what is emulated (per action, the parameters honoured) and exit
  --rate-limit R    answer Throttling beyond R requests per second per AccessKeyId
Control endpoint: POST /_emulator/faults, /_emulator/reset, /_emulator/clock with Content-Type:
application/json and a loopback Host (see README).
]==]

local function fail(msg)
  io.stderr:write("aliyun-emulator: ", msg, "\n")
  os.exit(2)
end

local opts = { keys = nil, delays = {} }
local i = 1
while i <= #arg do
  local a = arg[i]
  local v = arg[i + 1]
  if a == "--help" or a == "-h" then
    io.stderr:write(USAGE)
    os.exit(0)
  elseif a == "--rate-limit" then
    local n = tonumber(v)
    if not n or n <= 0 then fail("--rate-limit takes requests per second") end
    opts.rate_limit = n
    i = i + 2
  elseif a == "--port" or a == "--tls-port" or a == "--seed" then
    local n = tonumber(v)
    if not n or n ~= math.floor(n) or n < 0 or (a ~= "--seed" and (n < 1 or n > 65535)) then
      fail(a .. " takes a number")
    end
    if a == "--port" then opts.port = n elseif a == "--tls-port" then opts.tls_port = n else opts.seed = n end
    i = i + 2
  elseif a == "--key" then
    local spec, account = (v or ""), nil
    local at = spec:find("@[^@]*$")
    if at then spec, account = spec:sub(1, at - 1), spec:sub(at + 1) end
    local id, secret, token = spec:match("^([^:]+):([^:]+):?(.*)$")
    if not id or account == "" then fail("--key takes ID:SECRET, ID:SECRET:TOKEN, optionally followed by @ACCOUNT") end
    opts.keys = opts.keys or {}
    opts.keys[id] = { secret = secret, security_token = token ~= "" and token or nil, account = account }
    i = i + 2
  elseif a == "--state" then
    if not v or v == "" then fail("--state takes a file") end
    -- nginx runs elsewhere: the path must not depend on the current directory
    if v:sub(1, 1) ~= "/" then v = (os.getenv("PWD") or ".") .. "/" .. v end
    opts.state = v
    i = i + 2
  elseif a == "--strict" then
    opts.strict = true
    i = i + 1
  elseif a == "--coverage" then
    io.write(require("aliyun.emulator.coverage").markdown(), "\n")
    os.exit(0)
  elseif a == "--delay" then
    local name, s = (v or ""):match("^([%w_]+)=([%d.]+)$")
    if not name then fail("--delay takes NAME=SECONDS") end
    opts.delays[name] = tonumber(s)
    i = i + 2
  else
    fail("unknown argument " .. tostring(a) .. "\n" .. USAGE)
  end
end
if not opts.port then fail("--port is required\n" .. USAGE) end
if opts.tls_port == opts.port then fail("--tls-port must differ from --port") end

opts.daemon = false
local p, err = server.prepare(opts)
if not p then fail(err) end
local key_note = opts.keys and "the keys given" or "key testid / testsecret"
io.stderr:write(string.format("aliyun-emulator: ECS and ENS on http://127.0.0.1:%d%s (%s); Ctrl-C stops\n"
  .. "aliyun-emulator: nginx files in %s (removed on exit)\n",
  opts.port, opts.tls_port and (" and https://127.0.0.1:" .. opts.tls_port) or "", key_note, p.prefix))
io.write(p.prefix, "\n")
