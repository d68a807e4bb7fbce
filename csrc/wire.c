/* wire.c: requests as bytes and answers from bytes (see wire.h). */
#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "h1.h"
#include "httpcommon.h"
#include "json.h"
#include "sign.h"
#include "wire.h"

#define READER_MT "aliyun.core.response_reader"
#define DEFAULT_MAX_BODY (64UL * 1024 * 1024)

static int is_method(const char *m, size_t n, const char *want) {
    return n == strlen(want) && memcmp(m, want, n) == 0;
}

/* Whether header name k equals the lower-case name want, ignoring case. */
static int header_is(const char *k, size_t kl, const char *want) {
    size_t i;
    if (kl != strlen(want)) return 0;
    for (i = 0; i < kl; i++) {
        char c = k[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != want[i]) return 0;
    }
    return 1;
}

#define ADD(buf, p, n) do { if (!membuf_add((buf), (p), (n))) luaL_error(L, "out of memory"); } while (0)
#define ADDS(buf, str) ADD((buf), (str), strlen(str))

/* The length of the scheme of an http(s) URL or origin, 0 for anything else. */
static size_t scheme_of(const char *u, size_t n) {
    if (n > 7 && memcmp(u, "http://", 7) == 0) return 7;
    if (n > 8 && memcmp(u, "https://", 8) == 0) return 8;
    return 0;
}

/* Whether the direct path takes this method and URL: the length of the URL's scheme and
 * of its authority, or 0 (libcurl's engine judges it). */
static size_t takes_target(const char *method, size_t ml, const char *url, size_t ul, size_t *al) {
    size_t i, scheme_len;
    const char *authority;
    if (!(is_method(method, ml, "GET") || is_method(method, ml, "POST") || is_method(method, ml, "PUT") ||
          is_method(method, ml, "DELETE") || is_method(method, ml, "PATCH") || is_method(method, ml, "HEAD")))
        return 0;
    scheme_len = scheme_of(url, ul);
    if (scheme_len == 0) return 0;
    /* anything libcurl would reject or rewrite (spaces, controls, non-ASCII, fragments) is
     * declined, so both engines treat odd URLs alike */
    for (i = 0; i < ul; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f || c == '#') return 0;
    }
    authority = url + scheme_len;
    for (*al = 0; scheme_len + *al < ul && authority[*al] != '/' && authority[*al] != '?'; (*al)++) {}
    if (*al == 0 || memchr(authority, '@', *al) || *al > 1024) return 0;
    return scheme_len;
}

int aliyun_wire_takes(lua_State *L, int req) {
    size_t ml = 3, ul, al;
    const char *method = "GET", *url;
    int ok, top = lua_gettop(L);
    lua_getfield(L, req, "method");
    lua_getfield(L, req, "url");
    lua_getfield(L, req, "body");
    ok = lua_type(L, -2) == LUA_TSTRING && (lua_isnil(L, -1) || lua_type(L, -1) == LUA_TSTRING) &&
         (lua_isnil(L, -3) || lua_type(L, -3) == LUA_TSTRING);
    if (ok) {
        if (!lua_isnil(L, -3)) method = lua_tolstring(L, -3, &ml);
        url = lua_tolstring(L, -2, &ul);
        ok = takes_target(method, ml, url, ul, &al) != 0;
    }
    lua_settop(L, top);
    return ok;
}

int aliyun_wire_request(lua_State *L, int req, const char *user_agent, membuf_t *out, membuf_t *extra,
                        membuf_t *key, const char **bad, int *head, int *idempotent, size_t *line_len) {
    const char *method, *url, *body = NULL, *authority, *target;
    size_t ml, ul, body_len = 0, al, scheme_len;
    int with_body, has_host = 0, has_ua = 0, has_accept = 0, has_ctype = 0, h, top = lua_gettop(L);
    char num[32];

    *bad = NULL;
    lua_getfield(L, req, "method");
    lua_getfield(L, req, "url");
    lua_getfield(L, req, "body");
    if (lua_type(L, -2) != LUA_TSTRING || !(lua_isnil(L, -1) || lua_type(L, -1) == LUA_TSTRING) ||
        !(lua_isnil(L, -3) || lua_type(L, -3) == LUA_TSTRING)) {
        lua_settop(L, top);
        return WIRE_DECLINE; /* libcurl's path raises the argument error */
    }
    if (lua_isnil(L, -3)) {
        method = "GET";
        ml = 3;
    } else {
        method = lua_tolstring(L, -3, &ml);
    }
    url = lua_tolstring(L, -2, &ul);
    if (!lua_isnil(L, -1)) body = lua_tolstring(L, -1, &body_len);
    *head = is_method(method, ml, "HEAD");
    /* request.idempotent says whether it may be sent twice; else HTTP's own rule */
    lua_getfield(L, req, "idempotent");
    *idempotent = lua_isnil(L, -1) ? (*head || is_method(method, ml, "GET")) : lua_toboolean(L, -1);
    lua_pop(L, 1);
    with_body = !(is_method(method, ml, "GET") || *head);
    scheme_len = takes_target(method, ml, url, ul, &al);
    if (scheme_len == 0) {
        lua_settop(L, top);
        return WIRE_DECLINE;
    }
    authority = url + scheme_len;
    target = authority + al;

    /* the caller's headers, checked, into extra */
    extra->len = 0;
    lua_getfield(L, req, "headers");
    h = lua_gettop(L);
    if (!lua_isnil(L, h)) {
        if (!lua_istable(L, h)) luaL_error(L, "request.headers must be a table");
        lua_pushnil(L);
        while (lua_next(L, h)) {
            size_t kl, vl;
            const char *k, *v;
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "request header names and values must be strings");
            k = lua_tolstring(L, -2, &kl);
            v = lua_tolstring(L, -1, &vl);
            *bad = aliyun_bad_header(k, kl, v, vl);
            if (*bad) {
                lua_settop(L, top);
                return WIRE_BAD;
            }
            lua_pop(L, 1);
            /* framing is this code's business: the caller's framing headers are dropped */
            if (header_is(k, kl, "content-length") || header_is(k, kl, "transfer-encoding") ||
                header_is(k, kl, "expect") || header_is(k, kl, "connection"))
                continue;
            has_host |= header_is(k, kl, "host");
            has_ua |= header_is(k, kl, "user-agent");
            has_accept |= header_is(k, kl, "accept");
            has_ctype |= header_is(k, kl, "content-type");
            ADD(extra, k, kl);
            ADD(extra, ": ", vl ? 2 : 1);
            ADD(extra, v, vl);
            ADD(extra, "\r\n", 2);
        }
    }

    /* the request: line, headers, body, in one buffer sent with one write */
    out->len = 0;
    ADD(out, method, ml);
    ADD(out, " ", 1);
    if (*target != '/') ADD(out, "/", 1);
    ADD(out, target, (size_t)(url + ul - target));
    *line_len = out->len;
    ADDS(out, " HTTP/1.1\r\n");
    if (!has_host) {
        ADDS(out, "Host: ");
        ADD(out, authority, al);
        ADD(out, "\r\n", 2);
    }
    if (!has_ua && user_agent) {
        ADDS(out, "User-Agent: ");
        ADDS(out, user_agent);
        ADD(out, "\r\n", 2);
    }
    if (!has_accept) ADDS(out, "Accept: */*\r\n");
    ADD(out, extra->data ? extra->data : "", extra->len);
    if (with_body) {
        if (!has_ctype) ADDS(out, "Content-Type: application/x-www-form-urlencoded\r\n");
        snprintf(num, sizeof num, "%lu", (unsigned long)body_len);
        ADDS(out, "Content-Length: ");
        ADDS(out, num);
        ADD(out, "\r\n", 2);
    }
    ADD(out, "\r\n", 2);
    if (with_body && body_len) ADD(out, body, body_len);

    key->len = 0;
    ADD(key, url, scheme_len + al);
    lua_settop(L, top);
    return WIRE_OK;
}

/* The scheme's length of an origin "http(s)://authority" as the direct request path takes
 * it, or 0 (odd bytes, user info, a path). */
static size_t origin_scheme(const char *o, size_t n) {
    size_t i, sl = scheme_of(o, n);
    if (sl == 0 || n - sl > 1024) return 0;
    for (i = sl; i < n; i++) {
        unsigned char c = (unsigned char)o[i];
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '@') return 0;
    }
    return sl;
}

int aliyun_wire_v1_request(lua_State *L, const char *origin, size_t ol, const char *method, size_t ml, int a,
                           const char *user_agent, membuf_t *out, membuf_t *sts, membuf_t *key, size_t *line_len) {
    size_t scheme_len = origin_scheme(origin, ol);
    int post = is_method(method, ml, "POST");
    if (scheme_len == 0 || !(post || is_method(method, ml, "GET"))) return WIRE_DECLINE;
    out->len = 0;
    sts->len = 0;
    ADD(out, method, ml);
    ADD(out, " ", 1);
    /* an empty base URL: what the signer writes is then the request target
     * "/?query&Signature=..." */
    aliyun_v1_sign_into(L, method, ml, "", 0, a, out, sts);
    *line_len = out->len;
    ADDS(out, " HTTP/1.1\r\nHost: ");
    ADD(out, origin + scheme_len, ol - scheme_len);
    if (user_agent) {
        ADDS(out, "\r\nUser-Agent: ");
        ADDS(out, user_agent);
    }
    ADDS(out, "\r\nAccept: application/json\r\n");
    if (post) ADDS(out, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n");
    ADD(out, "\r\n", 2);
    key->len = 0;
    ADD(key, origin, ol);
    return WIRE_OK;
}

/* ------------------------------------------------------ Lua functions */

/* Buffers of the Lua-facing builders: one set per Lua state, kept in the registry and
 * reused by every call (nothing yields or re-enters while a request is written), so a
 * call allocates only the string it returns. Freed with the state. */
typedef struct {
    membuf_t out, extra, key, sts;
} scratch_t;

static int scratch_gc(lua_State *L) {
    scratch_t *s = (scratch_t *)lua_touserdata(L, 1);
    membuf_free(&s->out);
    membuf_free(&s->extra);
    membuf_free(&s->key);
    membuf_free(&s->sts);
    return 0;
}

#define SCRATCH_MT "aliyun.core.wire_scratch"

/* The state's scratch buffers: the builders' upvalue 1 (see aliyun_wire_builders), where a
 * registry lookup by name would make the name a string again on every call under LuaJIT.
 * Buffers a large request grew are given back once it is written (see trim_scratch). */
static scratch_t *builder_scratch(lua_State *L) {
    return (scratch_t *)lua_touserdata(L, lua_upvalueindex(1));
}

void aliyun_wire_builders(lua_State *L) {
    scratch_t *s = (scratch_t *)lua_newuserdata(L, sizeof(scratch_t));
    memset(s, 0, sizeof *s);
    luaL_setmetatable(L, SCRATCH_MT);
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, aliyun_l_http_request, 1);
    lua_setfield(L, -3, "http_request");
    lua_pushcclosure(L, aliyun_l_v1_request, 1);
    lua_setfield(L, -2, "v1_request");
}

/* A big request once must not pin its copy. */
static void trim_scratch(scratch_t *s) {
    if (s->out.cap > 1024 * 1024) membuf_free(&s->out);
    if (s->extra.cap > 1024 * 1024) membuf_free(&s->extra);
    if (s->sts.cap > 1024 * 1024) membuf_free(&s->sts);
}

int aliyun_l_http_request(lua_State *L) {
    const char *ua, *bad = NULL;
    scratch_t *s;
    int rc, head, idempotent;
    size_t line = 0;
    luaL_checktype(L, 1, LUA_TTABLE);
    ua = luaL_optstring(L, 2, NULL);
    lua_settop(L, 2);
    s = builder_scratch(L);
    rc = aliyun_wire_request(L, 1, ua, &s->out, &s->extra, &s->key, &bad, &head, &idempotent, &line);
    if (rc != WIRE_OK) {
        lua_pushnil(L);
        if (rc == WIRE_BAD)
            lua_pushstring(L, bad);
        else
            lua_pushliteral(L, "request not supported: method GET, HEAD, POST, PUT, DELETE or PATCH and "
                               "an http(s) URL of printable ASCII without user info or fragment expected");
        lua_pushliteral(L, "validation");
        return 3;
    }
    lua_pushlstring(L, s->out.data, line);
    lua_pushlstring(L, s->out.data + line, s->out.len - line);
    lua_pushlstring(L, s->key.data, s->key.len);
    trim_scratch(s);
    return 3;
}

int aliyun_l_v1_request(lua_State *L) {
    size_t ol, ml;
    const char *origin = luaL_checklstring(L, 1, &ol);
    const char *method = luaL_checklstring(L, 2, &ml);
    const char *ua;
    scratch_t *s;
    size_t line = 0;
    lua_settop(L, 11);
    ua = luaL_optstring(L, 11, NULL);
    s = builder_scratch(L);
    if (aliyun_wire_v1_request(L, origin, ol, method, ml, 3, ua, &s->out, &s->sts, &s->key, &line) != WIRE_OK) {
        lua_pushboolean(L, 0);
        return 1;
    }
    /* only the bytes: the string to sign can be made from them again, and a second long
     * string per call is not free under LuaJIT, whose string table chains similar long
     * strings together */
    lua_pushlstring(L, s->out.data, line);
    lua_pushlstring(L, s->out.data + line, s->out.len - line);
    trim_scratch(s);
    return 2;
}

int aliyun_l_parse_origin(lua_State *L) {
    const char *origin = luaL_checkstring(L, 1);
    char host[1040], port[8];
    int tls;
    if (!conn_parse_origin(origin, host, sizeof host, port, sizeof port, &tls)) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, tls ? "https" : "http");
    lua_pushstring(L, host);
    lua_pushinteger(L, (lua_Integer)atoi(port));
    return 3;
}

/* ---------------------------------------------------- response reader */

/* A response reader: bytes a transport received go in (feed, eof), the core's parser
 * (h1.c) frames them, with its limits, and the answer comes out as a table or decoded.
 *   reader:feed(bytes) -> true, keep_alive (complete) | false (more wanted) | nil, message, kind
 *   reader:feed(bytes, true) -> the same, except that a complete 2xx answer whose body is a
 *                         JSON object or array comes decoded in place of true, and the reader
 *                         is then ready for another answer with the same limits (a gateway's
 *                         common call: one C call where feed, decode and reset were three)
 *   reader:eof()       -> the same, for the end of the connection (keep_alive is then false)
 *   reader:keep_alive() -> whether the connection may carry another request
 *   reader:response()  -> {status, raw_headers, body}
 *   reader:decode()    -> the decoded table (a 2xx answer that is a JSON object or array)
 *                         | false, status, body, raw_headers
 *   reader:reset([max_body[, head]]) -> the reader, ready for another answer (a transport
 *                         keeps a few and reuses their buffers) */
typedef struct {
    h1_response_t r;
    membuf_t in; /* received bytes not yet parsed */
    int state;   /* 0 reading, 1 done, -1 failed */
} reader_t;

static reader_t *check_reader(lua_State *L) {
    return (reader_t *)aliyun_check_self(L, READER_MT);
}

static int reader_gc(lua_State *L) {
    reader_t *rd = check_reader(L);
    h1_free(&rd->r);
    membuf_free(&rd->in);
    return 0;
}

/* Readies rd for a new answer with the given limits, keeping its buffers (unless a big
 * answer grew them). */
static void reader_readied(reader_t *rd, int head, size_t max_body) {
    if (rd->r.body.cap > 1024 * 1024) membuf_free(&rd->r.body);
    if (rd->in.cap > 1024 * 1024) membuf_free(&rd->in);
    rd->in.len = 0;
    rd->state = 0;
    h1_reset(&rd->r, head, max_body);
}

/* The same, with the limits of the answer it just read. */
static void reader_again(reader_t *rd) {
    reader_readied(rd, rd->r.head, rd->r.max_body);
}

/* The same, with max_body and head from the Lua arguments at a, a + 1. */
static void reader_ready(lua_State *L, reader_t *rd, int a) {
    lua_Number max = luaL_optnumber(L, a, (lua_Number)DEFAULT_MAX_BODY);
    if (!(max >= 1)) luaL_argerror(L, a, "a positive number of bytes expected");
    reader_readied(rd, lua_toboolean(L, a + 1), max > 1e15 ? (size_t)1e15 : (size_t)max);
}

int aliyun_l_response_reader(lua_State *L) {
    reader_t *rd;
    lua_settop(L, 2);
    rd = (reader_t *)lua_newuserdata(L, sizeof(reader_t));
    memset(rd, 0, sizeof *rd);
    luaL_setmetatable(L, READER_MT);
    reader_ready(L, rd, 1);
    return 1;
}

/* reader:reset([max_body[, head]]) -> reader, ready for another answer (its buffers kept). */
static int reader_reset(lua_State *L) {
    reader_t *rd = check_reader(L);
    lua_settop(L, 3);
    reader_ready(L, rd, 2);
    lua_settop(L, 1);
    return 1;
}

/* Pushes the outcome of parse status st; returns the number of values. A complete answer
 * gives true and whether the connection may be kept (saving the transport a call). */
static int reader_outcome(lua_State *L, reader_t *rd, int st) {
    if (st == H1_DONE) {
        rd->state = 1;
        lua_pushboolean(L, 1);
        lua_pushboolean(L, rd->r.keep_alive);
        return 2;
    }
    if (st == H1_MORE) {
        lua_pushboolean(L, 0);
        return 1;
    }
    rd->state = -1;
    lua_pushnil(L);
    if (st == H1_TOO_LARGE) {
        size_t m = rd->r.max_body;
        lua_pushfstring(L, "response body larger than the limit of %d bytes", (int)(m > 0x7fffffff ? 0x7fffffff : m));
    } else {
        lua_pushfstring(L, "invalid HTTP response: %s", rd->r.error ? rd->r.error : "unknown error");
    }
    lua_pushliteral(L, "network");
    return 3;
}

static int reader_feed(lua_State *L) {
    reader_t *rd = check_reader(L);
    size_t n, used = 0;
    const char *p = luaL_checklstring(L, 2, &n);
    int st;
    if (rd->state != 0) return luaL_error(L, "response reader: the answer is already %s", rd->state > 0 ? "complete" : "failed");
    if (rd->in.len == 0) {
        /* the usual case: parse the bytes where they are, keep only what is left */
        st = h1_parse(&rd->r, p, n, &used);
        if (st == H1_MORE && used < n && !membuf_add(&rd->in, p + used, n - used)) return luaL_error(L, "out of memory");
    } else {
        if (!membuf_add(&rd->in, p, n)) return luaL_error(L, "out of memory");
        st = h1_parse(&rd->r, rd->in.data, rd->in.len, &used);
        membuf_consume(&rd->in, used);
    }
    if (st == H1_DONE && (rd->in.len > 0 || used < n)) rd->r.keep_alive = 0; /* bytes beyond the answer */
    if (st == H1_DONE && lua_toboolean(L, 3) && rd->r.status >= 200 && rd->r.status < 300) {
        int keep = rd->r.keep_alive;
        lua_settop(L, 3);
        if (aliyun_json_decode(L, rd->r.body.data ? rd->r.body.data : "", rd->r.body.len) == 1 && lua_istable(L, -1)) {
            reader_again(rd);
            lua_pushboolean(L, keep);
            return 2;
        }
        lua_settop(L, 3); /* not JSON: the caller asks decode() for status and body */
    }
    return reader_outcome(L, rd, st);
}

static int reader_eof(lua_State *L) {
    reader_t *rd = check_reader(L);
    int st;
    if (rd->state != 0) return luaL_error(L, "response reader: the answer is already %s", rd->state > 0 ? "complete" : "failed");
    st = h1_eof(&rd->r);
    if (st == H1_ERROR) { /* the answer was cut short: h1_eof says how */
        rd->state = -1;
        lua_pushnil(L);
        lua_pushstring(L, rd->r.error);
        lua_pushliteral(L, "network");
        return 3;
    }
    return reader_outcome(L, rd, st);
}

static int reader_keep_alive(lua_State *L) {
    reader_t *rd = check_reader(L);
    lua_pushboolean(L, rd->state == 1 && rd->r.keep_alive);
    return 1;
}

/* Whether any byte of the answer has come: before that, a closed kept connection means
 * the server never read the request. */
static int reader_started(lua_State *L) {
    reader_t *rd = check_reader(L);
    lua_pushboolean(L, h1_started(&rd->r) || rd->in.len > 0);
    return 1;
}

static void push_str(lua_State *L, const membuf_t *m) {
    lua_pushlstring(L, m->data ? m->data : "", m->len);
}

static void check_done(lua_State *L, reader_t *rd) {
    if (rd->state != 1) luaL_error(L, "response reader: the answer is not complete");
}

static int reader_response(lua_State *L) {
    reader_t *rd = check_reader(L);
    check_done(L, rd);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, rd->r.status);
    lua_setfield(L, -2, "status");
    push_str(L, &rd->r.headers);
    lua_setfield(L, -2, "raw_headers");
    push_str(L, &rd->r.body);
    lua_setfield(L, -2, "body");
    return 1;
}

static int reader_decode(lua_State *L) {
    reader_t *rd = check_reader(L);
    check_done(L, rd);
    lua_settop(L, 1);
    if (rd->r.status >= 200 && rd->r.status < 300) {
        int n = aliyun_json_decode(L, rd->r.body.data ? rd->r.body.data : "", rd->r.body.len);
        if (n == 1 && lua_istable(L, -1)) return 1;
        lua_settop(L, 1);
    }
    lua_pushboolean(L, 0);
    lua_pushinteger(L, rd->r.status);
    push_str(L, &rd->r.body);
    push_str(L, &rd->r.headers);
    return 4;
}

static int reader_tostring(lua_State *L) {
    reader_t *rd = check_reader(L);
    lua_pushfstring(L, "aliyun.core.response_reader (%s)", rd->state > 0 ? "complete" : rd->state < 0 ? "failed" : "reading");
    return 1;
}

void aliyun_wire_register(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"feed", reader_feed},
        {"eof", reader_eof},
        {"keep_alive", reader_keep_alive},
        {"started", reader_started},
        {"response", reader_response},
        {"decode", reader_decode},
        {"reset", reader_reset},
        {NULL, NULL}};
    aliyun_session_metatable(L, READER_MT, methods, reader_gc, reader_tostring);
    if (luaL_newmetatable(L, SCRATCH_MT)) {
        lua_pushcfunction(L, scratch_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
}
