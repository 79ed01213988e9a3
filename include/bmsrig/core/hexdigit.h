/* One hex digit's value, for every reader of hex text: the core's text protocols (slcan,
 * Pylontech RS485) and the host's readers of pasted frames, traces and socketcand lines. */
#ifndef BMSRIG_HEXDIGIT_H
#define BMSRIG_HEXDIGIT_H

#ifdef __cplusplus
extern "C" {
#endif

/* 0..15 for '0'-'9', 'a'-'f' or 'A'-'F'; -1 for anything else (any int, EOF included). */
static inline int rig_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#ifdef __cplusplus
}
#endif

#endif
