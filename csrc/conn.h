/* conn.h: the core's own connector for the direct path: DNS (getaddrinfo), non-blocking
 * TCP connect within the connect timeout, and TLS with OpenSSL (verification, SNI, hostname
 * check, ALPN http/1.1), then non-blocking send/receive. It lets the direct path work
 * without libcurl, whose loading (and its many dependent libraries) dominated start-up. */
#ifndef ALIYUN_CONN_H
#define ALIYUN_CONN_H

#include <stddef.h>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct bio_method_st BIO_METHOD;

/* TLS settings shared by the connections of one pool (session): made on the first https
 * connection with the session's verify_tls and ca_file, freed with the pool. */
typedef struct {
    SSL_CTX *ctx;
    BIO_METHOD *bio_method; /* socket BIO that writes with MSG_NOSIGNAL */
} conn_tls_t;

/* All zero is a closed connection. While open, its address must not change: the TLS BIO
 * points at it. */
typedef struct {
    int open;
    int fd;
    SSL *ssl; /* NULL for plain http */
    int eof;  /* the peer closed (seen by the TLS BIO) */
} conn_t;

/* Results of conn_open, conn_send and conn_recv. */
enum { CONN_OK = 0, CONN_FAIL = -1, CONN_TIMEOUT = -2, CONN_WANT_READ = -3, CONN_WANT_WRITE = -4 };

/* Opens a connection to key ("http://host[:port]" or "https://host[:port]", IPv6 hosts in
 * brackets): TCP, then TLS for https, all done before min(connect deadline, deadline)
 * (milliseconds of the monotonic clock). CONN_OK, or CONN_FAIL/CONN_TIMEOUT with msg. */
int conn_open(conn_t *c, conn_tls_t *tls, const char *key, int verify_tls, const char *ca_file,
              long long connect_deadline, long long deadline, char *msg, size_t msglen);

/* Sends up to len bytes: CONN_OK with *n set, CONN_WANT_READ/WRITE (wait, then call again
 * with the same bytes), or CONN_FAIL with msg. Never raises SIGPIPE. */
int conn_send(conn_t *c, const char *p, size_t len, size_t *n, char *msg, size_t msglen);

/* Receives up to len bytes: CONN_OK with *n set (0: the peer closed the connection),
 * CONN_WANT_READ/WRITE, or CONN_FAIL with msg. */
int conn_recv(conn_t *c, char *p, size_t len, size_t *n, char *msg, size_t msglen);

/* Waits until c's socket is ready for what want (CONN_WANT_READ/WRITE) asks or the deadline
 * passes: 1 ready (or an error the next call reports), 0 timed out. */
int conn_wait(const conn_t *c, int want, long long deadline);

void conn_close(conn_t *c);

/* Whether an idle kept connection still looks open: nothing waiting on it (an end of
 * stream, a TLS alert, stray bytes all mean it must not carry another request). */
int conn_idle_ok(const conn_t *c);

/* Splits "scheme://host[:port]" into host (brackets dropped) and port (digits); sets *tls.
 * 0 when it is not such an origin. */
int conn_parse_origin(const char *key, char *host, size_t hostlen, char *port, size_t portlen, int *tls);
void conn_tls_free(conn_tls_t *tls);

/* The steps of conn_open, for opening many connections at once without blocking
 * (h1batch.c): */
struct addrinfo;
/* Resolves host:port before until (an IP literal, numeric = 1, without a resolver):
 * CONN_OK with *res set (the caller frees it with freeaddrinfo), CONN_TIMEOUT or CONN_FAIL
 * with msg. The lookup runs in glibc's resolver threads, so the wait is bounded. */
int conn_resolve(const char *host, const char *port, int numeric, long long until, long long t0,
                 struct addrinfo **res, char *msg, size_t msglen);
int conn_is_ip_literal(const char *host);
/* Starts a TCP connection to ai: CONN_OK (connected), CONN_WANT_WRITE (in progress: wait,
 * then conn_tcp_finish) or CONN_FAIL with *err (an errno). */
int conn_tcp_start(conn_t *c, const struct addrinfo *ai, int *err);
/* The outcome of a connection in progress: CONN_OK, CONN_WANT_WRITE (still in progress) or
 * CONN_FAIL with *err (closed). */
int conn_tcp_finish(conn_t *c, int *err);
/* Prepares TLS on the connected c (SNI, the host or IP to check): CONN_OK or CONN_FAIL. */
int conn_tls_begin(conn_t *c, conn_tls_t *tls, const char *host, int numeric, int verify_tls, const char *ca_file,
                   const char *where, char *msg, size_t msglen);
/* One step of the handshake: CONN_OK (done), CONN_WANT_READ/WRITE, or CONN_FAIL with msg. */
int conn_tls_step(conn_t *c, int verify_tls, const char *where, char *msg, size_t msglen);

/* Milliseconds of the monotonic clock. */
long long conn_now_ms(void);

#endif
