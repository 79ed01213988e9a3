/* The BYD PRO 2.5 RS485 personality (byd_personality.h): reads in, codec-built records out. */
#include "bmsrig/sim/byd_personality.h"

#include <math.h>
#include <string.h>

#include "bmsrig/sim/byd_json.h"

void byd_quirks_defaults(struct byd_quirks *q)
{
	memset(q, 0, sizeof *q);
	/* No timing was captured; a 105-byte reply itself takes 110 ms at 9600 baud. */
	q->reply_latency_ms = 40;
}

void byd_personality_init(struct byd_personality *p, struct bms *b, const struct byd_quirks *q,
                          uint8_t address)
{
	memset(p, 0, sizeof *p);
	p->bms = b;
	if (q)
		p->q = *q;
	else
		byd_quirks_defaults(&p->q);
	p->addr = address ? address : (uint8_t)BYD_ADDR_DEFAULT;
}

/* A probe's reading in the record's whole degC. */
static int16_t whole_C(uint16_t dK)
{
	return (int16_t)lround(((double)dK - PACK_DK_ZERO_C) / 10.0);
}

static uint16_t battery_state(const struct bms_view *v)
{
	if (v->current_mA > 0)
		return BYD_BAT_CHARGE;
	if (v->current_mA < 0)
		return BYD_BAT_DISCHARGE;
	return v->soc_pct >= 100 ? BYD_BAT_FULL : BYD_BAT_IDLE;
}

void byd_personality_data(const struct byd_personality *p, struct byd_data *d)
{
	struct bms_view v;
	unsigned i, cells;

	bms_view(p->bms, &v);
	memset(d, 0, sizeof *d);
	d->pack_mV = (int32_t)v.pack_mV;
	d->battery_mV = (int32_t)v.pack_mV;
	cells = v.cell_count < BYD_CELLS ? v.cell_count : BYD_CELLS;
	for (i = 0; i < cells; i++)
		d->cell_mV[i] = (int16_t)v.cell_mV[i];
	d->current_mA = v.current_mA;
	for (i = 0; i < BYD_TEMPS; i++) {
		uint16_t dK = i < v.probe_count ? v.probe_dK[i] : (v.probe_count ? v.probe_dK[0] : PACK_DK_ZERO_C + 250u);

		d->temp_C[i] = whole_C(dK);
	}
	d->protect = rig_byd_state_from_prot(v.prot_bits);
	d->alarm = d->protect;
	d->balance = v.bal_mask;
	d->battery_state = battery_state(&v);
	d->soc_pct = v.soc_pct;
	d->soh_pct = v.soh_pct;
	d->discharge_count = v.cycles;
	d->total_discharge = (uint32_t)v.cycles * 100u;
}

int byd_personality_handle(struct byd_personality *p, const struct byd_frame *req, struct byd_frame *reply)
{
	struct byd_data d;

	if (!rig_byd_frame_is_request(req) || req->addr != p->addr) {
		p->ignored++;
		return 0;
	}
	p->requests++;
	if (req->cmd != BYD_CMD_READ || req->len != 0) {
		p->ignored++;
		return 0;
	}
	byd_personality_data(p, &d);
	rig_byd_response_data(reply, p->addr, &d);
	p->replies++;
	return 1;
}

/* ---- the generic personality table --------------------------------------------------------- */

/* The protocol state the emulator holds: the personality plus its receive assembler. */
struct byd_unit {
	struct byd_personality p;
	struct byd_rx rx;
};
_Static_assert(sizeof(struct byd_unit) <= PERSONALITY_STATE_MAX, "byd personality state too big");

static rig_rc unit_init(void *state, struct bms *bms, uint8_t address)
{
	struct byd_unit *u = state;

	memset(u, 0, sizeof *u);
	byd_personality_init(&u->p, bms, NULL, address);
	/* Modbus-style framing: a pause in the middle ends a frame (the seed VBMS uses 200 ms). */
	rig_byd_rx_init(&u->rx, 200);
	return RIG_OK;
}

static const struct personality_quirk quirk_rows[] = {
	PERSONALITY_QUIRK(struct byd_quirks, reply_latency_ms, "latency_ms", 0, 5000),
};
static const struct personality_quirks quirks = {
	.proto = "byd", .rows = quirk_rows, .n = sizeof quirk_rows / sizeof quirk_rows[0],
	.all_keys = "latency_ms",
};

static rig_rc unit_set_quirk(void *state, const char *key, const char *value, char *why, size_t whycap)
{
	return personality_quirk_set(&quirks, &((struct byd_unit *)state)->p.q, key, value, why, whycap);
}

static void log_frame(const struct reply_sink *sink, enum personality_dir dir, const struct byd_frame *f)
{
	uint8_t wire[BYD_FRAME_MAX];
	size_t n;

	if (sink->frame && rig_byd_frame_encode(f, wire, sizeof wire, &n) == RIG_OK)
		sink->frame(sink->ctx, dir, wire, n);
}

static void unit_rx(void *state, const uint8_t *p, size_t n, uint32_t now_ms, const struct reply_sink *sink)
{
	struct byd_unit *u = state;
	struct byd_frame req, reply;

	while (n) {
		size_t used = rig_byd_rx_feed(&u->rx, p, n, now_ms);

		p += used;
		n -= used;
		while (rig_byd_rx_next(&u->rx, &req) == RIG_OK) {
			uint8_t wire[BYD_FRAME_MAX];
			size_t len;

			log_frame(sink, PERS_RX, &req);
			if (!byd_personality_handle(&u->p, &req, &reply) ||
			    rig_byd_frame_encode(&reply, wire, sizeof wire, &len) != RIG_OK)
				continue;
			log_frame(sink, PERS_TX, &reply);
			sink->send(sink->ctx, wire, len, u->p.q.reply_latency_ms, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS);
		}
	}
}

const struct personality_ops byd_personality_ops = {
	.name = "byd",
	.baud = 9600u,
	.resolution = { .pack_mV = 1.0, .current_mA = 1.0, .temp_dK = 10.0, .cell_mV = 1.0 },
	.init = unit_init,
	.set_quirk = unit_set_quirk,
	.rx = unit_rx,
	.wire_json = byd_wire_json,
};
