/* From reset to lx_main: initialised data in place, .bss zeroed, the stack painted so its
 * deepest use can be measured at exit; and the two ways out (exit, a fatal exception).
 *
 * The linker script (lx106.ld) names the regions. Initialised data lives in DRAM and is copied
 * there from its load address in the code region; constant tables and strings stay in the code
 * region (flash on an ESP8266, where only 32-bit reads work: see lx106.ld). */
#include <stdint.h>
#include <string.h>

#include "lx106.h"
#include "semihost.h"

extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];

#define STACK_PAINT 0xA5C3E1F0u   /* unlikely as data: not small, not a pointer, not ASCII */
#define PAINT_MARGIN 16u          /* bytes just below lx_start's frame left unpainted */

void lx_start(void)
{
	volatile uint32_t *p;
	uint32_t *sp;

	memcpy(__data_start, __data_load, (size_t)((char *)__data_end - (char *)__data_start));
	memset(__bss_start, 0, (size_t)((char *)__bss_end - (char *)__bss_start));
	/* Paint from the bottom of the stack to just under this function's frame; volatile keeps
	 * the compiler from turning the loop into a memset call whose own frame would be painted
	 * over. */
	__asm__ __volatile__("mov %0, a1" : "=a"(sp));
	for (p = __stack_limit; (uintptr_t)p < (uintptr_t)sp - PAINT_MARGIN; p++)
		*p = STACK_PAINT;
	lx_exit(lx_main());
}

uint32_t lx_stack_used(void)
{
	const uint32_t *p = __stack_limit;

	while (p < __stack_top && *p == STACK_PAINT)
		p++;
	return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

uint32_t lx_stack_depth(void)
{
	uintptr_t sp;

	__asm__ __volatile__("mov %0, a1" : "=a"(sp));
	return (uint32_t)((uintptr_t)__stack_top - sp);
}

void lx_stack_repaint(void)
{
	volatile uint32_t *p;
	uintptr_t sp;

	__asm__ __volatile__("mov %0, a1" : "=a"(sp));
	for (p = __stack_limit; (uintptr_t)p < sp - PAINT_MARGIN; p++)
		*p = STACK_PAINT;
}

uint32_t lx_stack_size(void)
{
	return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_limit);
}

void lx_exit(int status)
{
	for (;;)
		sh_call(SH_EXIT, status, 0, 0, NULL);
}

void lx_sleep_until(uint32_t deadline)
{
	const uint32_t timer0 = 1u << 6;   /* CCOMPARE0 is interrupt 6 on the lx106 */
	uint32_t ps;

	/* Arm, then look: once CCOMPARE0 holds the deadline, a deadline already passed would only
	 * fire after a full CCOUNT wrap, so WAITI is skipped for it. WAITI 0 lets the level-1 timer
	 * interrupt in; the kernel vector (reset.S) clears it and returns here; RSIL masks
	 * interrupts again. */
	__asm__ __volatile__("wsr %0, ccompare0\n\t"
	                     "wsr %1, intenable\n\t"
	                     "rsync" : : "a"(deadline), "a"(timer0) : "memory");
	if ((int32_t)(deadline - lx_ccount()) > 0)
		__asm__ __volatile__("waiti 0" : : : "memory");
	__asm__ __volatile__("wsr %1, intenable\n\t"
	                     "rsil %0, 15" : "=&a"(ps) : "a"(0u) : "memory");
}

/* "0x" and eight hex digits. */
static char *put_hex(char *o, uint32_t v)
{
	int i;

	*o++ = '0';
	*o++ = 'x';
	for (i = 28; i >= 0; i -= 4)
		*o++ = "0123456789abcdef"[(v >> i) & 0xFu];
	return o;
}

static char *put_str(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return o + n;
}

void lx_fatal(uint32_t cause, uint32_t pc, uint32_t addr)
{
	char msg[128], *o = msg;

	o = put_str(o, "bmsmon-lx106: fatal exception, EXCCAUSE ");
	o = put_hex(o, cause);
	o = put_str(o, " at pc ");
	o = put_hex(o, pc);
	o = put_str(o, ", address ");
	o = put_hex(o, addr);
	*o++ = '\n';
	sh_call(SH_WRITE, 2, (int32_t)(uintptr_t)msg, (int32_t)(o - msg), NULL);
	lx_exit(3);
}
