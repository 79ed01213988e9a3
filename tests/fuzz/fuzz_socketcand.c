/*
 * libFuzzer: the input as the byte stream a socketcand client sends, through the element
 * assembler (host_scd_rx_byte) and host_scd_parse. Besides not crashing, every element must start with
 * '<', end with '>' and fit SCD_ELEMENT_MAX, and every accepted "< send >" must survive its
 * round trips (abort() otherwise): the frame written back the way python-can writes it parses
 * to the same frame; its slcan line is as long as its DLC says; its "< frame >" line is
 * accepted by the formatter and ends in " >\n".
 * Seeds: tests/fuzz/corpus/fuzz_socketcand/ (a python-can 4.1.0 session's client side).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsrig/lib/socketcand.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_send(const struct rig_can_frame *f)
{
	char text[SCD_ELEMENT_MAX * 2], line[SCD_FRAME_LINE_MAX];
	uint8_t sl[SLCAN_LINE_MAX];
	struct host_scd_msg back;
	size_t n, i;
	int k;

	/* python-can writes ids un-padded: a 29-bit id below 0x1000 would read back as 11-bit, as
	 * it does for socketcand itself; pad those to four digits. */
	k = snprintf(text, sizeof text, f->ext && f->id < 0x1000u ? "< send %04X %X" : "< send %X %X",
	             (unsigned)f->id, (unsigned)f->dlc);
	n = (size_t)k;
	for (i = 0; i < f->dlc; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, " %x", f->data[i]);
	n += (size_t)snprintf(text + n, sizeof text - n, " >");
	if (host_scd_parse(text, n, &back) != RIG_OK || back.kind != SCD_SEND ||
	    back.frame.id != f->id || back.frame.ext != f->ext || back.frame.dlc != f->dlc ||
	    memcmp(back.frame.data, f->data, f->dlc) != 0)
		abort();
	if (host_scd_frame_to_slcan(f, sl, sizeof sl) != (f->ext ? 10u : 5u) + 2u * f->dlc + 1u)
		abort();
	n = host_scd_frame_format(f, 1u, 2u, line, sizeof line);
	if (n < 4 || memcmp(line + n - 3, " >\n", 3) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct host_scd_rx rx;
	struct host_scd_msg m;
	size_t i;

	host_scd_rx_init(&rx);
	for (i = 0; i < size; i++) {
		if (!host_scd_rx_byte(&rx, data[i]))
			continue;
		if (rx.len < 2 || rx.len > SCD_ELEMENT_MAX || rx.buf[0] != '<' || rx.buf[rx.len - 1] != '>')
			abort();
		if (host_scd_parse(rx.buf, rx.len, &m) == RIG_OK && m.kind == SCD_SEND) {
			if (m.frame.dlc > 8 || m.frame.id > (m.frame.ext ? SLCAN_EXT_ID_MAX : SLCAN_STD_ID_MAX))
				abort();
			check_send(&m.frame);
		}
	}
	return 0;
}
