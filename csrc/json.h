/* json.h: JSON text -> Lua values, straight onto the Lua stack. */
#ifndef ALIYUN_JSON_H
#define ALIYUN_JSON_H
#include "compat.h"

/* Deepest nesting of arrays/objects accepted; deeper input is an error, not a crash. */
#define ALIYUN_JSON_MAX_DEPTH 512

/* core.json_decode(text) -> value | nil, "message at byte N" */
int aliyun_l_json_decode(lua_State *L);

/* The same from C: pushes the value (returns 1) or nil and "message at byte N" (returns 2). */
int aliyun_json_decode(lua_State *L, const char *text, size_t len);
#endif
