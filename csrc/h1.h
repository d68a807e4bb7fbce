/* h1.h: an HTTP/1.1 response parser over bytes as they arrive: the status line, the header
 * block, and the body framed by Content-Length, chunked coding or the end of the
 * connection. No I/O and no Lua here, so it can be fuzzed on its own (fuzz/h1_fuzz.c). */
#ifndef ALIYUN_H1_H
#define ALIYUN_H1_H

#include <stddef.h>
#include "membuf.h"

enum { H1_MORE = 0, H1_DONE = 1, H1_ERROR = -1, H1_TOO_LARGE = -2 };

/* The same limits for every transport (the direct path, nginx cosockets, the emulator's
 * bytes): no sane API answer comes near them, and a hostile peer meets them before it can
 * cost memory or time. Interim (1xx) heads and trailers count towards H1_MAX_HEADERS. */
#define H1_MAX_HEADERS (300 * 1024) /* bytes of header block, all heads of one answer (libcurl's own limit) */
#define H1_MAX_LINE (64 * 1024)      /* bytes of one status or header line */
#define H1_MAX_FIELDS 500            /* header lines of one head */
#define H1_MAX_CHUNK_LINE 1024       /* a chunk-size line, extensions included */

#if defined(__GNUC__)
#define H1_API __attribute__((visibility("hidden")))
#else
#define H1_API
#endif

typedef struct {
    int state;
    int status;       /* of the final response */
    size_t scan;       /* bytes of the pending head already scanned */
    size_t line_start; /* where the pending head's current line starts */
    size_t fields;     /* lines of the pending head so far */
    size_t head_total; /* bytes of the heads (and trailers) of this answer */
    unsigned long long framing; /* bytes of chunk-size lines and trailers */
    int keep_alive;   /* the connection may carry another request after this response */
    int head;         /* the request was HEAD: no body follows the headers */
    unsigned long long remaining; /* body bytes (Content-Length) or chunk bytes left */
    size_t max_body;
    membuf_t headers; /* the final response's status line and header lines */
    membuf_t body;
    const char *error; /* why H1_ERROR (a static string) */
} h1_response_t;

/* Prepares r for a new response, keeping its buffers' memory. */
H1_API void h1_reset(h1_response_t *r, int head_request, size_t max_body);

/* Parses what it can of in[0..len) and sets *used to the bytes consumed (the caller drops
 * them). Returns H1_MORE (needs more bytes), H1_DONE, H1_ERROR (r->error says why) or
 * H1_TOO_LARGE (the body would pass max_body). */
H1_API int h1_parse(h1_response_t *r, const char *in, size_t len, size_t *used);

/* The peer closed the connection: H1_DONE when that ends the body (no framing given),
 * H1_ERROR when the response was cut short. */
H1_API int h1_eof(h1_response_t *r);

/* Whether any byte of the response has been parsed yet. */
H1_API int h1_started(const h1_response_t *r);

H1_API void h1_free(h1_response_t *r);

/* Checks a status line p[0..n) (its line end may follow): NULL, with *minor (the x of
 * HTTP/1.x) and *status (100-599, never 101) set, or why it is not acceptable. Shared
 * with libcurl's engine (curl.c), so both engines refuse the same status lines. */
H1_API const char *h1_status_line(const char *p, size_t n, int *minor, int *status);

#endif
