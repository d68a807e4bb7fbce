/* conn.c: TCP and TLS connections for the direct path (see conn.h). */
#define _GNU_SOURCE 1 /* SOCK_CLOEXEC, SOCK_NONBLOCK, MSG_NOSIGNAL, getaddrinfo_a */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "interrupt.h"

long long conn_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls fd for events until deadline: 1 ready, 0 timed out or interrupted (Ctrl-C caught
 * by core.catch_interrupts: the caller's message then says so). */
static int wait_fd(int fd, short events, long long deadline) {
    for (;;) {
        struct pollfd pfd;
        long long left = deadline - conn_now_ms();
        int n;
        if (left <= 0 || aliyun_interrupt_pending()) return 0;
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0) return 1; /* readable, writable, or an error the next call reports */
        if (n < 0 && errno != EINTR) return 1;
    }
}

int conn_wait(const conn_t *c, int want, long long deadline) {
    return wait_fd(c->fd, want == CONN_WANT_WRITE ? POLLOUT : POLLIN, deadline);
}

void conn_close(conn_t *c) {
    if (c->ssl) SSL_free(c->ssl); /* frees its BIO too; no close_notify: we may not block */
    c->ssl = NULL;
    if (c->open) close(c->fd);
    c->open = 0;
    c->fd = -1;
    c->eof = 0;
}

int conn_idle_ok(const conn_t *c) {
    char b;
    ssize_t n;
    if (!c->open || c->eof) return 0;
    if (c->ssl && SSL_pending(c->ssl) > 0) return 0;
    do n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void conn_tls_free(conn_tls_t *tls) {
    if (tls->ctx) SSL_CTX_free(tls->ctx);
    if (tls->bio_method) BIO_meth_free(tls->bio_method);
    tls->ctx = NULL;
    tls->bio_method = NULL;
}

/* The text of OpenSSL's first queued error (the queue is emptied), or fallback. */
static const char *ssl_err_text(char *buf, size_t n, const char *fallback) {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (e == 0) return fallback;
    ERR_error_string_n(e, buf, n);
    return buf;
}

/* --------------------------------------------------------------- socket BIO */

/* OpenSSL's own socket BIO writes with write(2), which raises SIGPIPE on a closed peer;
 * this one sends with MSG_NOSIGNAL, so no signal ever reaches the process and its
 * signal disposition stays the program's business. The BIO's data is the conn_t. */

static int bio_write(BIO *b, const char *p, int len) {
    conn_t *c = (conn_t *)BIO_get_data(b);
    ssize_t n;
    BIO_clear_retry_flags(b);
    do n = send(c->fd, p, (size_t)len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(b);
        return -1;
    }
    return (int)n;
}

static int bio_read(BIO *b, char *p, int len) {
    conn_t *c = (conn_t *)BIO_get_data(b);
    ssize_t n;
    BIO_clear_retry_flags(b);
    do n = recv(c->fd, p, (size_t)len, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(b);
        return -1;
    }
    if (n == 0) c->eof = 1; /* BIO_eof tells OpenSSL the peer closed, not an I/O error */
    return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
    conn_t *c = (conn_t *)BIO_get_data(b);
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1; /* nothing is buffered here */
    case BIO_CTRL_EOF: return c ? c->eof : 0;
    default: return 0;
    }
}

static int bio_create(BIO *b) {
    BIO_set_init(b, 1);
    return 1;
}

static int bio_destroy(BIO *b) {
    (void)b; /* the fd belongs to the conn_t */
    return 1;
}

/* ------------------------------------------------------------------- TLS */

/* Makes tls->ctx on first use: TLS 1.2 or later, ALPN http/1.1 only, verification as
 * the session asks. */
static int tls_setup(conn_tls_t *tls, int verify_tls, const char *ca_file, char *msg, size_t msglen) {
    char eb[256];
    SSL_CTX *ctx;
    if (tls->ctx) return CONN_OK;
    ERR_clear_error();
    if (tls->bio_method == NULL) {
        BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "aliyun socket");
        if (m == NULL || !BIO_meth_set_write(m, bio_write) || !BIO_meth_set_read(m, bio_read) ||
            !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create) ||
            !BIO_meth_set_destroy(m, bio_destroy)) {
            if (m) BIO_meth_free(m);
            snprintf(msg, msglen, "TLS set-up failed: %s", ssl_err_text(eb, sizeof eb, "out of memory"));
            return CONN_FAIL;
        }
        tls->bio_method = m;
    }
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        snprintf(msg, msglen, "TLS set-up failed: %s", ssl_err_text(eb, sizeof eb, "out of memory"));
        return CONN_FAIL;
    }
    /* ALPN takes a length-prefixed list; 0 means success here */
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
        SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)"\x08http/1.1", 9) != 0) {
        snprintf(msg, msglen, "TLS set-up failed: %s", ssl_err_text(eb, sizeof eb, "unknown error"));
        SSL_CTX_free(ctx);
        return CONN_FAIL;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    /* a peer that closes without close_notify is an end of stream; the HTTP framing
     * (h1_eof) decides whether the answer was complete */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    if (verify_tls) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (ca_file) {
            /* only that file, as libcurl's CURLOPT_CAINFO did */
            if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
                snprintf(msg, msglen, "cannot load the CA file %s: %s", ca_file,
                         ssl_err_text(eb, sizeof eb, "unknown error"));
                SSL_CTX_free(ctx);
                return CONN_FAIL;
            }
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            snprintf(msg, msglen, "cannot load the system's CA certificates: %s",
                     ssl_err_text(eb, sizeof eb, "unknown error"));
            SSL_CTX_free(ctx);
            return CONN_FAIL;
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    tls->ctx = ctx;
    return CONN_OK;
}

/* Why a handshake failed, into msg. */
static void handshake_failure(conn_t *c, int rc, int verify_tls, const char *where, char *msg, size_t msglen) {
    char eb[256];
    int e = SSL_get_error(c->ssl, rc);
    long vr = SSL_get_verify_result(c->ssl);
    if (verify_tls && vr != X509_V_OK) {
        ERR_clear_error();
        snprintf(msg, msglen, "TLS handshake with %s: certificate verify failed (%s)", where,
                 X509_verify_cert_error_string(vr));
    } else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
        int err = errno;
        const char *why = ssl_err_text(eb, sizeof eb, NULL);
        if (why == NULL) why = (c->eof || err == 0 || e == SSL_ERROR_ZERO_RETURN) ? "connection closed by the server" : strerror(err);
        snprintf(msg, msglen, "TLS handshake with %s: %s", where, why);
    } else {
        snprintf(msg, msglen, "TLS handshake with %s: %s", where, ssl_err_text(eb, sizeof eb, "unknown error"));
    }
}

int conn_tls_begin(conn_t *c, conn_tls_t *tls, const char *host, int numeric, int verify_tls, const char *ca_file,
                   const char *where, char *msg, size_t msglen) {
    char eb[256];
    BIO *bio;
    int r = tls_setup(tls, verify_tls, ca_file, msg, msglen);
    if (r != CONN_OK) return r;
    c->ssl = SSL_new(tls->ctx);
    bio = c->ssl ? BIO_new(tls->bio_method) : NULL;
    if (bio == NULL) {
        snprintf(msg, msglen, "TLS set-up failed: %s", ssl_err_text(eb, sizeof eb, "out of memory"));
        return CONN_FAIL;
    }
    BIO_set_data(bio, c);
    SSL_set_bio(c->ssl, bio, bio); /* the SSL owns the BIO from here */
    /* SNI is for names only (RFC 6066); the certificate must name the host or the IP */
    if (!numeric && !SSL_set_tlsext_host_name(c->ssl, host)) {
        snprintf(msg, msglen, "TLS set-up failed: %s", ssl_err_text(eb, sizeof eb, "bad host name"));
        return CONN_FAIL;
    }
    if (verify_tls) {
        int ok;
        if (numeric) {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host);
        } else {
            SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            ok = SSL_set1_host(c->ssl, host);
        }
        if (!ok) {
            snprintf(msg, msglen, "TLS set-up failed for %s: %s", where, ssl_err_text(eb, sizeof eb, "bad host name"));
            return CONN_FAIL;
        }
    }
    return CONN_OK;
}

int conn_tls_step(conn_t *c, int verify_tls, const char *where, char *msg, size_t msglen) {
    int r, e;
    ERR_clear_error();
    r = SSL_connect(c->ssl);
    if (r == 1) return CONN_OK;
    e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ) return CONN_WANT_READ;
    if (e == SSL_ERROR_WANT_WRITE) return CONN_WANT_WRITE;
    handshake_failure(c, r, verify_tls, where, msg, msglen);
    return CONN_FAIL;
}

static int tls_connect(conn_t *c, conn_tls_t *tls, const char *host, int numeric, int verify_tls,
                       const char *ca_file, long long until, long long t0, const char *where,
                       char *msg, size_t msglen) {
    int r = conn_tls_begin(c, tls, host, numeric, verify_tls, ca_file, where, msg, msglen);
    while (r == CONN_OK || r == CONN_WANT_READ || r == CONN_WANT_WRITE) {
        if (r != CONN_OK && !conn_wait(c, r, until)) {
            ERR_clear_error();
            snprintf(msg, msglen, "TLS handshake with %s %s after %lld ms", where,
                     aliyun_interrupt_pending() ? "interrupted" : "timed out", conn_now_ms() - t0);
            return CONN_TIMEOUT;
        }
        r = conn_tls_step(c, verify_tls, where, msg, msglen);
        if (r == CONN_OK) return CONN_OK;
    }
    return r;
}

/* ---------------------------------------------------------------- origins */

int conn_parse_origin(const char *key, char *host, size_t hostlen, char *port, size_t portlen, int *tls) {
    const char *a, *h, *he, *p = NULL;
    size_t n, i;
    if (strncmp(key, "https://", 8) == 0) {
        *tls = 1;
        a = key + 8;
    } else if (strncmp(key, "http://", 7) == 0) {
        *tls = 0;
        a = key + 7;
    } else {
        return 0;
    }
    if (*a == '[') {
        h = a + 1;
        he = strchr(h, ']');
        if (he == NULL) return 0;
        if (he[1] == ':') p = he + 2;
        else if (he[1] != '\0') return 0;
    } else {
        h = a;
        he = strchr(h, ':');
        if (he) p = he + 1;
        else he = h + strlen(h);
    }
    n = (size_t)(he - h);
    if (n == 0 || n >= hostlen) return 0;
    memcpy(host, h, n);
    host[n] = '\0';
    if (p == NULL || *p == '\0') {
        snprintf(port, portlen, "%s", *tls ? "443" : "80");
    } else {
        long v = 0;
        n = strlen(p);
        if (n > 5) return 0;
        for (i = 0; i < n; i++) {
            if (p[i] < '0' || p[i] > '9') return 0;
            v = v * 10 + (p[i] - '0');
        }
        if (v < 1 || v > 65535) return 0;
        snprintf(port, portlen, "%ld", v);
    }
    return 1;
}

static void set_sockopts(int fd) {
    int one = 1;
    /* a request goes out in one write: no reason to wait for an ACK (Nagle) */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
}

/* ------------------------------------------------------------ resolver */

/* Name lookups run in glibc's resolver threads (getaddrinfo_a), so that waiting for one is
 * bounded by the connect deadline: a blocking getaddrinfo took the resolver's own time
 * (10 s and more for a name that never resolves) whatever connect_timeout said. A lookup
 * given up is cancelled; one already running cannot be, so its memory is kept on a list
 * until it finishes, and freed by a later lookup. */
typedef struct lookup {
    struct gaicb cb;
    struct addrinfo hints;
    char host[1040], port[8];
    struct lookup *next;
} lookup_t;

static lookup_t *abandoned = NULL;
static pthread_mutex_t abandoned_lock = PTHREAD_MUTEX_INITIALIZER;

static void free_lookup(lookup_t *l) {
    if (l->cb.ar_result) freeaddrinfo(l->cb.ar_result);
    free(l);
}

/* Frees the abandoned lookups that have finished since. */
static void reap_abandoned(void) {
    lookup_t **pp, *l;
    pthread_mutex_lock(&abandoned_lock);
    pp = &abandoned;
    while ((l = *pp) != NULL) {
        if (gai_error(&l->cb) != EAI_INPROGRESS) {
            *pp = l->next;
            free_lookup(l);
        } else {
            pp = &l->next;
        }
    }
    pthread_mutex_unlock(&abandoned_lock);
}

static void abandon(lookup_t *l) {
    if (gai_cancel(&l->cb) == EAI_CANCELED) {
        free_lookup(l);
        return;
    }
    pthread_mutex_lock(&abandoned_lock);
    l->next = abandoned;
    abandoned = l;
    pthread_mutex_unlock(&abandoned_lock);
}

int conn_resolve(const char *host, const char *port, int numeric, long long until, long long t0,
                   struct addrinfo **res, char *msg, size_t msglen) {
    struct gaicb *list[1];
    lookup_t *l;
    int r;
    *res = NULL;
    if (numeric) {
        /* an IP literal needs no resolver */
        struct addrinfo hints;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_protocol = IPPROTO_TCP;
        hints.ai_flags = AI_NUMERICHOST;
        r = getaddrinfo(host, port, &hints, res);
        if (r == 0) return CONN_OK;
        snprintf(msg, msglen, "Could not resolve host: %s (%s)", host, gai_strerror(r));
        return CONN_FAIL;
    }
    reap_abandoned();
    l = (lookup_t *)calloc(1, sizeof *l);
    if (l == NULL) {
        snprintf(msg, msglen, "Could not resolve host: %s (out of memory)", host);
        return CONN_FAIL;
    }
    snprintf(l->host, sizeof l->host, "%s", host);
    snprintf(l->port, sizeof l->port, "%s", port);
    l->hints.ai_family = AF_UNSPEC;
    l->hints.ai_socktype = SOCK_STREAM;
    l->hints.ai_protocol = IPPROTO_TCP;
    l->cb.ar_name = l->host;
    l->cb.ar_service = l->port;
    l->cb.ar_request = &l->hints;
    list[0] = &l->cb;
    r = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
    if (r != 0) {
        free(l);
        snprintf(msg, msglen, "Could not resolve host: %s (%s)", host, gai_strerror(r));
        return CONN_FAIL;
    }
    while ((r = gai_error(&l->cb)) == EAI_INPROGRESS) {
        struct timespec ts;
        long long left = until - conn_now_ms();
        if (left <= 0 || aliyun_interrupt_pending()) {
            abandon(l);
            snprintf(msg, msglen, "Resolving host %s %s after %lld ms", host,
                     aliyun_interrupt_pending() ? "interrupted" : "timed out", conn_now_ms() - t0);
            return CONN_TIMEOUT;
        }
        ts.tv_sec = (time_t)(left / 1000);
        ts.tv_nsec = (long)(left % 1000) * 1000000L;
        (void)gai_suspend((const struct gaicb *const *)list, 1, &ts); /* done, timed out or a signal */
    }
    if (r != 0) {
        snprintf(msg, msglen, "Could not resolve host: %s (%s)", host, r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
        free_lookup(l);
        return CONN_FAIL;
    }
    *res = l->cb.ar_result;
    l->cb.ar_result = NULL;
    free(l);
    return CONN_OK;
}

/* ------------------------------------------------------------------- TCP */

int conn_tcp_start(conn_t *c, const struct addrinfo *ai, int *err) {
    int r, fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
        *err = errno;
        return CONN_FAIL;
    }
    set_sockopts(fd);
    do r = connect(fd, ai->ai_addr, ai->ai_addrlen);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno != EINPROGRESS) {
        *err = errno;
        close(fd);
        return CONN_FAIL;
    }
    c->fd = fd;
    c->open = 1;
    return r == 0 ? CONN_OK : CONN_WANT_WRITE;
}

int conn_tcp_finish(conn_t *c, int *err) {
    socklen_t len = sizeof *err;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof peer;
    *err = 0;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, err, &len) < 0) *err = errno;
    if (*err == 0) {
        /* no error yet may also mean not connected yet (a wake-up meant for another socket) */
        if (getpeername(c->fd, (struct sockaddr *)&peer, &plen) < 0 && errno == ENOTCONN) return CONN_WANT_WRITE;
        return CONN_OK;
    }
    conn_close(c);
    return CONN_FAIL;
}

/* Connects to some address of host:port before until (the name lookup included); the
 * socket is non-blocking and close-on-exec (programs the process starts must not inherit
 * connections). */
static int tcp_connect(conn_t *c, const char *host, const char *port, int numeric, long long until,
                       long long t0, char *msg, size_t msglen) {
    struct addrinfo *res = NULL, *ai;
    int r, err = 0;
    r = conn_resolve(host, port, numeric, until, t0, &res, msg, msglen);
    if (r != CONN_OK) return r;
    for (ai = res; ai; ai = ai->ai_next) {
        r = conn_tcp_start(c, ai, &err);
        if (r == CONN_WANT_WRITE) {
            if (!conn_wait(c, CONN_WANT_WRITE, until)) {
                conn_close(c);
                freeaddrinfo(res);
                snprintf(msg, msglen, "Connection to %s port %s %s after %lld ms", host, port,
                         aliyun_interrupt_pending() ? "interrupted" : "timed out", conn_now_ms() - t0);
                return CONN_TIMEOUT;
            }
            r = conn_tcp_finish(c, &err);
        }
        if (r == CONN_OK) {
            freeaddrinfo(res);
            return CONN_OK;
        }
        /* this address failed; try the next */
    }
    freeaddrinfo(res);
    snprintf(msg, msglen, "Failed to connect to %s port %s: %s", host, port, err ? strerror(err) : "no address");
    return CONN_FAIL;
}

int conn_is_ip_literal(const char *host) {
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

int conn_open(conn_t *c, conn_tls_t *tls, const char *key, int verify_tls, const char *ca_file,
              long long connect_deadline, long long deadline, char *msg, size_t msglen) {
    char host[1040], port[8], where[1060];
    int use_tls, numeric, r;
    long long until = connect_deadline < deadline ? connect_deadline : deadline;
    long long t0 = conn_now_ms();
    conn_close(c);
    if (!conn_parse_origin(key, host, sizeof host, port, sizeof port, &use_tls)) {
        snprintf(msg, msglen, "URL using bad/illegal format: %s", key);
        return CONN_FAIL;
    }
    numeric = conn_is_ip_literal(host);
    r = tcp_connect(c, host, port, numeric, until, t0, msg, msglen);
    if (r != CONN_OK || !use_tls) return r;
    snprintf(where, sizeof where, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
    r = tls_connect(c, tls, host, numeric, verify_tls, ca_file, until, t0, where, msg, msglen);
    if (r != CONN_OK) conn_close(c);
    return r;
}

/* ------------------------------------------------------------------- I/O */

static int tls_result(conn_t *c, int r, size_t *n, const char *what, char *msg, size_t msglen) {
    char eb[256];
    int e = SSL_get_error(c->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ: return CONN_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return CONN_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        *n = 0;
        return CONN_OK;
    case SSL_ERROR_SYSCALL: {
        int err = errno;
        const char *why = ssl_err_text(eb, sizeof eb, NULL);
        if (why == NULL && c->eof) {
            *n = 0; /* OpenSSL without SSL_OP_IGNORE_UNEXPECTED_EOF */
            return CONN_OK;
        }
        snprintf(msg, msglen, "%s: %s", what, why ? why : strerror(err));
        return CONN_FAIL;
    }
    default:
        snprintf(msg, msglen, "%s: TLS error: %s", what, ssl_err_text(eb, sizeof eb, "unknown error"));
        return CONN_FAIL;
    }
}

int conn_send(conn_t *c, const char *p, size_t len, size_t *n, char *msg, size_t msglen) {
    *n = 0;
    if (c->ssl) {
        int r;
        ERR_clear_error();
        r = SSL_write(c->ssl, p, len > INT_MAX ? INT_MAX : (int)len);
        if (r > 0) {
            *n = (size_t)r;
            return CONN_OK;
        }
        r = tls_result(c, r, n, "sending the request", msg, msglen);
        if (r == CONN_OK) { /* the peer closed: nothing more can be sent */
            snprintf(msg, msglen, "sending the request: connection closed by the server");
            return CONN_FAIL;
        }
        return r;
    } else {
        ssize_t r;
        do r = send(c->fd, p, len, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        if (r >= 0) {
            *n = (size_t)r;
            return CONN_OK;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) return CONN_WANT_WRITE;
        snprintf(msg, msglen, "sending the request: %s", strerror(errno));
        return CONN_FAIL;
    }
}

int conn_recv(conn_t *c, char *p, size_t len, size_t *n, char *msg, size_t msglen) {
    *n = 0;
    if (c->ssl) {
        int r;
        ERR_clear_error();
        r = SSL_read(c->ssl, p, len > INT_MAX ? INT_MAX : (int)len);
        if (r > 0) {
            *n = (size_t)r;
            return CONN_OK;
        }
        return tls_result(c, r, n, "receiving the response", msg, msglen);
    } else {
        ssize_t r;
        do r = recv(c->fd, p, len, 0);
        while (r < 0 && errno == EINTR);
        if (r >= 0) {
            *n = (size_t)r;
            return CONN_OK;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) return CONN_WANT_READ;
        snprintf(msg, msglen, "receiving the response: %s", strerror(errno));
        return CONN_FAIL;
    }
}
