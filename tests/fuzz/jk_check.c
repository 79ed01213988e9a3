#include "jk_check.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/sim/jk_json.h"

static void check_wire(const uint8_t *w, size_t n, int must_parse,
		       void (*check_frame)(const struct jk_frame *f))
{
	struct jk_frame f;
	rig_rc rc = rig_jk_frame_parse(w, n, &f);
	cJSON *o = jk_wire_json(w, n);

	CHECK(o && cJSON_HasObjectItem(o, "kind") == (rc == RIG_OK));
	CHECK(rc == RIG_OK || cJSON_HasObjectItem(o, "error"));
	cJSON_Delete(o);
	CHECK(rc == RIG_OK || !must_parse);
	if (rc != RIG_OK)
		return;
	CHECK(jk_frame_check(&f) == RIG_OK);
	check_frame(&f);
}

void fuzz_jk_check_wire_input(const uint8_t *data, size_t size, int as_request,
			      void (*check_frame)(const struct jk_frame *f))
{
	/* Byte 8 picks the command word from its side's list. */
	static const uint8_t request_cmds[] = { JK_CMD_WRITE, JK_CMD_READ, JK_CMD_READ_ALL,
	                                        JK_CMD_PASSWORD, JK_CMD_ACTIVATE };
	static const uint8_t reply_cmds[] = { JK_CMD_READ_ALL, JK_CMD_READ, JK_CMD_WRITE,
	                                      JK_CMD_ACTIVATE, JK_CMD_PASSWORD };
	const uint8_t *cmds = as_request ? request_cmds : reply_cmds;
	struct jk_frame f;
	uint8_t w[JK_FRAME_MAX];
	size_t n;

	check_wire(data, size, 0, check_frame);
	if (size <= JK_OVERHEAD)
		return;
	memset(&f, 0, sizeof f);
	f.cmd = cmds[data[8] % sizeof request_cmds];
	f.source = data[9];
	f.type = as_request ? JK_TYPE_REQUEST : (data[10] & 1u) ? JK_TYPE_UPLOAD : JK_TYPE_REPLY;
	f.len = (uint16_t)(size - JK_OVERHEAD > JK_INFO_MAX ? JK_INFO_MAX : size - JK_OVERHEAD);
	memcpy(f.info, data + JK_HEAD_LEN, f.len);
	CHECK(rig_jk_frame_encode(&f, w, sizeof w, &n) == RIG_OK);
	check_wire(w, n, 1, check_frame);
}
