/* A real board as the device under test (dut.h): its console, its reset, its relay sense wire. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "bmsrig/hil/dut.h"

#define LINE_MAX_BYTES 1024u
#define RECONNECT_MS 500u
#define RESET_PULSE_MS 100u
static const char PREFIX[] = "BMSRIG";

struct dut_board {
	struct dut_spec spec;
	struct host_serial *bms;            /* the runner's; read for the relay line only */
	struct host_serial *console;        /* NULL: shared with the BMS port, or gone */
	int lost;
	uint32_t retry_ms;
	int active_high;                   /* from the banner: the relay closes with the pin high */
	char line[LINE_MAX_BYTES];
	size_t n;
	/* demux of a shared port: how much of PREFIX the last bytes matched, or in a line */
	size_t matched;
	int in_line;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint32_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
}

/* Complete lines from p[0..n) into the line buffer; on_line for each. A line longer than the
 * buffer is cut, not split: the tail is dropped up to its newline. */
static void take_lines(struct dut_board *b, const uint8_t *p, size_t n,
                       void (*on_line)(void *ctx, const char *line), void *ctx)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			if (b->n && b->line[b->n - 1] == '\r')
				b->n--;
			b->line[b->n < sizeof b->line ? b->n : sizeof b->line - 1] = 0;
			if (on_line)
				on_line(ctx, b->line);
			b->n = 0;
		} else if (b->n < sizeof b->line - 1) {
			b->line[b->n++] = (char)p[i];
		}
	}
}

/* The banner's relay polarity, when it gives one. */
static void note_banner(struct dut_board *b, const char *line)
{
	cJSON *o = cJSON_Parse(line + strlen(b->spec.banner));
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "relay_active_high");

	if (cJSON_IsNumber(a))
		b->active_high = a->valueint != 0;
	cJSON_Delete(o);
}

struct banner_wait {
	struct dut_board *b;
	int seen;
};

static void banner_line(void *ctx, const char *line)
{
	struct banner_wait *w = ctx;

	if (!w->seen && !strncmp(line, w->b->spec.banner, strlen(w->b->spec.banner))) {
		w->seen = 1;
		note_banner(w->b, line);
	}
}

/* Reset as the boards' USB bridges expect (esptool's way): EN low while RTS is asserted and
 * DTR is not, so DTR is released for the pulse. */
static rig_rc pulse_reset(struct dut_board *b, struct host_serial *port, const char *path, char *err,
                          size_t errcap)
{
	enum host_line other = b->spec.reset_line == HOST_LINE_RTS ? HOST_LINE_DTR : HOST_LINE_RTS;
	rig_rc rc = host_serial_set_line(port, other, 0);

	if (rc == RIG_OK)
		rc = host_serial_set_line(port, (enum host_line)b->spec.reset_line, 1);
	if (rc == RIG_OK) {
		sleep_ms(RESET_PULSE_MS);
		rc = host_serial_set_line(port, (enum host_line)b->spec.reset_line, 0);
	}
	if (rc != RIG_OK)
		snprintf(err, errcap, "%s: cannot pulse the reset line: %s", path,
		         rc == RIG_ERR_UNSUPPORTED ? "the port has no modem lines (a pty?): use reset=none"
		                                   : rig_rc_str(rc));
	return rc;
}

static rig_rc wait_banner(struct dut_board *b, const char *path, char *err, size_t errcap)
{
	struct banner_wait w = { b, 0 };
	struct host_serial *port = b->console ? b->console : b->bms;
	uint32_t t0 = wall_ms();
	uint8_t buf[256], scratch[256];

	while (!w.seen && wall_ms() - t0 < b->spec.banner_ms) {
		struct pollfd p = { host_serial_fd(port), POLLIN, 0 };
		int32_t n;

		if (poll(&p, 1, 50) <= 0)
			continue;
		n = host_serial_read(port, buf, sizeof buf);
		if (n < 0) {
			snprintf(err, errcap, "%s: the port went away while waiting for the board", path);
			return RIG_ERR_IO;
		}
		if (b->console)
			take_lines(b, buf, (size_t)n, banner_line, &w);
		else
			(void)dut_board_demux(b, buf, (size_t)n, scratch, sizeof scratch, banner_line, &w);
	}
	if (!w.seen) {
		snprintf(err, errcap, "%s: no start-up banner \"%s\" within %u ms%s", path, b->spec.banner,
		         (unsigned)b->spec.banner_ms, b->spec.reset_line >= 0 ? " after the reset" : "");
		return RIG_ERR_TIMEOUT;
	}
	return RIG_OK;
}

rig_rc dut_board_open(struct dut_board **out, const struct dut_spec *d, struct host_serial *bms,
                      char *err, size_t errcap)
{
	struct dut_board *b = calloc(1, sizeof *b);
	const char *path = d->console[0] ? d->console : d->bms_port;
	rig_rc rc = RIG_OK;

	*out = NULL;
	if (!b) {
		snprintf(err, errcap, "out of memory");
		return RIG_ERR_IO;
	}
	b->spec = *d;
	b->bms = bms;
	b->active_high = 1;
	if (d->console[0])
		rc = host_serial_open(&b->console, d->console, d->console_baud, err, errcap);
	if (rc == RIG_OK && d->reset_line >= 0)
		rc = pulse_reset(b, b->console ? b->console : bms, path, err, errcap);
	if (rc == RIG_OK && d->relay_line >= 0) {
		int level;

		if ((rc = host_serial_get_line(bms, (enum host_line)d->relay_line, &level)) != RIG_OK)
			snprintf(err, errcap, "%s: cannot read the relay line: %s", d->bms_port,
			         rc == RIG_ERR_UNSUPPORTED ? "the port has no modem lines (a pty?)" : rig_rc_str(rc));
	}
	if (rc == RIG_OK && d->banner_ms)
		rc = wait_banner(b, path, err, errcap);
	if (rc != RIG_OK) {
		dut_board_close(b);
		return rc;
	}
	b->n = 0;
	*out = b;
	return RIG_OK;
}

void dut_board_close(struct dut_board *b)
{
	if (!b)
		return;
	host_serial_close(b->console);
	free(b);
}

int dut_board_fd(const struct dut_board *b)
{
	return b->console ? host_serial_fd(b->console) : -1;
}

void dut_board_pump(struct dut_board *b, uint32_t now_ms, void (*on_line)(void *ctx, const char *line),
                    void (*on_event)(void *ctx, const char *what), void *ctx)
{
	uint8_t buf[512];
	int32_t n;

	if (!b->spec.console[0])
		return;
	if (b->lost) {
		char err[300];

		if ((int32_t)(now_ms - b->retry_ms) < 0)
			return;
		b->retry_ms = now_ms + RECONNECT_MS;
		if (host_serial_open(&b->console, b->spec.console, b->spec.console_baud, err, sizeof err) != RIG_OK)
			return;
		b->lost = 0;
		b->n = 0;
		if (on_event)
			on_event(ctx, "back");
	}
	while ((n = host_serial_read(b->console, buf, sizeof buf)) > 0)
		take_lines(b, buf, (size_t)n, on_line, ctx);
	if (n < 0) {
		host_serial_close(b->console);
		b->console = NULL;
		b->lost = 1;
		b->retry_ms = now_ms + RECONNECT_MS;
		if (on_event)
			on_event(ctx, "lost");
	}
}

int dut_board_relay(struct dut_board *b)
{
	int bit;

	if (b->spec.relay_line < 0 || host_serial_get_line(b->bms, (enum host_line)b->spec.relay_line, &bit) != RIG_OK)
		return -1;
	/* A TTL adapter's modem inputs are active low: the status bit is set while the pin is low. */
	return (bit == 0) == (b->active_high != 0);
}

size_t dut_board_demux(struct dut_board *b, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                       void (*on_line)(void *ctx, const char *line), void *ctx)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (b->in_line) {
			take_lines(b, &c, 1, on_line, ctx);
			/* A line that never ends (a board reset mid-print) must not swallow the link. */
			if (c == '\n' || b->n >= sizeof b->line - 1) {
				b->in_line = 0;
				b->n = 0;
			}
			continue;
		}
		if (c == (uint8_t)PREFIX[b->matched]) {
			if (++b->matched == sizeof PREFIX - 1) {
				b->in_line = 1;
				b->matched = 0;
				b->n = 0;
				take_lines(b, (const uint8_t *)PREFIX, sizeof PREFIX - 1, NULL, NULL);
			}
			continue;
		}
		/* Not a line after all: what was held back is the BMS link's, then this byte. */
		if (b->matched && k + b->matched <= cap) {
			memcpy(out + k, PREFIX, b->matched);
			k += b->matched;
		}
		b->matched = 0;
		if (c == (uint8_t)PREFIX[0]) {
			b->matched = 1;
			continue;
		}
		if (k < cap)
			out[k++] = c;
	}
	return k;
}
