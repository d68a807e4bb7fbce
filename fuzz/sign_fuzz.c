/* libFuzzer target: percent-encoding, the V1/V3 canonical strings and the HMACs. The input
 * is split at NUL bytes into alternating names and values (the first piece is the method)
 * and run through every canonicalisation; none may crash. Beyond that, results are checked
 * against plain definitions: percent-encoding against a byte-at-a-time encoder written here,
 * v1_sign's three results against v1_canonical_query, v1_string_to_sign and OpenSSL's
 * one-shot HMAC(), and the HMAC primitives (whose keyed states the core keeps between
 * calls) against HMAC() with the pieces as keys, in turn. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../csrc/compat.h"
#include "../csrc/sign.h"
#include <lualib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok) {
    if (!ok) __builtin_trap();
}

/* The definition: every byte but A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex). */
static void check_encoded(const char *in, size_t n, const char *out, size_t outl) {
    static const char hex[] = "0123456789ABCDEF";
    size_t i, j = 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        int keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                   c == '_' || c == '.' || c == '~';
        if (keep) {
            check(j < outl && out[j] == (char)c);
            j += 1;
        } else {
            check(j + 2 < outl && out[j] == '%' && out[j + 1] == hex[c >> 4] && out[j + 2] == hex[c & 15]);
            j += 3;
        }
    }
    check(j == outl);
}

/* f(key, msg), the core's HMAC, must equal OpenSSL's one-shot HMAC(md, key, msg). */
static void check_hmac(lua_State *L, lua_CFunction f, const EVP_MD *md, const char *key, size_t kl, const char *msg,
                       size_t ml) {
    unsigned char want[EVP_MAX_MD_SIZE];
    unsigned int wl = 0;
    size_t gl;
    const char *got;
    check(HMAC(md, key, (int)kl, (const unsigned char *)msg, ml, want, &wl) != NULL);
    lua_pushcfunction(L, f);
    lua_pushlstring(L, key, kl);
    lua_pushlstring(L, msg, ml);
    check(lua_pcall(L, 2, 1, 0) == LUA_OK);
    got = lua_tolstring(L, -1, &gl);
    check(gl == wl && memcmp(got, want, wl) == 0);
    lua_pop(L, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static lua_State *L = NULL;
    const char *p = (const char *)data, *end = p + size;
    int piece = 0;
    if (L == NULL) L = luaL_newstate();
    lua_settop(L, 0);

    /* percent_encode(whole input) */
    lua_pushcfunction(L, aliyun_l_percent_encode);
    lua_pushlstring(L, p, size);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) __builtin_trap();
    {
        size_t n;
        const char *e = lua_tolstring(L, -1, &n);
        check_encoded(p, size, e, n);
    }
    lua_settop(L, 0);

    /* params table from the pieces; the HMACs with each piece as the key, in turn */
    lua_newtable(L);           /* 1: params */
    lua_pushliteral(L, "GET"); /* 2: method */
    while (p <= end && piece < 64) {
        const char *z = memchr(p, 0, (size_t)(end - p));
        const char *stop = z ? z : end;
        size_t n = (size_t)(stop - p);
        if (piece < 8 && n < 300) {
            check_hmac(L, aliyun_l_hmac_sha1, EVP_sha1(), p, n, (const char *)data, size);
            check_hmac(L, aliyun_l_hmac_sha256, EVP_sha256(), p, n, p, n);
        }
        if (piece == 0) {
            lua_pushlstring(L, p, n);
            lua_replace(L, 2);
        } else if (piece % 2 == 1) {
            lua_pushlstring(L, p, n); /* name */
        } else {
            lua_pushlstring(L, p, n); /* value */
            lua_rawset(L, 1);
        }
        piece++;
        if (!z) break;
        p = z + 1;
    }
    lua_settop(L, 2);

    /* v1_sign: a refusal (bad method) is fine; a crash is not, nor results that disagree */
    lua_pushcfunction(L, aliyun_l_v1_sign);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 1);
    lua_pushliteral(L, "secret");
    if (lua_pcall(L, 3, 3, 0) == LUA_OK) { /* 3: signature, 4: string to sign, 5: canonical query */
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int macl = 0;
        size_t stsl, sigl;
        const char *sts = lua_tolstring(L, 4, &stsl);
        const char *sig = lua_tolstring(L, 3, &sigl);
        char b64[64];
        check(HMAC(EVP_sha1(), "secret&", 7, (const unsigned char *)sts, stsl, mac, &macl) != NULL);
        check(EVP_EncodeBlock((unsigned char *)b64, mac, (int)macl) == (int)sigl && memcmp(b64, sig, sigl) == 0);

        lua_pushcfunction(L, aliyun_l_v1_canonical_query);
        lua_pushvalue(L, 1);
        check(lua_pcall(L, 1, 1, 0) == LUA_OK);
        check(lua_rawequal(L, -1, 5));
        lua_pushcfunction(L, aliyun_l_form_encode);
        lua_pushvalue(L, 1);
        check(lua_pcall(L, 1, 1, 0) == LUA_OK);
        check(lua_rawequal(L, -1, 5));
        lua_pushcfunction(L, aliyun_l_v1_string_to_sign);
        lua_pushvalue(L, 2);
        lua_pushvalue(L, 5);
        check(lua_pcall(L, 2, 1, 0) == LUA_OK);
        check(lua_rawequal(L, -1, 4));
    }
    lua_settop(L, 2);

    /* v1_sign_url: the URL ends with the percent-encoded HMAC of the string to sign it gives */
    lua_pushcfunction(L, aliyun_l_v1_sign_url);
    lua_pushvalue(L, 2);
    lua_pushliteral(L, "http://h");
    lua_pushvalue(L, 1);
    lua_pushliteral(L, "secret");
    lua_pushliteral(L, "Act");
    lua_pushliteral(L, "2014-05-26");
    lua_pushliteral(L, "id");
    lua_pushnil(L);
    lua_pushliteral(L, "nonce");
    lua_pushinteger(L, 1700000000);
    if (lua_pcall(L, 10, 2, 0) == LUA_OK) { /* 3: url, 4: string to sign */
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int macl = 0;
        size_t urll, stsl, encl;
        const char *url = lua_tolstring(L, 3, &urll);
        const char *sts = lua_tolstring(L, 4, &stsl);
        const char *enc;
        char b64[64];
        check(urll > 10 && memcmp(url, "http://h/?", 10) == 0);
        check(HMAC(EVP_sha1(), "secret&", 7, (const unsigned char *)sts, stsl, mac, &macl) != NULL);
        lua_pushcfunction(L, aliyun_l_percent_encode);
        lua_pushlstring(L, b64, (size_t)EVP_EncodeBlock((unsigned char *)b64, mac, (int)macl));
        check(lua_pcall(L, 1, 1, 0) == LUA_OK);
        enc = lua_tolstring(L, -1, &encl);
        check(urll > encl + 11 && memcmp(url + urll - encl - 11, "&Signature=", 11) == 0 &&
              memcmp(url + urll - encl, enc, encl) == 0);
    }
    lua_settop(L, 2);

    lua_pushcfunction(L, aliyun_l_form_encode);
    lua_pushvalue(L, 1);
    (void)lua_pcall(L, 1, 1, 0);
    lua_settop(L, 2);

    /* V3: the pieces as query, and as x-acs-* headers; canonical request, then signed */
    lua_newtable(L); /* 3: opts */
    lua_pushvalue(L, 2);
    lua_setfield(L, 3, "method");
    lua_pushliteral(L, "/");
    lua_setfield(L, 3, "path");
    lua_pushvalue(L, 1);
    lua_setfield(L, 3, "query");
    lua_newtable(L);
    lua_pushliteral(L, "example.com");
    lua_setfield(L, -2, "host");
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "x-acs-action");
    lua_setfield(L, 3, "headers");
    lua_pushliteral(L, "");
    lua_setfield(L, 3, "body");
    lua_pushcfunction(L, aliyun_l_v3_canonical_request);
    lua_pushvalue(L, 3);
    (void)lua_pcall(L, 1, 2, 0);
    lua_settop(L, 3);
    lua_pushvalue(L, 2);
    lua_setfield(L, 3, "access_key_id");
    lua_pushvalue(L, 2);
    lua_setfield(L, 3, "access_key_secret");
    lua_pushcfunction(L, aliyun_l_v3_sign);
    lua_pushvalue(L, 3);
    (void)lua_pcall(L, 1, 4, 0);
    lua_settop(L, 0);
    lua_gc(L, LUA_GCSTEP, 0);
    return 0;
}
