-- What one SDK call costs an OpenResty gateway, in instructions: the gateway of
-- bench/gateway.lua (the same three locations: /sdk, /floor, /proxy) runs as one nginx
-- process under callgrind, and each location serves N sequential keep-alive requests after
-- a warm-up; the count is the worker's user-space instructions per request. Unlike CPU
-- time on a shared host, the count is the same from run to run, so it shows what a change
-- to the SDK's path moves; it leaves out the kernel (about half of a request's CPU time,
-- and about the same for the three locations). Not in `make bench`'s default list: it
-- needs valgrind and takes about a minute. Run: lua5.4 bench/run.lua gateway_ir
package.path = (arg and arg[0] and arg[0]:match("^(.*)/[^/]+$") or "bench") .. "/?.lua;" .. package.path
local lib = require "lib"
local gateway_conf = require "gateway_conf"

local N = tonumber(os.getenv("BENCH_GATEWAY_IR_CALLS")) or 2000
local WARM = 300
local PATHS = { "sdk", "floor", "proxy" }

local function sh(cmd)
  local ok = os.execute(cmd)
  return ok == true or ok == 0
end

-- n sequential keep-alive GETs of url; any answer but a 200 is an error.
local function drive(url, n)
  local s = lib.core.session {}
  for i = 1, n do
    local r, err = s:request { url = url, timeout = 60 }
    if not r then error(url .. ": request " .. i .. ": " .. tostring(err)) end
    if r.status ~= 200 then error(url .. ": request " .. i .. " answered " .. r.status .. ": " .. r.body:sub(1, 200)) end
  end
  s:close()
end

-- The instructions callgrind counted in one dump file.
local function dump_total(path)
  local text = lib.read(path) or ""
  return tonumber(text:match("\nsummary:%s*(%d+)") or text:match("\ntotals:%s*(%d+)"))
end

local function run()
  if not sh("command -v valgrind >/dev/null 2>&1 && command -v callgrind_control >/dev/null 2>&1") then
    lib.row("OpenResty gateway, instructions per request", "valgrind not installed", "-", "-", "(info)", "n/a")
    return
  end
  local server = lib.server()
  local dir = lib.capture("mktemp -d /tmp/aliyun-gwir.XXXXXX"):match("%S+")
  local port = 20000 + math.random(0, 30000)
  local R = lib.ROOT
  local conf = table.concat {
    "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n",
    "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n",
    lib.capture("id -u"):match("^0") and "user root root;\n" or "",
    "daemon off;\nmaster_process off;\nworker_processes 1;\n",
    "pid ", dir, "/nginx.pid;\nerror_log ", dir, "/error.log warn;\n",
    "events { worker_connections 1024; }\n",
    "http {\n  access_log off;\n",
    "  client_body_temp_path ", dir, "/body; proxy_temp_path ", dir, "/proxy;\n",
    "  fastcgi_temp_path ", dir, "/fcgi; uwsgi_temp_path ", dir, "/uwsgi; scgi_temp_path ", dir, "/scgi;\n",
    "  lua_package_path '", R, "/lua/?.lua;", R, "/lua/?/init.lua;;';\n",
    "  lua_package_cpath '", R, "/build/luajit/?.so;;';\n",
    (gateway_conf(server.url, lib.STATIC_PATH):gsub("%${PORT}", tostring(port))), "\n}\n",
  }
  local f = assert(io.open(dir .. "/nginx.conf", "w"))
  f:write(conf)
  f:close()
  -- valgrind's pid is nginx's (one process, no master): callgrind_control talks to it
  local pid = lib.capture(string.format("valgrind --tool=callgrind --callgrind-out-file=%s/cg.out "
    .. "nginx -p %s -c %s/nginx.conf >%s/valgrind.log 2>&1 & echo $!", dir, dir, dir, dir)):match("%d+")
  local base = "http://127.0.0.1:" .. port .. "/"
  local counts = {}
  local ok, err = pcall(function()
    local up = false
    for _ = 1, 300 do -- nginx under valgrind takes some seconds to start
      local s = lib.core.session {}
      local r = s:request { url = base .. "proxy", timeout = 5 }
      s:close()
      if r and r.status == 200 then up = true break end
      sh("sleep 0.2")
    end
    if not up then error("the gateway under callgrind did not start: " .. (lib.read(dir .. "/error.log") or "")) end
    for i, p in ipairs(PATHS) do
      drive(base .. p, WARM)
      if not sh("callgrind_control -z " .. pid .. " >/dev/null") then error("callgrind_control -z failed") end
      drive(base .. p, N)
      if not sh("callgrind_control -d " .. p .. " " .. pid .. " >/dev/null") then error("callgrind_control -d failed") end
      counts[p] = dump_total(dir .. "/cg.out." .. i)
      if not counts[p] then error("no count in " .. dir .. "/cg.out." .. i) end
    end
  end)
  sh("kill " .. pid .. " 2>/dev/null; sleep 1; rm -rf " .. dir)
  server.stop()
  if not ok then error(err) end
  local per = {}
  for _, p in ipairs(PATHS) do per[p] = counts[p] / N end
  lib.row(string.format("OpenResty gateway worker, user-space instructions per request (callgrind, %d sequential "
    .. "requests): SDK DescribeRegions vs keep-alive proxy_pass", N),
    string.format("%.1fk SDK", per.sdk / 1000), string.format("%.1fk proxy", per.proxy / 1000),
    lib.fmt_ratio(per.sdk / per.proxy), "(info)", "n/a")
  lib.row("OpenResty gateway worker, user-space instructions per request: the floor (hand-written cosocket "
    .. "exchange) vs the same proxy_pass", string.format("%.1fk floor", per.floor / 1000),
    string.format("%.1fk proxy", per.proxy / 1000), lib.fmt_ratio(per.floor / per.proxy), "(info)", "n/a")
end

run()
