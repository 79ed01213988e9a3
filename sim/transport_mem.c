/* The in-process line (transport_mem.h). */
#include <stdlib.h>
#include <string.h>

#include "bmsrig/sim/transport_mem.h"

#define LINE_BYTES 8192u
#define REQ_SLOTS 32u
#define REQ_BYTES 512u

/* A request from the client on its way to the emulator: a timer per request, so several may be
 * on the line at once (a client that gave up on one and sent the next). */
struct req_slot {
	struct sim_mem *m;
	int used;
	size_t len;
	uint8_t bytes[REQ_BYTES];
};

struct sim_mem {
	struct host_loop *loop;
	struct sim *sim;
	struct sim_transport emulator;
	/* bytes from the emulator to the client, read when it next steps */
	uint8_t buf[LINE_BYTES];
	size_t head, len;
	struct req_slot req[REQ_SLOTS];
	void (*on_bytes)(void *ctx);
	void *on_bytes_ctx;
};

/* ---- the emulator's side: nothing to poll, requests come through sim_input ---------------- */

static int emu_fd(const void *h) { (void)h; return -1; }
static int32_t emu_read(void *h, uint8_t *p, uint16_t cap) { (void)h; (void)p; (void)cap; return 0; }

/* The ring's bytes as at most two runs, the second from its start: a copy in or out is then two
 * memcpy, not a modulo per byte. */
static size_t run_len(size_t at, size_t n)
{
	return n < LINE_BYTES - at ? n : LINE_BYTES - at;
}

static int32_t emu_write(void *h, const uint8_t *p, uint16_t n)
{
	struct sim_mem *m = h;
	/* What does not fit is lost, as on a line whose reader has stopped. */
	size_t k = n < LINE_BYTES - m->len ? n : LINE_BYTES - m->len;
	size_t tail = (m->head + m->len) % LINE_BYTES, first = run_len(tail, k);

	memcpy(m->buf + tail, p, first);
	memcpy(m->buf, p + first, k - first);
	m->len += k;
	if (n && m->on_bytes)
		m->on_bytes(m->on_bytes_ctx);
	return n;
}

/* ---- the client's side --------------------------------------------------------------------- */

static int32_t client_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct sim_mem *m = ctx;
	size_t n = m->len < cap ? m->len : cap, first = run_len(m->head, n);

	memcpy(p, m->buf + m->head, first);
	memcpy(p + first, m->buf, n - first);
	m->head = (m->head + n) % LINE_BYTES;
	m->len -= n;
	return (int32_t)n;
}

static int deliver_request(struct host_loop *loop, uint32_t id, void *ctx)
{
	struct req_slot *s = ctx;

	(void)loop;
	(void)id;
	sim_input(s->m->sim, s->bytes, s->len);
	s->used = 0;
	return 0;
}

static int32_t client_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct sim_mem *m = ctx;
	uint32_t ms = sim_wire_ms(m->sim, n);
	unsigned i;

	for (i = 0; i < REQ_SLOTS; i++)
		if (!m->req[i].used)
			break;
	if (i == REQ_SLOTS || n > sizeof m->req[i].bytes)
		return RIG_ERR_SPACE;
	m->req[i] = (struct req_slot){ m, 1, n, { 0 } };
	memcpy(m->req[i].bytes, p, n);
	if (!host_loop_add_timer(m->loop, ms, deliver_request, &m->req[i])) {
		m->req[i].used = 0;
		return RIG_ERR_SPACE;
	}
	return n;
}

rig_rc sim_mem_new(struct sim_mem **out)
{
	struct sim_mem *m = calloc(1, sizeof *m);

	*out = m;
	if (!m)
		return RIG_ERR_SPACE;
	m->emulator = (struct sim_transport) {
		.h = m, .fd = emu_fd, .read = emu_read, .write = emu_write,
		.path = "in-process",
	};
	return RIG_OK;
}

void sim_mem_free(struct sim_mem *m)
{
	free(m);
}

const struct sim_transport *sim_mem_emulator(struct sim_mem *m)
{
	return &m->emulator;
}

void sim_mem_attach(struct sim_mem *m, struct host_loop *loop, struct sim *sim)
{
	m->loop = loop;
	m->sim = sim;
}

struct rig_io sim_mem_client(struct sim_mem *m)
{
	return (struct rig_io){ m, client_write, client_read };
}

void sim_mem_on_bytes(struct sim_mem *m, void (*on_bytes)(void *ctx), void *ctx)
{
	m->on_bytes = on_bytes;
	m->on_bytes_ctx = ctx;
}
