/* The runner's trace (run_parts.h): one JSON object a line, each with its time and type. */
#include <math.h>
#include <stdlib.h>

#include "run_parts.h"

cJSON *run_trace_record(uint32_t t_ms, const char *type)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "t_ms", t_ms);
	cJSON_AddStringToObject(o, "type", type);
	return o;
}

void run_trace_put(FILE *f, cJSON *o)
{
	char *text = cJSON_PrintUnformatted(o);

	if (text) {
		fputs(text, f);
		fputc('\n', f);
		free(text);
	}
	cJSON_Delete(o);
}

void run_trace_truth(FILE *f, uint32_t t_ms, const struct truth_view *t)
{
	cJSON *o = run_trace_record(t_ms, "truth");
	double cells[PACK_CELLS_MAX], temps[PACK_TEMPS_MAX];
	unsigned i;

	for (i = 0; i < t->cell_count; i++)
		cells[i] = round(t->cell_mV[i] * 10.0) / 10.0;
	for (i = 0; i < t->temp_count; i++)
		temps[i] = round(t->temp_dK[i] * 10.0) / 10.0;
	cJSON_AddNumberToObject(o, "pack_mv", round(t->pack_mV));
	cJSON_AddNumberToObject(o, "current_ma", round(t->current_mA));
	cJSON_AddNumberToObject(o, "requested_ma", round(t->requested_mA));
	cJSON_AddNumberToObject(o, "soc_pct", round(t->soc_pct * 100.0) / 100.0);
	cJSON_AddItemToObject(o, "cells_mv", cJSON_CreateDoubleArray(cells, (int)t->cell_count));
	cJSON_AddItemToObject(o, "temps_dk", cJSON_CreateDoubleArray(temps, (int)t->temp_count));
	cJSON_AddNumberToObject(o, "fet_chg", t->fet_chg);
	cJSON_AddNumberToObject(o, "fet_dsg", t->fet_dsg);
	cJSON_AddNumberToObject(o, "prot", t->prot);
	cJSON_AddNumberToObject(o, "bal_mask", t->bal_mask);
	run_trace_put(f, o);
}
