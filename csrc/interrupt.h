/* interrupt.h: a SIGINT handler that interrupts running Lua code every time (the REPL). */
#ifndef ALIYUN_INTERRUPT_H
#define ALIYUN_INTERRUPT_H
#include "compat.h"

int aliyun_l_catch_interrupts(lua_State *L);

#endif
