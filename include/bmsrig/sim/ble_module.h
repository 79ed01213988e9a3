/* The module-level `FF AA` frames of newer JBD Bluetooth modules (docs/protocols/jbd.md §10.6): the module, not
 * the BMS, answers them, and with a password set it forwards no `DD` request until a client
 * has proved it knows the password. Format: FF AA cmd len data... ck, ck = 8-bit sum of cmd,
 * len and data. */
#ifndef BMSRIG_BLE_MODULE_H
#define BMSRIG_BLE_MODULE_H

#include <stddef.h>
#include <stdint.h>

#define BLE_MODULE_FRAME_MAX 64u

struct ble_module {
	char password[7];         /* six ASCII characters; empty: no password, everything passes */
	uint8_t mac[6];           /* in display order, as the scrambling uses it */
	uint8_t rnd;              /* the last random byte handed out (0x17) */
	uint8_t have_rnd;
	uint8_t authed;
	uint32_t rng;
};

void ble_module_init(struct ble_module *m, const char *password, const uint8_t mac[6], uint32_t seed);
/* One write from the client. Returns 1 when it was a module frame (*reply, *reply_len: what the
 * module notifies back, possibly nothing), 0 when the bytes go on to the BMS, -1 when they are
 * dropped (a request before the password was given). */
int ble_module_uplink(struct ble_module *m, const uint8_t *p, size_t n, uint8_t *reply, size_t *reply_len);
/* The frame a client sends for 0x18: the password scrambled with mac and the module's rnd. */
size_t ble_module_password_frame(const char *password, const uint8_t mac[6], uint8_t rnd, uint8_t *out);
/* A new connection must authenticate again. */
void ble_module_disconnected(struct ble_module *m);

#endif
