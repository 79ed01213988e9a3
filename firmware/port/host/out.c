/* The outputs' shared half: the set bmsmon drives, the state object all of them publish, and
 * the small helpers they would otherwise each copy (out.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"

const char *const out_prot_names[] = {
	"cell_ov", "cell_uv", "pack_ov", "pack_uv", "chg_ot", "chg_ut", "dsg_ot", "dsg_ut",
	"chg_oc", "dsg_oc", "short", "afe", "sw_lock"
};
const unsigned out_prot_count = sizeof out_prot_names / sizeof out_prot_names[0];
const char *const out_why_names[] = {
	"cell_high", "cell_low", "temp_high", "temp_low", "comm_lost", "no_data"
};
const unsigned out_why_count = sizeof out_why_names / sizeof out_why_names[0];

int out_open(struct out_set *set, const struct out_ops *ops, const char *arg, const struct out_cfg *cfg)
{
	char err[256];
	void *ctx;

	if (set->n == OUT_MAX)
		return 0;
	ctx = ops->open(arg, cfg, err, sizeof err);
	if (!ctx) {
		fprintf(stderr, "bmsmon: %s: %s\n", ops->flag, err);
		return 0;
	}
	set->ops[set->n] = ops;
	set->ctx[set->n++] = ctx;
	return 1;
}

static cJSON *bit_names(uint32_t bits, const char *const *names, unsigned n)
{
	cJSON *a = cJSON_CreateArray();
	unsigned i;

	for (i = 0; a && i < n; i++)
		if (bits & (1u << i))
			cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
	return a;
}

cJSON *out_state_from_line(const char *line, const char *id)
{
	static const char prefix[] = "BMSRIG ";
	cJSON *o, *prot, *why;

	if (strncmp(line, prefix, sizeof prefix - 1))
		return NULL;
	o = cJSON_Parse(line + sizeof prefix - 1);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return NULL;
	}
	cJSON_AddStringToObject(o, "id", id);
	prot = cJSON_GetObjectItemCaseSensitive(o, "prot");
	why = cJSON_GetObjectItemCaseSensitive(o, "why");
	cJSON_AddItemToObject(o, "prot_names",
	                      bit_names(cJSON_IsNumber(prot) ? (uint32_t)prot->valuedouble : 0, out_prot_names, out_prot_count));
	cJSON_AddItemToObject(o, "why_names",
	                      bit_names(cJSON_IsNumber(why) ? (uint32_t)why->valuedouble : 0, out_why_names, out_why_count));
	return o;
}

void out_publish_line(struct out_set *set, const char *line, const char *id)
{
	cJSON *state;
	unsigned i;

	if (!set->n || !(state = out_state_from_line(line, id)))
		return;
	for (i = 0; i < set->n; i++)
		set->ops[i]->publish(set->ctx[i], state);
	cJSON_Delete(state);
}

unsigned out_pollfds(struct out_set *set, struct pollfd *p)
{
	unsigned i, n = 0;

	for (i = 0; i < set->n; i++) {
		short ev = 0;
		int fd = set->ops[i]->fd ? set->ops[i]->fd(set->ctx[i], &ev) : -1;

		if (fd >= 0)
			p[n++] = (struct pollfd){ fd, ev, 0 };
	}
	return n;
}

void out_service(struct out_set *set, uint32_t now_ms)
{
	unsigned i;

	for (i = 0; i < set->n; i++)
		if (set->ops[i]->service)
			set->ops[i]->service(set->ctx[i], now_ms);
}

void out_close(struct out_set *set)
{
	while (set->n) {
		set->n--;
		set->ops[set->n]->close(set->ctx[set->n]);
	}
}

int out_topic(char *buf, size_t cap, const char *prefix, const char *suffix)
{
	int n = snprintf(buf, cap, "%s/%s", prefix, suffix);

	return n > 0 && (size_t)n < cap;
}

int out_host_port(const char *s, char *host, size_t host_cap, uint16_t *port, char *err, size_t cap)
{
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long v;

	if (!colon || colon == s || (size_t)(colon - s) >= host_cap || !colon[1]) {
		snprintf(err, cap, "expected HOST:PORT, got \"%s\"", s);
		return 0;
	}
	v = strtoul(colon + 1, &end, 10);
	if (*end || v < 1 || v > 65535 || colon[1] == '-' || colon[1] == '+') {
		snprintf(err, cap, "expected a port 1..65535 after the colon, got \"%s\"", colon + 1);
		return 0;
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*port = (uint16_t)v;
	return 1;
}
