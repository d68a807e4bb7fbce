/* httpcommon.h: what the core's session (http.c) and the libcurl engine (curl.c) share:
 * session options, request header checks, response tables. Compiled into both modules;
 * hidden, so that neither module's copy can bind to the other's. */
#ifndef ALIYUN_HTTPCOMMON_H
#define ALIYUN_HTTPCOMMON_H

#include <stddef.h>
#include "compat.h"
#include "membuf.h"

#define ALIYUN_HIDDEN __attribute__((visibility("hidden")))

/* Session options, read from the options table of core.session / curl.session. Strings
 * are malloc'd copies (NULL when absent). */
typedef struct {
    long connect_timeout_ms, timeout_ms;
    size_t max_body;
    size_t batch_memory; /* bytes of answers a batch holds while they arrive (curl.c) */
    int verify_tls;
    int curl_http;   /* every request through libcurl's HTTP engine (no direct path) */
    int raw_headers; /* responses of request() and batch() carry raw_headers (a string), not headers */
    char *ca_file, *proxy, *no_proxy, *user_agent;
} aliyun_http_opts_t;

/* Reads the options table at idx into o (which must start zeroed and be owned by
 * something the GC frees: this raises on a bad option). */
ALIYUN_HIDDEN void aliyun_http_opts_read(lua_State *L, int idx, aliyun_http_opts_t *o);
ALIYUN_HIDDEN void aliyun_http_opts_free(aliyun_http_opts_t *o);

/* Seconds (possibly fractional) from opts[name] as milliseconds; dflt when absent. */
ALIYUN_HIDDEN long aliyun_opt_ms(lua_State *L, int idx, const char *name, long dflt);

/* Why a request header must not be sent (it could inject another header), or NULL. */
ALIYUN_HIDDEN const char *aliyun_bad_header(const char *k, size_t kl, const char *v, size_t vl);

/* Pushes a header block as {lower-case name = value}. */
ALIYUN_HIDDEN void aliyun_push_headers(lua_State *L, const membuf_t *m);

/* Pushes a response table {status, headers | raw_headers, body, elapsed}. */
ALIYUN_HIDDEN void aliyun_push_result(lua_State *L, long status, const membuf_t *headers, const membuf_t *body,
                                      double elapsed, int raw_headers);

/* Registers the session metatable `name` (methods as __index, gc, tostring) once. */
ALIYUN_HIDDEN void aliyun_session_metatable(lua_State *L, const char *name, const luaL_Reg *methods,
                                            lua_CFunction gc, lua_CFunction tostring);

/* Argument 1 of a function aliyun_session_metatable registered for `name`, checked to be
 * such a userdata (else the usual argument error). The check compares the metatable with
 * the function's upvalue, where luaL_checkudata looks it up by name: under LuaJIT that
 * makes the name a string again on every call, a cost a gateway pays per request. */
ALIYUN_HIDDEN void *aliyun_check_self(lua_State *L, const char *name);

/* The requests of session:batch: a list, or a function that makes request i when its
 * turn comes (count of them at stack index count), so that a large batch does not sign
 * every request before the first is sent. aliyun_batch_request pushes request i and
 * returns 1, or pushes nothing and returns 0 when the function gives false (nothing to
 * send for i: its caller settled it already). Raises for anything else that is not a
 * table. */
ALIYUN_HIDDEN int aliyun_batch_count(lua_State *L, int reqs, int count);
ALIYUN_HIDDEN int aliyun_batch_request(lua_State *L, int reqs, int i);

/* Pushes the outcome of a batch's request that failed: {error = msg, kind = kind,
 * sent = sent}. */
ALIYUN_HIDDEN void aliyun_batch_failure(lua_State *L, const char *msg, const char *kind, int sent);

/* Hands the outcome of request i, on top of the stack (popped), to on_done(i, outcome)
 * when the value at index done is a function, else stores it in the table at results.
 * While on_done runs *in_callback is set: the batch's state must not be freed under it
 * (by another batch or close()); its error goes on once that is no longer so. */
ALIYUN_HIDDEN void aliyun_batch_deliver(lua_State *L, int done, int results, int i, int *in_callback);

/* Pushes nil, "response body larger than ...", "network"; returns 3. */
ALIYUN_HIDDEN int aliyun_push_too_large(lua_State *L, size_t max_body);

#endif
