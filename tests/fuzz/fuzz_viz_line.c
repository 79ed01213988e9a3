/*
 * libFuzzer: bmsviz's model fed control-socket lines (the input split at '\n'), as a hostile
 * bmssim would send them. abort() unless: every count stays within its array; the selected unit
 * and cell exist; every text kept for drawing is printable ASCII and terminated; every cell's
 * bar fraction is within 0..1 and its colour defined.
 * Seeds: tests/fuzz/corpus/fuzz_viz_line/ (state events, frames, replies, broken lines).
 */
#include <math.h>
#include <string.h>

#include "bmsrig/viz/viz_model.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct viz_model m;

static void check_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);

	CHECK(n < cap);
	while (n--)
		CHECK(s[n] >= 0x20 && s[n] < 0x7f);
}

static void check_model(void)
{
	const struct viz_unit *u = viz_model_unit(&m);
	unsigned k;
	int i, s;

	CHECK(m.st.n_units >= 0 && m.st.n_units <= VIZ_MAX_UNITS);
	CHECK(m.hist_count <= VIZ_HISTORY && m.frames.count <= VIZ_LOG_LINES);
	check_text(m.status, sizeof m.status);
	for (k = 0; viz_log_get(&m.frames, k); k++)
		check_text(viz_log_get(&m.frames, k)->text, VIZ_LOG_TEXT);
	if (m.st.has_scenario) {
		CHECK(m.st.scen.n_events <= VIZ_MAX_EVENTS && m.st.scen.n_expect <= VIZ_MAX_EXPECT);
		check_text(m.st.scen.name, sizeof m.st.scen.name);
	}
	if (!m.have_state || !m.st.n_units)
		return;
	CHECK(u && m.unit_sel >= 0 && m.unit_sel < m.st.n_units);
	check_text(u->proto, sizeof u->proto);
	check_text(u->port, sizeof u->port);
	CHECK(u->n_line_faults >= 0 && u->n_line_faults <= VIZ_MAX_LINEFAULT);
	for (s = 0; s < VIZ_SIDES; s++) {
		CHECK(u->r[s].n_cells >= 0 && u->r[s].n_cells <= VIZ_MAX_CELLS);
		CHECK(u->r[s].n_temps >= 0 && u->r[s].n_temps <= VIZ_MAX_TEMPS);
		for (i = 0; i < u->r[s].n_cells; i++) {
			double f = viz_cell_frac(&m, u->r[s].cells_mv[i]);
			uint8_t rgb[3];
			CHECK(f >= 0 && f <= 1);
			viz_cell_colour(&m, u->r[s].cells_mv[i], rgb);
		}
	}
	CHECK(m.cell_sel == 0 || m.cell_sel < u->r[VIZ_TRUTH].n_cells);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t start = 0, i;

	viz_model_init(&m, VIZ_CHEM_AUTO, 20);
	viz_model_request(&m, "fault short circuit");
	for (i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		viz_model_line(&m, (const char *)data + start, i - start);
		check_model();
		start = i + 1;
	}
	return 0;
}
