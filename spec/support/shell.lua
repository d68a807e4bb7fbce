-- Shell helpers for the specs: a command's success, its output, quoting, a file's text, and
-- a request with curl (the emulator's control endpoint).
local shell = {}

-- shell.sh(cmd) -> true when cmd exits 0, and its exit code (os.execute differs between
-- Lua 5.1 and 5.2+).
function shell.sh(cmd)
  local ok, _, code = os.execute(cmd)
  return ok == true or ok == 0, code
end

-- shell.run(cmd) -> everything cmd wrote on its standard output.
function shell.run(cmd)
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

-- For child processes that run the interpreter of this process with its module paths:
-- shell.LUA is the interpreter, shell.ENV the variables to put before the command.
shell.LUA = rawget(_G, "jit") and "luajit" or "lua5.4"
shell.ENV = string.format("LUA_PATH=%q LUA_CPATH=%q", package.path, package.cpath)

-- s as one shell word.
function shell.quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- The text of a file, or "" when there is none.
function shell.slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

-- shell.curl(method, url[, body]) -> true when curl could send it (a GET: whatever the
-- answer) or the server took it (anything else: a 2xx answer; for the emulator's control
-- endpoint, POST /_emulator/faults and DELETE /_emulator/faults, which want JSON). Without
-- the LD_PRELOAD of make test-asan: the curl command hangs with libasan preloaded. At most
-- 10 seconds.
function shell.curl(method, url, body)
  local checked = method ~= "GET" and " -f -H 'Content-Type: application/json'" or ""
  return shell.sh("env -u LD_PRELOAD curl -s --max-time 10 -o /dev/null" .. checked .. " -X " .. method .. " "
    .. shell.quote(url) .. (body and (" -d " .. shell.quote(body)) or ""))
end

-- shell.command(dir, bin, args[, env]) -> exit code, stdout, stderr of bin run with args in
-- a clean environment (PATH, LANG=C.UTF-8, HOME=dir and env), in dir (outside any checkout),
-- for at most 60 seconds; dir also keeps its stderr.
function shell.command(dir, bin, args, env)
  local parts = {}
  for i, a in ipairs(args) do parts[i] = shell.quote(a) end
  local e = { "HOME=" .. shell.quote(dir), "PATH=" .. shell.quote(os.getenv("PATH") or "/usr/bin:/bin"), "LANG=C.UTF-8" }
  for k, v in pairs(env or {}) do e[#e + 1] = k .. "=" .. shell.quote(v) end
  local errfile = dir .. "/stderr"
  local cmd = string.format("cd %s && env -i %s timeout 60 %s %s 2>%s", shell.quote(dir), table.concat(e, " "),
    shell.quote(bin), table.concat(parts, " "), shell.quote(errfile))
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  return code, out, shell.slurp(errfile)
end

-- Whether a private user and network namespace can be made (unshare -rmn) and LuaJIT is
-- there (spec/support/blackhole_dns.lua runs under it): the name-lookup specs need both.
function shell.namespaces_work()
  return shell.sh("unshare -rmn true 2>/dev/null") and shell.sh("command -v luajit >/dev/null 2>&1")
end

return shell
