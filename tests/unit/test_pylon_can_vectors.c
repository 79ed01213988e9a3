/*
 * The golden vectors of tests/vectors/pylon-can.json (a real Pylontech US5000 capture,
 * docs/vectors.md): each frame (can_id + hex data at its native DLC) decodes to the fields of
 * `expect`, and encoding the decoded record gives the captured bytes back at that DLC. One
 * cmocka test per vector, plus one that proves none was skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/pylon_can.h"
#include "bmsrig/sim/pylon_can_json.h"
#include "vectors.h"

static struct vector_tally tally;

static void test_vector(void **state)
{
	const cJSON *v = *state;
	const char *id = vector_begin(v, &tally);
	const char *can_id = vector_str(v, "can_id");
	struct rig_can_frame f, g;
	struct rig_inv_battery rec;
	unsigned have = 0;
	uint8_t wire[16];
	size_t n;
	int ok;

	assert_non_null(can_id);
	n = vector_hex(id, vector_str(v, "hex"), wire, 8);
	memset(&f, 0, sizeof f);
	f.id = (uint32_t)strtoul(can_id, NULL, 16);
	f.dlc = (uint8_t)n;
	memcpy(f.data, wire, n);
	ok = vector_matches(id, v, pylon_can_frame_json(&f));
	/* The round trip: the record the capture decodes to, encoded, at the capture's DLC. */
	memset(&rec, 0, sizeof rec);
	if (rig_pylon_can_decode(&f, &rec, &have) != RIG_OK)
		fail_msg("%s: does not decode", id);
	assert_int_equal(rig_pylon_can_encode(f.id, &rec, &g), RIG_OK);
	assert_int_equal(g.dlc, 8);
	ok &= vector_rebuilt(id, RIG_OK, "rig_pylon_can_encode", RIG_OK, wire, n, g.data, n);
	if (f.id == PYLON_CAN_ID_SOC && (g.data[4] | g.data[5] << 8) != rec.soc_pct * 100) {
		print_message("%s: high-resolution SOC %u, not SOC x 100\n", id, g.data[4] | g.data[5] << 8);
		ok = 0;
	}
	/* DLC 8 pads with zeros past the native fields; 0x355 is the exception: a DLC 4 capture has no
	 * high-resolution SOC, the decoder derives it from the SOC and bytes 4-5 carry it. */
	for (size_t i = n; i < 8 && f.id != PYLON_CAN_ID_SOC; i++)
		if (g.data[i] != 0) {
			print_message("%s: byte %zu of the DLC 8 frame is %02X, not 0\n", id, i, g.data[i]);
			ok = 0;
		}
	vector_end(id, ok, &tally);
}

static void test_all_vectors_checked(void **state)
{
	(void)state;
	assert_int_equal(tally.in_file, 6);   /* the six frames of the US5000 capture */
	assert_int_equal(tally.exercised, tally.in_file);
	print_message("pylon-can vectors: %zu in the file, %zu checked, %zu passed\n",
		      tally.in_file, tally.exercised, tally.passed);
}

int main(void)
{
	static const struct vector_suite suite = {
		"pylon-can.json", "pylon_can_vectors", 1, NULL, test_vector, test_all_vectors_checked, &tally
	};

	return vectors_main(&suite);
}
