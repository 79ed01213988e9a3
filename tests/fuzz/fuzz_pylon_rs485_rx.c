/*
 * libFuzzer: the Pylontech RS485 receive assembler fed the way links deliver (fuzz_rx_run's
 * control byte, then the byte stream). abort() unless every stream byte is in exactly one of a
 * delivered frame, skipped_bytes or the buffer (never over PYLON_FRAME_MAX); each delivered
 * frame encodes to as many bytes as it came in and parses back to itself; its JSON view prints
 * and, read as the answer to every command, either carries "error" or rebuilds byte for byte.
 * A frame refused for its checksum or LENGTH still hands back a header.
 * Seeds: tests/fuzz/corpus/fuzz_pylon_rs485_rx/ (a control byte, then captured frames and noise).
 */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/pylon_rs485.h"
#include "bmsrig/sim/pylon_rs485_json.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int cmds[] = { -1, PYLON_CMD_ANALOG, PYLON_CMD_ALARM, PYLON_CMD_SYS_PARAM, PYLON_CMD_PROTO_VER,
                            PYLON_CMD_MFR_INFO, PYLON_CMD_MGMT, PYLON_CMD_SERIAL, PYLON_CMD_SYS_BASIC,
                            PYLON_CMD_SYS_ANALOG, PYLON_CMD_SYS_ALARM, PYLON_CMD_SYS_MGMT };

static void check_frame(const struct pylon_frame *f)
{
	static uint8_t w[PYLON_FRAME_MAX], w2[PYLON_FRAME_MAX];
	static struct pylon_frame back, re;
	size_t n = 0, n2 = 0, i;

	CHECK(rig_pylon_frame_encode(f, w, sizeof w, &n) == RIG_OK);
	CHECK(n == PYLON_OVERHEAD + 2u * f->info_len);
	CHECK(rig_pylon_frame_parse(w, n, &back) == RIG_OK);
	CHECK(back.ver == f->ver && back.adr == f->adr && back.cid1 == f->cid1 && back.cid2 == f->cid2 &&
	      back.info_len == f->info_len && !memcmp(back.info, f->info, f->info_len));
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		cJSON *o = pylon_rs485_frame_json(f, cmds[i]);
		int has_error;
		rig_rc rc;

		CHECK(o);
		fuzz_check_json_prints(o, 0);
		has_error = cJSON_HasObjectItem(o, "error");
		cJSON_Delete(o);
		rc = pylon_rs485_frame_rebuild(f, cmds[i], &re);
		if (rc != RIG_OK) {
			/* Only an undecodable payload, or one no typed view covers, fails to rebuild. */
			CHECK(has_error || rc == RIG_ERR_UNSUPPORTED);
			continue;
		}
		CHECK(!has_error);
		CHECK(rig_pylon_frame_encode(&re, w2, sizeof w2, &n2) == RIG_OK);
		CHECK(n2 == n && !memcmp(w, w2, n));
	}
}

static void init(void *rx, uint32_t gap_ms)
{
	rig_pylon_rx_init(rx, gap_ms);
}

static size_t feed(void *rx, const uint8_t *p, size_t n, uint32_t now_ms)
{
	return rig_pylon_rx_feed(rx, p, n, now_ms);
}

static size_t drain(void *ctx, struct fuzz_rx_counts *c)
{
	struct pylon_rx *rx = ctx;
	static struct pylon_frame f;
	size_t framed = 0;
	rig_rc rc;

	while ((rc = rig_pylon_rx_next(rx, &f)) != RIG_MORE) {
		if (rc != RIG_OK) {
			CHECK(rc == RIG_ERR_CHECKSUM || rc == RIG_ERR_LENGTH);
			CHECK(f.info_len == 0);
			continue;
		}
		framed += PYLON_OVERHEAD + 2u * f.info_len;
		check_frame(&f);
	}
	CHECK(rx->b.have <= PYLON_FRAME_MAX);
	*c = (struct fuzz_rx_counts){ rx->b.have, rx->b.skipped_bytes, rx->b.gap_ms };
	return framed;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fuzz_rx_ops ops = { sizeof(struct pylon_rx), init, feed, drain };
	static struct pylon_rx rx;

	fuzz_rx_run(data, size, &rx, &ops);
	return 0;
}
