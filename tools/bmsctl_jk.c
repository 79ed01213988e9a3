/* bmsctl over JK: the 4E 57 protocol on a wire (`jk`) and the Bluetooth records (`jk-ble`)
 * (bmsctl.h, docs/bmsctl.md). Which id or settings word carries which neutral setting, and the
 * unit conversions, are the emulator personalities' own (sim/jk_personality.c,
 * sim/jk_ble_personality.c). Neither has a SOC write. */
#include <stdio.h>
#include <string.h>

#include "bmsctl.h"
#include "bmsrig/core/jk_pb.h"
#include "bmsrig/core/modbus_rtu.h"
#include "bmsrig/sim/jk_ble_personality.h"
#include "bmsrig/sim/jk_personality.h"

#define JK_SOURCE_PC 3u      /* as the vendor example and most clients (jk_client.h) */

struct jk_want {
	uint8_t cmd;
	struct jk_frame *rep;
};

/* The reply to the command asked. */
static int jk_take(struct ctl *c, const uint8_t *p, size_t n, void *ctx)
{
	struct jk_want *w = ctx;
	size_t off = 0;
	if (n == 0) {
		rig_jk_rx_init(&c->krx, 200);
		return 0;
	}
	while (off < n) {
		off += rig_jk_rx_feed(&c->krx, p + off, n - off, ctl_now_ms());
		while (rig_jk_rx_next(&c->krx, w->rep) == RIG_OK)
			if (w->rep->type == JK_TYPE_REPLY && w->rep->cmd == w->cmd)
				return 1;
	}
	return 0;
}

static int jk_xfer(struct ctl *c, const struct jk_frame *req, struct jk_frame *rep)
{
	static uint8_t wire[JK_FRAME_MAX];
	size_t n;
	char what[16];
	struct jk_want w = { req->cmd, rep };

	snprintf(what, sizeof what, "command 0x%02X", req->cmd);
	if (rig_jk_frame_encode(req, wire, sizeof wire, &n) != RIG_OK)
		return -1;
	return ctl_exchange(c, wire, n, jk_take, &w, what);
}

static int jk_has(unsigned id)
{
	uint8_t k;
	return jk_setting_id(id, &k) == 0;
}

static int jk_read_all(struct ctl *c, struct jk_data *d)
{
	static struct jk_frame req, rep;
	rig_jk_request_read_all(&req, JK_SOURCE_PC);
	if (jk_xfer(c, &req, &rep) != 0 || rig_jk_data_decode(&rep, d) != RIG_OK) {
		fprintf(stderr, "bmsctl: jk: the read-all reply did not decode\n");
		return -1;
	}
	return 0;
}

static int jk_read(struct ctl *c, const unsigned *ids, size_t n, int32_t *out)
{
	static struct jk_data d;
	if (jk_read_all(c, &d) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint8_t k;
		int32_t raw;
		if (jk_setting_id(ids[i], &k) != 0 || rig_jk_data_get(&d, k, &raw) != RIG_OK) {
			fprintf(stderr, "bmsctl: jk: the reply lacks id 0x%02X\n", k);
			return -1;
		}
		out[i] = (int32_t)jk_setting_from_jk(k, raw);
	}
	return 0;
}

/* Every value must survive the board's unit (whole degC, A, Ah; pack limits in 10 mV) and fit
 * the id's field. */
static int jk_check(struct ctl *c, const unsigned *ids, const int32_t *v, size_t n)
{
	static struct jk_data d;
	static struct jk_frame f;
	(void)c;
	for (size_t i = 0; i < n; i++) {
		uint8_t k;
		int32_t raw;
		if (jk_setting_id(ids[i], &k) != 0)
			return -1;
		raw = jk_setting_to_jk(k, v[i]);
		rig_jk_data_clear(&d);
		if (jk_setting_from_jk(k, raw) != v[i]) {
			fprintf(stderr, "bmsctl: %s=%ld: jk id 0x%02X cannot hold it (nearest %lld)\n",
			        bms_setting_info(ids[i])->name, (long)v[i], k, (long long)jk_setting_from_jk(k, raw));
			return -1;
		}
		if (rig_jk_data_set(&d, k, raw) != RIG_OK ||
		    rig_jk_request_write_item(&f, JK_SOURCE_PC, k, &d) != RIG_OK) {
			fprintf(stderr, "bmsctl: %s=%ld: outside jk id 0x%02X's field\n",
			        bms_setting_info(ids[i])->name, (long)v[i], k);
			return -1;
		}
	}
	return 0;
}

static int jk_write(struct ctl *c, const unsigned *ids, const int32_t *v, size_t n, int32_t *back)
{
	static struct jk_data d;
	static struct jk_frame req, rep;
	if (jk_check(c, ids, v, n) != 0)
		return -2;
	for (size_t i = 0; i < n; i++) {
		uint8_t k;
		(void)jk_setting_id(ids[i], &k);
		rig_jk_data_clear(&d);
		if (rig_jk_data_set(&d, k, jk_setting_to_jk(k, v[i])) != RIG_OK ||
		    rig_jk_request_write_item(&req, JK_SOURCE_PC, k, &d) != RIG_OK)
			return -1;
		ctl_verbose(c, "jk: writing id 0x%02X", k);
		if (jk_xfer(c, &req, &rep) != 0)
			return -1;
	}
	return jk_read(c, ids, n, back);
}

static int jk_info(struct ctl *c, struct ctl_info *in)
{
	static struct jk_data d;
	struct pack_state s;
	memset(in, 0, sizeof *in);
	if (jk_read_all(c, &d) != 0 || rig_jk_to_pack_state(&d, &s) != RIG_OK)
		return -1;
	ctl_info_from_pack(in, &s);
	return 0;
}

/* 0xAB charge, 0xAC discharge switches (docs/protocols/jk.md §4.1). */
static int jk_fets(struct ctl *c, int chg, int dsg)
{
	const struct { int on; uint8_t id; } sw[] = { { chg, JK_ID_CHG_SWITCH }, { dsg, JK_ID_DSG_SWITCH } };
	for (size_t i = 0; i < CTL_N_OF(sw); i++) {
		static struct jk_frame req, rep;
		if (sw[i].on < 0)
			continue;
		if (rig_jk_request_switch(&req, JK_SOURCE_PC, sw[i].id, (uint8_t)sw[i].on) != RIG_OK ||
		    jk_xfer(c, &req, &rep) != 0)
			return -1;
	}
	return 0;
}

/* ---- JK over Bluetooth (0xAA 0x55 0x90 0xEB commands, 0x55 0xAA 0xEB 0x90 records) ---------- */

enum { JKB_ACK = 1, JKB_SETTINGS = 2, JKB_CELLS = 4 };
#define JKB_TYPE_AT 4u       /* a record's type byte, after its 4-byte header */

struct jkb_want {
	unsigned want, have, cells_seen;
	uint8_t *set_rec, *cell_rec;
};

/* Everything in want: the BMS's ack, a settings record, a cell-info record (the stream 0x96
 * starts). The second cell record counts: the first may have left before a write just made
 * took effect. */
static int jkb_take(struct ctl *c, const uint8_t *p, size_t n, void *ctx)
{
	struct jkb_want *w = ctx;
	size_t off = 0;
	if (n == 0) {
		rig_jk_ble_rx_init(&c->brx, 200);
		w->have = w->cells_seen = 0;
		return 0;
	}
	while (off < n) {
		const uint8_t *f;
		size_t fn;
		off += rig_jk_ble_rx_feed(&c->brx, p + off, n - off, ctl_now_ms());
		while (rig_jk_ble_rx_next(&c->brx, &f, &fn) == RIG_OK) {
			struct jk_ble_cmd ack;
			if (fn == JK_BLE_CMD_LEN && rig_jk_ble_cmd_parse(f, fn, &ack) == RIG_OK &&
			    rig_jk_ble_cmd_is_ack(&ack))
				w->have |= JKB_ACK;
			if (fn == JK_BLE_RECORD_LEN && f[JKB_TYPE_AT] == JK_BLE_REC_SETTINGS && w->set_rec) {
				memcpy(w->set_rec, f, JK_BLE_RECORD_LEN);
				w->have |= JKB_SETTINGS;
			}
			if (fn == JK_BLE_RECORD_LEN && f[JKB_TYPE_AT] == JK_BLE_REC_CELLS && w->cell_rec) {
				memcpy(w->cell_rec, f, JK_BLE_RECORD_LEN);
				if (++w->cells_seen >= 2)
					w->have |= JKB_CELLS;
			}
		}
		if ((w->have & w->want) == w->want)
			return 1;
	}
	return 0;
}

static int jkb_xfer(struct ctl *c, const struct jk_ble_cmd *cmd, unsigned want, uint8_t *set_rec,
                    uint8_t *cell_rec)
{
	uint8_t wire[JK_BLE_CMD_LEN];
	char what[8];
	struct jkb_want w = { want, 0, 0, set_rec, cell_rec };

	snprintf(what, sizeof what, "0x%02X", cmd->reg);
	rig_jk_ble_cmd_encode(cmd, wire);
	return ctl_exchange(c, wire, sizeof wire, jkb_take, &w, what);
}

/* ---- JK-PB over RS485: the same records, each asked for with a Modbus trigger write, and the
 * settings words written as Modbus registers at their byte offset (docs/protocols/jk-pb.md) */

#define JKPB_ADDR JK_PB_ADDR_MIN   /* the DIP switches' first address, bmssim's default */

struct jkpb_want {
	unsigned want, have;
	uint8_t *set_rec, *cell_rec;
};

/* Records of the types wanted, and (JKB_ACK) a write's Modbus echo. */
static int jkpb_take(struct ctl *c, const uint8_t *p, size_t n, void *ctx)
{
	struct jkpb_want *w = ctx;
	size_t off = 0;
	if (n == 0) {
		rig_jk_pb_rx_init(&c->prx, 200);
		w->have = 0;
		return 0;
	}
	while (off < n) {
		struct jk_pb_item it;
		off += rig_jk_pb_rx_feed(&c->prx, p + off, n - off, ctl_now_ms());
		while (rig_jk_pb_rx_next(&c->prx, &it) == RIG_OK) {
			uint16_t reg, count;
			if (it.kind == JK_PB_ITEM_MODBUS && rig_jk_pb_echo_decode(&it.frame, &reg, &count) == RIG_OK)
				w->have |= JKB_ACK;
			if (it.kind == JK_PB_ITEM_RECORD && it.record[JKB_TYPE_AT] == JK_BLE_REC_SETTINGS && w->set_rec) {
				memcpy(w->set_rec, it.record, JK_BLE_RECORD_LEN);
				w->have |= JKB_SETTINGS;
			}
			if (it.kind == JK_PB_ITEM_RECORD && it.record[JKB_TYPE_AT] == JK_BLE_REC_CELLS && w->cell_rec) {
				memcpy(w->cell_rec, it.record, JK_BLE_RECORD_LEN);
				w->have |= JKB_CELLS;
			}
		}
		if ((w->have & w->want) == w->want)
			return 1;
	}
	return 0;
}

static int jkpb_xfer(struct ctl *c, const struct modbus_frame *f, unsigned want, uint8_t *set_rec,
                     uint8_t *cell_rec, const char *what)
{
	uint8_t wire[MODBUS_ADU_MAX];
	size_t n;
	struct jkpb_want w = { want, 0, set_rec, cell_rec };
	if (rig_modbus_frame_encode(f, wire, sizeof wire, &n) != RIG_OK)
		return -1;
	return ctl_exchange(c, wire, n, jkpb_take, &w, what);
}

static int jkpb_record(struct ctl *c, uint8_t type, uint8_t *rec)
{
	struct modbus_frame f;
	if (rig_jk_pb_request_trigger(&f, JKPB_ADDR, type) != RIG_OK)
		return -1;
	return jkpb_xfer(c, &f, type == JK_BLE_REC_SETTINGS ? JKB_SETTINGS : JKB_CELLS,
	                 type == JK_BLE_REC_SETTINGS ? rec : NULL, type == JK_BLE_REC_CELLS ? rec : NULL,
	                 type == JK_BLE_REC_SETTINGS ? "the settings trigger" : "the cell-info trigger");
}

/* Word k is the u32 at byte 4k of the settings block, written as two registers. */
static int jkpb_write_word(struct ctl *c, unsigned k, uint32_t value)
{
	struct modbus_frame f;
	const uint8_t le[4] = { (uint8_t)value, (uint8_t)(value >> 8), (uint8_t)(value >> 16), (uint8_t)(value >> 24) };
	uint16_t reg = (uint16_t)(JK_PB_BASE_SETTINGS + 4u * k);
	if (rig_jk_pb_request_write(&f, JKPB_ADDR, reg, le, sizeof le) != RIG_OK)
		return -1;
	ctl_verbose(c, "jk-pb: writing register 0x%04X", reg);
	return jkpb_xfer(c, &f, JKB_ACK, NULL, NULL, "a settings write");
}

/* The settings record (and the cell record when cell_rec); the layout from the settings. */
static int jkb_records(struct ctl *c, struct jk_ble_settings *set, uint8_t *cell_rec)
{
	static uint8_t rec[JK_BLE_RECORD_LEN];
	struct jk_ble_cmd cmd;
	rig_jk_ble_cmd_read(&cmd, JK_BLE_REG_CELL_INFO);
	if (c->proto == &ctl_jk_pb) {
		if (jkpb_record(c, JK_BLE_REC_SETTINGS, rec) != 0 ||
		    (cell_rec && jkpb_record(c, JK_BLE_REC_CELLS, cell_rec) != 0))
			return -1;
	} else if (jkb_xfer(c, &cmd, JKB_SETTINGS | (cell_rec ? JKB_CELLS : 0u), rec, cell_rec) != 0) {
		return -1;
	}
	c->jkb_layout = (int)rig_jk_ble_layout_detect(rec);
	if (rig_jk_ble_settings_decode(rec, (enum jk_ble_layout)c->jkb_layout, set) != RIG_OK) {
		fprintf(stderr, "bmsctl: %s: the settings record did not decode\n", c->proto->name);
		return -1;
	}
	return 0;
}

static int jkb_has(unsigned id)
{
	unsigned k;
	return jk_ble_setting_index(id, &k) == 0;
}

static int jkb_read(struct ctl *c, const unsigned *ids, size_t n, int32_t *out)
{
	struct jk_ble_settings set;
	if (jkb_records(c, &set, NULL) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned k;
		if (jk_ble_setting_index(ids[i], &k) != 0 ||
		    !rig_jk_ble_setting_present((enum jk_ble_layout)c->jkb_layout, k)) {
			fprintf(stderr, "bmsctl: jk-ble: %s is not in this board's settings record\n",
			        bms_setting_info(ids[i])->name);
			return -1;
		}
		out[i] = (int32_t)jk_ble_setting_from_jk(k, set.value[k]);
	}
	return 0;
}

/* The board keeps currents in whole 10 mA and capacities in whole 10 mAh. */
static int jkb_check(struct ctl *c, const unsigned *ids, const int32_t *v, size_t n)
{
	(void)c;
	for (size_t i = 0; i < n; i++) {
		unsigned k;
		if (jk_ble_setting_index(ids[i], &k) != 0)
			return -1;
		int64_t back = jk_ble_setting_from_jk(k, jk_ble_setting_to_jk(k, v[i]));
		if (back != v[i]) {
			fprintf(stderr, "bmsctl: %s=%ld: jk-ble settings word %u cannot hold it (nearest %lld)\n",
			        bms_setting_info(ids[i])->name, (long)v[i], k, (long long)back);
			return -1;
		}
	}
	return 0;
}

/* One settings word written with its register, acknowledged by 0xC8 (which names no register,
 * so the writes go one at a time). */
static int jkb_write_word(struct ctl *c, unsigned k, uint32_t value)
{
	struct jk_ble_cmd cmd;
	if (c->proto == &ctl_jk_pb)
		return jkpb_write_word(c, k, value);
	enum jk_ble_layout layout = (enum jk_ble_layout)c->jkb_layout;
	uint8_t reg = rig_jk_ble_setting_reg(layout, k);
	if (reg == 0 || rig_jk_ble_cmd_write(&cmd, reg, 4, rig_jk_ble_setting_to_wire(layout, k, value)) != RIG_OK) {
		fprintf(stderr, "bmsctl: jk-ble: settings word %u has no write register on %s\n", k,
		        rig_jk_ble_layout_name((unsigned)layout));
		return -1;
	}
	ctl_verbose(c, "jk-ble: writing register 0x%02X", reg);
	return jkb_xfer(c, &cmd, JKB_ACK, NULL, NULL);
}

static int jkb_write(struct ctl *c, const unsigned *ids, const int32_t *v, size_t n, int32_t *back)
{
	struct jk_ble_settings set;
	if (jkb_check(c, ids, v, n) != 0)
		return -2;
	if (jkb_records(c, &set, NULL) != 0)      /* the layout decides the registers */
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned k;
		(void)jk_ble_setting_index(ids[i], &k);
		if (jkb_write_word(c, k, jk_ble_setting_to_jk(k, v[i])) != 0)
			return -1;
	}
	return jkb_read(c, ids, n, back);
}

static int jkb_info(struct ctl *c, struct ctl_info *in)
{
	static uint8_t rec[JK_BLE_RECORD_LEN];
	struct jk_ble_settings set;
	struct jk_ble_cells cells;
	struct pack_state s;
	memset(in, 0, sizeof *in);
	if (jkb_records(c, &set, rec) != 0 ||
	    rig_jk_ble_cells_decode(rec, (enum jk_ble_layout)c->jkb_layout, &cells) != RIG_OK)
		return -1;
	rig_jk_ble_to_pack_state(&cells, (enum jk_ble_layout)c->jkb_layout, &s);
	snprintf(in->model, sizeof in->model, "%s", rig_jk_ble_layout_name((unsigned)c->jkb_layout));
	ctl_info_from_pack(in, &s);
	return 0;
}

/* The charge and discharge switches are settings words 28 and 29 (registers 0x1D, 0x1E). */
static int jkb_fets(struct ctl *c, int chg, int dsg)
{
	struct jk_ble_settings set;
	if (jkb_records(c, &set, NULL) != 0)
		return -1;
	if ((chg >= 0 && jkb_write_word(c, JK_SET_CHG_SWITCH, (uint32_t)chg) != 0) ||
	    (dsg >= 0 && jkb_write_word(c, JK_SET_DSG_SWITCH, (uint32_t)dsg) != 0))
		return -1;
	return 0;
}

const struct ctl_proto ctl_jk = {
	"jk", 115200, CTL_WIRE_REPLY_MS, jk_has, jk_read, jk_write, jk_info, jk_fets, NULL, NULL,
};
const struct ctl_proto ctl_jk_ble = {
	"jk-ble", 115200, CTL_BLE_REPLY_MS, jkb_has, jkb_read, jkb_write, jkb_info, jkb_fets, NULL, NULL,
};
/* JK-PB on RS485: the BLE records and settings words through Modbus RTU, at address 1. */
const struct ctl_proto ctl_jk_pb = {
	"jk-pb", JK_PB_BAUD, CTL_WIRE_REPLY_MS, jkb_has, jkb_read, jkb_write, jkb_info, jkb_fets, NULL, NULL,
};
