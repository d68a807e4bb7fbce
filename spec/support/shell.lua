-- Shell helpers for the specs: a command's success, and its output.
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

return shell
