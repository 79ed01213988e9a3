/* What the port's files share: the startup's services (start.c) and the CPU's own registers. */
#ifndef BMSRIG_LX106_H
#define BMSRIG_LX106_H

#include <stdint.h>

/* The lx106's cycle counter. In QEMU it is derived from the virtual clock at the core's
 * configured rate (LX_CCOUNT_KHZ_QEMU): host time normally, instructions under -icount. */
static inline uint32_t lx_ccount(void)
{
	uint32_t v;

	__asm__ __volatile__("rsr %0, ccount" : "=a"(v));
	return v;
}

/* QEMU's lx106 counts 40,000 cycles per millisecond of virtual time (measured: a one-second
 * host wait advances CCOUNT by 40.1 million). A real ESP8266 runs at 80 or 160 MHz. */
#define LX_CCOUNT_KHZ_QEMU 40000u

/* Halt until CCOUNT reaches `deadline` (WAITI with the CCOMPARE0 interrupt). Only safe where the
 * clock cannot run past the deadline between the check and the halt, i.e. under -icount:
 * otherwise a missed deadline sleeps a whole CCOUNT wrap (see main.c). Returns at once when
 * the deadline is already past. */
void lx_sleep_until(uint32_t deadline);

/* Deepest stack use so far, in bytes, from the paint lx_start laid at reset, and the stack's
 * size. */
uint32_t lx_stack_used(void);
uint32_t lx_stack_size(void);
/* The caller's depth (stack top to its stack pointer), and a fresh paint below it: the core's
 * own stack use is then lx_stack_used() minus the depth it was called at, whatever the
 * option parsing before it used. */
uint32_t lx_stack_depth(void);
void lx_stack_repaint(void);

/* Ends the program: QEMU exits with `status`. */
void lx_exit(int status) __attribute__((noreturn));

/* The program, called by lx_start once memory is set up; returns the exit status. */
int lx_main(void);

/* Entry points from reset.S. */
void lx_start(void) __attribute__((noreturn));
void lx_fatal(uint32_t cause, uint32_t pc, uint32_t addr) __attribute__((noreturn));

#endif
