/* h1conn.c: requests over the kept connections of a pool (see h1conn.h). */
#include <stdio.h>
#include <string.h>

#include "h1conn.h"
#include "interrupt.h"

#define RECV_CHUNK 16384

/* Outcomes of one attempt on a connection. */
enum { A_OK, A_FAIL, A_TIMEOUT, A_TOO_LARGE, A_STALE };

static void h1conn_close(h1conn_t *c) {
    conn_close(&c->conn);
    c->requests = 0;
}

void h1pool_free(h1pool_t *p) {
    int i;
    for (i = 0; i < H1CONN_MAX; i++) {
        h1conn_close(&p->conn[i]);
        free(p->conn[i].key);
        p->conn[i].key = NULL;
    }
    conn_tls_free(&p->tls);
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
    h1conn_close(c);
    free(c->key);
    c->key = strdup(key);
    if (c->key == NULL) return NULL;
    c->used = ++p->tick;
    return c;
}

/* Opens c's connection (TCP, and TLS for https) within the connect timeout and the time
 * left of the request. */
static int h1conn_open(h1pool_t *p, h1conn_t *c, const h1call_t *call, long long deadline, char *msg,
                       size_t msglen) {
    int r = conn_open(&c->conn, &p->tls, call->key, call->verify_tls, call->ca_file,
                      conn_now_ms() + call->connect_timeout_ms, deadline, msg, msglen);
    c->requests = 0;
    return r == CONN_OK ? A_OK : r == CONN_TIMEOUT ? A_TIMEOUT : A_FAIL;
}

static int timed_out(char *msg, size_t msglen, const h1call_t *call, size_t got) {
    if (aliyun_interrupt_pending()) {
        snprintf(msg, msglen, "interrupted (Ctrl-C) with %lu bytes received", (unsigned long)got);
        return A_TIMEOUT;
    }
    snprintf(msg, msglen, "Operation timed out after %ld milliseconds with %lu bytes received (Timeout was reached)",
             call->timeout_ms, (unsigned long)got);
    return A_TIMEOUT;
}

/* A kept connection that the server closed while it was idle: it says so with an end of
 * stream (or a TLS alert) already waiting. Seen before anything is written, it proves the
 * request was never delivered, so a new connection is opened for it. Looked at only after
 * an idle spell: calls back to back (no server closes a connection idle for less than
 * IDLE_CHECK_MS) spare the system call. */
#define IDLE_CHECK_MS 200
static void drop_if_closed(h1conn_t *c) {
    if (c->conn.open && conn_now_ms() - c->last_ms >= IDLE_CHECK_MS && !conn_idle_ok(&c->conn)) h1conn_close(c);
}

static const char *closed_unanswered(int reused) {
    return reused ? "the server closed the kept connection without answering (the request may have reached it)"
                  : "connection closed before any response";
}

/* One attempt: send the request on c and read the answer. *sent says whether any byte of
 * the request was written. */
static int attempt(h1pool_t *p, h1conn_t *c, const h1call_t *call, h1_response_t *resp,
                   long long deadline, int *sent, char *msg, size_t msglen) {
    size_t off = 0, got = 0;
    int reused = c->requests > 0;
    p->in.len = 0;
    while (off < call->out_len) {
        size_t n = 0;
        int rc = conn_send(&c->conn, call->out + off, call->out_len - off, &n, msg, msglen);
        if (rc == CONN_OK) {
            off += n;
            if (n > 0) *sent = 1;
        } else if (rc == CONN_WANT_READ || rc == CONN_WANT_WRITE) {
            if (!conn_wait(&c->conn, rc, deadline)) return timed_out(msg, msglen, call, 0);
        } else {
            return reused ? A_STALE : A_FAIL;
        }
    }
    /* Plain TCP: the answer cannot be there yet, so wait before reading rather than
     * spend a read on EAGAIN (one system call less per request). TLS may hold decrypted
     * bytes in user space that poll cannot see, so it reads first. */
    if (c->conn.ssl == NULL && !conn_wait(&c->conn, CONN_WANT_READ, deadline))
        return timed_out(msg, msglen, call, 0);
    for (;;) {
        size_t n = 0, used = 0;
        int rc, st;
        if (!membuf_reserve(&p->in, RECV_CHUNK)) {
            snprintf(msg, msglen, "out of memory");
            return A_FAIL;
        }
        rc = conn_recv(&c->conn, p->in.data + p->in.len, p->in.cap - p->in.len - 1, &n, msg, msglen);
        if (rc == CONN_WANT_READ || rc == CONN_WANT_WRITE) {
            if (!conn_wait(&c->conn, rc, deadline)) return timed_out(msg, msglen, call, got);
            continue;
        }
        if (rc != CONN_OK) return reused && got == 0 ? A_STALE : A_FAIL;
        if (n == 0) { /* the server closed the connection */
            if (got == 0) {
                snprintf(msg, msglen, "%s", closed_unanswered(reused));
                return reused ? A_STALE : A_FAIL;
            }
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

int h1pool_request(h1pool_t *p, const h1call_t *call, h1_response_t *resp, int *sent, char *msg, size_t msglen) {
    long long deadline = conn_now_ms() + call->timeout_ms;
    h1conn_t *c = conn_for(p, call->key);
    int r = A_FAIL, tries;
    *sent = 0;
    msg[0] = '\0';
    if (c == NULL) {
        snprintf(msg, msglen, "out of memory");
        return H1K_NETWORK;
    }
    /* A kept connection the server closed while idle is replaced before anything is
     * written on it. One that dies after the request was written, before any answer, may
     * have delivered it: the request goes again on a new connection only when the caller
     * said it is idempotent (safe to repeat, and repeats allowed); otherwise whatever
     * happened is the caller's to judge. */
    drop_if_closed(c);
    for (tries = 0; tries < 2; tries++) {
        if (!c->conn.open) {
            r = h1conn_open(p, c, call, deadline, msg, msglen);
            if (r != A_OK) break;
        }
        h1_reset(resp, call->head, resp->max_body);
        r = attempt(p, c, call, resp, deadline, sent, msg, msglen);
        if (r == A_OK) {
            c->requests++;
            c->last_ms = conn_now_ms();
            if (!resp->keep_alive) h1conn_close(c);
            return H1K_OK;
        }
        h1conn_close(c); /* after any failure the connection's state is unknown */
        if (r != A_STALE || !call->idempotent) break;
    }
    if (r == A_STALE && strstr(msg, closed_unanswered(1)) == NULL) {
        char why[512];
        snprintf(why, sizeof why, "%s", msg);
        snprintf(msg, msglen, "the kept connection failed before any answer (the request may have reached the server): %s", why);
    }
    return r == A_TIMEOUT ? H1K_TIMEOUT : r == A_TOO_LARGE ? H1K_TOO_LARGE : H1K_NETWORK;
}
