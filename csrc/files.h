/* files.h: what the Lua layer needs to know about a file that plain Lua cannot tell. */
#ifndef ALIYUN_FILES_H
#define ALIYUN_FILES_H

#include "compat.h"

int aliyun_l_file_mode(lua_State *L);

#endif
