/* bmsctl's one exchange on the port: send, wait, resend (bmsctl.h). */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bmsctl.h"

uint32_t ctl_now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint32_t)((uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u);
}

void ctl_verbose(const struct ctl *c, const char *fmt, ...)
{
	va_list ap;
	if (!c->verbose)
		return;
	fprintf(stderr, "bmsctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int send_all(struct ctl *c, const uint8_t *p, size_t n)
{
	while (n > 0) {
		int32_t w = c->s.write(c->s.h, p, (uint16_t)(n > 0xFFFFu ? 0xFFFFu : n));
		if (w < 0)
			return -1;
		if (w == 0) {         /* the line is full: wait until it drains */
			struct pollfd pf = { .fd = c->s.fd(c->s.h), .events = POLLOUT };
			(void)poll(&pf, 1, 50);
			continue;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ctl_exchange(struct ctl *c, const uint8_t *wire, size_t n, ctl_take_fn *take, void *ctx,
                 const char *what)
{
	uint8_t in[512];

	for (unsigned t = 0; t < CTL_TRIES; t++) {
		(void)take(c, NULL, 0, ctx);
		if (send_all(c, wire, n) != 0) {
			fprintf(stderr, "bmsctl: %s: cannot write to %s\n", c->proto->name, c->s.path);
			return -1;
		}
		uint32_t start = ctl_now_ms();
		while ((uint32_t)(ctl_now_ms() - start) < c->proto->reply_ms) {
			struct pollfd pf = { .fd = c->s.fd(c->s.h), .events = POLLIN };
			if (c->s.tick)
				c->s.tick(c->s.h);
			if (poll(&pf, 1, 50) <= 0)
				continue;
			int32_t got = c->s.read(c->s.h, in, sizeof in);
			if (got < 0) {   /* the line is gone (a pty's other end closed): no answer comes */
				fprintf(stderr, "bmsctl: %s: %s closed while waiting for %s\n", c->proto->name,
				        c->s.path, what);
				return -1;
			}
			if (got > 0 && take(c, in, (size_t)got, ctx))
				return 0;
		}
		ctl_verbose(c, "%s: no full answer for %s, asking again", c->proto->name, what);
	}
	fprintf(stderr, "bmsctl: %s: no answer for %s\n", c->proto->name, what);
	return -1;
}

void ctl_info_from_pack(struct ctl_info *in, const struct pack_state *s)
{
	in->pack_mV = s->pack_mV;
	in->current_mA = s->current_mA;
	in->remain_mAh = s->remain_mAh;
	in->full_mAh = s->full_mAh;
	in->soc_pct = s->soc_pct;
	in->cycles = s->cycles;
	in->fet_chg = s->fet_chg;
	in->fet_dsg = s->fet_dsg;
	in->prot = s->prot;
	in->bal_mask = s->bal_mask;
	in->cell_count = s->cell_count;
	memcpy(in->cell_mV, s->cell_mV, sizeof in->cell_mV);
	in->temp_count = s->temp_count;
	memcpy(in->temp_dK, s->temp_dK, sizeof in->temp_dK);
}
