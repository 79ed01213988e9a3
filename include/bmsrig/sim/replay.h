/*
 * Replaying a trace (`bmssim replay`): the BMS side of a recorded run, served again on a pty.
 * A trace from `bmssim run --trace` holds every frame the emulated BMS received and sent; here
 * each received frame and the replies that followed it form one exchange. A client's request
 * is answered with the replies of the next exchange whose request matches it byte for byte, at
 * the recorded delays, so a monitor under test sees exactly what it saw in the recorded run:
 * the same values, the same faults. Useful to hand a failing run to someone with a fixed DUT.
 * A capture log (lib/capture.h: `bmssim serve --capture`, `bmsctl tap`) is read the same way:
 * each rx line opens an exchange and the tx lines after it are its replies, their delays taken
 * from the time stamps.
 */
#ifndef BMSRIG_REPLAY_H
#define BMSRIG_REPLAY_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/rc.h"

struct replay_reply {
	uint32_t delay_ms;             /* after the request, as recorded */
	size_t len;
	uint8_t *bytes;
};

struct replay_exchange {
	uint32_t t_ms;                 /* of the request, in the recorded run */
	size_t len;
	uint8_t *request;
	unsigned n_replies;
	struct replay_reply *replies;
};

struct replay {
	char scenario[96], protocol[32];
	unsigned n;
	struct replay_exchange *ex;
	unsigned next;                 /* where the search for the next request starts */
	uint8_t pending[1024];         /* client bytes not yet matched */
	size_t n_pending;
	uint32_t answered, unmatched_bytes;
	/* Set by replay_load when it skipped a half-written last line ("PATH:LINE: warning: ..."),
	 * else "". */
	char warning[512];
};

/* Reads the frames of one run from a trace: the first scenario in the file, or the one named;
 * or, when the file starts with the capture header, every frame of the capture (scenario is
 * then ignored, r->scenario is "capture" and r->protocol the header's).
 * Errors are one line, "PATH:LINE: what was expected". A last line that is not JSON (a run
 * killed while writing it) is skipped with r->warning set; anywhere else it is an error. */
rig_rc replay_load(struct replay *r, const char *path, const char *scenario, char *err, size_t errcap);
void replay_free(struct replay *r);

/*
 * Client bytes in. When the bytes seen so far end with the request of an exchange at or after
 * the cursor (wrapping once around the trace), that exchange is returned (the cursor moves past
 * it and the bytes are consumed); NULL while nothing matches. Bytes that can never match are
 * dropped from the front as more arrive.
 */
const struct replay_exchange *replay_input(struct replay *r, const uint8_t *p, size_t n);

#endif
