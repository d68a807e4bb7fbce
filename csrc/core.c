/* core.c: luaopen_aliyun_core. Registers the C core's functions and nothing else;
 * each lives in the file named beside it. */
#include "compat.h"
#include "sign.h"
#include "files.h"
#include "http.h"
#include "json.h"
#include "clock.h"
#include "interrupt.h"
#include "wire.h"

LUALIB_API int luaopen_aliyun_core(lua_State *L);

LUALIB_API int luaopen_aliyun_core(lua_State *L) {
    static const luaL_Reg funcs[] = {
        /* sign.c */
        {"percent_encode", aliyun_l_percent_encode},
        {"form_encode", aliyun_l_form_encode},
        {"v1_canonical_query", aliyun_l_v1_canonical_query},
        {"v1_string_to_sign", aliyun_l_v1_string_to_sign},
        {"v1_sign", aliyun_l_v1_sign},
        {"v1_sign_url", aliyun_l_v1_sign_url},
        {"v3_canonical_request", aliyun_l_v3_canonical_request},
        {"v3_sign", aliyun_l_v3_sign},
        {"hmac_sha1", aliyun_l_hmac_sha1},
        {"hmac_sha256", aliyun_l_hmac_sha256},
        {"sha256_hex", aliyun_l_sha256_hex},
        {"hex", aliyun_l_hex},
        {"base64", aliyun_l_base64},
        {"base64_decode", aliyun_l_base64_decode},
        {"nonce", aliyun_l_nonce},
        {"timestamp", aliyun_l_timestamp},
        /* json.c */
        {"json_decode", aliyun_l_json_decode},
        /* clock.c */
        {"monotonic", aliyun_l_monotonic},
        {"time", aliyun_l_time},
        {"sleep", aliyun_l_sleep},
        {"parse_http_date", aliyun_l_parse_http_date},
        {"isatty", aliyun_l_isatty},
        /* files.c */
        {"file_mode", aliyun_l_file_mode},
        /* interrupt.c */
        {"catch_interrupts", aliyun_l_catch_interrupts},
        {"interrupted", aliyun_l_interrupted},
        {"interrupts_raise", aliyun_l_interrupts_raise},
        {"wait_input", aliyun_l_wait_input},
        /* http.c */
        {"session", aliyun_l_session},
        {"parse_headers", aliyun_l_parse_headers},
        /* wire.c (and http_request, v1_request: aliyun_wire_builders below) */
        {"parse_origin", aliyun_l_parse_origin},
        {"response_reader", aliyun_l_response_reader},
        {NULL, NULL}};
    aliyun_http_register(L);
    aliyun_wire_register(L);
    luaL_newlib(L, funcs);
    aliyun_wire_builders(L);
    /* The JSON null: a NULL light userdata, the same value as cjson.null and ngx.null. */
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    lua_pushliteral(L, "0.1.0");
    lua_setfield(L, -2, "version");
    return 1;
}
