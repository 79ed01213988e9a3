/* The JBD personality (jbd_personality.h): requests in, codec-built replies out. */
#include "bmsrig/sim/jbd_personality.h"

#include <stdio.h>
#include <string.h>

#include "bmsrig/sim/jbd_json.h"
#include "bmsrig/sim/jbd_settings.h"

void jbd_quirks_defaults(struct jbd_quirks *q)
{
	memset(q, 0, sizeof *q);
	q->reply_latency_ms = 40;          /* inside the 30-80 ms seen on real boards (§13.2) */
	q->drop_first_after_idle_ms = 0;
	q->eeprom_needs_factory = 1;
	q->basic_extension = 0;
}

void jbd_personality_init(struct jbd_personality *p, struct bms *b, const struct jbd_quirks *q)
{
	memset(p, 0, sizeof *p);
	p->bms = b;
	if (q)
		p->q = *q;
	else
		jbd_quirks_defaults(&p->q);
}

void jbd_personality_on_save(struct jbd_personality *p,
                             int (*save)(void *ctx, const struct bms *b), void *ctx)
{
	p->saver.save = save;
	p->saver.ctx = ctx;
}

static uint16_t be16(const uint8_t *d)
{
	return (uint16_t)(d[0] << 8 | d[1]);
}

/* The codec's encoders only fail on values the BMS never produces; if one does, answer
 * with an error rather than half a frame. */
static void error_if_failed(struct jbd_frame *reply, rig_rc rc, uint8_t reg)
{
	if (rc != RIG_OK)
		rig_jbd_response_error(reply, reg, JBD_STATUS_UNSUPPORTED);
}

/* JBD's FET byte and 0xE1 mask carry the BMS's bits in the same places; the tables say so
 * rather than rely on it. */
static const struct { uint8_t bms, jbd; } fet_bits[] = {
	{ BMS_FET_CHG, JBD_FET_CHG_ON }, { BMS_FET_DSG, JBD_FET_DSG_ON },
}, inhibit_bits[] = {
	{ BMS_INHIBIT_CHG, JBD_MOSFET_CHG_OFF }, { BMS_INHIBIT_DSG, JBD_MOSFET_DSG_OFF },
};

static uint8_t jbd_fet_byte(uint8_t bms_fet)
{
	uint8_t out = 0;
	for (size_t i = 0; i < sizeof fet_bits / sizeof fet_bits[0]; i++)
		if (bms_fet & fet_bits[i].bms)
			out |= fet_bits[i].jbd;
	return out;
}

/* The 0xE1 value as an inhibit mask; -1 when it carries a bit JBD does not define. */
static int inhibit_of_jbd(uint16_t jbd_mask)
{
	unsigned rest = jbd_mask, out = 0;
	for (size_t i = 0; i < sizeof inhibit_bits / sizeof inhibit_bits[0]; i++)
		if (rest & inhibit_bits[i].jbd) {
			out |= inhibit_bits[i].bms;
			rest &= ~(unsigned)inhibit_bits[i].jbd;
		}
	return rest ? -1 : (int)out;
}

_Static_assert(JBD_CELLS_MAX == BMS_CELLS_MAX && JBD_NTC_MAX == BMS_PROBES_MAX &&
               JBD_EVENTS_MAX == BMS_EVENT_COUNT && JBD_TEXT_MAX == BMS_TEXT_MAX,
               "the 0x03/0x04/0xAA arrays and the texts are the BMS's, copied whole");

static void text_of(const struct bms *b, unsigned which, struct jbd_text *t)
{
	struct bms_string s;
	memset(t, 0, sizeof *t);
	if (bms_string_get(b, which, &s) == RIG_OK) {
		t->len = s.len;
		memcpy(t->text, s.text, sizeof t->text);
	}
}

/* What a 16-bit wire field in 10-unit steps can carry: the board saturates rather than wraps. */
#define WIRE_U16_x10 655350u
#define WIRE_S16_x10 327670

void jbd_personality_basic(const struct bms *b, struct jbd_basic *out)
{
	struct bms_view v;
	bms_view(b, &v);
	memset(out, 0, sizeof *out);
	out->pack_mV = v.pack_mV > WIRE_U16_x10 ? WIRE_U16_x10 : v.pack_mV;
	out->current_mA = v.current_mA > WIRE_S16_x10 ? WIRE_S16_x10
	                : (v.current_mA < -WIRE_S16_x10 ? -WIRE_S16_x10 : v.current_mA);
	out->remain_mAh = v.remain_mAh;
	out->full_mAh = v.full_mAh;
	out->cycles = v.cycles;
	out->production_date = rig_jbd_date_pack((unsigned)b->set.mfg_year, (unsigned)b->set.mfg_month,
	                                         (unsigned)b->set.mfg_day);
	out->bal_low = (uint16_t)(v.bal_mask & 0xFFFFu);
	out->bal_high = (uint16_t)(v.bal_mask >> 16);
	out->prot_raw = (uint16_t)v.prot_bits;  /* enum pack_prot is the 0x03 word's bit order */
	out->sw_version = b->sw_version;
	out->soc_pct = v.soc_pct;
	out->fet = jbd_fet_byte(v.fet);
	out->cell_count = v.cell_count;
	out->ntc_count = v.probe_count;
	memcpy(out->temp_dK, v.probe_dK, sizeof out->temp_dK);
	out->has_ext = 0;
	out->ext_full_mAh = v.full_mAh;
	out->ext_remain_mAh = v.remain_mAh;
	out->balance_current_mA = v.balance_current_mA;
}

void jbd_personality_cells(const struct bms *b, struct jbd_cells *out)
{
	struct bms_view v;
	bms_view(b, &v);
	memset(out, 0, sizeof *out);
	out->count = v.cell_count;
	memcpy(out->cell_mV, v.cell_mV, sizeof out->cell_mV);
}

static int is_settings(uint8_t reg)
{
	return rig_jbd_reg_is_eeprom(reg) || rig_jbd_reg_is_string(reg) || rig_jbd_reg_is_calibration(reg);
}

static void handle_read(struct jbd_personality *p, uint8_t reg, struct jbd_frame *reply)
{
	struct bms *b = p->bms;
	uint16_t v;

	switch (reg) {
	case JBD_REG_BASIC: {
		struct jbd_basic basic;
		jbd_personality_basic(b, &basic);
		basic.has_ext = p->q.basic_extension;
		error_if_failed(reply, rig_jbd_basic_encode(reply, &basic), reg);
		return;
	}
	case JBD_REG_CELLS: {
		struct jbd_cells cells;
		jbd_personality_cells(b, &cells);
		error_if_failed(reply, rig_jbd_cells_encode(reply, &cells), reg);
		return;
	}
	case JBD_REG_VERSION: {
		/* 0x05 is the 0xA1 model string without its prefix (docs/protocols/jbd.md §6). */
		struct jbd_text t;
		text_of(b, BMS_TEXT_MODEL, &t);
		error_if_failed(reply, rig_jbd_version_encode(reply, &t), reg);
		return;
	}
	case JBD_REG_EVENTS: {
		struct jbd_events e;
		e.count = BMS_EVENT_COUNT;
		memcpy(e.value, b->events, sizeof e.value);
		error_if_failed(reply, rig_jbd_events_encode(reply, &e), reg);
		return;
	}
	default:
		break;
	}
	if (rig_jbd_reg_is_string(reg)) {
		struct jbd_text t;
		text_of(b, (unsigned)(reg - JBD_REG_MFG_NAME), &t);
		error_if_failed(reply, rig_jbd_string_encode(reply, reg, &t), reg);
	} else if (jbd_reg_get(b, reg, &v) == RIG_OK) {
		rig_jbd_register_encode(reply, reg, v);
	} else {
		rig_jbd_response_error(reply, reg, JBD_STATUS_UNSUPPORTED);
	}
}

/* Exit factory mode. Outside it the command is acked and does nothing. */
static void factory_exit(struct jbd_personality *p, uint16_t code)
{
	if (!p->factory)
		return;
	p->factory = 0;
	if (code != JBD_EXIT_SAVE)
		return;
	/* Zero first, so what is persisted is what the board holds after the command. */
	bms_events_clear(p->bms);
	personality_persist(&p->saver, p->bms);
}

/* Returns the reply status for a write. */
static uint8_t handle_write(struct jbd_personality *p, const struct jbd_frame *req)
{
	struct bms *b = p->bms;
	const uint8_t reg = req->reg;

	if (rig_jbd_reg_is_string(reg)) {
		struct jbd_text t;
		if (rig_jbd_string_request_decode(req, &t) != RIG_OK ||
		    bms_string_set(b, (unsigned)(reg - JBD_REG_MFG_NAME), t.text, t.len) != RIG_OK)
			return JBD_STATUS_UNSUPPORTED;
		return JBD_STATUS_OK;
	}
	if (reg == JBD_REG_PASSWORD)
		return JBD_STATUS_OK;          /* no password is set: every pairing succeeds */
	if (req->len != 2)
		return JBD_STATUS_UNSUPPORTED;
	const uint16_t v = be16(req->data);

	switch (reg) {
	case JBD_REG_FACTORY_ENTER:
		if (v != JBD_FACTORY_KEY)
			return JBD_STATUS_REFUSED;
		p->factory = 1;
		return JBD_STATUS_OK;
	case JBD_REG_FACTORY_EXIT:
		if (v != JBD_EXIT_DISCARD && v != JBD_EXIT_SAVE)
			return JBD_STATUS_UNSUPPORTED;
		factory_exit(p, v);
		return JBD_STATUS_OK;
	case JBD_REG_MOSFET: {
		int inhibit = inhibit_of_jbd(v);
		return inhibit >= 0 && bms_set_inhibit(b, (uint8_t)inhibit) == RIG_OK
		       ? JBD_STATUS_OK : JBD_STATUS_UNSUPPORTED;
	}
	case JBD_REG_REMAIN_CAP:
		bms_set_remain_mAh(b, 10u * v);
		return JBD_STATUS_OK;
	default:
		return jbd_reg_set(b, reg, v) == RIG_OK ? JBD_STATUS_OK : JBD_STATUS_UNSUPPORTED;
	}
}

int jbd_personality_handle(struct jbd_personality *p, const struct jbd_frame *req,
                           uint32_t now_ms, struct jbd_frame *reply)
{
	if (req->kind != JBD_KIND_REQUEST)
		return 0;

	/* A sleeping board swallows the frame that wakes it. Wrap-safe idle time. */
	int asleep = !p->heard || (uint32_t)(now_ms - p->last_request_ms) >= p->q.drop_first_after_idle_ms;
	p->heard = 1;
	p->last_request_ms = now_ms;
	p->requests++;
	if (p->q.drop_first_after_idle_ms && asleep) {
		p->dropped++;
		return 0;
	}

	const uint8_t reg = req->reg;
	if (is_settings(reg) && p->q.eeprom_needs_factory && !p->factory) {
		rig_jbd_response_error(reply, reg, JBD_STATUS_REFUSED);
		return 1;
	}
	if (req->rw == JBD_RW_READ) {
		handle_read(p, reg, reply);
		return 1;
	}
	uint8_t status = handle_write(p, req);
	if (status == JBD_STATUS_OK)
		rig_jbd_response_ack(reply, reg);
	else
		rig_jbd_response_error(reply, reg, status);
	return 1;
}

/* ---- the generic personality table ------------------------------------------------------ */

/* The protocol state the emulator holds: the personality plus its receive assembler. */
struct jbd_unit {
	struct jbd_personality p;
	struct jbd_rx rx;
};

static rig_rc unit_init(void *state, struct bms *bms, uint8_t address)
{
	struct jbd_unit *u = state;

	(void)address;   /* JBD has no bus address */
	jbd_personality_init(&u->p, bms, NULL);
	rig_jbd_rx_init(&u->rx, 200);
	return RIG_OK;
}

static const struct personality_quirk quirk_rows[] = {
	PERSONALITY_QUIRK(struct jbd_quirks, reply_latency_ms, "latency_ms", 0, 5000),
	PERSONALITY_QUIRK(struct jbd_quirks, drop_first_after_idle_ms, "drop_after_idle_ms", 0, 86400000),
	PERSONALITY_QUIRK(struct jbd_quirks, eeprom_needs_factory, "factory_gate", 0, 1),
	PERSONALITY_QUIRK(struct jbd_quirks, basic_extension, "basic_ext", 0, 1),
};
static const struct personality_quirks quirks = {
	.proto = "jbd", .rows = quirk_rows, .n = sizeof quirk_rows / sizeof quirk_rows[0],
	.all_keys = "latency_ms, drop_after_idle_ms, factory_gate, basic_ext",
};

static rig_rc unit_set_quirk(void *state, const char *key, const char *value, char *why, size_t whycap)
{
	return personality_quirk_set(&quirks, &((struct jbd_unit *)state)->p.q, key, value, why, whycap);
}

static void log_frame(const struct reply_sink *sink, enum personality_dir dir, const struct jbd_frame *f)
{
	uint8_t wire[JBD_FRAME_MAX];
	size_t n;

	if (sink->frame && rig_jbd_frame_encode(f, wire, sizeof wire, &n) == RIG_OK)
		sink->frame(sink->ctx, dir, wire, n);
}

static void unit_rx(void *state, const uint8_t *p, size_t n, uint32_t now_ms, const struct reply_sink *sink)
{
	struct jbd_unit *u = state;
	struct jbd_frame req, reply;

	while (n) {
		size_t used = rig_jbd_rx_feed(&u->rx, p, n, now_ms);

		p += used;
		n -= used;
		while (rig_jbd_rx_next(&u->rx, &req) == RIG_OK) {
			uint8_t wire[JBD_FRAME_MAX];
			size_t len;
			unsigned parts = 0;

			log_frame(sink, PERS_RX, &req);
			if (!jbd_personality_handle(&u->p, &req, now_ms, &reply) ||
			    rig_jbd_frame_encode(&reply, wire, sizeof wire, &len) != RIG_OK)
				continue;
			if (reply.status == JBD_STATUS_OK && reply.reg == JBD_REG_BASIC)
				parts = TRUTH_PACK | TRUTH_TEMPS;
			else if (reply.status == JBD_STATUS_OK && reply.reg == JBD_REG_CELLS)
				parts = TRUTH_CELLS;
			if (sink->frame)                 /* the reply's own bytes: no second encode */
				sink->frame(sink->ctx, PERS_TX, wire, len);
			sink->send(sink->ctx, wire, len, u->p.q.reply_latency_ms, parts);
		}
	}
}

static void unit_on_save(void *state, int (*save)(void *ctx, const struct bms *b), void *ctx)
{
	jbd_personality_on_save(&((struct jbd_unit *)state)->p, save, ctx);
}

const struct personality_ops jbd_personality_ops = {
	.name = "jbd",
	.baud = 9600u,
	.resolution = { .pack_mV = 10.0, .current_mA = 10.0, .temp_dK = 1.0, .cell_mV = 1.0 },
	.init = unit_init,
	.set_quirk = unit_set_quirk,
	.rx = unit_rx,
	.on_save = unit_on_save,
	.wire_json = jbd_wire_json,
};
