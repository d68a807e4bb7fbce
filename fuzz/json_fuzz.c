/* libFuzzer target: the JSON decoder. Any input must give a value or (nil, message),
 * never a crash, a hang or a read outside the input. */
#include <stddef.h>
#include <stdint.h>

#include "../csrc/compat.h"
#include "../csrc/json.h"
#include <lualib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static lua_State *L = NULL;
    if (L == NULL) L = luaL_newstate();
    lua_settop(L, 0);
    lua_pushcfunction(L, aliyun_l_json_decode);
    lua_pushlstring(L, (const char *)data, size);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK) __builtin_trap(); /* the decoder must not raise on data */
    if (lua_isnil(L, 1) && !lua_isstring(L, 2)) __builtin_trap(); /* failure always says why */
    lua_settop(L, 0);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}
