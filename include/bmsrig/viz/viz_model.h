/*
 * bmsviz's picture of a running bmssim, built from the control socket's lines (control
 * protocol v1): the latest STATE, history rings for the plots, a frame log, and the replies to
 * our own requests. No SDL here, so the unit tests can feed it hostile lines under ASan.
 *
 * Every value from the socket is untrusted: numbers are NAN when absent, not numbers or not
 * finite; arrays are cut at the fixed capacities below; strings are cut and stripped to
 * printable ASCII before they are stored.
 */
#ifndef BMSRIG_VIZ_MODEL_H
#define BMSRIG_VIZ_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define VIZ_MAX_CELLS     32
#define VIZ_MAX_TEMPS     8
#define VIZ_MAX_UNITS     256
#define VIZ_MAX_LINEFAULT 8
#define VIZ_MAX_EVENTS    256
#define VIZ_MAX_EXPECT    64
#define VIZ_HISTORY       600    /* samples per plot: 60 s at the default state period */
#define VIZ_LOG_LINES     256
#define VIZ_LOG_TEXT      200
#define VIZ_PENDING       64
#define VIZ_STATUS_TEXT   200

/* The JBD protection word (docs/protocols/jbd.md §4), which bmssim's BMS logic uses for every protocol. */
#define VIZ_PROT_BITS 13
extern const char *const viz_prot_names[VIZ_PROT_BITS];
/* The monitor's `why` bits (telemetry contract). */
#define VIZ_WHY_BITS 6
extern const char *const viz_why_names[VIZ_WHY_BITS];

/* Per reading side: the model's truth, the emulated BMS's measurement, the DUT's report. */
enum viz_side { VIZ_TRUTH, VIZ_BMS, VIZ_DUT, VIZ_SIDES };

struct viz_reading {
	int present;                          /* the object was there */
	double pack_mv, current_ma, soc_pct;
	int n_cells, n_temps;
	double cells_mv[VIZ_MAX_CELLS];
	double temps_dk[VIZ_MAX_TEMPS];
	/* Flags below are NAN on the truth side, which has none. */
	double fet_chg, fet_dsg, prot, bal_mask;
	double relay, ok, comm_fail, why;     /* DUT only */
};

/* What the unit's BMS tells an inverter (the state's "limits"); numbers NAN when absent. */
#define VIZ_REQUEST_BITS 5
extern const char *const viz_request_names[VIZ_REQUEST_BITS];
struct viz_limits {
	int present;
	double cvl_mv, ccl_ma, dcl_ma, dvl_mv;
	double request, warn;                 /* masks: enum rig_inv_request, protection bits */
};

struct viz_unit {
	int unit;
	char proto[16], port[64];
	struct viz_reading r[VIZ_SIDES];
	double requested_ma, ambient_dk;
	int n_cell_soc;
	double cell_soc_pct[VIZ_MAX_CELLS];
	double open_wire_mask, force_mask, ntc_open_mask, ntc_short_mask;
	int n_line_faults;
	char line_faults[VIZ_MAX_LINEFAULT][24];
	char link_kind[8], link_state[16];
	struct viz_limits limits;
};

enum viz_chem { VIZ_CHEM_AUTO, VIZ_CHEM_LFP, VIZ_CHEM_NMC };

enum viz_expect_state { VIZ_EXPECT_PENDING, VIZ_EXPECT_PASSED, VIZ_EXPECT_FAILED };

struct viz_scenario {
	char name[80];
	double duration_ms;
	int n_events, n_expect;
	struct { double at_ms; char what[24], id[32]; int fired; } events[VIZ_MAX_EVENTS];
	struct { char name[80]; enum viz_expect_state state; } expect[VIZ_MAX_EXPECT];
};

struct viz_state {
	double t_ms, rate;
	int paused;                           /* -1 unknown */
	int n_units;
	struct viz_unit units[VIZ_MAX_UNITS];
	int has_scenario;
	struct viz_scenario scen;
};

struct viz_sample { double t_ms, pack_mv, current_ma, spread_mv, dut_pack_mv; };

enum viz_log_kind { VIZ_LOG_RX, VIZ_LOG_TX, VIZ_LOG_TIMELINE, VIZ_LOG_EXPECT_OK,
                    VIZ_LOG_EXPECT_FAIL, VIZ_LOG_ACTION, VIZ_LOG_ERROR };

struct viz_log_line {
	enum viz_log_kind kind;
	char text[VIZ_LOG_TEXT];
};

/* A ring of text lines, newest last. */
struct viz_log {
	struct viz_log_line line[VIZ_LOG_LINES];
	unsigned head, count;
};

struct viz_model {
	int have_state;
	struct viz_state st;
	int unit_sel, cell_sel;               /* unit index into st.units, cell 0-based */
	double chem_lo_cut, chem_lo_warn, chem_hi_warn, chem_hi_cut, bar_min_mv, bar_max_mv;
	enum viz_chem chem;                   /* latched from the first cells when AUTO */
	double diff_mv;                       /* DUT vs truth beyond this is highlighted */
	struct viz_sample hist[VIZ_HISTORY];
	unsigned hist_head, hist_count;
	struct viz_log frames, actions;
	struct { long id; char what[64]; } pending[VIZ_PENDING];
	long next_id, last_reply_id;         /* every request answered: last_reply_id == next_id - 1 */
	char status[VIZ_STATUS_TEXT];
	int status_error;
	unsigned long bad_lines, states, frame_events;
	int protocol;                         /* from the hello reply, 0 until then */
	char mode[8];
};

/* What a line was, so the caller can react (e.g. a state event arms the screenshot timer). */
enum viz_line_kind { VIZ_LINE_BAD, VIZ_LINE_STATE, VIZ_LINE_FRAME, VIZ_LINE_TIMELINE,
                     VIZ_LINE_EXPECT, VIZ_LINE_REPLY, VIZ_LINE_OTHER };

/* chem: a fixed choice, or VIZ_CHEM_AUTO to decide from the first cell voltages seen. */
void viz_model_init(struct viz_model *m, enum viz_chem chem, double diff_mv);

/* One line from the socket (without its "\n"); never trusts it. */
enum viz_line_kind viz_model_line(struct viz_model *m, const char *line, size_t len);

/* A request about to be sent: returns its id and remembers what for the reply's status line. */
long viz_model_request(struct viz_model *m, const char *what);

/* The unit on screen, or NULL before the first state. */
const struct viz_unit *viz_model_unit(const struct viz_model *m);

/* The k-th newest history sample (k = 0 is the latest); NULL past the end. */
const struct viz_sample *viz_model_sample(const struct viz_model *m, unsigned k);
/* The k-th newest log line; NULL past the end. */
const struct viz_log_line *viz_log_get(const struct viz_log *l, unsigned k);
void viz_log_add(struct viz_log *l, enum viz_log_kind kind, const char *text);

void viz_model_set_status(struct viz_model *m, int error, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Selecting another unit starts its history afresh (the rings follow the unit on screen). */
void viz_model_select_unit(struct viz_model *m, int unit);

/*
 * The colour scale of a cell bar (README "bmsviz"): red at or below the low cut-off, through
 * orange to green at the low warning level, green between the warnings, through yellow to
 * orange at the high cut-off, red at and above it. rgb[3] out; a NAN voltage is grey.
 */
void viz_cell_colour(const struct viz_model *m, double mv, uint8_t rgb[3]);

/* A bar's fill fraction 0..1 over the chemistry's fixed range. */
double viz_cell_frac(const struct viz_model *m, double mv);

/* Min and max cell index of a reading (-1 when it has no cells). */
void viz_min_max(const struct viz_reading *r, int *imin, int *imax);

/* Copies s into out (cap bytes) keeping printable ASCII only, cut with "..." when too long. */
void viz_clean_text(char *out, size_t cap, const char *s);

#endif
