/* JBD Bluetooth module frames (ble_module.h, docs/protocols/jbd.md §10.6). */
#include <string.h>

#include "bmsrig/sim/ble_module.h"

enum { CMD_APP_KEY = 0x15, CMD_CHANGE = 0x16, CMD_RANDOM = 0x17, CMD_PASSWORD = 0x18, CMD_ROOT = 0x1D };

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static size_t frame(uint8_t *out, uint8_t cmd, const uint8_t *data, uint8_t len)
{
	out[0] = 0xFF;
	out[1] = 0xAA;
	out[2] = cmd;
	out[3] = len;
	memcpy(out + 4, data, len);
	out[4 + len] = sum8(out + 2, 2u + len);
	return 5u + len;
}

void ble_module_init(struct ble_module *m, const char *password, const uint8_t mac[6], uint32_t seed)
{
	memset(m, 0, sizeof *m);
	if (password)
		strncpy(m->password, password, sizeof m->password - 1);
	memcpy(m->mac, mac, 6);
	m->rng = seed ? seed : 1u;
	m->authed = !m->password[0];
}

void ble_module_disconnected(struct ble_module *m)
{
	m->authed = !m->password[0];
	m->have_rnd = 0;
}

size_t ble_module_password_frame(const char *password, const uint8_t mac[6], uint8_t rnd, uint8_t *out)
{
	uint8_t e[6];
	unsigned i;

	for (i = 0; i < 6; i++)
		e[i] = (uint8_t)((mac[i] ^ (uint8_t)password[i]) + rnd);
	return frame(out, CMD_PASSWORD, e, 6);
}

int ble_module_uplink(struct ble_module *m, const uint8_t *p, size_t n, uint8_t *reply, size_t *reply_len)
{
	uint8_t r;

	*reply_len = 0;
	if (n < 2 || p[0] != 0xFF || p[1] != 0xAA)
		return m->authed ? 0 : -1;
	/* A module frame that is short or has a bad sum is ignored, as the module would. */
	if (n < 5 || n != 5u + p[3] || sum8(p + 2, 2u + p[3]) != p[n - 1])
		return 1;
	switch (p[2]) {
	case CMD_APP_KEY:   /* 00: a password is set and must follow; 02: none set (esphome) */
		r = m->password[0] ? 0x00 : 0x02;
		break;
	case CMD_RANDOM:
		m->rng ^= m->rng << 13;
		m->rng ^= m->rng >> 17;
		m->rng ^= m->rng << 5;
		m->rnd = (uint8_t)m->rng;
		m->have_rnd = 1;
		*reply_len = frame(reply, CMD_RANDOM, &m->rnd, 1);
		return 1;
	case CMD_PASSWORD: {
		uint8_t want[BLE_MODULE_FRAME_MAX];

		r = 0x01;
		if (m->password[0] && m->have_rnd && p[3] == 6) {
			ble_module_password_frame(m->password, m->mac, m->rnd, want);
			if (!memcmp(want + 4, p + 4, 6)) {
				m->authed = 1;
				r = 0x00;
			}
		}
		break;
	}
	case CMD_ROOT:
	case CMD_CHANGE:
		r = 0x00;   /* accepted as the captures show; the root password is not checked */
		break;
	default:
		return 1;
	}
	*reply_len = frame(reply, p[2], &r, 1);
	return 1;
}
