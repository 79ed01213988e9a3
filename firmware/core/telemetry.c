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

static void put_array_u16(struct out *o, const char *key, const uint16_t *v, unsigned n)
{
	unsigned i;

	put_str(o, ",\"");
	put_str(o, key);
	put_str(o, "\":[");
	for (i = 0; i < n; i++) {
		if (i)
			put_str(o, ",");
		put_u32(o, v[i]);
	}
	put_str(o, "]");
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
	put_array_u16(&o, "cells_mv", s->cell_mV, s->cell_count);
	put_array_u16(&o, "temps_dk", s->temp_dK, s->temp_count);
	put_key_u32(&o, "fet_chg", s->fet_chg);
	put_key_u32(&o, "fet_dsg", s->fet_dsg);
	put_key_u32(&o, "prot", s->prot);
	put_key_u32(&o, "bal_mask", s->bal_mask);
	put_key_u32(&o, "relay", t->relay);
	put_key_u32(&o, "comm_fail", t->comm_fail);
	put_key_u32(&o, "why", t->reasons);
	put_str(&o, "}");
	if (o.full) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	out[o.len] = '\0';
	return o.len;
}
