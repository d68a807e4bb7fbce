/* sign.c: percent-encoding, canonical strings and signatures for Alibaba Cloud RPC APIs.
 *
 * Signing runs once per request, so the hot paths make no per-byte function calls and no
 * per-call allocations beyond the result strings. Each Lua state has one signing state (a
 * full userdata kept in the registry): a scratch buffer and a pair array that grow as
 * needed, the digests fetched once, one digest context, and for SHA-1 and for SHA-256 the
 * HMAC inner and outer digest states of the last key used, so signing again with the same
 * secret skips the key schedule. The state is per Lua state, never a C static, so Lua
 * states in different threads share nothing.
 *
 * Memory discipline: Lua errors longjmp, so malloc'd memory is only ever owned by the
 * signing state, whose __gc frees it (and cleanses the cached key). Pointers into Lua
 * strings stay valid while the strings are reachable (the parameter tables are on the
 * stack); between collecting such pointers and their last use nothing allocates Lua
 * memory, so no collection step and no finalizer can run in between. Results are pushed
 * from the scratch buffer, and a push may run a finalizer that signs too: while results
 * are pushed the state is out of the registry (anchored on this call's stack), so a nested
 * call builds its own and cannot overwrite this one's scratch. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <time.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

/* For SHA1_Init and friends, deprecated since OpenSSL 3.0: see hmac_key_t. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "sign.h"

/* ------------------------------------------------------------------ encoding */

static const char HEX_LOWER[] = "0123456789abcdef";

/* RFC 3986 unreserved bytes, which percent-encoding keeps: A-Z a-z 0-9 - _ . ~ */
#define UNRESERVED(c) \
    (((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z') || ((c) >= '0' && (c) <= '9') || (c) == '-' || \
     (c) == '_' || (c) == '.' || (c) == '~')
#define HEXU(n) ((n) < 10 ? '0' + (n) : 'A' + (n)-10)

/* The tables below are written out by the preprocessor, one entry per byte value. */
#define TABLE4(E, c) E(c), E((c) + 1), E((c) + 2), E((c) + 3)
#define TABLE16(E, c) TABLE4(E, c), TABLE4(E, (c) + 4), TABLE4(E, (c) + 8), TABLE4(E, (c) + 12)
#define TABLE64(E, c) TABLE16(E, c), TABLE16(E, (c) + 16), TABLE16(E, (c) + 32), TABLE16(E, (c) + 48)
#define TABLE256(E) TABLE64(E, 0), TABLE64(E, 64), TABLE64(E, 128), TABLE64(E, 192)

/* For the canonical query, every byte encoded once and encoded twice (the encoding of
 * the encoding, where the '%' of %XX becomes %25), as bytes to copy and their lengths.
 * The copies are always 4 and 8 bytes long, so the loops below have no branch per byte;
 * the bytes beyond the length are overwritten by what comes next. */
typedef struct {
    char once[4], twice[8];
    unsigned char once_len, twice_len, unused[2]; /* 16 bytes */
} enc_t;
#define ENC_ENTRY(c)                                                                                   \
    {{UNRESERVED(c) ? (char)(c) : '%', (char)HEXU((c) >> 4), (char)HEXU((c)&15), 0},                  \
     {UNRESERVED(c) ? (char)(c) : '%', '2', '5', (char)HEXU((c) >> 4), (char)HEXU((c)&15), 0, 0, 0}, \
     UNRESERVED(c) ? 1 : 3, UNRESERVED(c) ? 1 : 5, {0, 0}}
static const enc_t ENC[256] = {TABLE256(ENC_ENTRY)};

/* One byte of encode_to and encode_twice below. Everything is loaded before anything is
 * stored, so the compiler need not reload after a store that might alias. */
static inline char *enc_once(char *d, unsigned char c) {
    const enc_t *x = &ENC[c];
    uint32_t w;
    size_t n = x->once_len;
    memcpy(&w, x->once, 4);
    memcpy(d, &w, 4);
    return d + n;
}

static inline void enc_both(char **a, char **b, unsigned char c) {
    const enc_t *x = &ENC[c];
    uint32_t w1;
    uint64_t w2;
    size_t n1 = x->once_len, n2 = x->twice_len;
    memcpy(&w1, x->once, 4);
    memcpy(&w2, x->twice, 8);
    memcpy(*a, &w1, 4);
    memcpy(*b, &w2, 8);
    *a += n1;
    *b += n2;
}

/* Percent-encoding, in one of two forms: s encoded once at *a (every byte but the unreserved
 * ones becomes %XX, so UTF-8 text becomes %XX of its bytes), and, when twice is set, s
 * encoded twice at *b as well (the encoding of the encoding: the V1 string to sign). Both
 * pointers advance. *a needs room for 3 * n bytes, *b for 5 * n, each plus ENC_SLACK: a
 * store may run up to 7 bytes past what it means to write (never more, whichever path
 * below runs: the 16-byte stores only happen with 16 or more bytes of output still to
 * come), and the bytes beyond are overwritten by what comes next. */
#define ENC_SLACK 8

/* encode_gen is specialised by its constant `twice` only where it is inlined */
#if defined(__GNUC__) || defined(__clang__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

#if defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__))
#include <emmintrin.h>

/* A bit for each of the 16 bytes of v that is not unreserved. Ranges are tested with
 * signed compares after moving the range's low end to -128; letters of both cases at once,
 * since c | 0x20 is in a..z exactly for the letters. */
static inline unsigned reserved_mask(__m128i v) {
    __m128i l = _mm_or_si128(v, _mm_set1_epi8(0x20));
    __m128i alpha = _mm_cmplt_epi8(_mm_add_epi8(l, _mm_set1_epi8((char)(128 - 'a'))), _mm_set1_epi8(-128 + 26));
    __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(128 - '0'))), _mm_set1_epi8(-128 + 10));
    __m128i dash_dot = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(128 - '-'))), _mm_set1_epi8(-128 + 2));
    __m128i other = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('_')), _mm_cmpeq_epi8(v, _mm_set1_epi8('~')));
    __m128i keep = _mm_or_si128(_mm_or_si128(alpha, digit), _mm_or_si128(dash_dot, other));
    return (unsigned)_mm_movemask_epi8(keep) ^ 0xFFFFu;
}

/* Finds the next reserved byte 16 bytes at a time and copies the unreserved run before it
 * with one 16-byte store (or two overlapping 8- or 4-byte ones near the end of s, which is
 * never read past), then encodes the run of reserved bytes that follows from the same mask. */
static ALWAYS_INLINE void encode_gen(char **pa, char **pb, const char *s, size_t n, int twice) {
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    char *a = *pa, *b = twice ? *pb : NULL;
    for (;;) {
        size_t left = (size_t)(e - p);
        unsigned m, t, r;
        if (left >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            m = reserved_mask(v);
            _mm_storeu_si128((__m128i *)(void *)a, v);
            if (twice) _mm_storeu_si128((__m128i *)(void *)b, v);
            if (m == 0) {
                a += 16;
                if (twice) b += 16;
                p += 16;
                continue;
            }
        } else if (left >= 8) {
            uint64_t lo, hi;
            memcpy(&lo, p, 8);
            memcpy(&hi, p + left - 8, 8);
            m = reserved_mask(_mm_set_epi64x((long long)hi, (long long)lo));
            m = (m & 0xFFu) | (m >> 8 << (left - 8)); /* hi's bits where its bytes are */
            memcpy(a, &lo, 8);
            memcpy(a + left - 8, &hi, 8);
            if (twice) {
                memcpy(b, &lo, 8);
                memcpy(b + left - 8, &hi, 8);
            }
        } else if (left >= 4) {
            uint32_t lo, hi;
            memcpy(&lo, p, 4);
            memcpy(&hi, p + left - 4, 4);
            m = reserved_mask(_mm_set_epi32(0, 0, (int)hi, (int)lo));
            m = (m & 0xFu) | ((m >> 4 & 0xFu) << (left - 4));
            memcpy(a, &lo, 4);
            memcpy(a + left - 4, &hi, 4);
            if (twice) {
                memcpy(b, &lo, 4);
                memcpy(b + left - 4, &hi, 4);
            }
        } else {
            for (; p < e; p++) {
                if (twice)
                    enc_both(&a, &b, *p);
                else
                    a = enc_once(a, *p);
            }
            break;
        }
        if (m == 0) { /* the rest of s, copied above */
            a += left;
            if (twice) b += left;
            break;
        }
        t = (unsigned)__builtin_ctz(m); /* unreserved bytes before the next reserved one */
        a += t;
        if (twice) b += t;
        p += t;
        r = (unsigned)__builtin_ctz(~(m >> t)); /* reserved bytes in a row, at least one */
        do {
            if (twice)
                enc_both(&a, &b, *p);
            else
                a = enc_once(a, *p);
            p++;
        } while (--r);
    }
    *pa = a;
    if (twice) *pb = b;
}

#else /* portable: runs of eight unreserved bytes are copied whole */

/* 1 for the unreserved bytes. Eight lookups and-ed together tell whether a run of eight
 * bytes can be copied as it is, which most of a request's bytes can. */
#define IS_UNRESERVED(c) (UNRESERVED(c) ? 1 : 0)
static const unsigned char UNRESERVED_BYTE[256] = {TABLE256(IS_UNRESERVED)};

static inline int unreserved8(const unsigned char *p) {
    const unsigned char *u = UNRESERVED_BYTE;
    return u[p[0]] & u[p[1]] & u[p[2]] & u[p[3]] & u[p[4]] & u[p[5]] & u[p[6]] & u[p[7]];
}

static ALWAYS_INLINE void encode_gen(char **pa, char **pb, const char *s, size_t n, int twice) {
    const unsigned char *p = (const unsigned char *)s, *e = p + n, *stop;
    char *a = *pa, *b = twice ? *pb : NULL;
    while (e - p >= 8) {
        if (unreserved8(p)) {
            memcpy(a, p, 8);
            a += 8;
            if (twice) {
                memcpy(b, p, 8);
                b += 8;
            }
            p += 8;
            continue;
        }
        for (stop = p + 8; p < stop; p++) {
            if (twice)
                enc_both(&a, &b, *p);
            else
                a = enc_once(a, *p);
        }
    }
    for (; p < e; p++) {
        if (twice)
            enc_both(&a, &b, *p);
        else
            a = enc_once(a, *p);
    }
    *pa = a;
    if (twice) *pb = b;
}
#endif

/* s percent-encoded at d; returns the end. d needs room for 3 * n bytes plus ENC_SLACK. */
static char *encode_to(char *d, const char *s, size_t n) {
    encode_gen(&d, NULL, s, n, 0);
    return d;
}

/* The same for a URL path, where '/' is kept too. */
static char *encode_path_to(char *d, const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    for (; p < e; p++) {
        if (*p == '/')
            *d++ = '/';
        else
            d = enc_once(d, *p);
    }
    return d;
}

/* One pass, two outputs: s encoded once at *once and encoded twice at *twice. *once needs
 * room for 3 * n bytes, *twice for 5 * n, each plus ENC_SLACK. Both pointers advance. */
static ALWAYS_INLINE void encode_twice(char **once, char **twice, const char *s, size_t n) {
    encode_gen(once, twice, s, n, 1);
}

/* Writes n bytes as 2 * n lower-case hex digits at d; returns the end. */
static char *hex_to(char *d, const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        *d++ = HEX_LOWER[p[i] >> 4];
        *d++ = HEX_LOWER[p[i] & 15];
    }
    return d;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Writes base64 of p (with padding, no newlines) at d: 4 * ceil(n / 3) bytes; returns the end. */
static char *base64_to(char *d, const unsigned char *p, size_t n) {
    size_t i;
    for (i = 0; i + 2 < n; i += 3) {
        unsigned long v = ((unsigned long)p[i] << 16) | ((unsigned long)p[i + 1] << 8) | p[i + 2];
        d[0] = B64[(v >> 18) & 63];
        d[1] = B64[(v >> 12) & 63];
        d[2] = B64[(v >> 6) & 63];
        d[3] = B64[v & 63];
        d += 4;
    }
    if (n - i == 1) {
        unsigned long v = (unsigned long)p[i] << 16;
        d[0] = B64[(v >> 18) & 63];
        d[1] = B64[(v >> 12) & 63];
        d[2] = '=';
        d[3] = '=';
        d += 4;
    } else if (n - i == 2) {
        unsigned long v = ((unsigned long)p[i] << 16) | ((unsigned long)p[i + 1] << 8);
        d[0] = B64[(v >> 18) & 63];
        d[1] = B64[(v >> 12) & 63];
        d[2] = B64[(v >> 6) & 63];
        d[3] = '=';
        d += 4;
    }
    return d;
}

/* ------------------------------------------------------------ signing state */

typedef struct {
    const char *k; /* the sort key: the name, or its encoded or lower-cased form */
    size_t kl;
    const char *v;
    size_t vl;
} pair_t;

/* A pair in sorted order: pfx is the first 8 bytes of its sort key, big-endian and
 * zero-padded, which decides most comparisons without touching the key. */
typedef struct {
    uint64_t pfx;
    const pair_t *p;
} sorted_t;

#define ALG_SHA1 0
#define ALG_SHA256 1
static const char *const ALG_NAME[2] = {"SHA-1", "SHA-256"};

/* The keyed HMAC states are plain SHA_CTX / SHA256_CTX structs, copied by assignment for
 * each MAC: with the EVP API every copy of a keyed state allocated (OpenSSL 3.0's
 * EVP_MD_CTX_copy_ex frees the target's provider context and duplicates the source's, two
 * mallocs and frees per signature) and went through the provider's dispatch. The low-level
 * functions run the same assembly (SHA-NI included); they are deprecated since 3.0 but
 * still there unless OpenSSL is built without deprecated APIs, and then the EVP states
 * are used instead. */
#if defined(OPENSSL_NO_DEPRECATED_3_0)
#define HMAC_PLAIN 0
#else
#define HMAC_PLAIN 1
typedef union {
    SHA_CTX sha1;
    SHA256_CTX sha256;
} sha_state_t;
#endif

typedef struct {
    char *key;         /* a copy of the key the two states below were made from; NULL: none */
    size_t keylen;
#if HMAC_PLAIN
    sha_state_t inner; /* the digest after absorbing key ^ ipad */
    sha_state_t outer; /* the digest after absorbing key ^ opad */
#else
    EVP_MD_CTX *inner;
    EVP_MD_CTX *outer;
#endif
} hmac_key_t;

typedef struct {
    char *buf; /* scratch for the strings being built */
    size_t cap;
    pair_t *pairs;
    sorted_t *order;      /* the pairs, sorted */
    size_t npairs;        /* room in both */
    const EVP_MD *md[2];
    int md_fetched[2]; /* md[i] came from EVP_MD_fetch and must be freed */
    EVP_MD_CTX *work;
    hmac_key_t hmac[2];
    /* random bytes for nonces, drawn from the system's RNG a block at a time (one call per
     * nonce cost more than the rest of a V1 signature); refilled in a forked child, which
     * must never hand out its parent's bytes (nginx forks its workers after init) */
    unsigned char rnd[512];
    size_t rnd_left;
    unsigned long rnd_forks; /* fork_generation() when the reserve was filled */
    /* the last Timestamp written and its second: calls in the same second reuse it
     * (gmtime_r was a tenth of a V1 signature's own work) */
    time_t ts_second;
    char ts_text[32];
} sign_state_t;

/* Forks of this process so far, counted by a pthread_atfork child handler (a getpid()
 * per nonce was a system call per request). When a closing Lua state unloads core.so,
 * glibc drops the handlers the library registered (musl never unloads libraries), so no
 * fork calls into unmapped code; a later load registers again. Should registering fail,
 * the process id is compared instead. */
static volatile unsigned long fork_count = 1;
static int fork_watch_failed = 0;
static pthread_once_t fork_watch_once = PTHREAD_ONCE_INIT;
static void count_fork(void) {
    fork_count++;
}
static void watch_forks(void) {
    fork_watch_failed = pthread_atfork(NULL, NULL, count_fork) != 0;
}

/* A number that changes in every forked child: the fork count, or the process id. */
static unsigned long fork_generation(void) {
    pthread_once(&fork_watch_once, watch_forks);
    return fork_watch_failed ? (unsigned long)getpid() : fork_count;
}

#define STATE_MT "aliyun.sign.state"
static char STATE_KEY;              /* its address is the state's key in the registry */
#define SCRATCH_MIN 1024
#define SCRATCH_KEEP (256 * 1024)   /* a larger scratch is given back when a call needs less */
#define PAIRS_KEEP 4096             /* likewise for the pair array */
#define HMAC_KEY_CACHE_MAX 1024     /* longer keys are not kept for reuse */
#define HMAC_BLOCK_MAX 128
/* Limits on input sizes so that the bounds computed below cannot overflow size_t. */
#define INPUT_MAX (SIZE_MAX / 16)
#define PAIRS_MAX (SIZE_MAX / 16 / sizeof(pair_t))

static void forget_key(hmac_key_t *h) {
    if (h->key != NULL) {
        OPENSSL_cleanse(h->key, h->keylen);
        free(h->key);
        h->key = NULL;
    }
    h->keylen = 0;
#if HMAC_PLAIN
    OPENSSL_cleanse(&h->inner, sizeof h->inner); /* as good as the key */
    OPENSSL_cleanse(&h->outer, sizeof h->outer);
#endif
}

static int state_gc(lua_State *L) {
    sign_state_t *st = (sign_state_t *)luaL_checkudata(L, 1, STATE_MT);
    int i;
    free(st->buf);
    st->buf = NULL;
    st->cap = 0;
    free(st->pairs);
    free(st->order);
    st->pairs = NULL;
    st->order = NULL;
    st->npairs = 0;
    for (i = 0; i < 2; i++) {
        forget_key(&st->hmac[i]);
#if !HMAC_PLAIN
        EVP_MD_CTX_free(st->hmac[i].inner); /* frees cleanse the digest state */
        EVP_MD_CTX_free(st->hmac[i].outer);
        st->hmac[i].inner = st->hmac[i].outer = NULL;
#endif
#if OPENSSL_VERSION_NUMBER >= 0x30000000L && !defined(LIBRESSL_VERSION_NUMBER)
        if (st->md_fetched[i]) EVP_MD_free((EVP_MD *)st->md[i]);
#endif
        st->md[i] = NULL;
        st->md_fetched[i] = 0;
    }
    EVP_MD_CTX_free(st->work);
    st->work = NULL;
    return 0;
}

/* Pushes this Lua state's signing state (made on first use) and returns it. It stays on
 * the stack for the whole call, which keeps it alive while it is out of the registry. */
static sign_state_t *get_state(lua_State *L) {
    static const sign_state_t empty = {0};
    sign_state_t *st;
    lua_pushlightuserdata(L, (void *)&STATE_KEY);
    lua_rawget(L, LUA_REGISTRYINDEX);
    st = (sign_state_t *)lua_touserdata(L, -1);
    if (st != NULL) return st;
    lua_pop(L, 1);
    st = (sign_state_t *)lua_newuserdata(L, sizeof *st);
    *st = empty;
    if (luaL_newmetatable(L, STATE_MT)) {
        lua_pushcfunction(L, state_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    lua_pushlightuserdata(L, (void *)&STATE_KEY);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
    return st;
}

/* Before pushing results from the scratch: takes the state out of the registry. A push may
 * run a collection step, and the step finalizers (LuaJIT runs them before it copies the
 * string), which may sign too: they get a state of their own and leave this one alone. */
static void detach_state(lua_State *L) {
    lua_pushlightuserdata(L, (void *)&STATE_KEY);
    lua_pushnil(L);
    lua_rawset(L, LUA_REGISTRYINDEX);
}

/* After the pushes: puts the state at stack index idx back. Should a nested call have put
 * a state of its own there meanwhile, that one is left to the collector. */
static void attach_state(lua_State *L, int idx) {
    lua_pushlightuserdata(L, (void *)&STATE_KEY);
    lua_pushvalue(L, idx);
    lua_rawset(L, LUA_REGISTRYINDEX);
}

static int out_of_memory(lua_State *L) {
    lua_pushliteral(L, "not enough memory");
    return lua_error(L);
}

/* The scratch buffer with room for need bytes (and ENC_SLACK more twice). Its address
 * changes when it grows, so callers ask once for everything a call will write. */
static char *scratch(lua_State *L, sign_state_t *st, size_t need) {
    need += 2 * ENC_SLACK; /* callers' bounds are far below SIZE_MAX: see INPUT_MAX */
    if (need > st->cap || (st->cap > SCRATCH_KEEP && need <= SCRATCH_KEEP)) {
        size_t cap = need > SCRATCH_MIN ? need : SCRATCH_MIN;
        char *p;
        if (need > st->cap && st->cap <= SIZE_MAX / 3 && cap < st->cap / 2 * 3) cap = st->cap / 2 * 3;
        p = (char *)realloc(st->buf, cap);
        if (p == NULL) {
            if (need <= st->cap) return st->buf; /* a shrink that failed: keep the larger one */
            out_of_memory(L);
        }
        st->buf = p;
        st->cap = cap;
    }
    return st->buf;
}

/* Room for at least n pairs. */
static pair_t *grow_pairs(lua_State *L, sign_state_t *st, size_t n) {
    size_t want = st->npairs * 2;
    pair_t *p;
    sorted_t *o;
    if (n > PAIRS_MAX) luaL_error(L, "too many parameters to sign");
    if (want < 32) want = 32;
    if (want < n || want > PAIRS_MAX) want = n;
    p = (pair_t *)realloc(st->pairs, want * sizeof *p);
    if (p == NULL) out_of_memory(L);
    st->pairs = p; /* st->npairs stays the smaller room until both have grown */
    o = (sorted_t *)realloc(st->order, want * sizeof *o);
    if (o == NULL) out_of_memory(L);
    st->order = o;
    st->npairs = want;
    return p;
}

/* ------------------------------------------------------------- digests, RNG */

/* Raises a Lua error carrying OpenSSL's own reason. */
static int openssl_error(lua_State *L, const char *what) {
    char msg[256];
    unsigned long e = ERR_get_error();
    if (e) {
        ERR_error_string_n(e, msg, sizeof msg);
        ERR_clear_error();
    } else {
        strcpy(msg, "unknown error");
    }
    return luaL_error(L, "%s failed: %s", what, msg);
}

/* The digest, fetched once per state: with OpenSSL 3, EVP_sha1() and friends make every
 * EVP_DigestInit_ex look the implementation up again. */
static const EVP_MD *state_md(lua_State *L, sign_state_t *st, int alg) {
    if (st->md[alg] == NULL) {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L && !defined(LIBRESSL_VERSION_NUMBER)
        st->md[alg] = EVP_MD_fetch(NULL, alg == ALG_SHA1 ? "SHA1" : "SHA256", NULL);
        st->md_fetched[alg] = st->md[alg] != NULL;
#else
        st->md[alg] = alg == ALG_SHA1 ? EVP_sha1() : EVP_sha256();
#endif
        if (st->md[alg] == NULL) openssl_error(L, ALG_NAME[alg]);
    }
    return st->md[alg];
}

static EVP_MD_CTX *state_ctx(lua_State *L, EVP_MD_CTX **slot) {
    if (*slot == NULL) {
        *slot = EVP_MD_CTX_new();
        if (*slot == NULL) openssl_error(L, "EVP_MD_CTX_new");
    }
    return *slot;
}

/* out receives the digest of the n bytes at data (20 bytes for SHA-1, 32 for SHA-256). */
static void digest(lua_State *L, sign_state_t *st, int alg, const void *data, size_t n, unsigned char *out) {
    const EVP_MD *md = state_md(L, st, alg);
    EVP_MD_CTX *c = state_ctx(L, &st->work);
    unsigned int len = 0;
    if (!EVP_DigestInit_ex(c, md, NULL) || !EVP_DigestUpdate(c, data, n) || !EVP_DigestFinal_ex(c, out, &len))
        openssl_error(L, ALG_NAME[alg]);
}

#if HMAC_PLAIN
static int sha_init(int alg, sha_state_t *c) {
    return alg == ALG_SHA1 ? SHA1_Init(&c->sha1) : SHA256_Init(&c->sha256);
}

static int sha_update(int alg, sha_state_t *c, const void *p, size_t n) {
    return alg == ALG_SHA1 ? SHA1_Update(&c->sha1, p, n) : SHA256_Update(&c->sha256, p, n);
}

/* The copy of a keyed state this MAC works on: only the algorithm's own part of the union. */
static void sha_copy(int alg, sha_state_t *to, const sha_state_t *from) {
    if (alg == ALG_SHA1)
        to->sha1 = from->sha1;
    else
        to->sha256 = from->sha256;
}

static int sha_final(int alg, sha_state_t *c, unsigned char *out) {
    return alg == ALG_SHA1 ? SHA1_Final(out, &c->sha1) : SHA256_Final(out, &c->sha256);
}
#endif

/* Makes st->hmac[alg] hold the inner and outer states (RFC 2104) for the key k1 .. k2,
 * which is given in two parts so that V1's secret .. "&" needs no concatenation. The key
 * of the previous call is kept and compared first (in constant time), so signing with the
 * same secret again costs no key schedule. */
static hmac_key_t *hmac_key(lua_State *L, sign_state_t *st, int alg, const char *k1, size_t l1, const char *k2,
                            size_t l2) {
    hmac_key_t *h = &st->hmac[alg];
    unsigned char key[HMAC_BLOCK_MAX], pad[HMAC_BLOCK_MAX];
    int bs, i, ok;
#if !HMAC_PLAIN
    const EVP_MD *md;
#endif
    if (h->key != NULL && l1 <= h->keylen && h->keylen - l1 == l2 && CRYPTO_memcmp(h->key, k1, l1) == 0 &&
        CRYPTO_memcmp(h->key + l1, k2, l2) == 0)
        return h;
    forget_key(h); /* until the states below are complete */
#if HMAC_PLAIN
    /* SHA-1 and SHA-256 both work on 64-byte blocks; no EVP digest is fetched here, since
     * the first EVP_MD_fetch (provider set-up) was a fifth of a fresh process's first call */
    bs = 64;
#else
    md = state_md(L, st, alg);
    state_ctx(L, &st->work);
    state_ctx(L, &h->inner);
    state_ctx(L, &h->outer);
    bs = EVP_MD_block_size(md);
    if (bs <= 0 || bs > HMAC_BLOCK_MAX) luaL_error(L, "HMAC: unexpected block size");
#endif
    memset(key, 0, sizeof key);
    if (l1 > (size_t)bs || l2 > (size_t)bs - l1) {
        /* a key longer than a block is replaced by its digest */
#if HMAC_PLAIN
        sha_state_t t;
        ok = sha_init(alg, &t) && sha_update(alg, &t, k1, l1) && sha_update(alg, &t, k2, l2) &&
             sha_final(alg, &t, key);
        OPENSSL_cleanse(&t, sizeof t);
#else
        ok = EVP_DigestInit_ex(st->work, md, NULL) && EVP_DigestUpdate(st->work, k1, l1) &&
             EVP_DigestUpdate(st->work, k2, l2) && EVP_DigestFinal_ex(st->work, key, NULL);
#endif
    } else {
        memcpy(key, k1, l1);
        memcpy(key + l1, k2, l2);
        ok = 1;
    }
    for (i = 0; i < bs; i++) pad[i] = (unsigned char)(key[i] ^ 0x36);
#if HMAC_PLAIN
    ok = ok && sha_init(alg, &h->inner) && sha_update(alg, &h->inner, pad, (size_t)bs);
#else
    ok = ok && EVP_DigestInit_ex(h->inner, md, NULL) && EVP_DigestUpdate(h->inner, pad, (size_t)bs);
#endif
    for (i = 0; i < bs; i++) pad[i] = (unsigned char)(key[i] ^ 0x5c);
#if HMAC_PLAIN
    ok = ok && sha_init(alg, &h->outer) && sha_update(alg, &h->outer, pad, (size_t)bs);
#else
    ok = ok && EVP_DigestInit_ex(h->outer, md, NULL) && EVP_DigestUpdate(h->outer, pad, (size_t)bs);
#endif
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(pad, sizeof pad);
    if (!ok) openssl_error(L, "HMAC");
    if (l1 + l2 <= HMAC_KEY_CACHE_MAX) {
        h->key = (char *)malloc(l1 + l2 + 1); /* if this fails, the key is just not kept */
        if (h->key != NULL) {
            memcpy(h->key, k1, l1);
            memcpy(h->key + l1, k2, l2);
            h->keylen = l1 + l2;
        }
    }
    return h;
}

/* HMAC(k1 .. k2, data) into out; returns its length (20 for SHA-1, 32 for SHA-256). The
 * data is n bytes at data, or, when parts is not 0, the strings of the list at stack index
 * parts, one after the other (no string of their concatenation is made: LuaJIT interns every
 * string, and a caller that made one per MAC would fill a chain of its string table). */
static size_t hmac(lua_State *L, sign_state_t *st, int alg, const char *k1, size_t l1, const char *k2, size_t l2,
                   const void *data, size_t n, int parts, unsigned char *out) {
    hmac_key_t *h = hmac_key(L, st, alg, k1, l1, k2, l2);
    unsigned char inner[EVP_MAX_MD_SIZE];
    int i, count = parts ? (int)lua_rawlen(L, parts) : 0;
#if HMAC_PLAIN
    /* The final calls cleanse the work state's data block; what is left in it, the inner
     * hash or the MAC, is not secret like the keyed states. */
    sha_state_t w;
    size_t ol = alg == ALG_SHA1 ? SHA_DIGEST_LENGTH : SHA256_DIGEST_LENGTH;
    sha_copy(alg, &w, &h->inner);
    if (!parts && !sha_update(alg, &w, data, n)) goto fail;
    for (i = 1; i <= count; i++) {
        size_t pl;
        const char *p;
        lua_rawgeti(L, parts, i);
        p = lua_tolstring(L, -1, &pl); /* checked strings: no conversion, the list stays as it is */
        if (!sha_update(alg, &w, p, pl)) goto fail;
        lua_pop(L, 1);
    }
    if (!sha_final(alg, &w, inner)) goto fail;
    sha_copy(alg, &w, &h->outer);
    if (!sha_update(alg, &w, inner, ol) || !sha_final(alg, &w, out)) goto fail;
    return ol;
#else
    EVP_MD_CTX *w = st->work;
    unsigned int il = 0, ol = 0;
    if (!EVP_MD_CTX_copy_ex(w, h->inner)) goto fail;
    if (!parts && !EVP_DigestUpdate(w, data, n)) goto fail;
    for (i = 1; i <= count; i++) {
        size_t pl;
        const char *p;
        lua_rawgeti(L, parts, i);
        p = lua_tolstring(L, -1, &pl);
        if (!EVP_DigestUpdate(w, p, pl)) goto fail;
        lua_pop(L, 1);
    }
    if (!EVP_DigestFinal_ex(w, inner, &il) || !EVP_MD_CTX_copy_ex(w, h->outer) || !EVP_DigestUpdate(w, inner, il) ||
        !EVP_DigestFinal_ex(w, out, &ol))
        goto fail;
    return ol;
#endif
fail:
    forget_key(h);
    openssl_error(L, "HMAC");
    return 0;
}

/* hmac(key, data): data a string, or a list of strings hashed one after the other. */
static int l_hmac(lua_State *L, int alg) {
    size_t kl, dl = 0, n;
    const char *k = luaL_checklstring(L, 1, &kl);
    const char *d = NULL;
    unsigned char out[EVP_MAX_MD_SIZE];
    int parts = lua_type(L, 2) == LUA_TTABLE;
    if (parts) {
        int i, count = (int)lua_rawlen(L, 2);
        for (i = 1; i <= count; i++) {
            lua_rawgeti(L, 2, i);
            if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "hmac: data[%d] is not a string", i);
            lua_pop(L, 1);
        }
    } else {
        d = luaL_checklstring(L, 2, &dl);
    }
    lua_settop(L, 2);
    n = hmac(L, get_state(L), alg, k, kl, "", 0, d, dl, parts ? 2 : 0, out);
    lua_pushlstring(L, (const char *)out, n);
    return 1;
}

int aliyun_l_hmac_sha1(lua_State *L) {
    return l_hmac(L, ALG_SHA1);
}

int aliyun_l_hmac_sha256(lua_State *L) {
    return l_hmac(L, ALG_SHA256);
}

int aliyun_l_sha256_hex(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned char md[32];
    char hex[64];
    lua_settop(L, 1);
    digest(L, get_state(L), ALG_SHA256, s, n, md);
    hex_to(hex, md, sizeof md);
    lua_pushlstring(L, hex, sizeof hex);
    return 1;
}

/* Fills buf from the kernel's CSPRNG (getrandom, Linux); 0 when that is not to be had,
 * and then OpenSSL's RNG fills it. The kernel's is preferred because OpenSSL 3 sets up its
 * DRBG (a cipher fetch and seeding) on first use, which was a tenth of a process's start-up
 * plus first call. */
static int system_random(unsigned char *buf, size_t n) {
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 25))
    size_t got = 0;
    while (got < n) {
        ssize_t r = getrandom(buf + got, n - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        got += (size_t)r;
    }
    return 1;
#else
    (void)buf;
    (void)n;
    return 0;
#endif
}

/* 16 random bytes from OpenSSL's CSPRNG as 32 hex characters into hex: unique per
 * request, which is what SignatureNonce and x-acs-signature-nonce need. The bytes given
 * out are wiped from the reserve. */
static void make_nonce(lua_State *L, sign_state_t *st, char hex[32]) {
    unsigned long gen = fork_generation();
    unsigned char *r;
    if (st->rnd_left < 16 || st->rnd_forks != gen) {
        if (!system_random(st->rnd, sizeof st->rnd) && RAND_bytes(st->rnd, (int)sizeof st->rnd) != 1) {
            st->rnd_left = 0;
            openssl_error(L, "RAND_bytes");
        }
        st->rnd_left = sizeof st->rnd;
        st->rnd_forks = gen;
    }
    r = st->rnd + sizeof st->rnd - st->rnd_left;
    hex_to(hex, r, 16);
    OPENSSL_cleanse(r, 16);
    st->rnd_left -= 16;
}

int aliyun_l_nonce(lua_State *L) {
    char hex[32];
    lua_settop(L, 0);
    make_nonce(L, get_state(L), hex);
    lua_pushlstring(L, hex, sizeof hex);
    return 1;
}

/* v (0 <= v < 10^n) as n decimal digits at d. */
static void put_digits(char *d, int v, int n) {
    while (n-- > 0) {
        d[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* The ISO 8601 UTC timestamp of the epoch seconds at idx (now when nil) into buf; returns
 * its length. */
/* The epoch second of the Lua argument at idx (now when none). */
static time_t timestamp_second(lua_State *L, int idx) {
    lua_Number v;
    if (lua_isnoneornil(L, idx)) return time(NULL);
    v = luaL_checknumber(L, idx);
    /* time_t is 64-bit here; refuse values gmtime cannot represent as a 4-digit year */
    if (!(v >= 0 && v < 253402300800.0)) luaL_argerror(L, idx, "epoch seconds out of range");
    return (time_t)v;
}

/* Writes second t as 2006-01-02T15:04:05Z into buf; returns its length (20). */
static size_t format_second(lua_State *L, time_t t, char buf[32]) {
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) luaL_error(L, "gmtime_r failed");
    /* written digit by digit: strftime, with its locale machinery, was about a tenth of
     * a signature's cost; the range check above keeps the year to four digits */
    put_digits(buf, tm.tm_year + 1900, 4);
    buf[4] = '-';
    put_digits(buf + 5, tm.tm_mon + 1, 2);
    buf[7] = '-';
    put_digits(buf + 8, tm.tm_mday, 2);
    buf[10] = 'T';
    put_digits(buf + 11, tm.tm_hour, 2);
    buf[13] = ':';
    put_digits(buf + 14, tm.tm_min, 2);
    buf[16] = ':';
    put_digits(buf + 17, tm.tm_sec, 2);
    buf[19] = 'Z';
    buf[20] = '\0';
    return 20;
}

static size_t format_timestamp(lua_State *L, int idx, char buf[32]) {
    return format_second(L, timestamp_second(L, idx), buf);
}

int aliyun_l_timestamp(lua_State *L) {
    char buf[32];
    size_t n = format_timestamp(L, 1, buf);
    lua_pushlstring(L, buf, n);
    return 1;
}

/* ---------------------------------------------------------- plain encoders */

/* f(s) for the string argument, built in the scratch: 3 * n + 4 bytes are room enough
 * for percent-encoding, hex and base64. */
static int push_converted(lua_State *L, const char *what, char *(*f)(char *, const char *, size_t)) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    char *buf, *end;
    lua_settop(L, 1);
    if (n > INPUT_MAX) return luaL_error(L, "%s: string too long", what);
    buf = scratch(L, get_state(L), 3 * n + 4); /* the state is at 2 */
    end = f(buf, s, n);
    detach_state(L);
    lua_pushlstring(L, buf, (size_t)(end - buf));
    attach_state(L, 2);
    return 1;
}

static char *hex_string(char *d, const char *s, size_t n) {
    return hex_to(d, (const unsigned char *)s, n);
}

static char *base64_string(char *d, const char *s, size_t n) {
    return base64_to(d, (const unsigned char *)s, n);
}

int aliyun_l_percent_encode(lua_State *L) {
    return push_converted(L, "percent_encode", encode_to);
}

int aliyun_l_hex(lua_State *L) {
    return push_converted(L, "hex", hex_string);
}

int aliyun_l_base64(lua_State *L) {
    return push_converted(L, "base64", base64_string);
}

/* ------------------------------------------------------- parameter tables */

static inline uint64_t load_be64(const unsigned char *p) {
    unsigned char b[8];
    memcpy(b, p, 8);
    return ((uint64_t)b[0] << 56) | ((uint64_t)b[1] << 48) | ((uint64_t)b[2] << 40) | ((uint64_t)b[3] << 32) |
           ((uint64_t)b[4] << 24) | ((uint64_t)b[5] << 16) | ((uint64_t)b[6] << 8) | (uint64_t)b[7];
}

static inline uint64_t load_be32(const unsigned char *p) {
    unsigned char b[4];
    memcpy(b, p, 4);
    return ((uint64_t)b[0] << 24) | ((uint64_t)b[1] << 16) | ((uint64_t)b[2] << 8) | (uint64_t)b[3];
}

/* The first 8 bytes of k, big-endian and zero-padded. Keys shorter than 8 bytes are read
 * with two overlapping loads (or byte by byte below 4), not with a memcpy of n bytes: the
 * library call cost more than the comparisons it serves. */
static uint64_t key_prefix(const char *k, size_t n) {
    const unsigned char *p = (const unsigned char *)k;
    if (n >= 8) return load_be64(p);
    if (n >= 4) return (load_be32(p) << 32) | (load_be32(p + n - 4) << (8 * (8 - n)));
    if (n == 0) return 0;
    return ((uint64_t)p[0] << 56) | ((uint64_t)p[n / 2] << (56 - 8 * (n / 2))) | ((uint64_t)p[n - 1] << (64 - 8 * n));
}

/* Byte order of the keys (shorter first when one is a prefix of the other). */
static int key_cmp(const pair_t *x, const pair_t *y) {
    size_t n = x->kl < y->kl ? x->kl : y->kl;
    int c = memcmp(x->k, y->k, n);
    if (c) return c;
    return (x->kl > y->kl) - (x->kl < y->kl);
}

/* The same for sorted entries. Different prefixes of the zero-padded keys decide; equal
 * ones decide nothing, and then the keys themselves are compared. */
static int sorted_cmp(const sorted_t *x, const sorted_t *y) {
    if (x->pfx != y->pfx) return x->pfx < y->pfx ? -1 : 1;
    return key_cmp(x->p, y->p);
}

static int sorted_less(const sorted_t *x, const sorted_t *y) {
    return x->pfx < y->pfx || (x->pfx == y->pfx && key_cmp(x->p, y->p) < 0);
}

static int sorted_qsort_cmp(const void *a, const void *b) {
    return sorted_cmp((const sorted_t *)a, (const sorted_t *)b);
}

/* Fills ord with the n pairs at p in the byte order of their sort keys: insertion sort
 * for the few dozen pairs of a request, qsort beyond. */
#define INSERTION_SORT_MAX 32
static void sort_pairs(const pair_t *p, size_t n, sorted_t *ord) {
    size_t i, j;
    if (n > INSERTION_SORT_MAX) {
        for (i = 0; i < n; i++) {
            ord[i].pfx = key_prefix(p[i].k, p[i].kl);
            ord[i].p = &p[i];
        }
        qsort(ord, n, sizeof *ord, sorted_qsort_cmp);
        return;
    }
    for (i = 0; i < n; i++) {
        sorted_t x;
        x.pfx = key_prefix(p[i].k, p[i].kl);
        x.p = &p[i];
        for (j = i; j > 0 && sorted_less(&x, &ord[j - 1]); j--) ord[j] = ord[j - 1];
        ord[j] = x;
    }
}

/* total + n, refusing totals the size bounds below could overflow with. */
static size_t add_len(lua_State *L, size_t total, size_t n, const char *what) {
    if (n > INPUT_MAX - total) luaL_error(L, "%s: request too large", what);
    return total + n;
}

/* Called before a collection: gives back the pair arrays that an unusually big call grew. */
static void reset_pairs(sign_state_t *st) {
    if (st->npairs > PAIRS_KEEP) {
        free(st->pairs);
        free(st->order);
        st->pairs = NULL;
        st->order = NULL;
        st->npairs = 0;
    }
}

/* Stores the pairs of the string-to-string table at idx in st->pairs from index `from` on,
 * unsorted, pointing into the table's strings; returns how many. *bytes grows by the
 * names' and values' lengths. Non-string names or values are a programmer error: the Lua
 * layer serialises every value before signing. Values are never named in messages: they
 * may be secret. */
static size_t collect_pairs(lua_State *L, sign_state_t *st, int idx, const char *what, size_t from, size_t *bytes) {
    size_t i = from, total = *bytes;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        pair_t *p;
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "%s: parameter names must be strings, got a %s", what, luaL_typename(L, -2));
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: value of '%s' must be a string, got a %s", what, lua_tostring(L, -2),
                       luaL_typename(L, -1));
        p = (i < st->npairs ? st->pairs : grow_pairs(L, st, i + 1)) + i;
        p->k = lua_tolstring(L, -2, &p->kl);
        p->v = lua_tolstring(L, -1, &p->vl);
        total = add_len(L, add_len(L, total, p->kl, what), p->vl, what);
        lua_pop(L, 1); /* the value stays reachable from the table */
        i++;
    }
    *bytes = total;
    return i - from;
}

typedef struct {
    const char *cq, *sts;
    size_t cql, stsl;
} v1_out_t;

/* Writes to the scratch the canonical query of the table at idx (pairs sorted by name,
 * names and values percent-encoded, joined with = and &) and, given a method, also the V1
 * string to sign: METHOD & percent("/") & percent(canonical query), as section 4.4
 * defines. Both come out of one pass over the names and values. */
static void emit_v1(lua_State *L, sign_state_t *st, size_t n, size_t bytes, const char *method, size_t ml,
                    const char *prefix, size_t pl, size_t tail, const char *late, v1_out_t *o);

static void build_v1(lua_State *L, sign_state_t *st, int idx, const char *what, const char *method, size_t ml,
                     v1_out_t *o) {
    size_t bytes = 0, n;
    if (method != NULL) bytes = add_len(L, bytes, ml, what);
    reset_pairs(st);
    n = collect_pairs(L, st, idx, what, 0, &bytes);
    emit_v1(L, st, n, bytes, method, ml, NULL, 0, 0, NULL, o);
}

/* The writing half of build_v1, over st->pairs[0..n) (bytes: their lengths and the
 * method's). The canonical query comes after `prefix` (pl bytes) in o->cq, with `tail`
 * bytes of room after it for the caller to append to. A NULL prefix leaves its pl bytes
 * for the caller to write. The pair whose name is the pointer `late` (if any) is in the
 * string to sign at its sorted place but left out of o->cq, for the caller to append. */
static void emit_v1(lua_State *L, sign_state_t *st, size_t n, size_t bytes, const char *method, size_t ml,
                    const char *prefix, size_t pl, size_t tail, const char *late, v1_out_t *o) {
    size_t i, cqmax;
    const sorted_t *p;
    char *a, *b;
    sort_pairs(st->pairs, n, st->order);
    p = st->order;
    cqmax = pl + 3 * bytes + 2 * n + tail;
    a = scratch(L, st, method != NULL ? cqmax + ENC_SLACK + 5 + 5 * bytes + 6 * n : cqmax);
    o->cq = a;
    if (prefix != NULL) memcpy(a, prefix, pl); /* else the caller fills the pl bytes */
    a += pl;
    if (method == NULL) {
        for (i = 0; i < n; i++) {
            if (i) *a++ = '&';
            a = encode_to(a, p[i].p->k, p[i].p->kl);
            *a++ = '=';
            a = encode_to(a, p[i].p->v, p[i].p->vl);
        }
        o->cql = (size_t)(a - o->cq);
        o->sts = NULL;
        o->stsl = 0;
        return;
    }
    b = a + cqmax + ENC_SLACK; /* a's copies run up to ENC_SLACK past its end */
    o->sts = b;
    memcpy(b, method, ml);
    memcpy(b + ml, "&%2F&", 5);
    b += ml + 5;
    for (i = 0; i < n; i++) {
        /* the late pair is written at a as well, over bytes the next pair (or the caller)
         * writes again: a has room for every pair */
        char *w = a;
        if (i) {
            if (a != o->cq + pl) *w++ = '&';
            memcpy(b, "%26", 3);
            b += 3;
        }
        encode_twice(&w, &b, p[i].p->k, p[i].p->kl);
        *w++ = '=';
        memcpy(b, "%3D", 3);
        b += 3;
        encode_twice(&w, &b, p[i].p->v, p[i].p->vl);
        if (p[i].p->k != late) a = w;
    }
    o->cql = (size_t)(a - o->cq);
    o->stsl = (size_t)(b - o->sts);
}

/* Pushes the canonical query of the table at 1: sorted by name, both sides encoded. */
static int push_canonical_query(lua_State *L, const char *what) {
    v1_out_t o;
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    build_v1(L, get_state(L), 1, what, NULL, 0, &o); /* the state is at 2 */
    detach_state(L);
    lua_pushlstring(L, o.cq, o.cql);
    attach_state(L, 2);
    return 1;
}

int aliyun_l_form_encode(lua_State *L) {
    return push_canonical_query(L, "form_encode");
}

int aliyun_l_v1_canonical_query(lua_State *L) {
    return push_canonical_query(L, "v1_canonical_query");
}

static const char *check_method(lua_State *L, int idx, size_t *len) {
    const char *m = luaL_checklstring(L, idx, len);
    size_t i;
    if (*len == 0) luaL_argerror(L, idx, "HTTP method is empty");
    for (i = 0; i < *len; i++)
        if (m[i] < 'A' || m[i] > 'Z') luaL_argerror(L, idx, "HTTP method must be upper-case letters");
    return m;
}

int aliyun_l_v1_string_to_sign(lua_State *L) {
    size_t ml, cql;
    const char *m = check_method(L, 1, &ml);
    const char *cq = luaL_checklstring(L, 2, &cql);
    char *buf, *end;
    lua_settop(L, 2);
    if (ml > INPUT_MAX || cql > INPUT_MAX) return luaL_error(L, "v1_string_to_sign: request too large");
    buf = scratch(L, get_state(L), ml + 5 + 3 * cql); /* the state is at 3 */
    memcpy(buf, m, ml);
    memcpy(buf + ml, "&%2F&", 5);
    end = encode_to(buf + ml + 5, cq, cql);
    detach_state(L);
    lua_pushlstring(L, buf, (size_t)(end - buf));
    attach_state(L, 3);
    return 1;
}

/* v1_sign(method, params, secret) -> signature, string_to_sign, canonical_query.
 * The HMAC-SHA1 key is the AccessKeySecret followed by "&". */
int aliyun_l_v1_sign(lua_State *L) {
    size_t ml, sl, maclen;
    const char *m = check_method(L, 1, &ml);
    const char *secret;
    sign_state_t *st;
    v1_out_t o;
    unsigned char mac[EVP_MAX_MD_SIZE];
    char sig[(EVP_MAX_MD_SIZE + 2) / 3 * 4];
    char *sig_end;
    luaL_checktype(L, 2, LUA_TTABLE);
    secret = luaL_checklstring(L, 3, &sl);
    lua_settop(L, 3);
    st = get_state(L); /* 4 */
    build_v1(L, st, 2, "v1_sign", m, ml, &o);
    maclen = hmac(L, st, ALG_SHA1, secret, sl, "&", 1, o.sts, o.stsl, 0, mac);
    sig_end = base64_to(sig, mac, maclen);
    detach_state(L);
    lua_pushlstring(L, sig, (size_t)(sig_end - sig));
    lua_pushlstring(L, o.sts, o.stsl);
    lua_pushlstring(L, o.cq, o.cql);
    attach_state(L, 4);
    return 3; /* signature, sts, cq */
}

/* The common parameters of a V1 request, which v1_sign_url adds itself: the same names in
 * the caller's query are left out (the common value wins). */
static int is_v1_common(const char *k, size_t n) {
#define NAME(s) {s, sizeof s - 1}
    static const struct {
        const char *s;
        size_t n;
    } names[] = {NAME("AccessKeyId"), NAME("Action"), NAME("Format"), NAME("SecurityToken"),
                 NAME("SignatureMethod"), NAME("SignatureNonce"), NAME("SignatureVersion"), NAME("Timestamp"),
                 NAME("Version")};
#undef NAME
    size_t i;
    if (n < 6 || n > 16) return 0;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].n == n && memcmp(names[i].s, k, n) == 0) return 1;
    return 0;
}

static void add_pair(lua_State *L, sign_state_t *st, size_t *n, size_t *bytes, const char *k, size_t kl,
                     const char *v, size_t vl) {
    pair_t *p = (*n < st->npairs ? st->pairs : grow_pairs(L, st, *n + 1)) + *n;
    p->k = k;
    p->kl = kl;
    p->v = v;
    p->vl = vl;
    *bytes = add_len(L, add_len(L, *bytes, p->kl, "v1_sign_url"), vl, "v1_sign_url");
    (*n)++;
}

/* The name of the SignatureNonce pair: emit_v1 knows the pair by this pointer. */
static const char NONCE_NAME[] = "SignatureNonce";

/* Ends the URL at e (the canonical query without the nonce pair, with room behind it) with
 * "&Signature=" and the encoded signature, then the SignatureNonce pair; returns the new
 * end. The service takes the parameters in any order; the order matters to LuaJIT, whose
 * string hash samples a few bytes (the first, the last, the middle and a quarter of the
 * way): URLs that all ended alike ("...%3D") fell into a few hash chains, and a batch of
 * 20,000 calls spent most of its time walking them. A nonce's last bytes differ from call
 * to call. */
static char *nonce_after(char *e, const char *sig, size_t sigl, const char *nonce, size_t nl) {
    memcpy(e, "&Signature=", 11);
    e = encode_to(e + 11, sig, sigl);
    *e++ = '&';
    memcpy(e, NONCE_NAME, sizeof NONCE_NAME - 1);
    e += sizeof NONCE_NAME - 1;
    *e++ = '=';
    return encode_to(e, nonce, nl);
}

/* The whole V1 URL of the request with method m and base URL base whose other parts are
 * the Lua values at slots q..q+7, laid out as v1_sign_url's arguments after those two
 * (query, secret, action, version, access_key_id, security_token, nonce, timestamp; the
 * optional ones may be nil): the
 * common parameters (Format=JSON, SignatureMethod=HMAC-SHA1, SignatureVersion=1.0, a fresh
 * SignatureNonce unless given, the Timestamp of now unless given as epoch seconds) added
 * to the query table, signed, and written to the scratch as base_url/?canonical-query&
 * Signature=... . *url and *sts point into the scratch, valid until the next signing.
 * Pushes the signing state, which the caller pops or detaches. */
static sign_state_t *sign_v1_url(lua_State *L, const char *m, size_t ml, const char *base, size_t bl, int q,
                                 const char **url, size_t *url_len, const char **sts, size_t *sts_len) {
    size_t sl, al, vl, kl, tl = 0, nl, n = 0, bytes = 0, i, maclen, keep;
    const char *secret = luaL_checklstring(L, q + 1, &sl);
    const char *action = luaL_checklstring(L, q + 2, &al);
    const char *version = luaL_checklstring(L, q + 3, &vl);
    const char *akid = luaL_checklstring(L, q + 4, &kl);
    const char *token = luaL_optlstring(L, q + 5, NULL, &tl);
    const char *nonce;
    char nonce_buf[32], sig[(EVP_MAX_MD_SIZE + 2) / 3 * 4];
    time_t second = timestamp_second(L, q + 7);
    sign_state_t *st;
    v1_out_t o;
    unsigned char mac[EVP_MAX_MD_SIZE];
    char *e, *sig_end;
    if (!lua_isnoneornil(L, q)) luaL_checktype(L, q, LUA_TTABLE);
    st = get_state(L);
    if (st->ts_text[0] == '\0' || st->ts_second != second) {
        format_second(L, second, st->ts_text);
        st->ts_second = second;
    }
    if (lua_isnil(L, q + 6)) {
        make_nonce(L, st, nonce_buf);
        nonce = nonce_buf;
        nl = sizeof nonce_buf;
    } else {
        nonce = luaL_checklstring(L, q + 6, &nl);
    }
    bytes = ml;
    if (bl > INPUT_MAX) luaL_error(L, "v1_sign_url: base URL too long");
    reset_pairs(st);
    if (lua_istable(L, q)) {
        size_t got = collect_pairs(L, st, q, "v1_sign_url", 0, &bytes);
        for (i = 0; i < got; i++) {
            pair_t *p = &st->pairs[i];
            if (is_v1_common(p->k, p->kl)) {
                bytes -= p->kl + p->vl;
                continue;
            }
            st->pairs[n++] = *p;
        }
    }
#define ADD(name, v, vl) add_pair(L, st, &n, &bytes, name, sizeof name - 1, v, vl)
    ADD("AccessKeyId", akid, kl);
    ADD("Action", action, al);
    ADD("Format", "JSON", 4);
    if (token != NULL) ADD("SecurityToken", token, tl);
    ADD("SignatureMethod", "HMAC-SHA1", 9);
    ADD(NONCE_NAME, nonce, nl);
    ADD("SignatureVersion", "1.0", 3);
    ADD("Timestamp", st->ts_text, 20);
    ADD("Version", version, vl);
#undef ADD
    /* room after the query for "&Signature=", the encoded base64 signature and the nonce
     * pair moved behind it */
    keep = 11 + 3 * sizeof sig + ENC_SLACK + 16 + 3 * nl + ENC_SLACK;
    emit_v1(L, st, n, bytes, m, ml, NULL, bl + 2, keep, NONCE_NAME, &o);
    memcpy((char *)o.cq, base, bl);
    memcpy((char *)o.cq + bl, "/?", 2);
    maclen = hmac(L, st, ALG_SHA1, secret, sl, "&", 1, o.sts, o.stsl, 0, mac);
    sig_end = base64_to(sig, mac, maclen);
    e = nonce_after((char *)o.cq + o.cql, sig, (size_t)(sig_end - sig), nonce, nl);
    *url = o.cq;
    *url_len = (size_t)(e - o.cq);
    *sts = o.sts;
    *sts_len = o.stsl;
    return st;
}

/* v1_sign_url(method, base_url, query, secret, action, version, access_key_id
 *             [, security_token [, nonce [, timestamp [, want_sts]]]]) -> url, string_to_sign
 * (the URL alone when want_sts is false)
 * A whole V1 GET/POST URL in one call (sign_v1_url). It does what signer.v1 did with a
 * Lua table per call, which was the larger part of a call's signing cost. */
int aliyun_l_v1_sign_url(lua_State *L) {
    const char *url, *sts;
    size_t url_len, sts_len;
    /* want_sts = false: the URL alone (the string to sign can be made from it again when
     * needed, and under LuaJIT every long string made costs its string table) */
    int want_sts = !(lua_type(L, 11) == LUA_TBOOLEAN && !lua_toboolean(L, 11));
    size_t ml, bl;
    const char *m = check_method(L, 1, &ml);
    const char *base = luaL_checklstring(L, 2, &bl);
    lua_settop(L, 10);
    sign_v1_url(L, m, ml, base, bl, 3, &url, &url_len, &sts, &sts_len); /* the state is at 11 */
    detach_state(L);
    lua_pushlstring(L, url, url_len);
    if (want_sts) lua_pushlstring(L, sts, sts_len);
    attach_state(L, 11);
    return want_sts ? 2 : 1;
}

void aliyun_v1_sign_into(lua_State *L, const char *method, size_t ml, const char *base, size_t bl, int q,
                         membuf_t *url, membuf_t *sts) {
    const char *u, *s;
    size_t ul, sl;
    sign_v1_url(L, method, ml, base, bl, q, &u, &ul, &s, &sl);
    /* copies, so that nothing points into the scratch once the state is off the stack */
    if (!membuf_add(url, u, ul) || !membuf_add(sts, s, sl)) luaL_error(L, "out of memory");
    lua_pop(L, 1);
}

/* ------------------------------------------------------------------- V3 */

static unsigned char lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* k (n bytes) equals the lower-case literal lit, ignoring ASCII case. */
static int equal_ci(const char *k, const char *lit, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (lower((unsigned char)k[i]) != (unsigned char)lit[i]) return 0;
    return 1;
}

/* Headers that take part in the V3 signature: host, content-type and every x-acs-*. */
static int is_signed_header(const char *k, size_t n) {
    return (n == 4 && equal_ci(k, "host", 4)) || (n == 12 && equal_ci(k, "content-type", 12)) ||
           (n > 6 && equal_ci(k, "x-acs-", 6));
}

/* Like collect_pairs for the headers table at idx, keeping only the signed headers, with
 * their values trimmed of spaces and tabs. Names are lower-cased later, in the scratch. */
static size_t collect_signed_headers(lua_State *L, sign_state_t *st, int idx, size_t from, size_t *bytes) {
    size_t i = from, total = *bytes;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t kl, vl, a, z;
        const char *k, *v;
        pair_t *p;
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "v3: header names and values must be strings");
        k = lua_tolstring(L, -2, &kl);
        v = lua_tolstring(L, -1, &vl);
        lua_pop(L, 1);
        if (!is_signed_header(k, kl)) continue;
        for (a = 0; a < vl && (v[a] == ' ' || v[a] == '\t'); a++) {}
        for (z = vl; z > a && (v[z - 1] == ' ' || v[z - 1] == '\t'); z--) {}
        p = (i < st->npairs ? st->pairs : grow_pairs(L, st, i + 1)) + i;
        p->k = k;
        p->kl = kl;
        p->v = v + a;
        p->vl = z - a;
        total = add_len(L, add_len(L, total, kl, "v3"), vl, "v3");
        i++;
    }
    *bytes = total;
    return i - from;
}

/* Reads the string field name of the table at opts, leaving it on the stack (where it
 * stays reachable): dflt when nil, and an error when nil and dflt is NULL. */
static const char *opt_string(lua_State *L, int opts, const char *name, const char *dflt, size_t *len) {
    lua_getfield(L, opts, name);
    if (lua_isnil(L, -1)) {
        if (dflt == NULL) luaL_error(L, "v3: opts.%s is required", name);
        *len = strlen(dflt);
        return dflt;
    }
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "v3: opts.%s must be a string", name);
    return lua_tolstring(L, -1, len);
}

typedef struct {
    const char *cr, *sh; /* canonical request; signed headers (inside cr) */
    size_t crl, shl;
    char *end;           /* where the caller may write up to `extra` more bytes */
} v3_out_t;

/* Writes to the scratch the canonical request for the opts table at index 1, with room
 * for extra bytes after it. The state st is at stack index si. opts: method, path ("/"), query ({k=v}), headers ({k=v}), and
 * payload_hash or body. The fields are read (which may run metamethods) before any
 * pointer into the scratch is taken. */
static void build_v3(lua_State *L, sign_state_t *st, int si, size_t extra, v3_out_t *o) {
    size_t ml, pl, hl, bytes, nq = 0, nh, i, qnames = 0, hnames = 0;
    const char *method, *path, *hash;
    char body_hash[64];
    pair_t *q, *h;
    sorted_t *qo, *ho;
    char *w;
    int qi;
    method = opt_string(L, 1, "method", NULL, &ml);
    path = opt_string(L, 1, "path", "/", &pl);
    lua_getfield(L, 1, "payload_hash");
    if (lua_isnil(L, -1)) {
        size_t bl;
        const char *body = opt_string(L, 1, "body", "", &bl);
        unsigned char md[32];
        digest(L, st, ALG_SHA256, body, bl, md);
        hex_to(body_hash, md, sizeof md);
        hash = body_hash;
        hl = sizeof body_hash;
    } else if (lua_type(L, -1) != LUA_TSTRING) {
        luaL_error(L, "v3: opts.payload_hash must be a string");
        return;
    } else {
        hash = lua_tolstring(L, -1, &hl);
    }
    lua_getfield(L, 1, "query");
    qi = lua_gettop(L);
    lua_getfield(L, 1, "headers"); /* fetched now: from here on no Lua code runs until the pushes */
    bytes = add_len(L, add_len(L, add_len(L, add_len(L, 0, ml, "v3"), pl, "v3"), hl, "v3"), extra, "v3");
    reset_pairs(st);
    if (!lua_isnil(L, qi)) {
        /* the message of the luaL_checktype this used to be, at the index it used to have */
        if (!lua_istable(L, qi))
            luaL_argerror(L, 3, lua_pushfstring(L, "table expected, got %s", luaL_typename(L, qi)));
        nq = collect_pairs(L, st, qi, "v3 query", 0, &bytes);
    }
    if (!lua_istable(L, qi + 1)) luaL_error(L, "v3: opts.headers must be a table");
    nh = collect_signed_headers(L, st, qi + 1, nq, &bytes);
    q = st->pairs;
    h = q + nq;
    for (i = 0; i < nq; i++) qnames += q[i].kl;
    for (i = 0; i < nh; i++) hnames += h[i].kl;

    /* encoded query names, lower-case header names, then the canonical request:
     * the query at most 3 * bytes + 2 * nq, the header lines bytes + 2 * nh, the signed
     * headers hnames + nh (once more in what the caller adds) */
    w = scratch(L, st, 3 * qnames + hnames + 3 * bytes + 2 * nq + bytes + 2 * nh + 2 * (hnames + nh) + 8);
    for (i = 0; i < nq; i++) {
        char *e = encode_to(w, q[i].k, q[i].kl); /* V3 sorts names in encoded form */
        q[i].k = w;
        q[i].kl = (size_t)(e - w);
        w = e;
    }
    for (i = 0; i < nh; i++) {
        size_t j;
        for (j = 0; j < h[i].kl; j++) w[j] = (char)lower((unsigned char)h[i].k[j]);
        h[i].k = w;
        w += h[i].kl;
    }
    qo = st->order;
    ho = qo + nq;
    sort_pairs(q, nq, qo);
    sort_pairs(h, nh, ho);
    for (i = 1; i < nh; i++)
        if (sorted_cmp(&ho[i - 1], &ho[i]) == 0) {
            detach_state(L);
            lua_pushlstring(L, ho[i].p->k, ho[i].p->kl);
            attach_state(L, si);
            luaL_error(L, "v3: header '%s' given twice", lua_tostring(L, -1));
        }

    o->cr = w;
    memcpy(w, method, ml);
    w += ml;
    *w++ = '\n';
    w = encode_path_to(w, path, pl);
    *w++ = '\n';
    for (i = 0; i < nq; i++) {
        if (i) *w++ = '&';
        memcpy(w, qo[i].p->k, qo[i].p->kl);
        w += qo[i].p->kl;
        *w++ = '=';
        w = encode_to(w, qo[i].p->v, qo[i].p->vl);
    }
    *w++ = '\n';
    for (i = 0; i < nh; i++) {
        memcpy(w, ho[i].p->k, ho[i].p->kl);
        w += ho[i].p->kl;
        *w++ = ':';
        memcpy(w, ho[i].p->v, ho[i].p->vl);
        w += ho[i].p->vl;
        *w++ = '\n';
    }
    *w++ = '\n';
    o->sh = w;
    for (i = 0; i < nh; i++) {
        if (i) *w++ = ';';
        memcpy(w, ho[i].p->k, ho[i].p->kl);
        w += ho[i].p->kl;
    }
    o->shl = (size_t)(w - o->sh);
    *w++ = '\n';
    memcpy(w, hash, hl);
    w += hl;
    o->crl = (size_t)(w - o->cr);
    o->end = w;
}

int aliyun_l_v3_canonical_request(lua_State *L) {
    v3_out_t o;
    lua_settop(L, 1);
    luaL_checktype(L, 1, LUA_TTABLE);
    build_v3(L, get_state(L), 2, 0, &o);
    detach_state(L);
    lua_pushlstring(L, o.cr, o.crl);
    lua_pushlstring(L, o.sh, o.shl);
    attach_state(L, 2);
    return 2;
}

#define V3_ALGORITHM "ACS3-HMAC-SHA256"
#define V3_CREDENTIAL " Credential="
#define V3_SIGNED_HEADERS ",SignedHeaders="
#define V3_SIGNATURE ",Signature="
#define LIT_LEN(s) (sizeof(s "") - 1)

static char *put(char *w, const char *s, size_t n) {
    memcpy(w, s, n);
    return w + n;
}

/* v3_sign(opts) -> authorization, signature, canonical_request, string_to_sign.
 * opts adds access_key_id and access_key_secret to the canonical request's fields. */
int aliyun_l_v3_sign(lua_State *L) {
    size_t idl, sl;
    const char *id, *secret;
    sign_state_t *st;
    v3_out_t o;
    unsigned char md[32], mac[EVP_MAX_MD_SIZE];
    char sts[LIT_LEN(V3_ALGORITHM "\n") + 64], sig[64];
    char *auth, *w;
    lua_settop(L, 1);
    luaL_checktype(L, 1, LUA_TTABLE);
    id = opt_string(L, 1, "access_key_id", NULL, &idl);
    secret = opt_string(L, 1, "access_key_secret", NULL, &sl);
    st = get_state(L); /* 4 */
    /* room for the authorization (its signed-headers part is build_v3's to count) */
    build_v3(L, st, 4, idl > INPUT_MAX ? SIZE_MAX : LIT_LEN(V3_ALGORITHM V3_CREDENTIAL V3_SIGNED_HEADERS V3_SIGNATURE) + sizeof sig + idl, &o);
    digest(L, st, ALG_SHA256, o.cr, o.crl, md);
    w = put(sts, V3_ALGORITHM "\n", LIT_LEN(V3_ALGORITHM "\n"));
    hex_to(w, md, sizeof md);
    if (hmac(L, st, ALG_SHA256, secret, sl, "", 0, sts, sizeof sts, 0, mac) != 32) luaL_error(L, "HMAC: bad length");
    hex_to(sig, mac, 32);
    auth = w = o.end;
    w = put(w, V3_ALGORITHM V3_CREDENTIAL, LIT_LEN(V3_ALGORITHM V3_CREDENTIAL));
    w = put(w, id, idl);
    w = put(w, V3_SIGNED_HEADERS, LIT_LEN(V3_SIGNED_HEADERS));
    w = put(w, o.sh, o.shl);
    w = put(w, V3_SIGNATURE, LIT_LEN(V3_SIGNATURE));
    w = put(w, sig, sizeof sig);
    detach_state(L);
    lua_pushlstring(L, auth, (size_t)(w - auth));
    lua_pushlstring(L, sig, sizeof sig);
    lua_pushlstring(L, o.cr, o.crl);
    lua_pushlstring(L, sts, sizeof sts);
    attach_state(L, 4);
    return 4;
}

/* ------------------------------------------------------------------ base64 */

static int b64_value(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62; /* '-' and '_': the URL-safe alphabet */
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Decodes standard or URL-safe base64; whitespace is skipped, padding optional.
 * Returns nil plus a message naming the byte offset on anything else. */
int aliyun_l_base64_decode(lua_State *L) {
    size_t n, i;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned long acc = 0;
    int bits = 0, pad = 0;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int v;
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        if (c == '=') {
            pad++;
            continue;
        }
        v = b64_value(c);
        if (v < 0 || pad) {
            luaL_pushresult(&b);
            lua_pop(L, 1);
            lua_pushnil(L);
            lua_pushfstring(L, "invalid base64 character at byte %d", (int)(i + 1));
            return 2;
        }
        acc = ((acc << 6) | (unsigned long)v) & 0xFFFFFFUL;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            luaL_addchar(&b, (char)((acc >> bits) & 0xFF));
        }
    }
    luaL_pushresult(&b);
    return 1;
}

