/* bmsctl: read and change a BMS's settings over its own protocol, through the firmware core's
 * codecs (docs/bmsctl.md). One program, one table of commands, one table of protocols; each
 * protocol row says how to read and write the neutral settings (include/bmsrig/sim/bms.h's
 * names and units), so the commands never see a register. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/daly.h"
#include "bmsrig/core/jbd.h"
#include "bmsrig/core/jk.h"
#include "bmsrig/core/jk_ble.h"
#include "bmsrig/lib/file.h"
#include "bmsrig/lib/stream.h"
#include "bmsrig/sim/bms.h"
#include "bmsrig/sim/jbd_settings.h"
#include "bmsrig/sim/jk_ble_personality.h"
#include "bmsrig/sim/jk_personality.h"

#ifndef BMSRIG_VERSION
#define BMSRIG_VERSION "0.1"
#endif

#define N_OF(a) (sizeof (a) / sizeof (a)[0])
#define WIRE_REPLY_MS 1000u
#define BLE_REPLY_MS 3000u    /* over the 2 s a Bluetooth module takes to connect (bmsmon's auto) */
#define TRIES 3u
#define DUMP_MAX_BYTES (256u * 1024u)

/* Exit codes (docs/bmsctl.md). */
enum {
	EXIT_OK = 0,
	EXIT_DEVICE = 1,       /* no answer, an error status, a read-back that differs */
	EXIT_USAGE = 2,        /* bad options or files, a port that cannot be opened */
	EXIT_REFUSED = 3,      /* a value refused before anything was sent */
	EXIT_DECLINED = 4,     /* the confirmation for a real serial port was not given */
};

struct ctl {
	const struct ctl_proto *proto;
	struct host_stream s;
	int json, quiet, verbose, yes;
	struct jbd_rx jrx;
	struct daly_rx drx;
	struct jk_rx krx;
	struct jk_ble_rx brx;
	int jkb_layout;        /* enum jk_ble_layout, from the first settings record; -1 before */
	struct bms local;      /* the settings as read from the device, through the sim's maps */
};

/* What info reports, protocol-neutral. */
struct ctl_info {
	char model[64];
	uint32_t pack_mV, remain_mAh, full_mAh;
	int32_t current_mA;
	unsigned soc_pct, cycles, fet_chg, fet_dsg;
	uint32_t prot, bal_mask;
	unsigned cell_count, temp_count;
	uint16_t cell_mV[PACK_CELLS_MAX];
	uint16_t temp_dK[PACK_TEMPS_MAX];
};

/* One protocol: how its settings and state are reached. A NULL hook: the protocol has no such
 * command. write checks every value before it sends anything and reads each one back. */
struct ctl_proto {
	const char *name;
	uint32_t baud;
	uint32_t reply_ms;     /* the wait for an answer; a Bluetooth module connects first */
	int (*has)(unsigned id);
	int (*read)(struct ctl *c, const unsigned *ids, size_t n, int32_t *out);
	int (*check)(struct ctl *c, const unsigned *ids, const int32_t *v, size_t n);
	int (*write)(struct ctl *c, const unsigned *ids, const int32_t *v, size_t n, int32_t *back);
	int (*info)(struct ctl *c, struct ctl_info *in);
	int (*fets)(struct ctl *c, int chg, int dsg);
	int (*soc)(struct ctl *c, unsigned pct);
};

static void vlog(const struct ctl *c, const char *fmt, const char *a, unsigned b)
{
	if (c->verbose) {
		fprintf(stderr, "bmsctl: ");
		fprintf(stderr, fmt, a, b);
		fputc('\n', stderr);
	}
}

static uint32_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint32_t)((uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u);
}

static int send_bytes(struct ctl *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		int32_t w = c->s.write(c->s.h, p, (uint16_t)n);
		if (w < 0)
			return -1;
		if (w == 0) {
			struct pollfd pf = { .fd = c->s.fd(c->s.h), .events = POLLOUT };
			(void)poll(&pf, 1, 50);
			continue;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- JBD ------------------------------------------------------------------------------------ */

/* One request, its answer for the same register; a lost or garbled answer is asked again. */
static int jbd_xfer(struct ctl *c, const struct jbd_frame *req, struct jbd_frame *rep)
{
	uint8_t wire[JBD_FRAME_MAX], in[256];
	size_t n;

	if (rig_jbd_frame_encode(req, wire, sizeof wire, &n) != RIG_OK)
		return -1;
	for (unsigned t = 0; t < TRIES; t++) {
		rig_jbd_rx_init(&c->jrx, 200);
		if (send_bytes(c, wire, n) != 0)
			return -1;
		uint32_t start = now_ms();
		while ((uint32_t)(now_ms() - start) < c->proto->reply_ms) {
			struct pollfd pf = { .fd = c->s.fd(c->s.h), .events = POLLIN };
			if (c->s.tick)
				c->s.tick(c->s.h);
			if (poll(&pf, 1, 50) <= 0)
				continue;
			int32_t got = c->s.read(c->s.h, in, sizeof in);
			if (got <= 0)
				continue;
			size_t off = 0;
			while (off < (size_t)got) {
				off += rig_jbd_rx_feed(&c->jrx, in + off, (size_t)got - off, now_ms());
				while (rig_jbd_rx_next(&c->jrx, rep) == RIG_OK)
					if (rep->kind == JBD_KIND_RESPONSE && rep->reg == req->reg)
						return 0;
			}
		}
		vlog(c, "%s: no answer for register 0x%02X, asking again", "jbd", req->reg);
	}
	fprintf(stderr, "bmsctl: jbd: no answer for register 0x%02X\n", req->reg);
	return -1;
}

/* A request whose answer must carry status OK. */
static int jbd_ok(struct ctl *c, const struct jbd_frame *req, struct jbd_frame *rep)
{
	if (jbd_xfer(c, req, rep) != 0)
		return -1;
	if (rep->status != JBD_STATUS_OK) {
		fprintf(stderr, "bmsctl: jbd: register 0x%02X answered status 0x%02X\n", req->reg, rep->status);
		return -1;
	}
	return 0;
}

/* Settings live behind factory mode (docs/protocols/jbd.md): enter, work, leave saving only
 * what was written. */
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

/* Reads the registers holding ids into c->local (factory mode already entered). */
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
			fprintf(stderr, "bmsctl: jbd: register 0x%02X holds 0x%04X, outside its range\n",
			        (unsigned)reg, raw);
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

/* The register value that carries v for id on top of what reg holds now in b, and whether the
 * register holds v exactly (a 10 mV register cannot hold 3655 mV). */
static int jbd_encode(struct bms *b, unsigned id, int32_t v, uint16_t *raw)
{
	int reg = jbd_reg_of_setting(id);
	struct bms probe;
	if (reg < 0 || bms_setting_set(b, id, v) != RIG_OK ||
	    jbd_reg_get(b, (uint8_t)reg, raw) != RIG_OK)
		return -1;
	probe = *b;
	if (jbd_reg_set(&probe, (uint8_t)reg, *raw) != RIG_OK || bms_setting_get(&probe, id) != v)
		return -1;
	return 0;
}

/* Values checked on a copy of the device's registers: range and what the register can hold. */
static int jbd_check(struct ctl *c, const unsigned *ids, const int32_t *v, size_t n)
{
	struct bms b = c->local;
	for (size_t i = 0; i < n; i++) {
		uint16_t raw;
		if (jbd_encode(&b, ids[i], v[i], &raw) != 0) {
			struct bms near = b;
			int reg = jbd_reg_of_setting(ids[i]);
			(void)jbd_reg_set(&near, (uint8_t)reg, raw);
			fprintf(stderr, "bmsctl: %s=%ld: jbd register 0x%02X cannot hold it (nearest %ld)\n",
			        bms_setting_info(ids[i])->name, (long)v[i], (unsigned)reg,
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
		vlog(c, "%s: writing register 0x%02X", "jbd", (unsigned)reg);
		if (rc == 0 && jbd_ok(c, &req, &rep) != 0)
			rc = -1;
	}
	/* Read back what the board now holds, from scratch. */
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

	memset(in, 0, sizeof *in);
	rig_jbd_request_read(&req, JBD_REG_BASIC);
	if (jbd_ok(c, &req, &rep) != 0 || rig_jbd_basic_decode(&rep, &b) != RIG_OK)
		return -1;
	rig_jbd_request_read(&req, JBD_REG_CELLS);
	if (jbd_ok(c, &req, &rep) != 0 || rig_jbd_cells_decode(&rep, &cells) != RIG_OK)
		return -1;
	rig_jbd_request_read(&req, JBD_REG_VERSION);
	if (jbd_ok(c, &req, &rep) == 0 && rig_jbd_version_decode(&rep, &t) == RIG_OK)
		snprintf(in->model, sizeof in->model, "%s", t.text);
	in->pack_mV = b.pack_mV;
	in->current_mA = b.current_mA;
	in->remain_mAh = b.remain_mAh;
	in->full_mAh = b.full_mAh;
	in->soc_pct = b.soc_pct;
	in->cycles = b.cycles;
	in->fet_chg = (b.fet & JBD_FET_CHG_ON) != 0;
	in->fet_dsg = (b.fet & JBD_FET_DSG_ON) != 0;
	in->prot = b.prot_raw;         /* JBD's bits are enum pack_prot's (jbd.h) */
	in->bal_mask = (uint32_t)b.bal_high << 16 | b.bal_low;
	in->cell_count = cells.count;
	memcpy(in->cell_mV, cells.cell_mV, sizeof in->cell_mV);
	in->temp_count = b.ntc_count;
	memcpy(in->temp_dK, b.temp_dK, sizeof in->temp_dK);
	return 0;
}

/* chg, dsg: 1 on, 0 off, -1 as now (read from 0x03's FET byte). */
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

/* SOC is set as the remaining capacity (0xE0, 10 mAh) against the full capacity 0x03 reports. */
static int jbd_soc(struct ctl *c, unsigned pct)
{
	struct jbd_frame req, rep;
	struct ctl_info in;
	if (jbd_info(c, &in) != 0)
		return -1;
	rig_jbd_request_write_u16(&req, JBD_REG_REMAIN_CAP, (uint16_t)(in.full_mAh / 10u * pct / 100u));
	return jbd_ok(c, &req, &rep);
}

/* ---- Daly ----------------------------------------------------------------------------------- */

#define DALY_HOST 0x40u     /* the UART/RS485 host address of board 1 (docs/protocols/daly.md) */

/* Sends one request and collects `want` replies of its id (0x95/0x96 answer in several frames,
 * placed by frame number by the caller). */
static int daly_xfer(struct ctl *c, const struct daly_frame *req, struct daly_frame *rep, unsigned want)
{
	uint8_t wire[DALY_FRAME_LEN], in[256];
	size_t n;

	if (rig_daly_frame_encode(req, wire, sizeof wire, &n) != RIG_OK)
		return -1;
	for (unsigned t = 0; t < TRIES; t++) {
		unsigned got_frames = 0;
		rig_daly_rx_init(&c->drx, 200);
		if (send_bytes(c, wire, n) != 0)
			return -1;
		uint32_t start = now_ms();
		while ((uint32_t)(now_ms() - start) < c->proto->reply_ms) {
			struct pollfd pf = { .fd = c->s.fd(c->s.h), .events = POLLIN };
			if (c->s.tick)
				c->s.tick(c->s.h);
			if (poll(&pf, 1, 50) <= 0)
				continue;
			int32_t got = c->s.read(c->s.h, in, sizeof in);
			size_t off = 0;
			while (got > 0 && off < (size_t)got) {
				off += rig_daly_rx_feed(&c->drx, in + off, (size_t)got - off, now_ms());
				while (got_frames < want && rig_daly_rx_next(&c->drx, &rep[got_frames]) == RIG_OK)
					if (!rig_daly_frame_is_request(&rep[got_frames]) && rep[got_frames].cmd == req->cmd)
						got_frames++;
				if (got_frames == want)
					return 0;
			}
		}
		vlog(c, "%s: no full answer for 0x%02X, asking again", "daly", req->cmd);
	}
	fprintf(stderr, "bmsctl: daly: no answer for 0x%02X\n", req->cmd);
	return -1;
}

static int daly_read1(struct ctl *c, uint8_t cmd, struct daly_frame *rep)
{
	struct daly_frame req;
	rig_daly_request_read(&req, DALY_HOST, cmd, 0x00);
	return daly_xfer(c, &req, rep, 1);
}

/* Which read carries which setting. Daly's level-1 limit is an alarm before the level-2
 * protection; the neutral settings have no alarm, so level 1 reads as the release value, as
 * the emulator maps it (docs/bmsctl.md). */
static const struct { uint8_t cmd, id; } daly_rows[] = {
	{ DALY_CMD_RATED, BMS_SET_DESIGN_CAPACITY },
	{ DALY_CMD_INFO, BMS_SET_MFG_YEAR }, { DALY_CMD_INFO, BMS_SET_MFG_MONTH }, { DALY_CMD_INFO, BMS_SET_MFG_DAY },
	{ DALY_CMD_CELL_LIMITS, BMS_SET_CELL_OVP_RELEASE }, { DALY_CMD_CELL_LIMITS, BMS_SET_CELL_OVP },
	{ DALY_CMD_CELL_LIMITS, BMS_SET_CELL_UVP_RELEASE }, { DALY_CMD_CELL_LIMITS, BMS_SET_CELL_UVP },
	{ DALY_CMD_PACK_LIMITS, BMS_SET_PACK_OVP_RELEASE }, { DALY_CMD_PACK_LIMITS, BMS_SET_PACK_OVP },
	{ DALY_CMD_PACK_LIMITS, BMS_SET_PACK_UVP_RELEASE }, { DALY_CMD_PACK_LIMITS, BMS_SET_PACK_UVP },
	{ DALY_CMD_CURRENT_LIMITS, BMS_SET_DSG_OC }, { DALY_CMD_CURRENT_LIMITS, BMS_SET_CHG_OC },
	{ DALY_CMD_BALANCE_CFG, BMS_SET_BALANCE_START }, { DALY_CMD_BALANCE_CFG, BMS_SET_BALANCE_DELTA },
};

static int daly_has(unsigned id)
{
	for (size_t i = 0; i < N_OF(daly_rows); i++)
		if (daly_rows[i].id == id)
			return 1;
	return 0;
}

/* One 0x5x reply into the settings it carries (v indexed by enum bms_setting_id). */
static rig_rc daly_decode(const struct daly_frame *f, int32_t *v)
{
	rig_rc rc = RIG_ERR_UNSUPPORTED;
	switch (f->cmd) {
	case DALY_CMD_RATED: {
		struct daly_rated r;
		if ((rc = rig_daly_rated_decode(f, &r)) == RIG_OK)
			v[BMS_SET_DESIGN_CAPACITY] = (int32_t)r.rated_mAh;
		break;
	}
	case DALY_CMD_INFO: {
		struct daly_info i;
		if ((rc = rig_daly_info_decode(f, &i)) == RIG_OK) {
			v[BMS_SET_MFG_YEAR] = i.year;
			v[BMS_SET_MFG_MONTH] = i.month;
			v[BMS_SET_MFG_DAY] = i.day;
		}
		break;
	}
	case DALY_CMD_CELL_LIMITS: {
		struct daly_cell_limits l;
		if ((rc = rig_daly_cell_limits_decode(f, &l)) == RIG_OK) {
			v[BMS_SET_CELL_OVP_RELEASE] = l.high_l1_mV;
			v[BMS_SET_CELL_OVP] = l.high_l2_mV;
			v[BMS_SET_CELL_UVP_RELEASE] = l.low_l1_mV;
			v[BMS_SET_CELL_UVP] = l.low_l2_mV;
		}
		break;
	}
	case DALY_CMD_PACK_LIMITS: {
		struct daly_pack_limits l;
		if ((rc = rig_daly_pack_limits_decode(f, &l)) == RIG_OK) {
			v[BMS_SET_PACK_OVP_RELEASE] = (int32_t)l.high_l1_mV;
			v[BMS_SET_PACK_OVP] = (int32_t)l.high_l2_mV;
			v[BMS_SET_PACK_UVP_RELEASE] = (int32_t)l.low_l1_mV;
			v[BMS_SET_PACK_UVP] = (int32_t)l.low_l2_mV;
		}
		break;
	}
	case DALY_CMD_CURRENT_LIMITS: {
		struct daly_current_limits l;
		if ((rc = rig_daly_current_limits_decode(f, &l)) == RIG_OK) {
			v[BMS_SET_DSG_OC] = l.dsg_l2_mA;
			v[BMS_SET_CHG_OC] = -l.chg_l2_mA;   /* charge limits are negative on the wire */
		}
		break;
	}
	case DALY_CMD_BALANCE_CFG: {
		struct daly_balance_cfg b;
		if ((rc = rig_daly_balance_cfg_decode(f, &b)) == RIG_OK) {
			v[BMS_SET_BALANCE_START] = b.start_mV;
			v[BMS_SET_BALANCE_DELTA] = b.delta_mV;
		}
		break;
	}
	default:
		break;
	}
	return rc;
}

static int daly_read(struct ctl *c, const unsigned *ids, size_t n, int32_t *out)
{
	int32_t v[BMS_SET_COUNT] = { 0 };
	uint8_t done[256] = { 0 };
	for (size_t i = 0; i < n; i++)
		for (size_t r = 0; r < N_OF(daly_rows); r++) {
			struct daly_frame rep;
			uint8_t cmd = daly_rows[r].cmd;
			if (daly_rows[r].id != ids[i] || done[cmd])
				continue;
			if (daly_read1(c, cmd, &rep) != 0 || daly_decode(&rep, v) != RIG_OK)
				return -1;
			done[cmd] = 1;
		}
	for (size_t i = 0; i < n; i++)
		out[i] = v[ids[i]];
	return 0;
}

static int daly_info(struct ctl *c, struct ctl_info *in)
{
	struct daly_poll p;
	struct daly_frame f[DALY_CELL_FRAMES_MAX > DALY_TEMP_FRAMES_MAX ? DALY_CELL_FRAMES_MAX : DALY_TEMP_FRAMES_MAX];
	struct daly_frame req;
	struct pack_state s;
	struct daly_text8 t;

	memset(in, 0, sizeof *in);
	memset(&p, 0, sizeof p);
	if (daly_read1(c, DALY_CMD_STATUS, f) != 0 || rig_daly_status_decode(f, &p.status) != RIG_OK ||
	    daly_read1(c, DALY_CMD_PACK, f) != 0 || rig_daly_pack_decode(f, &p.pack) != RIG_OK ||
	    daly_read1(c, DALY_CMD_MOS, f) != 0 || rig_daly_mos_decode(f, &p.mos) != RIG_OK ||
	    daly_read1(c, DALY_CMD_BALANCE, f) != 0 || rig_daly_balance_decode(f, &p.bal) != RIG_OK ||
	    daly_read1(c, DALY_CMD_FAULTS, f) != 0 || rig_daly_faults_decode(f, &p.faults) != RIG_OK)
		return -1;
	/* Cells and temperatures come in numbered frames; each is placed by its number. */
	unsigned nf = rig_daly_cell_frames_for(p.status.cell_count);
	rig_daly_request_read(&req, DALY_HOST, DALY_CMD_CELLS, 0x00);
	if (nf > N_OF(f) || (nf > 0 && daly_xfer(c, &req, f, nf) != 0))
		return -1;
	for (unsigned i = 0; i < nf; i++) {
		struct daly_cell_frame cf;
		if (rig_daly_cell_frame_decode(&f[i], &cf) != RIG_OK || cf.frame_no < 1 || cf.frame_no > nf)
			return -1;
		for (unsigned k = 0; k < DALY_CELLS_PER_FRAME; k++) {
			unsigned at = (cf.frame_no - 1u) * DALY_CELLS_PER_FRAME + k;
			if (at < PACK_CELLS_MAX)
				p.cell_mV[at] = cf.cell_mV[k];
		}
	}
	nf = rig_daly_temp_frames_for(p.status.ntc_count);
	rig_daly_request_read(&req, DALY_HOST, DALY_CMD_TEMPS, 0x00);
	if (nf > N_OF(f) || (nf > 0 && daly_xfer(c, &req, f, nf) != 0))
		return -1;
	for (unsigned i = 0; i < nf; i++) {
		struct daly_temp_frame tf;
		if (rig_daly_temp_frame_decode(&f[i], &tf) != RIG_OK || tf.frame_no < 1 || tf.frame_no > nf)
			return -1;
		for (unsigned k = 0; k < DALY_TEMPS_PER_FRAME; k++) {
			unsigned at = (tf.frame_no - 1u) * DALY_TEMPS_PER_FRAME + k;
			if (at < PACK_TEMPS_MAX)
				p.temp_dK[at] = tf.temp_dK[k];
		}
	}
	(void)rig_daly_current_sign_fix(&p.pack.current_mA, p.mos.state);
	rig_daly_to_pack_state(&p, &s);
	struct daly_rated r;
	if (daly_read1(c, DALY_CMD_RATED, f) == 0 && rig_daly_rated_decode(f, &r) == RIG_OK)
		s.full_mAh = r.rated_mAh;       /* 0x90-0x98 carry no full capacity */
	if (daly_read1(c, DALY_CMD_FIRMWARE, f) == 0 && rig_daly_text8_decode(f, &t) == RIG_OK)
		snprintf(in->model, sizeof in->model, "firmware %.8s", (const char *)t.text);
	in->pack_mV = s.pack_mV;
	in->current_mA = s.current_mA;
	in->remain_mAh = s.remain_mAh;
	in->full_mAh = s.full_mAh;
	in->soc_pct = s.soc_pct;
	in->cycles = s.cycles;
	in->fet_chg = s.fet_chg;
	in->fet_dsg = s.fet_dsg;
	in->prot = s.prot;
	in->bal_mask = s.bal_mask;
	in->cell_count = s.cell_count;
	memcpy(in->cell_mV, s.cell_mV, sizeof in->cell_mV);
	in->temp_count = s.temp_count;
	memcpy(in->temp_dK, s.temp_dK, sizeof in->temp_dK);
	return 0;
}

/* 0xDA charge, 0xD9 discharge: d0 1 on, 0 off; the reply echoes d0. */
static int daly_fets(struct ctl *c, int chg, int dsg)
{
	const struct { int on; uint8_t cmd; } sw[] = { { chg, DALY_CMD_CHG_FET }, { dsg, DALY_CMD_DSG_FET } };
	for (size_t i = 0; i < N_OF(sw); i++) {
		struct daly_frame req, rep;
		struct daly_flag v;
		if (sw[i].on < 0)
			continue;
		rig_daly_request_fet(&req, DALY_HOST, sw[i].cmd, (uint8_t)sw[i].on);
		if (daly_xfer(c, &req, &rep, 1) != 0 || rig_daly_flag_decode(&rep, &v) != RIG_OK ||
		    v.value != (uint8_t)sw[i].on) {
			fprintf(stderr, "bmsctl: daly: 0x%02X was not echoed\n", sw[i].cmd);
			return -1;
		}
	}
	return 0;
}

/* 0x21 carries the clock with the SOC; the host's clock goes with it, as the PC tool does. */
static int daly_soc(struct ctl *c, unsigned pct)
{
	struct daly_frame req, rep;
	struct daly_soc_set s;
	struct daly_flag v;
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	s.year = (uint16_t)(tm.tm_year + 1900);
	s.month = (uint8_t)(tm.tm_mon + 1);
	s.day = (uint8_t)tm.tm_mday;
	s.hour = (uint8_t)tm.tm_hour;
	s.minute = (uint8_t)tm.tm_min;
	s.second = (uint8_t)tm.tm_sec;
	s.soc_permille = (uint16_t)(pct * 10u);
	if (rig_daly_soc_set_encode(&req, DALY_HOST, &s) != RIG_OK || daly_xfer(c, &req, &rep, 1) != 0 ||
	    rig_daly_flag_decode(&rep, &v) != RIG_OK || v.value != 1u) {
		fprintf(stderr, "bmsctl: daly: the SOC write was not accepted\n");
		return -1;
	}
	return 0;
}

/* ---- JK (4E 57 over UART/RS485) ------------------------------------------------------------- */

#define JK_SOURCE_PC 3u      /* as the vendor example and most clients (jk_client.h) */

static int jk_xfer(struct ctl *c, const struct jk_frame *req, struct jk_frame *rep)
{
	static uint8_t wire[JK_FRAME_MAX];
	uint8_t in[512];
	size_t n;

	if (rig_jk_frame_encode(req, wire, sizeof wire, &n) != RIG_OK)
		return -1;
	for (unsigned t = 0; t < TRIES; t++) {
		rig_jk_rx_init(&c->krx, 200);
		if (send_bytes(c, wire, n) != 0)
			return -1;
		uint32_t start = now_ms();
		while ((uint32_t)(now_ms() - start) < c->proto->reply_ms) {
			struct pollfd pf = { .fd = c->s.fd(c->s.h), .events = POLLIN };
			if (c->s.tick)
				c->s.tick(c->s.h);
			if (poll(&pf, 1, 50) <= 0)
				continue;
			int32_t got = c->s.read(c->s.h, in, sizeof in);
			size_t off = 0;
			while (got > 0 && off < (size_t)got) {
				off += rig_jk_rx_feed(&c->krx, in + off, (size_t)got - off, now_ms());
				while (rig_jk_rx_next(&c->krx, rep) == RIG_OK)
					if (rep->type == JK_TYPE_REPLY && rep->cmd == req->cmd)
						return 0;
			}
		}
		vlog(c, "%s: no answer for command 0x%02X, asking again", "jk", req->cmd);
	}
	fprintf(stderr, "bmsctl: jk: no answer for command 0x%02X\n", req->cmd);
	return -1;
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
		vlog(c, "%s: writing id 0x%02X", "jk", k);
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
	in->pack_mV = s.pack_mV;
	in->current_mA = s.current_mA;
	in->remain_mAh = s.remain_mAh;
	in->full_mAh = s.full_mAh;
	in->soc_pct = s.soc_pct;
	in->cycles = s.cycles;
	in->fet_chg = s.fet_chg;
	in->fet_dsg = s.fet_dsg;
	in->prot = s.prot;
	in->bal_mask = s.bal_mask;
	in->cell_count = s.cell_count;
	memcpy(in->cell_mV, s.cell_mV, sizeof in->cell_mV);
	in->temp_count = s.temp_count;
	memcpy(in->temp_dK, s.temp_dK, sizeof in->temp_dK);
	return 0;
}

/* 0xAB charge, 0xAC discharge switches (docs/protocols/jk.md §4.1). */
static int jk_fets(struct ctl *c, int chg, int dsg)
{
	const struct { int on; uint8_t id; } sw[] = { { chg, JK_ID_CHG_SWITCH }, { dsg, JK_ID_DSG_SWITCH } };
	for (size_t i = 0; i < N_OF(sw); i++) {
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

/* Sends cmd and waits until everything in want has come: the BMS's ack, a settings record, a
 * cell-info record (the stream 0x96 starts). */
static int jkb_xfer(struct ctl *c, const struct jk_ble_cmd *cmd, unsigned want, uint8_t *set_rec,
                    uint8_t *cell_rec)
{
	uint8_t wire[JK_BLE_CMD_LEN], in[512];

	rig_jk_ble_cmd_encode(cmd, wire);
	for (unsigned t = 0; t < TRIES; t++) {
		unsigned have = 0, cells_seen = 0;
		rig_jk_ble_rx_init(&c->brx, 200);
		if (send_bytes(c, wire, sizeof wire) != 0)
			return -1;
		uint32_t start = now_ms();
		while ((uint32_t)(now_ms() - start) < c->proto->reply_ms) {
			struct pollfd pf = { .fd = c->s.fd(c->s.h), .events = POLLIN };
			const uint8_t *f;
			size_t n;
			if (c->s.tick)
				c->s.tick(c->s.h);
			if (poll(&pf, 1, 50) <= 0)
				continue;
			int32_t got = c->s.read(c->s.h, in, sizeof in);
			size_t off = 0;
			while (got > 0 && off < (size_t)got) {
				off += rig_jk_ble_rx_feed(&c->brx, in + off, (size_t)got - off, now_ms());
				while (rig_jk_ble_rx_next(&c->brx, &f, &n) == RIG_OK) {
					struct jk_ble_cmd ack;
					if (n == JK_BLE_CMD_LEN && rig_jk_ble_cmd_parse(f, n, &ack) == RIG_OK &&
					    rig_jk_ble_cmd_is_ack(&ack))
						have |= JKB_ACK;
					if (n == JK_BLE_RECORD_LEN && f[JKB_TYPE_AT] == JK_BLE_REC_SETTINGS && set_rec) {
						memcpy(set_rec, f, JK_BLE_RECORD_LEN);
						have |= JKB_SETTINGS;
					}
					/* The second cell record: the first may have left before a
					 * write just made took effect. */
					if (n == JK_BLE_RECORD_LEN && f[JKB_TYPE_AT] == JK_BLE_REC_CELLS && cell_rec) {
						memcpy(cell_rec, f, JK_BLE_RECORD_LEN);
						if (++cells_seen >= 2)
							have |= JKB_CELLS;
					}
				}
				if ((have & want) == want)
					return 0;
			}
		}
		vlog(c, "%s: no full answer for 0x%02X, asking again", "jk-ble", cmd->reg);
	}
	fprintf(stderr, "bmsctl: jk-ble: no answer for 0x%02X\n", cmd->reg);
	return -1;
}

/* The settings record (and the cell record when cell_rec); the layout from the settings. */
static int jkb_records(struct ctl *c, struct jk_ble_settings *set, uint8_t *cell_rec)
{
	static uint8_t rec[JK_BLE_RECORD_LEN];
	struct jk_ble_cmd cmd;
	rig_jk_ble_cmd_read(&cmd, JK_BLE_REG_CELL_INFO);
	if (jkb_xfer(c, &cmd, JKB_SETTINGS | (cell_rec ? JKB_CELLS : 0u), rec, cell_rec) != 0)
		return -1;
	c->jkb_layout = (int)rig_jk_ble_layout_detect(rec);
	if (rig_jk_ble_settings_decode(rec, (enum jk_ble_layout)c->jkb_layout, set) != RIG_OK) {
		fprintf(stderr, "bmsctl: jk-ble: the settings record did not decode\n");
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
	enum jk_ble_layout layout = (enum jk_ble_layout)c->jkb_layout;
	uint8_t reg = rig_jk_ble_setting_reg(layout, k);
	if (reg == 0 || rig_jk_ble_cmd_write(&cmd, reg, 4, rig_jk_ble_setting_to_wire(layout, k, value)) != RIG_OK) {
		fprintf(stderr, "bmsctl: jk-ble: settings word %u has no write register on %s\n", k,
		        rig_jk_ble_layout_name((unsigned)layout));
		return -1;
	}
	vlog(c, "%s: writing register 0x%02X", "jk-ble", reg);
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
	in->pack_mV = s.pack_mV;
	in->current_mA = s.current_mA;
	in->remain_mAh = s.remain_mAh;
	in->full_mAh = s.full_mAh;
	in->soc_pct = s.soc_pct;
	in->cycles = s.cycles;
	in->fet_chg = s.fet_chg;
	in->fet_dsg = s.fet_dsg;
	in->prot = s.prot;
	in->bal_mask = s.bal_mask;
	in->cell_count = s.cell_count;
	memcpy(in->cell_mV, s.cell_mV, sizeof in->cell_mV);
	in->temp_count = s.temp_count;
	memcpy(in->temp_dK, s.temp_dK, sizeof in->temp_dK);
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

/* ---- the protocols -------------------------------------------------------------------------- */

static const struct ctl_proto protos[] = {
	{ "jbd", 9600, WIRE_REPLY_MS, jbd_has, jbd_read, jbd_check, jbd_write, jbd_info, jbd_fets, jbd_soc },
	/* Daly's setting writes have no capture (docs/protocols/daly.md), so none is sent. */
	{ "daly", 9600, WIRE_REPLY_MS, daly_has, daly_read, NULL, NULL, daly_info, daly_fets, daly_soc },
	/* JK 4E 57 has no SOC write. */
	{ "jk", 115200, WIRE_REPLY_MS, jk_has, jk_read, jk_check, jk_write, jk_info, jk_fets, NULL },
	/* JBD's and Daly's Bluetooth modules carry the same frames, in pieces. */
	{ "jbd-ble", 9600, BLE_REPLY_MS, jbd_has, jbd_read, jbd_check, jbd_write, jbd_info, jbd_fets, jbd_soc },
	{ "daly-ble", 9600, BLE_REPLY_MS, daly_has, daly_read, NULL, NULL, daly_info, daly_fets, daly_soc },
	/* JK BLE writes settings words one at a time; no SOC write. */
	{ "jk-ble", 115200, BLE_REPLY_MS, jkb_has, jkb_read, jkb_check, jkb_write, jkb_info, jkb_fets, NULL },
	/* jk-pb (Modbus RTU around the JK BLE records): not yet (docs/bmsctl.md). */
};

/* ---- output ----------------------------------------------------------------------------------- */

static const char *const prot_names[] = {
	"cell_ov", "cell_uv", "pack_ov", "pack_uv", "chg_ot", "chg_ut", "dsg_ot", "dsg_ut",
	"chg_oc", "dsg_oc", "short", "afe", "sw_lock",
};

static void print_json(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

static cJSON *u16_array(const uint16_t *v, unsigned n)
{
	cJSON *a = cJSON_CreateArray();
	for (unsigned i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
	return a;
}

static void print_info(const struct ctl *c, const struct ctl_info *in)
{
	if (c->json) {
		cJSON *o = cJSON_CreateObject(), *p = cJSON_CreateArray();
		cJSON_AddStringToObject(o, "proto", c->proto->name);
		cJSON_AddStringToObject(o, "model", in->model);
		cJSON_AddNumberToObject(o, "pack_mV", in->pack_mV);
		cJSON_AddNumberToObject(o, "current_mA", in->current_mA);
		cJSON_AddNumberToObject(o, "soc_pct", in->soc_pct);
		cJSON_AddNumberToObject(o, "remain_mAh", in->remain_mAh);
		cJSON_AddNumberToObject(o, "full_mAh", in->full_mAh);
		cJSON_AddNumberToObject(o, "cycles", in->cycles);
		cJSON_AddItemToObject(o, "cells_mV", u16_array(in->cell_mV, in->cell_count));
		cJSON_AddItemToObject(o, "temps_dK", u16_array(in->temp_dK, in->temp_count));
		cJSON_AddNumberToObject(o, "fet_chg", in->fet_chg);
		cJSON_AddNumberToObject(o, "fet_dsg", in->fet_dsg);
		cJSON_AddNumberToObject(o, "bal_mask", in->bal_mask);
		cJSON_AddNumberToObject(o, "prot", in->prot);
		for (unsigned i = 0; i < N_OF(prot_names); i++)
			if (in->prot & (1u << i))
				cJSON_AddItemToArray(p, cJSON_CreateString(prot_names[i]));
		cJSON_AddItemToObject(o, "protections", p);
		print_json(o);
		return;
	}
	printf("proto        %s\nmodel        %s\n", c->proto->name, in->model);
	printf("pack         %lu mV, %ld mA, SOC %u %%, %lu/%lu mAh, %u cycles\n",
	       (unsigned long)in->pack_mV, (long)in->current_mA, in->soc_pct,
	       (unsigned long)in->remain_mAh, (unsigned long)in->full_mAh, in->cycles);
	printf("cells (mV)  ");
	for (unsigned i = 0; i < in->cell_count; i++)
		printf(" %u", in->cell_mV[i]);
	printf("\ntemps (dK)  ");
	for (unsigned i = 0; i < in->temp_count; i++)
		printf(" %u", in->temp_dK[i]);
	printf("\nfets         chg=%s dsg=%s\nbalancing    0x%lx\nprotections ",
	       in->fet_chg ? "on" : "off", in->fet_dsg ? "on" : "off", (unsigned long)in->bal_mask);
	if (!in->prot)
		printf(" none");
	for (unsigned i = 0; i < N_OF(prot_names); i++)
		if (in->prot & (1u << i))
			printf(" %s", prot_names[i]);
	putchar('\n');
}

/* name = value lines, or one JSON object {"proto":..,"settings":{name:value}} (dump's format). */
static void print_settings(const struct ctl *c, const unsigned *ids, const int32_t *v, size_t n,
                           const char *key)
{
	if (c->json || !strcmp(key, "settings")) {
		cJSON *o = cJSON_CreateObject(), *s = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "proto", c->proto->name);
		for (size_t i = 0; i < n; i++)
			cJSON_AddNumberToObject(s, bms_setting_info(ids[i])->name, v[i]);
		cJSON_AddItemToObject(o, key, s);
		print_json(o);
		return;
	}
	for (size_t i = 0; i < n; i++)
		printf("%s = %ld\n", bms_setting_info(ids[i])->name, (long)v[i]);
}

/* ---- commands --------------------------------------------------------------------------------- */

/* A name this protocol maps, as an id; -1 with the message. */
static int setting_id(const struct ctl *c, const char *name)
{
	int id = bms_setting_find(name);
	if (id < 0) {
		fprintf(stderr, "bmsctl: %s: expected a setting name (bmsctl --proto %s list)\n", name, c->proto->name);
		return -1;
	}
	if (!c->proto->has((unsigned)id)) {
		fprintf(stderr, "bmsctl: %s: %s has no such setting (bmsctl --proto %s list)\n", name,
		        c->proto->name, c->proto->name);
		return -1;
	}
	return id;
}

/* The whole settings set this protocol maps. */
static size_t all_ids(const struct ctl *c, unsigned *ids)
{
	size_t n = 0;
	for (unsigned id = 0; id < BMS_SET_COUNT; id++)
		if (c->proto->has(id))
			ids[n++] = id;
	return n;
}

static int cmd_list(struct ctl *c, int argc, char **argv)
{
	unsigned ids[BMS_SET_COUNT];
	size_t n = all_ids(c, ids);
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < n; i++) {
		const struct bms_setting_info *in = bms_setting_info(ids[i]);
		printf("%s %ld..%ld\n", in->name, (long)in->min, (long)in->max);
	}
	return EXIT_OK;
}

static int cmd_info(struct ctl *c, int argc, char **argv)
{
	struct ctl_info in;
	(void)argv;
	if (argc != 0) {
		fprintf(stderr, "bmsctl: info: expected no arguments\n");
		return EXIT_USAGE;
	}
	if (c->proto->info(c, &in) != 0)
		return EXIT_DEVICE;
	print_info(c, &in);
	return EXIT_OK;
}

static int cmd_get(struct ctl *c, int argc, char **argv)
{
	unsigned ids[BMS_SET_COUNT];
	int32_t v[BMS_SET_COUNT];
	if (argc < 1 || argc > (int)BMS_SET_COUNT) {
		fprintf(stderr, "bmsctl: get: expected one or more setting names\n");
		return EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		int id = setting_id(c, argv[i]);
		if (id < 0)
			return EXIT_USAGE;
		ids[i] = (unsigned)id;
	}
	if (c->proto->read(c, ids, (size_t)argc, v) != 0)
		return EXIT_DEVICE;
	print_settings(c, ids, v, (size_t)argc, "get");
	return EXIT_OK;
}

static int cmd_dump(struct ctl *c, int argc, char **argv)
{
	unsigned ids[BMS_SET_COUNT];
	int32_t v[BMS_SET_COUNT];
	size_t n = all_ids(c, ids);
	(void)argv;
	if (argc != 0) {
		fprintf(stderr, "bmsctl: dump: expected no arguments (bmsctl dump > FILE.json)\n");
		return EXIT_USAGE;
	}
	if (c->proto->read(c, ids, n, v) != 0)
		return EXIT_DEVICE;
	print_settings(c, ids, v, n, "settings");
	return EXIT_OK;
}

/* A real serial port (not a pty, not tcp:) asks before it is written, unless --yes. */
static int confirm(const struct ctl *c, const char *what)
{
	char path[4096], answer[16];
	struct stat st;
	if (c->yes || host_stream_is(c->s.path, "tcp") || realpath(c->s.path, path) == NULL ||
	    !strncmp(path, "/dev/pts/", 9) || stat(path, &st) != 0 || !S_ISCHR(st.st_mode))
		return 0;
	fprintf(stderr, "bmsctl: %s on %s (a serial port); go on? [y/N] ", what, c->s.path);
	if (fgets(answer, sizeof answer, stdin) == NULL || (answer[0] != 'y' && answer[0] != 'Y')) {
		fprintf(stderr, "bmsctl: not written\n");
		return -1;
	}
	return 0;
}

/* Checks ranges, writes, reports each read-back. */
static int apply(struct ctl *c, const unsigned *ids, const int32_t *v, size_t n)
{
	int32_t back[BMS_SET_COUNT];
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		char why[96];
		if (bms_setting_check(ids[i], v[i], why, sizeof why) != RIG_OK) {
			fprintf(stderr, "bmsctl: %s: %s\n", bms_setting_info(ids[i])->name, why);
			return EXIT_REFUSED;
		}
	}
	if (c->proto->write == NULL) {
		fprintf(stderr, "bmsctl: %s: setting writes are not supported (docs/bmsctl.md)\n", c->proto->name);
		return EXIT_REFUSED;
	}
	if (confirm(c, "writing settings") != 0)
		return EXIT_DECLINED;
	int rc = c->proto->write(c, ids, v, n, back);
	if (rc == -2)
		return EXIT_REFUSED;
	if (rc != 0)
		return EXIT_DEVICE;
	for (size_t i = 0; i < n; i++)
		if (back[i] != v[i]) {
			fprintf(stderr, "bmsctl: %s: wrote %ld, read back %ld\n", bms_setting_info(ids[i])->name,
			        (long)v[i], (long)back[i]);
			bad = 1;
		}
	if (!c->quiet)
		print_settings(c, ids, back, n, "readback");
	return bad ? EXIT_DEVICE : EXIT_OK;
}

/* A decimal integer, whole. */
static int parse_i32(const char *s, int32_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno || v < INT32_MIN || v > INT32_MAX)
		return -1;
	*out = (int32_t)v;
	return 0;
}

static int cmd_set(struct ctl *c, int argc, char **argv)
{
	unsigned ids[BMS_SET_COUNT];
	int32_t v[BMS_SET_COUNT];
	if (argc < 1 || argc > (int)BMS_SET_COUNT) {
		fprintf(stderr, "bmsctl: set: expected NAME=VALUE...\n");
		return EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		char name[64];
		const char *eq = strchr(argv[i], '=');
		if (eq == NULL || (size_t)(eq - argv[i]) >= sizeof name) {
			fprintf(stderr, "bmsctl: set: expected NAME=VALUE, got \"%s\"\n", argv[i]);
			return EXIT_USAGE;
		}
		memcpy(name, argv[i], (size_t)(eq - argv[i]));
		name[eq - argv[i]] = '\0';
		int id = setting_id(c, name);
		if (id < 0)
			return EXIT_USAGE;
		if (parse_i32(eq + 1, &v[i]) != 0) {
			fprintf(stderr, "bmsctl: %s: expected an integer in %s's unit, got \"%s\"\n", name, name, eq + 1);
			return EXIT_USAGE;
		}
		ids[i] = (unsigned)id;
	}
	return apply(c, ids, v, (size_t)argc);
}

static int cmd_restore(struct ctl *c, int argc, char **argv)
{
	unsigned ids[BMS_SET_COUNT];
	int32_t v[BMS_SET_COUNT];
	char *text, err[256];
	size_t len, n = 0;
	if (argc != 1) {
		fprintf(stderr, "bmsctl: restore: expected one FILE.json (from bmsctl dump)\n");
		return EXIT_USAGE;
	}
	if ((text = host_file_read_all(argv[0], DUMP_MAX_BYTES, &len, err, sizeof err)) == NULL) {
		fprintf(stderr, "bmsctl: %s\n", err);
		return EXIT_USAGE;
	}
	cJSON *root = cJSON_ParseWithLength(text, len);
	free(text);
	const cJSON *proto = cJSON_GetObjectItemCaseSensitive(root, "proto");
	const cJSON *set = cJSON_GetObjectItemCaseSensitive(root, "settings"), *it;
	int rc = EXIT_USAGE;
	if (!cJSON_IsObject(set)) {
		fprintf(stderr, "bmsctl: %s: expected a JSON object with \"settings\" (bmsctl dump's output)\n", argv[0]);
		goto out;
	}
	if (cJSON_IsString(proto) && strcmp(proto->valuestring, c->proto->name)) {
		fprintf(stderr, "bmsctl: %s: expected a dump of %s, got one of %s\n", argv[0], c->proto->name,
		        proto->valuestring);
		goto out;
	}
	cJSON_ArrayForEach(it, set) {
		int id = setting_id(c, it->string);
		if (id < 0)
			goto out;
		if (n >= BMS_SET_COUNT || !cJSON_IsNumber(it) || it->valuedouble != (double)(int32_t)it->valuedouble) {
			fprintf(stderr, "bmsctl: %s: %s: expected an integer\n", argv[0], it->string);
			goto out;
		}
		ids[n] = (unsigned)id;
		v[n++] = (int32_t)it->valuedouble;
	}
	rc = apply(c, ids, v, n);
out:
	cJSON_Delete(root);
	return rc;
}

/* on/off for one FET; -1 when the word is not one. */
static int on_off(const char *s)
{
	return !strcmp(s, "on") ? 1 : !strcmp(s, "off") ? 0 : -1;
}

static int cmd_fets(struct ctl *c, int argc, char **argv)
{
	int chg = -1, dsg = -1;
	struct ctl_info in;
	if (argc < 1 || argc > 2) {
		fprintf(stderr, "bmsctl: fets: expected chg=on|off and/or dsg=on|off\n");
		return EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		int *which = !strncmp(argv[i], "chg=", 4) ? &chg : !strncmp(argv[i], "dsg=", 4) ? &dsg : NULL;
		if (which == NULL || (*which = on_off(argv[i] + 4)) < 0) {
			fprintf(stderr, "bmsctl: fets: expected chg=on|off or dsg=on|off, got \"%s\"\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (confirm(c, "switching the FETs") != 0)
		return EXIT_DECLINED;
	if (c->proto->fets(c, chg, dsg) != 0 || c->proto->info(c, &in) != 0)
		return EXIT_DEVICE;
	if (c->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "fet_chg", in.fet_chg);
		cJSON_AddNumberToObject(o, "fet_dsg", in.fet_dsg);
		print_json(o);
	} else if (!c->quiet) {
		printf("chg=%s dsg=%s\n", in.fet_chg ? "on" : "off", in.fet_dsg ? "on" : "off");
	}
	/* A FET asked on may stay off while a protection holds it: say so, it is not a failure. */
	if ((chg >= 0 && (unsigned)chg != in.fet_chg) || (dsg >= 0 && (unsigned)dsg != in.fet_dsg))
		fprintf(stderr, "bmsctl: fets: the BMS reports chg=%s dsg=%s (a protection may hold one off)\n",
		        in.fet_chg ? "on" : "off", in.fet_dsg ? "on" : "off");
	return EXIT_OK;
}

static int cmd_soc(struct ctl *c, int argc, char **argv)
{
	int32_t pct;
	struct ctl_info in;
	if (argc != 1 || parse_i32(argv[0], &pct) != 0) {
		fprintf(stderr, "bmsctl: soc: expected a percentage 0..100\n");
		return EXIT_USAGE;
	}
	if (pct < 0 || pct > 100) {
		fprintf(stderr, "bmsctl: soc: expected 0..100, got %ld\n", (long)pct);
		return EXIT_REFUSED;
	}
	if (c->proto->soc == NULL) {
		fprintf(stderr, "bmsctl: soc: %s has no SOC write\n", c->proto->name);
		return EXIT_REFUSED;
	}
	if (confirm(c, "setting the SOC") != 0)
		return EXIT_DECLINED;
	if (c->proto->soc(c, (unsigned)pct) != 0 || c->proto->info(c, &in) != 0)
		return EXIT_DEVICE;
	if (c->json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "soc_pct", in.soc_pct);
		cJSON_AddNumberToObject(o, "remain_mAh", in.remain_mAh);
		print_json(o);
	} else if (!c->quiet) {
		printf("soc_pct = %u\n", in.soc_pct);
	}
	if (in.soc_pct != (unsigned)pct) {
		fprintf(stderr, "bmsctl: soc: asked %ld %%, the BMS reports %u %%\n", (long)pct, in.soc_pct);
		return EXIT_DEVICE;
	}
	return EXIT_OK;
}

static const struct ctl_cmd {
	const char *name;
	int (*run)(struct ctl *c, int argc, char **argv);
	int needs_port;
} cmds[] = {
	{ "info", cmd_info, 1 },
	{ "get", cmd_get, 1 },
	{ "set", cmd_set, 1 },
	{ "dump", cmd_dump, 1 },
	{ "restore", cmd_restore, 1 },
	{ "fets", cmd_fets, 1 },
	{ "soc", cmd_soc, 1 },
	{ "list", cmd_list, 0 },
	/* "tap" (branch wt-cap, tools/bmsctl_tap.c) dispatches to bmsctl_tap_main(argc, argv) with
	 * its own options; the merge wires it here, before --proto/--port are required:
	 * { "tap", NULL, 0 },   -> if (!strcmp(argv[optind], "tap")) return bmsctl_tap_main(...);
	 */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: bmsctl --proto P --port PATH|tcp:HOST:PORT [options] COMMAND [ARGS]\n"
	        "commands:\n"
	        "  info                 identity, pack, cells, temperatures, FETs, protections\n"
	        "  get NAME...          settings by their neutral names (bmsctl --proto P list)\n"
	        "  set NAME=VALUE...    write settings (integers in the unit the name ends in); read back\n"
	        "  dump                 every setting as JSON: bmsctl ... dump > FILE.json\n"
	        "  restore FILE.json    write a dump back, every value checked before any is sent\n"
	        "  fets chg=on|off dsg=on|off\n"
	        "  soc PCT              set the state of charge, 0..100\n"
	        "  list                 the settings P has, with their ranges (no port needed)\n"
	        "options:\n"
	        "  -p, --proto P        jbd, daly, jk, jbd-ble, daly-ble, jk-ble\n"
	        "  -P, --port PATH      a pty, a serial port or tcp:HOST:PORT\n"
	        "  -b, --baud N         serial speed (default: the protocol's)\n"
	        "  -j, --json           JSON output\n"
	        "  -y, --yes            write to a real serial port without asking\n"
	        "  -q, --quiet          no read-back lines on success\n"
	        "  -v, --verbose        say what is sent\n"
	        "  -h, --help, -V, --version\n"
	        "exit: 0 done, 1 device error or read-back differs, 2 usage, 3 value refused before\n"
	        "sending, 4 not confirmed\n");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "proto", required_argument, NULL, 'p' }, { "port", required_argument, NULL, 'P' },
		{ "baud", required_argument, NULL, 'b' }, { "json", no_argument, NULL, 'j' },
		{ "yes", no_argument, NULL, 'y' }, { "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' }, { NULL, 0, NULL, 0 },
	};
	static struct ctl c = { .jkb_layout = -1 };
	const char *port = NULL;
	uint32_t baud = 0;
	int o;

	while ((o = getopt_long(argc, argv, "+p:P:b:jyqvhV", lopts, NULL)) != -1) {
		switch (o) {
		case 'p':
			for (size_t i = 0; i < N_OF(protos); i++)
				if (!strcmp(optarg, protos[i].name))
					c.proto = &protos[i];
			if (c.proto == NULL) {
				fprintf(stderr, "bmsctl: --proto: expected jbd, daly, jk, jbd-ble, daly-ble or jk-ble, got \"%s\"\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'P': port = optarg; break;
		case 'b': {
			int32_t b;
			if (parse_i32(optarg, &b) != 0 || b < 300 || b > 4000000) {
				fprintf(stderr, "bmsctl: --baud: expected 300..4000000, got \"%s\"\n", optarg);
				return EXIT_USAGE;
			}
			baud = (uint32_t)b;
			break;
		}
		case 'j': c.json = 1; break;
		case 'y': c.yes = 1; break;
		case 'q': c.quiet = 1; break;
		case 'v': c.verbose = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		case 'V': printf("bmsctl %s\n", BMSRIG_VERSION); return EXIT_OK;
		default:
			fprintf(stderr, "bmsctl: expected the options of bmsctl --help\n");
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "bmsctl: expected a command (bmsctl --help)\n");
		return EXIT_USAGE;
	}
	const struct ctl_cmd *cmd = NULL;
	for (size_t i = 0; i < N_OF(cmds); i++)
		if (!strcmp(argv[optind], cmds[i].name))
			cmd = &cmds[i];
	if (cmd == NULL) {
		fprintf(stderr, "bmsctl: expected a command (info, get, set, dump, restore, fets, soc, list), got \"%s\"\n",
		        argv[optind]);
		return EXIT_USAGE;
	}
	if (c.proto == NULL) {
		fprintf(stderr, "bmsctl: expected --proto P\n");
		return EXIT_USAGE;
	}
	if (!cmd->needs_port)
		return cmd->run(&c, argc - optind - 1, argv + optind + 1);
	if (port == NULL) {
		fprintf(stderr, "bmsctl: expected --port PATH|tcp:HOST:PORT\n");
		return EXIT_USAGE;
	}
	char err[256];
	if (host_stream_open_port(&c.s, port, baud ? baud : c.proto->baud, NULL, NULL, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "bmsctl: %s\n", err);
		return EXIT_USAGE;
	}
	int rc = cmd->run(&c, argc - optind - 1, argv + optind + 1);
	host_stream_close(&c.s);
	return rc;
}
