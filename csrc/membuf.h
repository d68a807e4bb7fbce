/* membuf.h: a growable byte buffer, always NUL-terminated after its contents, shared by
 * the HTTP code (libcurl callbacks, the HTTP/1.1 parser, request building). */
#ifndef ALIYUN_MEMBUF_H
#define ALIYUN_MEMBUF_H

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len, cap;
} membuf_t;

/* Makes room for n more bytes (plus the NUL); 0 when that cannot be had. */
static inline int membuf_reserve(membuf_t *m, size_t n) {
    size_t cap;
    char *d;
    if (n > (size_t)-1 - m->len - 1) return 0;
    if (m->len + n + 1 <= m->cap) return 1;
    cap = m->cap ? m->cap : 16384;
    while (cap < m->len + n + 1) {
        if (cap > ((size_t)-1) / 2) return 0;
        cap *= 2;
    }
    d = (char *)realloc(m->data, cap);
    if (d == NULL) return 0;
    m->data = d;
    m->cap = cap;
    return 1;
}

static inline int membuf_add(membuf_t *m, const char *p, size_t n) {
    if (!membuf_reserve(m, n)) return 0;
    if (n) memcpy(m->data + m->len, p, n);
    m->len += n;
    m->data[m->len] = '\0';
    return 1;
}

static inline int membuf_adds(membuf_t *m, const char *s) {
    return membuf_add(m, s, strlen(s));
}

/* Drops the first n bytes (consumed input), keeping the rest at the front. */
static inline void membuf_consume(membuf_t *m, size_t n) {
    if (n >= m->len) {
        m->len = 0;
    } else {
        memmove(m->data, m->data + n, m->len - n);
        m->len -= n;
    }
    if (m->data) m->data[m->len] = '\0';
}

static inline void membuf_free(membuf_t *m) {
    free(m->data);
    m->data = NULL;
    m->len = m->cap = 0;
}

#endif
