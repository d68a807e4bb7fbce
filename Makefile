# lua-aliyun build. `make help` lists the targets.
#
# Build switches (override on the command line, e.g. `make CC=clang`):
#   CC          C compiler                                   (cc)
#   OPT         optimisation and debug flags                 (-O2 -g)
#   SANITIZE    extra compile/link flags, e.g. -fsanitize=address,undefined
#   LUA         the Lua 5.4 interpreter used for tests/tools (lua5.4)
#   LUAJIT      the LuaJIT interpreter                       (luajit)
#   BUILD       output folder                                (build)
#   LUA_INCDIR  Lua 5.4 headers; found with pkg-config when empty
#   PREFIX      where `make install` puts everything            (/usr/local)
#   DESTDIR     staging folder prepended to every installed path  (empty)
#   INST_LIBDIR, INST_LUADIR, INST_BINDIR, INST_COMPDIR  where `make install` puts core.so
#               (and the LuaJIT build under aliyun/luajit/), the Lua files, the commands
#               aliyun-lua and aliyun-emulator, and the bash completion script; by default
#               below PREFIX

CC       ?= cc
OPT      ?= -O2 -g
SANITIZE ?=
LUA      ?= lua5.4
LUAJIT   ?= luajit
BUILD    ?= build
BUSTED   ?= /usr/bin/busted
LUA_INCDIR ?=
PREFIX   ?= /usr/local
DESTDIR  ?=
INST_LIBDIR ?= $(PREFIX)/lib/lua/5.4
INST_LUADIR ?= $(PREFIX)/share/lua/5.4
INST_BINDIR ?= $(PREFIX)/bin
INST_COMPDIR ?= $(PREFIX)/share/bash-completion/completions
LUA54_CFLAGS = $(if $(LUA_INCDIR),-I$(LUA_INCDIR),$(shell pkg-config --cflags lua5.4))

WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
BASEFLAGS = -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC $(OPT) $(WARN) $(SANITIZE)
DEPS_CFLAGS = $(shell pkg-config --cflags libcurl openssl)
# core.so links OpenSSL only; libcurl (and the libraries it pulls in) is linked by curl.so,
# which the core loads only when a session needs libcurl's engine.
DEPS_LIBS   = $(shell pkg-config --libs openssl)
CURL_LIBS   = $(shell pkg-config --libs libcurl)

SRCS = csrc/core.c csrc/sign.c csrc/http.c csrc/httpcommon.c csrc/h1conn.c csrc/h1batch.c csrc/conn.c csrc/h1.c csrc/wire.c csrc/json.c \
  csrc/clock.c csrc/interrupt.c
CURL_SRCS = csrc/curl.c csrc/httpcommon.c csrc/h1.c
HDRS = csrc/compat.h csrc/membuf.h csrc/sign.h csrc/http.h csrc/httpcommon.h csrc/h1conn.h csrc/h1batch.h csrc/conn.h csrc/h1.h csrc/wire.h \
  csrc/json.h csrc/clock.h csrc/interrupt.h
SRCS += csrc/files.c
HDRS += csrc/files.h

CORE54  = $(BUILD)/5.4/aliyun/core.so
COREJIT = $(BUILD)/luajit/aliyun/core.so
CURL54  = $(BUILD)/5.4/aliyun/curl.so
CURLJIT = $(BUILD)/luajit/aliyun/curl.so

ROOT := $(abspath .)
ENV54  = LUA_PATH="$(ROOT)/lua/?.lua;$(ROOT)/lua/?/init.lua;$(ROOT)/spec/?.lua;;" LUA_CPATH="$(ROOT)/$(BUILD)/5.4/?.so;;"
ENVJIT = LUA_PATH="$(ROOT)/lua/?.lua;$(ROOT)/lua/?/init.lua;$(ROOT)/spec/?.lua;;" LUA_CPATH="$(ROOT)/$(BUILD)/luajit/?.so;;"

.PHONY: all luajit env help deps test test-unit test-luajit test-integration test-asan fuzz lint demo valgrind bench gen clean install rock

# The LuaJIT build is part of `all`: bin/aliyun-emulator runs the emulator in nginx, whose
# Lua is LuaJIT.
all: $(CORE54) $(CURL54) $(COREJIT) $(CURLJIT)   ## build the C core for Lua 5.4 (build/5.4/aliyun/) and for LuaJIT (build/luajit/aliyun/)

$(CORE54): $(SRCS) $(HDRS) Makefile
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) $(LUA54_CFLAGS) $(DEPS_CFLAGS) -shared -o $@ $(SRCS) $(DEPS_LIBS)

$(CURL54): $(CURL_SRCS) $(HDRS) Makefile
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) $(LUA54_CFLAGS) $(DEPS_CFLAGS) -shared -o $@ $(CURL_SRCS) $(CURL_LIBS)

luajit: $(COREJIT) $(CURLJIT)       ## build the same sources for LuaJIT into build/luajit/aliyun/{core,curl}.so

$(COREJIT): $(SRCS) $(HDRS) Makefile
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) $(shell pkg-config --cflags luajit) $(DEPS_CFLAGS) -shared -o $@ $(SRCS) $(DEPS_LIBS)

$(CURLJIT): $(CURL_SRCS) $(HDRS) Makefile
	@mkdir -p $(@D)
	$(CC) $(BASEFLAGS) $(shell pkg-config --cflags luajit) $(DEPS_CFLAGS) -shared -o $@ $(CURL_SRCS) $(CURL_LIBS)

env:                                ## print LUA_PATH/LUA_CPATH exports for using this checkout (eval "$(make -s env)")
	@echo 'export LUA_PATH="$(ROOT)/lua/?.lua;$(ROOT)/lua/?/init.lua;;"'
	@echo 'export LUA_CPATH="$(ROOT)/$(BUILD)/5.4/?.so;;"'

deps:                               ## install missing Debian packages (apt-get)
	@sh tools/install-deps.sh

test: deps                          ## the whole test suite: lint, Lua 5.4 specs, LuaJIT core specs, integration
	@$(MAKE) --no-print-directory all luajit
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory test-luajit
	@$(MAKE) --no-print-directory test-integration
	@$(MAKE) --no-print-directory test-asan

test-unit: $(CORE54) $(CURL54)               ## specs under Lua 5.4 (spec/*_spec.lua)
	$(ENV54) $(LUA) $(BUSTED) --lpath="" --cpath="" --exclude-tags=integration spec

test-luajit: $(COREJIT) $(CURLJIT)            ## the C core's specs under LuaJIT
	$(ENVJIT) $(LUAJIT) $(BUSTED) --lpath="" --cpath="" --tags=core --exclude-tags=integration spec

test-integration: $(CORE54) $(CURL54)        ## specs that start real nginx on 127.0.0.1 (spec/integration)
	$(ENV54) $(LUA) $(BUSTED) --lpath="" --cpath="" spec/integration

lint:                               ## luacheck over every Lua file
	luacheck -q lua spec tools bin examples bench

demo: deps                          ## the main job: examples/provision.lua against the local emulator (nginx)
	@$(MAKE) --no-print-directory all luajit
	$(ENV54) $(LUA) examples/provision.lua

COREASAN = $(BUILD)/asan/aliyun/core.so
CURLASAN = $(BUILD)/asan/aliyun/curl.so
ASANFLAGS = -std=c99 -D_POSIX_C_SOURCE=200809L -fPIC -O1 -g -fno-omit-frame-pointer $(WARN) \
  -fsanitize=address,undefined -fno-sanitize-recover=all $(LUA54_CFLAGS) $(DEPS_CFLAGS)
ASAN_LIB := $(shell $(CC) -print-file-name=libasan.so 2>/dev/null)
ENVASAN = LUA_PATH="$(ROOT)/lua/?.lua;$(ROOT)/lua/?/init.lua;$(ROOT)/spec/?.lua;;" LUA_CPATH="$(ROOT)/$(BUILD)/asan/?.so;;" \
  LD_PRELOAD="$(ASAN_LIB)" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

$(COREASAN): $(SRCS) $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ASANFLAGS) -shared -o $@ $(SRCS) $(DEPS_LIBS)

$(CURLASAN): $(CURL_SRCS) $(HDRS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(ASANFLAGS) -shared -o $@ $(CURL_SRCS) $(CURL_LIBS)

# The interpreter is not instrumented, so libasan is preloaded; leaks are valgrind's job
# (make valgrind), since ASan's leak report cannot tell Lua's own allocations apart.
test-asan: $(COREASAN) $(CURLASAN)             ## the whole spec suite with the core built with ASan and UBSan
	$(ENVASAN) $(LUA) $(BUSTED) --lpath="" --cpath="" spec

# libFuzzer targets (clang). Each runs FUZZ_SECONDS; new inputs go to build/fuzz, the
# seed corpus in fuzz/corpus stays as committed. A crash leaves its input in build/fuzz.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS = -std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=all $(LUA54_CFLAGS) $(DEPS_CFLAGS)

$(BUILD)/fuzz/json_fuzz: fuzz/json_fuzz.c csrc/json.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/json_fuzz.c csrc/json.c $(shell pkg-config --libs lua5.4) -lm

$(BUILD)/fuzz/sign_fuzz: fuzz/sign_fuzz.c csrc/sign.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/sign_fuzz.c csrc/sign.c $(shell pkg-config --libs lua5.4) $(DEPS_LIBS) -lm

$(BUILD)/fuzz/h1_fuzz: fuzz/h1_fuzz.c csrc/h1.c $(HDRS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ fuzz/h1_fuzz.c csrc/h1.c

fuzz: deps $(BUILD)/fuzz/json_fuzz $(BUILD)/fuzz/sign_fuzz $(BUILD)/fuzz/h1_fuzz  ## run the libFuzzer targets for FUZZ_SECONDS each
	@for t in json sign h1; do \
	  mkdir -p $(BUILD)/fuzz/corpus-$$t $(BUILD)/fuzz/crashes-$$t; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  $(BUILD)/fuzz/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix=$(BUILD)/fuzz/crashes-$$t/ -print_final_stats=1 \
	    $(BUILD)/fuzz/corpus-$$t fuzz/corpus/$$t 2>&1 | grep -E "^(#|stat::number_of_executed_units|==|SUMMARY|INFO: Running)" | tail -4 \
	    || exit 1; \
	  if ls $(BUILD)/fuzz/crashes-$$t/* >/dev/null 2>&1; then echo "fuzz: $$t found a crash:"; ls $(BUILD)/fuzz/crashes-$$t; exit 1; fi; \
	done

VALGRIND = valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite --suppressions=tools/valgrind.supp

# After the core specs, bench/leakloop.lua makes 10,000 client calls (V1, V3, batch, refused
# signatures) against the echo handler in a local nginx; nginx itself runs outside valgrind.
valgrind: $(CORE54) $(CURL54) $(COREJIT) $(CURLJIT)     ## the C core's specs, then a loop of 10,000 calls, under valgrind (no leaks, no invalid access)
	$(ENV54) $(VALGRIND) $(LUA) $(BUSTED) --lpath="" --cpath="" --tags=core spec
	$(ENV54) $(VALGRIND) $(LUA) bench/leakloop.lua

bench: deps                         ## benchmarks beside pop-core, lua-cjson and wrk: prints one table (see BENCHMARKS.md)
	@$(MAKE) --no-print-directory all luajit
	npm install --prefix bench/node --no-audit --no-fund --loglevel=error
	$(LUA) bench/run.lua

gen:                                ## regenerate lua/aliyun/api/*.lua and the emulator's response shapes from ../shared/api-meta
	$(LUA) tools/gen-api.lua ../shared/api-meta lua/aliyun/api
	$(LUA) tools/gen-shapes.lua ../shared/api-meta lua/aliyun/emulator/shapes

# The commands find the installed modules without LUA_PATH: the folders are written into
# the installed copies (as they will be after DESTDIR is gone); moved elsewhere, they look
# in ../share/lua/5.4 and ../lib/lua/5.4 beside their bin/.
JITLIB = $(INST_LIBDIR)/aliyun/luajit
install: all                        ## install the commands, the Lua files and the C core (PREFIX, DESTDIR, INST_*DIR)
	install -d $(DESTDIR)$(INST_LIBDIR)/aliyun $(DESTDIR)$(JITLIB)/aliyun $(DESTDIR)$(INST_BINDIR) $(DESTDIR)$(INST_COMPDIR)
	install -m 0755 $(CORE54) $(DESTDIR)$(INST_LIBDIR)/aliyun/core.so
	install -m 0755 $(CURL54) $(DESTDIR)$(INST_LIBDIR)/aliyun/curl.so
	install -m 0755 $(COREJIT) $(DESTDIR)$(JITLIB)/aliyun/core.so
	install -m 0755 $(CURLJIT) $(DESTDIR)$(JITLIB)/aliyun/curl.so
	cd lua && find aliyun -name '*.lua' -exec install -D -m 0644 {} $(DESTDIR)$(INST_LUADIR)/{} \;
	install -m 0644 bin/aliyun-emulator.lua $(DESTDIR)$(INST_LUADIR)/aliyun/emulator/aliyun-emulator.lua
	sed -e 's#^local INSTALLED_LUADIR, INSTALLED_LIBDIR = nil, nil#local INSTALLED_LUADIR, INSTALLED_LIBDIR = "$(INST_LUADIR)", "$(INST_LIBDIR)"#' \
	  bin/aliyun-lua > $(DESTDIR)$(INST_BINDIR)/aliyun-lua
	sed -e 's#^installed_luadir=$$#installed_luadir="$(INST_LUADIR)"#; s#^installed_libdir=$$#installed_libdir="$(INST_LIBDIR)"#' \
	  bin/aliyun-emulator > $(DESTDIR)$(INST_BINDIR)/aliyun-emulator
	chmod 0755 $(DESTDIR)$(INST_BINDIR)/aliyun-lua $(DESTDIR)$(INST_BINDIR)/aliyun-emulator
	install -m 0644 completions/aliyun-lua.bash $(DESTDIR)$(INST_COMPDIR)/aliyun-lua

rock:                               ## build and install with luarocks for Lua 5.4 (aliyun-scm-1.rockspec)
	luarocks --lua-version 5.4 make aliyun-scm-1.rockspec

clean:                              ## remove build output
	rm -rf $(BUILD)

help:                               ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z0-9-]+):.*## (.*)/  \1\t\2/' | expand -t 20
