/* h1batch.c: session:batch on the core's own connections (see h1batch.h). */
#define _GNU_SOURCE 1 /* EPOLL_CLOEXEC */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "h1batch.h"
#include "interrupt.h"
#include "wire.h"

#define KEY_MAX 1100
#define RECV_CHUNK 16384
#define IDLE_CHECK_MS 200 /* as h1conn.c: a kept connection idle this long is checked first */
#define READY_MAX 64          /* requests signed ahead, as many as one wake-up's events */
#define HOLD_MAX (256 * 1024) /* answers' bytes held for on_done until the slots are refilled */

enum { B_IDLE = 0, B_CONNECT, B_TLS, B_SEND, B_RECV };

/* A connection stays in the epoll set while it is open, in use or kept: a kept one that
 * turns readable was closed by the server (or sent what nobody asked for) and is closed;
 * registering and removing it around every request cost two system calls a request. */
struct bconn {
    conn_t conn; /* its address must not change while open (the TLS BIO points at it) */
    char key[KEY_MAX];
    int in_use;
    long long last_ms;
    bslot_t *slot; /* the request it carries, or NULL */
    int registered, interest;
};

struct borigin {
    char key[KEY_MAX];
    char host[1040], port[8], where[1060];
    int tls, numeric;
    struct addrinfo *res;
    int rc;        /* CONN_OK, or why resolving failed */
    char why[512];
};

/* A request signed and written before a slot is free for it: while the loop waits for
 * answers, the next requests are built, so that a finished slot is refilled with a send. */
struct bready {
    int index;
    membuf_t out, key, extra;
    int head, idempotent;
    long connect_ms, timeout_ms;
};

/* What every step needs: the engine, the session's TLS context and options, where
 * outcomes go (on_done at stack index done, else the table at results), and the outcomes
 * held until the slots that finished are refilled (pairs index, outcome in the table at
 * stack index held; held_bytes of answers in them, still counted in b->buffered). */
typedef struct {
    lua_State *L;
    h1batch_t *b;
    conn_tls_t *tls;
    const aliyun_http_opts_t *o;
    int done, results, held, nheld;
    size_t held_bytes;
} bctx_t;

struct bslot {
    int index; /* the request (1-based) */
    int state;
    bconn_t *c;
    int origin;
    const struct addrinfo *ai; /* the address being connected to */
    membuf_t out, key, extra;
    size_t off;
    h1_response_t resp;
    membuf_t in;
    size_t got, counted;
    long long started, deadline, connect_deadline;
    long timeout_ms;
    int head, idempotent, sent, reused, retried, paused, kick;
    unsigned long seq;
};

/* ----------------------------------------------------------- outcomes */

static void watch_conn(h1batch_t *b, bconn_t *c, unsigned events) {
    struct epoll_event ev;
    if (c->registered && c->interest == (int)events) return;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.ptr = c;
    if (!c->registered) {
        if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, c->conn.fd, &ev) == 0) c->registered = 1;
    } else {
        (void)epoll_ctl(b->epfd, EPOLL_CTL_MOD, c->conn.fd, &ev);
    }
    c->interest = (int)events;
}

/* Out of the epoll set, and closed. */
static void close_conn(h1batch_t *b, bconn_t *c) {
    if (c->registered && c->conn.open) (void)epoll_ctl(b->epfd, EPOLL_CTL_DEL, c->conn.fd, NULL);
    c->registered = 0;
    c->interest = 0;
    conn_close(&c->conn);
}

static void watch(h1batch_t *b, bslot_t *s, unsigned events) {
    watch_conn(b, s->c, events);
}

/* While paused, a connection is out of the epoll set. */
static void unwatch(h1batch_t *b, bslot_t *s) {
    bconn_t *c = s->c;
    if (c->registered && c->conn.open) (void)epoll_ctl(b->epfd, EPOLL_CTL_DEL, c->conn.fd, NULL);
    c->registered = 0;
    c->interest = 0;
}

static unsigned events_of(int want) {
    return want == CONN_WANT_WRITE ? EPOLLOUT : EPOLLIN;
}

static void kick_paused(h1batch_t *b) {
    int k;
    if (!b->any_paused) return;
    b->any_paused = 0;
    for (k = 0; k < b->nslots; k++) {
        if (b->slots[k].paused) {
            b->slots[k].paused = 0;
            b->slots[k].kick = 1;
        }
    }
}

/* The slot is done with its request: its bytes leave the batch's budget, its connection
 * is free (closed unless keep), and slots paused for room go on. */
static void release(h1batch_t *b, bslot_t *s, int keep) {
    if (s->c) {
        if (!keep) close_conn(b, s->c);
        else watch_conn(b, s->c, EPOLLIN); /* kept: watched for the server closing it */
        s->c->in_use = 0;
        s->c->slot = NULL;
        s->c = NULL;
    }
    b->buffered -= s->counted;
    s->counted = 0;
    s->state = B_IDLE;
    s->index = 0;
    if (s->resp.body.cap > 1024 * 1024) membuf_free(&s->resp.body);
    if (s->in.cap > 1024 * 1024) membuf_free(&s->in);
    if (s->out.cap > 1024 * 1024) membuf_free(&s->out);
    kick_paused(b);
}

/* The outcome on top of the stack, of request i, goes to on_done after the refills. */
static void hold(bctx_t *x, int i) {
    lua_State *L = x->L;
    lua_rawseti(L, x->held, 2 * x->nheld + 2);
    lua_pushinteger(L, i);
    lua_rawseti(L, x->held, 2 * x->nheld + 1);
    x->nheld++;
}

/* Hands the held outcomes over (on_done may raise: what is in flight stays for batch_end). */
static void deliver_held(bctx_t *x) {
    lua_State *L = x->L;
    int j, m = x->nheld;
    if (x->held_bytes) { /* their bytes leave the budget: slots paused for room go on */
        x->b->buffered -= x->held_bytes;
        x->held_bytes = 0;
        kick_paused(x->b);
    }
    x->nheld = 0;
    for (j = 0; j < m; j++) {
        int i;
        lua_rawgeti(L, x->held, 2 * j + 1);
        i = (int)lua_tointeger(L, -1);
        lua_pop(L, 1);
        lua_rawgeti(L, x->held, 2 * j + 2);
        lua_pushnil(L);
        lua_rawseti(L, x->held, 2 * j + 2);
        aliyun_batch_deliver(L, x->done, x->results, i, &x->b->in_callback);
    }
}

/* Request i failed before a slot took it (nothing was sent). */
static void fail_unsent(bctx_t *x, int i, const char *kind, const char *msg) {
    aliyun_batch_failure(x->L, msg, kind, 0);
    hold(x, i);
}

static void fail(bctx_t *x, bslot_t *s, const char *kind, const char *msg, int sent) {
    int i = s->index;
    aliyun_batch_failure(x->L, msg, kind, sent);
    release(x->b, s, 0);
    hold(x, i);
}

/* A small answer is held (its bytes still counted) until the refills are sent; a large one
 * goes to on_done at once, so that held answers never add more than HOLD_MAX to the budget. */
static void complete(bctx_t *x, bslot_t *s) {
    int i = s->index, keep = s->resp.keep_alive && s->in.len == 0;
    long long now = conn_now_ms();
    s->c->last_ms = now;
    aliyun_push_result(x->L, s->resp.status, &s->resp.headers, &s->resp.body, (double)(now - s->started) / 1000.0,
                       x->o->raw_headers);
    if (x->held_bytes + s->counted <= HOLD_MAX) {
        x->held_bytes += s->counted;
        s->counted = 0; /* stays in b->buffered until delivered */
        release(x->b, s, keep);
        hold(x, i);
        return;
    }
    release(x->b, s, keep);
    aliyun_batch_deliver(x->L, x->done, x->results, i, &x->b->in_callback);
}

/* ------------------------------------------------------------ opening */

/* The origin of key, resolved once per batch (the lookup bounded by until). */
static borigin_t *origin_for(lua_State *L, h1batch_t *b, const char *key, long long until, int *idx) {
    borigin_t *o;
    int i;
    long long t0 = conn_now_ms();
    for (i = 0; i < b->norigins; i++) {
        if (strcmp(b->origins[i].key, key) == 0) {
            *idx = i;
            return &b->origins[i];
        }
    }
    o = (borigin_t *)realloc(b->origins, (size_t)(b->norigins + 1) * sizeof *o);
    if (o == NULL) luaL_error(L, "out of memory");
    b->origins = o;
    o = &b->origins[b->norigins];
    memset(o, 0, sizeof *o);
    *idx = b->norigins++;
    snprintf(o->key, sizeof o->key, "%s", key);
    if (!conn_parse_origin(key, o->host, sizeof o->host, o->port, sizeof o->port, &o->tls)) {
        o->rc = CONN_FAIL;
        snprintf(o->why, sizeof o->why, "URL using bad/illegal format: %s", key);
        return o;
    }
    snprintf(o->where, sizeof o->where, strchr(o->host, ':') ? "[%s]:%s" : "%s:%s", o->host, o->port);
    o->numeric = conn_is_ip_literal(o->host);
    o->rc = conn_resolve(o->host, o->port, o->numeric, until, t0, &o->res, o->why, sizeof o->why);
    return o;
}

/* A connection for key: a kept one (checked when it was idle a while), else a closed one,
 * else one kept for another origin, closed. */
static bconn_t *take_conn(h1batch_t *b, const char *key, int *reused) {
    int i;
    long long now = conn_now_ms();
    bconn_t *c;
    *reused = 0;
    for (i = 0; i < b->nconns; i++) {
        c = b->conns[i];
        if (!c->in_use && c->conn.open && strcmp(c->key, key) == 0) {
            if (now - c->last_ms >= IDLE_CHECK_MS && !conn_idle_ok(&c->conn)) {
                close_conn(b, c); /* the server closed it while idle: never written to */
            } else {
                *reused = 1;
            }
            return c;
        }
    }
    for (i = 0; i < b->nconns; i++) {
        c = b->conns[i];
        if (!c->in_use && !c->conn.open) return c;
    }
    for (i = 0; i < b->nconns; i++) {
        c = b->conns[i];
        if (!c->in_use) {
            close_conn(b, c);
            return c;
        }
    }
    return NULL; /* cannot happen: there are as many connections as slots */
}

/* Starts connecting to the slot's next address; 0 when none is left (*err: the last
 * errno). The outcome comes as the socket turning writable. */
static int start_connect(h1batch_t *b, bslot_t *s, int *err) {
    while (s->ai) {
        int r = conn_tcp_start(&s->c->conn, s->ai, err);
        if (r == CONN_OK || r == CONN_WANT_WRITE) {
            s->state = B_CONNECT;
            watch(b, s, EPOLLOUT); /* a socket connected at once is writable at once */
            return 1;
        }
        s->ai = s->ai->ai_next;
    }
    return 0;
}

static void connect_failed(bctx_t *x, bslot_t *s, int err) {
    borigin_t *o = &x->b->origins[s->origin];
    char msg[1300];
    snprintf(msg, sizeof msg, "Failed to connect to %s port %s: %s", o->host, o->port, err ? strerror(err) : "no address");
    /* after a resend's connect, the first sending may have reached the server */
    fail(x, s, "network", msg, s->retried);
}

/* A kept connection that died after the request was written, before any answer: the
 * request may have reached the server. Sent again on a new connection only when it is
 * idempotent (safe, and repeats allowed), and only once. */
static void stale(bctx_t *x, bslot_t *s, const char *why) {
    h1batch_t *b = x->b;
    int err = 0;
    char msg[800];
    if (s->idempotent && !s->retried) {
        close_conn(b, s->c);
        s->retried = 1;
        s->reused = 0;
        s->off = 0;
        s->got = 0;
        s->in.len = 0;
        b->buffered -= s->counted;
        s->counted = 0;
        h1_reset(&s->resp, s->head, s->resp.max_body);
        s->ai = b->origins[s->origin].res;
        if (!start_connect(b, s, &err)) connect_failed(x, s, err);
        return;
    }
    snprintf(msg, sizeof msg, "the server closed the kept connection without answering (the request may have "
                              "reached it)%s%s", why ? ": " : "", why ? why : "");
    fail(x, s, "network", msg, s->sent);
}

/* --------------------------------------------------------- the machine */

static int oldest(const h1batch_t *b, const bslot_t *s) {
    int k;
    for (k = 0; k < b->nslots; k++)
        if (b->slots[k].state != B_IDLE && b->slots[k].seq < s->seq) return 0;
    return 1;
}

/* Drives slot s as far as it goes without waiting. */
static void drive(bctx_t *x, bslot_t *s) {
    h1batch_t *b = x->b;
    char msg[1300];
    for (;;) {
        bconn_t *c = s->c;
        borigin_t *o = &b->origins[s->origin];
        int r, err = 0;
        switch (s->state) {
        case B_CONNECT:
            r = conn_tcp_finish(&c->conn, &err); /* closes the socket when it failed */
            if (r == CONN_WANT_WRITE) {
                watch(b, s, EPOLLOUT);
                return;
            }
            if (r != CONN_OK) {
                c->registered = 0; /* a closed descriptor leaves the epoll set by itself */
                c->interest = 0;
                s->ai = s->ai ? s->ai->ai_next : NULL;
                if (!start_connect(b, s, &err)) connect_failed(x, s, err);
                return;
            }
            snprintf(c->key, sizeof c->key, "%s", o->key);
            if (o->tls) {
                if (conn_tls_begin(&c->conn, x->tls, o->host, o->numeric, x->o->verify_tls, x->o->ca_file, o->where,
                                   msg, sizeof msg) != CONN_OK) {
                    fail(x, s, "network", msg, 0);
                    return;
                }
                s->state = B_TLS;
            } else {
                s->state = B_SEND;
            }
            break;
        case B_TLS:
            r = conn_tls_step(&c->conn, x->o->verify_tls, o->where, msg, sizeof msg);
            if (r == CONN_WANT_READ || r == CONN_WANT_WRITE) {
                watch(b, s, events_of(r));
                return;
            }
            if (r != CONN_OK) {
                fail(x, s, "network", msg, 0);
                return;
            }
            s->state = B_SEND;
            break;
        case B_SEND:
            while (s->off < s->out.len) {
                size_t n = 0;
                r = conn_send(&c->conn, s->out.data + s->off, s->out.len - s->off, &n, msg, sizeof msg);
                if (r == CONN_OK) {
                    s->off += n;
                    if (n) s->sent = 1;
                } else if (r == CONN_WANT_READ || r == CONN_WANT_WRITE) {
                    watch(b, s, events_of(r));
                    return;
                } else {
                    if (s->reused) stale(x, s, msg);
                    else fail(x, s, "network", msg, s->sent);
                    return;
                }
            }
            s->state = B_RECV;
            if (c->conn.ssl == NULL) { /* plain TCP: the answer cannot be there yet */
                watch(b, s, EPOLLIN);
                return;
            }
            break;
        case B_RECV: {
            size_t n = 0, used = 0, before;
            int st;
            if (b->buffered >= b->budget && !oldest(b, s)) {
                s->paused = 1; /* goes on when a request finishes and frees room */
                b->any_paused = 1;
                unwatch(b, s);
                return;
            }
            if (!membuf_reserve(&s->in, RECV_CHUNK)) {
                fail(x, s, "network", "out of memory", s->sent);
                return;
            }
            r = conn_recv(&c->conn, s->in.data + s->in.len, s->in.cap - s->in.len - 1, &n, msg, sizeof msg);
            if (r == CONN_WANT_READ || r == CONN_WANT_WRITE) {
                watch(b, s, events_of(r));
                return;
            }
            if (r != CONN_OK) {
                if (s->reused && s->got == 0) stale(x, s, msg);
                else fail(x, s, "network", msg, 1);
                return;
            }
            if (n == 0) { /* the server closed the connection */
                if (s->reused && s->got == 0) stale(x, s, NULL);
                else if (h1_eof(&s->resp) == H1_DONE) complete(x, s);
                else fail(x, s, "network", s->resp.error, 1);
                return;
            }
            s->got += n;
            s->in.len += n;
            before = s->resp.body.len;
            st = h1_parse(&s->resp, s->in.data, s->in.len, &used);
            membuf_consume(&s->in, used);
            if (s->resp.body.len > before) {
                s->counted += s->resp.body.len - before;
                b->buffered += s->resp.body.len - before;
                if (b->buffered > b->peak) b->peak = b->buffered;
            }
            if (st == H1_DONE) {
                complete(x, s);
                return;
            }
            if (st == H1_TOO_LARGE) {
                size_t m = s->resp.max_body;
                snprintf(msg, sizeof msg, "response body larger than the limit of %d bytes",
                         (int)(m > 0x7fffffff ? 0x7fffffff : m));
                fail(x, s, "network", msg, 1);
                return;
            }
            if (st == H1_ERROR) {
                snprintf(msg, sizeof msg, "invalid HTTP response: %s", s->resp.error);
                fail(x, s, "network", msg, 1);
                return;
            }
            break;
        }
        default:
            return;
        }
    }
}

/* Builds request i (of the list at stack index reqs) into r: 1 when it is ready to start,
 * 0 when there is nothing to send for i or it failed (its outcome held). */
static int build(bctx_t *x, bready_t *r, int i, int reqs) {
    lua_State *L = x->L;
    const char *bad = NULL;
    int rc, req;
    size_t line = 0;
    if (!aliyun_batch_request(L, reqs, i)) return 0; /* nothing to send for i */
    req = lua_gettop(L);
    r->head = r->idempotent = 0;
    rc = aliyun_wire_request(L, req, x->o->user_agent, &r->out, &r->extra, &r->key, &bad, &r->head, &r->idempotent,
                             &line);
    r->connect_ms = aliyun_opt_ms(L, req, "connect_timeout", x->o->connect_timeout_ms);
    r->timeout_ms = aliyun_opt_ms(L, req, "timeout", x->o->timeout_ms);
    lua_settop(L, req - 1);
    if (rc != WIRE_OK) {
        fail_unsent(x, i, "validation", rc == WIRE_BAD ? bad : "request not supported by the direct path");
        return 0;
    }
    r->index = i;
    return 1;
}

static void swap_buf(membuf_t *a, membuf_t *b) {
    membuf_t t = *a;
    *a = *b;
    *b = t;
}

/* Starts the built request r on the idle slot s (r keeps the slot's old buffers). */
static void start(bctx_t *x, bslot_t *s, bready_t *r) {
    h1batch_t *b = x->b;
    int reused, err = 0;
    long connect_ms = r->connect_ms;
    long long now;
    borigin_t *org;
    swap_buf(&s->out, &r->out);
    swap_buf(&s->key, &r->key);
    swap_buf(&s->extra, &r->extra);
    s->timeout_ms = r->timeout_ms;
    s->index = r->index;
    s->seq = ++b->seq;
    s->state = B_SEND; /* not idle from here: release() makes it so */
    s->c = NULL;
    s->off = s->got = s->counted = 0;
    s->sent = s->retried = s->paused = s->kick = 0;
    s->in.len = 0;
    s->head = r->head;
    s->idempotent = r->idempotent;
    s->origin = 0;
    h1_reset(&s->resp, r->head, x->o->max_body);
    if (aliyun_interrupt_pending()) {
        fail(x, s, "timeout", "interrupted (Ctrl-C) before it was sent", 0);
        return;
    }
    now = conn_now_ms();
    s->started = now;
    s->deadline = now + s->timeout_ms;
    s->connect_deadline = now + (connect_ms < s->timeout_ms ? connect_ms : s->timeout_ms);
    org = origin_for(x->L, b, s->key.data, s->connect_deadline, &s->origin);
    if (org->rc != CONN_OK) {
        fail(x, s, org->rc == CONN_TIMEOUT ? "timeout" : "network", org->why, 0);
        return;
    }
    s->c = take_conn(b, s->key.data, &reused);
    if (s->c == NULL) { /* cannot happen: a connection per slot */
        fail(x, s, "network", "no connection free for the request", 0);
        return;
    }
    s->c->in_use = 1;
    s->c->slot = s;
    s->reused = reused;
    if (reused) {
        drive(x, s);
        return;
    }
    s->ai = org->res;
    if (!start_connect(b, s, &err)) connect_failed(x, s, err);
}

/* Fails the slots whose time is up. */
static void sweep(bctx_t *x) {
    h1batch_t *b = x->b;
    int k;
    long long now = conn_now_ms();
    char msg[1300];
    for (k = 0; k < b->nslots; k++) {
        bslot_t *s = &b->slots[k];
        borigin_t *o;
        if (s->state == B_IDLE) continue;
        o = &b->origins[s->origin];
        if ((s->state == B_CONNECT || s->state == B_TLS) && now >= s->connect_deadline) {
            if (s->state == B_CONNECT)
                snprintf(msg, sizeof msg, "Connection to %s port %s timed out after %lld ms", o->host, o->port,
                         now - s->started);
            else
                snprintf(msg, sizeof msg, "TLS handshake with %s timed out after %lld ms", o->where, now - s->started);
            fail(x, s, "timeout", msg, s->retried);
        } else if (now >= s->deadline) {
            snprintf(msg, sizeof msg, "Operation timed out after %ld milliseconds with %lu bytes received",
                     s->timeout_ms, (unsigned long)s->got);
            fail(x, s, "timeout", msg, s->sent || s->retried);
        }
    }
}

/* After a Ctrl-C: every request in flight ends as interrupted (and the requests after
 * them at once, since every wait returns while the flag is set); the hook raises in the
 * Lua code that runs next. */
static void interrupt_all(bctx_t *x) {
    h1batch_t *b = x->b;
    int k;
    for (k = 0; k < b->nslots; k++) {
        bslot_t *s = &b->slots[k];
        char msg[96];
        if (s->state == B_IDLE) continue;
        snprintf(msg, sizeof msg, "interrupted (Ctrl-C) with %lu bytes received", (unsigned long)s->got);
        fail(x, s, "timeout", msg, s->sent || s->retried);
    }
}

/* What a batch that raised left behind: requests in flight (their connections closed:
 * their state is unknown), the slots, the resolved origins. */
static void batch_end(h1batch_t *b) {
    int k;
    for (k = 0; k < b->nslots; k++) {
        bslot_t *s = &b->slots[k];
        if (s->state != B_IDLE && s->c) {
            close_conn(b, s->c);
            s->c->in_use = 0;
            s->c->slot = NULL;
        }
        membuf_free(&s->out);
        membuf_free(&s->key);
        membuf_free(&s->extra);
        membuf_free(&s->in);
        h1_free(&s->resp);
    }
    free(b->slots);
    b->slots = NULL;
    b->nslots = 0;
    for (k = 0; k < b->ready_cap; k++) {
        membuf_free(&b->ready[k].out);
        membuf_free(&b->ready[k].key);
        membuf_free(&b->ready[k].extra);
    }
    free(b->ready);
    b->ready = NULL;
    b->ready_cap = b->nready = b->ready_head = 0;
    for (k = 0; k < b->norigins; k++)
        if (b->origins[k].res) freeaddrinfo(b->origins[k].res);
    free(b->origins);
    b->origins = NULL;
    b->norigins = 0;
}

void h1batch_free(h1batch_t *b) {
    int k;
    batch_end(b);
    for (k = 0; k < b->nconns; k++) {
        conn_close(&b->conns[k]->conn);
        free(b->conns[k]);
    }
    free(b->conns);
    b->conns = NULL;
    b->nconns = 0;
    if (b->have_epfd) close(b->epfd);
    b->have_epfd = 0;
}

/* The next free entry of the ring of built requests. */
static bready_t *ready_tail(h1batch_t *b) {
    return &b->ready[(b->ready_head + b->nready) % b->ready_cap];
}

/* Gives every idle slot the next request: one built ahead, else built now. */
static void refill(bctx_t *x, int reqs, int n, int *next) {
    h1batch_t *b = x->b;
    int k;
    for (k = 0; k < b->nslots; k++) {
        bready_t *r;
        if (b->slots[k].state != B_IDLE) continue;
        while (b->nready == 0 && *next <= n)
            if (build(x, ready_tail(b), (*next)++, reqs)) b->nready++;
        if (b->nready == 0) return; /* every request is started */
        r = &b->ready[b->ready_head];
        b->ready_head = (b->ready_head + 1) % b->ready_cap;
        b->nready--;
        start(x, &b->slots[k], r);
    }
}

size_t h1batch_run(lua_State *L, h1batch_t *b, conn_tls_t *tls, const aliyun_http_opts_t *o, int reqs, int n,
                   int conc, int done, int results) {
    int next = 1, k;
    size_t peak;
    bctx_t x;
    batch_end(b);
    lua_newtable(L); /* the held outcomes */
    x.L = L;
    x.b = b;
    x.tls = tls;
    x.o = o;
    x.done = done;
    x.results = results;
    x.held = lua_gettop(L);
    x.nheld = 0;
    x.held_bytes = 0;
    if (!b->have_epfd) {
        b->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (b->epfd < 0) luaL_error(L, "epoll_create1: %s", strerror(errno));
        b->have_epfd = 1;
    }
    if (b->nconns < conc) {
        bconn_t **cs = (bconn_t **)realloc(b->conns, (size_t)conc * sizeof *cs);
        if (cs == NULL) luaL_error(L, "out of memory");
        b->conns = cs;
        for (; b->nconns < conc; b->nconns++) {
            bconn_t *c = (bconn_t *)calloc(1, sizeof *c);
            if (c == NULL) luaL_error(L, "out of memory");
            c->conn.fd = -1;
            b->conns[b->nconns] = c;
        }
    }
    b->slots = (bslot_t *)calloc((size_t)conc, sizeof(bslot_t));
    if (b->slots == NULL) luaL_error(L, "out of memory");
    b->nslots = conc;
    b->ready_cap = conc < READY_MAX ? conc : READY_MAX;
    b->ready = (bready_t *)calloc((size_t)b->ready_cap, sizeof(bready_t));
    if (b->ready == NULL) {
        b->ready_cap = 0;
        luaL_error(L, "out of memory");
    }
    b->nready = b->ready_head = 0;
    b->any_paused = 0;
    b->buffered = b->peak = 0;
    b->budget = o->batch_memory;
    b->seq = 0;

    for (;;) {
        struct epoll_event evs[64];
        int running = 0, kicked = 0, nev = 0, i;
        long long wait = 1000, now;
        /* the finished slots take their next requests before on_done sees the answers */
        refill(&x, reqs, n, &next);
        deliver_held(&x);
        now = conn_now_ms();
        for (k = 0; k < conc; k++) {
            bslot_t *s = &b->slots[k];
            long long until;
            if (s->state == B_IDLE) continue;
            running++;
            kicked |= s->kick;
            until = (s->state == B_CONNECT || s->state == B_TLS) ? s->connect_deadline : s->deadline;
            if (until - now < wait) wait = until - now;
        }
        if (running == 0) {
            if (next > n && b->nready == 0) break;
            continue;
        }
        if (wait < 0 || kicked) wait = 0;
        if (wait > 0) {
            /* nothing to do but wait: the next requests are signed now, one at a time
             * while no event is in */
            while (b->nready < b->ready_cap && next <= n && x.nheld == 0 &&
                   (nev = epoll_wait(b->epfd, evs, 64, 0)) == 0) {
                if (build(&x, ready_tail(b), next++, reqs)) b->nready++;
            }
            wait -= conn_now_ms() - now;
            if (wait < 0 || x.nheld) wait = 0; /* a request that failed to build goes to on_done */
        }
        if (nev == 0) nev = epoll_wait(b->epfd, evs, 64, (int)wait);
        if (nev < 0 && errno != EINTR) luaL_error(L, "epoll_wait: %s", strerror(errno));
        for (i = 0; i < nev; i++) {
            bconn_t *c = (bconn_t *)evs[i].data.ptr;
            if (c->slot != NULL) {
                if (c->slot->state != B_IDLE) drive(&x, c->slot);
            } else if (c->conn.open && !conn_idle_ok(&c->conn)) {
                close_conn(b, c); /* a kept connection the server closed */
            }
        }
        for (k = 0; k < conc; k++) {
            bslot_t *s = &b->slots[k];
            if (s->kick) {
                s->kick = 0;
                if (s->state == B_RECV) drive(&x, s);
            }
        }
        sweep(&x);
        if (aliyun_interrupt_pending()) interrupt_all(&x);
    }
    deliver_held(&x);
    lua_pop(L, 1);
    peak = b->peak;
    batch_end(b);
    return peak;
}
