/* http.h: the libcurl transport. A session is a userdata owning one curl easy handle,
 * so connections stay alive across requests made through it. */
#ifndef ALIYUN_HTTP_H
#define ALIYUN_HTTP_H
#include "compat.h"

/* Creates the session metatable and initialises libcurl once per process. */
void aliyun_http_register(lua_State *L);

/* core.session(opts) -> session. session:request(req) -> response | nil, message, kind */
int aliyun_l_session(lua_State *L);

/* core.parse_headers(raw) -> {lower-case name = value} */
int aliyun_l_parse_headers(lua_State *L);
#endif
