#include "common.h"

#include <string.h>

int fuzz_valid_utf8(const unsigned char *s)
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

void fuzz_check_json_prints(const cJSON *o, int utf8)
{
	char *s = cJSON_PrintUnformatted(o);
	cJSON *back;

	CHECK(s && (!utf8 || fuzz_valid_utf8((const unsigned char *)s)));
	back = cJSON_Parse(s);
	CHECK(back && cJSON_Compare(o, back, 1));
	cJSON_Delete(back);
	cJSON_free(s);
}

static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

void fuzz_rx_run(const uint8_t *data, size_t size, void *rx, const struct fuzz_rx_ops *ops)
{
	uint32_t x, now = 0, gap_ms;
	uint8_t ctl;
	size_t max_piece, fed = 0, framed = 0;

	if (size == 0)
		return;
	ctl = data[0];
	data++;
	size--;
	memset(rx, 0, ops->size);
	gap_ms = (ctl & 0x80u) ? 40u : 0u;
	ops->init(rx, gap_ms);
	max_piece = 1u + (ctl & 0x3Fu);
	x = 0x9E3779B9u ^ ctl;
	while (size) {
		size_t piece = 1u + xorshift(&x) % max_piece;
		int idle = 0;

		if (piece > size)
			piece = size;
		now += (ctl & 0x40u) ? xorshift(&x) % 64u : 1u;
		while (piece) {
			size_t took = ops->feed(rx, data, piece, now);
			struct fuzz_rx_counts c;

			CHECK(took <= piece);
			idle = took ? 0 : idle + 1;
			CHECK(idle < 2);
			data += took;
			size -= took;
			piece -= took;
			fed += took;
			framed += ops->drain(rx, &c);
			CHECK(c.gap_ms == gap_ms);
			CHECK(fed == framed + c.skipped + c.have);
		}
	}
}
