/* One emulated BMS on a transport. Requests are framed with the codec's assembler, answered
 * by the personality, and the reply goes out after the personality's latency on a timer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bmsrig/bms.h"
#include "bmsrig/pty.h"
#include "bmsrig/serial.h"
#include "bmsrig/sim.h"

/* The two transports look alike to the emulator. */
struct sim_port {
	void *h;
	int (*fd)(const void *h);
	int32_t (*read)(void *h, uint8_t *p, uint16_t cap);
	int32_t (*write)(void *h, const uint8_t *p, uint16_t n);
	void (*close)(void *h);
	const char *path;
};

struct pending_reply {
	struct sim *sim;
	uint32_t timer;
	size_t len;
	uint8_t wire[JBD_FRAME_MAX];
	struct pending_reply *next;
};

struct sim {
	struct rig_loop *loop;
	struct sim_cfg cfg;
	struct sim_port port;
	struct model model;
	struct bms bms;
	struct jbd_personality pers;
	struct jbd_rx rx;
	uint32_t step_timer;
	uint32_t last_step_ms;
	struct pending_reply *pending;
	void (*frame_cb)(void *ctx, enum sim_dir dir, const struct jbd_frame *f);
	void *frame_ctx;
	void (*truth_cb)(void *ctx, const struct truth_sample *t);
	void *truth_ctx;
	char state_path[4096];
};

static int pty_fd(const void *h) { return rig_pty_fd(h); }
static int32_t pty_read(void *h, uint8_t *p, uint16_t cap) { return rig_pty_read(h, p, cap); }
static int32_t pty_write(void *h, const uint8_t *p, uint16_t n) { return rig_pty_write(h, p, n); }
static void pty_close(void *h) { rig_pty_close(h); }
static int ser_fd(const void *h) { return rig_serial_fd(h); }
static int32_t ser_read(void *h, uint8_t *p, uint16_t cap) { return rig_serial_read(h, p, cap); }
static int32_t ser_write(void *h, const uint8_t *p, uint16_t n) { return rig_serial_write(h, p, n); }
static void ser_close(void *h) { rig_serial_close(h); }

static rig_rc port_open(struct sim_port *p, const struct sim_cfg *cfg, char *err, size_t errcap)
{
	rig_rc rc;

	if (cfg->serial_path) {
		struct rig_serial *s;

		rc = rig_serial_open(&s, cfg->serial_path, cfg->baud, err, errcap);
		if (rc != RIG_OK)
			return rc;
		*p = (struct sim_port){ s, ser_fd, ser_read, ser_write, ser_close, cfg->serial_path };
	} else {
		struct rig_pty *t;

		rc = rig_pty_open(&t, cfg->link_path, cfg->baud, err, errcap);
		if (rc != RIG_OK)
			return rc;
		*p = (struct sim_port){ t, pty_fd, pty_read, pty_write, pty_close, rig_pty_path(t) };
	}
	return RIG_OK;
}

void sim_truth(const struct sim *s, enum truth_part part, struct truth_sample *t)
{
	const struct model *m = &s->model;
	unsigned i;

	memset(t, 0, sizeof *t);
	t->t_ms = rig_loop_now_ms(s->loop);
	t->part = part;
	t->pack_mV = model_pack_V(m) * 1000.0;
	t->current_mA = m->pack_I_A * 1000.0;
	t->temp_count = m->cfg.ntc_count;
	for (i = 0; i < t->temp_count && i < PACK_TEMPS_MAX; i++)
		t->temp_dK[i] = PACK_DK_ZERO_C + 10.0 * model_temp_C(m, i);
	t->cell_count = m->cfg.cells;
	for (i = 0; i < t->cell_count && i < PACK_CELLS_MAX; i++)
		t->cell_mV[i] = model_cell_V(m, i) * 1000.0;
}

static int send_reply(struct rig_loop *loop, uint32_t id, void *ctx)
{
	struct pending_reply *r = ctx, **pp;
	struct sim *s = r->sim;

	(void)loop;
	(void)id;
	(void)s->port.write(s->port.h, r->wire, (uint16_t)r->len);
	for (pp = &s->pending; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	free(r);
	return 0;
}

static void answer(struct sim *s, const struct jbd_frame *req)
{
	uint32_t now = rig_loop_now_ms(s->loop);
	struct jbd_frame reply;
	struct pending_reply *r;

	if (s->frame_cb)
		s->frame_cb(s->frame_ctx, SIM_RX, req);
	if (!jbd_personality_handle(&s->pers, req, now, &reply))
		return;
	if (s->truth_cb && (reply.reg == JBD_REG_BASIC || reply.reg == JBD_REG_CELLS) &&
	    reply.status == JBD_STATUS_OK) {
		struct truth_sample t;

		sim_truth(s, reply.reg == JBD_REG_BASIC ? TRUTH_PACK : TRUTH_CELLS, &t);
		s->truth_cb(s->truth_ctx, &t);
	}
	if (s->frame_cb)
		s->frame_cb(s->frame_ctx, SIM_TX, &reply);
	r = calloc(1, sizeof *r);
	if (!r || jbd_frame_encode(&reply, r->wire, sizeof r->wire, &r->len) != RIG_OK) {
		free(r);
		return;
	}
	r->sim = s;
	r->timer = rig_loop_add_timer(s->loop, s->pers.q.reply_latency_ms, send_reply, r);
	if (!r->timer) {
		free(r);
		return;
	}
	r->next = s->pending;
	s->pending = r;
}

static void on_readable(struct rig_loop *loop, int fd, void *ctx)
{
	struct sim *s = ctx;
	uint8_t buf[256];
	int32_t n;

	(void)fd;
	while ((n = s->port.read(s->port.h, buf, sizeof buf)) > 0) {
		const uint8_t *p = buf;
		size_t left = (size_t)n;
		struct jbd_frame f;

		while (left) {
			size_t used = jbd_rx_feed(&s->rx, p, left, rig_loop_now_ms(loop));

			p += used;
			left -= used;
			while (jbd_rx_next(&s->rx, &f) == RIG_OK)
				answer(s, &f);
		}
	}
}

static int step(struct rig_loop *loop, uint32_t id, void *ctx)
{
	struct sim *s = ctx;
	uint32_t now = rig_loop_now_ms(loop);

	(void)id;
	bms_step(&s->bms, &s->model, (now - s->last_step_ms) / 1000.0, s->cfg.current_A);
	s->last_step_ms = now;
	return SIM_STEP_MS;
}

static int save_state(void *ctx, const struct bms *b)
{
	struct sim *s = ctx;
	char err[512];

	if (bms_state_save(b, s->state_path, err, sizeof err) != RIG_OK) {
		fprintf(stderr, "bmssim: %s\n", err);
		return -1;
	}
	return 0;
}

rig_rc sim_open(struct sim **out, struct rig_loop *loop, const struct sim_cfg *cfg,
                char *err, size_t errcap)
{
	struct sim *s = calloc(1, sizeof *s);
	rig_rc rc;

	*out = NULL;
	if (!s) {
		snprintf(err, errcap, "out of memory");
		return RIG_ERR_IO;
	}
	s->loop = loop;
	s->cfg = *cfg;
	rc = model_init(&s->model, &cfg->model);
	if (rc == RIG_OK)
		rc = bms_init(&s->bms, &s->model);
	if (rc != RIG_OK) {
		snprintf(err, errcap, "pack: %s", rig_rc_str(rc));
		free(s);
		return rc;
	}
	if (cfg->state_path) {
		snprintf(s->state_path, sizeof s->state_path, "%s", cfg->state_path);
		/* A missing file is a first start; anything else wrong with it is the user's to fix. */
		if (access(cfg->state_path, F_OK) == 0) {
			uint16_t cells = 0;

			rc = bms_state_load(&s->bms, cfg->state_path, err, errcap);
			if (rc == RIG_OK && bms_reg_get(&s->bms, JBD_REG_CELL_COUNT, &cells) == RIG_OK &&
			    cells != cfg->model.cells) {
				/* Served anyway it would read 0 mV on the missing sense lines and trip. */
				snprintf(err, errcap, "%s: register 0x2f: expected %u cells to match the pack, got %u",
				         cfg->state_path, cfg->model.cells, cells);
				rc = RIG_ERR_ARG;
			}
			if (rc != RIG_OK) {
				free(s);
				return rc;
			}
			bms_restart(&s->bms, &s->model);   /* starting again on saved settings is a power cycle */
		}
	}
	jbd_personality_init(&s->pers, &s->bms, &cfg->quirks);
	if (cfg->state_path)
		jbd_personality_on_save(&s->pers, save_state, s);
	jbd_rx_init(&s->rx, 200);
	rc = port_open(&s->port, cfg, err, errcap);
	if (rc != RIG_OK) {
		free(s);
		return rc;
	}
	if (rig_loop_add_fd(loop, s->port.fd(s->port.h), on_readable, s) != RIG_OK ||
	    !(s->step_timer = rig_loop_add_timer(loop, SIM_STEP_MS, step, s))) {
		snprintf(err, errcap, "event loop: out of memory");
		sim_close(s);
		return RIG_ERR_IO;
	}
	s->last_step_ms = rig_loop_now_ms(loop);
	*out = s;
	return RIG_OK;
}

void sim_close(struct sim *s)
{
	if (!s)
		return;
	while (s->pending) {
		struct pending_reply *r = s->pending;

		s->pending = r->next;
		rig_loop_del_timer(s->loop, r->timer);
		free(r);
	}
	if (s->step_timer)
		rig_loop_del_timer(s->loop, s->step_timer);
	rig_loop_del_fd(s->loop, s->port.fd(s->port.h));
	s->port.close(s->port.h);
	free(s);
}

const char *sim_port(const struct sim *s)
{
	return s->port.path;
}

void sim_on_frame(struct sim *s, void (*cb)(void *ctx, enum sim_dir dir, const struct jbd_frame *f),
                  void *ctx)
{
	s->frame_cb = cb;
	s->frame_ctx = ctx;
}

void sim_on_truth(struct sim *s, void (*cb)(void *ctx, const struct truth_sample *t), void *ctx)
{
	s->truth_cb = cb;
	s->truth_ctx = ctx;
}

const struct model *sim_model(const struct sim *s)
{
	return &s->model;
}

const struct bms *sim_bms(const struct sim *s)
{
	return &s->bms;
}
