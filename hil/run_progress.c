/* The runner's progress display (run_parts.h). A scenario's is a bar on stderr: where the run
 * is and how much faster than real time it goes. A session has no end to measure against: its
 * display is each report beside the truth, and the verdict at the end. */
#include <stdio.h>
#include <time.h>

#include "run_parts.h"

double run_wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void run_progress_start(struct run_progress *p)
{
	p->wall0 = run_wall_s();
	p->next_draw = 0.0;
}

void run_progress_draw(struct run_progress *p, const char *name, uint32_t now_ms, uint32_t duration_ms, int done)
{
	double now = run_wall_s(), frac, t = now_ms / 1000.0;
	char bar[31];
	int i, fill;

	if (!done && now < p->next_draw)
		return;
	p->next_draw = now + 0.1;
	frac = t / (duration_ms / 1000.0);
	fill = (int)(frac * 30.0 + 0.5);
	for (i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = 0;
	fprintf(stderr, "\r%-32.32s [%s] %9.1f / %.1f s  %7.0fx", name, bar, t, duration_ms / 1000.0,
	        now > p->wall0 ? t / (now - p->wall0) : 0.0);
	if (done)
		fprintf(stderr, "\r%*s\r", 90, "");
	fflush(stderr);
}

static double mean_soc_frac(const struct model *m)
{
	double sum = 0;
	unsigned i;

	for (i = 0; i < m->cfg.cells; i++)
		sum += model_cell_soc_frac(m, i);
	return m->cfg.cells ? sum / m->cfg.cells : 0;
}

/* The side-by-side table, redrawn in place on a terminal. */
static void draw_table(const struct sim *sim, unsigned u, const struct verdict *v, const struct dut_report *d)
{
	struct truth_sample t;
	unsigned i;

	sim_truth(sim, u, TRUTH_PACK | TRUTH_CELLS | TRUTH_TEMPS, &t);
	printf("\033[H\033[J");
	printf("bmssim  %s %s  t=%.1f s   DUT reports %u, agreeing %u\n\n", sim_unit_ops(sim, u)->name,
	       sim_port(sim), t.t_ms / 1000.0, v->lines, v->agree);
	printf("               %12s %12s\n", "truth", "DUT says");
	printf("pack V         %12.4f %12.2f\n", t.pack_mV / 1000, d->pack.pack_mV / 1000.0);
	printf("current A      %12.3f %12.2f\n", t.current_mA / 1000, d->pack.current_mA / 1000.0);
	printf("SOC %%          %12.1f %12u\n", 100.0 * mean_soc_frac(sim_model(sim, u)), d->pack.soc_pct);
	for (i = 0; i < t.cell_count; i++)
		printf("cell %-2u V      %12.4f %12.3f\n", i + 1, t.cell_mV[i] / 1000,
		       i < d->pack.cell_count ? d->pack.cell_mV[i] / 1000.0 : 0.0);
	for (i = 0; i < t.temp_count; i++)
		printf("temp %u degC    %12.2f %12.1f\n", i + 1, (t.temp_dK[i] - PACK_DK_ZERO_C) / 10,
		       i < d->pack.temp_count ? ((int)d->pack.temp_dK[i] - (int)PACK_DK_ZERO_C) / 10.0 : 0.0);
	printf("FET chg/dsg    %12s %7u/%u\n", "", d->pack.fet_chg, d->pack.fet_dsg);
	printf("relay          %12s %12s\n", "", d->relay ? "closed" : "open");
	fflush(stdout);
}

void run_show_report(const struct sim *sim, unsigned unit, const struct verdict *v, const struct dut_report *d,
                     int tty, int agrees, const char *why)
{
	unsigned i;

	if (tty) {
		draw_table(sim, unit, v, d);
		return;
	}
	printf("dut %6u ms: %s pack %u mV %d mA soc %u%% cells", d->ms, d->ok ? "ok  " : "FAIL",
	       d->pack.pack_mV, d->pack.current_mA, d->pack.soc_pct);
	for (i = 0; i < d->pack.cell_count; i++)
		printf("%s%u", i ? "," : " ", d->pack.cell_mV[i]);
	printf(" fet %u/%u prot 0x%x relay %d -> %s%s%s\n", d->pack.fet_chg, d->pack.fet_dsg,
	       d->pack.prot, d->relay, agrees == 1 ? "agrees" : agrees == 0 ? "DISAGREES" : "no data",
	       agrees == 1 ? "" : ": ", agrees == 1 ? "" : why);
	fflush(stdout);
}

void run_show_verdict(const struct verdict *v, int after_table, int exit_status)
{
	char line[512];

	verdict_summary(v, line, sizeof line);
	printf("%sverdict: %s\n", after_table ? "\n" : "", line);
	if (v->first_problem[0])
		printf("first problem: %s\n", v->first_problem);
	if (exit_status >= 0)
		printf("the device under test exited with status %d\n", exit_status);
}
