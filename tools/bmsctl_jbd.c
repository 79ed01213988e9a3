/* bmsctl over JBD, on a wire and through its Bluetooth module (bmsctl.h, docs/bmsctl.md). The
 * settings live in EEPROM registers behind factory mode; which register holds which setting,
 * with what scale, is sim/jbd_settings.c's map: a register read from the board is loaded into
 * a local struct bms, a setting changed there, and the register that results written back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsctl.h"
#include "bmsrig/sim/jbd_settings.h"

struct jbd_want {
	uint8_t reg;
	struct jbd_frame *rep;
};

/* The answer for the register asked. */
static int jbd_take(struct ctl *c, const uint8_t *p, size_t n, void *ctx)
{
	struct jbd_want *w = ctx;
	size_t off = 0;
	if (n == 0) {
		rig_jbd_rx_init(&c->jrx, 200);
		return 0;
	}
	while (off < n) {
		off += rig_jbd_rx_feed(&c->jrx, p + off, n - off, ctl_now_ms());
		while (rig_jbd_rx_next(&c->jrx, w->rep) == RIG_OK)
			if (w->rep->kind == JBD_KIND_RESPONSE && w->rep->reg == w->reg)
				return 1;
	}
	return 0;
}

/* One request whose answer must carry status OK. */
static int jbd_ok(struct ctl *c, const struct jbd_frame *req, struct jbd_frame *rep)
{
	uint8_t wire[JBD_FRAME_MAX];
	size_t n;
	char what[24];
	struct jbd_want w = { req->reg, rep };

	snprintf(what, sizeof what, "register 0x%02X", req->reg);
	if (rig_jbd_frame_encode(req, wire, sizeof wire, &n) != RIG_OK ||
	    ctl_exchange(c, wire, n, jbd_take, &w, what) != 0)
		return -1;
	if (rep->status != JBD_STATUS_OK) {
		fprintf(stderr, "bmsctl: %s: %s answered status 0x%02X\n", c->proto->name, what, rep->status);
		return -1;
	}
	return 0;
}

/* Enter factory mode, or leave it saving (after writes) or discarding (after reads). */
static int jbd_factory(struct ctl *c, int enter, int save)
{
	struct jbd_frame req, rep;
	if (enter)
		rig_jbd_request_factory_enter(&req);
	else
		rig_jbd_request_factory_exit(&req, save);
	return jbd_ok(c, &req, &rep);
}

static int jbd_has(unsigned id)
{
	return jbd_reg_of_setting(id) >= 0;
}

/* Reads the registers holding ids into c->local (factory mode entered). */
static int jbd_load(struct ctl *c, const unsigned *ids, size_t n)
{
	uint8_t done[256] = { 0 };
	for (size_t i = 0; i < n; i++) {
		int reg = jbd_reg_of_setting(ids[i]);
		struct jbd_frame req, rep;
		uint16_t raw;
		if (reg < 0 || done[reg])
			continue;
		rig_jbd_request_read(&req, (uint8_t)reg);
		if (jbd_ok(c, &req, &rep) != 0 || rig_jbd_register_decode(&rep, &raw) != RIG_OK)
			return -1;
		if (jbd_reg_set(&c->local, (uint8_t)reg, raw) != RIG_OK) {
			fprintf(stderr, "bmsctl: %s: register 0x%02X holds 0x%04X, outside its range\n",
			        c->proto->name, (unsigned)reg, raw);
			return -1;
		}
		done[reg] = 1;
	}
	return 0;
}

static int jbd_read(struct ctl *c, const unsigned *ids, size_t n, int32_t *out)
{
	if (jbd_factory(c, 1, 0) != 0)
		return -1;
	int rc = jbd_load(c, ids, n);
	for (size_t i = 0; rc == 0 && i < n; i++)
		out[i] = bms_setting_get(&c->local, ids[i]);
	return jbd_factory(c, 0, 0) != 0 ? -1 : rc;
}

/* The register value that carries v for id on top of what the register holds now in b; -1
 * when the register cannot hold v exactly (a 10 mV register and 14805 mV). */
static int jbd_encode(struct bms *b, unsigned id, int32_t v, uint16_t *raw)
{
	int reg = jbd_reg_of_setting(id);
	struct bms probe;
	if (reg < 0 || bms_setting_set(b, id, v) != RIG_OK || jbd_reg_get(b, (uint8_t)reg, raw) != RIG_OK)
		return -1;
	probe = *b;
	if (jbd_reg_set(&probe, (uint8_t)reg, *raw) != RIG_OK || bms_setting_get(&probe, id) != v)
		return -1;
	return 0;
}

/* Every value tried on a copy of the board's registers before anything is written. */
static int jbd_check(struct ctl *c, const unsigned *ids, const int32_t *v, size_t n)
{
	struct bms b = c->local;
	for (size_t i = 0; i < n; i++) {
		uint16_t raw = 0;
		if (jbd_encode(&b, ids[i], v[i], &raw) != 0) {
			struct bms near = b;
			int reg = jbd_reg_of_setting(ids[i]);
			(void)jbd_reg_set(&near, (uint8_t)reg, raw);
			fprintf(stderr, "bmsctl: %s=%ld: %s register 0x%02X cannot hold it (nearest %ld)\n",
			        bms_setting_info(ids[i])->name, (long)v[i], c->proto->name, (unsigned)reg,
			        (long)bms_setting_get(&near, ids[i]));
			return -1;
		}
	}
	return 0;
}

static int jbd_write(struct ctl *c, const unsigned *ids, const int32_t *v, size_t n, int32_t *back)
{
	int rc = 0;
	if (jbd_factory(c, 1, 0) != 0)
		return -1;
	if (jbd_load(c, ids, n) != 0 || jbd_check(c, ids, v, n) != 0) {
		(void)jbd_factory(c, 0, 0);
		return -2;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct jbd_frame req, rep;
		uint16_t raw;
		int reg = jbd_reg_of_setting(ids[i]);
		if (jbd_encode(&c->local, ids[i], v[i], &raw) != 0)
			rc = -1;
		rig_jbd_request_write_u16(&req, (uint8_t)reg, raw);
		ctl_verbose(c, "%s: writing register 0x%02X = 0x%04X", c->proto->name, (unsigned)reg, raw);
		if (rc == 0 && jbd_ok(c, &req, &rep) != 0)
			rc = -1;
	}
	/* The read-back: what the board now holds, read from scratch. */
	if (rc == 0) {
		memset(&c->local, 0, sizeof c->local);
		rc = jbd_load(c, ids, n);
		for (size_t i = 0; rc == 0 && i < n; i++)
			back[i] = bms_setting_get(&c->local, ids[i]);
	}
	return jbd_factory(c, 0, rc == 0) != 0 ? -1 : rc;
}

static int jbd_info(struct ctl *c, struct ctl_info *in)
{
	struct jbd_frame req, rep;
	struct jbd_basic b;
	struct jbd_cells cells;
	struct jbd_text t;
	struct pack_state s;

	memset(in, 0, sizeof *in);
	rig_jbd_request_read(&req, JBD_REG_BASIC);
	if (jbd_ok(c, &req, &rep) != 0 || rig_jbd_basic_decode(&rep, &b) != RIG_OK)
		return -1;
	rig_jbd_request_read(&req, JBD_REG_CELLS);
	if (jbd_ok(c, &req, &rep) != 0 || rig_jbd_cells_decode(&rep, &cells) != RIG_OK)
		return -1;
	rig_jbd_to_pack_state(&b, &cells, &s);
	ctl_info_from_pack(in, &s);
	rig_jbd_request_read(&req, JBD_REG_VERSION);
	if (jbd_ok(c, &req, &rep) == 0 && rig_jbd_version_decode(&rep, &t) == RIG_OK)
		snprintf(in->model, sizeof in->model, "%s", t.text);
	return 0;
}

/* 0xE1 takes an inhibit mask for both FETs at once, so "as now" is read from 0x03 first. */
static int jbd_fets(struct ctl *c, int chg, int dsg)
{
	struct jbd_frame req, rep;
	struct ctl_info in;
	if ((chg < 0 || dsg < 0) && jbd_info(c, &in) != 0)
		return -1;
	if (chg < 0)
		chg = (int)in.fet_chg;
	if (dsg < 0)
		dsg = (int)in.fet_dsg;
	rig_jbd_request_mosfet(&req, (uint8_t)((chg ? 0u : JBD_MOSFET_CHG_OFF) | (dsg ? 0u : JBD_MOSFET_DSG_OFF)));
	return jbd_ok(c, &req, &rep);
}

/* SOC is written as the remaining capacity (0xE0, 10 mAh) against the full one 0x03 reports. */
static int jbd_soc(struct ctl *c, unsigned pct)
{
	struct jbd_frame req, rep;
	struct ctl_info in;
	if (jbd_info(c, &in) != 0)
		return -1;
	rig_jbd_request_write_u16(&req, JBD_REG_REMAIN_CAP, (uint16_t)(in.full_mAh / 10u * pct / 100u));
	return jbd_ok(c, &req, &rep);
}

/* Calibration (docs/protocols/jbd.md §8.6): write-only registers in factory mode, each taking
 * the true value of what the board measures; the current ones are saved with 0x2828, the rest
 * left with 0x0000, as bms-tools does. */
static const struct jbd_cal_row {
	const char *prefix, *suffix;  /* NAME = prefix [index] suffix */
	uint8_t reg0, count;           /* count > 1: indexed 1..count from reg0 */
	int32_t min, max, step;        /* step: the register's unit in the name's */
	uint8_t save;
} jbd_cal_rows[] = {
	{ "zero_current", "", 0xAD, 1, 0, 0, 1, 0 },
	{ "chg_current", "_mA", 0xAE, 1, 10, 655350, 10, 1 },
	{ "dsg_current", "_mA", 0xAF, 1, 10, 655350, 10, 1 },
	{ "cell", "_mV", 0xB0, 32, 0, 65535, 1, 0 },
	{ "ntc", "_dK", 0xD0, 8, 0, 65535, 1, 0 },
};

/* NAME's row and register; -1 when NAME is none of them. */
static int jbd_cal_find(const char *name, const struct jbd_cal_row **row)
{
	for (size_t i = 0; i < CTL_N_OF(jbd_cal_rows); i++) {
		const struct jbd_cal_row *r = &jbd_cal_rows[i];
		size_t pl = strlen(r->prefix);
		const char *rest = name + pl;
		unsigned k = 1;
		if (strncmp(name, r->prefix, pl) != 0)
			continue;
		if (r->count > 1) {
			char *end;
			unsigned long v = strtoul(rest, &end, 10);
			if (end == rest || *rest < '1' || *rest > '9' || v < 1 || v > r->count)
				continue;
			k = (unsigned)v;
			rest = end;
		}
		if (strcmp(rest, r->suffix) != 0)
			continue;
		*row = r;
		return r->reg0 + (int)k - 1;
	}
	return -1;
}

static int jbd_cal(struct ctl *c, const char *name, int has_value, int32_t value)
{
	const struct jbd_cal_row *r;
	struct jbd_frame req, rep;
	int reg = jbd_cal_find(name, &r);
	if (reg < 0) {
		fprintf(stderr, "bmsctl: cal: expected zero_current, chg_current_mA=, dsg_current_mA=, "
		        "cellN_mV= (1..32) or ntcN_dK= (1..8), got \"%s\"\n", name);
		return -3;
	}
	if (has_value != (r->max > 0)) {
		fprintf(stderr, "bmsctl: cal: %s %s\n", name, r->max > 0 ? "expected =VALUE" : "takes no value");
		return -3;
	}
	if (value < r->min || value > r->max || value % r->step != 0) {
		fprintf(stderr, "bmsctl: cal: %s: expected %ld..%ld%s, got %ld\n", name, (long)r->min, (long)r->max,
		        r->step > 1 ? " in steps of 10" : "", (long)value);
		return -2;
	}
	if (jbd_factory(c, 1, 0) != 0)
		return -1;
	rig_jbd_request_write_u16(&req, (uint8_t)reg, (uint16_t)(value / r->step));
	ctl_verbose(c, "%s: writing calibration register 0x%02X", c->proto->name, (unsigned)reg);
	int rc = jbd_ok(c, &req, &rep);
	return jbd_factory(c, 0, rc == 0 && r->save) != 0 ? -1 : rc;
}

const struct ctl_proto ctl_jbd = {
	"jbd", 9600, CTL_WIRE_REPLY_MS, jbd_has, jbd_read, jbd_write, jbd_info, jbd_fets, jbd_soc, jbd_cal,
};
/* The same frames through the vendor's Bluetooth module, in pieces, after a connect. */
const struct ctl_proto ctl_jbd_ble = {
	"jbd-ble", 9600, CTL_BLE_REPLY_MS, jbd_has, jbd_read, jbd_write, jbd_info, jbd_fets, jbd_soc, jbd_cal,
};
