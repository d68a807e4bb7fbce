-- Shared helpers for the benchmarks: paths, bounded timing loops, RSS, the static nginx,
-- running the Node.js peer, and the row format run.lua collects.
local lib = {}

lib.ROOT = (debug.getinfo(1, "S").source:sub(2):match("^(.*)/bench/lib%.lua$")) or "."
local ROOT = lib.ROOT
package.path = table.concat({ ROOT .. "/lua/?.lua", ROOT .. "/lua/?/init.lua", ROOT .. "/spec/?.lua",
  ROOT .. "/bench/?.lua", package.path }, ";")
-- the core built for the interpreter running the bench (LUA=luajit runs them under LuaJIT)
package.cpath = ROOT .. (jit and "/build/luajit/?.so;" or "/build/5.4/?.so;") .. package.cpath

local core = require "aliyun.core"
lib.core = core
lib.now = core.monotonic

-- Calls fn() in chunks of `chunk` until max_iter calls or `seconds` have passed, after a
-- short warm-up. Returns calls per second and the number of calls made.
function lib.rate(fn, max_iter, seconds, chunk)
  chunk = chunk or 100
  for _ = 1, math.min(chunk, max_iter) do fn() end
  local n, t0 = 0, lib.now()
  local t = t0
  while n < max_iter and t - t0 < seconds do
    for _ = 1, chunk do fn() end
    n = n + chunk
    t = lib.now()
  end
  return n / (t - t0), n
end

-- Best of `runs` rates: the figure least disturbed by the rest of the machine.
function lib.best_rate(runs, fn, max_iter, seconds, chunk)
  local best = 0
  for _ = 1, runs do
    local r = lib.rate(fn, max_iter, seconds, chunk)
    if r > best then best = r end
  end
  return best
end

function lib.median(list)
  local t = {}
  for i, v in ipairs(list) do t[i] = v end
  table.sort(t)
  local n = #t
  local h = math.floor(n / 2) -- no // : the benches also run under LuaJIT (LUA=luajit)
  if n % 2 == 1 then return t[h + 1] end
  return (t[h] + t[h + 1]) / 2
end

-- Resident set size of this process in kB (VmRSS in /proc/self/status).
function lib.rss_kb()
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("*a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

function lib.ncpu()
  local n = 0
  for line in io.lines("/proc/cpuinfo") do
    if line:match("^processor%s*:") then n = n + 1 end
  end
  return math.max(n, 1)
end

lib.PIN = os.getenv("BENCH_PIN") == "1" and lib.ncpu() > 1

function lib.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function lib.capture(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  local ok = p:close()
  return out, ok
end

-- A tiny JSON encoder for the values the benches hand to Node (strings, numbers, tables).
local function enc(v)
  local t = type(v)
  if t == "string" then
    return '"' .. v:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end) .. '"'
  elseif t == "number" or t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    if #v > 0 then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = enc(x) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = enc(tostring(k)) .. ":" .. enc(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return "null"
end
lib.json_encode = enc

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end
lib.shell_quote = shell_quote

-- True when pop-core is installed (make bench installs it).
function lib.have_node_peer()
  return lib.read(ROOT .. "/bench/node/node_modules/@alicloud/pop-core/package.json") ~= nil
end

-- Runs bench/node/<script> with a JSON argument; returns the decoded JSON it prints, or nil, why.
function lib.node(script, arg)
  if not lib.have_node_peer() then return nil, "pop-core not installed (run make bench)" end
  local out, ok = lib.capture("node " .. ROOT .. "/bench/node/" .. script .. " " .. shell_quote(enc(arg)) .. " 2>&1")
  local line = out:match("(%b{})%s*$")
  if not ok or not line then return nil, "node " .. script .. " failed: " .. out:sub(1, 300) end
  return core.json_decode(line)
end

-- The nginx every network bench talks to, on 127.0.0.1. The client always sends to "/", so
-- the answer is chosen by the Action query parameter (V1 GET puts it in the query):
--   DescribeRegions  a small static JSON body from nginx itself (no Lua): the calls bench
--   DescribeZones    the same body after 20 ms (ngx.sleep): the batch bench
--   anything else    spec/integration/server/echo.lua: verifies the signature, echoes
lib.SMALL_BODY = '{"RequestId":"0F2C5C8A-3B7B-4E4B-9F7A-6A2C1C9D2E01","Regions":{"Region":'
  .. '[{"RegionId":"cn-hangzhou","LocalName":"China (Hangzhou)","RegionEndpoint":"ecs.cn-hangzhou.aliyuncs.com"}]}}'
lib.STATIC_PATH = "/?Action=DescribeRegions"

function lib.start_nginx()
  local nginx = require "support.nginx"
  return nginx.start {
    -- BENCH_PIN=1: the nginx worker on the last CPU; run.lua keeps the clients on CPU 0
    main = lib.PIN and ("worker_cpu_affinity 1" .. string.rep("0", lib.ncpu() - 1) .. ";\n") or nil,
    http = [[
      keepalive_requests 10000000;
      keepalive_timeout 120s;
      server {
        listen 127.0.0.1:${PORT};
        client_body_buffer_size 1m;
        location = / {
          default_type application/json;
          if ($arg_Action = "DescribeRegions") { return 200 ']] .. lib.SMALL_BODY .. [['; }
          content_by_lua_block {
            if ngx.var.arg_Action == "DescribeZones" then
              ngx.sleep(0.02)
              ngx.header["Content-Type"] = "application/json"
              ngx.print(']] .. lib.SMALL_BODY .. [[')
              return
            end
            require("integration.server.echo")()
          }
        }
      }
    ]],
  }
end

-- The server URL given by run.lua (BENCH_URL), or a private nginx started for this process.
function lib.server()
  local url = os.getenv("BENCH_URL")
  if url and url ~= "" then return { url = url, stop = function() end } end
  return lib.start_nginx()
end

-- An ECS client over libcurl to base_url/path, with fixed test credentials.
function lib.ecs(endpoint, opts)
  local o = { endpoint = endpoint, access_key_id = "testid", access_key_secret = "testsecret",
    region = "cn-hangzhou" }
  for k, v in pairs(opts or {}) do o[k] = v end
  return require("aliyun").ecs(o)
end

-- CPU seconds (user + system) used so far by the worker processes of the nginx whose prefix
-- is given (utime and stime from /proc/PID/stat).
function lib.workers_cpu(prefix)
  local master = (lib.read(prefix .. "/nginx.pid") or ""):match("%d+")
  local ticks = 0
  for pid in lib.capture("pgrep -P " .. tostring(master)):gmatch("%d+") do
    local stat = lib.read("/proc/" .. pid .. "/stat") or ""
    -- fields after the command name (which is in parentheses): state is field 3
    local rest = stat:match("%) (.*)$") or ""
    local f = {}
    for x in rest:gmatch("%S+") do f[#f + 1] = x end
    ticks = ticks + (tonumber(f[12]) or 0) + (tonumber(f[13]) or 0) -- utime, stime
  end
  local hz = tonumber(lib.capture("getconf CLK_TCK"):match("%d+")) or 100
  return ticks / hz
end

-- wrk's output (and whether it exited well) -> requests/s and the number of requests, or nil
-- and why. Any non-2xx answer or socket error voids the figure: a fast error page is no answer.
function lib.wrk_parse(out, ok)
  local rps = ok and tonumber(out:match("Requests/sec:%s*([%d.]+)"))
  local n = tonumber(out:match("(%d+) requests in"))
  if not rps or not n or n == 0 then return nil, "wrk failed: " .. out:sub(1, 300) end
  if out:find("Non%-2xx") or out:find("Socket errors") then
    return nil, "wrk saw errors: " .. out:gsub("%s+", " "):sub(1, 300)
  end
  return rps, n
end

-- Rows: every bench prints lines "ROW\twhat\tours\ttheirs\tratio\ttarget\tmet"; run.lua
-- gathers them into one table. met is "yes", "NO" or "n/a".
function lib.row(what, ours, theirs, ratio, target, met)
  local function s(v) return v == nil and "-" or tostring(v) end
  local m = met
  if type(met) == "boolean" then m = met and "yes" or "NO" end
  io.write(table.concat({ "ROW", s(what), s(ours), s(theirs), s(ratio), s(target), s(m) }, "\t"), "\n")
  io.stdout:flush()
end

function lib.note(text)
  io.write("NOTE\t", text, "\n")
  io.stdout:flush()
end

function lib.fmt_rate(r)
  if r >= 1e6 then return string.format("%.2f M/s", r / 1e6) end
  if r >= 1e4 then return string.format("%.0f k/s", r / 1e3) end
  return string.format("%.0f /s", r)
end

function lib.fmt_ratio(x)
  return string.format("%.2fx", x)
end

return lib
