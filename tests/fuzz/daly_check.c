#include "daly_check.h"

#include <string.h>

#include "bmsrig/sim/daly_json.h"

void fuzz_daly_check_json(cJSON *o)
{
	CHECK(o && !cJSON_HasObjectItem(o, "error"));
	fuzz_check_json_prints(o, 0);
	cJSON_Delete(o);
}

void fuzz_daly_check_parsed(const struct daly_frame *f, const uint8_t *wire)
{
	uint8_t w[DALY_FRAME_LEN];
	struct daly_frame back;
	size_t n = 0;

	CHECK(rig_daly_frame_encode(f, w, sizeof w, &n) == RIG_OK && n == DALY_FRAME_LEN);
	CHECK(memcmp(w, wire, n) == 0);
	CHECK(rig_daly_frame_parse(w, n, &back) == RIG_OK && memcmp(&back, f, sizeof back) == 0);
	fuzz_daly_check_json(daly_frame_json(f));
}

void fuzz_daly_check_wire_input(const uint8_t *data, size_t size, int as_request,
				void (*check)(const struct daly_frame *f, const uint8_t *wire))
{
	uint8_t w[DALY_FRAME_LEN] = { 0 };
	struct daly_frame f;

	if (rig_daly_frame_parse(data, size, &f) == RIG_OK)
		check(&f, data);
	memcpy(w, data, size < sizeof w ? size : sizeof w);
	w[0] = DALY_START;
	if (!as_request)
		w[1] &= 0x1Fu;
	else if (w[1] < DALY_HOST_MIN)
		w[1] = (uint8_t)(w[1] | 0x40u);
	w[3] = DALY_DATA_LEN;
	w[12] = rig_daly_checksum(w, 12);
	CHECK(rig_daly_frame_parse(w, sizeof w, &f) == RIG_OK && !rig_daly_frame_is_request(&f) == !as_request);
	check(&f, w);
}
