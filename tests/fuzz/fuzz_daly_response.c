/*
 * libFuzzer, two parts on one input:
 *  1. the input as one Daly frame of wire bytes, through rig_daly_frame_parse, every reply
 *     decoder (by way of daly_frame_rebuild), daly_frame_json and daly_answer_json. Every
 *     accepted frame must survive its round trips (abort() otherwise): parse -> encode gives
 *     the input; the typed rebuild gives the input, or RIG_ERR_UNSUPPORTED for an id no
 *     builder maps; the JSON prints, parses back equal and never says "error". A repaired copy
 *     (A5, a reply address < 0x20, length 8, fresh checksum) must parse as a reply and pass too.
 *  2. the daly client as the monitor sees the line: the input in 13-byte chunks, each one
 *     reply frame: as it is when it starts with A5 (the seeds' captured cycles complete),
 *     else repaired as its control bits say (aimed at the client's board and the id in
 *     flight), delivered in pieces with time passing. The client must
 *     never break its invariants: counters consistent, pack_state counts within their arrays,
 *     a completed cycle plausible (pack above 0 V, SOC at most 100 %, |I| at most 1000 A).
 * Seeds: tests/fuzz/corpus/fuzz_daly_response/ (captured replies and answer bursts).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bmsrig/core/daly.h"
#include "bmsrig/core/daly_client.h"
#include "bmsrig/sim/daly_json.h"
#include "daly_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const struct daly_frame *f, const uint8_t *wire)
{
	struct daly_frame g;
	rig_rc rc;

	fuzz_daly_check_parsed(f, wire);
	rc = daly_frame_rebuild(f, &g);
	CHECK(rc == RIG_OK || rc == RIG_ERR_UNSUPPORTED);
	if (rc == RIG_OK)
		CHECK(memcmp(&g, f, sizeof g) == 0);
	/* A reply of a multi-frame id is a one-frame answer too. */
	if (!rig_daly_frame_is_request(f) &&
	    (f->cmd == DALY_CMD_CELLS || f->cmd == DALY_CMD_TEMPS || f->cmd == DALY_CMD_CODE))
		fuzz_daly_check_json(daly_answer_json(f, 1));
}

/* ---- the client on a hostile line ------------------------------------------------------ */

struct line {
	uint8_t buf[DALY_FRAME_LEN];
	size_t len, pos;
	uint8_t piece;
};

static int32_t line_write(void *ctx, const uint8_t *p, uint16_t n)
{
	(void)ctx;
	(void)p;
	return n;
}

static int32_t line_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct line *l = ctx;
	size_t n = l->len - l->pos;

	if (n > l->piece)
		n = l->piece;
	if (n > cap)
		n = cap;
	memcpy(p, l->buf + l->pos, n);
	l->pos += n;
	return (int32_t)n;
}

static void check_client(const struct daly_client *c, const struct pack_state *ps, enum client_event ev)
{
	const struct client_stats *st = rig_daly_client_stats(c);

	CHECK(st->resends <= st->requests);
	CHECK(st->cycles_ok + st->cycles_failed <= st->requests);
	CHECK(ps->cell_count <= PACK_CELLS_MAX && ps->temp_count <= PACK_TEMPS_MAX);
	CHECK(c->step <= 7);
	if (ev == CLIENT_CYCLE_OK) {
		CHECK(ps->pack_mV > 0 && ps->soc_pct <= 100);
		CHECK(ps->current_mA <= DALY_CURRENT_MA_MAX && ps->current_mA >= -DALY_CURRENT_MA_MAX);
		CHECK(ps->cell_count > 0);
	}
}

/* The input in 13-byte chunks. Chunks starting with A5 go on the line as they are (captured
 * answers: the seeds make whole cycles); any other first byte is control: bit 0 aims the frame
 * at the id in flight, bit 1 at the client's board, bit 2 keeps a wrong checksum, bit 3 spreads
 * the time before it, bits 4-7 the piece size, bits 5-7 the steps before it. */
static void step_client(struct daly_client *c, struct pack_state *ps, uint32_t now)
{
	enum client_event ev = rig_daly_client_step(c, now);

	check_client(c, ps, ev);
}

static void run_client(const uint8_t *data, size_t size)
{
	static struct daly_client c;
	static struct pack_state ps;
	struct client_cfg cfg = CLIENT_CFG_DEFAULT;
	struct line l;
	uint32_t now = 0;
	/* Bytes past the last whole chunk configure the client: board, flags, a FET wish. */
	uint8_t conf = size % DALY_FRAME_LEN ? data[size - 1] : 0;

	memset(&l, 0, sizeof l);
	memset(&ps, 0, sizeof ps);
	cfg.address = (uint8_t)(conf % 4u);
	cfg.flags = (uint8_t)((conf >> 2) & 0x07u);
	rig_daly_client_init(&c, &cfg, (struct rig_io){ &l, line_write, line_read }, &ps);
	if (conf & 0x80u)
		rig_daly_client_set_fets(&c, conf & 0x20u, conf & 0x40u);
	for (int prev_cmd = -1; size >= DALY_FRAME_LEN; data += DALY_FRAME_LEN, size -= DALY_FRAME_LEN) {
		uint8_t ctl = data[0];
		int literal = ctl == DALY_START;
		/* The frames of one answer follow each other without a pause; before anything else
		 * the client gets time to send its next request (the line gap is 100 ms). */
		unsigned before = literal && data[2] == prev_cmd ? 0u : (literal ? 5u : (unsigned)(ctl >> 5));

		prev_cmd = literal ? data[2] : -1;
		for (unsigned k = 0; k < before; k++) {
			now += (ctl & 0x08u) && !literal ? 1u + (uint32_t)k * 97u : 30u;
			step_client(&c, &ps, now);
		}
		memcpy(l.buf, data, DALY_FRAME_LEN);
		l.len = DALY_FRAME_LEN;
		l.pos = 0;
		l.piece = literal ? DALY_FRAME_LEN : (uint8_t)(1u + (ctl >> 4));
		if (!literal) {
			l.buf[0] = DALY_START;
			l.buf[3] = DALY_DATA_LEN;
			if (ctl & 0x01u)
				l.buf[2] = c.req.cmd;
			if (ctl & 0x02u)
				l.buf[1] = c.board;
			if (!(ctl & 0x04u))
				l.buf[12] = rig_daly_checksum(l.buf, 12);
		}
		while (l.pos < l.len)
			step_client(&c, &ps, ++now);
	}
	/* And the time to finish what is pending: timeouts, the last request. */
	for (unsigned k = 0; k < 100; k++)
		step_client(&c, &ps, now += 50);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_daly_check_wire_input(data, size, 0, check_frame);
	run_client(data, size);
	return 0;
}
