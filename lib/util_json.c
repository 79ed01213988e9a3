/* Emitters shared by the protocols' JSON views (include/bmsrig/lib/util_json.h). The name ends in
 * _json.c because the fuzz targets link every sim file so named: they get it with the views. */
#include "bmsrig/lib/util_json.h"

#include <stdlib.h>

void json_add_nums(cJSON *o, const struct json_num *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cJSON_AddNumberToObject(o, t[i].key, t[i].v);
}

/* One loop for every element type; at() reads element i as a double (exact: see json_num). */
static void add_array(cJSON *o, const char *key, const void *v, size_t n, double (*at)(const void *v, size_t i))
{
	cJSON *a = cJSON_AddArrayToObject(o, key);

	for (size_t i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(at(v, i)));
}

static double u8_at(const void *v, size_t i) { return ((const uint8_t *)v)[i]; }
static double u16_at(const void *v, size_t i) { return ((const uint16_t *)v)[i]; }
static double i32_at(const void *v, size_t i) { return ((const int32_t *)v)[i]; }

void json_add_u8_array(cJSON *o, const char *key, const uint8_t *v, size_t n)
{
	add_array(o, key, v, n, u8_at);
}

void json_add_u16_array(cJSON *o, const char *key, const uint16_t *v, size_t n)
{
	add_array(o, key, v, n, u16_at);
}

void json_add_i32_array(cJSON *o, const char *key, const int32_t *v, size_t n)
{
	add_array(o, key, v, n, i32_at);
}

void json_add_hex(cJSON *o, const char *key, const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";
	char *s = malloc(2 * n + 1);

	if (!s)
		return;
	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 0x0Fu];
	}
	s[2 * n] = '\0';
	cJSON_AddStringToObject(o, key, s);
	free(s);
}

void json_add_latin1(cJSON *o, const char *key, const uint8_t *p, size_t n)
{
	char *s = malloc(3 * n + 1);          /* U+FFFD takes 3 bytes, any other byte at most 2 */
	size_t k = 0;

	if (!s)
		return;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (c == 0) {
			s[k++] = (char)0xEF; s[k++] = (char)0xBF; s[k++] = (char)0xBD;
		} else if (c < 0x80) {
			s[k++] = (char)c;
		} else {
			s[k++] = (char)(0xC0 | c >> 6);
			s[k++] = (char)(0x80 | (c & 0x3F));
		}
	}
	s[k] = '\0';
	cJSON_AddStringToObject(o, key, s);
	free(s);
}

void json_add_padded_text(cJSON *o, const char *key, const uint8_t *p, size_t n)
{
	while (n && p[n - 1] == 0)
		n--;
	json_add_latin1(o, key, p, n);
}

cJSON *json_error_object(const char *proto, const char *why)
{
	cJSON *o = cJSON_CreateObject();

	if (o) {
		cJSON_AddStringToObject(o, "proto", proto);
		cJSON_AddStringToObject(o, "error", why);
	}
	return o;
}
