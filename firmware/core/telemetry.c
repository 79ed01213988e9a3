/* The telemetry line, written without stdio or division (the lx106 has neither to spare). */
#include <string.h>

#include "bmsrig/core/telemetry.h"

struct out {
	char *p;
	size_t cap, len;
	int full;
};

static void put_str(struct out *o, const char *s)
{
	size_t n = strlen(s);

	if (o->full || o->len + n >= o->cap) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void put_u32(struct out *o, uint32_t v)
{
	static const uint32_t pow10[] = { 1000000000u, 100000000u, 10000000u, 1000000u, 100000u,
	                                  10000u, 1000u, 100u, 10u, 1u };
	char buf[11];
	size_t n = 0, i;

	for (i = 0; i < sizeof pow10 / sizeof pow10[0]; i++) {
		char d = '0';

		while (v >= pow10[i]) {
			v -= pow10[i];
			d++;
		}
		if (d != '0' || n || i == sizeof pow10 / sizeof pow10[0] - 1)
			buf[n++] = d;
	}
	buf[n] = '\0';
	put_str(o, buf);
}

static void put_i32(struct out *o, int32_t v)
{
	if (v < 0) {
		put_str(o, "-");
		put_u32(o, 0u - (uint32_t)v);
	} else {
		put_u32(o, (uint32_t)v);
	}
}

static void put_key_u32(struct out *o, const char *key, uint32_t v)
{
	put_str(o, ",\"");
	put_str(o, key);
	put_str(o, "\":");
	put_u32(o, v);
}

/* One array writer for every element width the line has (1, 2 or 4 bytes): no copies. */
static void put_array(struct out *o, const char *key, const void *v, unsigned n, unsigned width)
{
	const uint8_t *b = v;
	unsigned i;

	put_str(o, ",\"");
	put_str(o, key);
	put_str(o, "\":[");
	for (i = 0; i < n; i++) {
		if (i)
			put_str(o, ",");
		put_u32(o, width == 4u ? ((const uint32_t *)v)[i] : width == 2u ? ((const uint16_t *)v)[i] : b[i]);
	}
	put_str(o, "]");
}

/* ,"inv":{...}: the limits announced first, then the packs. */
static void put_inv(struct out *o, const struct telemetry_inv *v)
{
	static const struct rig_inv_battery none;
	const struct rig_inv_battery *r = v->battery ? v->battery : &none;
	unsigned n = v->pack_count < RIG_INV_MODULES_MAX ? v->pack_count : RIG_INV_MODULES_MAX;

	put_str(o, ",\"inv\":{\"cvl_mv\":");
	put_u32(o, r->cvl_mV);
	put_str(o, ",\"ccl_ma\":");
	put_i32(o, r->ccl_mA);
	put_str(o, ",\"dcl_ma\":");
	put_i32(o, r->dcl_mA);
	put_key_u32(o, "dvl_mv", r->dvl_mV);
	put_key_u32(o, "soc_pct", r->soc_pct);
	put_key_u32(o, "request", r->request);
	put_key_u32(o, "prot", r->prot);
	put_key_u32(o, "alarm", r->alarm);
	put_key_u32(o, "online_packs", v->online_packs);
	put_array(o, "pack_ok", v->pack_ok, n, 1u);
	put_array(o, "pack_age_ms", v->pack_age_ms, n, 4u);
	put_str(o, "}");
}

size_t rig_telemetry_format(char *out, size_t cap, const struct telemetry *t)
{
	static const struct pack_state empty;
	const struct pack_state *s = t->pack ? t->pack : &empty;
	struct out o = { out, cap, 0, 0 };

	put_str(&o, TELEMETRY_PREFIX "{\"ms\":");
	put_u32(&o, t->ms);
	put_str(&o, ",\"proto\":\"");
	put_str(&o, t->proto);
	put_str(&o, "\"");
	put_key_u32(&o, "ok", t->ok);
	put_key_u32(&o, "pack_mv", s->pack_mV);
	put_str(&o, ",\"current_ma\":");
	put_i32(&o, s->current_mA);
	put_key_u32(&o, "soc_pct", s->soc_pct);
	put_array(&o, "cells_mv", s->cell_mV, s->cell_count, 2u);
	put_array(&o, "temps_dk", s->temp_dK, s->temp_count, 2u);
	put_key_u32(&o, "fet_chg", s->fet_chg);
	put_key_u32(&o, "fet_dsg", s->fet_dsg);
	put_key_u32(&o, "prot", s->prot);
	put_key_u32(&o, "bal_mask", s->bal_mask);
	put_key_u32(&o, "relay", t->relay);
	put_key_u32(&o, "comm_fail", t->comm_fail);
	put_key_u32(&o, "why", t->reasons);
	if (t->inv)
		put_inv(&o, t->inv);
	put_str(&o, "}");
	if (o.full) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	out[o.len] = '\0';
	return o.len;
}
