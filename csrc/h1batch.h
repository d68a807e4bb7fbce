/* h1batch.h: session:batch on the core's own connections (conn.c), with the requests
 * written and the answers parsed by the same code as the direct path's single requests
 * (wire.c, h1.c). Many requests are in flight at once on one epoll loop: connections are
 * opened without blocking (the name looked up once per origin and batch, within the
 * connect timeout), kept between batches, and each finished request's slot takes the next
 * at once. libcurl's engine stays for proxies (http.c decides). */
#ifndef ALIYUN_H1BATCH_H
#define ALIYUN_H1BATCH_H

#include "compat.h"
#include "conn.h"
#include "h1.h"
#include "httpcommon.h"
#include "membuf.h"

typedef struct bconn bconn_t;
typedef struct bslot bslot_t;
typedef struct borigin borigin_t;
typedef struct bready bready_t;

/* All zero is an empty engine; it belongs to one session. */
typedef struct {
    bconn_t **conns; /* the connections, open or not, kept between batches */
    int nconns;
    int epfd;        /* -1 or 0 before the first batch (see h1batch_run) */
    int have_epfd;
    /* the batch in progress (freed at its end, or by the next batch or h1batch_free after
     * a Lua error part-way) */
    bslot_t *slots;
    int nslots;
    borigin_t *origins;
    int norigins;
    bready_t *ready; /* a ring of requests built ahead: nready from ready_head */
    int ready_cap, nready, ready_head;
    int any_paused; /* a slot may be paused for room (see kick_paused) */
    size_t buffered, budget, peak; /* answers' bytes held, as in curl.c's batches */
    unsigned long seq;
    int in_callback; /* on_done is running: no other batch, no close() */
} h1batch_t;

/* Runs the batch of the n requests at stack index reqs (a list, or a function making
 * request i: see aliyun_batch_request), at most conc at a time. The
 * outcome of request i goes to on_done(i, outcome) when the value at index done is a
 * function, else into the table at index results: a response table {status, headers
 * (raw_headers when the session says so), body, elapsed} or {error = message, kind =
 * kind, sent = boolean}; on_done sees a finished request's outcome after its slot has
 * been given the next request. tls is the session's
 * TLS context, o its options. Pushes nothing; returns the peak bytes held. Raises on a bad
 * request list or an error of on_done (what was in flight is cleaned up later). */
size_t h1batch_run(lua_State *L, h1batch_t *b, conn_tls_t *tls, const aliyun_http_opts_t *o, int reqs, int n,
                   int conc, int done, int results);

/* Closes every connection and frees everything. */
void h1batch_free(h1batch_t *b);

#endif
