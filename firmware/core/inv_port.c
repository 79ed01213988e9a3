/* The inverter port (inv_port.h, docs/inverter-port.md): the firmware as the battery toward an
 * inverter. Every byte layout is the core codecs'; this file holds only the slave logic: which
 * request gets which answer, from the record given each step. */
#include <string.h>

#include "bmsrig/core/inv_port.h"
#include "bmsrig/core/pylon_can.h"
#include "with.h"

#define READ_CHUNK    64u
#define READS_MAX     8u         /* per step: a flooded line cannot keep a step going forever */
#define DATAFLAG      0x10u      /* RS485: no unread alarm or switch change, as in the captures */
#define SYS_INFOFLAG  0x11u      /* RS485 0x47's first byte in the captured reply */
#define DEYE_ADDR_DEFAULT 1u     /* the emulator's default too (one pack on the line) */

static const char *const proto_names[RIG_INV_PROTO_COUNT] = {
	"pylontech-can", "pylontech-rs485", "deye-modbus"
};

/* Whether this build carries the protocol (with.h). A constant for each case below, so a
 * protocol left out takes its slave logic and codec out of the link. */
#define BUILT(proto) ((proto) == RIG_INV_PYLON_CAN ? RIG_INV_WITH_PYLONTECH_CAN \
                      : (proto) == RIG_INV_PYLON_RS485 ? RIG_INV_WITH_PYLONTECH_RS485 : RIG_INV_WITH_DEYE_MODBUS)

/* The reply buffers, one for all ports (see the header): a Pylontech 0x42 of 15 modules is
 * 2 KB on the wire and ~1 KB decoded, more than an ESP8266 stack should carry. */
static union {
	struct {
		struct pylon_frame req, reply;
		union pylon_payload pl;
		uint8_t wire[PYLON_FRAME_MAX];
	} rs;
	struct {
		struct modbus_frame req, reply;
		uint8_t wire[MODBUS_ADU_MAX];
	} mb;
} scratch;

rig_rc rig_inv_port_proto_parse(const char *name, uint8_t *proto)
{
	uint8_t i;

	for (i = 0; i < RIG_INV_PROTO_COUNT; i++)
		if (BUILT(i) && !strcmp(name, proto_names[i])) {
			*proto = i;
			return RIG_OK;
		}
	return RIG_ERR_ARG;
}

const char *rig_inv_port_proto_name(uint8_t proto)
{
	return proto < RIG_INV_PROTO_COUNT ? proto_names[proto] : "?";
}

static uint32_t silence_ms(const struct rig_inv_port *p)
{
	return p->cfg.silence_ms ? p->cfg.silence_ms : RIG_INV_PORT_SILENCE_MS;
}

uint32_t rig_inv_port_quiet_ms(const struct rig_inv_port *p, uint32_t now_ms)
{
	return now_ms - (p->st.heard ? p->st.last_request_ms : p->start_ms);
}

int rig_inv_port_comm_lost(const struct rig_inv_port *p, uint32_t now_ms)
{
	return rig_inv_port_quiet_ms(p, now_ms) >= silence_ms(p);
}

static void heard(struct rig_inv_port *p, uint32_t now_ms)
{
	p->st.requests++;
	p->st.last_request_ms = now_ms;
	p->st.heard = 1;
}

/* Whole writes only: a UART or pty that takes part of a frame has garbled it anyway. */
static void put(struct rig_inv_port *p, const uint8_t *b, size_t n)
{
	if (n > 0xFFFFu || p->io.write(p->io.ctx, b, (uint16_t)n) != (int32_t)n)
		p->st.io_errors++;
}

static void say(struct rig_inv_port *p, const char *text)
{
	put(p, (const uint8_t *)text, strlen(text));
}

/* The record as announced this step: the communication alarm added while the inverter is quiet. */
static void announced(const struct rig_inv_port *p, const struct rig_inv_battery *in, uint32_t now_ms,
                      struct rig_inv_battery *out)
{
	*out = *in;
	if (p->cfg.comm_alarm && rig_inv_port_comm_lost(p, now_ms))
		out->alarm |= RIG_INV_ALARM_COMM;
}

/* Text into a fixed field: at most cap bytes, the rest filled with pad. */
static void fill_text(char *dst, size_t cap, const char *src, const char *dflt, char pad)
{
	const char *s = src ? src : dflt;
	size_t n = strlen(s);

	if (n > cap)
		n = cap;
	memset(dst, pad, cap);
	memcpy(dst, s, n);
}

/* ---- pylontech-can ---------------------------------------------------------------------- */

/* What a Lawicel CANUSB answers to the commands a host library sends that change nothing. */
static const struct { char cmd; const char *reply; } adapter_replies[] = {
	{ 'V', "V1013\r" }, { 'v', "v1013\r" }, { 'N', "NPY01\r" }, { 'F', "F00\r" },
	{ 'Z', "\r" }, { 'M', "\r" }, { 'm', "\r" }, { 's', "\r" }, { 'X', "\r" }, { 'W', "\r" }, { 'Q', "\r" },
};

const char *rig_inv_port_adapter_reply(char cmd)
{
	size_t i;

	for (i = 0; i < sizeof adapter_replies / sizeof adapter_replies[0]; i++)
		if (adapter_replies[i].cmd == cmd)
			return adapter_replies[i].reply;
	return NULL;
}

static void can_command(struct rig_inv_port *p, const struct slcan_line *l, uint32_t now_ms)
{
	const char *reply;

	switch (l->cmd) {
	case 'S':
		if (p->can_open || l->arg_len != 1 || l->arg[0] < '0' || l->arg[0] > '8')
			break;
		p->can_bitrate = (uint8_t)(l->arg[0] - '0');
		say(p, "\r");
		return;
	case 'O':
	case 'L':
		if (!p->can_open) {
			p->can_open = 1;
			p->next_set_ms = now_ms;
		}
		say(p, "\r");
		return;
	case 'C':
		p->can_open = 0;
		say(p, "\r");
		return;
	default:
		reply = rig_inv_port_adapter_reply(l->cmd);
		if (reply) {
			say(p, reply);
			return;
		}
		break;
	}
	say(p, "\a");
}

static void can_line(struct rig_inv_port *p, const struct slcan_line *l, uint32_t now_ms)
{
	int adapter = p->cfg.can_mode == RIG_INV_CAN_ADAPTER;

	if (l->kind == SLCAN_COMMAND) {
		if (adapter)
			can_command(p, l, now_ms);
		return;           /* host mode: an adapter sends no commands; an echo is ignored */
	}
	if (l->kind != SLCAN_FRAME)
		return;           /* the adapter's acknowledgements (host mode) */
	if (adapter) {
		if (!p->can_open) {
			say(p, "\a");
			return;
		}
		say(p, l->frame.ext ? "Z\r" : "z\r");
	}
	if (rig_pylon_can_is_keepalive(&l->frame))
		heard(p, now_ms);
}

void rig_inv_port_send_now(struct rig_inv_port *p, uint32_t now_ms)
{
	if (p->cfg.proto == RIG_INV_PYLON_CAN && (int32_t)(p->next_set_ms - now_ms) > 0)
		p->next_set_ms = now_ms;
}

static void can_send_set(struct rig_inv_port *p, const struct rig_inv_battery *b, uint32_t now_ms)
{
	uint32_t period = p->cfg.period_ms ? p->cfg.period_ms : RIG_INV_PORT_PERIOD_MS;
	struct rig_can_frame set[PYLON_CAN_SET_MAX];
	struct rig_inv_battery rec;
	uint8_t line[SLCAN_LINE_MAX];
	size_t n, i, len;

	if (!p->can_open || (int32_t)(now_ms - p->next_set_ms) < 0)
		return;
	p->next_set_ms += period;
	if ((int32_t)(now_ms - p->next_set_ms) >= 0)   /* fell behind (a stall): keep cadence from now */
		p->next_set_ms = now_ms + period;
	announced(p, b, now_ms, &rec);
	n = rig_pylon_can_encode_set(&rec, p->cfg.can_extras, set, PYLON_CAN_SET_MAX);
	for (i = 0; i < n; i++)
		if (rig_slcan_frame_encode(&set[i], line, sizeof line, &len) == RIG_OK) {
			put(p, line, len);
			p->st.replies++;
		}
	p->st.sets++;
}

/* ---- pylontech-rs485 -------------------------------------------------------------------- */

static uint8_t rs485_me(const struct rig_inv_port *p)
{
	return p->cfg.address ? p->cfg.address : (uint8_t)PYLON_ADR_DEFAULT;
}

static void module_capacity(struct pylon_module *m, uint32_t remain_mAh, uint32_t full_mAh, uint16_t cycles)
{
	m->remain_mAh = remain_mAh;
	m->full_mAh = full_mAh;
	/* Packs over 65 Ah send their capacities as u24 (user-defined 4), as a US3000 does. */
	m->user_defined = full_mAh > 0xFFFFu || remain_mAh > 0xFFFFu ? 4u : 2u;
	m->remain16_mAh = m->full16_mAh = 0xFFFFu;
	m->cycles = cycles;
}

/* The battery record as one module: cells are its highest and lowest, probes its average
 * (standing for the board probe, first), highest and lowest; an inverter reading it gets the
 * extremes exactly and the probes' mean as the average. */
static void module_from_record(const struct rig_inv_battery *b, struct pylon_module *m)
{
	memset(m, 0, sizeof *m);
	m->cell_count = 2;
	m->cell_mV[0] = b->cell_max_mV;
	m->cell_mV[1] = b->cell_min_mV;
	m->temp_count = 3;
	m->temp_dK[0] = b->temp_dK;
	m->temp_dK[1] = b->temp_max_dK;
	m->temp_dK[2] = b->temp_min_dK;
	m->current_mA = b->current_mA;
	m->pack_mV = b->pack_mV;
	module_capacity(m, b->remain_mAh, b->full_mAh, b->cycles);
}

static void module_from_pack(const struct pack_state *s, struct pylon_module *m)
{
	unsigned i;

	memset(m, 0, sizeof *m);
	m->cell_count = (uint8_t)(s->cell_count > PYLON_CELLS_MAX ? PYLON_CELLS_MAX : s->cell_count);
	for (i = 0; i < m->cell_count; i++)
		m->cell_mV[i] = s->cell_mV[i];
	m->temp_count = (uint8_t)(s->temp_count > PYLON_TEMPS_MAX ? PYLON_TEMPS_MAX : s->temp_count);
	for (i = 0; i < m->temp_count; i++)
		m->temp_dK[i] = s->temp_dK[i];
	m->current_mA = s->current_mA;
	m->pack_mV = s->pack_mV;
	module_capacity(m, s->remain_mAh, s->full_mAh, s->cycles);
}

/* Index of the highest (want_max) or lowest of v[0..n), n >= 1. */
static unsigned extreme_at(const uint16_t *v, unsigned n, int want_max)
{
	unsigned i, at = 0;

	for (i = 1; i < n; i++)
		if (want_max ? v[i] > v[at] : v[i] < v[at])
			at = i;
	return at;
}

/* 0x44 for a module: with no thresholds at hand, the protection bits name the extreme cell or
 * probe that tripped (a cell over-voltage marks the highest cell high, and so on). */
static void module_alarm(const struct pylon_module *m, uint32_t prot, uint8_t fets, uint8_t soc_pct,
                         struct pylon_alarm_module *a)
{
	uint16_t cell_bits = 0;
	unsigned i;

	memset(a, 0, sizeof *a);
	a->cell_count = m->cell_count;
	a->temp_count = m->temp_count;
	if (m->cell_count) {
		if (prot & PACK_PROT_CELL_OV)
			a->cell_state[extreme_at(m->cell_mV, m->cell_count, 1)] = PYLON_STATE_HIGH;
		if (prot & PACK_PROT_CELL_UV)
			a->cell_state[extreme_at(m->cell_mV, m->cell_count, 0)] = PYLON_STATE_LOW;
	}
	if (m->temp_count) {
		if (prot & (PACK_PROT_CHG_OT | PACK_PROT_DSG_OT))
			a->temp_state[extreme_at(m->temp_dK, m->temp_count, 1)] = PYLON_STATE_HIGH;
		if (prot & (PACK_PROT_CHG_UT | PACK_PROT_DSG_UT))
			a->temp_state[extreme_at(m->temp_dK, m->temp_count, 0)] = PYLON_STATE_LOW;
	}
	for (i = 0; i < a->cell_count; i++)
		if (a->cell_state[i] != PYLON_STATE_NORMAL)
			cell_bits = (uint16_t)(cell_bits | 1u << i);
	rig_pylon_alarm_status(a, prot, (fets & RIG_INV_FET_CHG) != 0, (fets & RIG_INV_FET_DSG) != 0, m->current_mA,
	                       soc_pct, cell_bits);
}

static uint8_t pack_fets(const struct pack_state *s)
{
	return (uint8_t)((s->fet_chg ? RIG_INV_FET_CHG : 0u) | (s->fet_dsg ? RIG_INV_FET_DSG : 0u));
}

/* The modules a 0x42 / 0x44 / 0x60 reply lists: every pack for "all" when the view has them,
 * else the battery as one module. */
static unsigned module_list(const struct rig_inv_port_view *v, int all)
{
	return all && v->packs && v->pack_count ? (v->pack_count > PYLON_MODULES_MAX ? PYLON_MODULES_MAX
	                                                                              : v->pack_count)
	                                        : 0u;
}

static rig_rc rs_analog_alarm(const struct rig_inv_port_view *v, uint8_t cid2, uint8_t value,
                              const struct rig_inv_battery *b, struct pylon_frame *r)
{
	unsigned n = module_list(v, value == PYLON_ADR_ALL), k;
	unsigned count = n ? n : 1u;
	struct pylon_module one;
	struct pylon_analog *a = &scratch.rs.pl.analog;
	struct pylon_alarm *al = &scratch.rs.pl.alarm;

	if (cid2 == PYLON_CMD_ANALOG) {
		memset(a, 0, sizeof *a);
		a->dataflag = DATAFLAG;
		a->command_value = value == PYLON_ADR_ALL ? (uint8_t)count : value;
		a->module_count = (uint8_t)count;
		for (k = 0; k < count; k++) {
			if (n)
				module_from_pack(&v->packs[k], &a->m[k]);
			else
				module_from_record(b, &a->m[k]);
		}
		return rig_pylon_analog_encode(r, a);
	}
	memset(al, 0, sizeof *al);
	al->dataflag = DATAFLAG;
	al->command_value = value == PYLON_ADR_ALL ? (uint8_t)count : value;
	al->module_count = (uint8_t)count;
	for (k = 0; k < count; k++) {
		if (n) {
			module_from_pack(&v->packs[k], &one);
			module_alarm(&one, v->packs[k].prot, pack_fets(&v->packs[k]), v->packs[k].soc_pct, &al->m[k]);
		} else {
			module_from_record(b, &one);
			module_alarm(&one, b->prot, b->fets, b->soc_pct, &al->m[k]);
		}
	}
	return rig_pylon_alarm_encode(r, al);
}

static rig_rc rs_sys_param(const struct rig_inv_port *p, const struct rig_inv_battery *b, struct pylon_frame *r)
{
	struct pylon_sys_param *s = &scratch.rs.pl.param;

	if (p->cfg.sys_param) {
		*s = *p->cfg.sys_param;
	} else {
		/* A 15-cell LFP module (what a US2000C is): 3.65 V / 2.9 V release / 2.5 V per cell,
		 * charge 0..45 degC, discharge -20..60 degC; the currents are the record's limits. */
		static const struct pylon_sys_param lfp15 = {
			SYS_INFOFLAG, 3650, 2900, 2500, 3181, 2731, 0, 54750, 43500, 37500, 3331, 2531, 0
		};
		*s = lfp15;
		s->chg_current_mA = b->ccl_mA;
		s->dsg_current_mA = -b->dcl_mA;   /* negative, as the captured 0x47 reply sends it */
	}
	return rig_pylon_sys_param_encode(r, s);
}

static void rs_identity(const struct rig_inv_port *p, struct pylon_mfr *m)
{
	char name[PYLON_NAME_LEN + 1], mfr[PYLON_MFR_LEN + 1];

	fill_text(name, PYLON_NAME_LEN, p->cfg.model, "US2000C", 0);
	fill_text(mfr, PYLON_MFR_LEN, p->cfg.manufacturer, "PYLON", 0);
	name[PYLON_NAME_LEN] = mfr[PYLON_MFR_LEN] = 0;
	if (p->cfg.sw_major || p->cfg.sw_minor)
		rig_pylon_mfr_set(m, name, p->cfg.sw_major, p->cfg.sw_minor, mfr);
	else
		rig_pylon_mfr_set(m, name, 1, 7, mfr);
}

/* Module k's serial: the configured text, the last two characters the module number when the
 * battery has several, so that an inverter listing modules sees them apart. */
static void rs_serial(const struct rig_inv_port *p, unsigned k, unsigned count, char *out)
{
	fill_text(out, PYLON_SERIAL_LEN, p->cfg.serial, "BMSRIG0000000000", 0);
	out[PYLON_SERIAL_LEN] = 0;
	if (count > 1) {
		unsigned tens = 0, ones = k + 1u;

		while (ones >= 10u) {   /* no division on the lx106 */
			ones -= 10u;
			tens++;
		}
		out[PYLON_SERIAL_LEN - 2] = (char)('0' + tens);
		out[PYLON_SERIAL_LEN - 1] = (char)('0' + ones);
	}
}

/* Where value sits among the packs' cells (cells) or probes: module << 8 | item, 1-based;
 * 0x0101 when the view has no packs or none holds it. */
static uint16_t locate(const struct rig_inv_port_view *v, uint16_t value, int cells)
{
	unsigned k, i, n = module_list(v, 1);

	for (k = 0; k < n; k++) {
		const struct pack_state *s = &v->packs[k];
		unsigned count = cells ? s->cell_count : s->temp_count;

		for (i = 0; i < count && i < (cells ? PACK_CELLS_MAX : PACK_TEMPS_MAX); i++)
			if ((cells ? s->cell_mV[i] : s->temp_dK[i]) == value)
				return (uint16_t)((k + 1u) << 8 | (i + 1u));
	}
	return 0x0101u;
}

static rig_rc rs_sys_analog(const struct rig_inv_port_view *v, const struct rig_inv_battery *b,
                            struct pylon_frame *r)
{
	struct pylon_sys_analog *a = &scratch.rs.pl.sys_analog;
	uint16_t mos = b->temp_mos_dK ? b->temp_mos_dK : b->temp_dK;

	memset(a, 0, sizeof *a);
	a->pack_mV = b->pack_mV;
	a->current_mA = b->current_mA;
	a->soc_pct = b->soc_pct;
	a->cycles_avg = a->cycles_max = b->cycles;
	a->soh_avg_pct = a->soh_min_pct = b->soh_pct;
	a->cell_max_mV = (struct pylon_extreme){ b->cell_max_mV, locate(v, b->cell_max_mV, 1) };
	a->cell_min_mV = (struct pylon_extreme){ b->cell_min_mV, locate(v, b->cell_min_mV, 1) };
	a->cell_temp_avg_dK = b->temp_dK;
	a->cell_temp_max_dK = (struct pylon_extreme){ b->temp_max_dK, locate(v, b->temp_max_dK, 0) };
	a->cell_temp_min_dK = (struct pylon_extreme){ b->temp_min_dK, locate(v, b->temp_min_dK, 0) };
	/* The record has one MOSFET and one board temperature: they stand for avg, max and min. */
	a->mos_temp_avg_dK = mos;
	a->mos_temp_max_dK = a->mos_temp_min_dK = (struct pylon_extreme){ mos, 0x0101u };
	a->bms_temp_avg_dK = b->temp_dK;
	a->bms_temp_max_dK = a->bms_temp_min_dK = (struct pylon_extreme){ b->temp_dK, 0x0101u };
	return rig_pylon_sys_analog_encode(r, a);
}

static int takes_value(uint8_t cid2)
{
	return cid2 == PYLON_CMD_ANALOG || cid2 == PYLON_CMD_ALARM || cid2 == PYLON_CMD_MGMT ||
	       cid2 == PYLON_CMD_SERIAL;
}

uint8_t rig_inv_port_pylon_check(const struct pylon_frame *req, uint8_t me, int master, uint8_t *value)
{
	*value = me;
	if (req->ver != PYLON_VER && req->cid2 != PYLON_CMD_PROTO_VER)
		return PYLON_RTN_VER;
	if (req->cid1 != PYLON_CID1)
		return PYLON_RTN_CID2;
	if (takes_value(req->cid2) && req->info_len > 1)
		return PYLON_RTN_FORMAT;
	if (takes_value(req->cid2) && req->info_len == 1) {
		*value = req->info[0];
		/* FF only where a module can answer for all (0x42, 0x44), and only the master can. */
		if (*value != me && !(*value == PYLON_ADR_ALL && master &&
		                      (req->cid2 == PYLON_CMD_ANALOG || req->cid2 == PYLON_CMD_ALARM)))
			return PYLON_RTN_DATA;
	}
	if (!master && req->cid2 >= PYLON_CMD_SYS_BASIC && req->cid2 <= PYLON_CMD_SYS_MGMT)
		return PYLON_RTN_CID2;
	return PYLON_RTN_OK;
}

static void rs_send(struct rig_inv_port *p, const struct pylon_frame *f)
{
	size_t len;

	if (rig_pylon_frame_encode(f, scratch.rs.wire, sizeof scratch.rs.wire, &len) != RIG_OK)
		return;
	put(p, scratch.rs.wire, len);
	p->st.replies++;
	if (f->cid2 != PYLON_RTN_OK)
		p->st.error_replies++;
}

static void rs_request(struct rig_inv_port *p, const struct pylon_frame *req, const struct rig_inv_port_view *v,
                       uint32_t now_ms)
{
	struct pylon_frame *r = &scratch.rs.reply;
	struct rig_inv_battery b;
	uint8_t me = rs485_me(p), value, rtn;
	rig_rc rc = RIG_OK;
	unsigned n;

	if (req->adr != me && req->adr != PYLON_ADR_ALL) {
		p->st.other_address++;
		return;
	}
	heard(p, now_ms);
	announced(p, v->battery, now_ms, &b);
	rig_pylon_response(r, me, PYLON_RTN_OK);
	rtn = rig_inv_port_pylon_check(req, me, 1, &value);
	if (rtn != PYLON_RTN_OK) {
		r->cid2 = rtn;
		rs_send(p, r);
		return;
	}
	switch (req->cid2) {
	case PYLON_CMD_ANALOG:
	case PYLON_CMD_ALARM:     rc = rs_analog_alarm(v, req->cid2, value, &b, r); break;
	case PYLON_CMD_SYS_PARAM: rc = rs_sys_param(p, &b, r); break;
	case PYLON_CMD_PROTO_VER: break;                       /* the reply's VER is the answer */
	case PYLON_CMD_MFR_INFO:
		rs_identity(p, &scratch.rs.pl.mfr);
		rc = rig_pylon_mfr_encode(r, &scratch.rs.pl.mfr);
		break;
	case PYLON_CMD_MGMT:
	case PYLON_CMD_SYS_MGMT:
		rig_pylon_mgmt_from_inv(&b, &scratch.rs.pl.mgmt);
		scratch.rs.pl.mgmt.has_command_value = req->cid2 == PYLON_CMD_MGMT;
		scratch.rs.pl.mgmt.command_value = value;
		rc = rig_pylon_mgmt_encode(r, &scratch.rs.pl.mgmt);
		break;
	case PYLON_CMD_SERIAL:
		scratch.rs.pl.serial.command_value = value;
		rs_serial(p, 0, 1, scratch.rs.pl.serial.serial);
		rc = rig_pylon_serial_encode(r, &scratch.rs.pl.serial);
		break;
	case PYLON_CMD_SYS_BASIC: {
		unsigned k;

		n = module_list(v, 1);
		n = n ? n : 1u;
		rs_identity(p, &scratch.rs.pl.basic.id);
		scratch.rs.pl.basic.module_count = (uint8_t)n;
		for (k = 0; k < n; k++)
			rs_serial(p, k, n, scratch.rs.pl.basic.serial[k]);
		rc = rig_pylon_sys_basic_encode(r, &scratch.rs.pl.basic);
		break;
	}
	case PYLON_CMD_SYS_ANALOG: rc = rs_sys_analog(v, &b, r); break;
	case PYLON_CMD_SYS_ALARM:
		scratch.rs.pl.sys_alarm.alarm1 = rig_pylon_status1_from_prot(b.warn);
		scratch.rs.pl.sys_alarm.alarm2 = 0;
		scratch.rs.pl.sys_alarm.prot1 = rig_pylon_status1_from_prot(b.prot);
		scratch.rs.pl.sys_alarm.prot2 = 0;
		rc = rig_pylon_sys_alarm_encode(r, &scratch.rs.pl.sys_alarm);
		break;
	default:
		r->cid2 = PYLON_RTN_CID2;
		break;
	}
	if (rc != RIG_OK)
		rig_pylon_response(r, me, PYLON_RTN_INTERNAL);
	rs_send(p, r);
}

/* ---- deye-modbus ------------------------------------------------------------------------ */

int rig_inv_port_deye_answer(const struct rig_inv_battery *r, const struct deye_mb_ident *id, uint8_t addr,
                             const struct modbus_frame *req, struct modbus_frame *reply)
{
	uint16_t start, count, regs[DEYE_MB_READ_MAX], i;

	switch (req->fc) {
	case DEYE_MB_FC_READ_INPUT:
		if (rig_deye_mb_read_decode(req, &start, &count) != RIG_OK)
			return 0;
		if (count < 1 || count > DEYE_MB_READ_MAX) {
			rig_modbus_exception(reply, addr, req->fc, DEYE_MB_EX_ILLEGAL_VALUE);
			return 2;
		}
		if ((uint32_t)start + count > 0x10000u) {
			rig_modbus_exception(reply, addr, req->fc, DEYE_MB_EX_ILLEGAL_ADDRESS);
			return 2;
		}
		for (i = 0; i < count; i++)
			regs[i] = rig_deye_mb_reg_value(r, (uint32_t)start + i);
		return rig_deye_mb_response_regs(reply, addr, regs, count) == RIG_OK;
	case DEYE_MB_FC_REPORT_ID:
		return rig_deye_mb_ident_encode(reply, addr, id) == RIG_OK;
	default:
		rig_modbus_exception(reply, addr, req->fc, DEYE_MB_EX_ILLEGAL_FUNCTION);
		return 2;
	}
}

/* The FC 0x11 identity from the configuration: '*' ends a field, so it becomes '-'; the serial
 * is padded with '0' to the 20 bytes Deye reads. */
static void mb_identity(const struct rig_inv_port *p, struct deye_mb_ident *id)
{
	size_t i, n = strlen(p->cfg.model ? p->cfg.model : "BMSRIG");

	memset(id, 0, sizeof *id);
	fill_text(id->model, DEYE_MB_MODEL_MAX, p->cfg.model, "BMSRIG", 0);
	id->model_len = (uint8_t)(n == 0 ? 1u : n > DEYE_MB_MODEL_MAX ? DEYE_MB_MODEL_MAX : n);
	if (n == 0)
		id->model[0] = '-';
	fill_text(id->serial, DEYE_MB_SERIAL_LEN, p->cfg.serial, "BMSRIG", '0');
	for (i = 0; i < DEYE_MB_MODEL_MAX; i++)
		if (id->model[i] == '*')
			id->model[i] = '-';
	for (i = 0; i < DEYE_MB_SERIAL_LEN; i++)
		if (id->serial[i] == '*')
			id->serial[i] = '-';
	id->sw[0] = p->cfg.sw_major || p->cfg.sw_minor ? p->cfg.sw_major : 1u;
	id->sw[1] = p->cfg.sw_major || p->cfg.sw_minor ? p->cfg.sw_minor : 7u;
	id->hw[0] = 1;
	id->hw[1] = 0;
}

static void mb_request(struct rig_inv_port *p, const struct modbus_frame *req, const struct rig_inv_port_view *v,
                       uint32_t now_ms)
{
	uint8_t base = p->cfg.address;
	unsigned span = p->cfg.per_pack && v->pack_records && v->pack_count ? v->pack_count : 1u;
	const struct rig_inv_battery *src;
	struct rig_inv_battery b;
	struct deye_mb_ident id;
	size_t len;
	int kind;

	if (req->addr < base || (unsigned)(req->addr - base) >= span || req->addr > DEYE_MB_ADDR_MAX) {
		p->st.other_address++;
		return;
	}
	heard(p, now_ms);
	src = span > 1u ? &v->pack_records[req->addr - base] : v->battery;
	announced(p, src, now_ms, &b);
	mb_identity(p, &id);
	kind = rig_inv_port_deye_answer(&b, &id, req->addr, req, &scratch.mb.reply);
	if (!kind || rig_modbus_frame_encode(&scratch.mb.reply, scratch.mb.wire, sizeof scratch.mb.wire, &len) != RIG_OK)
		return;
	put(p, scratch.mb.wire, len);
	p->st.replies++;
	if (kind == 2)
		p->st.error_replies++;
}

/* ---- the port --------------------------------------------------------------------------- */

rig_rc rig_inv_port_init(struct rig_inv_port *p, const struct rig_inv_port_cfg *cfg, struct rig_io io,
                         uint32_t now_ms)
{
	if (cfg->proto >= RIG_INV_PROTO_COUNT || !BUILT(cfg->proto) ||
	    (cfg->proto == RIG_INV_DEYE_MODBUS && cfg->address > DEYE_MB_ADDR_MAX))
		return RIG_ERR_ARG;
	memset(p, 0, sizeof *p);
	p->cfg = *cfg;
	p->io = io;
	p->start_ms = now_ms;
	switch (cfg->proto) {
	case RIG_INV_PYLON_CAN:
		if (!BUILT(RIG_INV_PYLON_CAN))
			break;
		/* A host never pauses inside a command; a half line older than this is noise. */
		rig_slcan_rx_init(&p->rx.can, 1000);
		if (cfg->can_mode == RIG_INV_CAN_HOST) {
			say(p, "C\rS6\rO\r");   /* whatever state the adapter was in, 500 kbit/s, open */
			p->can_open = 1;
			p->next_set_ms = now_ms;
		}
		break;
	case RIG_INV_PYLON_RS485:
		if (BUILT(RIG_INV_PYLON_RS485))
			rig_pylon_rx_init(&p->rx.rs485, 500);   /* a request is 20 characters at 9600 baud */
		break;
	default:
		if (!BUILT(RIG_INV_DEYE_MODBUS))
			break;
		if (!cfg->address && !cfg->per_pack)
			p->cfg.address = DEYE_ADDR_DEFAULT;
		rig_modbus_rx_init(&p->rx.mb, 200, MODBUS_REQUEST);   /* Deye resets after 200 ms */
		break;
	}
	return RIG_OK;
}

/* Feeds in[0..n) to the protocol's assembler and answers every complete request. */
static void consume(struct rig_inv_port *p, const uint8_t *in, size_t n, uint32_t now_ms,
                    const struct rig_inv_port_view *v)
{
	while (n) {
		size_t used = n;   /* a protocol left out of the build (init refuses it) */
		rig_rc rc;

		switch (p->cfg.proto) {
		case RIG_INV_PYLON_CAN: {
			struct slcan_line l;

			if (!BUILT(RIG_INV_PYLON_CAN))
				break;
			used = rig_slcan_rx_feed(&p->rx.can, in, n, now_ms);
			while (rig_slcan_rx_next(&p->rx.can, &l) == RIG_OK)
				can_line(p, &l, now_ms);
			break;
		}
		case RIG_INV_PYLON_RS485:
			if (!BUILT(RIG_INV_PYLON_RS485))
				break;
			used = rig_pylon_rx_feed(&p->rx.rs485, in, n, now_ms);
			while ((rc = rig_pylon_rx_next(&p->rx.rs485, &scratch.rs.req)) != RIG_MORE) {
				if (rc == RIG_OK) {
					rs_request(p, &scratch.rs.req, v, now_ms);
				} else if (scratch.rs.req.adr == rs485_me(p)) {
					/* Header read, checksum or LENGTH not: the module named says so (a
					 * real pack answers RTN 02 / 03 with no INFO). */
					rig_pylon_response(&scratch.rs.reply, rs485_me(p),
					                   rc == RIG_ERR_CHECKSUM ? PYLON_RTN_CHKSUM : PYLON_RTN_LCHKSUM);
					rs_send(p, &scratch.rs.reply);
				}
			}
			break;
		default:
			if (!BUILT(RIG_INV_DEYE_MODBUS))
				break;
			used = rig_modbus_rx_feed(&p->rx.mb, in, n, now_ms);
			while (rig_modbus_rx_next(&p->rx.mb, &scratch.mb.req) == RIG_OK)
				mb_request(p, &scratch.mb.req, v, now_ms);
			break;
		}
		if (!used)        /* the assembler is full and gave nothing back: drop the rest */
			break;
		in += used;
		n -= used;
	}
}

static uint32_t rejected(const struct rig_inv_port *p)
{
	switch (p->cfg.proto) {
	case RIG_INV_PYLON_CAN:   return p->rx.can.b.rejected_frames;
	case RIG_INV_PYLON_RS485: return p->rx.rs485.b.rejected_frames;
	default:                  return p->rx.mb.b.rejected_frames;
	}
}

rig_rc rig_inv_port_step(struct rig_inv_port *p, uint32_t now_ms, const struct rig_inv_port_view *v)
{
	uint32_t io_errors = p->st.io_errors;
	uint8_t buf[READ_CHUNK];
	unsigned i;

	for (i = 0; i < READS_MAX; i++) {
		int32_t got = p->io.read(p->io.ctx, buf, sizeof buf);

		if (got < 0) {
			p->st.io_errors++;
			break;
		}
		if (got == 0)
			break;
		consume(p, buf, (size_t)(got > (int32_t)sizeof buf ? (int32_t)sizeof buf : got), now_ms, v);
	}
	p->st.bad_frames = rejected(p);
	if (BUILT(RIG_INV_PYLON_CAN) && p->cfg.proto == RIG_INV_PYLON_CAN)
		can_send_set(p, v->battery, now_ms);
	return p->st.io_errors == io_errors ? RIG_OK : RIG_ERR_IO;
}
