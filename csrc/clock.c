/* clock.c: monotonic time and sleeping for retries and waiters; epoch time with
 * fractions for debug timing; RFC 7231 Date header parsing for clock-skew correction;
 * and whether stderr is a terminal, which decides if waiters draw a progress line. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "interrupt.h"

/* core.monotonic() -> seconds (float) on a clock that never jumps */
int aliyun_l_monotonic(lua_State *L) {
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return luaL_error(L, "clock_gettime: %s", strerror(errno));
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* core.time() -> seconds since the epoch (float) */
int aliyun_l_time(lua_State *L) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return luaL_error(L, "clock_gettime: %s", strerror(errno));
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* core.sleep(seconds): blocks the thread; 0 <= seconds <= one day. Interrupted sleeps
 * resume for the time left, except after a Ctrl-C caught by core.catch_interrupts. Never
 * used inside nginx (ngx.sleep there). */
int aliyun_l_sleep(lua_State *L) {
    lua_Number s = luaL_checknumber(L, 1);
    struct timespec req, rem;
    if (!(s >= 0 && s <= 86400)) return luaL_argerror(L, 1, "seconds between 0 and 86400 expected");
    req.tv_sec = (time_t)s;
    req.tv_nsec = (long)((s - (lua_Number)req.tv_sec) * 1e9);
    if (req.tv_nsec >= 1000000000L) req.tv_nsec = 999999999L;
    if (aliyun_interrupt_pending()) return 0;
    while (nanosleep(&req, &rem) != 0) {
        if (errno != EINTR) return luaL_error(L, "nanosleep: %s", strerror(errno));
        if (aliyun_interrupt_pending()) return 0;
        req = rem;
    }
    return 0;
}

static int month_index(const char *m) {
    static const char *const names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (int i = 0; i < 12; i++)
        if (strncmp(m, names[i], 3) == 0) return i;
    return -1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), independent of the local zone. */
static long long days_from_civil(long long y, int m, int d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* core.parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") -> epoch seconds | nil */
int aliyun_l_parse_http_date(lua_State *L) {
    const char *s = luaL_checkstring(L, 1);
    char wday[4], mon[4], zone[4];
    int d, y, hh, mm, ss, n = 0;
    if (sscanf(s, "%3s, %d %3s %d %d:%d:%d %3s%n", wday, &d, mon, &y, &hh, &mm, &ss, zone, &n) != 8 || s[n] != '\0' ||
        strcmp(zone, "GMT") != 0) {
        lua_pushnil(L);
        return 1;
    }
    int m = month_index(mon);
    if (m < 0 || d < 1 || d > 31 || y < 1970 || y > 9999 || hh > 23 || mm > 59 || ss > 60 || hh < 0 || mm < 0 ||
        ss < 0) {
        lua_pushnil(L);
        return 1;
    }
    long long t = days_from_civil(y, m + 1, d) * 86400LL + hh * 3600LL + mm * 60LL + ss;
    aliyun_pushint64(L, t);
    return 1;
}

/* core.isatty(fd) -> boolean (0 stdin, 1 stdout, 2 stderr) */
int aliyun_l_isatty(lua_State *L) {
    lua_Integer fd = luaL_checkinteger(L, 1);
    lua_pushboolean(L, fd >= 0 && fd <= 1024 && isatty((int)fd) == 1);
    return 1;
}
