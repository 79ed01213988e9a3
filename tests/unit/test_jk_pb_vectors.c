/*
 * The golden vectors of tests/vectors/jk-pb.json (real captures, docs/vectors.md): the three
 * trigger requests the Python clients send and the captured 308-byte answer to the cell-info
 * trigger. Each decodes (jk_pb_wire_json) to every key of `expect`; a request is rebuilt from
 * its decoded register with rig_jk_pb_request_trigger, the answer from the master's assembler
 * (record, then the FC 0x10 reply, fed in two uneven pieces) with the JK BLE codec's rebuild
 * and rig_jk_pb_write_echo, byte for byte. One cmocka test per vector, and one that proves
 * none was skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/jk_pb.h"
#include "bmsrig/sim/jk_ble_json.h"
#include "bmsrig/sim/jk_pb_json.h"
#include "vectors.h"

static struct vector_tally tally;
static size_t n_requests, n_answers;

static int rebuild_request(const char *id, const uint8_t *wire, size_t n)
{
	struct modbus_frame f, g;
	const uint8_t *bytes;
	uint16_t reg, count;
	uint8_t out[MODBUS_ADU_MAX];
	size_t len = 0;
	rig_rc rc = rig_modbus_frame_parse(wire, n, MODBUS_REQUEST, &f), enc = RIG_OK;

	if (rc == RIG_OK)
		rc = rig_jk_pb_write_decode(&f, &reg, &count, &bytes);
	if (rc == RIG_OK)
		rc = rig_jk_pb_request_trigger(&g, f.addr, rig_jk_pb_trigger_type(reg));
	if (rc == RIG_OK)
		enc = rig_modbus_frame_encode(&g, out, sizeof out, &len);
	n_requests++;
	return vector_rebuilt(id, rc, "rig_modbus_frame_encode", enc, wire, n, out, len);
}

static int rebuild_answer(const char *id, const uint8_t *wire, size_t n)
{
	static struct jk_pb_rx rx;
	struct jk_pb_item it;
	uint8_t out[JK_PB_REPLY_LEN + 8];
	uint16_t reg, count;
	size_t len = 0, k;
	rig_rc rc;

	rig_jk_pb_rx_init(&rx, 0);
	/* 137 + the rest: a record cut in the middle, the reply in the second piece. */
	assert_int_equal(rig_jk_pb_rx_feed(&rx, wire, 137, 0), 137);
	assert_int_equal(rig_jk_pb_rx_next(&rx, &it), RIG_MORE);
	assert_int_equal(rig_jk_pb_rx_feed(&rx, wire + 137, n - 137, 1), n - 137);
	assert_int_equal(rig_jk_pb_rx_next(&rx, &it), RIG_OK);
	assert_int_equal(it.kind, JK_PB_ITEM_RECORD);
	rc = jk_ble_wire_rebuild(it.record, JK_BLE_RECORD_LEN, out, sizeof out, &len);
	assert_int_equal(rig_jk_pb_rx_next(&rx, &it), RIG_OK);
	assert_int_equal(it.kind, JK_PB_ITEM_MODBUS);
	assert_int_equal(rig_jk_pb_echo_decode(&it.frame, &reg, &count), RIG_OK);
	assert_int_equal(rig_jk_pb_rx_next(&rx, &it), RIG_MORE);
	if (rc == RIG_OK) {
		struct modbus_frame f;

		rig_jk_pb_write_echo(&f, it.frame.addr, reg, count);
		rc = rig_modbus_frame_encode(&f, out + len, sizeof out - len, &k);
		len += k;
	}
	n_answers++;
	return vector_rebuilt(id, rc, "rig_modbus_frame_encode", RIG_OK, wire, n, out, len);
}

static void test_vector(void **state)
{
	const cJSON *v = *state;
	const char *id = vector_begin(v, &tally), *kind = vector_str(v, "kind");
	uint8_t wire[2 * JK_PB_REPLY_LEN];
	size_t n = vector_hex(id, vector_str(v, "hex"), wire, sizeof wire);
	int ok = vector_matches(id, v, jk_pb_wire_json(wire, n));

	if (!strcmp(kind, "request"))
		ok &= rebuild_request(id, wire, n);
	else
		ok &= rebuild_answer(id, wire, n);
	vector_end(id, ok, &tally);
}

static void test_all_vectors_checked(void **state)
{
	(void)state;
	assert_int_equal(tally.in_file, 4);
	assert_int_equal(n_requests, 3);
	assert_int_equal(n_answers, 1);
	assert_int_equal(tally.passed, tally.in_file);
	print_message("jk-pb vectors: %zu in the file, %zu checked, %zu passed\n", tally.in_file, tally.exercised,
		      tally.passed);
}

int main(void)
{
	static const struct vector_suite suite = {
		"jk-pb.json", "jk_pb_vectors", 1, NULL, test_vector, test_all_vectors_checked, &tally
	};

	return vectors_main(&suite);
}
