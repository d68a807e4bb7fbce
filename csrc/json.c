/* json.c: JSON text (RFC 8259) -> Lua values, in one pass, straight onto the Lua stack.
 *
 * Bad text gives nil plus "... at byte N", N counted from 1 like Lua string indices. The
 * parser unwinds by return codes, not longjmp, so that the message can be returned rather
 * than raised. Lua itself may still longjmp through here (out of memory), so nothing is
 * malloc'd: the one scratch area is a userdata parked in a stack slot below the result, which
 * the collector reclaims however the call ends. Pointers into the text stay valid because
 * the text is a Lua string on the stack (or a buffer its owner leaves alone meanwhile) and
 * Lua's collector never moves objects. */
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define NOINLINE
#define PRINTF_LIKE(f, a)
#endif

/* w * 10^e and w / 10^e are correctly rounded only when each operation is done in plain
 * double precision (not x87 extended); elsewhere every float goes through strtod. */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define FAST_FLOATS 1
#else
#define FAST_FLOATS 0
#endif

typedef struct {
    lua_State *L;
    const char *start; /* first byte of the text */
    const char *end;   /* one past its last byte */
    const char *p;     /* where the next value starts; each parser leaves it just past its value */
    int depth;
    int scratch_slot; /* the stack slot that anchors the scratch userdata */
    char *scratch; /* userdata in scratch_slot, or NULL until a string has an escape */
    size_t scratch_size;
    char err[160];
} decoder;

/* Bytes that end the fast scan of a string: '"', '\\' and the control characters that
 * RFC 8259 forbids unescaped. The rest of the table is zero. */
static const unsigned char STR_STOP[256] = {
    /* 0x00 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x10 */ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    /* 0x20 */ 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x30 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x40 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x50 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

/* Every power of ten up to 1e22 is exact in a double (5^22 < 2^53). */
static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int parse_value(decoder *d);

/* ------------------------------------------------------------------ errors */

static unsigned long long byte_at(const decoder *d, const char *p) {
    return (unsigned long long)(p - d->start) + 1;
}

PRINTF_LIKE(2, 3)
static NOINLINE int fail(decoder *d, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    return -1;
}

static NOINLINE int fail_at(decoder *d, const char *p) {
    unsigned char c;
    if (p >= d->end) return fail(d, "unexpected end of input at byte %llu", byte_at(d, d->end));
    c = (unsigned char)*p;
    if (c > 0x20 && c < 0x7f) return fail(d, "unexpected character '%c' at byte %llu", c, byte_at(d, p));
    return fail(d, "unexpected character 0x%02X at byte %llu", (unsigned)c, byte_at(d, p));
}

/* ------------------------------------------------------------------ helpers */

static const char *skip_ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

static int is_digit(char c) {
    return (unsigned char)(c - '0') < 10;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The scratch area only ever grows, so one decode allocates it O(log n) times at most. */
static char *get_scratch(decoder *d, size_t need) {
    if (need > d->scratch_size) {
        size_t size = d->scratch_size * 2;
        if (size < need) size = need;
        if (size < 256) size = 256;
        d->scratch = (char *)lua_newuserdata(d->L, size);
        d->scratch_size = size;
        lua_replace(d->L, d->scratch_slot);
    }
    return d->scratch;
}

/* ------------------------------------------------------------------ strings */

static char *put_utf8(char *o, unsigned long cp) {
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* Reads the 4 hex digits after "\u" at s. Returns the value, -1 if a digit is not hex,
 * -2 if the text ends first. */
static long read_hex4(const decoder *d, const char *s) {
    long v = 0;
    int i;
    for (i = 2; i < 6; i++) {
        int h;
        if (s + i >= d->end) return -2;
        h = hex_value(s[i]);
        if (h < 0) return -1;
        v = (v << 4) | h;
    }
    return v;
}

/* The string at d->p has an escape, a control character or no end; s is where the fast
 * scan stopped. Kept out of line so the common path stays small. */
static NOINLINE int parse_string_slow(decoder *d, const char *s) {
    const char *open = d->p, *end = d->end, *q;
    char *buf, *o;

    /* Size the scratch first: each escape decodes to no more bytes than it spells, so the
     * raw length up to the closing quote bounds the result. */
    for (q = s; q < end && *q != '"'; q++) {
        if (*q == '\\') {
            if (end - q < 2) break;
            q++;
        }
    }
    buf = get_scratch(d, (size_t)(q - open) + 4);
    o = buf;
    memcpy(o, open + 1, (size_t)(s - open - 1));
    o += s - open - 1;

    while (s < end) {
        unsigned char c = (unsigned char)*s;
        if (c == '"') {
            lua_pushlstring(d->L, buf, (size_t)(o - buf));
            d->p = s + 1;
            return 0;
        }
        if (c < 0x20)
            return fail(d, "control character 0x%02X in string at byte %llu", (unsigned)c, byte_at(d, s));
        if (c != '\\') {
            *o++ = (char)c;
            s++;
            continue;
        }
        if (end - s < 2) break;
        switch (s[1]) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            long cp = read_hex4(d, s), lo;
            if (cp == -2) goto unterminated;
            if (cp < 0) return fail(d, "invalid \\u escape at byte %llu", byte_at(d, s));
            if (cp >= 0xDC00 && cp <= 0xDFFF)
                return fail(d, "lone surrogate \\u%04lX at byte %llu", cp, byte_at(d, s));
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                /* Only a low surrogate escape right after completes the pair. */
                if (end - s < 12 || s[6] != '\\' || s[7] != 'u' || (lo = read_hex4(d, s + 6)) < 0xDC00 ||
                    lo > 0xDFFF)
                    return fail(d, "lone surrogate \\u%04lX at byte %llu", cp, byte_at(d, s));
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            }
            o = put_utf8(o, (unsigned long)cp);
            s += 6;
            continue;
        }
        default: {
            unsigned char e = (unsigned char)s[1];
            if (e > 0x20 && e < 0x7f)
                return fail(d, "invalid escape '\\%c' at byte %llu", e, byte_at(d, s));
            return fail(d, "invalid escape '\\' + 0x%02X at byte %llu", (unsigned)e, byte_at(d, s));
        }
        }
        s += 2;
    }
unterminated:
    return fail(d, "unterminated string at byte %llu", byte_at(d, open));
}

/* d->p is at the opening quote. Strings without escapes, the usual case, are pushed
 * straight from the text with no copy. */
static int parse_string(decoder *d) {
    const unsigned char *s = (const unsigned char *)d->p + 1;
    const unsigned char *end = (const unsigned char *)d->end;
    while (end - s >= 4) {
        if (STR_STOP[s[0]]) goto stop;
        if (STR_STOP[s[1]]) { s += 1; goto stop; }
        if (STR_STOP[s[2]]) { s += 2; goto stop; }
        if (STR_STOP[s[3]]) { s += 3; goto stop; }
        s += 4;
    }
    while (s < end && !STR_STOP[*s]) s++;
stop:
    if (s < end && *s == '"') {
        lua_pushlstring(d->L, d->p + 1, (size_t)((const char *)s - d->p - 1));
        d->p = (const char *)s + 1;
        return 0;
    }
    return parse_string_slow(d, (const char *)s);
}

/* ------------------------------------------------------------------ numbers */

static NOINLINE int bad_number(decoder *d, const char *tok) {
    return fail(d, "invalid number at byte %llu", byte_at(d, tok));
}

/* Any number the fast paths cannot convert exactly. strtod is correctly rounded, but the
 * decimal point it accepts depends on the locale; digits, 'e' and signs do not. So the
 * literal is respelled without a point, "12.5e-3" as "125e-4", and only that is given to
 * strtod. */
static NOINLINE int push_float_slow(decoder *d, const char *tok, const char *stop) {
    char local[128], *buf, *o;
    const char *p = tok;
    size_t len = (size_t)(stop - tok), room = len + 32;
    long long e10 = 0, fraction_digits = 0;
    int have_digit = 0;

    buf = room <= sizeof local ? local : get_scratch(d, room);
    o = buf;
    if (*p == '-') *o++ = *p++;
    for (; p < stop && is_digit(*p); p++) {
        if (have_digit || *p != '0') *o++ = *p, have_digit = 1;
    }
    if (p < stop && *p == '.') {
        for (p++; p < stop && is_digit(*p); p++) {
            fraction_digits++;
            if (have_digit || *p != '0') *o++ = *p, have_digit = 1;
        }
    }
    if (!have_digit) *o++ = '0';
    if (p < stop && (*p == 'e' || *p == 'E')) {
        int neg = 0;
        p++;
        if (*p == '+' || *p == '-') neg = *p++ == '-';
        /* Past 1e12 the result is 0 or infinity whatever the digits; saturating keeps
         * the arithmetic in range. */
        for (; p < stop && is_digit(*p); p++) {
            if (e10 < 1000000000000LL) e10 = e10 * 10 + (*p - '0');
        }
        if (neg) e10 = -e10;
    }
    e10 -= fraction_digits;
    snprintf(o, room - (size_t)(o - buf), "e%lld", e10);
    lua_pushnumber(d->L, (lua_Number)strtod(buf, NULL));
    return 0;
}

/* d->p is at '-' or a digit. Integer literals that fit int64 become integers (doubles under
 * LuaJIT); everything else becomes a correctly rounded double. */
static int parse_number(decoder *d) {
    const char *tok = d->p, *p = tok, *end = d->end;
    uint64_t w = 0;      /* the digits, point ignored */
    int exact = 1;       /* w holds all of them */
    int neg = 0, is_float = 0;
    long long e10 = 0, fraction_digits = 0;

    if (*p == '-') neg = 1, p++;
    if (p < end && *p == '0') {
        p++;
    } else if (p < end && is_digit(*p)) {
        do {
            unsigned dg = (unsigned)(*p++ - '0');
            /* 1844674407370955161 * 10 + 5 == UINT64_MAX: check before multiplying. */
            if (w < 1844674407370955161u || (w == 1844674407370955161u && dg <= 5))
                w = w * 10 + dg;
            else
                exact = 0;
        } while (p < end && is_digit(*p));
    } else {
        return bad_number(d, tok);
    }
    if (p < end && *p == '.') {
        is_float = 1;
        p++;
        if (p >= end || !is_digit(*p)) return bad_number(d, tok);
        do {
            unsigned dg = (unsigned)(*p++ - '0');
            if (w < 1844674407370955161u || (w == 1844674407370955161u && dg <= 5))
                w = w * 10 + dg;
            else
                exact = 0;
            fraction_digits++;
        } while (p < end && is_digit(*p));
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        is_float = 1;
        p++;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p >= end || !is_digit(*p)) return bad_number(d, tok);
        do {
            if (e10 < 1000000000000LL) e10 = e10 * 10 + (*p - '0');
            p++;
        } while (p < end && is_digit(*p));
        if (eneg) e10 = -e10;
    }
    /* "01", "1.2.3", "0x1F", "1e5e5", "1_000", "-Infinity": the token runs on, so the
     * whole of it is the bad number, not the byte after a valid-looking prefix. */
    if (p < end && (is_digit(*p) || *p == '.' || *p == '+' || *p == '-' || *p == '_' ||
                    ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')))
        return bad_number(d, tok);
    d->p = p;

    if (!is_float && exact) {
        if (!neg && w <= (uint64_t)INT64_MAX) {
            aliyun_pushint64(d->L, (int64_t)w);
            return 0;
        }
        if (neg && w <= (uint64_t)INT64_MAX + 1) {
            /* -(int64_t)w would overflow for INT64_MIN itself. */
            aliyun_pushint64(d->L, w == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)w);
            return 0;
        }
    }
#if FAST_FLOATS
    if (exact) {
        e10 -= fraction_digits;
        if (w == 0) {
            lua_pushnumber(d->L, neg ? -0.0 : 0.0);
            return 0;
        }
        /* Both operands exact, so the one rounding is IEEE's and matches strtod (Clinger). */
        if (w <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
            double v = (double)w;
            v = e10 < 0 ? v / POW10[-e10] : v * POW10[e10];
            lua_pushnumber(d->L, (lua_Number)(neg ? -v : v));
            return 0;
        }
    }
#else
    (void)fraction_digits;
#endif
    return push_float_slow(d, tok, p);
}

/* ------------------------------------------------------------------ structure */

static int parse_literal(decoder *d, const char *word, size_t n) {
    const char *p = d->p;
    size_t i;
    for (i = 0; i < n; i++) {
        if (p + i >= d->end || p[i] != word[i]) return fail_at(d, p + i);
    }
    d->p = p + n;
    return 0;
}

/* Entering an array or object: depth is bounded, and Lua's stack grown to hold the table,
 * a key and a value, so deep input is an error message, never an overflow. */
/* Up to STAGED entries of an array or object wait on the stack, and the table is made when
 * the container ends (or the count is reached) with the size it needs: filling a table
 * key by key resized it at 1, 2, 4, ... entries, which was a third of decoding small
 * answers. */
#define STAGED 32

static int enter(decoder *d) {
    if (++d->depth > ALIYUN_JSON_MAX_DEPTH)
        return fail(d, "nesting deeper than %d at byte %llu", ALIYUN_JSON_MAX_DEPTH, byte_at(d, d->p));
    return 0;
}

/* Room for n more stack slots, or a failure (never a raised error). */
static int room(decoder *d, int n) {
    if (!lua_checkstack(d->L, n)) return fail(d, "JSON too deeply nested for the Lua stack at byte %llu", byte_at(d, d->p));
    return 0;
}

/* Makes the table for the n staged items above stack index base (sized for at least
 * `size` of them), fills it, and leaves it at base + 1. */
static void flush_array(lua_State *L, int base, int n, int size) {
    int i;
    lua_createtable(L, size, 0);
    lua_insert(L, base + 1);
    for (i = n; i >= 1; i--) lua_rawseti(L, base + 1, i); /* pops the top: item i */
}

/* Likewise for n staged key/value pairs: set in order, so a repeated key keeps its last
 * value as before. */
static void flush_object(lua_State *L, int base, int n, int size) {
    int i;
    lua_createtable(L, 0, size);
    for (i = 0; i < n; i++) {
        lua_pushvalue(L, base + 1 + 2 * i);
        lua_pushvalue(L, base + 2 + 2 * i);
        lua_rawset(L, -3);
    }
    if (n > 0) {
        lua_replace(L, base + 1); /* the table over the first key; the rest go */
        lua_settop(L, base + 1);
    }
}

static int parse_array(decoder *d) {
    lua_State *L = d->L;
    const char *p;
    int n = 0, base = lua_gettop(L), made = 0;
    if (enter(d)) return -1;
    p = skip_ws(d->p + 1, d->end);
    if (p < d->end && *p == ']') goto done;
    for (;;) {
        d->p = p;
        if (room(d, 3) || parse_value(d)) return -1;
        /* lua_rawseti takes an int index under the 5.1 API. */
        if (n == INT_MAX) return fail(d, "array too long at byte %llu", byte_at(d, p));
        n++;
        if (made) {
            lua_rawseti(L, base + 1, n);
        } else if (n == STAGED) {
            flush_array(L, base, n, 2 * STAGED);
            made = 1;
        }
        p = skip_ws(d->p, d->end);
        if (p < d->end && *p == ',') {
            p++;
            continue;
        }
        if (p < d->end && *p == ']') break;
        return fail_at(d, p);
    }
done:
    if (!made) flush_array(L, base, n, n);
    d->p = p + 1;
    d->depth--;
    return 0;
}

static int parse_object(decoder *d) {
    lua_State *L = d->L;
    const char *p;
    int n = 0, base = lua_gettop(L), made = 0;
    if (enter(d)) return -1;
    p = skip_ws(d->p + 1, d->end);
    if (p < d->end && *p == '}') goto done;
    for (;;) {
        if (p >= d->end || *p != '"') return fail_at(d, p);
        d->p = p;
        if (room(d, 4) || parse_string(d)) return -1;
        p = skip_ws(d->p, d->end);
        if (p >= d->end || *p != ':') return fail_at(d, p);
        d->p = p + 1;
        if (parse_value(d)) return -1;
        if (made) {
            lua_rawset(L, base + 1);
        } else if (++n == STAGED) {
            flush_object(L, base, n, 2 * STAGED);
            made = 1;
        }
        p = skip_ws(d->p, d->end);
        if (p < d->end && *p == ',') {
            p = skip_ws(p + 1, d->end);
            continue;
        }
        if (p < d->end && *p == '}') break;
        return fail_at(d, p);
    }
done:
    if (!made) flush_object(L, base, n, n);
    d->p = p + 1;
    d->depth--;
    return 0;
}

static int parse_value(decoder *d) {
    const char *p = skip_ws(d->p, d->end);
    d->p = p;
    if (p >= d->end) return fail_at(d, p);
    switch (*p) {
    case '"': return parse_string(d);
    case '{': return parse_object(d);
    case '[': return parse_array(d);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return parse_number(d);
    case 't':
        if (parse_literal(d, "true", 4)) return -1;
        lua_pushboolean(d->L, 1);
        return 0;
    case 'f':
        if (parse_literal(d, "false", 5)) return -1;
        lua_pushboolean(d->L, 0);
        return 0;
    case 'n':
        if (parse_literal(d, "null", 4)) return -1;
        /* The same sentinel as cjson.null and ngx.null, so results mix freely. */
        lua_pushlightuserdata(d->L, NULL);
        return 0;
    default:
        return fail_at(d, p);
    }
}

/* Decodes text[0..len) and pushes the value, or nil and the message. The text must stay
 * valid and unchanged while this runs, even if a collection runs finalizers: a Lua string
 * on the stack, or a buffer its owner does not touch meanwhile. One stack slot below the
 * result anchors the scratch area and is removed before returning. */
int aliyun_json_decode(lua_State *L, const char *text, size_t len) {
    decoder d;
    lua_pushnil(L); /* the scratch slot */
    d.L = L;
    d.start = text;
    d.end = text + len;
    d.p = text;
    d.depth = 0;
    d.scratch_slot = lua_gettop(L);
    d.scratch = NULL;
    d.scratch_size = 0;
    d.err[0] = '\0';
    if (parse_value(&d) == 0) {
        const char *p = skip_ws(d.p, d.end);
        if (p == d.end) {
            lua_remove(L, d.scratch_slot);
            return 1;
        }
        fail(&d, "trailing garbage at byte %llu", byte_at(&d, p));
    }
    lua_settop(L, d.scratch_slot - 1);
    lua_pushnil(L);
    lua_pushstring(L, d.err);
    return 2;
}

int aliyun_l_json_decode(lua_State *L) {
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    lua_settop(L, 1); /* the string stays in slot 1 while the decoder points into it */
    return aliyun_json_decode(L, text, len);
}
