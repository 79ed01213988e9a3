/* Xtensa semihosting as QEMU's `sim` machine implements it (target/xtensa/xtensa-semi.c): the
 * `simcall` instruction with the call number in a2 and arguments in a3..a5; the result comes back
 * in a2 and the host's errno (in Linux numbering) in a3. Only what this port uses is here. */
#ifndef BMSRIG_LX106_SEMIHOST_H
#define BMSRIG_LX106_SEMIHOST_H

#include <stdint.h>

enum sh_call {
	SH_EXIT = 1,          /* a3 = status; QEMU exits with it */
	SH_READ = 3,          /* a3 fd, a4 buffer, a5 length -> bytes, 0 at end of file, -1 */
	SH_WRITE = 4,         /* a3 fd, a4 buffer, a5 length -> bytes or -1 */
	SH_OPEN = 5,          /* a3 path, a4 flags, a5 mode -> fd or -1 */
	SH_CLOSE = 6,
	SH_SELECT_ONE = 29,   /* a3 fd, a4 SH_SELECT_*, a5 -> {seconds, microseconds} or 0 = forever */
	SH_ARGC = 1000,       /* -> argument count (-semihosting-config arg=..., or -kernel + -append) */
	SH_ARGV_SIZE = 1001,  /* -> bytes SH_ARGV needs: the pointer array, then the strings */
	SH_ARGV = 1002        /* a3 buffer: filled with argv[] (NULL-terminated) and the strings */
};

enum { SH_SELECT_READ = 1, SH_SELECT_WRITE = 2, SH_SELECT_EXCEPT = 3 };

/* QEMU hands open()'s flags to the host's open() unchanged, so they are Linux's values (the
 * asm-generic ones every common host architecture uses), not picolibc's. */
#define SH_O_RDWR     0x0002
#define SH_O_NOCTTY   0x0100
#define SH_O_NONBLOCK 0x0800

/* Linux errno values as QEMU returns them in a3. */
#define SH_EAGAIN 11
#define SH_EINTR  4

/* One call. a2 in, a2 out; a3 out is the errno (only meaningful when the result is -1). */
static inline int32_t sh_call(int32_t nr, int32_t a, int32_t b, int32_t c, int32_t *err)
{
	register int32_t r2 __asm__("a2") = nr;
	register int32_t r3 __asm__("a3") = a;
	register int32_t r4 __asm__("a4") = b;
	register int32_t r5 __asm__("a5") = c;

	__asm__ __volatile__("simcall" : "+r"(r2), "+r"(r3) : "r"(r4), "r"(r5) : "memory");
	if (err)
		*err = r3;
	return r2;
}

#endif
