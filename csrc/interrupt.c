/* interrupt.c: Ctrl-C for the REPL and the one-shot command. lua5.4's own SIGINT handler
 * stops the running code once and then resets itself to the default, and the core's waits
 * (poll, nanosleep, libcurl) went on waiting until their timeout. This handler stays
 * installed: each SIGINT sets a flag and makes the next Lua instruction raise
 * "interrupted!", which the REPL catches like any error, the way the stand-alone
 * interpreter does it. The flag stays set until core.interrupted(true): while it is set,
 * every wait of the core returns at once, so that a call in C (or a pcall that swallowed
 * the error) cannot keep the program waiting. */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "interrupt.h"

static lua_State *volatile target = NULL;
static volatile sig_atomic_t pending = 0;
/* Zero while the REPL reads a line: readline calls Lua (completion, the line handler)
 * from inside its own C code, and an error raised there would jump out through readline's
 * frames. The REPL looks at the flag itself then. */
static volatile sig_atomic_t raising = 1;

int aliyun_interrupt_pending(void) {
    return pending != 0;
}

static void on_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

/* Sets the flag and a hook: lua_sethook is the one Lua call meant to be safe in a signal
 * handler. */
static void on_sigint(int sig) {
    (void)sig;
    pending = 1;
    if (raising && target != NULL) lua_sethook(target, on_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* core.catch_interrupts() -> true: every later SIGINT interrupts the Lua code that runs in
 * this state's main thread, and the core's waits. */
int aliyun_l_catch_interrupts(lua_State *L) {
    struct sigaction sa;
    lua_State *thread = L;
#if LUA_VERSION_NUM >= 502
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    thread = lua_tothread(L, -1);
    lua_pop(L, 1);
#endif
    lua_pushlightuserdata(L, (void *)&pending);
    lua_setfield(L, LUA_REGISTRYINDEX, ALIYUN_INTERRUPT_KEY);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a read waiting for input returns, and the hook runs */
    target = thread;
    if (sigaction(SIGINT, &sa, NULL) != 0) return luaL_error(L, "sigaction(SIGINT): %s", strerror(errno));
    lua_pushboolean(L, 1);
    return 1;
}

/* core.interrupted([clear]) -> whether a Ctrl-C came since the flag was last cleared;
 * clear = true clears it (the REPL, once it has dealt with the interruption). */
int aliyun_l_interrupted(lua_State *L) {
    lua_pushboolean(L, pending != 0);
    if (lua_toboolean(L, 1)) pending = 0;
    return 1;
}

/* core.interrupts_raise(on) -> the previous setting: whether a Ctrl-C raises "interrupted!"
 * in the running Lua code (the default) or only sets the flag core.interrupted reads. */
int aliyun_l_interrupts_raise(lua_State *L) {
    int was = raising != 0;
    luaL_checktype(L, 1, LUA_TBOOLEAN);
    raising = lua_toboolean(L, 1) ? 1 : 0;
    lua_pushboolean(L, was);
    return 1;
}

/* core.wait_input(fd, seconds) -> true when fd has input (or is closed), false when the
 * time ran out, nil and "interrupted" after a Ctrl-C. The REPL waits here, not inside
 * readline, so that Ctrl-C at the prompt is seen at once. */
int aliyun_l_wait_input(lua_State *L) {
    lua_Integer fd = luaL_checkinteger(L, 1);
    lua_Number s = luaL_optnumber(L, 2, -1);
    int ms = s < 0 ? -1 : s > 86400 ? 86400000 : (int)(s * 1000);
    for (;;) {
        struct pollfd pfd;
        int n;
        if (pending) {
            lua_pushnil(L);
            lua_pushliteral(L, "interrupted");
            return 2;
        }
        pfd.fd = (int)fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        n = poll(&pfd, 1, ms);
        if (n > 0) {
            lua_pushboolean(L, 1);
            return 1;
        }
        if (n == 0) {
            lua_pushboolean(L, 0);
            return 1;
        }
        if (errno != EINTR) return luaL_error(L, "poll: %s", strerror(errno));
    }
}
