/* The JK BLE personality (jk_ble_personality.h): commands in, codec-built records out. */
#include "bmsrig/sim/jk_ble_personality.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsrig/core/jk_ble.h"
#include "bmsrig/sim/jk_ble_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

void jk_ble_quirks_defaults(struct jk_ble_quirks *q)
{
	memset(q, 0, sizeof *q);
	q->layout = JK_BLE_JK02_32S;          /* the firmware >= 11 boards sold today */
	q->push_ms = JK_BLE_PUSH_MS;
	q->latency_ms = 40;
	q->quiet_stop_ms = 0;
	q->at_after_ack = 1;
}

/* Settings no BMS register holds, at the values of the JK-B2A8S20P capture or LFP-typical. */
static const uint32_t store_defaults[][2] = {
	{ JK_SET_SMART_SLEEP_MV, 600 }, { JK_SET_RCV_MV, 3500 }, { JK_SET_RFV_MV, 3400 },
	{ JK_SET_POWER_OFF_MV, 2600 }, { JK_SET_CHG_OCP_DELAY_S, 30 }, { JK_SET_CHG_OCP_REC_S, 60 },
	{ JK_SET_DSG_OCP_DELAY_S, 300 }, { JK_SET_DSG_OCP_REC_S, 60 }, { JK_SET_SCP_REC_S, 60 },
	{ JK_SET_MAX_BAL_MA, 1000 }, { JK_SET_MOS_OTP_DC, 800 }, { JK_SET_MOS_OTPR_DC, 700 },
	{ JK_SET_SCP_DELAY_US, 1500 }, { JK_SET_BAL_SWITCH, 1 },
};

void jk_ble_personality_init(struct jk_ble_personality *p, struct bms *b, const struct jk_ble_quirks *q)
{
	memset(p, 0, sizeof *p);
	p->bms = b;
	if (q)
		p->q = *q;
	else
		jk_ble_quirks_defaults(&p->q);
	rig_jk_ble_rx_init(&p->rx, 200);
	for (size_t i = 0; i < N_OF(store_defaults); i++)
		p->store[store_defaults[i][0]] = store_defaults[i][1];
}

void jk_ble_personality_on_save(struct jk_ble_personality *p,
                                int (*save)(void *ctx, const struct bms *b), void *ctx)
{
	p->saver.save = save;
	p->saver.ctx = ctx;
}

/* ---- settings <-> the BMS's settings -------------------------------------------------------- */

enum conv { V_SAME, V_DK, V_10MA, V_10MAH };
static const struct bms_setting_map setting_map[] = {
	{ JK_SET_CELL_UVP_MV, BMS_SET_CELL_UVP, V_SAME },    { JK_SET_CELL_UVPR_MV, BMS_SET_CELL_UVP_RELEASE, V_SAME },
	{ JK_SET_CELL_OVP_MV, BMS_SET_CELL_OVP, V_SAME },    { JK_SET_CELL_OVPR_MV, BMS_SET_CELL_OVP_RELEASE, V_SAME },
	{ JK_SET_SOC100_MV, BMS_SET_FULL_CELL, V_SAME },     { JK_SET_SOC0_MV, BMS_SET_EMPTY_CELL, V_SAME },
	{ JK_SET_BAL_START_MV, BMS_SET_BALANCE_START, V_SAME }, { JK_SET_BAL_TRIGGER_MV, BMS_SET_BALANCE_DELTA, V_SAME },
	{ JK_SET_MAX_CHG_MA, BMS_SET_CHG_OC, V_10MA },       { JK_SET_MAX_DSG_MA, BMS_SET_DSG_OC, V_10MA },
	{ JK_SET_CHG_OTP_DC, BMS_SET_CHG_OTP, V_DK },        { JK_SET_CHG_OTPR_DC, BMS_SET_CHG_OTP_RELEASE, V_DK },
	{ JK_SET_CHG_UTP_DC, BMS_SET_CHG_UTP, V_DK },        { JK_SET_CHG_UTPR_DC, BMS_SET_CHG_UTP_RELEASE, V_DK },
	{ JK_SET_DSG_OTP_DC, BMS_SET_DSG_OTP, V_DK },        { JK_SET_DSG_OTPR_DC, BMS_SET_DSG_OTP_RELEASE, V_DK },
	{ JK_SET_CELL_COUNT, BMS_SET_CELL_COUNT, V_SAME },   { JK_SET_CAPACITY_MAH, BMS_SET_DESIGN_CAPACITY, V_10MAH },
};

/* The JK value of setting value v. */
static uint32_t to_jk(uint8_t conv, int32_t v)
{
	return conv == V_DK ? (uint32_t)(v - JK_BLE_DK_ZERO_C) : (uint32_t)v;
}

/* The setting value of JK value v: the BMS keeps currents in whole 10 mA and capacities in
 * whole 10 mAh, rounded half up (the discharge limit is written as a positive magnitude). */
static int64_t from_jk(uint8_t conv, uint32_t v)
{
	switch (conv) {
	case V_DK:    return (int64_t)(int32_t)v + JK_BLE_DK_ZERO_C;
	case V_10MA:  return 10 * (((int64_t)(int32_t)v + 5) / 10);
	case V_10MAH: return 10 * (((int64_t)v + 5) / 10);
	default:      return v;
	}
}

int jk_ble_setting_index(unsigned setting, unsigned *k)
{
	for (size_t i = 0; i < N_OF(setting_map); i++)
		if (setting_map[i].setting == setting) {
			*k = setting_map[i].own;
			return 0;
		}
	return -1;
}

uint32_t jk_ble_setting_to_jk(unsigned k, int32_t value)
{
	const struct bms_setting_map *m = bms_setting_map_find(setting_map, N_OF(setting_map), k);
	return m ? to_jk(m->conv, value) : (uint32_t)value;
}

int64_t jk_ble_setting_from_jk(unsigned k, uint32_t value)
{
	const struct bms_setting_map *m = bms_setting_map_find(setting_map, N_OF(setting_map), k);
	return m ? from_jk(m->conv, value) : value;
}

static uint32_t setting_now(const struct jk_ble_personality *p, unsigned k)
{
	const struct bms_setting_map *m = bms_setting_map_find(setting_map, N_OF(setting_map), k);

	if (k == JK_SET_CHG_SWITCH)
		return (uint32_t)bms_fet_allowed(p->bms, BMS_INHIBIT_CHG);
	if (k == JK_SET_DSG_SWITCH)
		return (uint32_t)bms_fet_allowed(p->bms, BMS_INHIBIT_DSG);
	if (m)
		return to_jk(m->conv, bms_setting_get(p->bms, m->setting));
	return p->store[k];
}

void jk_ble_personality_write(struct jk_ble_personality *p, unsigned k, uint32_t wire)
{
	enum jk_ble_layout layout = (enum jk_ble_layout)p->q.layout;
	const struct bms_setting_map *m;
	uint32_t v;

	if (k >= JK_SET_COUNT || rig_jk_ble_setting_from_wire(layout, k, wire, &v) != RIG_OK)
		return;
	if (k == JK_SET_CELL_COUNT && v > rig_jk_ble_slots(layout))
		return;          /* more cells than the records carry: refused, acked all the same */
	if (k == JK_SET_CHG_SWITCH || k == JK_SET_DSG_SWITCH) {
		(void)bms_allow_fet(p->bms, k == JK_SET_CHG_SWITCH ? BMS_INHIBIT_CHG : BMS_INHIBIT_DSG, v != 0);
		return;
	}
	m = bms_setting_map_find(setting_map, N_OF(setting_map), k);
	if (!m) {
		p->store[k] = v;
		return;
	}
	/* A value the BMS refuses changes nothing; the ack goes out all the same. */
	if (bms_setting_set(p->bms, m->setting, from_jk(m->conv, v)) == RIG_OK)
		personality_persist(&p->saver, p->bms);
}

static void apply_write(struct jk_ble_personality *p, const struct jk_ble_cmd *cmd)
{
	int k = rig_jk_ble_setting_of_reg((enum jk_ble_layout)p->q.layout, cmd->reg);

	if (k >= 0)
		jk_ble_personality_write(p, (unsigned)k, rig_jk_ble_cmd_value(cmd));
}

/* ---- records ---------------------------------------------------------------------------------- */

static uint32_t uptime_s(const struct jk_ble_personality *p, uint32_t now_ms)
{
	return p->heard ? (now_ms - p->start_ms) / 1000u : 0u;
}

/* The balance-wire resistance the board measured on cell i's lead (0-based), in mOhm: a fixed
 * 30..48 mOhm spread over the cells, as lead lengths make it (captures read 49..127 mOhm with
 * the cell's own resistance in). A board measures it at start-up, so it does not drift; some
 * clients count the cells by the non-zero ones, so every present cell has one. */
static uint16_t wire_res_mOhm(unsigned i)
{
	return (uint16_t)(30u + (i * 7u + 3u) % 19u);
}

/* Byte 287 is non-zero in every 32S record captured; clients tell 32S from 24S by it. */
static void mark_32s(const struct jk_ble_personality *p, uint8_t rec[JK_BLE_RECORD_LEN])
{
	if (p->q.layout == JK_BLE_JK02_32S)
		rec[287] = 0xFE;
}

void jk_ble_personality_cells(const struct jk_ble_personality *p, uint32_t now_ms,
                              uint8_t rec[JK_BLE_RECORD_LEN])
{
	enum jk_ble_layout layout = (enum jk_ble_layout)p->q.layout;
	const struct bms *b = p->bms;
	unsigned slots = rig_jk_ble_slots(layout), temps = layout == JK_BLE_JK02_32S ? 5u : 2u, i, n;
	struct bms_view v;
	struct jk_ble_cells c;
	uint32_t sum = 0;

	bms_view(b, &v);
	memset(&c, 0, sizeof c);
	n = v.cell_count < slots ? v.cell_count : slots;
	for (i = 0; i < n; i++) {
		c.cell_mV[i] = v.cell_mV[i];
		c.cell_mask |= 1u << i;
		c.wire_res_mOhm[i] = wire_res_mOhm(i);
		sum += c.cell_mV[i];
		if (c.cell_mV[i] > c.cell_mV[c.max_cell_idx])
			c.max_cell_idx = (uint8_t)i;
		if (c.cell_mV[i] < c.cell_mV[c.min_cell_idx])
			c.min_cell_idx = (uint8_t)i;
	}
	c.avg_cell_mV = (uint16_t)(n ? (sum + n / 2) / n : 0);
	c.delta_cell_mV = (uint16_t)(c.cell_mV[c.max_cell_idx] - c.cell_mV[c.min_cell_idx]);
	c.pack_mV = b->meas.pack_mV;
	c.current_mA = b->meas.current_mA;
	c.power_mW = (uint32_t)((uint64_t)c.pack_mV * (uint32_t)labs(c.current_mA) / 1000u);
	c.temp_present = 1;                                   /* bit 0: the MOSFET sensor */
	for (i = 0; i < JK_BLE_TEMPS_MAX; i++) {
		int here = i < temps && i < v.probe_count;

		c.temp_dK[i] = here ? v.probe_dK[i] : JK_BLE_TEMP_ABSENT_DK;
		c.temp_present |= (uint8_t)(here << (i + 1));
	}
	c.mos_temp_dK = v.probe_count ? v.probe_dK[0] : JK_BLE_DK_ZERO_C + 250;
	c.errors = rig_jk_ble_errors_from_prot(b->prot_bits, layout);
	if (v.bal_mask) {
		c.balance_action = 2;                         /* bleeding = discharging balancer */
		c.balance_current_mA = -(int32_t)b->sensor.balance_current_mA;
	}
	c.soc_pct = v.soc_pct;
	c.soh_pct = 100;
	c.remain_mAh = v.remain_mAh;
	c.full_mAh = v.full_mAh;
	c.cycles = v.cycles;
	c.cycle_capacity_mAh = v.cycles * v.full_mAh;
	c.runtime_s = uptime_s(p, now_ms);
	c.fet_chg = (v.fet & BMS_FET_CHG) != 0;
	c.fet_dsg = (v.fet & BMS_FET_DSG) != 0;

	rig_jk_ble_record_begin(rec, JK_BLE_REC_CELLS, p->counter);
	mark_32s(p, rec);
	/* Only values a BMS never produces (a 1000 V pack) fail; then the fields stay zero. */
	if (rig_jk_ble_cells_encode(rec, layout, &c) != RIG_OK)
		rig_jk_ble_record_begin(rec, JK_BLE_REC_CELLS, p->counter);
	rig_jk_ble_record_seal(rec);
}

void jk_ble_personality_settings(const struct jk_ble_personality *p, uint8_t rec[JK_BLE_RECORD_LEN])
{
	enum jk_ble_layout layout = (enum jk_ble_layout)p->q.layout;
	struct jk_ble_settings s;

	for (unsigned k = 0; k < JK_SET_COUNT; k++)
		s.value[k] = setting_now(p, k);
	rig_jk_ble_record_begin(rec, JK_BLE_REC_SETTINGS, p->counter);
	mark_32s(p, rec);
	if (layout == JK_BLE_JK04)
		memcpy(rec + 6, "\x00\x00\x80\x3F", 4);   /* 1.0f, as captured: byte 9 = 0x3F */
	(void)rig_jk_ble_settings_encode(rec, layout, &s);
	rig_jk_ble_record_seal(rec);
}

static void text(uint8_t *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	memset(dst, 0, cap);
	memcpy(dst, s, n < cap ? n : cap);
}

void jk_ble_personality_device(const struct jk_ble_personality *p, uint32_t now_ms,
                               uint8_t rec[JK_BLE_RECORD_LEN])
{
	static const char *const boards[JK_BLE_LAYOUT_COUNT][3] = {
		{ "JK-B2A24S20P", "10.XG", "10.07" },
		{ "JK_PB2A16S20P", "15A", "15.41" },
		{ "JK-B2A16S", "3.0", "3.3.0" },
	};
	const char *const *bd = boards[p->q.layout];
	struct jk_ble_device d;
	unsigned y = (unsigned)p->bms->set.mfg_year, m = (unsigned)p->bms->set.mfg_month;
	unsigned day = (unsigned)p->bms->set.mfg_day;
	char date[16];

	snprintf(date, sizeof date, "%02u%02u%02u", y % 100u, m % 100u, day % 100u);
	memset(&d, 0, sizeof d);
	text(d.model, sizeof d.model, bd[0]);
	text(d.hw_version, sizeof d.hw_version, bd[1]);
	text(d.sw_version, sizeof d.sw_version, bd[2]);
	d.uptime_s = uptime_s(p, now_ms);
	d.power_on_count = 1u + p->bms->events[BMS_EV_RESTART];
	text(d.name, sizeof d.name, "JK-BMS");
	text(d.passcode, sizeof d.passcode, "1234");
	text(d.mfg_date, sizeof d.mfg_date, date);
	text(d.serial, sizeof d.serial, "4110149451");
	text(d.passcode2, sizeof d.passcode2, "0000");
	text(d.user_data, sizeof d.user_data, "Input Userdata");
	text(d.setup_passcode, sizeof d.setup_passcode, "123456");
	rig_jk_ble_record_begin(rec, JK_BLE_REC_DEVICE, p->counter);
	(void)rig_jk_ble_device_encode(rec, &d);
	rig_jk_ble_record_seal(rec);
}

/* ---- the line ------------------------------------------------------------------------------ */

/* The ack, then "AT\r\n" (BLE module chatter in the same notification) when the quirk says so;
 * returns the byte count. */
static size_t ack_bytes(const struct jk_ble_personality *p, const struct reply_sink *sink, uint8_t *out)
{
	struct jk_ble_cmd ack;

	rig_jk_ble_cmd_ack(&ack);
	rig_jk_ble_cmd_encode(&ack, out);
	if (sink->frame)
		sink->frame(sink->ctx, PERS_TX, out, JK_BLE_CMD_LEN);
	if (!p->q.at_after_ack)
		return JK_BLE_CMD_LEN;
	memcpy(out + JK_BLE_CMD_LEN, "AT\r\n", 4);
	return JK_BLE_CMD_LEN + 4;
}

/* A record, and when it answers a command the ack behind it in the same write: the captures
 * show the ack after the 0x97 reply (mpp-solar takes 300- or 320-byte replies, jktool wants
 * the 320 bytes in one piece, docs/protocols/jk.md §3.3, §8.1). */
static void send_record(struct jk_ble_personality *p, const struct reply_sink *sink, uint32_t now_ms,
                        uint8_t type, uint32_t delay_ms, int with_ack)
{
	uint8_t wire[JK_BLE_RECORD_LEN + JK_BLE_CMD_LEN + 4];
	unsigned parts = 0;
	size_t n = JK_BLE_RECORD_LEN;

	if (type == JK_BLE_REC_DEVICE) {
		jk_ble_personality_device(p, now_ms, wire);
	} else if (type == JK_BLE_REC_SETTINGS) {
		jk_ble_personality_settings(p, wire);
	} else {
		jk_ble_personality_cells(p, now_ms, wire);
		parts = p->q.layout == JK_BLE_JK04 ? TRUTH_CELLS : TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS;
	}
	p->counter++;
	p->records++;
	if (sink->frame)
		sink->frame(sink->ctx, PERS_TX, wire, n);
	if (with_ack)
		n += ack_bytes(p, sink, wire + n);
	sink->send(sink->ctx, wire, n, delay_ms, parts);
}

static void handle(struct jk_ble_personality *p, const struct jk_ble_cmd *cmd, uint32_t now_ms,
                   const struct reply_sink *sink)
{
	if (rig_jk_ble_cmd_is_ack(cmd))
		return;                   /* a BMS-side frame: nothing to answer */
	if (!p->heard)
		p->start_ms = now_ms;
	p->heard = 1;
	p->last_cmd_ms = now_ms;
	p->commands++;
	switch (cmd->reg) {
	case JK_BLE_REG_DEVICE_INFO:
		p->streaming = 0;
		send_record(p, sink, now_ms, JK_BLE_REC_DEVICE, p->q.latency_ms, 1);
		break;
	case JK_BLE_REG_CELL_INFO:
		send_record(p, sink, now_ms, JK_BLE_REC_SETTINGS, p->q.latency_ms, 1);
		p->streaming = 1;
		p->next_push_ms = now_ms + p->q.latency_ms;
		break;
	default: {
		uint8_t ack[JK_BLE_CMD_LEN + 4];
		size_t n = ack_bytes(p, sink, ack);

		apply_write(p, cmd);
		sink->send(sink->ctx, ack, n, p->q.latency_ms, 0);
		break;
	}
	}
}

void jk_ble_personality_rx(struct jk_ble_personality *p, const uint8_t *bytes, size_t n,
                           uint32_t now_ms, const struct reply_sink *sink)
{
	while (n) {
		size_t used = rig_jk_ble_rx_feed(&p->rx, bytes, n, now_ms), len;
		const uint8_t *w;

		bytes += used;
		n -= used;
		while (rig_jk_ble_rx_next(&p->rx, &w, &len) == RIG_OK) {
			struct jk_ble_cmd cmd;

			if (len != JK_BLE_CMD_LEN || rig_jk_ble_cmd_parse(w, len, &cmd) != RIG_OK)
				continue;         /* a record on the BMS's side of the line: not for us */
			if (sink->frame)
				sink->frame(sink->ctx, PERS_RX, w, len);
			handle(p, &cmd, now_ms, sink);
		}
	}
}

void jk_ble_personality_disconnected(struct jk_ble_personality *p)
{
	p->streaming = 0;
}

void jk_ble_personality_tick(struct jk_ble_personality *p, uint32_t now_ms, const struct reply_sink *sink)
{
	if (p->streaming && p->q.quiet_stop_ms && now_ms - p->last_cmd_ms >= p->q.quiet_stop_ms)
		p->streaming = 0;
	if (!p->streaming || (int32_t)(now_ms - p->next_push_ms) < 0)
		return;
	send_record(p, sink, now_ms, JK_BLE_REC_CELLS, 0, 0);
	/* Keep the period; after a long gap (a paused model) start again from now. */
	p->next_push_ms += p->q.push_ms;
	if ((int32_t)(now_ms - p->next_push_ms) >= 0)
		p->next_push_ms = now_ms + p->q.push_ms;
}

/* ---- the generic personality table ------------------------------------------------------------ */

static rig_rc unit_init(void *state, struct bms *bms, uint8_t address)
{
	(void)address;   /* one BMS per BLE connection: no bus address */
	jk_ble_personality_init(state, bms, NULL);
	return RIG_OK;
}

static const struct personality_quirk quirk_rows[] = {
	PERSONALITY_QUIRK(struct jk_ble_quirks, push_ms, "push_ms", 50, 60000),
	PERSONALITY_QUIRK(struct jk_ble_quirks, latency_ms, "latency_ms", 0, 5000),
	PERSONALITY_QUIRK(struct jk_ble_quirks, quiet_stop_ms, "quiet_stop_ms", 0, 86400000),
	PERSONALITY_QUIRK(struct jk_ble_quirks, at_after_ack, "at_after_ack", 0, 1),
};
static const struct personality_quirks quirks = {
	.proto = "jk-ble", .rows = quirk_rows, .n = sizeof quirk_rows / sizeof quirk_rows[0],
	.all_keys = "layout, push_ms, latency_ms, quiet_stop_ms, at_after_ack",
};

static rig_rc unit_set_quirk(void *state, const char *key, const char *value, char *why, size_t whycap)
{
	struct jk_ble_quirks *q = &((struct jk_ble_personality *)state)->q;

	if (!strcmp(key, "layout")) {
		for (unsigned i = 0; i < JK_BLE_LAYOUT_COUNT; i++)
			if (!strcmp(value, rig_jk_ble_layout_name(i))) {
				struct bms_view v;
				unsigned max = rig_jk_ble_slots((enum jk_ble_layout)i);

				/* Cells past the layout's slots would vanish from every record unsaid. */
				bms_view(((struct jk_ble_personality *)state)->bms, &v);
				if (v.cell_count > max) {
					snprintf(why, whycap, "layout %s carries at most %u cells, the pack has %u",
					         value, max, (unsigned)v.cell_count);
					return RIG_ERR_ARG;
				}
				q->layout = (uint8_t)i;
				return RIG_OK;
			}
		snprintf(why, whycap, "layout: expected JK02_24S, JK02_32S or JK04, got \"%s\"", value);
		return RIG_ERR_ARG;
	}
	return personality_quirk_set(&quirks, q, key, value, why, whycap);
}

static void unit_rx(void *state, const uint8_t *p, size_t n, uint32_t now_ms, const struct reply_sink *sink)
{
	jk_ble_personality_rx(state, p, n, now_ms, sink);
}

static void unit_tick(void *state, uint32_t now_ms, const struct reply_sink *sink)
{
	jk_ble_personality_tick(state, now_ms, sink);
}

static void unit_disconnected(void *state)
{
	jk_ble_personality_disconnected(state);
}

static void unit_on_save(void *state, int (*save)(void *ctx, const struct bms *b), void *ctx)
{
	jk_ble_personality_on_save(state, save, ctx);
}

/* Baud: the BMS's UART behind the BLE module; the link model adds the Bluetooth timing.
 * Resolution (JK02): 1 mV pack, 1 mA, 0.1 degC = 1 dK, 1 mV cells; JK04 floats round to 1 mV. */
const struct personality_ops jk_ble_personality_ops = {
	.name = "jk-ble",
	.baud = 115200u,
	.resolution = { .pack_mV = 1.0, .current_mA = 1.0, .temp_dK = 1.0, .cell_mV = 1.0 },
	.init = unit_init,
	.set_quirk = unit_set_quirk,
	.rx = unit_rx,
	.tick = unit_tick,
	.disconnected = unit_disconnected,
	.on_save = unit_on_save,
	.wire_json = jk_ble_wire_json,
};
