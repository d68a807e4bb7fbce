/* libFuzzer target: the HTTP/1.1 response parser. The first byte picks a split point and
 * whether the request was HEAD; the rest is what the server sent. Parsing the bytes whole
 * and in two pieces must agree, never crash or read outside the input, and a finished
 * answer's body must respect max_body. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../csrc/h1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds in[0..n) in pieces cut at `cut`, as a connection would; then the end of the
 * connection. Returns the final status code of h1_parse/h1_eof. */
static int run(h1_response_t *r, const char *in, size_t n, size_t cut) {
    membuf_t buf = {NULL, 0, 0};
    size_t fed = 0;
    int st = H1_MORE;
    while (st == H1_MORE && fed < n) {
        size_t take = fed < cut ? cut - fed : n - fed, used = 0;
        if (take == 0) take = n - fed;
        if (!membuf_add(&buf, in + fed, take)) __builtin_trap();
        fed += take;
        st = h1_parse(r, buf.data, buf.len, &used);
        if (used > buf.len) __builtin_trap();
        membuf_consume(&buf, used);
    }
    if (st == H1_MORE) st = h1_eof(r);
    membuf_free(&buf);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    h1_response_t a, b;
    int sa, sb;
    size_t cut;
    int head;
    if (size < 1) return 0;
    head = data[0] & 1;
    cut = size > 1 ? (size_t)(data[0] >> 1) % size : 0;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    h1_reset(&a, head, 4096);
    h1_reset(&b, head, 4096);
    sa = run(&a, (const char *)data + 1, size - 1, size - 1);
    sb = run(&b, (const char *)data + 1, size - 1, cut);
    if (sa != sb) __builtin_trap();
    if (sa == H1_DONE) {
        if (a.body.len > 4096 || a.status < 200 || a.status > 599) __builtin_trap();
        if (a.body.len != b.body.len || (a.body.len && memcmp(a.body.data, b.body.data, a.body.len) != 0))
            __builtin_trap();
    }
    if (sa == H1_ERROR && a.error == NULL) __builtin_trap();
    h1_free(&a);
    h1_free(&b);
    return 0;
}
