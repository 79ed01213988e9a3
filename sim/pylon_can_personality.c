/* The Pylontech CAN battery behind an slcan adapter (pylon_can_personality.h). */
#include "bmsrig/sim/pylon_can_personality.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsrig/core/inv_port.h"
#include "bmsrig/core/pylon_can.h"
#include "bmsrig/sim/bms_limits.h"
#include "bmsrig/sim/pylon_can_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(sizeof(struct pylon_can_personality) <= PERSONALITY_STATE_MAX, "state fits");

void pylon_can_quirks_defaults(struct pylon_can_quirks *q)
{
	memset(q, 0, sizeof *q);
	q->period_ms = 1000;                 /* Pylontech and Sol-Ark v1.3: the set once a second */
	q->extras = 0;
	/* No inverter publishes its timeout; Battery-Emulator's "inverter missing" is seconds. */
	q->keepalive_timeout_ms = 5000;
	q->on_keepalive_loss = PYLON_CAN_LOSS_KEEP;
}

static int due(uint32_t now_ms, uint32_t at_ms)
{
	return (int32_t)(now_ms - at_ms) >= 0;
}

int pylon_can_keepalive_lost(const struct pylon_can_personality *p, uint32_t now_ms)
{
	uint32_t since = p->heard ? p->last_keepalive_ms : p->opened_ms;

	return (uint32_t)(now_ms - since) >= p->q.keepalive_timeout_ms;
}

void pylon_can_personality_record(const struct pylon_can_personality *p, uint32_t now_ms,
                                  struct rig_inv_battery *out)
{
	if (p->n_peers > 1) {
		struct rig_inv_battery mod[PYLON_CAN_UNITS_MAX];
		unsigned i;

		for (i = 0; i < p->n_peers; i++)
			bms_inverter_limits(p->peers[i], &mod[i]);
		bms_inverter_combine(mod, p->n_peers, out);
	} else {
		bms_inverter_limits(p->bms, out);
	}
	if (p->q.on_keepalive_loss == PYLON_CAN_LOSS_ALARM && pylon_can_keepalive_lost(p, now_ms))
		out->alarm |= RIG_INV_ALARM_COMM;
}

static rig_rc unit_init(void *state, struct bms *bms, uint8_t address)
{
	struct pylon_can_personality *p = state;

	(void)address;   /* CAN has no battery address: the master module is unit 0 of the line */
	memset(p, 0, sizeof *p);
	p->bms = bms;
	pylon_can_quirks_defaults(&p->q);
	/* An adapter forgets a half-typed command after a pause; a real host never pauses in one. */
	rig_slcan_rx_init(&p->rx, 1000);
	return RIG_OK;
}

static void unit_peers(void *state, const struct bms *const *peers, unsigned n)
{
	struct pylon_can_personality *p = state;

	if (n > PYLON_CAN_UNITS_MAX)
		n = PYLON_CAN_UNITS_MAX;
	memcpy(p->peers, peers, n * sizeof peers[0]);
	p->n_peers = (uint8_t)n;
	p->silent = n > 0 && peers[0] != p->bms;
}

static const struct personality_quirk quirk_rows[] = {
	PERSONALITY_QUIRK(struct pylon_can_quirks, period_ms, "period_ms", 10, 60000),
	PERSONALITY_QUIRK(struct pylon_can_quirks, extras, "extras", 0, 1),
	PERSONALITY_QUIRK(struct pylon_can_quirks, keepalive_timeout_ms, "keepalive_timeout_ms", 100, 3600000),
	/* Decimal (849 for 0x351) or hex with 0x: strtoul below takes both before the table does. */
	PERSONALITY_QUIRK(struct pylon_can_quirks, skip_id, "skip_id", 0, 0x7FF),
};
static const struct personality_quirks quirks = {
	.proto = "pylontech-can", .rows = quirk_rows, .n = N_OF(quirk_rows),
	.all_keys = "period_ms, extras, keepalive_timeout_ms, on_keepalive_loss, skip_id",
};
static const char *const loss_words[] = { "keep", "stop", "alarm" };

static rig_rc unit_set_quirk(void *state, const char *key, const char *value, char *why, size_t whycap)
{
	struct pylon_can_personality *p = state;

	if (!strcmp(key, "on_keepalive_loss")) {
		for (size_t i = 0; i < N_OF(loss_words); i++)
			if (!strcmp(value, loss_words[i])) {
				p->q.on_keepalive_loss = (uint8_t)i;
				return RIG_OK;
			}
		snprintf(why, whycap, "on_keepalive_loss: expected keep, stop or alarm, got \"%s\"", value);
		return RIG_ERR_ARG;
	}
	if (!strcmp(key, "skip_id") && value[0] == '0' && (value[1] == 'x' || value[1] == 'X')) {
		char *end;
		unsigned long id = strtoul(value + 2, &end, 16);

		if (value[2] && !*end && id <= 0x7FFu) {
			p->q.skip_id = (uint32_t)id;
			return RIG_OK;
		}
		snprintf(why, whycap, "skip_id: expected a CAN id 0x000..0x7FF, got \"%s\"", value);
		return RIG_ERR_ARG;
	}
	return personality_quirk_set(&quirks, &p->q, key, value, why, whycap);
}

static void say(const struct reply_sink *sink, const char *text)
{
	sink->send(sink->ctx, (const uint8_t *)text, strlen(text), 0, 0);
}

static void log_frame(const struct reply_sink *sink, enum personality_dir dir, const struct rig_can_frame *f)
{
	uint8_t line[SLCAN_LINE_MAX];
	size_t n;

	if (sink->frame && rig_slcan_frame_encode(f, line, sizeof line, &n) == RIG_OK)
		sink->frame(sink->ctx, dir, line, n);
}

/* A frame from the host: the adapter transmits it on the bus (and says "z"); the battery only
 * listens for 0x305. */
static void on_frame(struct pylon_can_personality *p, const struct slcan_line *l, uint32_t now_ms,
                     const struct reply_sink *sink)
{
	if (!p->open) {
		say(sink, "\a");
		return;
	}
	say(sink, l->frame.ext ? "Z\r" : "z\r");
	log_frame(sink, PERS_RX, &l->frame);
	if (rig_pylon_can_is_keepalive(&l->frame)) {
		p->keepalives++;
		p->heard = 1;
		p->last_keepalive_ms = now_ms;
	}
}

/* The commands of a Lawicel CANUSB that a host library sends; what it answers. */
static void on_command(struct pylon_can_personality *p, const struct slcan_line *l, uint32_t now_ms,
                       const struct reply_sink *sink)
{
	switch (l->cmd) {
	case 'S':
		if (p->open || l->arg_len != 1 || l->arg[0] < '0' || l->arg[0] > '8')
			break;
		p->bitrate = (uint8_t)(l->arg[0] - '0');
		say(sink, "\r");
		return;
	case 'O':
	case 'L':
		/* python-can sends O twice; an adapter already open would ring, but nothing depends on it. */
		if (!p->open) {
			p->open = 1;
			p->heard = 0;
			p->opened_ms = now_ms;
			p->next_set_ms = now_ms;
		}
		say(sink, "\r");
		return;
	case 'C':
		p->open = 0;
		say(sink, "\r");
		return;
	default:
		/* The stateless answers are the firmware's inverter port's: one table for both. */
		if (rig_inv_port_adapter_reply(l->cmd)) {
			say(sink, rig_inv_port_adapter_reply(l->cmd));
			return;
		}
		break;
	}
	say(sink, "\a");
}

static void unit_rx(void *state, const uint8_t *in, size_t n, uint32_t now_ms, const struct reply_sink *sink)
{
	struct pylon_can_personality *p = state;
	struct slcan_line l;

	while (n) {
		size_t used = rig_slcan_rx_feed(&p->rx, in, n, now_ms);

		in += used;
		n -= used;
		while (rig_slcan_rx_next(&p->rx, &l) == RIG_OK) {
			if (p->silent)
				continue;       /* one adapter on the line: unit 0's */
			if (l.kind == SLCAN_FRAME)
				on_frame(p, &l, now_ms, sink);
			else if (l.kind == SLCAN_COMMAND)
				on_command(p, &l, now_ms, sink);
			/* An ACK or BEL from the host is nothing an adapter answers. */
		}
	}
}

static void unit_tick(void *state, uint32_t now_ms, const struct reply_sink *sink)
{
	struct pylon_can_personality *p = state;
	struct rig_inv_battery rec;
	struct rig_can_frame set[PYLON_CAN_SET_MAX];
	uint8_t wire[PYLON_CAN_SET_MAX * SLCAN_LINE_MAX];
	size_t k, i, len = 0;

	if (p->silent || !p->open || !due(now_ms, p->next_set_ms))
		return;
	p->next_set_ms += p->q.period_ms;
	if (due(now_ms, p->next_set_ms))       /* fell behind (a stall): keep the cadence from now */
		p->next_set_ms = now_ms + p->q.period_ms;
	if (p->q.on_keepalive_loss == PYLON_CAN_LOSS_STOP && pylon_can_keepalive_lost(p, now_ms))
		return;
	pylon_can_personality_record(p, now_ms, &rec);
	k = rig_pylon_can_encode_set(&rec, p->q.extras, set, N_OF(set));
	for (i = 0; i < k; i++) {
		size_t n;

		if (p->q.skip_id && set[i].id == p->q.skip_id)
			continue;
		if (rig_slcan_frame_encode(&set[i], wire + len, sizeof wire - len, &n) != RIG_OK)
			return;
		log_frame(sink, PERS_TX, &set[i]);
		len += n;
	}
	p->sets_sent++;
	/* One write, back to back: 0x356 carries the pack's voltage and current. */
	sink->send(sink->ctx, wire, len, 0, TRUTH_PACK);
}

static void unit_disconnected(void *state)
{
	struct pylon_can_personality *p = state;

	p->open = 0;                            /* a host that comes back opens the channel again */
	rig_slcan_rx_init(&p->rx, p->rx.b.gap_ms);
}

/* Baud: the pty's, for the link model: slcan text at 500000 puts a 22-byte line on the wire in
 * 0.44 ms, about what the 130-bit CAN frame takes at 500 kbit/s.
 * Resolution: 10 mV pack, 100 mA current, 0.1 degC = 1 dK; no cells. */
/* The runner's view of what crossed: each slcan line the battery sent is one frame of the set. */
static int unit_inv_decode(uint32_t *ask, enum personality_dir dir, const uint8_t *wire, size_t n,
                           struct rig_inv_battery *rec)
{
	struct slcan_line l;
	unsigned have = 0;

	(void)ask;   /* a broadcast protocol: nothing is asked */
	if (dir != PERS_TX || n < 1 || rig_slcan_parse(wire, n - 1, wire[n - 1], &l) != RIG_OK ||
	    l.kind != SLCAN_FRAME)
		return 0;
	return rig_pylon_can_decode(&l.frame, rec, &have) == RIG_OK;
}

const struct personality_ops pylon_can_personality_ops = {
	.name = "pylontech-can",
	.baud = 500000u,
	.resolution = { .pack_mV = 10.0, .current_mA = 100.0, .temp_dK = 1.0, .cell_mV = 1.0 },
	.init = unit_init,
	.set_quirk = unit_set_quirk,
	.rx = unit_rx,
	.disconnected = unit_disconnected,
	.peers = unit_peers,
	.tick = unit_tick,
	.wire_json = pylon_can_wire_json,
	.inv_decode = unit_inv_decode,
};
