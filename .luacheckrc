-- luacheck configuration: no globals anywhere; code must parse as Lua 5.4 and LuaJIT.
std = "max"
max_line_length = 140
codes = true

files["spec"] = { std = "+busted" }
-- code that runs inside nginx reads the ngx API table
files["spec/integration/server"] = { std = "max+ngx_lua" }
files["lua/aliyun/transport/ngx.lua"] = { std = "max+ngx_lua" }
files["lua/aliyun/emulator/nginx"] = { std = "max+ngx_lua" }
files["examples/openresty"] = { std = "max+ngx_lua" }
-- generated files are checked too, but their long data lines are allowed
files["lua/aliyun/api"] = { max_line_length = false }
