/*
 * The scenario loader's reader (sim/scenario.c), for the parts of a scenario file that belong
 * to its caller: bmssim run's judge reads the `dut` and `expect` sections (hil/scenario_judge.c)
 * with the same walker, so their errors are the same strict located lines
 * "FILE:LINE:COLUMN: path: what was expected".
 *
 * Every object is read through a table of fields (key, JSON type, range, where it is stored):
 * unknown and repeated keys are refused first, then the fields are taken in table order.
 */
#ifndef BMSRIG_SCENARIO_READER_H
#define BMSRIG_SCENARIO_READER_H

#include <stddef.h>
#include <stdint.h>
#include "bmsrig/core/rc.h"
#include "bmsrig/sim/scenario.h"

struct cJSON;
struct scen_reader;

#define SCEN_TIME_MAX_MS (UINT32_C(49) * 24u * 3600u * 1000u)   /* 49 days: well inside uint32 ms */
#define SCEN_GOT_MAX     40u         /* longest value quoted back in a message */

enum scen_ftype {
	SCEN_T_SKIP,       /* read before the walk (a kind that decides which keys exist) */
	SCEN_T_TIME,       /* "2m30s" into uint32 ms, min..max ms */
	SCEN_T_NUM,        /* double */
	SCEN_T_INT,        /* a whole number into an unsigned of .size bytes, or a double (size 8) */
	SCEN_T_BOOL,       /* uint8 */
	SCEN_T_TEXT,       /* a string of min..max bytes into char[.size] */
	SCEN_T_SCALAR,     /* a string or a number, as text into char[.size] */
	SCEN_T_CELL,       /* 1..pack cells into a 0-based int */
	SCEN_T_NTC,        /* 1..pack probes into a 0-based int */
	SCEN_T_DK,         /* degC min..max into uint16 0.1 K */
	SCEN_T_DK_DELTA,   /* degC min..max into uint16 0.1 K, a difference */
	SCEN_T_SPEC_NUM,   /* a number for spec_set(.spec) */
	SCEN_T_SPEC_STR,   /* a string for spec_set(.spec) */
	SCEN_T_SPEC_ANY,   /* a number or a string for spec_set(.spec) */
	SCEN_T_OBJ,        /* an object for .fn */
	SCEN_T_ARR,        /* an array for .fn */
	SCEN_T_FN          /* anything: .fn checks it */
};

#define SCEN_REQ    1u    /* a missing key is an error */
#define SCEN_ALWAYS 2u    /* .fn runs with v NULL when the key is missing (defaults that follow) */

typedef rig_rc scen_field_fn(struct scen_reader *r, const struct cJSON *v, void *base);

struct scen_field {
	const char *key;
	uint8_t type, flags;
	double min, max;
	size_t off, size;            /* in the walk's base struct */
	uint32_t only;               /* the key exists only under these mask bits; 0 = always */
	scen_field_fn *fn;
	const char *spec;            /* the spec_set key */
};

#define SCEN_MEMBER(type, m) offsetof(type, m), sizeof(((type *)0)->m)
#define SCEN_FNF(k, t, flags, fn, only) { k, t, flags, 0, 0, 0, 0, only, fn, NULL }

/*
 * Top-level keys a caller reads itself. Each is taken in the file's walk just before the key
 * `before` (NULL: after the last), so its place among the others (what it may depend on, the
 * order keys are listed in an "unknown key" message) is the caller's choice. fn gets the part's
 * ctx through scen_reader_part.
 */
struct scen_part_key {
	const char *key;
	const char *before;
	uint8_t type, flags;         /* SCEN_T_OBJ or SCEN_T_ARR; SCEN_REQ, SCEN_ALWAYS */
	scen_field_fn *fn;
};

#define SCEN_PART_KEYS_MAX 8u

struct scenario_part {
	const struct scen_part_key *keys;
	unsigned n_keys;
	void *ctx;
};

/* scenario_load / scenario_parse with a caller's part (NULL: none). */
rig_rc scenario_load_part(struct scenario *s, const char *path, long long seed_override,
                          const struct scenario_part *part, char *err, size_t errcap);
rig_rc scenario_parse_part(struct scenario *s, const char *text, size_t len, const char *path,
                           long long seed_override, int read_files, const struct scenario_part *part,
                           char *err, size_t errcap);

/* ---- for a part's fn ------------------------------------------------------------------------ */

/* The scenario read so far (every key before this one) and the part's ctx. */
const struct scenario *scen_reader_scenario(const struct scen_reader *r);
void *scen_reader_part(const struct scen_reader *r);
/* An object through tab under mask; seen (may be NULL) gets bit i for each tab[i] present. */
rig_rc scen_walk(struct scen_reader *r, const struct cJSON *obj, const struct scen_field *tab, size_t n,
                 uint32_t mask, void *base, uint64_t *seen);
int scen_was_seen(const struct scen_field *tab, size_t n, uint64_t seen, const char *key);
/* Each item of an array through one(), at most max of them; *count follows the items read. */
rig_rc scen_each_item(struct scen_reader *r, const struct cJSON *v, unsigned max, const char *what,
                      rig_rc (*one)(struct scen_reader *r, const struct cJSON *v, void *item), void *items,
                      size_t item_size, unsigned *count);
void scen_push(struct scen_reader *r, const char *key);
void scen_push_i(struct scen_reader *r, unsigned index);   /* an array item */
void scen_pop(struct scen_reader *r);
/* An error at the current path's value (or its key, key_pos): RIG_ERR_ARG. */
__attribute__((format(printf, 3, 4)))
rig_rc scen_fail(struct scen_reader *r, int key_pos, const char *fmt, ...);
/* An error at byte i of the current string value's decoded text (an expression's column). */
__attribute__((format(printf, 3, 4)))
rig_rc scen_fail_in_string(struct scen_reader *r, unsigned i, const char *fmt, ...);
/* The value of key in obj, which a check after the walk refused: "expected EXPECTED, got ...". */
rig_rc scen_fail_key(struct scen_reader *r, const struct cJSON *obj, const char *key, const char *expected);
/* What a value is, for "got ...": "40", "abc" (quoted), or its type (with_type). */
const char *scen_got(const struct scen_reader *r, const struct cJSON *v, int with_type, char *out, size_t cap);
/* 90000 ms as "1m30s". */
const char *scen_fmt_time(uint32_t ms, char *buf, size_t cap);

#endif
