/*
 * What every fuzz target may use, whatever its protocol: the CHECK that aborts, the JSON-view
 * checks, and the driver of the receive-assembler targets (fuzz_<proto>_rx). A file of
 * tests/fuzz whose name does not start with fuzz_ is no target: the Makefile links each such
 * .c into every target (FUZZ_EXTRA). The checks of one protocol's frames are in
 * <proto>_check.[ch].
 */
#ifndef BMSRIG_TESTS_FUZZ_COMMON_H
#define BMSRIG_TESTS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

/* abort() rather than assert(): the check must hold whatever NDEBUG says. */
#define CHECK(c) do { if (!(c)) abort(); } while (0)

/* 1 when the NUL-terminated s is valid UTF-8. */
int fuzz_valid_utf8(const unsigned char *s);

/* A decoded-frame JSON view o: it prints (as valid UTF-8 when utf8 is 1) and the text parses
 * back to an object equal to o. abort() otherwise. */
void fuzz_check_json_prints(const cJSON *o, int utf8);

/*
 * A receive assembler behind a table, for fuzz_rx_run. rx points to `size` bytes holding it
 * (and whatever the target keeps beside it), zeroed before init.
 */
struct fuzz_rx_counts {
	size_t have;                 /* bytes the assembler holds */
	size_t skipped;              /* its skipped_bytes */
	uint32_t gap_ms;             /* its gap_ms: the field after its buffer, so an overrun shows */
};
struct fuzz_rx_ops {
	size_t size;
	void (*init)(void *rx, uint32_t gap_ms);
	/* Offers p[0..n); returns how many bytes the assembler took. */
	size_t (*feed)(void *rx, const uint8_t *p, size_t n, uint32_t now_ms);
	/* Takes and checks every frame delivered so far, checks the assembler's own bound on
	 * what it holds, fills *c; returns the bytes of the frames it took. */
	size_t (*drain)(void *rx, struct fuzz_rx_counts *c);
};

/*
 * The input fed the way links deliver, in pieces with time passing. Byte 0 is control, the
 * rest is the byte stream:
 *   bit 7    gap_ms 40 (else 0: never drop a partial frame)
 *   bit 6    pieces arrive 0..63 ms apart (else 1 ms, which never trips the gap)
 *   bits 0-5 largest piece - 1; piece sizes follow from a xorshift seeded with byte 0
 * drain runs after every feed call. abort() unless feed never takes more than offered and
 * never refuses twice running, the assembler keeps its gap_ms, and every stream byte is in
 * exactly one of a delivered frame, skipped_bytes or the buffer.
 */
void fuzz_rx_run(const uint8_t *data, size_t size, void *rx, const struct fuzz_rx_ops *ops);

#endif
