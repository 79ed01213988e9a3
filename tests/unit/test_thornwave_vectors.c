/*
 * The Thornwave golden vectors of tests/vectors/thornwave.json (real captures, docs/vectors.md):
 * three 52-byte legacy values read at handle 0x0015 and one newer-firmware monitor read
 * (0x00 + COBS + 0x00). Each decodes to JSON holding every key of `expect`, and the typed round
 * trip (decode, then encode from the typed fields; COBS-code the monitor frame again) gives the
 * captured bytes back. BMSRIG_VECTORS=<dir> reads <dir>/thornwave.json instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bmsrig/core/thornwave.h"
#include "bmsrig/sim/thornwave_json.h"
#include "vectors.h"

static struct vector_tally tally;
static size_t n_values, n_monitors;

static void test_vector(void **state)
{
	const cJSON *v = *state;
	const char *id = vector_begin(v, &tally);
	const char *kind = vector_str(v, "kind");
	uint8_t wire[128], out[128], frame[TW_COBS_MAX];
	size_t n = vector_hex(id, vector_str(v, "hex"), wire, sizeof wire), len = 0, got;
	int ok = vector_matches(id, v, thornwave_wire_json(wire, n));

	assert_non_null(kind);
	if (!strcmp(kind, "value")) {
		struct tw_value val;
		rig_rc rc = rig_tw_value_decode(wire, n, &val);

		n_values++;
		if (rc == RIG_OK) {
			rig_tw_value_encode(&val, out);
			len = TW_VALUE_LEN;
		}
		ok &= vector_rebuilt(id, rc, "rig_tw_value_encode", RIG_OK, wire, n, out, len);
	} else {
		struct tw_monitor m;
		rig_rc rc;

		n_monitors++;
		/* The read is 0x00, the COBS bytes, 0x00: decode what lies between. */
		assert_true(n > 2 && wire[0] == 0 && wire[n - 1] == 0);
		rc = rig_cobs_decode(wire + 1, n - 2, frame, sizeof frame, &got);
		if (rc == RIG_OK)
			rc = rig_tw_monitor_decode(frame, got, &m);
		if (rc == RIG_OK) {
			uint8_t plain[TW_MON_LEN];
			size_t k = rig_tw_monitor_encode(&m, plain);

			out[0] = 0;
			len = rig_cobs_encode(plain, k, out + 1, sizeof out - 2);
			out[len + 1] = 0;
			len += 2;
		}
		ok &= vector_rebuilt(id, rc, "rig_cobs_encode", RIG_OK, wire, n, out, len);
	}
	vector_end(id, ok, &tally);
}

static void test_all_vectors_checked(void **state)
{
	(void)state;
	assert_int_equal(tally.in_file, 4);
	assert_int_equal(n_values, 3);
	assert_int_equal(n_monitors, 1);
	assert_int_equal(tally.exercised, tally.in_file);
	assert_int_equal(tally.passed, tally.in_file);
	print_message("thornwave vectors: %zu in the file, %zu checked, %zu passed\n", tally.in_file,
		      tally.exercised, tally.passed);
}

int main(void)
{
	static const struct vector_suite suite = {
		"thornwave.json", "thornwave_vectors", 1, NULL, test_vector, test_all_vectors_checked, &tally
	};

	return vectors_main(&suite);
}
