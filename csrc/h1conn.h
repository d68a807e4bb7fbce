/* h1conn.h: HTTP/1.1 requests over kept connections that the core opens itself (conn.c:
 * DNS, TCP, TLS with verification), with the request written and the response read by the
 * C core (h1.c). This is the sequential request path of a session when no proxy is
 * involved: it skips libcurl's per-request work (URL parsing, header assembly through its
 * printf engine, option resets), which dominated a call's cost, and does not need libcurl
 * loaded at all. */
#ifndef ALIYUN_H1CONN_H
#define ALIYUN_H1CONN_H

#include "conn.h"
#include "h1.h"

#define H1CONN_MAX 4 /* kept connections per session (one per origin in use) */

typedef struct {
    conn_t conn;      /* the connection; conn.open is 0 when closed */
    char *key;        /* "scheme://authority" */
    unsigned long requests;  /* answered on this connection */
    unsigned long long used; /* pool tick of the last use, for eviction */
    long long last_ms;       /* when its last answer was read */
} h1conn_t;

/* All zero is an empty pool. */
typedef struct {
    h1conn_t conn[H1CONN_MAX];
    conn_tls_t tls; /* the TLS context of the pool's https connections */
    membuf_t in; /* received bytes not yet parsed */
    unsigned long long tick;
} h1pool_t;

typedef struct {
    const char *key;        /* "scheme://authority" of the request URL */
    const char *out;        /* the whole request: head and body */
    size_t out_len;
    int head;               /* a HEAD request: no body in the answer */
    int idempotent;         /* may be sent again when a kept connection dies unanswered */
    long connect_timeout_ms, timeout_ms;
    int verify_tls;
    const char *ca_file;    /* NULL: OpenSSL's default CA store */
} h1call_t;

enum { H1K_OK = 0, H1K_NETWORK, H1K_TIMEOUT, H1K_TOO_LARGE };

/* Sends c and reads its answer into resp (h1_reset by the caller with max_body). Returns
 * H1K_OK, or a failure kind with a message in msg; *sent is 0 when the request provably
 * never left (no connection, or none of its bytes written). A kept connection that the
 * server closed while idle is replaced before the request is written; the request itself
 * is written a second time (on a new connection) only when c->idempotent and a kept
 * connection died after it was written, before any answer. */
int h1pool_request(h1pool_t *p, const h1call_t *c, h1_response_t *resp, int *sent, char *msg, size_t msglen);

/* Closes every connection and frees the buffers. */
void h1pool_free(h1pool_t *p);

#endif
