/* --influx -|udp:HOST:PORT|unix:PATH: each telemetry line as one line of InfluxDB's line
 * protocol, on stdout, as a UDP datagram, or as a datagram on a Unix socket (what Telegraf's
 * socket_listener takes with data_format "influx"). Schema in docs/bmsmon.md:
 *   bmsrig,id=jbd0,proto=jbd ok=1i,pack_mv=13220i,...,cell1_mv=3304i,... 1765145000123000000 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "out.h"

#define LINE_MAX_BYTES 4096   /* 32 cells, 8 probes and a bridge's 15 packs fit twice over */

struct influx {
	int fd;                 /* -1: stdout */
	char target[128];
	int quiet, warned;
};

struct buf {
	char b[LINE_MAX_BYTES];
	size_t n;
	int full;               /* something did not fit: the line is dropped, never cut */
};

static void add(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->b + b->n, sizeof b->b - b->n, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof b->b - b->n)
		b->full = 1;
	else
		b->n += (size_t)n;
}

/* Line protocol: in a tag value a comma, space, equals sign or backslash is escaped with a
 * backslash (the id comes from a port's name, which may hold any of them). */
static void add_tag(struct buf *b, const char *key, const char *v)
{
	add(b, ",%s=", key);
	for (; *v && !b->full; v++)
		add(b, "%s%c", strchr(", =\\", *v) ? "\\" : "", *v);
}

/* The array keys of the telemetry line and the field each element becomes (1-based index):
 * one field per cell, probe and pack, each keeping the unit in its name. */
static const struct { const char *key, *fmt; } arrays[] = {
	{ "cells_mv", "cell%u_mv" },
	{ "temps_dk", "temp%u_dk" },
	{ "pack_ok", "pack%u_ok" },
	{ "pack_age_ms", "pack%u_age_ms" },
};

/* The first field follows the space after the tags; every other one a comma. */
static void add_field(struct buf *b, const char *prefix, const char *name, double v)
{
	add(b, "%s%s%s=%lldi", b->b[b->n - 1] == ' ' ? "" : ",", prefix, name, (long long)v);
}

/* The integer fields of o, its arrays of integers one field per element, its objects ("inv")
 * with their keys prefixed "KEY_". Strings are tags or names, not fields. */
static void add_fields(struct buf *b, const cJSON *o, const char *prefix)
{
	const cJSON *it, *el;

	cJSON_ArrayForEach(it, o) {
		if (cJSON_IsNumber(it)) {
			add_field(b, prefix, it->string, it->valuedouble);
		} else if (cJSON_IsArray(it) && cJSON_IsNumber(cJSON_GetArrayItem(it, 0))) {
			const char *fmt = NULL;
			char name[64];
			unsigned k = 0, i;

			for (i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
				if (!strcmp(arrays[i].key, it->string))
					fmt = arrays[i].fmt;
			cJSON_ArrayForEach(el, it) {
				k++;
				if (fmt)
					snprintf(name, sizeof name, fmt, k);
				else
					snprintf(name, sizeof name, "%s_%u", it->string, k);
				if (cJSON_IsNumber(el))
					add_field(b, prefix, name, el->valuedouble);
			}
		} else if (cJSON_IsObject(it) && !*prefix) {
			char sub[40];

			snprintf(sub, sizeof sub, "%s_", it->string);
			add_fields(b, it, sub);
		}
	}
}

size_t out_influx_line(char *out, size_t cap, const cJSON *state, uint64_t now_ns)
{
	static struct buf b;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(state, "id");
	const cJSON *proto = cJSON_GetObjectItemCaseSensitive(state, "proto");

	memset(&b, 0, sizeof b);
	add(&b, "bmsrig");
	if (cJSON_IsString(id) && *id->valuestring)
		add_tag(&b, "id", id->valuestring);
	if (cJSON_IsString(proto) && *proto->valuestring)
		add_tag(&b, "proto", proto->valuestring);
	add(&b, " ");
	add_fields(&b, state, "");
	add(&b, " %llu\n", (unsigned long long)now_ns);
	if (b.full || b.n >= cap)
		return 0;
	memcpy(out, b.b, b.n + 1);
	return b.n;
}

static void *influx_open(const char *arg, const struct out_cfg *cfg, char *err, size_t cap)
{
	struct influx *x = calloc(1, sizeof *x);

	if (!x) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	x->fd = -1;
	x->quiet = cfg->quiet;
	snprintf(x->target, sizeof x->target, "%s", arg);
	if (!strcmp(arg, "-"))
		return x;
	if (!strncmp(arg, "udp:", 4)) {
		char host[128], port[8];
		uint16_t p;
		struct addrinfo hints, *res = NULL, *ai;
		int rc;

		if (!out_host_port(arg + 4, host, sizeof host, &p, err, cap))
			goto fail;
		snprintf(port, sizeof port, "%u", p);
		memset(&hints, 0, sizeof hints);
		hints.ai_socktype = SOCK_DGRAM;
		if ((rc = getaddrinfo(host, port, &hints, &res))) {
			snprintf(err, cap, "udp:%s:%s: %s", host, port, gai_strerror(rc));
			goto fail;
		}
		for (ai = res; ai && x->fd < 0; ai = ai->ai_next) {
			x->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
			if (x->fd >= 0 && connect(x->fd, ai->ai_addr, ai->ai_addrlen)) {
				close(x->fd);
				x->fd = -1;
			}
		}
		freeaddrinfo(res);
		if (x->fd < 0) {
			snprintf(err, cap, "udp:%s:%s: %s", host, port, strerror(errno));
			goto fail;
		}
		return x;
	}
	if (!strncmp(arg, "unix:", 5) && arg[5]) {
		struct sockaddr_un sa;

		memset(&sa, 0, sizeof sa);
		sa.sun_family = AF_UNIX;
		if (strlen(arg + 5) >= sizeof sa.sun_path) {
			snprintf(err, cap, "unix:PATH: the path is longer than %zu bytes", sizeof sa.sun_path - 1);
			goto fail;
		}
		strcpy(sa.sun_path, arg + 5);
		x->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		/* Not connected: each datagram is addressed, so a listener (re)started after bmsmon
		 * is reached without reopening anything. */
		if (x->fd < 0) {
			snprintf(err, cap, "%s: %s", arg, strerror(errno));
			goto fail;
		}
		return x;
	}
	snprintf(err, cap, "expected -, udp:HOST:PORT or unix:PATH, got \"%s\"", arg);
fail:
	free(x);
	return NULL;
}

static void influx_publish(void *ctx, const cJSON *state)
{
	struct influx *x = ctx;
	char line[LINE_MAX_BYTES];
	struct timespec ts;
	size_t n;
	ssize_t sent;

	clock_gettime(CLOCK_REALTIME, &ts);
	n = out_influx_line(line, sizeof line, state,
	                    (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	if (!n)
		return;
	if (x->fd < 0) {
		fputs(line, stdout);
		fflush(stdout);
		return;
	}
	if (!strncmp(x->target, "unix:", 5)) {
		struct sockaddr_un sa;

		memset(&sa, 0, sizeof sa);
		sa.sun_family = AF_UNIX;
		strcpy(sa.sun_path, x->target + 5);
		sent = sendto(x->fd, line, n, MSG_NOSIGNAL, (const struct sockaddr *)&sa, sizeof sa);
	} else {
		sent = send(x->fd, line, n, MSG_NOSIGNAL);
	}
	/* A listener that is not there (yet) loses this line, as UDP would anyway: say so once per
	 * run (a connected UDP socket alternates, the refusal of one datagram surfacing on the send
	 * of the next, so "again after a success" would say it every other poll). */
	if (sent < 0 && !x->warned && !x->quiet) {
		fprintf(stderr, "bmsmon: --influx %s: %s (lines are dropped while nobody listens)\n", x->target,
		        strerror(errno));
		x->warned = 1;
	}
}

static void influx_close(void *ctx)
{
	struct influx *x = ctx;

	if (x->fd >= 0)
		close(x->fd);
	free(x);
}

const struct out_ops out_influx_ops = {
	"--influx", influx_open, influx_publish, NULL, NULL, influx_close,
};
