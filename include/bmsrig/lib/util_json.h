/*
 * The small emitters every protocol's decoded-frame JSON (sim/<proto>_json.c) is written with,
 * so that a hex string, a device text or a number list reads the same whichever BMS it came
 * from. Host only: they allocate.
 */
#ifndef BMSRIG_UTIL_JSON_H
#define BMSRIG_UTIL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

/* One numeric field. Every field of ours is an integer below 2^53, so a double holds it exactly. */
struct json_num {
	const char *key;
	double v;
};
void json_add_nums(cJSON *o, const struct json_num *t, size_t n);

void json_add_u8_array(cJSON *o, const char *key, const uint8_t *v, size_t n);
void json_add_u16_array(cJSON *o, const char *key, const uint16_t *v, size_t n);
void json_add_i32_array(cJSON *o, const char *key, const int32_t *v, size_t n);

/* p[0..n) as upper-case hex, two digits a byte, no separators ("DD03"). */
void json_add_hex(cJSON *o, const char *key, const uint8_t *p, size_t n);

/*
 * Device text is bytes, not UTF-8: p[0..n) read as Latin-1 keeps every byte visible and the
 * output valid JSON whatever a BMS sends. NUL cannot live in a C string, so it becomes U+FFFD.
 */
void json_add_latin1(cJSON *o, const char *key, const uint8_t *p, size_t n);
/* The same for a fixed-width field: its trailing NULs ("123456\0\0\0\0") are padding, not text. */
void json_add_padded_text(cJSON *o, const char *key, const uint8_t *p, size_t n);

/* {"proto": proto, "error": why}: what a view gives for bytes it cannot read as a frame. */
cJSON *json_error_object(const char *proto, const char *why);

#endif
