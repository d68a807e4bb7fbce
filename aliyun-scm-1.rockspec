rockspec_format = "3.0"
package = "aliyun"
version = "scm-1"
source = { url = "git+file:///dev/null" }
description = {
  summary = "Alibaba Cloud ECS and ENS for Lua: a C core (signing, HTTP/1.1 over OpenSSL, JSON) under a thin Lua layer",
  detailed = [[
    Every ECS (2014-05-26) and ENS (2017-11-10) API action as a Lua method returning a plain
    table, with parameters validated and serialised from the API metadata, V1 and V3
    signatures, a keep-alive HTTP/1.1 transport (libcurl for proxies and batches) and a local
    emulator for tests.
  ]],
  license = "Apache-2.0",
}
dependencies = { "lua >= 5.4, < 5.5" }
-- Two C modules: aliyun.core (core.so, links OpenSSL) and aliyun.curl (curl.so, links
-- libcurl; the core loads it only when a session needs libcurl's engine), built for Lua 5.4
-- and, under aliyun/luajit/, for LuaJIT: the emulator runs in nginx, whose Lua is LuaJIT.
-- The Makefile builds and installs them, the Lua files and both commands (aliyun-lua,
-- aliyun-emulator), which find the tree's modules without LUA_PATH; libcurl and OpenSSL
-- are found with pkg-config (on Debian, curl.h lives in a multiarch folder that luarocks'
-- header search does not look in). The bash completion script stays in the rock's own
-- folder (luarocks show --rock-dir aliyun)/completions.
build = {
  type = "make",
  build_target = "all",
  build_variables = { LUA_INCDIR = "$(LUA_INCDIR)", CC = "$(CC)" },
  install_target = "install",
  install_variables = {
    INST_LIBDIR = "$(LIBDIR)", INST_LUADIR = "$(LUADIR)", INST_BINDIR = "$(BINDIR)",
    INST_COMPDIR = "$(PREFIX)/completions", PREFIX = "$(PREFIX)",
  },
}
