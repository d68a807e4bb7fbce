/* libFuzzer target: percent-encoding and the V1/V3 canonical strings. The input is split
 * at NUL bytes into alternating names and values (the first piece is the method) and run
 * through every canonicalisation; none may crash, and percent-encoding must produce only
 * unreserved characters and %XX escapes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../csrc/compat.h"
#include "../csrc/sign.h"
#include <lualib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_encoded(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                 c == '_' || c == '.' || c == '~' || c == '%';
        if (!ok) __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static lua_State *L = NULL;
    const char *p = (const char *)data, *end = p + size;
    int piece = 0;
    if (L == NULL) L = luaL_newstate();
    lua_settop(L, 0);

    /* percent_encode(whole input) */
    lua_pushcfunction(L, aliyun_l_percent_encode);
    lua_pushlstring(L, p, size);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) __builtin_trap();
    {
        size_t n;
        const char *e = lua_tolstring(L, -1, &n);
        check_encoded(e, n);
    }
    lua_settop(L, 0);

    /* params table from the pieces */
    lua_newtable(L); /* 1: params */
    lua_pushliteral(L, "GET"); /* 2: method */
    while (p <= end && piece < 64) {
        const char *z = memchr(p, 0, (size_t)(end - p));
        const char *stop = z ? z : end;
        if (piece == 0) {
            lua_pushlstring(L, p, (size_t)(stop - p));
            lua_replace(L, 2);
        } else if (piece % 2 == 1) {
            lua_pushlstring(L, p, (size_t)(stop - p)); /* name */
        } else {
            lua_pushlstring(L, p, (size_t)(stop - p)); /* value */
            lua_rawset(L, 1);
        }
        piece++;
        if (!z) break;
        p = z + 1;
    }
    lua_settop(L, 2);

    lua_pushcfunction(L, aliyun_l_v1_sign);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 1);
    lua_pushliteral(L, "secret");
    (void)lua_pcall(L, 3, 3, 0); /* a refusal (bad method) is fine; a crash is not */
    lua_settop(L, 2);

    lua_pushcfunction(L, aliyun_l_form_encode);
    lua_pushvalue(L, 1);
    (void)lua_pcall(L, 1, 1, 0);
    lua_settop(L, 2);

    /* V3: the pieces as query, and as x-acs-* headers */
    lua_pushcfunction(L, aliyun_l_v3_canonical_request);
    lua_newtable(L);
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "method");
    lua_pushliteral(L, "/");
    lua_setfield(L, -2, "path");
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "query");
    lua_newtable(L);
    lua_pushliteral(L, "example.com");
    lua_setfield(L, -2, "host");
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "x-acs-action");
    lua_setfield(L, -2, "headers");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "body");
    (void)lua_pcall(L, 1, 2, 0);
    lua_settop(L, 0);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}
