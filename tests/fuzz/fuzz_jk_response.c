/*
 * libFuzzer: the input as one JK "4E 57" frame of wire bytes, through jk_frame_parse,
 * jk_wire_json and, for every frame it accepts, jk_frame_check (parse -> encode gives the
 * input; the JSON prints as valid UTF-8, parses back equal and says "error" exactly when the
 * typed rebuild fails; the rebuild gives the input) and the client's jk_to_pack_state.
 * Mutations rarely keep a checksum right, so the input is also framed afresh as a reply
 * (info = the input from byte 11 on, command word and type chosen from bytes 8 and 10,
 * length, end byte and checksum by the encoder): that one must parse and reaches the item
 * walk. abort() on any broken promise.
 * Seeds: tests/fuzz/corpus/fuzz_jk_response/ (captured frames).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/jk.h"
#include "bmsrig/jk_client.h"
#include "bmsrig/jk_json.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_items(const struct jk_frame *f)
{
	struct jk_data d;
	struct pack_state s;

	if (jk_data_decode(f, &d) != RIG_OK)
		return;
	CHECK(d.n_items <= JK_ID_COUNT && d.cell_count <= JK_CELLS_MAX);
	memset(&s, 0xA5, sizeof s);
	if (jk_to_pack_state(&d, &s) == RIG_OK)
		CHECK(s.cell_count >= 1 && s.cell_count <= PACK_CELLS_MAX && s.temp_count <= 2 &&
		      s.soc_pct <= 100 && s.remain_mAh <= s.full_mAh);
}

static void check_wire(const uint8_t *w, size_t n, int must_parse)
{
	struct jk_frame f;
	rig_rc rc = jk_frame_parse(w, n, &f);
	cJSON *o = jk_wire_json(w, n);

	CHECK(o && cJSON_HasObjectItem(o, "kind") == (rc == RIG_OK));
	CHECK(rc == RIG_OK || cJSON_HasObjectItem(o, "error"));
	cJSON_Delete(o);
	CHECK(rc == RIG_OK || !must_parse);
	if (rc != RIG_OK)
		return;
	CHECK(jk_frame_check(&f) == RIG_OK);
	check_items(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t cmds[] = { JK_CMD_READ_ALL, JK_CMD_READ, JK_CMD_WRITE,
	                                JK_CMD_ACTIVATE, JK_CMD_PASSWORD };
	struct jk_frame f;
	uint8_t w[JK_FRAME_MAX];
	size_t n;

	check_wire(data, size, 0);
	if (size <= JK_OVERHEAD)
		return 0;
	memset(&f, 0, sizeof f);
	f.cmd = cmds[data[8] % sizeof cmds];
	f.source = data[9];
	f.type = (data[10] & 1u) ? JK_TYPE_UPLOAD : JK_TYPE_REPLY;
	f.len = (uint16_t)(size - JK_OVERHEAD > JK_INFO_MAX ? JK_INFO_MAX : size - JK_OVERHEAD);
	memcpy(f.info, data + JK_HEAD_LEN, f.len);
	CHECK(jk_frame_encode(&f, w, sizeof w, &n) == RIG_OK);
	check_wire(w, n, 1);
	return 0;
}
