-- Starts a real nginx (Debian's nginx-light with ngx_lua) on 127.0.0.1 for integration
-- specs: a private prefix under /tmp, a free port, and a stop() that removes it all.
local core = require "aliyun.core"

local nginx = {}

local ROOT = (debug.getinfo(1, "S").source:sub(2):match("^(.*)/spec/support/") or ".")
nginx.ROOT = ROOT

local sh = require("support.shell").sh

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function seed()
  local n = 0
  for i = 1, 6 do n = n * 16 + tonumber(core.nonce():sub(i, i), 16) end
  return n
end

-- opts.http: text placed inside the http{} block, with ${PORT}, ${TLSPORT} (PORT + 1)
-- and ${ROOT} (the checkout) replaced.
-- opts.main: text placed at the top level (env directives and the like).
-- opts.env: {NAME = value} set in nginx's environment when it starts.
-- opts.own_lua_paths: the http text sets lua_package_path/cpath itself.
-- opts.workers: worker processes (default 1).
-- Returns {port=, prefix=, url=, stop=function, log=function}.
function nginx.start(opts)
  local prefix = assert(io.popen("mktemp -d /tmp/aliyun-nginx.XXXXXX")):read("l")
  assert(prefix and prefix ~= "", "mktemp failed")
  sh("mkdir -p " .. prefix .. "/logs " .. prefix .. "/tmp")
  local ngx_user = ""
  local uid = io.popen("id -u"):read("l")
  if uid == "0" then ngx_user = "user root root;\n" end
  math.randomseed(seed())
  local last_err
  for _ = 1, 20 do
    local port = math.random(20000, 59999)
    local http = opts.http:gsub("%${PORT}", tostring(port)):gsub("%${TLSPORT}", tostring(port + 1))
      :gsub("%${ROOT}", ROOT)
    local conf = table.concat {
      "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n",
      "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n",
      ngx_user,
      "daemon on;\nworker_processes ", tostring(opts.workers or 1), ";\n",
      "pid ", prefix, "/nginx.pid;\n",
      "error_log ", prefix, "/logs/error.log info;\n",
      opts.main or "",
      "events { worker_connections 1024; }\n",
      "http {\n",
      "  access_log off;\n",
      "  client_body_temp_path ", prefix, "/tmp/body; proxy_temp_path ", prefix, "/tmp/proxy;\n",
      "  fastcgi_temp_path ", prefix, "/tmp/fcgi; uwsgi_temp_path ", prefix, "/tmp/uwsgi; scgi_temp_path ", prefix, "/tmp/scgi;\n",
      opts.own_lua_paths and "" or table.concat {
        "  lua_package_path '", ROOT, "/lua/?.lua;", ROOT, "/lua/?/init.lua;", ROOT, "/spec/?.lua;;';\n",
        "  lua_package_cpath '", ROOT, "/build/luajit/?.so;;';\n",
      },
      http, "\n}\n",
    }
    write(prefix .. "/nginx.conf", conf)
    local envs = {}
    for k, v in pairs(opts.env or {}) do envs[#envs + 1] = k .. "='" .. tostring(v):gsub("'", "'\\''") .. "' " end
    table.sort(envs)
    local ok = sh(table.concat(envs) .. "nginx -p " .. prefix .. " -c " .. prefix .. "/nginx.conf 2>" .. prefix .. "/logs/start.log")
    if ok then
      local server = { port = port, tls_port = port + 1, prefix = prefix, url = "http://127.0.0.1:" .. port }
      function server.log() return read(prefix .. "/logs/error.log") or "" end
      function server.stop()
        local pid = read(prefix .. "/nginx.pid")
        if pid then
          sh("kill -QUIT " .. pid:match("%d+") .. " 2>/dev/null")
          -- bounded wait for the master to exit and release the port
          for _ = 1, 50 do
            if not sh("kill -0 " .. pid:match("%d+") .. " 2>/dev/null") then break end
            sh("sleep 0.1")
          end
        end
        sh("rm -rf " .. prefix)
      end
      return server
    end
    last_err = read(prefix .. "/logs/start.log") or ""
    if not last_err:find("Address already in use", 1, true) then break end
  end
  sh("rm -rf " .. prefix)
  error("nginx did not start: " .. tostring(last_err))
end

return nginx
