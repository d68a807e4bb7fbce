/* http.c: the session of the C core for the Lua layer.
 *
 * Sequential requests without a proxy take the direct path: the core writes HTTP/1.1 and
 * parses the answer itself over connections it opens and keeps (h1conn.c, conn.c), with
 * no libcurl involved. Whatever needs libcurl's engine (a proxy, session:batch on curl
 * multi, requests the direct path declines, curl_http = true) goes to a session of the
 * aliyun.curl module, loaded on first need and kept in this session's user value, so that
 * a process which never needs it never loads libcurl. Everything a request allocates hangs
 * off the session and is freed at the next request, at close() or by the GC, so a Lua
 * error part-way never leaks. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "h1batch.h"
#include "h1conn.h"
#include "httpcommon.h"
#include "json.h"
#include "membuf.h"
#include "sign.h"
#include "wire.h"

#define SESSION_MT "aliyun.core.session"

/* user value slots of a session */
#define UV_OPTS 1 /* a copy of the options table, for the libcurl session */
#define UV_CURL 2 /* the aliyun.curl session, once made */

typedef struct {
    int open;
    aliyun_http_opts_t o;
    int env_proxy; /* a proxy variable was set in the environment when the session was made */
    /* the direct path (h1conn.c): kept connections, the answer, the request being built */
    h1pool_t pool;
    h1batch_t batch; /* session:batch on the core's own connections */
    h1_response_t resp;
    membuf_t out, extra, key;
    membuf_t sts; /* the fused call's string to sign, handed back when a call fails */
    int busy;     /* a fused call is decoding from resp.body: nothing may reset it */
} session_t;

/* ------------------------------------------------------------ session */

static session_t *check_session(lua_State *L) {
    session_t *s = (session_t *)aliyun_check_self(L, SESSION_MT);
    if (!s->open) luaL_error(L, "session is closed");
    /* a finalizer run while a fused call decodes must not reuse the buffers it reads */
    if (s->busy) luaL_error(L, "session is busy (used from a finalizer during a call)");
    return s;
}

static void session_free(session_t *s) {
    s->open = 0;
    h1batch_free(&s->batch);
    h1pool_free(&s->pool);
    h1_free(&s->resp);
    membuf_free(&s->out);
    membuf_free(&s->extra);
    membuf_free(&s->key);
    membuf_free(&s->sts);
    aliyun_http_opts_free(&s->o);
}

/* The libcurl session, a userdata of its own, is freed by its own __gc. */
static int l_session_gc(lua_State *L) {
    session_free((session_t *)aliyun_check_self(L, SESSION_MT));
    return 0;
}

static int l_session_close(lua_State *L) {
    session_t *s = (session_t *)aliyun_check_self(L, SESSION_MT);
    if (s->busy) return luaL_error(L, "session is busy (closed from a finalizer during a call)");
    if (s->batch.in_callback) return luaL_error(L, "session is busy (closed from a batch's on_done)");
    session_free(s);
    lua_settop(L, 1);
    aliyun_getuservalue(L, 1);
    if (lua_istable(L, 2)) {
        lua_rawgeti(L, 2, UV_CURL);
        if (!lua_isnil(L, 3)) {
            lua_getfield(L, 3, "close");
            lua_pushvalue(L, 3);
            lua_call(L, 1, 0);
            lua_pushnil(L);
            lua_rawseti(L, 2, UV_CURL);
        }
    }
    return 0;
}

static int l_session_tostring(lua_State *L) {
    session_t *s = (session_t *)aliyun_check_self(L, SESSION_MT);
    lua_pushfstring(L, "aliyun.core.session (%s)", s->open ? "open" : "closed");
    return 1;
}


/* Whether an environment variable that makes libcurl use a proxy is set; read when a
 * session is made. Then its requests go through libcurl's engine, which applies the proxy
 * (and no_proxy). */
static int proxy_in_environment(void) {
    static const char *const names[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    size_t i;
    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *v = getenv(names[i]);
        if (v && v[0]) return 1;
    }
    return 0;
}

/* core.session{connect_timeout=, timeout=, verify_tls=, ca_file=, proxy=, no_proxy=,
 *              user_agent=, max_body=, curl_http=, raw_headers=} */
int aliyun_l_session(lua_State *L) {
    session_t *s;
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    s = (session_t *)aliyun_newuserdata(L, sizeof(session_t));
    memset(s, 0, sizeof *s);
    luaL_setmetatable(L, SESSION_MT); /* from here on the GC frees whatever is set */
    aliyun_http_opts_read(L, 1, &s->o);
    s->env_proxy = proxy_in_environment();
    /* the user value: {[UV_OPTS] = a shallow copy of the options} (the caller may change
     * its table later; the libcurl session must see what this one was made with) */
    lua_createtable(L, 2, 0);
    lua_createtable(L, 0, 8);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
    lua_rawseti(L, -2, UV_OPTS);
    aliyun_setuservalue(L, 2);
    s->open = 1;
    return 1;
}

/* Pushes the session's aliyun.curl session, loading the module and making the session on
 * first use (only then is libcurl loaded into the process). */
static void push_curl_session(lua_State *L, int self) {
    aliyun_getuservalue(L, self);
    lua_rawgeti(L, -1, UV_CURL);
    if (!lua_isnil(L, -1)) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    if (!lua_isfunction(L, -1)) luaL_error(L, "aliyun.core: loading libcurl's engine needs require");
    lua_pushliteral(L, "aliyun.curl");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "session");
    lua_remove(L, -2);
    lua_rawgeti(L, -2, UV_OPTS);
    lua_call(L, 1, 1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, UV_CURL);
    lua_remove(L, -2);
}

/* Calls method of the libcurl session with the arguments at 2..nargs+1; returns the
 * number of its results, which are left on the stack. */
static int delegate(lua_State *L, const char *method, int nargs) {
    int base, i;
    lua_settop(L, nargs + 1);
    base = lua_gettop(L);
    push_curl_session(L, 1);
    lua_getfield(L, -1, method);
    lua_insert(L, -2);
    for (i = 2; i <= nargs + 1; i++) lua_pushvalue(L, i);
    lua_call(L, nargs + 1, LUA_MULTRET);
    return lua_gettop(L) - base;
}

/* ------------------------------------------------------- direct path */

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Pushes nil, message, kind for a direct-path request that failed with rc (H1K_*);
 * returns 3. A big answer's buffer is not kept. */
static int push_direct_failure(lua_State *L, session_t *s, int rc, const char *msg) {
    if (s->resp.body.cap > 1024 * 1024) membuf_free(&s->resp.body);
    if (rc == H1K_TOO_LARGE) return aliyun_push_too_large(L, s->o.max_body);
    lua_pushnil(L);
    lua_pushstring(L, msg);
    if (rc == H1K_TIMEOUT)
        lua_pushliteral(L, "timeout");
    else
        lua_pushliteral(L, "network");
    return 3;
}

/* Fills in the direct path's call for the request in s->out to the origin in s->key (the
 * timeouts are the caller's) and readies the response for it. */
static void start_call(session_t *s, h1call_t *call, int head) {
    call->key = s->key.data;
    call->out = s->out.data;
    call->out_len = s->out.len;
    call->head = head;
    call->verify_tls = s->o.verify_tls;
    call->ca_file = s->o.ca_file;
    h1_reset(&s->resp, head, s->o.max_body);
}

/* session:request over the direct path (h1conn.c). Returns -1, having pushed nothing, when
 * the request is not for it (a proxy applies, an unusual method or URL: libcurl's engine
 * handles those); else the number of results pushed. */
static int direct_request(lua_State *L, session_t *s, int req) {
    const char *bad = NULL;
    char msg[1280];
    h1call_t call;
    struct timespec t0;
    int rc, head = 0, sent, idempotent = 0;
    size_t line = 0;

    if (s->o.curl_http || s->o.proxy || s->env_proxy) return -1;
    rc = aliyun_wire_request(L, req, s->o.user_agent, &s->out, &s->extra, &s->key, &bad, &head, &idempotent, &line);
    if (rc == WIRE_DECLINE) return -1;
    if (rc == WIRE_BAD) {
        lua_pushnil(L);
        lua_pushstring(L, bad);
        lua_pushliteral(L, "validation");
        return 3;
    }
    call.connect_timeout_ms = aliyun_opt_ms(L, req, "connect_timeout", s->o.connect_timeout_ms);
    call.timeout_ms = aliyun_opt_ms(L, req, "timeout", s->o.timeout_ms);
    start_call(s, &call, head);
    call.idempotent = idempotent;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = h1pool_request(&s->pool, &call, &s->resp, &sent, msg, sizeof msg);
    if (s->out.cap > 1024 * 1024) membuf_free(&s->out); /* a big body once must not pin its copy */
    if (rc == H1K_OK) {
        aliyun_push_result(L, s->resp.status, &s->resp.headers, &s->resp.body, seconds_since(&t0), s->o.raw_headers);
        if (s->resp.body.cap > 1024 * 1024) membuf_free(&s->resp.body);
        return 1;
    }
    push_direct_failure(L, s, rc, msg);
    lua_pushboolean(L, sent);
    return 4;
}

/* session:request{method=, url=, headers=, body=, timeout=, connect_timeout=}
 *   -> {status=, headers=, body=, elapsed=} | nil, message, kind, sent
 *   (sent = false: the request provably never reached the server) */
static int l_session_request(lua_State *L) {
    session_t *s = check_session(L);
    int n;
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    n = direct_request(L, s, 2);
    if (n >= 0) return n;
    return delegate(L, "request", 1);
}

/* ---------------------------------------------------- fused V1 call */

/* Seconds at argument idx as milliseconds, as opt_ms checks them; dflt when nil. */
static long arg_ms(lua_State *L, int idx, long dflt) {
    lua_Number v;
    long ms;
    if (lua_isnil(L, idx)) return dflt;
    v = luaL_checknumber(L, idx);
    if (!(v > 0 && v <= 86400)) luaL_argerror(L, idx, "seconds between 0 and 86400 expected");
    ms = (long)(v * 1000 + 0.5);
    return ms < 1 ? 1 : ms;
}

/* session:v1_call(origin, method, query, secret, action, version, access_key_id,
 *                 security_token, nonce, timestamp, timeout, connect_timeout, idempotent)
 * The client's common call in one step: signs it (V1, as core.v1_sign_url), sends it over
 * the direct path and decodes the answer, with no request or response table in between.
 * Returns
 *   the decoded table                            a 2xx answer whose body is a JSON object or array
 *   false, status, body, raw_headers, sts        any other answer (the Lua layer makes the error)
 *   nil, message, kind, sts, sent                the request failed (network, timeout, ...); sent is
 *                                                false when it provably never reached the server
 *   false                                        the direct path does not apply (a proxy, an
 *                                                odd origin): send it the ordinary way */
static int l_session_v1_call(lua_State *L) {
    session_t *s = check_session(L);
    size_t ol, ml;
    const char *origin = luaL_checklstring(L, 2, &ol);
    const char *method = luaL_checklstring(L, 3, &ml);
    char msg[1280];
    h1call_t call;
    int rc, sent;
    size_t line = 0;
    lua_settop(L, 14);
    if (s->o.curl_http || s->o.proxy || s->env_proxy) {
        lua_pushboolean(L, 0);
        return 1;
    }
    call.timeout_ms = arg_ms(L, 12, s->o.timeout_ms);
    call.connect_timeout_ms = arg_ms(L, 13, s->o.connect_timeout_ms);
    if (aliyun_wire_v1_request(L, origin, ol, method, ml, 4, s->o.user_agent, &s->out, &s->sts, &s->key, &line) != WIRE_OK) {
        lua_pushboolean(L, 0);
        return 1;
    }
    start_call(s, &call, 0);
    call.idempotent = lua_toboolean(L, 14); /* only when the caller says so: a GET may create */
    rc = h1pool_request(&s->pool, &call, &s->resp, &sent, msg, sizeof msg);
    if (s->out.cap > 1024 * 1024) membuf_free(&s->out); /* a big query once must not pin its copy */
    if (rc != H1K_OK) {
        push_direct_failure(L, s, rc, msg);
        lua_pushlstring(L, s->sts.data, s->sts.len);
        lua_pushboolean(L, sent);
        return 5;
    }
    if (s->resp.status >= 200 && s->resp.status < 300) {
        int n;
        s->busy = 1; /* the decoder reads resp.body in place */
        n = aliyun_json_decode(L, s->resp.body.data ? s->resp.body.data : "", s->resp.body.len);
        s->busy = 0;
        if (n == 1 && lua_istable(L, -1)) {
            if (s->resp.body.cap > 1024 * 1024) membuf_free(&s->resp.body);
            return 1;
        }
        lua_settop(L, 14);
    }
    lua_pushboolean(L, 0);
    lua_pushinteger(L, s->resp.status);
    lua_pushlstring(L, s->resp.body.data ? s->resp.body.data : "", s->resp.body.len);
    lua_pushlstring(L, s->resp.headers.data ? s->resp.headers.data : "", s->resp.headers.len);
    lua_pushlstring(L, s->sts.data, s->sts.len);
    if (s->resp.body.cap > 1024 * 1024) membuf_free(&s->resp.body);
    return 5;
}

/* session:batch(requests, concurrency[, on_done[, count]]) -> results, peak
 * Sends every request, at most `concurrency` at a time, and hands out each outcome as it
 * comes in (see curl.c for the outcomes, on_done and peak). requests is a list, or a
 * function that makes request i (1..count) when its turn comes (false: nothing to send
 * for i). Without a proxy, on the core's
 * own connections (h1batch.c: the direct path's writer and parser, kept connections,
 * batch_memory); through a proxy, or when a request is one the direct path does not
 * take, over curl multi in the libcurl session. */
static int l_session_batch(lua_State *L) {
    session_t *s = check_session(L);
    int conc, i, n, native;
    size_t peak;
    conc = (int)luaL_optinteger(L, 3, 16);
    if (conc < 1 || conc > 1024) return luaL_argerror(L, 3, "concurrency between 1 and 1024 expected");
    if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TFUNCTION);
    if (s->batch.in_callback) return luaL_error(L, "session is busy (batch called from a batch's on_done)");
    n = aliyun_batch_count(L, 2, 5);
    if (n == 0) {
        lua_newtable(L); /* nothing to send: no reason to load libcurl */
        lua_pushinteger(L, 0);
        return 2;
    }
    lua_settop(L, 5);
    native = !(s->o.curl_http || s->o.proxy || s->env_proxy);
    /* a list is looked over first: one request the direct path does not take sends the
     * whole batch through libcurl (made requests are the client's, which it takes) */
    for (i = 1; native && lua_istable(L, 2) && i <= n; i++) {
        lua_rawgeti(L, 2, i);
        if (!lua_istable(L, -1)) luaL_error(L, "batch: request %d is not a table", i);
        native = aliyun_wire_takes(L, lua_gettop(L));
        lua_pop(L, 1);
    }
    if (!native) {
        lua_pushinteger(L, conc);
        lua_replace(L, 3);
        return delegate(L, "batch", 4);
    }
    if (conc > n) conc = n;
    lua_createtable(L, lua_isnil(L, 4) ? n : 0, 0); /* 6: results */
    peak = h1batch_run(L, &s->batch, &s->pool.tls, &s->o, 2, n, conc, 4, 6);
    lua_settop(L, 6);
    lua_pushinteger(L, (lua_Integer)peak);
    return 2;
}


/* core.parse_headers(raw) -> {lower-case name = value}: the table of a raw header block
 * (the raw_headers of a response), as session:request builds it. */
int aliyun_l_parse_headers(lua_State *L) {
    size_t n;
    const char *raw = luaL_checklstring(L, 1, &n);
    membuf_t m;
    m.data = (char *)raw; /* push_headers only reads */
    m.len = m.cap = n;
    aliyun_push_headers(L, &m);
    return 1;
}

void aliyun_http_register(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"request", l_session_request},
        {"batch", l_session_batch},
        {"v1_call", l_session_v1_call},
        {"close", l_session_close},
        {NULL, NULL}};
    aliyun_session_metatable(L, SESSION_MT, methods, l_session_gc, l_session_tostring);
}
