/* sign.c: percent-encoding, canonical strings and signatures for Alibaba Cloud RPC APIs.
 *
 * Memory discipline: Lua errors longjmp, so nothing here holds malloc'd memory across a
 * Lua API call. Temporary arrays are Lua userdata (collected by the GC) and strings are
 * built in luaL_Buffers. Pointers into Lua strings stay valid while the strings are
 * reachable from the stack, and Lua's collector never moves objects. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/err.h>

#include "sign.h"

/* ------------------------------------------------------------------ encoding */

static const char HEX_UPPER[] = "0123456789ABCDEF";
static const char HEX_LOWER[] = "0123456789abcdef";

/* RFC 3986 unreserved characters: A-Z a-z 0-9 - _ . ~ */
static int is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

/* Appends s, percent-encoded byte by byte (so UTF-8 text becomes %XX of its bytes).
 * keep_slash leaves '/' as is, for URL paths. */
static void add_encoded(luaL_Buffer *b, const char *s, size_t n, int keep_slash) {
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            luaL_addchar(b, (char)c);
        } else {
            luaL_addchar(b, '%');
            luaL_addchar(b, HEX_UPPER[c >> 4]);
            luaL_addchar(b, HEX_UPPER[c & 15]);
        }
    }
}

int aliyun_l_percent_encode(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    add_encoded(&b, s, n, 0);
    luaL_pushresult(&b);
    return 1;
}

static void push_hex(lua_State *L, const unsigned char *p, size_t n) {
    luaL_Buffer b;
    size_t i;
    luaL_buffinit(L, &b);
    for (i = 0; i < n; i++) {
        luaL_addchar(&b, HEX_LOWER[p[i] >> 4]);
        luaL_addchar(&b, HEX_LOWER[p[i] & 15]);
    }
    luaL_pushresult(&b);
}

int aliyun_l_hex(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    push_hex(L, (const unsigned char *)s, n);
    return 1;
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void push_base64(lua_State *L, const unsigned char *p, size_t n) {
    luaL_Buffer b;
    size_t i;
    luaL_buffinit(L, &b);
    for (i = 0; i + 2 < n; i += 3) {
        unsigned long v = ((unsigned long)p[i] << 16) | ((unsigned long)p[i + 1] << 8) | p[i + 2];
        luaL_addchar(&b, B64[(v >> 18) & 63]);
        luaL_addchar(&b, B64[(v >> 12) & 63]);
        luaL_addchar(&b, B64[(v >> 6) & 63]);
        luaL_addchar(&b, B64[v & 63]);
    }
    if (n - i == 1) {
        unsigned long v = (unsigned long)p[i] << 16;
        luaL_addchar(&b, B64[(v >> 18) & 63]);
        luaL_addchar(&b, B64[(v >> 12) & 63]);
        luaL_addstring(&b, "==");
    } else if (n - i == 2) {
        unsigned long v = ((unsigned long)p[i] << 16) | ((unsigned long)p[i + 1] << 8);
        luaL_addchar(&b, B64[(v >> 18) & 63]);
        luaL_addchar(&b, B64[(v >> 12) & 63]);
        luaL_addchar(&b, B64[(v >> 6) & 63]);
        luaL_addchar(&b, '=');
    }
    luaL_pushresult(&b);
}

int aliyun_l_base64(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    push_base64(L, (const unsigned char *)s, n);
    return 1;
}

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

static void hmac(lua_State *L, const EVP_MD *md, const char *key, size_t keylen,
                 const char *data, size_t datalen, unsigned char *out, unsigned int *outlen) {
    if (keylen > (size_t)0x7fffffff) luaL_error(L, "HMAC key too long");
    if (HMAC(md, key, (int)keylen, (const unsigned char *)data, datalen, out, outlen) == NULL)
        openssl_error(L, "HMAC");
}

static void sha256(lua_State *L, const char *data, size_t n, unsigned char out[32]) {
    unsigned int len = 0;
    if (!EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) || len != 32)
        openssl_error(L, "SHA-256");
}

int aliyun_l_hmac_sha1(lua_State *L) {
    size_t kl, dl;
    const char *k = luaL_checklstring(L, 1, &kl);
    const char *d = luaL_checklstring(L, 2, &dl);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    hmac(L, EVP_sha1(), k, kl, d, dl, out, &len);
    lua_pushlstring(L, (const char *)out, len);
    return 1;
}

int aliyun_l_hmac_sha256(lua_State *L) {
    size_t kl, dl;
    const char *k = luaL_checklstring(L, 1, &kl);
    const char *d = luaL_checklstring(L, 2, &dl);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    hmac(L, EVP_sha256(), k, kl, d, dl, out, &len);
    lua_pushlstring(L, (const char *)out, len);
    return 1;
}

int aliyun_l_sha256_hex(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    unsigned char md[32];
    sha256(L, s, n, md);
    push_hex(L, md, sizeof md);
    return 1;
}

/* 16 random bytes from OpenSSL's CSPRNG as 32 hex characters: unique per request,
 * which is what SignatureNonce and x-acs-signature-nonce need. */
int aliyun_l_nonce(lua_State *L) {
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1) return openssl_error(L, "RAND_bytes");
    push_hex(L, r, sizeof r);
    return 1;
}

int aliyun_l_timestamp(lua_State *L) {
    time_t t;
    struct tm tm;
    char buf[32];
    if (lua_isnoneornil(L, 1)) {
        t = time(NULL);
    } else {
        lua_Number v = luaL_checknumber(L, 1);
        /* time_t is 64-bit here; refuse values gmtime cannot represent as a 4-digit year */
        if (!(v >= 0 && v < 253402300800.0)) return luaL_argerror(L, 1, "epoch seconds out of range");
        t = (time_t)v;
    }
    if (gmtime_r(&t, &tm) == NULL) return luaL_error(L, "gmtime_r failed");
    if (strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) return luaL_error(L, "strftime failed");
    lua_pushstring(L, buf);
    return 1;
}

/* ------------------------------------------------------- parameter tables */

typedef struct {
    const char *k, *v;
    size_t kl, vl;
} pair_t;

static int cmp_pair(const void *a, const void *b) {
    const pair_t *x = (const pair_t *)a, *y = (const pair_t *)b;
    size_t n = x->kl < y->kl ? x->kl : y->kl;
    int c = memcmp(x->k, y->k, n);
    if (c) return c;
    return (x->kl > y->kl) - (x->kl < y->kl);
}

/* Reads the string-to-string table at idx into a sorted array of pairs, held in a new
 * userdata pushed on the stack. With encode_keys, keys are percent-encoded first (into
 * strings kept in a table that is also pushed) and sorted in their encoded form, as V3
 * requires. Non-string names or values are a programmer error: the Lua layer serialises
 * every value before signing. Values are never named in messages: they may be secret. */
static pair_t *collect_pairs(lua_State *L, int idx, const char *what, int encode_keys, size_t *count) {
    size_t n = 0, i = 0;
    pair_t *p;
    int anchor = 0;
    if (idx < 0) idx = lua_gettop(L) + idx + 1;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        n++;
        lua_pop(L, 1);
    }
    if (encode_keys) {
        lua_createtable(L, (int)n, 0);
        anchor = lua_gettop(L);
    }
    p = (pair_t *)lua_newuserdata(L, (n ? n : 1) * sizeof(pair_t));
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (i >= n) luaL_error(L, "%s: table changed while signing", what);
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "%s: parameter names must be strings, got a %s", what, luaL_typename(L, -2));
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: value of '%s' must be a string, got a %s", what, lua_tostring(L, -2),
                       luaL_typename(L, -1));
        p[i].v = lua_tolstring(L, -1, &p[i].vl);
        p[i].k = lua_tolstring(L, -2, &p[i].kl);
        if (encode_keys) {
            luaL_Buffer b;
            lua_pop(L, 1); /* value is still reachable from the table */
            luaL_buffinit(L, &b);
            add_encoded(&b, p[i].k, p[i].kl, 0);
            luaL_pushresult(&b);
            p[i].k = lua_tolstring(L, -1, &p[i].kl);
            lua_rawseti(L, anchor, (int)i + 1);
        } else {
            lua_pop(L, 1);
        }
        i++;
    }
    qsort(p, i, sizeof *p, cmp_pair);
    *count = i;
    return p;
}

/* Appends k=v&k=v with both sides encoded (keys already encoded when keys_encoded). */
static void add_query(luaL_Buffer *b, const pair_t *p, size_t n, int keys_encoded) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (i) luaL_addchar(b, '&');
        if (keys_encoded)
            luaL_addlstring(b, p[i].k, p[i].kl);
        else
            add_encoded(b, p[i].k, p[i].kl, 0);
        luaL_addchar(b, '=');
        add_encoded(b, p[i].v, p[i].vl, 0);
    }
}

/* Pushes the canonical query of the table at idx: sorted by name, both sides encoded. */
static void push_canonical_query(lua_State *L, int idx, const char *what) {
    size_t n;
    luaL_Buffer b;
    const pair_t *p = collect_pairs(L, idx, what, 0, &n);
    luaL_buffinit(L, &b);
    add_query(&b, p, n, 0);
    luaL_pushresult(&b);
    lua_remove(L, -2); /* the pairs */
}

int aliyun_l_form_encode(lua_State *L) {
    push_canonical_query(L, 1, "form_encode");
    return 1;
}

int aliyun_l_v1_canonical_query(lua_State *L) {
    push_canonical_query(L, 1, "v1_canonical_query");
    return 1;
}

/* METHOD & percent("/") & percent(canonical query), as section 4.4 defines. */
static void push_v1_string_to_sign(lua_State *L, const char *method, size_t ml, const char *cq, size_t cql) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, method, ml);
    luaL_addstring(&b, "&%2F&");
    add_encoded(&b, cq, cql, 0);
    luaL_pushresult(&b);
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
    push_v1_string_to_sign(L, m, ml, cq, cql);
    return 1;
}

/* v1_sign(method, params, secret) -> signature, string_to_sign, canonical_query.
 * The HMAC-SHA1 key is the AccessKeySecret followed by "&". */
int aliyun_l_v1_sign(lua_State *L) {
    size_t ml, sl, cql, stsl, kl;
    const char *m = check_method(L, 1, &ml);
    const char *secret, *cq, *sts, *key;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    luaL_checktype(L, 2, LUA_TTABLE);
    secret = luaL_checklstring(L, 3, &sl);
    lua_settop(L, 3);
    push_canonical_query(L, 2, "v1_sign");                /* 4: canonical query */
    cq = lua_tolstring(L, 4, &cql);
    push_v1_string_to_sign(L, m, ml, cq, cql);             /* 5: string to sign */
    sts = lua_tolstring(L, 5, &stsl);
    lua_pushlstring(L, secret, sl);
    lua_pushliteral(L, "&");
    lua_concat(L, 2);                                      /* 6: key */
    key = lua_tolstring(L, 6, &kl);
    hmac(L, EVP_sha1(), key, kl, sts, stsl, mac, &maclen);
    lua_pop(L, 1);                                         /* the key leaves the stack at once */
    push_base64(L, mac, maclen);                           /* 6: signature */
    lua_pushvalue(L, 5);
    lua_pushvalue(L, 4);
    return 3;                                              /* signature, sts, cq */
}

/* ------------------------------------------------------------------- V3 */

/* Headers that take part in the V3 signature: host, content-type and every x-acs-*. */
static int is_signed_header(const char *k, size_t n) {
    return (n == 4 && memcmp(k, "host", 4) == 0) || (n == 12 && memcmp(k, "content-type", 12) == 0) ||
           (n > 6 && memcmp(k, "x-acs-", 6) == 0);
}

/* Reads opts.headers into sorted pairs of (lower-case name, trimmed value), keeping only
 * the signed ones. Lower-cased names are kept alive in a table pushed under the pairs. */
static pair_t *collect_signed_headers(lua_State *L, int opts, size_t *count) {
    size_t n = 0, i = 0, j;
    int anchor, hidx;
    pair_t *p;
    lua_getfield(L, opts, "headers");
    if (!lua_istable(L, -1)) luaL_error(L, "v3: opts.headers must be a table");
    hidx = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, hidx)) {
        n++;
        lua_pop(L, 1);
    }
    lua_createtable(L, (int)n, 0);
    anchor = lua_gettop(L);
    p = (pair_t *)lua_newuserdata(L, (n ? n : 1) * sizeof(pair_t));
    lua_pushnil(L);
    while (lua_next(L, hidx)) {
        size_t kl, vl, a, z;
        const char *k, *v;
        luaL_Buffer b;
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "v3: header names and values must be strings");
        k = lua_tolstring(L, -2, &kl);
        v = lua_tolstring(L, -1, &vl);
        lua_pop(L, 1);
        luaL_buffinit(L, &b);
        for (j = 0; j < kl; j++) luaL_addchar(&b, (k[j] >= 'A' && k[j] <= 'Z') ? (char)(k[j] + 32) : k[j]);
        luaL_pushresult(&b);
        k = lua_tostring(L, -1);
        if (!is_signed_header(k, kl)) {
            lua_pop(L, 1);
            continue;
        }
        lua_rawseti(L, anchor, (int)i + 1);
        for (a = 0; a < vl && (v[a] == ' ' || v[a] == '\t'); a++) {}
        for (z = vl; z > a && (v[z - 1] == ' ' || v[z - 1] == '\t'); z--) {}
        p[i].k = k;
        p[i].kl = kl;
        p[i].v = v + a;
        p[i].vl = z - a;
        i++;
    }
    qsort(p, i, sizeof *p, cmp_pair);
    for (j = 1; j < i; j++)
        if (cmp_pair(&p[j - 1], &p[j]) == 0) luaL_error(L, "v3: header '%s' given twice", p[j].k);
    *count = i;
    return p;
}

static const char *opt_string(lua_State *L, int opts, const char *name, const char *dflt, size_t *len) {
    const char *s;
    lua_getfield(L, opts, name);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        if (dflt == NULL) luaL_error(L, "v3: opts.%s is required", name);
        *len = strlen(dflt);
        return dflt;
    }
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "v3: opts.%s must be a string", name);
    s = lua_tolstring(L, -1, len);
    lua_pop(L, 1); /* still referenced by opts */
    return s;
}

/* Pushes the canonical request and the signed-headers list for the opts table at 1:
 *   method, path ("/"), query ({k=v}), headers ({k=v}), and payload_hash or body. */
static void push_v3_canonical_request(lua_State *L) {
    size_t ml, pl, n, nh, i, hl;
    const char *method, *path, *hash;
    const pair_t *q, *h;
    unsigned char md[32];
    luaL_Buffer b;
    luaL_checktype(L, 1, LUA_TTABLE);
    method = opt_string(L, 1, "method", NULL, &ml);
    path = opt_string(L, 1, "path", "/", &pl);
    lua_getfield(L, 1, "payload_hash");
    if (lua_isnil(L, -1)) {
        size_t bl;
        const char *body;
        lua_pop(L, 1);
        body = opt_string(L, 1, "body", "", &bl);
        sha256(L, body, bl, md);
        push_hex(L, md, sizeof md);
    }
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "v3: opts.payload_hash must be a string");
    hash = lua_tolstring(L, -1, &hl);                      /* kept on the stack */
    lua_getfield(L, 1, "query");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    q = collect_pairs(L, -1, "v3 query", 1, &n);           /* pushes anchor + pairs */
    h = collect_signed_headers(L, 1, &nh);                 /* pushes headers, anchor, pairs */

    luaL_buffinit(L, &b);
    luaL_addlstring(&b, method, ml);
    luaL_addchar(&b, '\n');
    add_encoded(&b, path, pl, 1);
    luaL_addchar(&b, '\n');
    add_query(&b, q, n, 1);
    luaL_addchar(&b, '\n');
    for (i = 0; i < nh; i++) {
        luaL_addlstring(&b, h[i].k, h[i].kl);
        luaL_addchar(&b, ':');
        luaL_addlstring(&b, h[i].v, h[i].vl);
        luaL_addchar(&b, '\n');
    }
    luaL_addchar(&b, '\n');
    for (i = 0; i < nh; i++) {
        if (i) luaL_addchar(&b, ';');
        luaL_addlstring(&b, h[i].k, h[i].kl);
    }
    luaL_addchar(&b, '\n');
    luaL_addlstring(&b, hash, hl);
    luaL_pushresult(&b);

    luaL_buffinit(L, &b);
    for (i = 0; i < nh; i++) {
        if (i) luaL_addchar(&b, ';');
        luaL_addlstring(&b, h[i].k, h[i].kl);
    }
    luaL_pushresult(&b);
}

int aliyun_l_v3_canonical_request(lua_State *L) {
    lua_settop(L, 1);
    push_v3_canonical_request(L);
    return 2;
}

/* v3_sign(opts) -> authorization, signature, canonical_request, string_to_sign.
 * opts adds access_key_id and access_key_secret to the canonical request's fields. */
int aliyun_l_v3_sign(lua_State *L) {
    size_t idl, sl, crl, shl, stsl;
    const char *id, *secret, *cr, *sh, *sts;
    unsigned char md[32], mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    int top;
    lua_settop(L, 1);
    luaL_checktype(L, 1, LUA_TTABLE);
    id = opt_string(L, 1, "access_key_id", NULL, &idl);
    secret = opt_string(L, 1, "access_key_secret", NULL, &sl);
    push_v3_canonical_request(L);
    top = lua_gettop(L);
    cr = lua_tolstring(L, top - 1, &crl);
    sh = lua_tolstring(L, top, &shl);
    sha256(L, cr, crl, md);
    lua_pushliteral(L, "ACS3-HMAC-SHA256\n");
    push_hex(L, md, sizeof md);
    lua_concat(L, 2);                                      /* top+1: string to sign */
    sts = lua_tolstring(L, top + 1, &stsl);
    hmac(L, EVP_sha256(), secret, sl, sts, stsl, mac, &maclen);
    push_hex(L, mac, maclen);                              /* top+2: signature */
    lua_pushliteral(L, "ACS3-HMAC-SHA256 Credential=");
    lua_pushlstring(L, id, idl);
    lua_pushliteral(L, ",SignedHeaders=");
    lua_pushlstring(L, sh, shl);
    lua_pushliteral(L, ",Signature=");
    lua_pushvalue(L, top + 2);
    lua_concat(L, 6);                                      /* top+3: authorization */
    lua_pushvalue(L, top + 3);
    lua_pushvalue(L, top + 2);
    lua_pushvalue(L, top - 1);
    lua_pushvalue(L, top + 1);
    return 4;
}
