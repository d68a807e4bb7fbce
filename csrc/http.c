/* http.c: HTTP over libcurl for the Lua layer.
 *
 * A session owns one easy handle. libcurl keeps the handle's connections open, so
 * requests to the same host reuse them (keep-alive). Everything a request allocates
 * (header list, response buffers) hangs off the session and is freed at the next
 * request, at close() or by the GC, so a Lua error part-way never leaks. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>

#include "http.h"
#include "h1conn.h"
#include "json.h"
#include "membuf.h"
#include "sign.h"

#define SESSION_MT "aliyun.core.session"
#define DEFAULT_MAX_BODY (64L * 1024 * 1024)

/* One transfer: an easy handle and what it sends and receives. A session owns one for
 * session:request; session:batch makes one per concurrent request. */
typedef struct {
    CURL *curl;
    struct curl_slist *req_headers;
    membuf_t body, headers;
    size_t max_body;
    int body_too_large;
    char errbuf[CURL_ERROR_SIZE];
} transfer_t;

/* The transfers of the batch in progress. They hang off the session, not the stack, so
 * a Lua error part-way (out of memory, a bad request table) leaves nothing unowned: the
 * next batch, close() or the GC frees them, always before the multi handle. */
typedef struct {
    transfer_t *t;   /* one per concurrent slot */
    int *slot_index; /* which request each slot carries (0 = idle) */
    int slots;
} batch_t;

typedef struct {
    transfer_t t;
    CURLM *multi; /* for batches; created on first use, keeps its own connection pool */
    batch_t batch;
    /* session options, applied to every request after curl_easy_reset */
    long connect_timeout_ms, timeout_ms;
    size_t max_body;
    int verify_tls;
    int curl_http; /* every request through libcurl's HTTP engine (no direct path) */
    int env_proxy; /* a proxy variable was set in the environment when the session was made */
    int raw_headers; /* responses of request() carry raw_headers (a string), not headers */
    char *ca_file, *proxy, *no_proxy, *user_agent;
    /* the direct path (h1conn.c): kept connections, the answer, the request being built */
    h1pool_t pool;
    h1_response_t resp;
    membuf_t out, extra, key;
    membuf_t sts; /* the fused call's string to sign, handed back when a call fails */
    int busy;     /* a fused call is decoding from resp.body: nothing may reset it */
} session_t;

/* ------------------------------------------------------------- helpers */

static char *dup_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = (char *)malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* ----------------------------------------------------------- callbacks */

/* CURLOPT_SOCKOPTFUNCTION: marks the socket close-on-exec, so that processes a program
 * starts (os.execute, io.popen) do not inherit its connections. */
static int socket_cloexec(void *clientp, curl_socket_t fd, curlsocktype purpose) {
    int flags = fcntl(fd, F_GETFD);
    (void)clientp;
    (void)purpose;
    if (flags == -1 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) return CURL_SOCKOPT_ERROR;
    return CURL_SOCKOPT_OK;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
    transfer_t *s = (transfer_t *)ud;
    size_t n = size * nmemb;
    if (s->body.len + n > s->max_body) {
        s->body_too_large = 1;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return membuf_add(&s->body, p, n) ? n : 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud) {
    transfer_t *s = (transfer_t *)ud;
    size_t n = size * nmemb;
    /* A new status line starts a new header block (after 100 Continue, a redirect or a
     * proxy CONNECT): only the final response's headers are kept. */
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) s->headers.len = 0;
    if (s->headers.len + n > 1024 * 1024) return 0; /* no sane response has 1 MiB of headers */
    return membuf_add(&s->headers, p, n) ? n : 0;
}

/* ------------------------------------------------------------ session */

static session_t *check_session(lua_State *L) {
    session_t *s = (session_t *)luaL_checkudata(L, 1, SESSION_MT);
    if (s->t.curl == NULL) luaL_error(L, "session is closed");
    /* a finalizer run while a fused call decodes must not reuse the buffers it reads */
    if (s->busy) luaL_error(L, "session is busy (used from a finalizer during a call)");
    return s;
}

static void transfer_free(transfer_t *t) {
    if (t->curl) curl_easy_cleanup(t->curl);
    t->curl = NULL;
    curl_slist_free_all(t->req_headers);
    t->req_headers = NULL;
    membuf_free(&t->body);
    membuf_free(&t->headers);
}

static void batch_free(CURLM *multi, batch_t *b);

static void session_free(session_t *s) {
    transfer_free(&s->t);
    batch_free(s->multi, &s->batch);
    if (s->multi) curl_multi_cleanup(s->multi);
    s->multi = NULL;
    h1pool_free(&s->pool);
    h1_free(&s->resp);
    membuf_free(&s->out);
    membuf_free(&s->extra);
    membuf_free(&s->key);
    membuf_free(&s->sts);
    free(s->ca_file);
    free(s->proxy);
    free(s->no_proxy);
    free(s->user_agent);
    s->ca_file = s->proxy = s->no_proxy = s->user_agent = NULL;
}

static int l_session_gc(lua_State *L) {
    session_free((session_t *)luaL_checkudata(L, 1, SESSION_MT));
    return 0;
}

static int l_session_close(lua_State *L) {
    session_t *s = (session_t *)luaL_checkudata(L, 1, SESSION_MT);
    if (s->busy) return luaL_error(L, "session is busy (closed from a finalizer during a call)");
    session_free(s);
    return 0;
}

static int l_session_tostring(lua_State *L) {
    session_t *s = (session_t *)luaL_checkudata(L, 1, SESSION_MT);
    lua_pushfstring(L, "aliyun.core.session (%s)", s->t.curl ? "open" : "closed");
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

/* Seconds (possibly fractional) from opts[name] as milliseconds; dflt when absent. */
static long opt_ms(lua_State *L, int idx, const char *name, long dflt) {
    long ms = dflt;
    lua_getfield(L, idx, name);
    if (!lua_isnil(L, -1)) {
        lua_Number v;
        if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "%s must be a number of seconds", name);
        v = lua_tonumber(L, -1);
        if (!(v > 0 && v <= 86400)) luaL_error(L, "%s must be between 0 and 86400 seconds", name);
        ms = (long)(v * 1000 + 0.5);
        if (ms < 1) ms = 1;
    }
    lua_pop(L, 1);
    return ms;
}

/* A copy of the string option opts[name], or NULL when absent. */
static char *opt_strdup(lua_State *L, int idx, const char *name) {
    char *d = NULL;
    lua_getfield(L, idx, name);
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s must be a string", name);
        d = dup_string(lua_tostring(L, -1));
        if (d == NULL) luaL_error(L, "out of memory");
    }
    lua_pop(L, 1);
    return d;
}

/* core.session{connect_timeout=, timeout=, verify_tls=, ca_file=, proxy=, no_proxy=,
 *              user_agent=, max_body=, curl_http=, raw_headers=} */
int aliyun_l_session(lua_State *L) {
    session_t *s;
    int o;
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    o = 1;
    s = (session_t *)lua_newuserdata(L, sizeof(session_t));
    memset(s, 0, sizeof *s);
    luaL_setmetatable(L, SESSION_MT); /* from here on the GC frees whatever is set */
    s->connect_timeout_ms = opt_ms(L, o, "connect_timeout", 10000);
    s->timeout_ms = opt_ms(L, o, "timeout", 60000);
    lua_getfield(L, o, "verify_tls");
    s->verify_tls = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, o, "curl_http");
    s->curl_http = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, o, "raw_headers");
    s->raw_headers = lua_toboolean(L, -1);
    lua_pop(L, 1);
    s->env_proxy = proxy_in_environment();
    lua_getfield(L, o, "max_body");
    if (lua_isnil(L, -1)) {
        s->max_body = DEFAULT_MAX_BODY;
    } else {
        lua_Number v = lua_tonumber(L, -1);
        if (!(v >= 1)) luaL_error(L, "max_body must be a positive number of bytes");
        s->max_body = v > 1e15 ? (size_t)1e15 : (size_t)v;
    }
    lua_pop(L, 1);
    s->ca_file = opt_strdup(L, o, "ca_file");
    s->proxy = opt_strdup(L, o, "proxy");
    s->no_proxy = opt_strdup(L, o, "no_proxy");
    s->user_agent = opt_strdup(L, o, "user_agent");
    s->t.max_body = s->max_body;
    s->t.curl = curl_easy_init();
    if (s->t.curl == NULL) luaL_error(L, "curl_easy_init failed");
    return 1;
}

/* Sets one libcurl option and raises on failure: a failing setopt means this libcurl
 * lacks a feature we rely on, which the caller must hear about. */
#define SETOPT(L, c, opt, val)                                                            \
    do {                                                                                  \
        CURLcode rc_ = curl_easy_setopt((c), (opt), (val));                               \
        if (rc_ != CURLE_OK) luaL_error((L), "curl_easy_setopt(%s): %s", #opt, curl_easy_strerror(rc_)); \
    } while (0)

static int has_crlf(const char *p, size_t n) {
    return memchr(p, '\r', n) != NULL || memchr(p, '\n', n) != NULL;
}

/* Why a request header must not be sent (it could inject another header), or NULL. */
static const char *bad_header(const char *k, size_t kl, const char *v, size_t vl) {
    if (kl == 0 || has_crlf(k, kl) || memchr(k, ':', kl) || memchr(k, '\0', kl)) return "invalid request header name";
    if (has_crlf(v, vl) || memchr(v, '\0', vl)) return "request header value contains CR, LF or NUL";
    return NULL;
}

/* Builds s->req_headers from req.headers ({name = value}); returns an error message for
 * a header that would let a value inject another header, NULL when all is well. */
static const char *build_headers(lua_State *L, transfer_t *s, int req) {
    int h;
    lua_getfield(L, req, "headers");
    h = lua_gettop(L);
    /* Without this libcurl sends "Expect: 100-continue" for larger bodies, which costs a
     * round trip per call. */
    s->req_headers = curl_slist_append(s->req_headers, "Expect:");
    if (s->req_headers == NULL) luaL_error(L, "out of memory");
    if (lua_isnil(L, h)) {
        lua_pop(L, 1);
        return NULL;
    }
    if (!lua_istable(L, h)) luaL_error(L, "request.headers must be a table");
    lua_pushnil(L);
    while (lua_next(L, h)) {
        size_t kl, vl;
        const char *k, *v, *line;
        struct curl_slist *next;
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "request header names and values must be strings");
        k = lua_tolstring(L, -2, &kl);
        v = lua_tolstring(L, -1, &vl);
        line = bad_header(k, kl, v, vl);
        if (line) {
            lua_pop(L, 3);
            return line;
        }
        /* "Name;" is libcurl's way of sending a header with an empty value */
        if (vl == 0)
            line = lua_pushfstring(L, "%s;", k);
        else
            line = lua_pushfstring(L, "%s: %s", k, v);
        next = curl_slist_append(s->req_headers, line);
        if (next == NULL) luaL_error(L, "out of memory");
        s->req_headers = next;
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    return NULL;
}

/* Pushes the header block of the final response as {lower-case name = value}; repeated
 * headers are joined with ", " as RFC 9110 allows. Names are lower-cased in a stack buffer:
 * this runs for every response, and per-byte luaL_Buffer calls were most of its cost. */
static void push_headers(lua_State *L, const membuf_t *m) {
    const char *p = m->data, *end = m->data + m->len;
    lua_createtable(L, 0, 8);
    if (p == NULL) return;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon && !(line_end - p >= 5 && memcmp(p, "HTTP/", 5) == 0)) {
            const char *v = colon + 1, *ve = line_end;
            size_t i, kl = (size_t)(colon - p);
            char name[128];
            while (v < ve && (*v == ' ' || *v == '\t')) v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
            if (kl <= sizeof name) {
                for (i = 0; i < kl; i++) name[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i];
                lua_pushlstring(L, name, kl);
            } else {
                luaL_Buffer b;
                luaL_buffinit(L, &b);
                for (i = 0; i < kl; i++) luaL_addchar(&b, (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i]);
                luaL_pushresult(&b);
            }
            lua_pushvalue(L, -1);
            lua_rawget(L, -3);
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                lua_pushlstring(L, v, (size_t)(ve - v));
            } else {
                lua_pushliteral(L, ", ");
                lua_pushlstring(L, v, (size_t)(ve - v));
                lua_concat(L, 3);
            }
            lua_rawset(L, -3);
        }
        p = line_end + 1;
    }
}

static int push_too_large(lua_State *L, size_t max_body) {
    lua_pushnil(L);
    lua_pushfstring(L, "response body larger than the limit of %d bytes", (int)(max_body > 0x7fffffff ? 0x7fffffff : max_body));
    lua_pushliteral(L, "network");
    return 3;
}

/* Maps a failed transfer to (nil, message, kind); kind is "timeout" or "network". */
static int push_failure(lua_State *L, transfer_t *s, CURLcode rc) {
    const char *kind = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "network";
    if (s->body_too_large) return push_too_large(L, s->max_body);
    lua_pushnil(L);
    if (s->errbuf[0])
        lua_pushfstring(L, "%s (%s)", s->errbuf, curl_easy_strerror(rc));
    else
        lua_pushstring(L, curl_easy_strerror(rc));
    lua_pushstring(L, kind);
    return 3;
}

/* Resets transfer t and sets it up for the request table at stack index req, with the
 * session's options. Returns NULL, or a message for a request that must not be sent
 * (a header value that would inject another header). Raises for wrong argument types. */
static const char *prepare_transfer(lua_State *L, session_t *s, transfer_t *t, int req) {
    CURL *c = t->curl;
    const char *method, *url, *body = NULL, *bad;
    size_t body_len = 0;
    int top = lua_gettop(L);

    curl_slist_free_all(t->req_headers);
    t->req_headers = NULL;
    t->body.len = t->headers.len = 0;
    t->body_too_large = 0;
    t->errbuf[0] = '\0';
    t->max_body = s->max_body;
    curl_easy_reset(c); /* keeps open connections and the DNS cache */

    lua_getfield(L, req, "method");
    method = lua_isnil(L, -1) ? "GET" : luaL_checkstring(L, -1);
    lua_getfield(L, req, "url");
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "request.url must be a string");
    url = lua_tostring(L, -1);
    lua_getfield(L, req, "body");
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "request.body must be a string");
        body = lua_tolstring(L, -1, &body_len);
    }

    bad = build_headers(L, t, req);
    if (bad) {
        lua_settop(L, top);
        return bad;
    }

    SETOPT(L, c, CURLOPT_URL, url); /* libcurl copies strings it is given */
    SETOPT(L, c, CURLOPT_NOSIGNAL, 1L);
    SETOPT(L, c, CURLOPT_ERRORBUFFER, t->errbuf);
    SETOPT(L, c, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(L, c, CURLOPT_WRITEDATA, (void *)t);
    SETOPT(L, c, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(L, c, CURLOPT_HEADERDATA, (void *)t);
    SETOPT(L, c, CURLOPT_PRIVATE, (void *)t);
    SETOPT(L, c, CURLOPT_HTTPHEADER, t->req_headers);
    SETOPT(L, c, CURLOPT_CONNECTTIMEOUT_MS, opt_ms(L, req, "connect_timeout", s->connect_timeout_ms));
    SETOPT(L, c, CURLOPT_TIMEOUT_MS, opt_ms(L, req, "timeout", s->timeout_ms));
    SETOPT(L, c, CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(L, c, CURLOPT_SOCKOPTFUNCTION, socket_cloexec);
    SETOPT(L, c, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(L, c, CURLOPT_SSL_VERIFYPEER, s->verify_tls ? 1L : 0L);
    SETOPT(L, c, CURLOPT_SSL_VERIFYHOST, s->verify_tls ? 2L : 0L);
    if (s->ca_file) SETOPT(L, c, CURLOPT_CAINFO, s->ca_file);
    /* Without an explicit proxy libcurl reads http_proxy, https_proxy, ALL_PROXY and
     * NO_PROXY from the environment itself. */
    if (s->proxy) SETOPT(L, c, CURLOPT_PROXY, s->proxy);
    if (s->no_proxy) SETOPT(L, c, CURLOPT_NOPROXY, s->no_proxy);
    if (s->user_agent) SETOPT(L, c, CURLOPT_USERAGENT, s->user_agent);

    if (strcmp(method, "GET") == 0) {
        SETOPT(L, c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        SETOPT(L, c, CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(method, "POST") != 0) SETOPT(L, c, CURLOPT_CUSTOMREQUEST, method);
        SETOPT(L, c, CURLOPT_POST, 1L);
        SETOPT(L, c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        /* copied: in a batch the request table may be gone before the body is sent */
        SETOPT(L, c, CURLOPT_COPYPOSTFIELDS, body ? body : "");
    }
    lua_settop(L, top);
    return NULL;
}

/* Pushes a response table {status, headers, body, elapsed} from a header block (status
 * line and header lines) and a body. */
static void push_result(lua_State *L, long status, const membuf_t *headers, const membuf_t *body, double elapsed,
                        int raw_headers) {
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, (lua_Integer)status);
    lua_setfield(L, -2, "status");
    if (raw_headers) {
        /* the header block as received; core.parse_headers makes the table when needed */
        lua_pushlstring(L, headers->data ? headers->data : "", headers->len);
        lua_setfield(L, -2, "raw_headers");
    } else {
        push_headers(L, headers);
        lua_setfield(L, -2, "headers");
    }
    lua_pushlstring(L, body->data ? body->data : "", body->len);
    lua_setfield(L, -2, "body");
    lua_pushnumber(L, (lua_Number)elapsed);
    lua_setfield(L, -2, "elapsed");
}

/* Pushes the response of a finished libcurl transfer. */
static void push_response(lua_State *L, transfer_t *t, int raw_headers) {
    long status = 0;
    double elapsed = 0;
    if (curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) status = 0;
    if (curl_easy_getinfo(t->curl, CURLINFO_TOTAL_TIME, &elapsed) != CURLE_OK) elapsed = 0;
    push_result(L, status, &t->headers, &t->body, elapsed, raw_headers);
    /* big buffers are not kept between requests: a 60 MB answer once must not pin 60 MB */
    if (t->body.cap > 1024 * 1024) membuf_free(&t->body);
}

/* ------------------------------------------------------- direct path */

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

#define ADD(buf, p, n) do { if (!membuf_add((buf), (p), (n))) return luaL_error(L, "out of memory"); } while (0)
#define ADDS(buf, str) ADD((buf), (str), strlen(str))

static double seconds_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* session:request over the direct path (h1conn.c). Returns -1, having pushed nothing, when
 * the request is not for it (a proxy applies, an unusual method or URL: libcurl's engine
 * handles those); else the number of results pushed. */
static int direct_request(lua_State *L, session_t *s, int req) {
    const char *method, *url, *body = NULL, *authority, *target, *bad = NULL;
    size_t ml, ul, body_len = 0, al, i, scheme_len;
    int with_body, has_host = 0, has_ua = 0, has_accept = 0, has_ctype = 0, h, rc;
    char msg[CURL_ERROR_SIZE + 256];
    char num[32];
    h1call_t call;
    struct timespec t0;

    if (s->curl_http || s->proxy || s->env_proxy) return -1;
    lua_getfield(L, req, "method");
    lua_getfield(L, req, "url");
    lua_getfield(L, req, "body");
    if (lua_type(L, -2) != LUA_TSTRING || !(lua_isnil(L, -1) || lua_type(L, -1) == LUA_TSTRING) ||
        !(lua_isnil(L, -3) || lua_type(L, -3) == LUA_TSTRING)) {
        lua_pop(L, 3);
        return -1; /* libcurl's path raises the argument error */
    }
    if (lua_isnil(L, -3)) {
        method = "GET";
        ml = 3;
    } else {
        method = lua_tolstring(L, -3, &ml);
    }
    url = lua_tolstring(L, -2, &ul);
    if (!lua_isnil(L, -1)) body = lua_tolstring(L, -1, &body_len);
    with_body = !is_method(method, ml, "GET");
    if (!(is_method(method, ml, "GET") || is_method(method, ml, "POST") || is_method(method, ml, "PUT") ||
          is_method(method, ml, "DELETE") || is_method(method, ml, "PATCH"))) {
        lua_pop(L, 3);
        return -1;
    }
    if (ul > 7 && memcmp(url, "http://", 7) == 0) {
        scheme_len = 7;
    } else if (ul > 8 && memcmp(url, "https://", 8) == 0) {
        scheme_len = 8;
    } else {
        lua_pop(L, 3);
        return -1;
    }
    /* anything libcurl would reject or rewrite (spaces, controls, non-ASCII, fragments)
     * goes to libcurl, so both paths treat odd URLs alike */
    for (i = 0; i < ul; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f || c == '#') {
            lua_pop(L, 3);
            return -1;
        }
    }
    authority = url + scheme_len;
    for (al = 0; scheme_len + al < ul && authority[al] != '/' && authority[al] != '?'; al++) {}
    if (al == 0 || memchr(authority, '@', al) || al > 1024) {
        lua_pop(L, 3);
        return -1;
    }
    target = authority + al;

    call.connect_timeout_ms = opt_ms(L, req, "connect_timeout", s->connect_timeout_ms);
    call.timeout_ms = opt_ms(L, req, "timeout", s->timeout_ms);

    /* the caller's headers, checked, into s->extra */
    s->extra.len = 0;
    lua_getfield(L, req, "headers");
    h = lua_gettop(L);
    if (!lua_isnil(L, h)) {
        if (!lua_istable(L, h)) return luaL_error(L, "request.headers must be a table");
        lua_pushnil(L);
        while (lua_next(L, h)) {
            size_t kl, vl;
            const char *k, *v;
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                return luaL_error(L, "request header names and values must be strings");
            k = lua_tolstring(L, -2, &kl);
            v = lua_tolstring(L, -1, &vl);
            bad = bad_header(k, kl, v, vl);
            if (bad) {
                lua_pop(L, 2);
                break;
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
            ADD(&s->extra, k, kl);
            ADD(&s->extra, ": ", vl ? 2 : 1);
            ADD(&s->extra, v, vl);
            ADD(&s->extra, "\r\n", 2);
        }
    }
    if (bad) {
        lua_pop(L, 4);
        lua_pushnil(L);
        lua_pushstring(L, bad);
        lua_pushliteral(L, "validation");
        return 3;
    }

    /* the request: line, headers, body, in one buffer sent with one write */
    s->out.len = 0;
    ADD(&s->out, method, ml);
    ADD(&s->out, " ", 1);
    if (*target != '/') ADD(&s->out, "/", 1);
    ADD(&s->out, target, (size_t)(url + ul - target));
    ADDS(&s->out, " HTTP/1.1\r\n");
    if (!has_host) {
        ADDS(&s->out, "Host: ");
        ADD(&s->out, authority, al);
        ADD(&s->out, "\r\n", 2);
    }
    if (!has_ua && s->user_agent) {
        ADDS(&s->out, "User-Agent: ");
        ADDS(&s->out, s->user_agent);
        ADD(&s->out, "\r\n", 2);
    }
    if (!has_accept) ADDS(&s->out, "Accept: */*\r\n");
    ADD(&s->out, s->extra.data ? s->extra.data : "", s->extra.len);
    if (with_body) {
        if (!has_ctype) ADDS(&s->out, "Content-Type: application/x-www-form-urlencoded\r\n");
        snprintf(num, sizeof num, "%lu", (unsigned long)body_len);
        ADDS(&s->out, "Content-Length: ");
        ADDS(&s->out, num);
        ADD(&s->out, "\r\n", 2);
    }
    ADD(&s->out, "\r\n", 2);
    if (with_body && body_len) ADD(&s->out, body, body_len);

    s->key.len = 0;
    ADD(&s->key, url, scheme_len + al);
    lua_pop(L, 4); /* method, url, body, headers: everything needed is copied */

    call.key = s->key.data;
    call.out = s->out.data;
    call.out_len = s->out.len;
    call.head = 0;
    call.verify_tls = s->verify_tls;
    call.ca_file = s->ca_file;
    h1_reset(&s->resp, 0, s->max_body);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = h1pool_request(&s->pool, &call, &s->resp, msg, sizeof msg);
    if (s->out.cap > 1024 * 1024) membuf_free(&s->out); /* a big body once must not pin its copy */
    if (rc == H1K_OK) {
        push_result(L, s->resp.status, &s->resp.headers, &s->resp.body, seconds_since(&t0), s->raw_headers);
        if (s->resp.body.cap > 1024 * 1024) membuf_free(&s->resp.body);
        return 1;
    }
    if (s->resp.body.cap > 1024 * 1024) membuf_free(&s->resp.body);
    if (rc == H1K_TOO_LARGE) return push_too_large(L, s->max_body);
    lua_pushnil(L);
    lua_pushstring(L, msg);
    if (rc == H1K_TIMEOUT)
        lua_pushliteral(L, "timeout");
    else
        lua_pushliteral(L, "network");
    return 3;
}

/* session:request{method=, url=, headers=, body=, timeout=, connect_timeout=}
 *   -> {status=, headers=, body=, elapsed=} | nil, message, kind */
static int l_session_request(lua_State *L) {
    session_t *s = check_session(L);
    const char *bad;
    CURLcode rc;
    int n;
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    n = direct_request(L, s, 2);
    if (n >= 0) return n;
    bad = prepare_transfer(L, s, &s->t, 2);
    if (bad) {
        lua_pushnil(L);
        lua_pushstring(L, bad);
        lua_pushliteral(L, "validation");
        return 3;
    }
    rc = curl_easy_perform(s->t.curl);
    if (rc != CURLE_OK) return push_failure(L, &s->t, rc);
    push_response(L, &s->t, s->raw_headers);
    return 1;
}

/* ---------------------------------------------------- fused V1 call */

/* The origin "http(s)://authority" of a fused call, as the direct path takes it: the
 * scheme's length, or 0 when libcurl's engine must handle it (odd bytes, user info). */
static size_t origin_scheme(const char *o, size_t n) {
    size_t i, sl;
    if (n > 7 && memcmp(o, "http://", 7) == 0)
        sl = 7;
    else if (n > 8 && memcmp(o, "https://", 8) == 0)
        sl = 8;
    else
        return 0;
    if (n - sl > 1024) return 0;
    for (i = sl; i < n; i++) {
        unsigned char c = (unsigned char)o[i];
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '?' || c == '#' || c == '@') return 0;
    }
    return sl;
}

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
 *                 security_token, nonce, timestamp, timeout, connect_timeout)
 * The client's common call in one step: signs it (V1, as core.v1_sign_url), sends it over
 * the direct path and decodes the answer, with no request or response table in between.
 * Returns
 *   the decoded table                            a 2xx answer whose body is a JSON object or array
 *   false, status, body, raw_headers, sts        any other answer (the Lua layer makes the error)
 *   nil, message, kind, sts                      the request failed (network, timeout, ...)
 *   false                                        the direct path does not apply (a proxy, an
 *                                                odd origin): send it the ordinary way */
static int l_session_v1_call(lua_State *L) {
    session_t *s = check_session(L);
    size_t ol, ml, scheme_len, i;
    const char *origin = luaL_checklstring(L, 2, &ol);
    const char *method = luaL_checklstring(L, 3, &ml);
    char msg[CURL_ERROR_SIZE + 256];
    h1call_t call;
    int rc, post;
    lua_settop(L, 13);
    scheme_len = origin_scheme(origin, ol);
    post = ml == 4 && memcmp(method, "POST", 4) == 0;
    if (s->curl_http || s->proxy || s->env_proxy || scheme_len == 0 ||
        !(post || (ml == 3 && memcmp(method, "GET", 3) == 0))) {
        lua_pushboolean(L, 0);
        return 1;
    }
    call.timeout_ms = arg_ms(L, 12, s->timeout_ms);
    call.connect_timeout_ms = arg_ms(L, 13, s->connect_timeout_ms);

    /* v1_sign_url's arguments at 14..23, with an empty base URL: what it writes is then
     * the request target "/?query&Signature=..." */
    lua_pushvalue(L, 3);
    lua_pushliteral(L, "");
    for (i = 4; i <= 11; i++) lua_pushvalue(L, (int)i);
    s->out.len = 0;
    s->sts.len = 0;
    ADD(&s->out, method, ml);
    ADD(&s->out, " ", 1);
    aliyun_v1_sign_into(L, 14, &s->out, &s->sts);
    lua_settop(L, 13);
    ADDS(&s->out, " HTTP/1.1\r\nHost: ");
    ADD(&s->out, origin + scheme_len, ol - scheme_len);
    if (s->user_agent) {
        ADDS(&s->out, "\r\nUser-Agent: ");
        ADDS(&s->out, s->user_agent);
    }
    ADDS(&s->out, "\r\nAccept: application/json\r\n");
    if (post) ADDS(&s->out, "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n");
    ADD(&s->out, "\r\n", 2);
    s->key.len = 0;
    ADD(&s->key, origin, ol);

    call.key = s->key.data;
    call.out = s->out.data;
    call.out_len = s->out.len;
    call.head = 0;
    call.verify_tls = s->verify_tls;
    call.ca_file = s->ca_file;
    h1_reset(&s->resp, 0, s->max_body);
    rc = h1pool_request(&s->pool, &call, &s->resp, msg, sizeof msg);
    if (s->out.cap > 1024 * 1024) membuf_free(&s->out); /* a big query once must not pin its copy */
    if (rc != H1K_OK) {
        if (s->resp.body.cap > 1024 * 1024) membuf_free(&s->resp.body);
        if (rc == H1K_TOO_LARGE) {
            push_too_large(L, s->max_body);
        } else {
            lua_pushnil(L);
            lua_pushstring(L, msg);
            if (rc == H1K_TIMEOUT)
                lua_pushliteral(L, "timeout");
            else
                lua_pushliteral(L, "network");
        }
        lua_pushlstring(L, s->sts.data, s->sts.len);
        return 4;
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
        lua_settop(L, 13);
    }
    lua_pushboolean(L, 0);
    lua_pushinteger(L, s->resp.status);
    lua_pushlstring(L, s->resp.body.data ? s->resp.body.data : "", s->resp.body.len);
    lua_pushlstring(L, s->resp.headers.data ? s->resp.headers.data : "", s->resp.headers.len);
    lua_pushlstring(L, s->sts.data, s->sts.len);
    if (s->resp.body.cap > 1024 * 1024) membuf_free(&s->resp.body);
    return 5;
}

/* ------------------------------------------------------------- batches */

static void batch_free(CURLM *multi, batch_t *b) {
    int i;
    if (b->t) {
        for (i = 0; i < b->slots; i++) {
            if (b->t[i].curl && b->slot_index[i] && multi) curl_multi_remove_handle(multi, b->t[i].curl);
            transfer_free(&b->t[i]);
        }
    }
    free(b->t);
    free(b->slot_index);
    b->t = NULL;
    b->slot_index = NULL;
    b->slots = 0;
}

/* Stores results[i] = (nil-free) failure table {error = message, kind = kind}. */
static void set_failure(lua_State *L, int results, int i, const char *msg, const char *kind) {
    lua_createtable(L, 0, 2);
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "error");
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_rawseti(L, results, i);
}

/* Starts request i (1-based) of the list at index reqs on slot k; a request that must not
 * be sent gets its failure stored at once and the slot stays idle. */
static void start_slot(lua_State *L, session_t *s, int k, int reqs, int results, int i) {
    batch_t *b = &s->batch;
    const char *bad;
    CURLMcode mc;
    lua_rawgeti(L, reqs, i);
    if (!lua_istable(L, -1)) luaL_error(L, "batch: request %d is not a table", i);
    bad = prepare_transfer(L, s, &b->t[k], lua_gettop(L));
    lua_pop(L, 1);
    if (bad) {
        set_failure(L, results, i, bad, "validation");
        return;
    }
    mc = curl_multi_add_handle(s->multi, b->t[k].curl);
    if (mc != CURLM_OK) luaL_error(L, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
    b->slot_index[k] = i;
}

/* session:batch(requests, concurrency) -> results
 * Sends every request, at most `concurrency` at a time, over the session's multi handle
 * (its connections are reused across batches). results[i] is the response of requests[i]
 * or {error = message, kind = "network"|"timeout"|"validation"}. */
static int l_session_batch(lua_State *L) {
    session_t *s = check_session(L);
    int n, conc, next = 1, running = 0, k;
    batch_t *b = &s->batch;
    luaL_checktype(L, 2, LUA_TTABLE);
    conc = (int)luaL_optinteger(L, 3, 16);
    if (conc < 1 || conc > 1024) return luaL_argerror(L, 3, "concurrency between 1 and 1024 expected");
    lua_settop(L, 3);
    n = (int)lua_rawlen(L, 2);
    lua_createtable(L, n, 0); /* 4: results */
    if (n == 0) return 1;
    if (conc > n) conc = n;
    if (s->multi == NULL) {
        s->multi = curl_multi_init();
        if (s->multi == NULL) return luaL_error(L, "curl_multi_init failed");
    }
    batch_free(s->multi, b); /* what a batch that raised left behind */
    {
        /* keep every connection of this batch for the next one: libcurl's default cache
         * follows the number of handles added, which is zero between batches */
        CURLMcode mc = curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)(conc > 64 ? conc : 64));
        if (mc != CURLM_OK) return luaL_error(L, "curl_multi_setopt: %s", curl_multi_strerror(mc));
    }
    b->t = (transfer_t *)calloc((size_t)conc, sizeof(transfer_t));
    b->slot_index = (int *)calloc((size_t)conc, sizeof(int));
    if (b->t == NULL || b->slot_index == NULL) return luaL_error(L, "out of memory");
    b->slots = conc;
    for (k = 0; k < conc; k++) {
        b->t[k].curl = curl_easy_init();
        if (b->t[k].curl == NULL) return luaL_error(L, "curl_easy_init failed");
    }

    for (;;) {
        CURLMsg *msg;
        CURLMcode mc;
        int still, left;
        /* fill idle slots */
        for (k = 0; k < conc && next <= n; k++) {
            if (b->slot_index[k] == 0) start_slot(L, s, k, 2, 4, next++);
        }
        running = 0;
        for (k = 0; k < conc; k++) running += b->slot_index[k] != 0;
        if (running == 0 && next > n) break;
        if (running == 0) continue;
        mc = curl_multi_perform(s->multi, &still);
        if (mc != CURLM_OK) return luaL_error(L, "curl_multi_perform: %s", curl_multi_strerror(mc));
        while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
            transfer_t *t = NULL;
            if (msg->msg != CURLMSG_DONE) continue;
            for (k = 0; k < conc; k++) {
                if (b->t[k].curl == msg->easy_handle) {
                    t = &b->t[k];
                    break;
                }
            }
            if (t == NULL) continue;
            {
                CURLcode rc = msg->data.result;
                int i = b->slot_index[k];
                curl_multi_remove_handle(s->multi, t->curl); /* msg is invalid after this */
                b->slot_index[k] = 0;
                if (rc == CURLE_OK) {
                    push_response(L, t, 0); /* batch results always carry the table */
                    lua_rawseti(L, 4, i);
                } else {
                    int nret = push_failure(L, t, rc); /* nil, message, kind */
                    (void)nret;
                    set_failure(L, 4, i, lua_tostring(L, -2), lua_tostring(L, -1));
                    lua_pop(L, 3);
                }
            }
        }
        if (still > 0) {
            mc = curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
            if (mc != CURLM_OK) return luaL_error(L, "curl_multi_poll: %s", curl_multi_strerror(mc));
        }
    }
    batch_free(s->multi, b);
    lua_settop(L, 4);
    return 1;
}

/* core.parse_headers(raw) -> {lower-case name = value}: the table of a raw header block
 * (the raw_headers of a response), as session:request builds it. */
int aliyun_l_parse_headers(lua_State *L) {
    size_t n;
    const char *raw = luaL_checklstring(L, 1, &n);
    membuf_t m;
    m.data = (char *)raw; /* push_headers only reads */
    m.len = m.cap = n;
    push_headers(L, &m);
    return 1;
}

void aliyun_http_register(lua_State *L) {
    static int curl_ready = 0;
    static const luaL_Reg methods[] = {
        {"request", l_session_request},
        {"batch", l_session_batch},
        {"v1_call", l_session_v1_call},
        {"close", l_session_close},
        {NULL, NULL}};
    if (!curl_ready) {
        CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK) luaL_error(L, "curl_global_init: %s", curl_easy_strerror(rc));
        curl_ready = 1;
    }
    if (luaL_newmetatable(L, SESSION_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_session_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, l_session_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
}
