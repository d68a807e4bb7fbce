/* sign.h: request signing for Alibaba Cloud RPC APIs.
 * V1: HMAC-SHA1 over a canonical query (ECS API reference, section 4.4).
 * V3: ACS3-HMAC-SHA256 over a canonical request. Plus the primitives both use. */
#ifndef ALIYUN_SIGN_H
#define ALIYUN_SIGN_H
#include "compat.h"
#include "membuf.h"

int aliyun_l_percent_encode(lua_State *L);     /* (s) -> s */
int aliyun_l_form_encode(lua_State *L);        /* ({k=v}) -> "k=v&..." sorted, encoded */
int aliyun_l_v1_canonical_query(lua_State *L); /* ({k=v}) -> canonical query */
int aliyun_l_v1_string_to_sign(lua_State *L);  /* (method, canonical_query) -> s */
int aliyun_l_v1_sign(lua_State *L);            /* (method, {k=v}, secret) -> signature, sts, cq */
/* (method, base_url, {k=v}, secret, action, version, access_key_id[, token, nonce, epoch])
 * -> url with the common parameters and the Signature, sts */
int aliyun_l_v1_sign_url(lua_State *L);
/* The same from C (the fused call, call.c): the arguments at slots a..a+9, the URL
 * appended to url and the string to sign to sts. Raises a Lua error on bad arguments. */
void aliyun_v1_sign_into(lua_State *L, const char *method, size_t ml, const char *base, size_t bl, int q,
                         membuf_t *url, membuf_t *sts);
int aliyun_l_v3_canonical_request(lua_State *L); /* (opts) -> canonical_request, signed_headers */
int aliyun_l_v3_sign(lua_State *L);            /* (opts) -> authorization, signature, cr, sts */
int aliyun_l_hmac_sha1(lua_State *L);          /* (key, data) -> raw 20 bytes */
int aliyun_l_hmac_sha256(lua_State *L);        /* (key, data) -> raw 32 bytes */
int aliyun_l_sha256_hex(lua_State *L);         /* (data) -> 64 hex chars */
int aliyun_l_hex(lua_State *L);                /* (raw) -> lower-case hex */
int aliyun_l_base64(lua_State *L);             /* (raw) -> base64 with padding, no newlines */
int aliyun_l_base64_decode(lua_State *L);      /* (b64) -> raw | nil, err */
int aliyun_l_nonce(lua_State *L);              /* () -> 32 hex chars from the OpenSSL RNG */
int aliyun_l_timestamp(lua_State *L);          /* ([epoch]) -> "YYYY-MM-DDThh:mm:ssZ" UTC */
#endif
