/* bmsviz's non-SDL half: the model fed hostile control-socket lines, the colour scale, the
 * layout's invariants and the socket's line cutting. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "bmsrig/viz/viz_conn.h"
#include "bmsrig/viz/viz_layout.h"
#include "bmsrig/viz/viz_model.h"

static const char state_a[] =
	"{\"event\":\"state\",\"state\":{\"t_ms\":1100,\"paused\":false,\"rate\":1,\"units\":[{\"unit\":0,"
	"\"proto\":\"jbd\",\"port\":\"/dev/pts/3\",\"truth\":{\"pack_mv\":13202.0,\"current_ma\":-20000,"
	"\"requested_ma\":-20000,\"soc_pct\":69.95,\"cells_mv\":[3300.0,3301.5,3302.1,3298.4],"
	"\"cell_soc_pct\":[70,70,71,70],\"temps_dk\":[2984.1,2982.6],\"ambient_dk\":2981.5},"
	"\"bms\":{\"cells_mv\":[3300,3301,3302,3298],\"temps_dk\":[2984,2982],\"pack_mv\":13200,"
	"\"current_ma\":-20000,\"soc_pct\":70,\"fet_chg\":1,\"fet_dsg\":0,\"prot\":1024,\"bal_mask\":2},"
	"\"faults\":{\"open_wire_mask\":4,\"force_mask\":0,\"ntc_open_mask\":1,\"ntc_short_mask\":0,"
	"\"line\":[\"no_reply\"]},\"link\":{\"kind\":\"uart\",\"state\":\"up\"},"
	"\"limits\":{\"cvl_mv\":14200,\"ccl_ma\":12500,\"dcl_ma\":0,\"dvl_mv\":12000,\"request\":5,"
	"\"warn\":1,\"prot\":1024,\"alarm\":0,\"soc_pct\":70,\"soh_pct\":100,\"cycles\":3},"
	"\"dut\":{\"pack_mv\":13200,\"cells_mv\":[3300,3301,3302,3298],\"relay\":0,\"why\":16}}],"
	"\"scenario\":null}}";

static struct viz_model *model(void)
{
	struct viz_model *m = malloc(sizeof *m);
	assert_non_null(m);
	viz_model_init(m, VIZ_CHEM_AUTO, 20);
	return m;
}

static enum viz_line_kind feed(struct viz_model *m, const char *s)
{
	return viz_model_line(m, s, strlen(s));
}

static void state_is_read(void **state)
{
	struct viz_model *m = model();
	const struct viz_unit *u;

	(void)state;
	assert_int_equal(feed(m, state_a), VIZ_LINE_STATE);
	u = viz_model_unit(m);
	assert_non_null(u);
	assert_int_equal(u->r[VIZ_TRUTH].n_cells, 4);
	assert_true(fabs(u->r[VIZ_TRUTH].cells_mv[2] - 3302.1) < 1e-9);
	assert_true(u->r[VIZ_BMS].fet_chg == 1 && u->r[VIZ_BMS].fet_dsg == 0);
	assert_true(u->r[VIZ_BMS].prot == 1024 && u->r[VIZ_BMS].bal_mask == 2);
	assert_true(isnan(u->r[VIZ_TRUTH].fet_chg));           /* the truth has no FETs */
	assert_true(u->r[VIZ_DUT].present && u->r[VIZ_DUT].relay == 0 && u->r[VIZ_DUT].why == 16);
	assert_true(u->open_wire_mask == 4 && u->ntc_open_mask == 1);
	assert_int_equal(u->n_line_faults, 1);
	assert_string_equal(u->line_faults[0], "no_reply");
	assert_string_equal(u->link_state, "up");
	assert_true(u->limits.present);
	assert_true(u->limits.cvl_mv == 14200 && u->limits.ccl_ma == 12500);
	assert_true(u->limits.dcl_ma == 0 && u->limits.dvl_mv == 12000);
	assert_true(u->limits.request == 5 && u->limits.warn == 1);
	assert_string_equal(viz_request_names[2], "force I");   /* bit 2 of request 5 */
	assert_int_equal(u->n_cell_soc, 4);
	assert_int_equal(m->st.paused, 0);
	assert_false(m->st.has_scenario);
	assert_int_equal(m->chem, VIZ_CHEM_LFP);
	assert_int_equal(m->hist_count, 1);
	assert_true(fabs(viz_model_sample(m, 0)->spread_mv - (3302.1 - 3298.4)) < 1e-9);
	free(m);
}

/* Nothing from the socket may crash the viewer or leave numbers it cannot draw. */
static void hostile_lines_are_survived(void **state)
{
	static const char *const lines[] = {
		"", "not json", "[1,2]", "\"s\"", "{}", "{\"event\":\"state\"}", "{\"event\":5}",
		"{\"event\":\"state\",\"state\":[]}",
		"{\"event\":\"state\",\"state\":{\"units\":{\"a\":1}}}",
		"{\"event\":\"state\",\"state\":{\"t_ms\":\"x\",\"units\":[1,null,{\"truth\":[],\"bms\":\"x\"},"
		"{\"unit\":1e308,\"truth\":{\"cells_mv\":[1,\"x\",null,{},[],1e999,-1e308]}}],"
		"\"scenario\":{\"events\":\"x\",\"expect\":[1,{\"name\":5,\"state\":7}]}}}",
		"{\"event\":\"frame\",\"t_ms\":1e300,\"unit\":-1,\"dir\":5,\"decoded\":\"x\",\"hex\":7}",
		"{\"event\":\"expect\",\"index\":1e300,\"state\":\"failed\",\"message\":{}}",
		"{\"event\":\"timeline\",\"index\":-3,\"do\":7}",
		"{\"id\":\"s\",\"ok\":true,\"state\":5}",
		"{\"ok\":\"yes\",\"error\":42}",
		"{\"id\":1e300,\"ok\":false,\"error\":\"\\u0001bad\\nline\"}",
	};
	struct viz_model *m = model();
	const struct viz_unit *u;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		feed(m, lines[i]);
	assert_true(m->bad_lines >= 5);
	/* Units that are not objects are skipped; one numbered 1e308 gets its index instead. */
	assert_true(m->have_state);
	assert_int_equal(m->st.n_units, 2);
	u = &m->st.units[1];
	assert_int_equal(u->unit, 1);
	assert_int_equal(u->r[VIZ_TRUTH].n_cells, 7);
	assert_true(u->r[VIZ_TRUTH].cells_mv[0] == 1);
	for (i = 1; i < 6; i++)
		assert_true(isnan(u->r[VIZ_TRUTH].cells_mv[i]));
	assert_false(m->st.units[0].r[VIZ_TRUTH].present);
	assert_false(m->st.units[0].r[VIZ_BMS].present);
	assert_int_equal(m->st.scen.n_expect, 1);
	/* The refusal's error text reaches the status line, control characters replaced. */
	assert_true(m->status_error);
	assert_non_null(strstr(m->status, "refused: ?bad?line"));
	free(m);
}

static void arrays_and_masks_are_bounded(void **state)
{
	struct viz_model *m = model();
	char *big = malloc(200000);
	size_t n = 0;
	int i;

	(void)state;
	n += (size_t)sprintf(big + n, "{\"event\":\"state\",\"state\":{\"units\":[{\"truth\":{\"cells_mv\":[");
	for (i = 0; i < 100; i++)
		n += (size_t)sprintf(big + n, "%s3300", i ? "," : "");
	n += (size_t)sprintf(big + n, "],\"temps_dk\":[1,2,3,4,5,6,7,8,9,10]},\"bms\":{\"prot\":-1,"
	                     "\"bal_mask\":4294967296,\"fet_chg\":0.5},\"limits\":{\"request\":-1,\"warn\":0.5,"
	                     "\"cvl_mv\":\"x\",\"ccl_ma\":1e999},\"faults\":{\"line\":[");
	for (i = 0; i < 20; i++)
		n += (size_t)sprintf(big + n, "%s\"f%d\"", i ? "," : "", i);
	n += (size_t)sprintf(big + n, "]}}");
	for (i = 0; i < 300; i++)
		n += (size_t)sprintf(big + n, ",{\"unit\":%d}", i);
	sprintf(big + n, "]}}");
	assert_int_equal(feed(m, big), VIZ_LINE_STATE);
	assert_int_equal(m->st.n_units, VIZ_MAX_UNITS);
	assert_int_equal(m->st.units[0].r[VIZ_TRUTH].n_cells, VIZ_MAX_CELLS);
	assert_int_equal(m->st.units[0].r[VIZ_TRUTH].n_temps, VIZ_MAX_TEMPS);
	assert_int_equal(m->st.units[0].n_line_faults, VIZ_MAX_LINEFAULT);
	assert_true(m->st.units[0].limits.present);
	assert_true(isnan(m->st.units[0].limits.request) && isnan(m->st.units[0].limits.warn));
	assert_true(isnan(m->st.units[0].limits.cvl_mv) && isnan(m->st.units[0].limits.ccl_ma));
	assert_false(m->st.units[1].limits.present);
	assert_true(isnan(m->st.units[0].r[VIZ_BMS].prot));
	assert_true(isnan(m->st.units[0].r[VIZ_BMS].bal_mask));
	assert_true(isnan(m->st.units[0].r[VIZ_BMS].fet_chg));
	free(big);
	free(m);
}

static void replies_find_their_request(void **state)
{
	struct viz_model *m = model();
	long id;
	char line[128];

	(void)state;
	id = viz_model_request(m, "fault short circuit");
	snprintf(line, sizeof line, "{\"id\":%ld,\"ok\":false,\"error\":\"unit 3: no such unit\"}", id);
	assert_int_equal(feed(m, line), VIZ_LINE_REPLY);
	assert_true(m->status_error);
	assert_string_equal(m->status, "fault short circuit: refused: unit 3: no such unit");
	assert_int_equal(m->last_reply_id, id);
	id = viz_model_request(m, "rate x2");
	snprintf(line, sizeof line, "{\"id\":%ld,\"ok\":true,\"rate\":2}", id);
	feed(m, line);
	assert_false(m->status_error);
	assert_string_equal(m->status, "rate x2: ok");
	/* An id we never sent changes nothing that a later reply depends on. */
	feed(m, "{\"id\":99999,\"ok\":true}");
	assert_int_equal(m->last_reply_id, id);
	free(m);
}

static void logs_wrap_newest_first(void **state)
{
	struct viz_model *m = model();
	char line[160];
	int i;

	(void)state;
	for (i = 0; i < VIZ_LOG_LINES + 44; i++) {
		snprintf(line, sizeof line, "{\"event\":\"frame\",\"t_ms\":%d,\"unit\":0,\"dir\":\"%s\","
		         "\"proto\":\"jbd\",\"decoded\":{\"proto\":\"jbd\",\"cmd\":%d}}", i, i % 2 ? "tx" : "rx", i);
		assert_int_equal(feed(m, line), VIZ_LINE_FRAME);
	}
	assert_int_equal(m->frames.count, VIZ_LOG_LINES);
	assert_non_null(strstr(viz_log_get(&m->frames, 0)->text, "{\"cmd\":299}"));
	assert_null(strstr(viz_log_get(&m->frames, 0)->text, "\"proto\""));
	assert_int_equal(viz_log_get(&m->frames, 0)->kind, VIZ_LOG_TX);
	assert_non_null(strstr(viz_log_get(&m->frames, VIZ_LOG_LINES - 1)->text, "{\"cmd\":44}"));
	assert_null(viz_log_get(&m->frames, VIZ_LOG_LINES));
	free(m);
}

static void history_restarts_when_the_clock_goes_back(void **state)
{
	struct viz_model *m = model();
	int i;

	(void)state;
	for (i = 0; i < VIZ_HISTORY + 10; i++) {
		char line[200];
		snprintf(line, sizeof line, "{\"event\":\"state\",\"state\":{\"t_ms\":%d,\"units\":[{\"truth\":"
		         "{\"pack_mv\":%d,\"cells_mv\":[3300,3310]}}]}}", 100 * (i + 1), 13000 + i);
		feed(m, line);
	}
	assert_int_equal(m->hist_count, VIZ_HISTORY);
	assert_true(viz_model_sample(m, 0)->pack_mv == 13000 + VIZ_HISTORY + 9);
	assert_true(viz_model_sample(m, 0)->spread_mv == 10);
	feed(m, "{\"event\":\"state\",\"state\":{\"t_ms\":50,\"units\":[{\"truth\":{\"pack_mv\":1}}]}}");
	assert_int_equal(m->hist_count, 1);
	free(m);
}

static void chemistry_is_latched_from_the_first_cells(void **state)
{
	struct viz_model *m = model();

	(void)state;
	feed(m, "{\"event\":\"state\",\"state\":{\"units\":[{\"truth\":{\"cells_mv\":[3900,3910,3890]}}]}}");
	assert_int_equal(m->chem, VIZ_CHEM_NMC);
	assert_true(m->chem_hi_cut == 4250);
	/* An LFP-looking state later does not flip the scale under the user's eyes. */
	feed(m, "{\"event\":\"state\",\"state\":{\"units\":[{\"truth\":{\"cells_mv\":[3300,3300]}}]}}");
	assert_int_equal(m->chem, VIZ_CHEM_NMC);
	free(m);
}

/* Squared distance to the scale's orange just below the high cut-off. */
static int to_high(const uint8_t c[3])
{
	return (255 - c[0]) * (255 - c[0]) + (120 - c[1]) * (120 - c[1]) + c[2] * c[2];
}

static void colour_scale_runs_red_green_yellow_orange_red(void **state)
{
	struct viz_model *m = model();
	uint8_t low[3], lowish[3], ok[3], warm[3], hot[3], edge[3], cut[3], none[3];

	(void)state;
	viz_cell_colour(m, 2400, low);
	viz_cell_colour(m, 2700, lowish);
	viz_cell_colour(m, 3300, ok);
	viz_cell_colour(m, 3500, warm);
	viz_cell_colour(m, 3600, hot);
	viz_cell_colour(m, 3649, edge);
	viz_cell_colour(m, 3650, cut);
	viz_cell_colour(m, NAN, none);
	assert_true(low[0] > 200 && low[1] < 60);
	assert_true(lowish[0] > 200 && lowish[1] > 100 && lowish[1] < 180);
	assert_true(ok[1] > 150 && ok[0] < 100);
	/* Toward the high cut-off the colour closes in on orange, step by step, then red. */
	assert_true(to_high(warm) < to_high(ok) && to_high(hot) < to_high(warm));
	assert_true(to_high(edge) < to_high(hot) && edge[0] > 250);
	assert_true(cut[0] > 200 && cut[1] < 60);
	assert_true(none[0] == none[1] && none[1] == none[2]);
	assert_true(viz_cell_frac(m, 2000) == 0 && viz_cell_frac(m, 5000) == 1);
	assert_true(viz_cell_frac(m, 3600) > viz_cell_frac(m, 3300));
	assert_true(viz_cell_frac(m, NAN) == 0);
	free(m);
}

static int inside(const struct viz_rect *in, const struct viz_rect *out)
{
	return in->x >= out->x && in->y >= out->y && in->x + in->w <= out->x + out->w &&
	       in->y + in->h <= out->y + out->h;
}

static void layout_is_deterministic_and_nested(void **state)
{
	static const int sizes[][2] = { { 1280, 800 }, { 640, 400 }, { 1920, 1080 }, { 100, 100 } };
	size_t s;
	int n, i;

	(void)state;
	for (s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
		for (n = 1; n <= VIZ_MAX_CELLS; n++) {
			struct viz_layout L, L2;
			struct viz_rect win;
			viz_layout_compute(&L, sizes[s][0], sizes[s][1], n, 14);
			viz_layout_compute(&L2, sizes[s][0], sizes[s][1], n, 14);
			assert_memory_equal(&L, &L2, sizeof L);
			win = (struct viz_rect){ 0, 0, L.w, L.h };
			assert_true(L.w >= VIZ_MIN_W && L.h >= VIZ_MIN_H);
			assert_true(inside(&L.cells, &win) && inside(&L.pack, &win) && inside(&L.log, &win));
			assert_true(inside(&L.relay, &L.pack) && inside(&L.fet_dsg, &L.pack));
			assert_true(inside(&L.table, &L.pack));
			for (i = 0; i < n; i++) {
				assert_true(inside(&L.cell_bar[i], &L.cell_col[i]));
				assert_true(inside(&L.cell_dut[i], &L.cell_col[i]));
				assert_true(inside(&L.cell_col[i], &L.cells));
				assert_true(L.cell_bar[i].h >= (L.h >= 800 ? 200 : 30));
				assert_int_equal(viz_layout_cell_at(&L, L.cell_bar[i].x + L.cell_bar[i].w / 2,
				                                    L.cell_bar[i].y + 1), i);
				if (i)
					assert_true(L.cell_col[i].x >= L.cell_col[i - 1].x + L.cell_col[i - 1].w);
			}
			for (i = 0; i < 14; i++)
				assert_int_equal(viz_layout_button_at(&L, L.button[i].x + 1, L.button[i].y + 1), i);
			assert_int_equal(viz_layout_cell_at(&L, 0, 0), -1);
		}
}

static void layout_prints_one_region_per_line(void **state)
{
	static const char *const names[2] = { "Short", "Clear" };
	struct viz_layout L;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	viz_layout_compute(&L, 1280, 800, 4, 2);
	viz_layout_print(f, &L, names);
	fclose(f);
	assert_non_null(strstr(buf, "{\"w\":1280,\"h\":800,\"cells\":4,\"regions\":["));
	assert_non_null(strstr(buf, "\n  {\"name\":\"cell_bar\",\"index\":4,\"x\":"));
	assert_non_null(strstr(buf, "\n  {\"name\":\"relay\",\"x\":"));
	assert_non_null(strstr(buf, "\n  {\"name\":\"button:Clear\",\"index\":1,"));
	assert_null(strstr(buf, "\"index\":5,"));
	free(buf);
}

struct got { int n; size_t len[8]; char first[64]; };

static void on_line(void *ctx, const char *line, size_t len)
{
	struct got *g = ctx;
	if (g->n == 0)
		snprintf(g->first, sizeof g->first, "%s", line);
	if (g->n < 8)
		g->len[g->n] = len;
	g->n++;
}

static void conn_cuts_lines_and_drops_the_overlong(void **state)
{
	struct viz_conn c;
	struct got g = { 0 };
	int sv[2], i;
	char *chunk = malloc(65536);

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&c, 0, sizeof c);
	c.fd = sv[0];
	assert_int_equal(write(sv[1], "{\"a\":", 5), 5);
	assert_int_equal(viz_conn_poll(&c, 100, on_line, &g), 0);
	assert_int_equal(write(sv[1], "1}\n{\"b\":2}\n", 11), 11);
	assert_int_equal(viz_conn_poll(&c, 100, on_line, &g), 2);
	assert_string_equal(g.first, "{\"a\":1}");
	/* A line past VIZ_CONN_LINE_MAX is dropped whole; the next one still arrives. */
	memset(chunk, 'x', 65536);
	for (i = 0; i < (int)(VIZ_CONN_LINE_MAX / 65536) + 2; i++) {
		assert_int_equal(write(sv[1], chunk, 65536), 65536);
		assert_true(viz_conn_poll(&c, 100, on_line, &g) >= 0);
	}
	assert_int_equal(write(sv[1], "xx\n{}\n", 6), 6);
	assert_int_equal(viz_conn_poll(&c, 100, on_line, &g), 1);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.len[2], 2);
	assert_int_equal(c.long_lines, 1);
	close(sv[1]);
	assert_int_equal(viz_conn_poll(&c, 100, on_line, &g), -1);
	viz_conn_close(&c);
	free(chunk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_is_read),
		cmocka_unit_test(hostile_lines_are_survived),
		cmocka_unit_test(arrays_and_masks_are_bounded),
		cmocka_unit_test(replies_find_their_request),
		cmocka_unit_test(logs_wrap_newest_first),
		cmocka_unit_test(history_restarts_when_the_clock_goes_back),
		cmocka_unit_test(chemistry_is_latched_from_the_first_cells),
		cmocka_unit_test(colour_scale_runs_red_green_yellow_orange_red),
		cmocka_unit_test(layout_is_deterministic_and_nested),
		cmocka_unit_test(layout_prints_one_region_per_line),
		cmocka_unit_test(conn_cuts_lines_and_drops_the_overlong),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
