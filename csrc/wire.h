/* wire.h: HTTP/1.1 requests written and answers read as bytes, for every transport. The
 * direct path (h1conn.c) and the transports that move bytes themselves (nginx cosockets,
 * through core.http_request, core.v1_request and core.response_reader) share these, so
 * a request is written the same way and an answer meets the same parser and limits
 * (h1.c) whoever carries the bytes. */
#ifndef ALIYUN_WIRE_H
#define ALIYUN_WIRE_H

#include "compat.h"
#include "membuf.h"

enum { WIRE_OK = 0, WIRE_DECLINE = 1, WIRE_BAD = 2 };

/* Writes the whole request (head and body) of the request table at index req into out and
 * its origin ("scheme://authority") into key; extra is scratch. Returns WIRE_OK, WIRE_BAD
 * with *bad saying why (a header that could inject another) or WIRE_DECLINE (an odd
 * method or URL that libcurl's engine judges instead); *head is set for a HEAD request,
 * *idempotent from request.idempotent (by default: GET and HEAD are), *line_len to the
 * length of the method and target (see core.http_request for why that matters).
 * Raises only for a headers field that is not a table of strings. */
int aliyun_wire_request(lua_State *L, int req, const char *user_agent, membuf_t *out, membuf_t *extra,
                        membuf_t *key, const char **bad, int *head, int *idempotent, size_t *line_len);

/* Whether aliyun_wire_request takes the request table at index req (1) or declines it (0). */
int aliyun_wire_takes(lua_State *L, int req);

/* The fused V1 call's request: GET or POST to origin, signed (as core.v1_sign_url) with the
 * arguments at a..a+7 (query, secret, action, version, access_key_id, security_token,
 * nonce, epoch), into out; the string to sign into sts, the origin into key. WIRE_OK or
 * WIRE_DECLINE (an origin or method the direct request path does not take). */
int aliyun_wire_v1_request(lua_State *L, const char *origin, size_t ol, const char *method, size_t ml, int a,
                           const char *user_agent, membuf_t *out, membuf_t *sts, membuf_t *key, size_t *line_len);

/* core.http_request(request[, user_agent]) -> line, rest, origin | nil, message, "validation"
 * The request's bytes in two pieces, line .. rest: line is the method and the target, rest
 * everything after (" HTTP/1.1", the headers, the body). A transport sends both (nginx's
 * cosockets take a table of strings). Apart, the piece that differs from call to call ends
 * with the V1 nonce: LuaJIT hashes a string by a few of its bytes, the last ones among
 * them, and whole requests, which all end alike, crowded a few hash chains. */
int aliyun_l_http_request(lua_State *L);
/* core.v1_request(origin, method, query, secret, action, version, access_key_id
 *                 [, security_token, nonce, epoch, user_agent]) -> line, rest | false
 * (the two pieces as core.http_request gives them)
 * (the string to sign: core.v1_string_to_sign(method, the query before "&Signature=")) */
int aliyun_l_v1_request(lua_State *L);
/* core.parse_origin("https://host:port") -> scheme, host, port | nil */
int aliyun_l_parse_origin(lua_State *L);
/* core.response_reader([max_body[, head]]) -> reader (see wire.c) */
int aliyun_l_response_reader(lua_State *L);

/* Creates the response reader's metatable. */
void aliyun_wire_register(lua_State *L);
/* Sets core.http_request and core.v1_request on the table at the top of the stack, as
 * closures over one set of scratch buffers (freed with the state). */
void aliyun_wire_builders(lua_State *L);

#endif
