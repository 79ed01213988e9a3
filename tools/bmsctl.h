/* bmsctl's parts (docs/bmsctl.md): the command line (bmsctl.c), one request-and-answer
 * exchange on the port (bmsctl_link.c), and one file per protocol family (bmsctl_jbd.c,
 * bmsctl_daly.c, bmsctl_jk.c) filling a struct ctl_proto row. A row reaches the neutral settings
 * (include/bmsrig/sim/bms.h) through the emulator's own maps from names to registers and ids,
 * so the tool and the emulator cannot disagree on a scale. */
#ifndef BMSRIG_TOOLS_BMSCTL_H
#define BMSRIG_TOOLS_BMSCTL_H

#include <stddef.h>
#include <stdint.h>

#include "bmsrig/core/daly.h"
#include "bmsrig/core/jbd.h"
#include "bmsrig/core/jk.h"
#include "bmsrig/core/jk_ble.h"
#include "bmsrig/core/jk_pb.h"
#include "bmsrig/core/pack_state.h"
#include "bmsrig/lib/stream.h"
#include "bmsrig/sim/bms.h"

#define CTL_N_OF(a) (sizeof (a) / sizeof (a)[0])
#define CTL_WIRE_REPLY_MS 1000u
#define CTL_BLE_REPLY_MS 3000u  /* over the 1.5-2 s a Bluetooth module takes to connect */
#define CTL_TRIES 3u

struct ctl_proto;

struct ctl {
	const struct ctl_proto *proto;
	struct host_stream s;
	int json, quiet, verbose, yes;
	struct jbd_rx jrx;
	struct daly_rx drx;
	struct jk_rx krx;
	struct jk_ble_rx brx;
	struct jk_pb_rx prx;
	int jkb_layout;        /* enum jk_ble_layout, from the first settings record; -1 before */
	struct bms local;      /* JBD: the registers as read, through the sim's register map */
};

/* What info reports, protocol-neutral. */
struct ctl_info {
	char model[64];
	uint32_t pack_mV, remain_mAh, full_mAh;
	int32_t current_mA;
	unsigned soc_pct, cycles, fet_chg, fet_dsg;
	uint32_t prot, bal_mask;
	unsigned cell_count, temp_count;
	uint16_t cell_mV[PACK_CELLS_MAX];
	uint16_t temp_dK[PACK_TEMPS_MAX];
};

/* One protocol: how its settings and state are reached. A NULL hook: the protocol has no such
 * command. read and write return 0, or -1 with the message printed; write returns -2 when a
 * value is refused before anything is sent, checks every value first and reads each one back
 * into back. chg/dsg for fets: 1 on, 0 off, -1 as now. Calibration registers are write-only
 * on the boards that have them: cal has no read-back. */
struct ctl_proto {
	const char *name;
	uint32_t baud;
	uint32_t reply_ms;     /* the wait for an answer; a Bluetooth module connects first */
	int (*has)(unsigned id);
	int (*read)(struct ctl *c, const unsigned *ids, size_t n, int32_t *out);
	int (*write)(struct ctl *c, const unsigned *ids, const int32_t *v, size_t n, int32_t *back);
	int (*info)(struct ctl *c, struct ctl_info *in);
	int (*fets)(struct ctl *c, int chg, int dsg);
	int (*soc)(struct ctl *c, unsigned pct);
	/* name without "=VALUE" when has_value is 0. -3: no such calibration (usage), -2: the
	 * value refused before sending, -1: the device. */
	int (*cal)(struct ctl *c, const char *name, int has_value, int32_t value);
};

extern const struct ctl_proto ctl_jbd, ctl_jbd_ble, ctl_daly, ctl_daly_ble, ctl_jk, ctl_jk_ble, ctl_jk_pb;

/* `bmsctl tap ...` (tools/bmsctl_tap.c): argv[0] is "tap". */
int bmsctl_tap_main(int argc, char **argv);

/* Receives what came in: p[0..n) (n = 0: a new try starts, reset the assembler). Returns 1
 * when the answer is complete. */
typedef int ctl_take_fn(struct ctl *c, const uint8_t *p, size_t n, void *ctx);

/* Sends wire[0..n) and hands what comes back to take until it says the answer is complete,
 * waiting the protocol's reply_ms and asking up to CTL_TRIES times (a lost request, a Bluetooth
 * module still connecting). 0, or -1 with "bmsctl: PROTO: no answer for WHAT" printed. */
int ctl_exchange(struct ctl *c, const uint8_t *wire, size_t n, ctl_take_fn *take, void *ctx,
                 const char *what);
/* With -v: "bmsctl: " and the line on stderr. */
void ctl_verbose(const struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint32_t ctl_now_ms(void);
/* The neutral view's fields into info (model untouched). */
void ctl_info_from_pack(struct ctl_info *in, const struct pack_state *s);

#endif
