/* interrupt.h: Ctrl-C for the REPL and the one-shot command. A SIGINT handler that
 * interrupts running Lua code every time, and a flag the core's waits (poll, sleep,
 * libcurl's progress) look at, so that a call blocked in C stops at once. */
#ifndef ALIYUN_INTERRUPT_H
#define ALIYUN_INTERRUPT_H
#include <signal.h>

#include "compat.h"

/* The registry key of a light userdata pointing at the flag, for curl.so (a module of its
 * own, which cannot see this one's symbols). Set by catch_interrupts. */
#define ALIYUN_INTERRUPT_KEY "aliyun.interrupt_flag"

/* Non-zero from a SIGINT caught by catch_interrupts until core.interrupted(true). */
int aliyun_interrupt_pending(void);

int aliyun_l_catch_interrupts(lua_State *L);
int aliyun_l_interrupted(lua_State *L);
int aliyun_l_interrupts_raise(lua_State *L);
int aliyun_l_wait_input(lua_State *L);

#endif
