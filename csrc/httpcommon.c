/* httpcommon.c: see httpcommon.h. */
#include <stdlib.h>
#include <string.h>

#include "httpcommon.h"

#define DEFAULT_MAX_BODY (64L * 1024 * 1024)
#define DEFAULT_BATCH_MEMORY (64L * 1024 * 1024)

static char *dup_string(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = (char *)malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* Seconds (possibly fractional) from opts[name] as milliseconds; dflt when absent. */
static long opt_ms(lua_State *L, int idx, const char *name, long dflt) {
    long ms = dflt;
    lua_getfield(L, idx, name);
    if (!lua_isnil(L, -1)) {
        lua_Number v;
        if (lua_type(L, -1) != LUA_TNUMBER) luaL_error(L, "%s must be a number of seconds", name);
        v = lua_tonumber(L, -1);
        if (!(v > 0 && v <= 86400)) luaL_error(L, "%s must be between 0 and 86400 seconds", name);
        ms = (long)(v * 1000 + 0.5);
        if (ms < 1) ms = 1;
    }
    lua_pop(L, 1);
    return ms;
}

/* A positive number of bytes from opts[name]; dflt when absent. */
static size_t opt_bytes(lua_State *L, int idx, const char *name, size_t dflt) {
    size_t n = dflt;
    lua_getfield(L, idx, name);
    if (!lua_isnil(L, -1)) {
        lua_Number v = lua_tonumber(L, -1);
        if (!(v >= 1)) luaL_error(L, "%s must be a positive number of bytes", name);
        n = v > 1e15 ? (size_t)1e15 : (size_t)v;
    }
    lua_pop(L, 1);
    return n;
}

/* A copy of the string option opts[name], or NULL when absent. */
static char *opt_strdup(lua_State *L, int idx, const char *name) {
    char *d = NULL;
    lua_getfield(L, idx, name);
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s must be a string", name);
        d = dup_string(lua_tostring(L, -1));
        if (d == NULL) luaL_error(L, "out of memory");
    }
    lua_pop(L, 1);
    return d;
}

void aliyun_http_opts_read(lua_State *L, int o, aliyun_http_opts_t *s) {
    s->connect_timeout_ms = opt_ms(L, o, "connect_timeout", 10000);
    s->timeout_ms = opt_ms(L, o, "timeout", 60000);
    lua_getfield(L, o, "verify_tls");
    s->verify_tls = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, o, "curl_http");
    s->curl_http = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, o, "raw_headers");
    s->raw_headers = lua_toboolean(L, -1);
    lua_pop(L, 1);
    s->max_body = opt_bytes(L, o, "max_body", DEFAULT_MAX_BODY);
    s->batch_memory = opt_bytes(L, o, "batch_memory", DEFAULT_BATCH_MEMORY);
    s->ca_file = opt_strdup(L, o, "ca_file");
    s->proxy = opt_strdup(L, o, "proxy");
    s->no_proxy = opt_strdup(L, o, "no_proxy");
    s->user_agent = opt_strdup(L, o, "user_agent");
}

void aliyun_http_opts_free(aliyun_http_opts_t *s) {
    free(s->ca_file);
    free(s->proxy);
    free(s->no_proxy);
    free(s->user_agent);
    s->ca_file = s->proxy = s->no_proxy = s->user_agent = NULL;
}

long aliyun_opt_ms(lua_State *L, int idx, const char *name, long dflt) {
    return opt_ms(L, idx, name, dflt);
}

static int has_crlf(const char *p, size_t n) {
    return memchr(p, '\r', n) != NULL || memchr(p, '\n', n) != NULL;
}

const char *aliyun_bad_header(const char *k, size_t kl, const char *v, size_t vl) {
    if (kl == 0 || has_crlf(k, kl) || memchr(k, ':', kl) || memchr(k, '\0', kl)) return "invalid request header name";
    if (has_crlf(v, vl) || memchr(v, '\0', vl)) return "request header value contains CR, LF or NUL";
    return NULL;
}

/* Appends value v to the list of values of the repeated header whose name and first value
 * are on top of the stack (name, first value); reps (an absolute index) holds
 * {name = {values}}, made on the first repeat. Pops name and first value. */
static void add_repeat(lua_State *L, int reps, const char *v, size_t vl) {
    if (lua_isnil(L, reps)) {
        lua_newtable(L);
        lua_replace(L, reps);
    }
    lua_pushvalue(L, -2);
    lua_rawget(L, reps);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_createtable(L, 4, 0);
        lua_pushvalue(L, -2);
        lua_rawseti(L, -2, 1);
        lua_pushvalue(L, -3);
        lua_pushvalue(L, -2);
        lua_rawset(L, reps);
    }
    lua_pushlstring(L, v, vl);
    lua_rawseti(L, -2, (int)lua_rawlen(L, -2) + 1);
    lua_pop(L, 3);
}

/* Sets t[name] to the values of each repeated header joined with ", ". */
static void join_repeats(lua_State *L, int t, int reps) {
    if (lua_isnil(L, reps)) return;
    lua_pushnil(L);
    while (lua_next(L, reps)) { /* name, list */
        int list = lua_gettop(L), j, nv = (int)lua_rawlen(L, list);
        luaL_Buffer b;
        lua_pushvalue(L, list - 1);
        luaL_buffinit(L, &b);
        for (j = 1; j <= nv; j++) {
            if (j > 1) luaL_addlstring(&b, ", ", 2);
            lua_rawgeti(L, list, j);
            luaL_addvalue(&b);
        }
        luaL_pushresult(&b);
        lua_rawset(L, t);
        lua_pop(L, 1);
    }
}

/* Pushes the header block of the final response as {lower-case name = value}; repeated
 * headers are joined with ", " as RFC 9110 allows, once at the end, so that many repeats
 * cost linear time (joining as they came was quadratic). Names are lower-cased in a stack
 * buffer: this runs for every response, and per-byte luaL_Buffer calls were most of its
 * cost. */
void aliyun_push_headers(lua_State *L, const membuf_t *m) {
    const char *p = m->data, *end = m->data + m->len;
    int t, reps;
    lua_createtable(L, 0, 8);
    if (p == NULL) return;
    t = lua_gettop(L);
    lua_pushnil(L); /* the repeats, made when one comes */
    reps = t + 1;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon && !(line_end - p >= 5 && memcmp(p, "HTTP/", 5) == 0)) {
            const char *v = colon + 1, *ve = line_end;
            size_t i, kl = (size_t)(colon - p);
            char name[128];
            while (v < ve && (*v == ' ' || *v == '\t')) v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
            if (kl <= sizeof name) {
                for (i = 0; i < kl; i++) name[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i];
                lua_pushlstring(L, name, kl);
            } else {
                luaL_Buffer b;
                luaL_buffinit(L, &b);
                for (i = 0; i < kl; i++) luaL_addchar(&b, (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] + 32) : p[i]);
                luaL_pushresult(&b);
            }
            lua_pushvalue(L, -1);
            lua_rawget(L, t);
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                lua_pushlstring(L, v, (size_t)(ve - v));
                lua_rawset(L, t);
            } else {
                add_repeat(L, reps, v, (size_t)(ve - v));
            }
        }
        p = line_end + 1;
    }
    join_repeats(L, t, reps);
    lua_settop(L, t);
}

void aliyun_session_metatable(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc,
                              lua_CFunction tostring) {
    if (luaL_newmetatable(L, name)) {
        /* every function gets the metatable as its upvalue 1, for aliyun_check_self */
        lua_newtable(L);
        lua_pushvalue(L, -2);
        luaL_setfuncs(L, methods, 1);
        lua_setfield(L, -2, "__index");
        lua_pushvalue(L, -1);
        lua_pushcclosure(L, gc, 1);
        lua_setfield(L, -2, "__gc");
        lua_pushvalue(L, -1);
        lua_pushcclosure(L, tostring, 1);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
}

void *aliyun_check_self(lua_State *L, const char *name) {
    void *p = lua_touserdata(L, 1);
    if (p != NULL && lua_getmetatable(L, 1)) {
        int same = lua_rawequal(L, -1, lua_upvalueindex(1));
        lua_pop(L, 1);
        if (same) return p;
    }
    return luaL_checkudata(L, 1, name); /* not one: its usual error */
}

int aliyun_batch_count(lua_State *L, int reqs, int count) {
    if (lua_isfunction(L, reqs)) {
        lua_Integer n = luaL_checkinteger(L, count);
        if (n < 0 || n > 100000000) luaL_argerror(L, count, "a count of requests expected");
        return (int)n;
    }
    luaL_checktype(L, reqs, LUA_TTABLE);
    return (int)lua_rawlen(L, reqs);
}

int aliyun_batch_request(lua_State *L, int reqs, int i) {
    if (lua_isfunction(L, reqs)) {
        lua_pushvalue(L, reqs);
        lua_pushinteger(L, i);
        lua_call(L, 1, 1);
        if (lua_isnil(L, -1) || (lua_isboolean(L, -1) && !lua_toboolean(L, -1))) {
            lua_pop(L, 1);
            return 0;
        }
    } else {
        lua_rawgeti(L, reqs, i);
    }
    if (!lua_istable(L, -1)) luaL_error(L, "batch: request %d is not a table", i);
    return 1;
}

void aliyun_batch_failure(lua_State *L, const char *msg, const char *kind, int sent) {
    lua_createtable(L, 0, 3);
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "error");
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushboolean(L, sent);
    lua_setfield(L, -2, "sent");
}

void aliyun_batch_deliver(lua_State *L, int done, int results, int i, int *in_callback) {
    int rc;
    if (!lua_isfunction(L, done)) {
        lua_rawseti(L, results, i);
        return;
    }
    lua_pushvalue(L, done);
    lua_insert(L, -2);
    lua_pushinteger(L, i);
    lua_insert(L, -2);
    *in_callback = 1;
    rc = lua_pcall(L, 2, 0, 0);
    *in_callback = 0;
    if (rc != 0) lua_error(L);
}

int aliyun_push_too_large(lua_State *L, size_t max_body) {
    lua_pushnil(L);
    lua_pushfstring(L, "response body larger than the limit of %d bytes", (int)(max_body > 0x7fffffff ? 0x7fffffff : max_body));
    lua_pushliteral(L, "network");
    return 3;
}


/* Pushes a response table {status, headers, body, elapsed} from a header block (status
 * line and header lines) and a body. */
void aliyun_push_result(lua_State *L, long status, const membuf_t *headers, const membuf_t *body, double elapsed,
                        int raw_headers) {
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, (lua_Integer)status);
    lua_setfield(L, -2, "status");
    if (raw_headers) {
        /* the header block as received; core.parse_headers makes the table when needed */
        lua_pushlstring(L, headers->data ? headers->data : "", headers->len);
        lua_setfield(L, -2, "raw_headers");
    } else {
        aliyun_push_headers(L, headers);
        lua_setfield(L, -2, "headers");
    }
    lua_pushlstring(L, body->data ? body->data : "", body->len);
    lua_setfield(L, -2, "body");
    lua_pushnumber(L, (lua_Number)elapsed);
    lua_setfield(L, -2, "elapsed");
}
