/* The link model (link.h). Times are milliseconds on the caller's clock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsrig/sim/link.h"

/* The window after a connect in which the first request's bytes are lost: a request arrives
 * in a few writes of up to 20 bytes, all within one or two connection events. */
#define FIRST_REQUEST_WINDOW_MS 100u

void link_cfg_ble_defaults(struct link_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->kind = LINK_BLE;
	c->chunk_bytes = 20;        /* MTU 23, docs/protocols/jbd.md §10.3 */
	c->interval_ms = 30;
	c->connect_ms = 1500;       /* service discovery ~0.9 s plus subscribing, §10.4 */
	c->drop_first = 1;          /* §10.4: the first request after subscribing was never answered */
	c->queue_ms = 1000;         /* a module buffers a few kB; beyond that the BMS's sends are lost */
	c->seed = 1;
}

static const struct {
	const char *key;
	size_t off, size;
	uint32_t max;
} link_keys[] = {
#define K(k, field, max) { k, offsetof(struct link_cfg, field), sizeof(((struct link_cfg *)0)->field), max }
	K("chunk_bytes", chunk_bytes, 512), K("interval_ms", interval_ms, 4000),
	K("connect_ms", connect_ms, 600000), K("drop_first", drop_first, 1),
	K("disconnect_after_ms", disconnect_after_ms, 86400000),
	K("disconnects_per_h", disconnects_per_h, 3600), K("stuck_ms", stuck_ms, 86400000),
	K("notify_loss_pct", notify_loss_pct, 100), K("queue_ms", queue_ms, 600000),
	K("seed", seed, 0xFFFFFFFFu), K("disconnect_on_close", disconnect_on_close, 1),
#undef K
};

/* "password" and "mac" are text; everything else a number from the table. */
static rig_rc set_text(struct link_cfg *c, const char *key, const char *value, char *why, size_t whycap)
{
	unsigned b[6];
	int used = 0;

	if (!strcmp(key, "password")) {
		if (strlen(value) != 6) {
			snprintf(why, whycap, "password: expected 6 characters, got \"%s\"", value);
			return RIG_ERR_ARG;
		}
		strcpy(c->password, value);
		return RIG_OK;
	}
	if (sscanf(value, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &used) != 6 ||
	    (size_t)used != strlen(value)) {
		snprintf(why, whycap, "mac: expected six hex bytes such as A4:C1:37:00:11:22, got \"%s\"", value);
		return RIG_ERR_ARG;
	}
	for (used = 0; used < 6; used++)
		c->mac[used] = (uint8_t)b[used];
	return RIG_OK;
}

rig_rc link_set(struct link_cfg *c, const char *key, const char *value, char *why, size_t whycap)
{
	size_t i;

	if (!strcmp(key, "password") || !strcmp(key, "mac"))
		return set_text(c, key, value, why, whycap);

	for (i = 0; i < sizeof link_keys / sizeof link_keys[0]; i++) {
		char *end;
		unsigned long v;

		if (strcmp(key, link_keys[i].key))
			continue;
		v = strtoul(value, &end, 10);
		if (value[0] < '0' || value[0] > '9' || *end || v > link_keys[i].max ||
		    (!strcmp(key, "chunk_bytes") && v == 0)) {
			snprintf(why, whycap, "%s: expected %s..%lu, got \"%s\"", key,
			         strcmp(key, "chunk_bytes") ? "0" : "1", (unsigned long)link_keys[i].max, value);
			return RIG_ERR_ARG;
		}
		if (link_keys[i].size == sizeof(uint8_t))
			*((uint8_t *)c + link_keys[i].off) = (uint8_t)v;
		else if (link_keys[i].size == sizeof(uint16_t)) {
			uint16_t w = (uint16_t)v;
			memcpy((char *)c + link_keys[i].off, &w, sizeof w);
		} else {
			uint32_t w = (uint32_t)v;
			memcpy((char *)c + link_keys[i].off, &w, sizeof w);
		}
		return RIG_OK;
	}
	snprintf(why, whycap, "unknown link setting \"%s\" (chunk_bytes, interval_ms, connect_ms, drop_first, "
	         "disconnect_after_ms, disconnects_per_h, stuck_ms, notify_loss_pct, queue_ms, seed, disconnect_on_close, "
	         "password, mac)", key);
	return RIG_ERR_ARG;
}

/* xorshift32: deterministic per seed, good enough for when to drop a link. */
static uint32_t next_rand(struct link *l)
{
	uint32_t x = l->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return l->rng = x;
}

static int due(uint32_t now_ms, uint32_t at_ms)
{
	return (int32_t)(now_ms - at_ms) >= 0;
}

static void enter(struct link *l, enum link_state s, uint32_t now_ms)
{
	l->state = s;
	l->since_ms = now_ms;
	if (s == LINK_UP) {
		l->connects++;
		l->first_pending = l->cfg.drop_first;
		l->next_free_ms = now_ms;
		if (l->cfg.disconnects_per_h) {
			/* Uniform over twice the mean interval: the rate comes out as asked. */
			uint32_t mean_ms = 3600000u / l->cfg.disconnects_per_h;
			l->drops_at_ms = now_ms + 1u + next_rand(l) % (2u * mean_ms);
		}
	} else if (s == LINK_DOWN && l->connects) {
		l->disconnects++;
	}
}

void link_init(struct link *l, const struct link_cfg *cfg, uint32_t now_ms)
{
	memset(l, 0, sizeof *l);
	l->cfg = *cfg;
	l->rng = cfg->seed ? cfg->seed : 1u;
	l->since_ms = now_ms;
	l->state = cfg->kind == LINK_UART ? LINK_UP : LINK_DOWN;
}

void link_tick(struct link *l, uint32_t now_ms)
{
	if (l->cfg.kind == LINK_UART)
		return;
	switch (l->state) {
	case LINK_CONNECTING:
		if (due(now_ms, l->since_ms + l->cfg.connect_ms))
			enter(l, LINK_UP, now_ms);
		break;
	case LINK_UP:
		if ((l->cfg.disconnect_after_ms && due(now_ms, l->since_ms + l->cfg.disconnect_after_ms)) ||
		    (l->cfg.disconnects_per_h && due(now_ms, l->drops_at_ms)))
			enter(l, LINK_DOWN, now_ms);
		break;
	case LINK_STUCK:
		if (due(now_ms, l->since_ms + l->cfg.stuck_ms))
			enter(l, LINK_DOWN, now_ms);
		break;
	case LINK_DOWN:
		break;
	}
}

int link_uplink(struct link *l, uint32_t now_ms, size_t n)
{
	if (l->cfg.kind == LINK_UART)
		return 1;
	link_tick(l, now_ms);
	if (l->state == LINK_DOWN) {
		/* A client writing is a central connecting; these bytes go nowhere yet. */
		enter(l, l->cfg.connect_ms ? LINK_CONNECTING : LINK_UP, now_ms);
		if (l->state == LINK_CONNECTING) {
			l->dropped_bytes += (uint32_t)n;
			return 0;
		}
	}
	if (l->state != LINK_UP) {
		l->dropped_bytes += (uint32_t)n;
		return 0;
	}
	if (l->first_pending) {
		l->first_pending = 0;
		l->drop_until_ms = now_ms + FIRST_REQUEST_WINDOW_MS;
	}
	if (l->drop_until_ms && !due(now_ms, l->drop_until_ms)) {
		l->dropped_bytes += (uint32_t)n;
		return 0;
	}
	l->drop_until_ms = 0;
	return 1;
}

unsigned link_downlink(struct link *l, uint32_t now_ms, size_t n, struct link_chunk *out, unsigned max)
{
	unsigned k = 0;
	size_t off;

	if (l->cfg.kind == LINK_UART) {
		if (!max)
			return 0;
		out[0] = (struct link_chunk){ 0, n, now_ms };
		return 1;
	}
	link_tick(l, now_ms);
	if (l->state != LINK_UP)
		return 0;
	if (!due(l->next_free_ms, now_ms))
		l->next_free_ms = now_ms;
	/* A reply that would wait behind more than the module buffers never leaves: without this a
	 * BMS pushing faster than the link drains would queue minutes of stale records. */
	if (l->cfg.queue_ms && l->next_free_ms - now_ms > l->cfg.queue_ms) {
		l->overflows++;
		return 0;
	}
	/* One notification per connection event, in order, after anything still queued. */
	for (off = 0; off < n && k < max; off += l->cfg.chunk_bytes) {
		size_t len = n - off < l->cfg.chunk_bytes ? n - off : l->cfg.chunk_bytes;

		/* A lost notification still used its connection event. */
		if (l->cfg.notify_loss_pct && next_rand(l) % 100u < l->cfg.notify_loss_pct)
			l->lost_notifications++;
		else
			out[k++] = (struct link_chunk){ off, len, l->next_free_ms };
		l->next_free_ms += l->cfg.interval_ms;
	}
	return k;
}

int link_up_since(struct link *l, uint32_t now_ms, uint32_t scheduled_ms)
{
	if (l->cfg.kind == LINK_UART)
		return 1;
	link_tick(l, now_ms);
	return l->state == LINK_UP && due(scheduled_ms, l->since_ms);
}

void link_drop(struct link *l, uint32_t now_ms, uint32_t reconnect_ms)
{
	if (l->cfg.kind == LINK_UART)
		return;
	l->cfg.connect_ms = reconnect_ms;
	if (l->state != LINK_DOWN)
		enter(l, LINK_DOWN, now_ms);
}

void link_client_closed(struct link *l, uint32_t now_ms)
{
	/* A serial BLE bridge (HM-10 and friends) keeps its connection to the BMS whatever the
	 * host does with the port; only a client that owns the connection itself (a phone app, a
	 * BLE library) ends it by closing. */
	if (l->cfg.kind == LINK_UART || !l->cfg.disconnect_on_close)
		return;
	if (l->state == LINK_UP || l->state == LINK_CONNECTING) {
		enter(l, LINK_DOWN, now_ms);
		if (l->cfg.stuck_ms)
			enter(l, LINK_STUCK, now_ms);
	}
}
