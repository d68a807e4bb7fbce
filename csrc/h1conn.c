/* h1conn.c: requests over kept connect-only libcurl connections (see h1conn.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "h1conn.h"

#define RECV_CHUNK 16384

/* Outcomes of one attempt on a connection. */
enum { A_OK, A_FAIL, A_TIMEOUT, A_TOO_LARGE, A_STALE };

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int aliyun_socket_cloexec(void *clientp, curl_socket_t fd, curlsocktype purpose) {
    int flags = fcntl(fd, F_GETFD);
    (void)clientp;
    (void)purpose;
    if (flags == -1 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1) return CURL_SOCKOPT_ERROR;
    return CURL_SOCKOPT_OK;
}

static void conn_close(h1conn_t *c) {
    if (c->curl) curl_easy_cleanup(c->curl);
    c->curl = NULL;
    c->fd = CURL_SOCKET_BAD;
    c->requests = 0;
}

void h1pool_free(h1pool_t *p) {
    int i;
    for (i = 0; i < H1CONN_MAX; i++) {
        conn_close(&p->conn[i]);
        free(p->conn[i].key);
        p->conn[i].key = NULL;
    }
    membuf_free(&p->in);
}

/* The connection for key: a kept one, else a slot (free or least recently used) made
 * ready for connecting. NULL only when out of memory. */
static h1conn_t *conn_for(h1pool_t *p, const char *key) {
    int i, pick = 0;
    h1conn_t *c;
    for (i = 0; i < H1CONN_MAX; i++) {
        c = &p->conn[i];
        if (c->key && strcmp(c->key, key) == 0) {
            c->used = ++p->tick;
            return c;
        }
    }
    for (i = 0; i < H1CONN_MAX; i++) {
        if (p->conn[i].key == NULL) {
            pick = i;
            break;
        }
        if (p->conn[i].used < p->conn[pick].used) pick = i;
    }
    c = &p->conn[pick];
    conn_close(c);
    free(c->key);
    c->key = strdup(key);
    if (c->key == NULL) return NULL;
    c->used = ++p->tick;
    return c;
}

static void set_msg(char *msg, size_t msglen, const char *what, CURLcode rc, const char *errbuf) {
    if (errbuf && errbuf[0])
        snprintf(msg, msglen, "%s (%s)", errbuf, curl_easy_strerror(rc));
    else
        snprintf(msg, msglen, "%s%s%s", what ? what : "", what ? ": " : "", curl_easy_strerror(rc));
}

#define TRY_SETOPT(opt, val)                                                                  \
    do {                                                                                      \
        CURLcode rc_ = curl_easy_setopt(c->curl, (opt), (val));                               \
        if (rc_ != CURLE_OK) {                                                                \
            snprintf(msg, msglen, "curl_easy_setopt(%s): %s", #opt, curl_easy_strerror(rc_)); \
            conn_close(c);                                                                    \
            return A_FAIL;                                                                    \
        }                                                                                     \
    } while (0)

/* Opens c's connection (TCP, and TLS for https) within the time left. */
static int conn_open(h1conn_t *c, const h1call_t *call, long long deadline, char *msg, size_t msglen) {
    char url[2048];
    long left = (long)(deadline - now_ms());
    long connect_ms = call->connect_timeout_ms;
    CURLcode rc;
    if (left < 1) left = 1;
    if (connect_ms > left) connect_ms = left;
    if (snprintf(url, sizeof url, "%s/", call->key) >= (int)sizeof url) {
        snprintf(msg, msglen, "URL host part too long");
        return A_FAIL;
    }
    c->curl = curl_easy_init();
    if (c->curl == NULL) {
        snprintf(msg, msglen, "curl_easy_init failed");
        return A_FAIL;
    }
    c->errbuf[0] = '\0';
    TRY_SETOPT(CURLOPT_URL, url);
    TRY_SETOPT(CURLOPT_CONNECT_ONLY, 1L);
    TRY_SETOPT(CURLOPT_NOSIGNAL, 1L);
    TRY_SETOPT(CURLOPT_ERRORBUFFER, c->errbuf);
    TRY_SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    TRY_SETOPT(CURLOPT_TIMEOUT_MS, left);
    TRY_SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    TRY_SETOPT(CURLOPT_SOCKOPTFUNCTION, aliyun_socket_cloexec);
    TRY_SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    /* ALPN must offer only http/1.1: this connection speaks HTTP/1.1 */
    TRY_SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    TRY_SETOPT(CURLOPT_SSL_VERIFYPEER, call->verify_tls ? 1L : 0L);
    TRY_SETOPT(CURLOPT_SSL_VERIFYHOST, call->verify_tls ? 2L : 0L);
    if (call->ca_file) TRY_SETOPT(CURLOPT_CAINFO, call->ca_file);
    /* the caller takes this path only when no proxy applies; "" makes sure of it */
    TRY_SETOPT(CURLOPT_PROXY, "");
    rc = curl_easy_perform(c->curl);
    if (rc == CURLE_OK) rc = curl_easy_getinfo(c->curl, CURLINFO_ACTIVESOCKET, &c->fd);
    if (rc != CURLE_OK || c->fd == CURL_SOCKET_BAD) {
        int timeout = rc == CURLE_OPERATION_TIMEDOUT;
        set_msg(msg, msglen, NULL, rc == CURLE_OK ? CURLE_COULDNT_CONNECT : rc, c->errbuf);
        conn_close(c);
        return timeout ? A_TIMEOUT : A_FAIL;
    }
    c->requests = 0;
    return A_OK;
}

/* Waits until fd is ready for events or the deadline passes: 1 ready, 0 timed out. */
static int wait_fd(curl_socket_t fd, short events, long long deadline) {
    for (;;) {
        struct pollfd pfd;
        long long left = deadline - now_ms();
        int n;
        if (left <= 0) return 0;
        pfd.fd = fd;
        pfd.events = events;
        pfd.revents = 0;
        n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0) return 1; /* readable, writable, or an error the next call reports */
        if (n < 0 && errno != EINTR) return 1;
    }
}

static int timed_out(char *msg, size_t msglen, const h1call_t *call, size_t got) {
    snprintf(msg, msglen, "Operation timed out after %ld milliseconds with %lu bytes received (%s)",
             call->timeout_ms, (unsigned long)got, curl_easy_strerror(CURLE_OPERATION_TIMEDOUT));
    return A_TIMEOUT;
}

/* One attempt: send the request on c and read the answer. */
static int attempt(h1pool_t *p, h1conn_t *c, const h1call_t *call, h1_response_t *resp,
                   long long deadline, char *msg, size_t msglen) {
    size_t off = 0, got = 0;
    int reused = c->requests > 0;
    p->in.len = 0;
    while (off < call->out_len) {
        size_t sent = 0;
        CURLcode rc = curl_easy_send(c->curl, call->out + off, call->out_len - off, &sent);
        if (rc == CURLE_OK) {
            off += sent;
        } else if (rc == CURLE_AGAIN) {
            if (!wait_fd(c->fd, POLLOUT, deadline)) return timed_out(msg, msglen, call, 0);
        } else {
            if (reused) return A_STALE;
            set_msg(msg, msglen, "sending the request", rc, NULL);
            return A_FAIL;
        }
    }
    /* Plain TCP: the answer cannot be there yet, so wait before reading rather than
     * spend a read on EAGAIN (one system call less per request). TLS may hold decrypted
     * bytes in user space that poll cannot see, so it reads first. */
    if (strncmp(call->key, "http://", 7) == 0 && !wait_fd(c->fd, POLLIN, deadline))
        return timed_out(msg, msglen, call, 0);
    for (;;) {
        size_t n = 0, used = 0;
        CURLcode rc;
        int st;
        if (!membuf_reserve(&p->in, RECV_CHUNK)) {
            snprintf(msg, msglen, "out of memory");
            return A_FAIL;
        }
        rc = curl_easy_recv(c->curl, p->in.data + p->in.len, p->in.cap - p->in.len - 1, &n);
        if (rc == CURLE_AGAIN) {
            if (!wait_fd(c->fd, POLLIN, deadline)) return timed_out(msg, msglen, call, got);
            continue;
        }
        if (rc != CURLE_OK) {
            if (reused && got == 0) return A_STALE;
            set_msg(msg, msglen, "receiving the response", rc, NULL);
            return A_FAIL;
        }
        if (n == 0) { /* the server closed the connection */
            if (reused && got == 0) return A_STALE;
            st = h1_eof(resp);
            if (st == H1_DONE) return A_OK;
            snprintf(msg, msglen, "%s", resp->error);
            return A_FAIL;
        }
        got += n;
        p->in.len += n;
        st = h1_parse(resp, p->in.data, p->in.len, &used);
        membuf_consume(&p->in, used);
        if (st == H1_DONE) {
            /* bytes beyond the answer mean the two sides disagree on framing: never reuse */
            if (p->in.len > 0) resp->keep_alive = 0;
            return A_OK;
        }
        if (st == H1_TOO_LARGE) return A_TOO_LARGE;
        if (st == H1_ERROR) {
            snprintf(msg, msglen, "invalid HTTP response: %s", resp->error);
            return A_FAIL;
        }
    }
}

int h1pool_request(h1pool_t *p, const h1call_t *call, h1_response_t *resp, char *msg, size_t msglen) {
    long long deadline = now_ms() + call->timeout_ms;
    h1conn_t *c = conn_for(p, call->key);
    int tries, r = A_FAIL;
    size_t max_body = resp->max_body;
    msg[0] = '\0';
    if (c == NULL) {
        snprintf(msg, msglen, "out of memory");
        return H1K_NETWORK;
    }
    for (tries = 0; tries < 2; tries++) {
        if (c->curl == NULL) {
            r = conn_open(c, call, deadline, msg, msglen);
            if (r != A_OK) break;
        }
        h1_reset(resp, call->head, max_body);
        r = attempt(p, c, call, resp, deadline, msg, msglen);
        if (r == A_OK) {
            c->requests++;
            if (!resp->keep_alive) conn_close(c);
            return H1K_OK;
        }
        conn_close(c); /* after any failure the connection's state is unknown */
        if (r != A_STALE) break;
        /* a kept connection the server had closed: once more on a new one */
    }
    if (r == A_STALE) snprintf(msg, msglen, "the server closed the connection twice before answering");
    return r == A_TIMEOUT ? H1K_TIMEOUT : r == A_TOO_LARGE ? H1K_TOO_LARGE : H1K_NETWORK;
}
