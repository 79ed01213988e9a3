/* The virtual NodeMCU's first instructions, and its exception vectors.
 *
 * QEMU's `sim` machine starts an lx106 at its reset vector, 0x50000000, whatever the ELF's entry
 * point says; the stub there jumps to _start in the code region (0x40200000, where an ESP8266
 * maps its flash). _start gives the core a known state (no interrupts, exceptions to our own
 * vectors, call0 ABI: the lx106 has no register windows), a stack, and calls lx_start (start.c).
 *
 * Literals sit in the code (-mtext-section-literals): .literal_position places each pool where
 * a jump skips it. */

	.section .reset.text, "ax"
	.global	_reset
_reset:
	j	1f
	.literal_position
	.align	4
1:	movi	a2, _start
	jx	a2

	.section .text._start, "ax"
	.global	_start
	.literal_position
	.align	4
_start:
	movi	a2, 0
	wsr	a2, intenable           /* nothing interrupts until a sleep asks for its timer */
	movi	a2, _vectors
	wsr	a2, vecbase
	/* PS: INTLEVEL 15 (all maskable interrupts masked), EXCM 0 and UM 0 (an exception goes to
	 * the kernel vector, not the double-exception one), WOE 0 (call0 ABI). */
	movi	a2, 0x0f
	wsr	a2, ps
	rsync
	movi	a1, __stack_top
	movi	a0, 0                   /* a null return address ends a debugger's backtrace */
	movi	a2, lx_start
	callx0	a2
2:	j	2b                      /* lx_start exits through semihosting; never here */

/* Exception vectors at VECBASE (1 KiB aligned), offsets from the lx106's configuration. The one
 * expected event is the CCOMPARE0 timer interrupt that ends a WAITI sleep (start.c,
 * lx_sleep_until): level 1, so it arrives at the kernel vector with EXCCAUSE 4. Anything else
 * is a bug: lx_fatal reports it on the semihosting stderr and exits. */
	.section .vectors, "ax"
	.align	1024
	.global	_vectors
_vectors:
	.org	0x10                    /* debug / level-2 interrupt */
	j	_fatal_other
	.org	0x20                    /* NMI / level-3 interrupt */
	j	_fatal_other
	.org	0x30                    /* kernel exception */
	wsr	a2, excsave1
	rsr	a2, exccause
	bnei	a2, 4, _fatal_kernel    /* 4: level-1 interrupt */
	wsr	a2, ccompare0           /* any write to CCOMPARE0 clears its interrupt */
	rsr	a2, excsave1
	rfe
	.org	0x50                    /* user exception: PS.UM is never set */
	j	_fatal_other
	.org	0x70                    /* double exception */
	j	_fatal_other

_fatal_kernel:
	rsr	a2, excsave1            /* a2 as it was, for a debugger */
_fatal_other:
	j	_fatal

	.section .text._fatal, "ax"
	.literal_position
	.align	4
_fatal:
	/* A fresh stack: the old one may be what broke. lx_fatal(cause, pc, address). */
	movi	a1, __stack_top
	rsr	a2, exccause
	rsr	a3, epc1
	rsr	a4, excvaddr
	movi	a0, lx_fatal
	callx0	a0
3:	j	3b
