/*
 * The JK BLE golden vectors of tests/vectors/jk.json (real captures, docs/vectors.md):
 * every entry that is a 20-byte `AA 55 90 EB` command or a `55 AA EB 90` record (given as one
 * string, or as the list of BLE notifications that carried it, which are reassembled with
 * jk_ble_rx first; a JK-PB RS485 record keeps its Modbus echo). Each decodes to a JSON object
 * holding every key of `expect` with an equal value, and jk_ble_wire_rebuild (typed decode,
 * then encode from the typed values) gives the captured bytes back. The "4E 57" entries of the
 * same file belong to the serial protocol; the test checks that those are all it leaves out,
 * and how many it checked. BMSRIG_VECTORS=<dir> reads <dir>/jk.json instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "bmsrig/core/jk_ble.h"
#include "bmsrig/sim/jk_ble_json.h"
#include "fake_io.h"
#include "vectors.h"

/* 3 commands (device info request, ack, app write) + 8 BLE records + 1 JK-PB RS485 record. */
#define JK_BLE_VECTORS 12u
#define WIRE_MAX 1024u

static struct vector_tally tally;
static size_t n_selected, n_serial;

/* All pieces of "hex" (a string, or a list of strings) back to back; 0 when malformed. */
static size_t wire_bytes(const cJSON *v, uint8_t *out, size_t cap, unsigned *pieces)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(v, "hex"), *e;
	size_t n = 0;

	*pieces = 0;
	if (cJSON_IsString(h)) {
		*pieces = 1;
		return vector_plain_hex(h->valuestring, out, cap, &n) ? n : 0;
	}
	cJSON_ArrayForEach(e, h) {
		size_t k;

		if (!cJSON_IsString(e) || !vector_plain_hex(e->valuestring, out + n, cap - n, &k))
			return 0;
		n += k;
		(*pieces)++;
	}
	return n;
}

static int is_ble(const uint8_t *w, size_t n)
{
	static const uint8_t cmd[4] = { 0xAA, 0x55, 0x90, 0xEB }, rec[4] = { 0x55, 0xAA, 0xEB, 0x90 };

	return (n == JK_BLE_CMD_LEN && !memcmp(w, cmd, 4)) || (n >= JK_BLE_RECORD_LEN && !memcmp(w, rec, 4));
}

/* A list of notifications is what a BLE client receives: it must reassemble to one frame. */
static size_t reassemble(const char *id, const cJSON *v, uint8_t *frame, size_t cap)
{
	const cJSON *e;
	struct jk_ble_rx rx;
	size_t got = 0, frames = 0;
	uint32_t t = 0;

	rig_jk_ble_rx_init(&rx, 200);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(v, "hex")) {
		uint8_t piece[WIRE_MAX];
		size_t n = hex_to_bytes(e->valuestring, piece, sizeof piece), off = 0;
		const uint8_t *w;
		size_t len;

		t += 30;
		while (off < n) {
			off += rig_jk_ble_rx_feed(&rx, piece + off, n - off, t);
			while (rig_jk_ble_rx_next(&rx, &w, &len) == RIG_OK) {
				if (len <= cap)
					memcpy(frame, w, len);
				got = len;
				frames++;
			}
		}
	}
	if (frames != 1)
		fail_msg("%s: the notifications reassemble to %zu frames, not 1", id, frames);
	return got;
}

static void test_vector(void **state)
{
	const cJSON *v = *state;
	const char *id = vector_begin(v, &tally);
	uint8_t wire[WIRE_MAX], out[WIRE_MAX];
	unsigned pieces;
	size_t n = wire_bytes(v, wire, sizeof wire, &pieces), len = 0;
	rig_rc rc;
	int ok;

	if (pieces > 1)
		n = reassemble(id, v, wire, sizeof wire);
	ok = vector_matches(id, v, jk_ble_wire_json(wire, n));
	rc = jk_ble_wire_rebuild(wire, n, out, sizeof out, &len);
	ok &= vector_rebuilt(id, rc, NULL, RIG_OK, wire, n, out, len);
	vector_end(id, ok, &tally);
}

/* Runs last: a vector that never reached its test is a defect, not a pass. */
static void test_all_vectors_checked(void **state)
{
	(void)state;
	assert_int_equal(n_selected, JK_BLE_VECTORS);
	assert_int_equal(tally.exercised, n_selected);
	print_message("jk-ble vectors: %zu selected (%zu \"4E 57\" left to the serial protocol), "
		      "%zu checked, %zu passed\n", n_selected, n_serial, tally.exercised, tally.passed);
}

/* The "4E 57" entries are the serial protocol's; anything else must be ours: an entry of
 * unknown shape becomes a test too (and is not counted selected), so it fails, unskipped. */
static int take(const cJSON *v)
{
	uint8_t w[WIRE_MAX];
	unsigned pieces;
	size_t n = wire_bytes(v, w, sizeof w, &pieces);
	const char *id = vector_str(v, "id");

	if (n >= 2 && w[0] == 0x4E && w[1] == 0x57) {
		n_serial++;
		return 0;
	}
	if (is_ble(w, n) || pieces > 1)
		n_selected++;
	else
		fprintf(stderr, "test_jk_ble_vectors: %s is neither \"4E 57\" nor JK BLE\n",
			id ? id : "?");
	return 1;
}

int main(void)
{
	static const struct vector_suite suite = {
		"jk.json", "jk_ble_vectors", 0, take, test_vector, test_all_vectors_checked, &tally
	};

	return vectors_main(&suite);
}
