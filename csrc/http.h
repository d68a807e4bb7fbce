/* http.h: the core's HTTP session. A session is a userdata owning its kept connections
 * (the direct path) and, once something needs libcurl's engine, an aliyun.curl session. */
#ifndef ALIYUN_HTTP_H
#define ALIYUN_HTTP_H
#include "compat.h"

/* Creates the session metatable. */
void aliyun_http_register(lua_State *L);

/* core.session(opts) -> session. session:request(req) -> response | nil, message, kind */
int aliyun_l_session(lua_State *L);

/* core.parse_headers(raw) -> {lower-case name = value} */
int aliyun_l_parse_headers(lua_State *L);
#endif
