/* --http [ADDR:]PORT: a small web view through libmicrohttpd. "/" is one page of plain HTML and
 * JavaScript that fetches "/api/v1/state" every second and fills itself in; "/api/v1/state" is
 * the last state as JSON (503 before the first poll). The daemon runs on bmsmon's poll loop
 * (MHD's epoll mode: one fd, MHD_run never blocks), so there is no thread and no lock.
 * Reference: docs/bmsmon.md, "Web view". */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "out.h"

struct http {
	struct MHD_Daemon *d;
	char *state;             /* the last state, printed once per poll rather than per request */
	char id[64];
};

/* The page. Numbers are shown as the integers of the JSON scaled with integer arithmetic
 * (mV -> V with 3 decimals, 0.1 K -> degC with 1), so what it shows is exactly the JSON's. */
static const char page[] =
"<!DOCTYPE html>\n"
"<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
"<title>bmsrig</title>\n"
"<style>\n"
"body{font-family:sans-serif;margin:1.5em;background:#f6f6f4;color:#222}\n"
"h1{font-size:1.3em}table{border-collapse:collapse;margin:.6em 0}\n"
"td,th{border:1px solid #ccc;padding:.25em .7em;text-align:right}th{background:#e8e8e4;text-align:left}\n"
".bad{color:#b00;font-weight:bold}.ok{color:#070}.stale{opacity:.5}\n"
"</style></head><body>\n"
"<h1>bmsrig <span id=\"id\"></span> <small id=\"proto\"></small></h1>\n"
"<p id=\"status\">waiting for the first poll&hellip;</p>\n"
"<table><tr><th>Pack</th><td><span id=\"pack_v\">-</span> V</td></tr>\n"
"<tr><th>Current</th><td><span id=\"current_a\">-</span> A</td></tr>\n"
"<tr><th>State of charge</th><td><span id=\"soc_pct\">-</span> %</td></tr>\n"
"<tr><th>MOSFETs</th><td>charge <span id=\"fet_chg\">-</span>, discharge <span id=\"fet_dsg\">-</span></td></tr>\n"
"<tr><th>Relay</th><td id=\"relay\">-</td></tr>\n"
"<tr><th>Protections</th><td id=\"prot\">-</td></tr>\n"
"<tr><th>Failed polls</th><td id=\"comm_fail\">-</td></tr></table>\n"
"<table id=\"cells\"><tr><th>Cell</th><th>mV</th></tr></table>\n"
"<table id=\"temps\"><tr><th>Probe</th><th>&deg;C</th></tr></table>\n"
"<script>\n"
"'use strict';\n"
"function fixed(v, div, dec) {\n"
"  const neg = v < 0, a = Math.abs(v), i = Math.floor(a / div);\n"
"  const f = String(a % div).padStart(String(div).length - 1, '0').slice(0, dec);\n"
"  return (neg ? '-' : '') + i + (dec ? '.' + f : '');\n"
"}\n"
"function set(id, text, cls) {\n"
"  const e = document.getElementById(id);\n"
"  e.textContent = text;\n"
"  if (cls !== undefined) e.className = cls;\n"
"}\n"
"function rows(table, label, values, fmt) {\n"
"  const t = document.getElementById(table);\n"
"  while (t.rows.length > 1) t.deleteRow(1);\n"
"  values.forEach(function (v, i) {\n"
"    const r = t.insertRow();\n"
"    r.insertCell().textContent = label + ' ' + (i + 1);\n"
"    const c = r.insertCell();\n"
"    c.id = table + '_' + (i + 1);\n"
"    c.textContent = fmt(v);\n"
"  });\n"
"}\n"
"function show(s) {\n"
"  set('id', s.id);\n"
"  set('proto', s.proto);\n"
"  set('status', s.ok ? 'polling' : 'last poll failed', s.ok ? 'ok' : 'bad');\n"
"  set('pack_v', fixed(s.pack_mv, 1000, 3));\n"
"  set('current_a', fixed(s.current_ma, 1000, 3));\n"
"  set('soc_pct', String(s.soc_pct));\n"
"  set('fet_chg', s.fet_chg ? 'on' : 'off');\n"
"  set('fet_dsg', s.fet_dsg ? 'on' : 'off');\n"
"  set('relay', s.relay ? 'closed' : 'open (' + s.why_names.join(', ') + ')', s.relay ? 'ok' : 'bad');\n"
"  set('prot', s.prot_names.length ? s.prot_names.join(', ') : 'none', s.prot_names.length ? 'bad' : 'ok');\n"
"  set('comm_fail', String(s.comm_fail));\n"
"  rows('cells', 'Cell', s.cells_mv || [], String);\n"
"  rows('temps', 'Probe', s.temps_dk || [], function (dk) { return fixed(dk - 2731, 10, 1); });\n"
"  document.body.className = '';\n"
"}\n"
"function poll() {\n"
"  fetch('/api/v1/state', {cache: 'no-store'})\n"
"    .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })\n"
"    .then(show)\n"
"    .catch(function (e) { set('status', 'no data: ' + e.message, 'bad'); document.body.className = 'stale'; })\n"
"    .finally(function () { setTimeout(poll, 1000); });\n"
"}\n"
"poll();\n"
"</script></body></html>\n";

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
                             size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	static const char not_yet[] = "{\"error\":\"no telemetry yet\"}\n";
	struct http *h = cls;

	(void)version;
	(void)upload;
	(void)con_cls;
	if (*upload_size)   /* a GET carries no body; refuse one rather than buffer it */
		return MHD_NO;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n", 9);
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", page, sizeof page - 1);
	if (!strcmp(url, "/api/v1/state")) {
		if (!h->state)
			return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json", not_yet, sizeof not_yet - 1);
		return reply(c, MHD_HTTP_OK, "application/json", h->state, strlen(h->state));
	}
	return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
}

/* [ADDR:]PORT, ADDR numeric (IPv4, or IPv6 in brackets); 127.0.0.1 when only a port. */
static int parse_addr(const char *arg, struct sockaddr_storage *ss, char *shown, size_t shown_cap, char *err,
                      size_t cap)
{
	char host[64] = "127.0.0.1", port_s[8];
	uint16_t port;
	struct addrinfo hints, *res = NULL;
	int rc;

	if (!strchr(arg, ':')) {
		char tmp[80];

		snprintf(tmp, sizeof tmp, "127.0.0.1:%s", arg);
		if (!out_host_port(tmp, host, sizeof host, &port, err, cap))
			return 0;
	} else if (!out_host_port(arg, host, sizeof host, &port, err, cap)) {
		return 0;
	}
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host) - 2);
		host[strlen(host) - 2] = '\0';
	}
	snprintf(port_s, sizeof port_s, "%u", port);
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, port_s, &hints, &res))) {
		snprintf(err, cap, "expected [ADDR:]PORT with a numeric address, got \"%s\" (%s)", arg, gai_strerror(rc));
		return 0;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	snprintf(shown, shown_cap, res->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port_s);
	freeaddrinfo(res);
	return 1;
}

static void *http_open(const char *arg, const struct out_cfg *cfg, char *err, size_t cap)
{
	struct http *h = calloc(1, sizeof *h);
	struct sockaddr_storage ss;
	char shown[96];

	if (!h) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	snprintf(h->id, sizeof h->id, "%s", cfg->id);
	if (!parse_addr(arg, &ss, shown, sizeof shown, err, cap)) {
		free(h);
		return NULL;
	}
	h->d = MHD_start_daemon(MHD_USE_EPOLL | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL,
	                        handle, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	                        MHD_OPTION_CONNECTION_LIMIT, (unsigned)16, MHD_OPTION_CONNECTION_TIMEOUT,
	                        (unsigned)10, MHD_OPTION_END);
	if (!h->d) {
		snprintf(err, cap, "cannot listen on %s (in use, or not an address of this host)", shown);
		free(h);
		return NULL;
	}
	if (!cfg->quiet)
		fprintf(stderr, "bmsmon: --http: serving on http://%s/\n", shown);
	return h;
}

static void http_publish(void *ctx, const cJSON *state)
{
	struct http *h = ctx;

	free(h->state);
	h->state = cJSON_PrintUnformatted(state);
}

static int http_fd(void *ctx, short *events)
{
	struct http *h = ctx;
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);

	*events = POLLIN;
	return i ? i->epoll_fd : -1;
}

static void http_service(void *ctx, uint32_t now_ms)
{
	struct http *h = ctx;

	(void)now_ms;
	MHD_run(h->d);
}

static void http_close(void *ctx)
{
	struct http *h = ctx;

	MHD_stop_daemon(h->d);
	free(h->state);
	free(h);
}

const struct out_ops out_http_ops = {
	"--http", http_open, http_publish, http_fd, http_service, http_close,
};
