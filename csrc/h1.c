/* h1.c: the HTTP/1.1 response parser (see h1.h). Strict where the framing is at stake
 * (status line, Content-Length, chunk sizes), lenient where it is harmless (bare LF line
 * ends, unknown headers, chunk extensions). Every byte is looked at a bounded number of
 * times however the answer is cut into pieces, so a peer that trickles its head costs
 * linear time. */
#include <string.h>

#include "h1.h"

enum { S_HEAD, S_LENGTH, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_END, S_TRAILERS, S_UNTIL_CLOSE, S_DONE };

#define MAX_LINE 8192 /* a trailer line */

static void head_scan_reset(h1_response_t *r) {
    r->scan = 0;
    r->line_start = 0;
    r->fields = 0;
}

void h1_reset(h1_response_t *r, int head_request, size_t max_body) {
    r->state = S_HEAD;
    r->status = 0;
    head_scan_reset(r);
    r->head_total = 0;
    r->framing = 0;
    r->keep_alive = 0;
    r->head = head_request;
    r->remaining = 0;
    r->max_body = max_body;
    r->headers.len = 0;
    r->body.len = 0;
    r->error = NULL;
}

void h1_free(h1_response_t *r) {
    membuf_free(&r->headers);
    membuf_free(&r->body);
}

int h1_started(const h1_response_t *r) {
    return r->state != S_HEAD || r->status != 0;
}

static int fail(h1_response_t *r, const char *why) {
    r->error = why;
    return H1_ERROR;
}

static int lower(int c) {
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

/* Whether the header name n[0..nl) equals the lower-case name want. */
static int name_is(const char *n, size_t nl, const char *want) {
    size_t i;
    for (i = 0; i < nl; i++)
        if (want[i] == '\0' || lower((unsigned char)n[i]) != want[i]) return 0;
    return want[nl] == '\0';
}

/* The same for a literal want, its length compared first: most names are none of the few
 * asked for, and most differ from them in length. */
#define NAME_IS(n, nl, lit) ((nl) == sizeof(lit) - 1 && name_is(n, nl, lit))

/* Whether the comma-separated list v[0..vl) holds the token want (lower case). */
static int has_token(const char *v, size_t vl, const char *want) {
    size_t i = 0, wl = strlen(want);
    while (i < vl) {
        size_t s, e;
        while (i < vl && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
        s = i;
        while (i < vl && v[i] != ',') i++;
        e = i;
        while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
        if (e - s == wl) {
            size_t k;
            for (k = 0; k < wl && lower((unsigned char)v[s + k]) == want[k]; k++) {}
            if (k == wl) return 1;
        }
    }
    return 0;
}

/* The last coding of a Transfer-Encoding list is "chunked". */
static int last_is_chunked(const char *v, size_t vl) {
    const char *c = NULL;
    size_t i;
    while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
    for (i = vl; i > 0; i--) {
        if (v[i - 1] == ',') break;
    }
    c = v + i;
    while (c < v + vl && (*c == ' ' || *c == '\t')) c++;
    return (size_t)(v + vl - c) == 7 && has_token(c, 7, "chunked");
}

const char *h1_status_line(const char *p, size_t n, int *minor, int *status) {
    /* HTTP/1.x SP 3DIGIT [SP reason] */
    if (n < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9' || p[8] != ' ')
        return "malformed HTTP status line";
    *minor = p[7] - '0';
    if (p[9] < '1' || p[9] > '9' || p[10] < '0' || p[10] > '9' || p[11] < '0' || p[11] > '9')
        return "malformed HTTP status code";
    *status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (n > 12 && p[12] != ' ' && p[12] != '\r' && p[12] != '\n') return "malformed HTTP status line";
    if (*status > 599) return "HTTP status code out of range (100-599)";
    if (*status == 101) return "unexpected protocol switch (101)";
    return NULL;
}

/* Parses the header block in[0..n) (ending with its empty line). Sets status, framing and
 * keep_alive; for an interim 1xx answer, leaves the state at S_HEAD. */
static int parse_head(h1_response_t *r, const char *in, size_t n) {
    const char *p = in, *end = in + n, *eol;
    int minor, status, chunked = 0, te = 0, have_length = 0, conn_close = 0, conn_keep = 0;
    unsigned long long length = 0;
    const char *bad = h1_status_line(p, n, &minor, &status);

    if (bad) return fail(r, bad);
    if (status >= 100 && status < 200) return H1_MORE; /* interim: the real answer follows */

    eol = memchr(p, '\n', n);
    p = eol + 1;
    while (p < end) {
        const char *colon, *v, *ve, *le;
        size_t nl;
        eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL) eol = end;
        le = eol;
        if (le > p && le[-1] == '\r') le--;
        if (le == p) break; /* the empty line */
        if (*p == ' ' || *p == '\t') return fail(r, "obsolete folded header line");
        colon = memchr(p, ':', (size_t)(le - p));
        if (colon == NULL || colon == p) return fail(r, "malformed HTTP header line");
        nl = (size_t)(colon - p);
        v = colon + 1;
        ve = le;
        while (v < ve && (*v == ' ' || *v == '\t')) v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        if (NAME_IS(p, nl, "content-length")) {
            unsigned long long x = 0;
            const char *d = v;
            if (d == ve) return fail(r, "empty Content-Length");
            for (; d < ve; d++) {
                if (*d < '0' || *d > '9') return fail(r, "malformed Content-Length");
                if (x > (~0ULL - 9) / 10) return fail(r, "Content-Length too large");
                x = x * 10 + (unsigned)(*d - '0');
            }
            if (have_length && x != length) return fail(r, "conflicting Content-Length headers");
            have_length = 1;
            length = x;
        } else if (NAME_IS(p, nl, "transfer-encoding")) {
            te = 1;
            chunked = last_is_chunked(v, (size_t)(ve - v));
        } else if (NAME_IS(p, nl, "connection")) {
            if (has_token(v, (size_t)(ve - v), "close")) conn_close = 1;
            if (has_token(v, (size_t)(ve - v), "keep-alive")) conn_keep = 1;
        }
        p = eol + 1;
    }

    r->status = status;
    r->keep_alive = minor >= 1 ? !conn_close : (conn_keep && !conn_close);
    if (r->head || status == 204 || status == 304) {
        r->state = S_DONE;
    } else if (te) {
        /* Transfer-Encoding wins over Content-Length (RFC 9112 6.3); a coding other than
         * chunked last means the body runs to the end of the connection. */
        if (chunked) {
            r->state = S_CHUNK_SIZE;
        } else {
            r->state = S_UNTIL_CLOSE;
            r->keep_alive = 0;
        }
        if (have_length) r->keep_alive = 0;
    } else if (have_length) {
        if (length > r->max_body) return H1_TOO_LARGE;
        r->remaining = length;
        r->state = length ? S_LENGTH : S_DONE;
    } else {
        r->state = S_UNTIL_CLOSE;
        r->keep_alive = 0;
    }
    if (!membuf_add(&r->headers, in, n)) return fail(r, "out of memory");
    return H1_MORE;
}

static int add_body(h1_response_t *r, const char *p, size_t n) {
    if (n > r->max_body || r->body.len > r->max_body - n) return H1_TOO_LARGE;
    if (!membuf_add(&r->body, p, n)) return fail(r, "out of memory");
    return H1_MORE;
}

/* The end of the line starting at p (the index of its LF), or -1 when not complete. */
static long line_end(const char *p, size_t n) {
    const char *e = memchr(p, '\n', n);
    return e ? (long)(e - p) : -1;
}

/* Scans the pending head in[0..n) (n only grows between calls, from the same start) from
 * where the last call stopped: the index just past the empty line that ends it, 0 when
 * that has not come yet, or (size_t)-1 with r->error set when a limit is passed. Accepts
 * CRLF and bare LF line ends. */
static size_t head_end(h1_response_t *r, const char *in, size_t n) {
    size_t i = r->scan;
    while (i < n) {
        const char *nl = memchr(in + i, '\n', n - i);
        size_t e, len;
        if (nl == NULL) break;
        e = (size_t)(nl - in);
        len = e - r->line_start;
        if (len > H1_MAX_LINE) break;
        if (len == 0 || (len == 1 && in[r->line_start] == '\r')) {
            if (r->head_total + e + 1 > H1_MAX_HEADERS) break;
            return e + 1;
        }
        if (++r->fields > H1_MAX_FIELDS + 1) { /* the status line and the fields */
            r->error = "more than 500 header lines in the response";
            return (size_t)-1;
        }
        r->line_start = e + 1;
        i = e + 1;
    }
    r->scan = n;
    if (n - r->line_start > H1_MAX_LINE) {
        r->error = "response header line longer than 64 KiB";
        return (size_t)-1;
    }
    if (r->head_total + n > H1_MAX_HEADERS) {
        r->error = "response headers larger than 300 KiB";
        return (size_t)-1;
    }
    return 0;
}

int h1_parse(h1_response_t *r, const char *in, size_t len, size_t *used) {
    size_t pos = 0;
    int rc = H1_MORE;
    *used = 0;
    while (rc == H1_MORE) {
        const char *p = in + pos;
        size_t n = len - pos;
        switch (r->state) {
        case S_HEAD: {
            size_t e = head_end(r, p, n);
            if (e == (size_t)-1) return H1_ERROR;
            if (e == 0) goto out;
            head_scan_reset(r);
            r->head_total += e;
            rc = parse_head(r, p, e);
            pos += e;
            if (r->status == 0) r->status = -1; /* an interim answer was seen: started */
            break;
        }
        case S_LENGTH: {
            size_t take = n < r->remaining ? n : (size_t)r->remaining;
            if (take == 0) goto out;
            rc = add_body(r, p, take);
            pos += take;
            r->remaining -= take;
            if (r->remaining == 0 && rc == H1_MORE) r->state = S_DONE;
            break;
        }
        case S_CHUNK_SIZE: {
            long e = line_end(p, n);
            unsigned long long size = 0;
            size_t i;
            int digits = 0;
            if (e < 0) {
                if (n > H1_MAX_CHUNK_LINE) rc = fail(r, "chunk size line too long");
                goto out;
            }
            if ((size_t)e > H1_MAX_CHUNK_LINE) return fail(r, "chunk size line too long");
            /* framing beyond a fair share of the body is a peer wasting our time */
            r->framing += (unsigned long long)e + 1;
            if (r->framing > H1_MAX_HEADERS + 8ULL * r->body.len) return fail(r, "too much chunk framing for the body");
            for (i = 0; i < (size_t)e; i++) {
                int c = lower((unsigned char)p[i]), d;
                if (c >= '0' && c <= '9') d = c - '0';
                else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
                else break;
                if (size > (~0ULL >> 4)) return fail(r, "chunk size too large");
                size = size * 16 + (unsigned)d;
                digits++;
            }
            if (digits == 0) return fail(r, "malformed chunk size");
            /* after the digits only whitespace, a chunk extension (;...) or the CR */
            if (i < (size_t)e && p[i] != ';' && p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
                return fail(r, "malformed chunk size");
            pos += (size_t)e + 1;
            if (size == 0) {
                r->state = S_TRAILERS;
            } else {
                if (size > r->max_body || r->body.len > r->max_body - size) return H1_TOO_LARGE;
                r->remaining = size;
                r->state = S_CHUNK_DATA;
            }
            break;
        }
        case S_CHUNK_DATA: {
            size_t take = n < r->remaining ? n : (size_t)r->remaining;
            if (take == 0) goto out;
            rc = add_body(r, p, take);
            pos += take;
            r->remaining -= take;
            if (r->remaining == 0) r->state = S_CHUNK_END;
            break;
        }
        case S_CHUNK_END:
            if (n == 0) goto out;
            if (p[0] == '\n') {
                pos += 1;
            } else if (p[0] == '\r') {
                if (n < 2) goto out;
                if (p[1] != '\n') return fail(r, "chunk not followed by CRLF");
                pos += 2;
            } else {
                return fail(r, "chunk not followed by CRLF");
            }
            r->state = S_CHUNK_SIZE;
            break;
        case S_TRAILERS: {
            long e = line_end(p, n);
            if (e < 0) {
                if (n > MAX_LINE) rc = fail(r, "trailer line too long");
                goto out;
            }
            if ((size_t)e > MAX_LINE) return fail(r, "trailer line too long");
            r->head_total += (size_t)e + 1;
            if (r->head_total > H1_MAX_HEADERS) return fail(r, "response headers larger than 300 KiB");
            pos += (size_t)e + 1;
            if (e == 0 || (e == 1 && p[0] == '\r')) r->state = S_DONE;
            break;
        }
        case S_UNTIL_CLOSE:
            if (n == 0) goto out;
            rc = add_body(r, p, n);
            pos += n;
            break;
        case S_DONE:
            rc = H1_DONE;
            break;
        default:
            return fail(r, "parser in an unknown state");
        }
    }
out:
    *used = pos;
    return rc;
}

int h1_eof(h1_response_t *r) {
    if (r->state == S_UNTIL_CLOSE || r->state == S_DONE) {
        r->state = S_DONE;
        r->keep_alive = 0;
        return H1_DONE;
    }
    r->keep_alive = 0;
    return fail(r, h1_started(r) ? "connection closed before the response was complete"
                                 : "connection closed before any response");
}
