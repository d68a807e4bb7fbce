/* clock.h: time for the Lua layer: a monotonic clock, sleeping, wall-clock epoch and
 * the HTTP Date header, none of which plain Lua offers. */
#ifndef ALIYUN_CLOCK_H
#define ALIYUN_CLOCK_H

#include "compat.h"

int aliyun_l_monotonic(lua_State *L);
int aliyun_l_sleep(lua_State *L);
int aliyun_l_time(lua_State *L);
int aliyun_l_parse_http_date(lua_State *L);
int aliyun_l_isatty(lua_State *L);

#endif
