/*
 * Checks shared by the JK BLE fuzz targets (header only: the Makefile's tests/fuzz/fuzz_*.c
 * glob takes .c files for targets, and common.c is the JBD targets' own).
 *
 * fuzz_jk_ble_frame(w, n): any bytes as one frame. abort() unless
 *   - jk_ble_wire_json gives an object that prints as valid UTF-8 and parses back equal, with
 *     "kind" exactly when the bytes are a frame and "error" exactly when jk_ble_wire_rebuild
 *     hits a decoder error (RIG_ERR_UNSUPPORTED, a type with no decoder, is not one);
 *   - a rebuild that succeeds gives the input back byte for byte;
 *   - a command parses and encodes back to itself;
 *   - a cell-info record that decodes encodes into a fresh record that decodes to the same
 *     struct, and fills a pack_state within its bounds.
 */
#ifndef BMSRIG_FUZZ_JK_BLE_CHECK_H
#define BMSRIG_FUZZ_JK_BLE_CHECK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/jk_ble.h"
#include "bmsrig/jk_ble_client.h"
#include "bmsrig/jk_ble_json.h"

#define JK_CHECK(c) do { if (!(c)) abort(); } while (0)

static inline int jk_fuzz_valid_utf8(const unsigned char *s)
{
	while (*s) {
		int more = *s < 0x80 ? 0 : (*s & 0xE0) == 0xC0 ? 1 : (*s & 0xF0) == 0xE0 ? 2 :
			   (*s & 0xF8) == 0xF0 ? 3 : -1;

		if (more < 0)
			return 0;
		for (s++; more--; s++)
			if ((*s & 0xC0) != 0x80)
				return 0;
	}
	return 1;
}

static inline void jk_fuzz_cells(const uint8_t *rec)
{
	enum jk_ble_layout layout = jk_ble_layout_detect(rec);
	uint8_t fresh[JK_BLE_RECORD_LEN];
	struct jk_ble_cells c, back;
	struct pack_state ps;

	if (rec[4] != JK_BLE_REC_CELLS || jk_ble_cells_decode(rec, layout, &c) != RIG_OK)
		return;
	jk_ble_record_begin(fresh, JK_BLE_REC_CELLS, rec[5]);
	JK_CHECK(jk_ble_cells_encode(fresh, layout, &c) == RIG_OK);
	jk_ble_record_seal(fresh);
	JK_CHECK(jk_ble_cells_decode(fresh, layout, &back) == RIG_OK);
	JK_CHECK(memcmp(&c, &back, sizeof c) == 0);
	memset(&ps, 0, sizeof ps);
	jk_ble_to_pack_state(&c, layout, &ps);
	JK_CHECK(ps.cell_count <= jk_ble_slots(layout) && ps.temp_count <= JK_BLE_TEMPS_MAX);
}

static inline void jk_fuzz_frame(const uint8_t *w, size_t n)
{
	uint8_t out[JK_BLE_RECORD_LEN + 16];
	size_t len = 0;
	cJSON *o = jk_ble_wire_json(w, n), *back;
	char *s;
	int kind, error;
	rig_rc rc;
	struct jk_ble_cmd cmd;

	JK_CHECK(o && cJSON_HasObjectItem(o, "proto"));
	kind = cJSON_HasObjectItem(o, "kind");
	error = cJSON_HasObjectItem(o, "error");
	s = cJSON_PrintUnformatted(o);
	JK_CHECK(s && jk_fuzz_valid_utf8((const unsigned char *)s));
	back = cJSON_Parse(s);
	JK_CHECK(back && cJSON_Compare(o, back, 1));
	cJSON_Delete(back);
	cJSON_free(s);
	cJSON_Delete(o);

	rc = n <= sizeof out ? jk_ble_wire_rebuild(w, n, out, sizeof out, &len) : RIG_ERR_LENGTH;
	if (!kind)
		JK_CHECK(error && rc != RIG_OK);
	else
		JK_CHECK(error == (rc != RIG_OK && rc != RIG_ERR_UNSUPPORTED));
	if (rc == RIG_OK)
		JK_CHECK(len == n && memcmp(out, w, n) == 0);
	if (jk_ble_cmd_parse(w, n, &cmd) == RIG_OK) {
		jk_ble_cmd_encode(&cmd, out);
		JK_CHECK(kind && memcmp(out, w, JK_BLE_CMD_LEN) == 0);
	}
	if (jk_ble_record_check(w, n) == RIG_OK) {
		JK_CHECK(kind);
		jk_fuzz_cells(w);
	}
}

#endif
