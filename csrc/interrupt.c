/* interrupt.c: Ctrl-C for the REPL. lua5.4's own SIGINT handler stops the running code once
 * and then resets itself to the default, so a second Ctrl-C killed the REPL. This handler
 * stays installed: each SIGINT makes the next Lua instruction raise "interrupted!", which
 * the REPL catches like any error, the way the stand-alone interpreter does it. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "interrupt.h"

static lua_State *volatile target = NULL;

static void on_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

/* Only sets a hook: lua_sethook is the one Lua call meant to be safe in a signal handler. */
static void on_sigint(int sig) {
    (void)sig;
    if (target != NULL) lua_sethook(target, on_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* core.catch_interrupts() -> true: every later SIGINT interrupts the Lua code that runs in
 * this state's main thread. */
int aliyun_l_catch_interrupts(lua_State *L) {
    struct sigaction sa;
    lua_State *thread = L;
#if LUA_VERSION_NUM >= 502
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    thread = lua_tothread(L, -1);
    lua_pop(L, 1);
#endif
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a read waiting for input returns, and the hook runs */
    target = thread;
    if (sigaction(SIGINT, &sa, NULL) != 0) return luaL_error(L, "sigaction(SIGINT): %s", strerror(errno));
    lua_pushboolean(L, 1);
    return 1;
}
