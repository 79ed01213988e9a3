/* bmsmon's outputs (docs/bmsmon.md, "Outputs"): MQTT, Influx line protocol and a web view.
 * Each telemetry line the core writes is the one thing they publish: bmsmon turns it once into
 * a state object (out_state_from_line) and hands that to every output it opened. Each output is
 * one function set in a table, so the poll loop treats them alike: an fd to wait on (or none),
 * a service call after every wake-up, publish, close. */
#ifndef BMSMON_OUT_H
#define BMSMON_OUT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define OUT_MAX 3

/* What every output may need besides its own argument. */
struct out_cfg {
	const char *id;            /* this monitor's name: tags, topics, the page title */
	const char *mqtt_topic;    /* --mqtt-topic, NULL: bmsrig/<id> */
	int ha_discovery;          /* --ha-discovery */
	int quiet;
};

struct out_ops {
	const char *flag;          /* the command-line option, for messages */
	/* NULL with a one-line reason in err on failure. */
	void *(*open)(const char *arg, const struct out_cfg *cfg, char *err, size_t cap);
	/* state: out_state_from_line's object; the output copies what it keeps. */
	void (*publish)(void *ctx, const cJSON *state);
	/* The fd to poll and the events wanted; -1 when there is none now. NULL: never one. */
	int (*fd)(void *ctx, short *events);
	/* After each wake-up of the loop, whatever woke it (connects, reconnects, I/O). */
	void (*service)(void *ctx, uint32_t now_ms);
	void (*close)(void *ctx);
};

extern const struct out_ops out_mqtt_ops, out_influx_ops, out_http_ops;

/* 1 when PREFIX can be --mqtt-topic: 1..99 bytes, no + or #, no trailing /. */
int out_mqtt_topic_ok(const char *prefix);

/* The outputs bmsmon opened. */
struct out_set {
	const struct out_ops *ops[OUT_MAX];
	void *ctx[OUT_MAX];
	unsigned n;
};

/* Opens ops with arg into set; 0 and a one-line message on stderr on failure. */
int out_open(struct out_set *set, const struct out_ops *ops, const char *arg, const struct out_cfg *cfg);
/* One telemetry line ("BMSRIG {...}") to every output. */
void out_publish_line(struct out_set *set, const char *line, const char *id);
/* Appends each output's pollfd to p (room for OUT_MAX); returns how many. */
unsigned out_pollfds(struct out_set *set, struct pollfd *p);
void out_service(struct out_set *set, uint32_t now_ms);
void out_close(struct out_set *set);

/* The state object of one telemetry line: the line's keys, plus "id" and the names of the set
 * protection and policy bits ("prot_names", "why_names"). NULL when the line is no telemetry. */
cJSON *out_state_from_line(const char *line, const char *id);

/* Names of the core's normalised protection bits (PROT_*), bit 0 first, and of the policy's
 * reasons for an open relay; shared by --pretty and the outputs. */
extern const char *const out_prot_names[];
extern const unsigned out_prot_count;
extern const char *const out_why_names[];
extern const unsigned out_why_count;

/* One Influx line protocol line of a state object, newline included; 0 when it would not fit. */
size_t out_influx_line(char *out, size_t cap, const cJSON *state, uint64_t now_ns);

/* "PREFIX" + "/" + "suffix" into buf; 0 when it does not fit. */
int out_topic(char *buf, size_t cap, const char *prefix, const char *suffix);
/* HOST:PORT split; port 1..65535. 0 and a message in err otherwise. */
int out_host_port(const char *s, char *host, size_t host_cap, uint16_t *port, char *err, size_t cap);

#endif
