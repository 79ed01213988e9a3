/* Codec throughput: JBD frames decoded (assembler + typed decode) and encoded per second.
 * Frames are the real captures of tests/vectors (0x03 with 3 NTCs, 0x04 with 16 cells). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "bmsrig/core/jbd.h"

static const uint8_t basic_4s[] = {
	0xDD, 0x03, 0x00, 0x1D, 0x06, 0x18, 0x00, 0x00, 0x01, 0xF2, 0x01, 0xF4, 0x00, 0x00, 0x2C, 0x7C,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x64, 0x03, 0x04, 0x03, 0x0B, 0x8B, 0x0B, 0x8A, 0x0B,
	0x84, 0xFA, 0x8D, 0x77
};
static const uint8_t cells_16s[] = {
	0xDD, 0x04, 0x00, 0x20, 0x0E, 0x10, 0x0E, 0x10, 0x0E, 0x10, 0x0E, 0x10, 0x0E, 0x10, 0x0E, 0x10,
	0x0E, 0x10, 0x0E, 0x10, 0x0E, 0x10, 0x0E, 0x10, 0x0E, 0x10, 0x0E, 0x10, 0x0E, 0x10, 0x0E, 0x10,
	0x0E, 0x10, 0x00, 0x00, 0xFE, 0x1E, 0x77
};

int main(void)
{
	enum { N = 2000000 };
	static uint8_t stream[sizeof basic_4s + sizeof cells_16s];
	struct jbd_rx rx;
	struct jbd_frame f;
	struct jbd_basic b;
	struct jbd_cells c;
	uint8_t wire[JBD_FRAME_MAX];
	size_t n;
	unsigned long ok = 0, i;
	double t0, dec, enc;

	memcpy(stream, basic_4s, sizeof basic_4s);
	memcpy(stream + sizeof basic_4s, cells_16s, sizeof cells_16s);
	rig_jbd_rx_init(&rx, 0);
	t0 = bench_now_s();
	for (i = 0; i < N / 2; i++) {
		const uint8_t *p = stream;
		size_t left = sizeof stream;

		while (left) {
			size_t used = rig_jbd_rx_feed(&rx, p, left, 0);

			p += used;
			left -= used;
			while (rig_jbd_rx_next(&rx, &f) == RIG_OK)
				ok += f.reg == JBD_REG_BASIC ? rig_jbd_basic_decode(&f, &b) == RIG_OK
				                             : rig_jbd_cells_decode(&f, &c) == RIG_OK;
		}
	}
	dec = bench_now_s() - t0;
	if (ok != N) {
		fprintf(stderr, "bench_codec: decoded %lu of %d frames\n", ok, N);
		return 1;
	}
	ok = 0;
	t0 = bench_now_s();
	for (i = 0; i < N / 2; i++) {
		ok += rig_jbd_basic_encode(&f, &b) == RIG_OK && rig_jbd_frame_encode(&f, wire, sizeof wire, &n) == RIG_OK;
		ok += rig_jbd_cells_encode(&f, &c) == RIG_OK && rig_jbd_frame_encode(&f, wire, sizeof wire, &n) == RIG_OK;
	}
	enc = bench_now_s() - t0;
	if (ok != N || memcmp(wire, cells_16s, sizeof cells_16s) != 0) {
		fprintf(stderr, "bench_codec: encode mismatch\n");
		return 1;
	}
	printf("codec decode (assembler + typed decode, 0x03 4S/3 NTC and 0x04 16S): %.2f M frames/s\n",
	       N / dec / 1e6);
	printf("codec encode (typed encode + framing, same frames):                  %.2f M frames/s\n",
	       N / enc / 1e6);
	/* A 9600 8N1 line carries 960 bytes/s: that many frames of the mix above, per second. */
	printf("that is %.0f x (decode) and %.0f x (encode) what a 9600-baud line can carry\n",
	       N / dec / (960.0 / ((sizeof basic_4s + sizeof cells_16s) / 2.0)),
	       N / enc / (960.0 / ((sizeof basic_4s + sizeof cells_16s) / 2.0)));
	return 0;
}
