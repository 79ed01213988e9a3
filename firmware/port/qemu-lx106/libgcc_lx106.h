/* The integer helpers GCC calls on the lx106 that Debian's libgcc for xtensa-lx106-elf lacks:
 * the lx106 has a 32-bit multiplier (MUL32) but no divider and no high-half multiply, so every
 * `/`, `%` and 64-bit `*` becomes a call to one of these.
 *
 * LX_LIBGCC_NAME(x) names each one: `x` itself for the firmware, a prefixed name for the host
 * unit test (tests/unit/test_lx106_libgcc.c), which compiles the same file with the host's gcc
 * and must not replace the host libgcc's own functions. */
#ifndef BMSRIG_LX106_LIBGCC_H
#define BMSRIG_LX106_LIBGCC_H

#include <stdint.h>

#ifdef LX_LIBGCC_PREFIX
#define LX_LIBGCC_CAT2(a, b) a##b
#define LX_LIBGCC_CAT(a, b) LX_LIBGCC_CAT2(a, b)
#define LX_LIBGCC_NAME(x) LX_LIBGCC_CAT(LX_LIBGCC_PREFIX, x)
#else
#define LX_LIBGCC_NAME(x) x
#endif

/* Division by zero has no trap here (the lx106 has no divide instruction to raise one): the
 * quotient is all ones and the remainder the dividend, as RISC-V defines it. The firmware
 * never divides by zero; this only makes the result defined. A signed quotient that overflows
 * (INT_MIN / -1) wraps to INT_MIN. */
int32_t LX_LIBGCC_NAME(__divsi3)(int32_t a, int32_t b);
uint32_t LX_LIBGCC_NAME(__udivsi3)(uint32_t a, uint32_t b);
uint32_t LX_LIBGCC_NAME(__umodsi3)(uint32_t a, uint32_t b);
int64_t LX_LIBGCC_NAME(__divdi3)(int64_t a, int64_t b);
uint64_t LX_LIBGCC_NAME(__udivdi3)(uint64_t a, uint64_t b);
uint64_t LX_LIBGCC_NAME(__umoddi3)(uint64_t a, uint64_t b);
int64_t LX_LIBGCC_NAME(__muldi3)(int64_t a, int64_t b);
uint64_t LX_LIBGCC_NAME(__umulsidi3)(uint32_t a, uint32_t b);

#endif
