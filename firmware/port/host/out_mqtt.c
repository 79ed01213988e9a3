/* --mqtt HOST:PORT: the state on an MQTT broker through libmosquitto, retained, with a last
 * will and, with --ha-discovery, Home Assistant's MQTT discovery. libmosquitto runs on bmsmon's
 * poll loop, never on a thread of its own and never blocking: its socket is one more pollfd,
 * and a lost broker is retried every RETRY_MS while the BMS keeps being polled. Topics and
 * payloads: docs/bmsmon.md, "MQTT". */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <mosquitto.h>

#include "out.h"

#define RETRY_MS 1000u
#define KEEPALIVE_S 30
#define TOPIC_MAX 192

struct mqtt {
	struct mosquitto *m;
	char host[128];
	uint16_t port;
	char prefix[128], node[80], id[64];
	int ha, quiet;
	int online;              /* CONNACK accepted, not lost since */
	int lost;                /* was online, the connection went: say so once */
	int ever_tried, said_down;
	uint32_t next_try_ms;
	cJSON *last;             /* the last state, re-sent on every (re)connect */
	int disc_cells, disc_temps;   /* what the discovery sent last described; -1: none sent */
};

static void pub(struct mqtt *q, const char *suffix, const char *payload)
{
	char topic[TOPIC_MAX];

	if (out_topic(topic, sizeof topic, q->prefix, suffix))
		mosquitto_publish(q->m, NULL, topic, (int)strlen(payload), payload, 1, true);
}

/* Home Assistant's discovery entities: one row each; idx rows repeat per cell or probe. */
enum { PER_PACK, PER_CELL, PER_TEMP };
static const struct entity {
	const char *component, *object, *name, *topic, *tmpl, *unit, *device_class;
	int per;
} entities[] = {
	{ "sensor", "pack_mv", "Pack voltage", "state", "{{ value_json.pack_mv }}", "mV", "voltage", PER_PACK },
	{ "sensor", "current_ma", "Current", "state", "{{ value_json.current_ma }}", "mA", "current", PER_PACK },
	{ "sensor", "soc_pct", "State of charge", "state", "{{ value_json.soc_pct }}", "%", "battery", PER_PACK },
	{ "sensor", "comm_fail", "Failed polls", "state", "{{ value_json.comm_fail }}", NULL, NULL, PER_PACK },
	{ "binary_sensor", "relay", "Relay", "state", "{{ 'ON' if value_json.relay else 'OFF' }}", NULL, "power", PER_PACK },
	{ "binary_sensor", "fet_chg", "Charge MOSFET", "state", "{{ 'ON' if value_json.fet_chg else 'OFF' }}", NULL, "power", PER_PACK },
	{ "binary_sensor", "fet_dsg", "Discharge MOSFET", "state", "{{ 'ON' if value_json.fet_dsg else 'OFF' }}", NULL, "power", PER_PACK },
	{ "binary_sensor", "protection", "Protection", "state", "{{ 'ON' if value_json.prot else 'OFF' }}", NULL, "problem", PER_PACK },
	{ "sensor", "cell%u_mv", "Cell %u", "cell/%u", "{{ value }}", "mV", "voltage", PER_CELL },
	/* The telemetry carries 0.1 K; Home Assistant's temperature class wants degC. */
	{ "sensor", "temp%u", "Temperature %u", "temp/%u", "{{ ((value | int) - 2731) / 10 }}", "\xC2\xB0" "C", "temperature", PER_TEMP },
};

static int count_of(const cJSON *state, const char *key)
{
	return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(state, key));
}

/* homeassistant/<component>/<node>/<object>/config for every entity, retained. An entity
 * a smaller pack no longer has gets an empty config, which removes it. */
static void discovery(struct mqtt *q, const cJSON *state)
{
	const cJSON *proto = cJSON_GetObjectItemCaseSensitive(state, "proto");
	int cells = count_of(state, "cells_mv"), temps = count_of(state, "temps_dk");
	size_t e;

	for (e = 0; e < sizeof entities / sizeof entities[0]; e++) {
		const struct entity *en = &entities[e];
		int n = en->per == PER_CELL ? cells : en->per == PER_TEMP ? temps : 1;
		int was = en->per == PER_CELL ? q->disc_cells : en->per == PER_TEMP ? q->disc_temps : 0;
		int k, top = n > was ? n : was;

		for (k = 1; k <= top; k++) {
			char object[48], name[96], sub[32], topic[TOPIC_MAX], cfg_topic[TOPIC_MAX], uid[160];
			cJSON *c, *dev, *ids;
			char *s;

			snprintf(object, sizeof object, en->object, (unsigned)k);
			snprintf(cfg_topic, sizeof cfg_topic, "homeassistant/%s/%s/%s/config", en->component, q->node, object);
			if (k > n) {
				mosquitto_publish(q->m, NULL, cfg_topic, 0, "", 1, true);
				continue;
			}
			snprintf(name, sizeof name, en->name, (unsigned)k);
			snprintf(sub, sizeof sub, en->topic, (unsigned)k);
			snprintf(uid, sizeof uid, "%s_%s", q->node, object);
			if (!out_topic(topic, sizeof topic, q->prefix, sub))
				continue;
			c = cJSON_CreateObject();
			cJSON_AddStringToObject(c, "name", name);
			cJSON_AddStringToObject(c, "unique_id", uid);
			cJSON_AddStringToObject(c, "object_id", uid);
			cJSON_AddStringToObject(c, "state_topic", topic);
			cJSON_AddStringToObject(c, "value_template", en->tmpl);
			if (en->unit)
				cJSON_AddStringToObject(c, "unit_of_measurement", en->unit);
			if (en->device_class)
				cJSON_AddStringToObject(c, "device_class", en->device_class);
			if (!strcmp(en->component, "sensor"))
				cJSON_AddStringToObject(c, "state_class", "measurement");
			out_topic(topic, sizeof topic, q->prefix, "status");
			cJSON_AddStringToObject(c, "availability_topic", topic);
			dev = cJSON_AddObjectToObject(c, "device");
			ids = cJSON_AddArrayToObject(dev, "identifiers");
			cJSON_AddItemToArray(ids, cJSON_CreateString(q->node));
			snprintf(name, sizeof name, "bmsrig %s", q->id);
			cJSON_AddStringToObject(dev, "name", name);
			cJSON_AddStringToObject(dev, "manufacturer", "bmsrig");
			cJSON_AddStringToObject(dev, "model", cJSON_IsString(proto) ? proto->valuestring : "bms");
			s = cJSON_PrintUnformatted(c);
			if (s)
				mosquitto_publish(q->m, NULL, cfg_topic, (int)strlen(s), s, 1, true);
			free(s);
			cJSON_Delete(c);
		}
	}
	q->disc_cells = cells;
	q->disc_temps = temps;
}

/* One array of the state as PREFIX/<sub>/1.. (one retained topic per cell or probe). */
static void per_element(struct mqtt *q, const cJSON *state, const char *key, const char *sub)
{
	const cJSON *el;
	unsigned k = 0;

	cJSON_ArrayForEach(el, cJSON_GetObjectItemCaseSensitive(state, key)) {
		char suffix[32], v[24];

		snprintf(suffix, sizeof suffix, "%s/%u", sub, ++k);
		snprintf(v, sizeof v, "%lld", (long long)el->valuedouble);
		pub(q, suffix, v);
	}
}

static void send_state(struct mqtt *q)
{
	char *s;

	if (!q->online || !q->last)
		return;
	if (q->ha && (q->disc_cells != count_of(q->last, "cells_mv") || q->disc_temps != count_of(q->last, "temps_dk")))
		discovery(q, q->last);
	s = cJSON_PrintUnformatted(q->last);
	if (s)
		pub(q, "state", s);
	free(s);
	per_element(q, q->last, "cells_mv", "cell");
	per_element(q, q->last, "temps_dk", "temp");
}

static void on_connect(struct mosquitto *m, void *obj, int rc)
{
	struct mqtt *q = obj;

	(void)m;
	if (rc) {
		if (!q->quiet)
			fprintf(stderr, "bmsmon: --mqtt %s:%u: refused: %s\n", q->host, q->port, mosquitto_connack_string(rc));
		return;
	}
	if (!q->quiet)
		fprintf(stderr, "bmsmon: --mqtt %s:%u: connected, publishing under %s/\n", q->host, q->port, q->prefix);
	q->online = 1;
	q->said_down = 0;
	q->disc_cells = q->disc_temps = -1;   /* a restarted broker without persistence forgot them */
	pub(q, "status", "online");
	send_state(q);
}

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	struct mqtt *q = obj;

	(void)m;
	(void)rc;
	q->lost = q->online;
	q->online = 0;
}

int out_mqtt_topic_ok(const char *prefix)
{
	/* A prefix is a topic without wildcards; a trailing slash would double up. */
	size_t n = strlen(prefix);

	return n && n < 100 && !strpbrk(prefix, "+#") && prefix[n - 1] != '/';
}

static void *mqtt_open(const char *arg, const struct out_cfg *cfg, char *err, size_t cap)
{
	struct mqtt *q = calloc(1, sizeof *q);
	char client[128], will[TOPIC_MAX];
	size_t i;

	if (!q) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	if (!out_host_port(arg, q->host, sizeof q->host, &q->port, err, cap))
		goto fail;
	snprintf(q->id, sizeof q->id, "%s", cfg->id);
	if (cfg->mqtt_topic) {   /* checked by bmsmon's parse_args (out_mqtt_topic_ok) */
		snprintf(q->prefix, sizeof q->prefix, "%s", cfg->mqtt_topic);
	} else {
		snprintf(q->prefix, sizeof q->prefix, "bmsrig/%s", cfg->id);
	}
	/* Home Assistant's node id takes [a-zA-Z0-9_-] only. */
	snprintf(q->node, sizeof q->node, "bmsrig_%s", cfg->id);
	for (i = 0; q->node[i]; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", q->node[i]))
			q->node[i] = '_';
	q->ha = cfg->ha_discovery;
	q->quiet = cfg->quiet;
	q->disc_cells = q->disc_temps = -1;
	mosquitto_lib_init();
	snprintf(client, sizeof client, "bmsmon-%s-%ld", q->node + 7, (long)getpid());
	q->m = mosquitto_new(client, true, q);
	if (!q->m) {
		snprintf(err, cap, "cannot create an MQTT client");
		goto fail;
	}
	out_topic(will, sizeof will, q->prefix, "status");
	if (mosquitto_will_set(q->m, will, 7, "offline", 1, true) != MOSQ_ERR_SUCCESS) {
		snprintf(err, cap, "cannot set the last will on %s", will);
		goto fail;
	}
	mosquitto_connect_callback_set(q->m, on_connect);
	mosquitto_disconnect_callback_set(q->m, on_disconnect);
	return q;
fail:
	if (q->m)
		mosquitto_destroy(q->m);
	free(q);
	return NULL;
}

static void mqtt_publish(void *ctx, const cJSON *state)
{
	struct mqtt *q = ctx;

	cJSON_Delete(q->last);
	q->last = cJSON_Duplicate(state, 1);
	send_state(q);
}

static int mqtt_fd(void *ctx, short *events)
{
	struct mqtt *q = ctx;
	int fd = mosquitto_socket(q->m);

	*events = (short)(POLLIN | (mosquitto_want_write(q->m) ? POLLOUT : 0));
	return fd;
}

/* With no socket, (re)connect every RETRY_MS; with one, read and write what is ready and let
 * libmosquitto keep its keep-alive. A lost broker closes the socket inside loop_read. */
static void mqtt_service(void *ctx, uint32_t now_ms)
{
	struct mqtt *q = ctx;
	int fd = mosquitto_socket(q->m);

	if (fd < 0) {
		int rc;

		/* A connect in progress that fails just closes the socket: no error code reaches us. */
		if (q->lost && !q->quiet)
			fprintf(stderr, "bmsmon: --mqtt %s:%u: connection lost; retrying every %u ms\n", q->host, q->port,
			        RETRY_MS);
		else if (q->ever_tried && !q->online && !q->said_down && !q->quiet)
			fprintf(stderr, "bmsmon: --mqtt %s:%u: no broker answered; retrying every %u ms\n", q->host,
			        q->port, RETRY_MS);
		if (q->lost || (q->ever_tried && !q->online))
			q->said_down = 1;
		q->lost = 0;
		q->online = 0;
		if (q->ever_tried && (int32_t)(now_ms - q->next_try_ms) < 0)
			return;
		q->next_try_ms = now_ms + RETRY_MS;
		rc = q->ever_tried ? mosquitto_reconnect_async(q->m)
		                   : mosquitto_connect_async(q->m, q->host, q->port, KEEPALIVE_S);
		q->ever_tried = 1;
		if (rc != MOSQ_ERR_SUCCESS && !q->said_down && !q->quiet) {
			fprintf(stderr, "bmsmon: --mqtt %s:%u: %s; retrying every %u ms\n", q->host, q->port,
			        mosquitto_strerror(rc), RETRY_MS);
			q->said_down = 1;
		}
		return;
	}
	{
		struct pollfd p = { fd, (short)(POLLIN | (mosquitto_want_write(q->m) ? POLLOUT : 0)), 0 };

		if (poll(&p, 1, 0) > 0) {
			if (p.revents & (POLLIN | POLLHUP | POLLERR))
				mosquitto_loop_read(q->m, 1);
			if ((p.revents & POLLOUT) && mosquitto_socket(q->m) >= 0)
				mosquitto_loop_write(q->m, 1);
		}
	}
	if (mosquitto_socket(q->m) >= 0)
		mosquitto_loop_misc(q->m);
}

static void mqtt_close(void *ctx)
{
	struct mqtt *q = ctx;

	/* A clean disconnect does not fire the will: say offline first, and give the broker the
	 * bytes before the socket goes (a few loop_write calls, as the buffer drains). */
	if (q->online) {
		int i;

		pub(q, "status", "offline");
		mosquitto_disconnect(q->m);
		for (i = 0; i < 10 && mosquitto_want_write(q->m) && mosquitto_socket(q->m) >= 0; i++)
			mosquitto_loop_write(q->m, 1);
	}
	mosquitto_destroy(q->m);
	mosquitto_lib_cleanup();
	cJSON_Delete(q->last);
	free(q);
}

const struct out_ops out_mqtt_ops = {
	"--mqtt", mqtt_open, mqtt_publish, mqtt_fd, mqtt_service, mqtt_close,
};
