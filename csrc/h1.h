/* h1.h: an HTTP/1.1 response parser over bytes as they arrive: the status line, the header
 * block, and the body framed by Content-Length, chunked coding or the end of the
 * connection. No I/O and no Lua here, so it can be fuzzed on its own (fuzz/h1_fuzz.c). */
#ifndef ALIYUN_H1_H
#define ALIYUN_H1_H

#include <stddef.h>
#include "membuf.h"

enum { H1_MORE = 0, H1_DONE = 1, H1_ERROR = -1, H1_TOO_LARGE = -2 };

#define H1_MAX_HEADERS (1024 * 1024) /* no sane response has 1 MiB of headers */

typedef struct {
    int state;
    int status;       /* of the final response */
    int keep_alive;   /* the connection may carry another request after this response */
    int head;         /* the request was HEAD: no body follows the headers */
    unsigned long long remaining; /* body bytes (Content-Length) or chunk bytes left */
    size_t max_body;
    membuf_t headers; /* the final response's status line and header lines */
    membuf_t body;
    const char *error; /* why H1_ERROR (a static string) */
} h1_response_t;

/* Prepares r for a new response, keeping its buffers' memory. */
void h1_reset(h1_response_t *r, int head_request, size_t max_body);

/* Parses what it can of in[0..len) and sets *used to the bytes consumed (the caller drops
 * them). Returns H1_MORE (needs more bytes), H1_DONE, H1_ERROR (r->error says why) or
 * H1_TOO_LARGE (the body would pass max_body). */
int h1_parse(h1_response_t *r, const char *in, size_t len, size_t *used);

/* The peer closed the connection: H1_DONE when that ends the body (no framing given),
 * H1_ERROR when the response was cut short. */
int h1_eof(h1_response_t *r);

/* Whether any byte of the response has been parsed yet. */
int h1_started(const h1_response_t *r);

void h1_free(h1_response_t *r);

#endif
