#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "fake_io.h"

static int32_t fake_write(void *ctx, const uint8_t *p, uint16_t n)
{
	struct fake_io *f = ctx;

	if (f->tx_len + n > sizeof f->tx)
		return -9;
	memcpy(f->tx + f->tx_len, p, n);
	f->tx_len += n;
	return n;
}

static int32_t fake_read(void *ctx, uint8_t *p, uint16_t cap)
{
	struct fake_io *f = ctx;
	size_t n = f->rx_len - f->rx_pos;

	if (n > cap)
		n = cap;
	if (f->read_max && n > f->read_max)
		n = f->read_max;
	memcpy(p, f->rx + f->rx_pos, n);
	f->rx_pos += n;
	if (f->rx_pos == f->rx_len)
		f->rx_pos = f->rx_len = 0;
	return (int32_t)n;
}

struct rig_io fake_io_stream(struct fake_io *f)
{
	struct rig_io io = { f, fake_write, fake_read };

	return io;
}

void fake_io_queue(struct fake_io *f, const uint8_t *p, size_t n)
{
	if (f->rx_len + n <= sizeof f->rx) {
		memcpy(f->rx + f->rx_len, p, n);
		f->rx_len += n;
	}
}

size_t hex_to_bytes(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;

		if (!isxdigit((unsigned char)*hex))
			continue;
		v = isdigit((unsigned char)*hex) ? *hex - '0' : (tolower((unsigned char)*hex) - 'a' + 10);
		if (hi < 0) {
			hi = v;
		} else if (n < cap) {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	return n;
}

size_t fake_io_queue_hex(struct fake_io *f, const char *hex)
{
	uint8_t b[512];
	size_t n = hex_to_bytes(hex, b, sizeof b);

	fake_io_queue(f, b, n);
	return n;
}

void fake_io_clear_tx(struct fake_io *f)
{
	f->tx_len = 0;
}

void fake_io_assert_sent(struct fake_io *f, const char *hex)
{
	uint8_t want[64];
	size_t n = hex_to_bytes(hex, want, sizeof want);

	assert_int_equal(f->tx_len, n);
	assert_memory_equal(f->tx, want, n);
	fake_io_clear_tx(f);
}
