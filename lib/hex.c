/* Hex text to bytes (include/bmsrig/lib/hex.h). */
#include "bmsrig/core/hexdigit.h"
#include "bmsrig/lib/hex.h"

#include <ctype.h>

static int is_sep(int c)
{
	return isspace(c) || c == ':' || c == ',';
}

/*
 * Tokens between separators, each an optional 0x and an even number of digits: "0xD" is
 * refused rather than read as 0x0D, because a lost nibble would shift every later byte.
 */
const char *host_hex_parse(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	*n = 0;
	for (;;) {
		const char *tok;
		size_t digits = 0;

		while (is_sep((unsigned char)*s))
			s++;
		if (!*s)
			return *n ? NULL : "not valid hex: no digits";
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			s += 2;
		tok = s;
		while (*s && !is_sep((unsigned char)*s)) {
			if (rig_hex_digit((unsigned char)*s) < 0)
				return "not valid hex: a character is not a hex digit";
			s++;
			digits++;
		}
		if (digits == 0)
			return "not valid hex: 0x without digits";
		if (digits % 2)
			return "not valid hex: odd number of digits";
		for (size_t i = 0; i < digits; i += 2) {
			if (*n == cap)
				return "too many bytes for one frame";
			out[(*n)++] = (uint8_t)(rig_hex_digit((unsigned char)tok[i]) << 4 |
					       rig_hex_digit((unsigned char)tok[i + 1]));
		}
	}
}
