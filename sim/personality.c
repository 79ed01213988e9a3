/* The personalities the emulator knows (a new protocol adds one line here), and what they all
 * do alike: read a numeric quirk, persist settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmsrig/sim/byd_personality.h"
#include "bmsrig/sim/daly_personality.h"
#include "bmsrig/sim/deye_modbus_personality.h"
#include "bmsrig/sim/jbd_personality.h"
#include "bmsrig/sim/jk_personality.h"
#include "bmsrig/sim/jk_ble_personality.h"
#include "bmsrig/sim/jk_pb_personality.h"
#include "bmsrig/sim/personality.h"
#include "bmsrig/sim/pylon_rs485_personality.h"
#include "bmsrig/sim/pylon_can_personality.h"
#include "bmsrig/sim/thornwave_personality.h"

const struct personality_ops *const personality_table[] = {
	&jbd_personality_ops,
	&daly_personality_ops,
	&jk_personality_ops,
	&jk_ble_personality_ops,
	&deye_modbus_personality_ops,
	&pylon_rs485_personality_ops,
	&pylon_can_personality_ops,
	&byd_personality_ops,
	&jk_pb_personality_ops,
	&thornwave_personality_ops,
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

rig_rc personality_quirk_u32(const char *key, const char *value, uint32_t min, uint32_t max, uint32_t *out,
                             char *why, size_t whycap)
{
	char *end;
	unsigned long v = strtoul(value, &end, 10);

	/* strtoul alone would take "", " 5", "+5" and "-1" (as a huge number). */
	if (value[0] < '0' || value[0] > '9' || *end || v < min || v > max) {
		snprintf(why, whycap, "%s: expected %lu..%lu, got \"%s\"", key, (unsigned long)min,
		         (unsigned long)max, value);
		return RIG_ERR_ARG;
	}
	*out = (uint32_t)v;
	return RIG_OK;
}

rig_rc personality_quirk_u8(const char *key, const char *value, uint8_t min, uint8_t max, uint8_t *out,
                            char *why, size_t whycap)
{
	uint32_t v;
	rig_rc rc = personality_quirk_u32(key, value, min, max, &v, why, whycap);

	if (rc == RIG_OK)
		*out = (uint8_t)v;
	return rc;
}

rig_rc personality_quirk_set(const struct personality_quirks *t, void *quirks, const char *key, const char *value,
                             char *why, size_t whycap)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct personality_quirk *q = &t->rows[i];
		uint32_t v;

		if (strcmp(key, q->key))
			continue;
		if (personality_quirk_u32(key, value, q->min, q->max, &v, why, whycap) != RIG_OK)
			return RIG_ERR_ARG;
		if (q->size == sizeof(uint8_t))
			*((uint8_t *)quirks + q->offset) = (uint8_t)v;
		else
			memcpy((uint8_t *)quirks + q->offset, &v, sizeof v);
		return RIG_OK;
	}
	snprintf(why, whycap, "unknown %s quirk \"%s\" (%s)", t->proto, key, t->all_keys);
	return RIG_ERR_ARG;
}

void personality_persist(struct personality_saver *s, const struct bms *b)
{
	if (!s->save)
		return;
	if (s->save(s->ctx, b) != 0)
		s->failures++;
	else
		s->saves++;
}
