/* `--dut KIND` (dut.h): the kind, and a board's options as key=value after the port. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsrig/hil/dut.h"
#include "bmsrig/lib/cli.h"

static const char *const kind_names[] = { "inproc", "host", "qemu", "serial" };

const char *dut_kind_name(enum dut_kind k)
{
	return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

static int set_text(char *dst, size_t cap, const char *v, size_t n)
{
	if (n == 0 || n >= cap)
		return 0;
	memcpy(dst, v, n);
	dst[n] = 0;
	return 1;
}

static int set_u32(uint32_t *dst, const char *v, size_t n, uint32_t max)
{
	char buf[16], *end;
	unsigned long x;

	if (!set_text(buf, sizeof buf, v, n) || buf[0] < '0' || buf[0] > '9')
		return 0;
	x = strtoul(buf, &end, 10);
	if (*end || x > max)
		return 0;
	*dst = (uint32_t)x;
	return 1;
}

/* relay= takes an input line, reset= an output or "none". */
static int set_line(int *dst, const char *v, size_t n, int want_input)
{
	char buf[8];
	int line;

	if (!set_text(buf, sizeof buf, v, n))
		return 0;
	if (!want_input && !strcmp(buf, "none")) {
		*dst = -1;
		return 1;
	}
	line = host_line_find(buf);
	if (line < 0 || host_line_is_input((enum host_line)line) != want_input)
		return 0;
	*dst = line;
	return 1;
}

/* One option of serial:...; 0 with why filled when it is wrong. */
static int set_option(struct dut_spec *d, const char *k, size_t kn, const char *v, size_t vn,
                      char *why, size_t whycap)
{
	static const struct { const char *key, *expected; } opts[] = {
		{ "console", "a port path" }, { "relay", "one of cts, dsr, dcd, ri" },
		{ "reset", "one of dtr, rts, none" }, { "banner", "1..63 characters" },
		{ "banner_ms", "0..600000" }, { "console_baud", "a rate up to 4000000" },
	};
	size_t i;
	int ok = 0;

	for (i = 0; i < sizeof opts / sizeof opts[0]; i++)
		if (strlen(opts[i].key) == kn && !strncmp(opts[i].key, k, kn))
			break;
	switch (i) {
	case 0: ok = set_text(d->console, sizeof d->console, v, vn); break;
	case 1: ok = set_line(&d->relay_line, v, vn, 1); break;
	case 2: ok = set_line(&d->reset_line, v, vn, 0); break;
	case 3: ok = set_text(d->banner, sizeof d->banner, v, vn); break;
	case 4: ok = set_u32(&d->banner_ms, v, vn, 600000); break;
	case 5: ok = set_u32(&d->console_baud, v, vn, 4000000) && host_serial_baud_ok(d->console_baud); break;
	default:
		snprintf(why, whycap, "unknown option \"%.*s\" (console, relay, reset, banner, banner_ms, "
		         "console_baud)", (int)kn, k);
		return 0;
	}
	if (!ok)
		snprintf(why, whycap, "%s: expected %s, got \"%.*s\"", opts[i].key, opts[i].expected, (int)vn, v);
	return ok;
}

rig_rc dut_spec_parse(struct dut_spec *d, const char *text, char *err, size_t errcap)
{
	const char *p, *end;
	char why[200];
	size_t i;

	memset(d, 0, sizeof *d);
	d->relay_line = -1;
	d->reset_line = -1;
	d->console_baud = 115200;
	d->banner_ms = 10000;
	snprintf(d->banner, sizeof d->banner, "%s", DUT_BANNER_DEFAULT);
	for (i = 0; i < 3; i++)
		if (!strcmp(text, kind_names[i])) {
			d->kind = (enum dut_kind)i;
			return RIG_OK;
		}
	if (strncmp(text, "serial:", 7)) {
		snprintf(err, errcap, "--dut: expected inproc, host, qemu or serial:PORT[,key=value...], got \"%s\"", text);
		cli_one_line(err);        /* it quotes the argument, which may hold a newline */
		return RIG_ERR_ARG;
	}
	d->kind = DUT_SERIAL;
	p = text + 7;
	end = strchr(p, ',');
	if (!set_text(d->bms_port, sizeof d->bms_port, p, end ? (size_t)(end - p) : strlen(p))) {
		snprintf(err, errcap, "--dut serial: expected the BMS port's path after \"serial:\"");
		return RIG_ERR_ARG;
	}
	while (end) {
		const char *k = end + 1, *eq;

		end = strchr(k, ',');
		eq = memchr(k, '=', end ? (size_t)(end - k) : strlen(k));
		if (!eq) {
			snprintf(err, errcap, "--dut serial: expected key=value, got \"%.*s\"",
			         (int)(end ? (size_t)(end - k) : strlen(k)), k);
			cli_one_line(err);
			return RIG_ERR_ARG;
		}
		if (!set_option(d, k, (size_t)(eq - k), eq + 1, end ? (size_t)(end - eq - 1) : strlen(eq + 1),
		                why, sizeof why)) {
			snprintf(err, errcap, "--dut serial: %s", why);
			cli_one_line(err);
			return RIG_ERR_ARG;
		}
	}
	return RIG_OK;
}
