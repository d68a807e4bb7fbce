/* files.c: a file's permission bits, so that the credential providers can warn when a file
 * holding keys is open to other users (as ssh does for private keys). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"

/* core.file_mode(path) -> permission bits (st_mode & 07777), owner uid | nil, message */
int aliyun_l_file_mode(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    struct stat st;
    if (stat(path, &st) != 0) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, strerror(errno));
        return 2;
    }
    lua_pushinteger(L, (lua_Integer)(st.st_mode & 07777));
    lua_pushinteger(L, (lua_Integer)st.st_uid);
    return 2;
}
