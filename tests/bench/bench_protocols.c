/* Decode rate per protocol: the assembler plus the typed decode of each frame, over real
 * captures from tests/vectors (JBD 0x03 + 0x04; Daly's 16-frame 0x95 answer and a 0x90; a JK
 * "4E 57" read-all of 14 cells; a JK02_32S cell record), as frames per second and as a multiple
 * of what the protocol's own line rate can carry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "bench.h"
#include "bmsrig/core/daly.h"
#include "bmsrig/core/jbd.h"
#include "bmsrig/core/jk.h"
#include "bmsrig/core/jk_ble.h"
#include "fake_io.h"

enum { ROUNDS = 200000 };

/* The bytes of vector `id` (a list of frames is concatenated). */
static size_t vector_bytes(const char *file, const char *id, uint8_t *out, size_t cap)
{
	FILE *f = fopen(file, "rb");
	static char text[1 << 20];
	size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0, len = 0;
	cJSON *root, *v;

	if (f)
		fclose(f);
	text[n] = '\0';
	root = cJSON_Parse(text);
	cJSON_ArrayForEach(v, root) {
		const cJSON *hex = cJSON_GetObjectItem(v, "hex"), *h;

		if (strcmp(cJSON_GetObjectItem(v, "id")->valuestring, id))
			continue;
		if (cJSON_IsString(hex))
			len = hex_to_bytes(hex->valuestring, out, cap);
		else
			cJSON_ArrayForEach(h, hex) len += hex_to_bytes(h->valuestring, out + len, cap - len);
	}
	cJSON_Delete(root);
	if (!len) {
		fprintf(stderr, "bench_protocols: vector %s not found in %s\n", id, file);
		exit(1);
	}
	return len;
}

static unsigned jbd_round(const uint8_t *p, size_t n)
{
	static struct jbd_rx rx;
	struct jbd_frame f;
	struct jbd_basic b;
	struct jbd_cells c;
	unsigned ok = 0;

	while (n) {
		size_t used = rig_jbd_rx_feed(&rx, p, n, 0);

		p += used;
		n -= used;
		while (rig_jbd_rx_next(&rx, &f) == RIG_OK)
			ok += f.reg == JBD_REG_BASIC ? rig_jbd_basic_decode(&f, &b) == RIG_OK : rig_jbd_cells_decode(&f, &c) == RIG_OK;
	}
	return ok;
}

static unsigned daly_round(const uint8_t *p, size_t n)
{
	static struct daly_rx rx;
	struct daly_frame f;
	struct daly_pack pk;
	struct daly_cell_frame c;
	unsigned ok = 0;

	while (n) {
		size_t used = rig_daly_rx_feed(&rx, p, n, 0);

		p += used;
		n -= used;
		while (rig_daly_rx_next(&rx, &f) == RIG_OK)
			ok += f.cmd == 0x90 ? rig_daly_pack_decode(&f, &pk) == RIG_OK : rig_daly_cell_frame_decode(&f, &c) == RIG_OK;
	}
	return ok;
}

static unsigned jk_round(const uint8_t *p, size_t n)
{
	static struct jk_rx rx;
	static struct jk_frame f;
	static struct jk_data d;
	unsigned ok = 0;

	while (n) {
		size_t used = rig_jk_rx_feed(&rx, p, n, 0);

		p += used;
		n -= used;
		while (rig_jk_rx_next(&rx, &f) == RIG_OK)
			ok += rig_jk_data_decode(&f, &d) == RIG_OK;
	}
	return ok;
}

static unsigned jk_ble_round(const uint8_t *p, size_t n)
{
	static struct jk_ble_rx rx;
	static struct jk_ble_cells c;
	const uint8_t *rec;
	size_t len;
	unsigned ok = 0;

	while (n) {
		size_t used = rig_jk_ble_rx_feed(&rx, p, n, 0);

		p += used;
		n -= used;
		while (rig_jk_ble_rx_next(&rx, &rec, &len) == RIG_OK)
			ok += len == JK_BLE_RECORD_LEN &&
			      rig_jk_ble_cells_decode(rec, rig_jk_ble_layout_detect(rec), &c) == RIG_OK;
	}
	return ok;
}

struct case_ {
	const char *name, *file, *ids[2];
	unsigned frames;     /* frames per round */
	unsigned baud;
	unsigned (*round)(const uint8_t *p, size_t n);
};

int main(void)
{
	static const struct case_ cases[] = {
		{ "jbd (0x03 + 0x04, 4S)", "tests/vectors/jbd.json", { "jbd_sp04s034_basic", "jbd_sp04s034_cells" }, 2, 9600, jbd_round },
		{ "daly (0x90 + 16-frame 0x95)", "tests/vectors/daly.json", { "daly_mpp_soc_charging_a", "daly_mpp_cells_16s_16frames" }, 17, 9600, daly_round },
		{ "jk 4E 57 (read-all, 14S)", "tests/vectors/jk.json", { "jk_4e57_14s_charging", NULL }, 1, 115200, jk_round },
		{ "jk-ble (JK02_32S cell record)", "tests/vectors/jk.json", { "jk02_32s_cells_balancing_b2a8s", NULL }, 1, 115200, jk_ble_round },
	};
	static uint8_t bytes[4096];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct case_ *c = &cases[i];
		size_t n = vector_bytes(c->file, c->ids[0], bytes, sizeof bytes), r;
		unsigned long ok = 0;
		double t0, dt, line_fps;

		if (c->ids[1])
			n += vector_bytes(c->file, c->ids[1], bytes + n, sizeof bytes - n);
		t0 = bench_now_s();
		for (r = 0; r < ROUNDS; r++)
			ok += c->round(bytes, n);
		dt = bench_now_s() - t0;
		if (ok != (unsigned long)ROUNDS * c->frames) {
			fprintf(stderr, "bench_protocols: %s: decoded %lu of %lu frames\n", c->name, ok,
			        (unsigned long)ROUNDS * c->frames);
			return 1;
		}
		line_fps = c->baud / 10.0 / ((double)n / c->frames);
		printf("decode %-30s %6.2f M frames/s = %8.0f x what %u baud carries\n", c->name,
		       (double)ok / dt / 1e6, (double)ok / dt / line_fps, c->baud);
	}
	return 0;
}
