/* curl.c: luaopen_aliyun_curl, the libcurl engine. A Lua C module of its own, so that
 * libcurl (and the thirty-odd libraries it pulls in) is loaded only when a session needs
 * it: a proxy, session:batch (curl multi), requests the direct path declines, or
 * curl_http = true. The core's session (http.c) loads it then and hands those over.
 *
 * A session owns one easy handle. libcurl keeps the handle's connections open, so
 * requests to the same host reuse them (keep-alive). Everything a request allocates
 * (header list, response buffers) hangs off the session and is freed at the next
 * request, at close() or by the GC, so a Lua error part-way never leaks. */
#define _GNU_SOURCE 1 /* dladdr, RTLD_NODELETE */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "compat.h"
#include "h1.h"
#include "httpcommon.h"
#include "interrupt.h"
#include "membuf.h"

#define SESSION_MT "aliyun.curl.session"

LUALIB_API int luaopen_aliyun_curl(lua_State *L);


struct batch;

/* One transfer: an easy handle and what it sends and receives. A session owns one for
 * session:request; session:batch makes one per concurrent request. */
typedef struct {
    CURL *curl;
    struct batch *batch; /* the batch this transfer is a slot of, or NULL */
    unsigned long seq;   /* order of starting within the batch */
    int paused;          /* its answer waits for the batch's memory to allow it */
    int ready;           /* the options that are the same for every request are set */
    struct curl_slist *req_headers;
    membuf_t body, headers;
    size_t max_body;
    int body_too_large;
    const char *why;   /* the answer broke a limit or rule of the core's parser (h1.h) */
    size_t head_total; /* header bytes of the answer, interim heads and trailers included */
    size_t fields;     /* header lines of the current head */
    char errbuf[CURL_ERROR_SIZE];
} transfer_t;

/* The core's Ctrl-C flag (interrupt.c), found through the registry once
 * core.catch_interrupts has run: this module cannot link to the core's symbols. */
static volatile sig_atomic_t *interrupt_flag = NULL;

/* The transfers of the batch in progress. They hang off the session, not the stack, so
 * a Lua error part-way (out of memory, a bad request table) leaves nothing unowned: the
 * next batch, close() or the GC frees them, always before the multi handle. */
typedef struct batch {
    transfer_t *t;   /* one per concurrent slot */
    int *slot_index; /* which request each slot carries (0 = idle) */
    int slots;
    /* answers being received are held here until they are complete: their bytes in all
     * stay within budget, except those of the oldest transfer, which always goes on (so
     * that the batch cannot stall); the others pause until there is room */
    size_t buffered, budget, peak;
    unsigned long seq;
} batch_t;

typedef struct {
    transfer_t t;
    CURLM *multi; /* for batches; created on first use, keeps its own connection pool */
    int epfd;     /* the multi handle's sockets, watched with epoll (-1 before the first batch) */
    long long timer_at; /* when libcurl wants curl_multi_socket_action(TIMEOUT), ms; -1: never */
    batch_t batch;
    int in_batch; /* a batch's on_done is running: no other batch, no close() */
    aliyun_http_opts_t o; /* applied to every request after curl_easy_reset */
} session_t;

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

/* Whether t is the oldest transfer of its batch still running. */
static int oldest_in_batch(const transfer_t *t) {
    const struct batch *b = t->batch;
    int k;
    for (k = 0; k < b->slots; k++)
        if (b->slot_index[k] && b->t[k].seq < t->seq) return 0;
    return 1;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud) {
    transfer_t *s = (transfer_t *)ud;
    size_t n = size * nmemb;
    if (s->body.len + n > s->max_body) {
        s->body_too_large = 1;
        return 0; /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    if (s->batch) {
        struct batch *b = s->batch;
        if (b->buffered + n > b->budget && !oldest_in_batch(s)) {
            s->paused = 1;
            return CURL_WRITEFUNC_PAUSE; /* libcurl keeps these bytes and stops reading */
        }
        if (!membuf_add(&s->body, p, n)) return 0;
        b->buffered += n;
        if (b->buffered > b->peak) b->peak = b->buffered;
        return n;
    }
    return membuf_add(&s->body, p, n) ? n : 0;
}

/* Each header line of the answer, as libcurl parsed it. The limits and the status-line
 * rules are the core parser's (h1.h), so both engines refuse the same answers. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud) {
    transfer_t *s = (transfer_t *)ud;
    size_t n = size * nmemb;
    s->head_total += n;
    if (n > H1_MAX_LINE + 2) {
        s->why = "response header line longer than 64 KiB";
        return 0;
    }
    if (s->head_total > H1_MAX_HEADERS) {
        s->why = "response headers larger than 300 KiB";
        return 0;
    }
    /* A new status line starts a new header block (after 100 Continue or a proxy
     * CONNECT): only the final response's headers are kept. */
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        int minor, status;
        const char *bad = h1_status_line(p, n, &minor, &status);
        if (bad) {
            s->why = bad;
            return 0;
        }
        s->headers.len = 0;
        s->fields = 0;
    } else if (++s->fields > H1_MAX_FIELDS + 1) { /* the fields and the empty line */
        s->why = "more than 500 header lines in the response";
        return 0;
    }
    return membuf_add(&s->headers, p, n) ? n : 0;
}

/* CURLOPT_XFERINFOFUNCTION: libcurl calls it about once a second, and more often while
 * data moves; a non-zero return stops the transfer (CURLE_ABORTED_BY_CALLBACK). */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)ud;
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return interrupt_flag != NULL && *interrupt_flag != 0;
}

/* ------------------------------------------------------------ session */

static session_t *check_session(lua_State *L) {
    session_t *s = (session_t *)aliyun_check_self(L, SESSION_MT);
    if (s->t.curl == NULL) luaL_error(L, "session is closed");
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
    if (s->epfd >= 0) close(s->epfd);
    s->epfd = -1;
    aliyun_http_opts_free(&s->o);
}

static int l_session_gc(lua_State *L) {
    session_free((session_t *)aliyun_check_self(L, SESSION_MT));
    return 0;
}

static int l_session_close(lua_State *L) {
    session_t *s = (session_t *)aliyun_check_self(L, SESSION_MT);
    if (s->in_batch) return luaL_error(L, "session is busy (closed from a batch's on_done)");
    session_free(s);
    return 0;
}

static int l_session_tostring(lua_State *L) {
    session_t *s = (session_t *)aliyun_check_self(L, SESSION_MT);
    lua_pushfstring(L, "aliyun.curl.session (%s)", s->t.curl ? "open" : "closed");
    return 1;
}

/* curl.session(opts): the options of core.session (curl_http is implied). */
static int l_session(lua_State *L) {
    session_t *s;
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    s = (session_t *)lua_newuserdata(L, sizeof(session_t));
    memset(s, 0, sizeof *s);
    s->epfd = -1;
    luaL_setmetatable(L, SESSION_MT); /* from here on the GC frees whatever is set */
    aliyun_http_opts_read(L, 1, &s->o);
    s->t.max_body = s->o.max_body;
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

/* The CA settings mean what they mean on the direct path (conn.c): ca_file alone when
 * given; else OpenSSL's default store, which honours SSL_CERT_FILE and SSL_CERT_DIR, where
 * libcurl would use the bundle it was built with and ignore both. */
static void set_ca(lua_State *L, CURL *c, const char *ca_file) {
    const char *file = getenv("SSL_CERT_FILE"), *dir = getenv("SSL_CERT_DIR");
    if (ca_file) {
        SETOPT(L, c, CURLOPT_CAINFO, ca_file);
        SETOPT(L, c, CURLOPT_CAPATH, (char *)NULL);
        return;
    }
    if (file && file[0]) SETOPT(L, c, CURLOPT_CAINFO, file);
    if (dir && dir[0]) SETOPT(L, c, CURLOPT_CAPATH, dir);
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
        line = aliyun_bad_header(k, kl, v, vl);
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


/* Whether any byte of the transfer's request was written (libcurl counts them); when it
 * cannot say, the request may have been. */
static int request_sent(transfer_t *s) {
    long size = 0;
    if (curl_easy_getinfo(s->curl, CURLINFO_REQUEST_SIZE, &size) != CURLE_OK) return 1;
    return size > 0;
}

/* Maps a failed transfer to (nil, message, kind, sent); kind is "timeout" or "network",
 * sent is false when no byte of the request was written. */
static int push_failure(lua_State *L, transfer_t *s, CURLcode rc) {
    const char *kind = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "network";
    if (s->body_too_large) {
        aliyun_push_too_large(L, s->max_body);
        lua_pushboolean(L, 1);
        return 4;
    }
    lua_pushnil(L);
    if (s->why)
        lua_pushfstring(L, "invalid HTTP response: %s", s->why);
    else if (rc == CURLE_ABORTED_BY_CALLBACK)
        lua_pushliteral(L, "interrupted (Ctrl-C)");
    else if (s->errbuf[0])
        lua_pushfstring(L, "%s (%s)", s->errbuf, curl_easy_strerror(rc));
    else
        lua_pushstring(L, curl_easy_strerror(rc));
    lua_pushstring(L, kind);
    lua_pushboolean(L, request_sent(s));
    return 4;
}

/* Resets transfer t and sets it up for the request table at stack index req, with the
 * session's options. Returns NULL, or a message for a request that must not be sent
 * (a header value that would inject another header). Raises for wrong argument types. */
/* Sets the options that are the same for every request of the session, once per handle:
 * libcurl copies (and for some, parses) each string it is given, which was a good part of
 * a batch's cost when done for every request after a curl_easy_reset. */
static void set_fixed_options(lua_State *L, session_t *s, transfer_t *t) {
    CURL *c = t->curl;
    SETOPT(L, c, CURLOPT_NOSIGNAL, 1L);
    SETOPT(L, c, CURLOPT_ERRORBUFFER, t->errbuf);
    SETOPT(L, c, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(L, c, CURLOPT_WRITEDATA, (void *)t);
    SETOPT(L, c, CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(L, c, CURLOPT_HEADERDATA, (void *)t);
    SETOPT(L, c, CURLOPT_PRIVATE, (void *)t);
    SETOPT(L, c, CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075700
    /* a name lookup given up at the connect timeout is left to finish in its thread:
     * without this libcurl joins the thread, and the call waits for the resolver's own
     * timeout (10 s and more) whatever the connect timeout said */
    SETOPT(L, c, CURLOPT_QUICK_EXIT, 1L);
#endif
    SETOPT(L, c, CURLOPT_SOCKOPTFUNCTION, socket_cloexec);
    SETOPT(L, c, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(L, c, CURLOPT_SSL_VERIFYPEER, s->o.verify_tls ? 1L : 0L);
    SETOPT(L, c, CURLOPT_SSL_VERIFYHOST, s->o.verify_tls ? 2L : 0L);
    /* HTTP/1.1 as on the direct path: the same framing, limits and connection reuse */
    SETOPT(L, c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    set_ca(L, c, s->o.ca_file);
    /* Without an explicit proxy libcurl reads http_proxy, https_proxy, ALL_PROXY and
     * NO_PROXY from the environment itself. */
    if (s->o.proxy) SETOPT(L, c, CURLOPT_PROXY, s->o.proxy);
    if (s->o.no_proxy) SETOPT(L, c, CURLOPT_NOPROXY, s->o.no_proxy);
    if (s->o.user_agent) SETOPT(L, c, CURLOPT_USERAGENT, s->o.user_agent);
    t->ready = 1;
}

/* Sets transfer t up for the request table at stack index req. Returns NULL, or a
 * message for a request that must not be sent (a header value that would inject another
 * header). Raises for wrong argument types. Every option a request may set is set for
 * each request (to its default when the request does not want it), so nothing carries
 * over from the request before. */
static const char *prepare_transfer(lua_State *L, session_t *s, transfer_t *t, int req) {
    CURL *c = t->curl;
    const char *method, *url, *body = NULL, *bad;
    size_t body_len = 0;
    int top = lua_gettop(L), get, head;

    curl_slist_free_all(t->req_headers);
    t->req_headers = NULL;
    t->body.len = t->headers.len = 0;
    t->body_too_large = 0;
    t->why = NULL;
    t->head_total = t->fields = 0;
    t->errbuf[0] = '\0';
    t->max_body = s->o.max_body;
    if (!t->ready) set_fixed_options(L, s, t);

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
    get = strcmp(method, "GET") == 0;
    head = strcmp(method, "HEAD") == 0;

    SETOPT(L, c, CURLOPT_URL, url); /* libcurl copies strings it is given */
    SETOPT(L, c, CURLOPT_HTTPHEADER, t->req_headers);
    SETOPT(L, c, CURLOPT_CONNECTTIMEOUT_MS, aliyun_opt_ms(L, req, "connect_timeout", s->o.connect_timeout_ms));
    SETOPT(L, c, CURLOPT_TIMEOUT_MS, aliyun_opt_ms(L, req, "timeout", s->o.timeout_ms));
    if (interrupt_flag == NULL) {
        lua_getfield(L, LUA_REGISTRYINDEX, ALIYUN_INTERRUPT_KEY);
        interrupt_flag = (volatile sig_atomic_t *)lua_touserdata(L, -1);
        lua_pop(L, 1);
    }
    if (interrupt_flag != NULL) {
        SETOPT(L, c, CURLOPT_XFERINFOFUNCTION, on_progress);
        SETOPT(L, c, CURLOPT_NOPROGRESS, 0L);
    }

    /* libcurl sends a request again, unasked, when a reused connection dies before any
     * answer: for a request that must not be repeated (a create), a fresh connection
     * leaves it nothing to retry on. request.idempotent says; GET and HEAD are by default. */
    lua_getfield(L, req, "idempotent");
    SETOPT(L, c, CURLOPT_FRESH_CONNECT, (lua_isnil(L, -1) ? !(get || head) : !lua_toboolean(L, -1)) ? 1L : 0L);
    lua_pop(L, 1);

    SETOPT(L, c, CURLOPT_CUSTOMREQUEST, (char *)NULL);
    SETOPT(L, c, CURLOPT_NOBODY, head ? 1L : 0L);
    if (get) {
        SETOPT(L, c, CURLOPT_HTTPGET, 1L);
    } else if (!head) {
        if (strcmp(method, "POST") != 0) SETOPT(L, c, CURLOPT_CUSTOMREQUEST, method);
        SETOPT(L, c, CURLOPT_POST, 1L);
        SETOPT(L, c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        /* copied: in a batch the request table may be gone before the body is sent */
        SETOPT(L, c, CURLOPT_COPYPOSTFIELDS, body ? body : "");
    }
    lua_settop(L, top);
    return NULL;
}


/* Pushes the response of a finished libcurl transfer. */
static void push_response(lua_State *L, transfer_t *t, int raw_headers) {
    long status = 0;
    double elapsed = 0;
    if (curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) status = 0;
    if (curl_easy_getinfo(t->curl, CURLINFO_TOTAL_TIME, &elapsed) != CURLE_OK) elapsed = 0;
    aliyun_push_result(L, status, &t->headers, &t->body, elapsed, raw_headers);
    /* big buffers are not kept between requests: a 60 MB answer once must not pin 60 MB */
    if (t->body.cap > 1024 * 1024) membuf_free(&t->body);
}

/* session:request{method=, url=, headers=, body=, timeout=, connect_timeout=}
 *   -> {status=, headers=, body=, elapsed=} | nil, message, kind */
static int l_session_request(lua_State *L) {
    session_t *s = check_session(L);
    const char *bad;
    CURLcode rc;
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    bad = prepare_transfer(L, s, &s->t, 2);
    if (bad) {
        lua_pushnil(L);
        lua_pushstring(L, bad);
        lua_pushliteral(L, "validation");
        return 3;
    }
    rc = curl_easy_perform(s->t.curl);
    if (rc != CURLE_OK) return push_failure(L, &s->t, rc);
    push_response(L, &s->t, s->o.raw_headers);
    return 1;
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

/* Starts request i (1-based) of the list at index reqs on slot k; a request that must not
 * be sent gets its failure delivered at once and the slot stays idle. */
static void start_slot(lua_State *L, session_t *s, int k, int reqs, int done, int results, int i) {
    batch_t *b = &s->batch;
    const char *bad;
    CURLMcode mc;
    if (!aliyun_batch_request(L, reqs, i)) return; /* nothing to send for i */
    bad = prepare_transfer(L, s, &b->t[k], lua_gettop(L));
    lua_pop(L, 1);
    if (bad || (interrupt_flag != NULL && *interrupt_flag != 0)) {
        aliyun_batch_failure(L, bad ? bad : "interrupted (Ctrl-C) before it was sent", bad ? "validation" : "network", 0);
        aliyun_batch_deliver(L, done, results, i, &s->in_batch);
        return;
    }
    b->t[k].batch = b;
    b->t[k].seq = ++b->seq;
    b->t[k].paused = 0;
    mc = curl_multi_add_handle(s->multi, b->t[k].curl);
    if (mc != CURLM_OK) luaL_error(L, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
    b->slot_index[k] = i;
}

/* Slot k's transfer is done (rc): its outcome goes to the caller, its bytes leave the
 * batch's budget, and transfers paused for room go on. */
static void finish_slot(lua_State *L, session_t *s, int k, CURLcode rc, int done, int results) {
    batch_t *b = &s->batch;
    transfer_t *t = &b->t[k];
    int i = b->slot_index[k], j;
    curl_multi_remove_handle(s->multi, t->curl);
    b->slot_index[k] = 0;
    b->buffered -= t->body.len;
    if (rc == CURLE_OK) {
        push_response(L, t, s->o.raw_headers); /* as request()'s, and as the direct path's batch */
    } else {
        push_failure(L, t, rc); /* nil, message, kind, sent */
        aliyun_batch_failure(L, lua_tostring(L, -3), lua_tostring(L, -2), lua_toboolean(L, -1));
        lua_replace(L, -5);
        lua_pop(L, 3);
    }
    t->body.len = 0;
    for (j = 0; j < b->slots; j++) {
        if (b->slot_index[j] && b->t[j].paused) {
            b->t[j].paused = 0;
            (void)curl_easy_pause(b->t[j].curl, CURLPAUSE_CONT); /* may pause it again at once */
        }
    }
    aliyun_batch_deliver(L, done, results, i, &s->in_batch);
}

/* ------------------------------------------------ the batch's event loop */

/* Batches run on libcurl's socket interface: libcurl says which sockets to watch
 * (on_socket) and when it wants time (on_timer); epoll says which are ready, and only
 * those transfers are driven. Polling every socket of a large batch at each wake-up, as
 * curl_multi_poll does, cost more than the transfers at concurrency 256. */

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp) {
    session_t *s = (session_t *)userp;
    struct epoll_event ev;
    (void)e;
    if (what == CURL_POLL_REMOVE) {
        (void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, fd, NULL); /* it may be closed already */
        return 0;
    }
    memset(&ev, 0, sizeof ev);
    ev.data.fd = fd;
    if (what & CURL_POLL_IN) ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT) ev.events |= EPOLLOUT;
    /* libcurl keeps socketp for a socket it watches until it removes it: set, the socket
     * is in the epoll set, so one call does */
    if (socketp != NULL) return epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : -1;
    if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0 &&
        (errno != EEXIST || epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) != 0))
        return -1;
    (void)curl_multi_assign(s->multi, fd, (void *)s);
    return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp) {
    session_t *s = (session_t *)userp;
    (void)m;
    s->timer_at = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
}

/* Makes the epoll set and hands libcurl the callbacks, once per session. */
static void event_setup(lua_State *L, session_t *s) {
    CURLMcode mc;
    if (s->epfd >= 0) return;
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) luaL_error(L, "epoll_create1: %s", strerror(errno));
    s->timer_at = -1;
    if ((mc = curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket)) != CURLM_OK ||
        (mc = curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, (void *)s)) != CURLM_OK ||
        (mc = curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_timer)) != CURLM_OK ||
        (mc = curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, (void *)s)) != CURLM_OK)
        luaL_error(L, "curl_multi_setopt: %s", curl_multi_strerror(mc));
}

/* Waits (at most a second) for a socket to be ready or libcurl's timer, and drives the
 * transfers concerned. */
static void event_step(lua_State *L, session_t *s) {
    struct epoll_event evs[64];
    int n, i, running;
    long long wait = 1000;
    CURLMcode mc = CURLM_OK;
    if (s->timer_at >= 0) {
        wait = s->timer_at - now_ms();
        if (wait < 0) wait = 0;
        if (wait > 1000) wait = 1000;
    }
    n = epoll_wait(s->epfd, evs, 64, (int)wait);
    if (n < 0 && errno != EINTR) luaL_error(L, "epoll_wait: %s", strerror(errno));
    for (i = 0; i < n && mc == CURLM_OK; i++) {
        int flags = 0;
        if (evs[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
        if (evs[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
        if (evs[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
        mc = curl_multi_socket_action(s->multi, evs[i].data.fd, flags, &running);
    }
    if (mc == CURLM_OK && s->timer_at >= 0 && now_ms() >= s->timer_at) {
        s->timer_at = -1;
        mc = curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    if (mc != CURLM_OK) luaL_error(L, "curl_multi_socket_action: %s", curl_multi_strerror(mc));
}

/* session:batch(requests, concurrency[, on_done]) -> results, peak
 * Sends every request, at most `concurrency` at a time, over the session's multi handle
 * (its connections are reused across batches); a finished transfer's slot takes the next
 * request at once. The outcome of requests[i] is its response or {error = message, kind =
 * "network"|"timeout"|"validation", sent = boolean}: given to on_done(i, outcome) as soon
 * as it is known when on_done is given (results is then empty), else results[i]. Answers
 * being received are held within the session's batch_memory (the oldest transfer always
 * goes on); peak is the most they held at once, in bytes. */
static int l_session_batch(lua_State *L) {
    session_t *s = check_session(L);
    int n, conc, next = 1, k;
    batch_t *b = &s->batch;
    conc = (int)luaL_optinteger(L, 3, 16);
    if (conc < 1 || conc > 1024) return luaL_argerror(L, 3, "concurrency between 1 and 1024 expected");
    if (!lua_isnoneornil(L, 4)) luaL_checktype(L, 4, LUA_TFUNCTION);
    if (s->in_batch) return luaL_error(L, "session is busy (batch called from a batch's on_done)");
    n = aliyun_batch_count(L, 2, 5);
    lua_settop(L, 4);
    lua_createtable(L, lua_isnil(L, 4) ? n : 0, 0); /* 5: results */
    if (n == 0) {
        lua_pushinteger(L, 0);
        return 2;
    }
    if (conc > n) conc = n;
    if (s->multi == NULL) {
        s->multi = curl_multi_init();
        if (s->multi == NULL) return luaL_error(L, "curl_multi_init failed");
    }
    event_setup(L, s);
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
    b->buffered = b->peak = 0;
    b->seq = 0;
    b->budget = s->o.batch_memory;
    for (k = 0; k < conc; k++) {
        b->t[k].curl = curl_easy_init();
        if (b->t[k].curl == NULL) return luaL_error(L, "curl_easy_init failed");
    }

    for (;;) {
        CURLMsg *msg;
        int left, running = 0;
        /* fill idle slots: adding a handle sets libcurl's timer to start it */
        for (k = 0; k < conc && next <= n; k++) {
            if (b->slot_index[k] == 0) start_slot(L, s, k, 2, 4, 5, next++);
        }
        for (k = 0; k < conc; k++) running += b->slot_index[k] != 0;
        if (running == 0 && next > n) break;
        if (running == 0) continue;
        event_step(L, s);
        /* after a Ctrl-C every transfer in flight ends as interrupted (libcurl calls the
         * progress callback only for the transfers it drives); the hook raises in the Lua
         * code that runs next */
        if (interrupt_flag != NULL && *interrupt_flag != 0) {
            for (k = 0; k < conc; k++)
                if (b->slot_index[k]) finish_slot(L, s, k, CURLE_ABORTED_BY_CALLBACK, 4, 5);
        }
        /* a slot that came free is refilled before waiting for the network again */
        while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE) continue;
            for (k = 0; k < conc; k++) {
                if (b->slot_index[k] && b->t[k].curl == msg->easy_handle) {
                    finish_slot(L, s, k, msg->data.result, 4, 5); /* msg is invalid after this */
                    break;
                }
            }
        }
    }
    lua_pushinteger(L, (lua_Integer)b->peak);
    batch_free(s->multi, b);
    return 2;
}

LUALIB_API int luaopen_aliyun_curl(lua_State *L) {
    static int curl_ready = 0;
    static const luaL_Reg methods[] = {
        {"request", l_session_request},
        {"batch", l_session_batch},
        {"close", l_session_close},
        {NULL, NULL}};
    static const luaL_Reg funcs[] = {{"session", l_session}, {NULL, NULL}};
    if (!curl_ready) {
        CURLcode rc;
        Dl_info info;
        /* resolver threads left to finish (CURLOPT_QUICK_EXIT) run libcurl's code: it must
         * stay mapped even when the Lua state that loaded this module is closed */
        if (dladdr((void *)curl_easy_init, &info) && info.dli_fname)
            (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        rc = curl_global_init(CURL_GLOBAL_DEFAULT);
        if (rc != CURLE_OK) luaL_error(L, "curl_global_init: %s", curl_easy_strerror(rc));
        curl_ready = 1;
    }
    aliyun_session_metatable(L, SESSION_MT, methods, l_session_gc, l_session_tostring);
    /* no curl_version() here: it initialises libldap and libsasl2, which leak */
    luaL_newlib(L, funcs);
    return 1;
}
