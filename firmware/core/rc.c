#include "bmsrig/core/rc.h"

static const char *const rc_text[] = {
	"more input needed",       /* RIG_MORE */
	"ok",                      /* RIG_OK */
	"bad argument",
	"wrong length",
	"bad checksum",
	"bad framing",
	"device reported an error",
	"timeout",
	"no space",
	"unsupported",
	"i/o error",
	"wrong state",
};

const char *rig_rc_str(rig_rc rc)
{
	int i = 1 - (int)rc;       /* RIG_MORE (1) maps to 0, RIG_OK to 1, errors follow */

	if (i < 0 || i >= (int)(sizeof rc_text / sizeof rc_text[0]))
		return "unknown error";
	return rc_text[i];
}
