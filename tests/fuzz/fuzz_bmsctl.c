/*
 * libFuzzer: bmsctl's protocol rows (tools/bmsctl_*.c) reading a BMS that answers with hostile
 * bytes: the answers to info, a read of every setting, a FET switch and (JBD, JK) a write.
 * Input: byte 0 picks the protocol (mod 7: jbd, daly, jk, jbd-ble, daly-ble, jk-ble, jk-pb),
 * byte 1 the command (mod 4: info, read all, fets, write one), byte 2 the largest piece the
 * line hands over (1..64); the rest is everything the "BMS" sends,
 * in pieces, whatever was asked. When it runs out the line reads as closed, so each command
 * ends at once instead of waiting out its time-outs.
 * abort() (ASan, UBSan) on any read past a buffer; the placing of Daly's numbered cell and
 * temperature frames and JK BLE's record types are what this reaches beyond the core's rx
 * targets. Seeds: tests/fuzz/corpus/fuzz_bmsctl/ (answers the emulator gave, framed by hand).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The rows and their exchange, compiled in: tools/ is no archive a target could link. */
#include "../../tools/bmsctl_link.c"
#include "../../tools/bmsctl_jbd.c"
#include "../../tools/bmsctl_daly.c"
#include "../../tools/bmsctl_jk.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake_line {
	const uint8_t *p;
	size_t n, at, piece;
	int fd;                 /* a pipe's read end that always has a byte: poll never waits */
};

static int fake_fd(const void *h)
{
	return ((const struct fake_line *)h)->fd;
}

static int32_t fake_read(void *h, uint8_t *p, uint16_t cap)
{
	struct fake_line *l = h;
	size_t k = l->n - l->at;
	if (k == 0)
		return RIG_ERR_IO;
	if (k > l->piece)
		k = l->piece;
	if (k > cap)
		k = cap;
	memcpy(p, l->p + l->at, k);
	l->at += k;
	return (int32_t)k;
}

static int32_t fake_write(void *h, const uint8_t *p, uint16_t n)
{
	(void)h;
	(void)p;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ctl_proto *const rows[] = {
		&ctl_jbd, &ctl_daly, &ctl_jk, &ctl_jbd_ble, &ctl_daly_ble, &ctl_jk_ble, &ctl_jk_pb,
	};
	static int pipe_fd[2] = { -1, -1 };
	static struct ctl c;
	struct ctl_proto proto;
	struct fake_line line;
	struct ctl_info in;
	unsigned ids[BMS_SET_COUNT];
	int32_t v[BMS_SET_COUNT], back[BMS_SET_COUNT];
	size_t n = 0;

	if (size < 3)
		return 0;
	if (pipe_fd[0] < 0) {
		if (pipe(pipe_fd) != 0 || write(pipe_fd[1], "x", 1) != 1)
			abort();
	}
	proto = *rows[data[0] % CTL_N_OF(rows)];
	proto.reply_ms = 1000;          /* never reached: the line closes first */
	line.p = data + 3;
	line.n = size - 3;
	line.at = 0;
	line.piece = 1u + (data[2] & 63u);
	line.fd = pipe_fd[0];
	memset(&c, 0, sizeof c);
	c.proto = &proto;
	c.jkb_layout = -1;
	c.s.h = &line;
	c.s.fd = fake_fd;
	c.s.read = fake_read;
	c.s.write = fake_write;
	c.s.path = "fuzz";
	/* bmsctl's one-line messages go nowhere; fd 2 stays, for libFuzzer and the sanitizers. */
	static FILE *quiet;
	if (quiet == NULL) {
		if ((quiet = fopen("/dev/null", "w")) == NULL)
			abort();
		stderr = quiet;
	}

	for (unsigned id = 0; id < BMS_SET_COUNT; id++)
		if (proto.has(id)) {
			ids[n] = id;
			v[n] = bms_setting_info(id)->min;
			n++;
		}
	switch (data[1] % 4u) {
	case 0:
		(void)proto.info(&c, &in);
		break;
	case 1:
		(void)proto.read(&c, ids, n, v);
		break;
	case 2:
		(void)proto.fets(&c, data[1] & 4u ? 1 : 0, data[1] & 8u ? 1 : -1);
		break;
	default:
		if (proto.write && n > 0)
			(void)proto.write(&c, ids, v, 1, back);
		break;
	}
	return 0;
}
