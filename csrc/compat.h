/* compat.h: the few differences between the Lua 5.4 API and the Lua 5.1 API
 * that LuaJIT exposes. Everything version-specific in the C core lives here. */
#ifndef ALIYUN_COMPAT_H
#define ALIYUN_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if LUA_VERSION_NUM < 502
/* Lua 5.1 / LuaJIT */
#define lua_rawlen(L, i) lua_objlen((L), (i))
#ifndef luaL_newlib
/* Plain Lua 5.1 lacks these 5.2 helpers; LuaJIT 2.1 has them (and defines luaL_newlib). */
#define luaL_newlibtable(L, l) lua_createtable((L), 0, sizeof(l) / sizeof((l)[0]) - 1)
#define luaL_newlib(L, l) (luaL_newlibtable((L), (l)), luaL_setfuncs((L), (l), 0))

static inline void luaL_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
    luaL_checkstack(L, nup + 1, "too many upvalues");
    for (; l->name != NULL; l++) {
        int i;
        for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
        lua_pushcclosure(L, l->func, nup);
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}

static inline void *luaL_testudata(lua_State *L, int i, const char *tname) {
    void *p = lua_touserdata(L, i);
    if (p == NULL || !lua_getmetatable(L, i)) return NULL;
    luaL_getmetatable(L, tname);
    if (!lua_rawequal(L, -1, -2)) p = NULL;
    lua_pop(L, 2);
    return p;
}

static inline void luaL_setmetatable(lua_State *L, const char *tname) {
    luaL_getmetatable(L, tname);
    lua_setmetatable(L, -2);
}
#endif

/* A userdata's user value (a table): its environment in 5.1. */
#define aliyun_newuserdata(L, size) lua_newuserdata((L), (size))
#define aliyun_setuservalue(L, i) lua_setfenv((L), (i))
#define aliyun_getuservalue(L, i) lua_getfenv((L), (i))

/* 5.1 has no integer subtype: integers are pushed as doubles. */
#define ALIYUN_HAS_INTEGERS 0
#define aliyun_pushint64(L, v) lua_pushnumber((L), (lua_Number)(v))

#else
/* Lua 5.4 */
#define aliyun_newuserdata(L, size) lua_newuserdatauv((L), (size), 1)
#define aliyun_setuservalue(L, i) ((void)lua_setiuservalue((L), (i), 1))
#define aliyun_getuservalue(L, i) ((void)lua_getiuservalue((L), (i), 1))
#define ALIYUN_HAS_INTEGERS 1
#define aliyun_pushint64(L, v) lua_pushinteger((L), (lua_Integer)(v))
#endif

#endif
