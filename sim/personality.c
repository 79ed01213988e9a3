/* The personalities the emulator knows. A new protocol adds one line here. */
#include <string.h>

#include "bmsrig/daly_personality.h"
#include "bmsrig/jbd_personality.h"
#include "bmsrig/jk_personality.h"
#include "bmsrig/jk_ble_personality.h"
#include "bmsrig/personality.h"

const struct personality_ops *const personality_table[] = {
	&jbd_personality_ops,
	&daly_personality_ops,
	&jk_personality_ops,
	&jk_ble_personality_ops,
	NULL
};

const struct personality_ops *personality_find(const char *name)
{
	unsigned i;

	for (i = 0; personality_table[i]; i++)
		if (!strcmp(personality_table[i]->name, name))
			return personality_table[i];
	return NULL;
}
