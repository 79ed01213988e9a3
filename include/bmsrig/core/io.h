/* Byte streams as callback structs (nanopb style): what a client reads and writes through. */
#ifndef BMSRIG_IO_H
#define BMSRIG_IO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rig_io {
	void *ctx;
	/* Bytes accepted (all of them, normally), or a negative rig_rc. */
	int32_t (*write)(void *ctx, const uint8_t *p, uint16_t n);
	/* Bytes available now, never blocking: 0 when none, or a negative rig_rc. */
	int32_t (*read)(void *ctx, uint8_t *p, uint16_t cap);
};

#ifdef __cplusplus
}
#endif

#endif
