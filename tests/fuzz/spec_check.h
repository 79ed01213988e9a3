/* The promises of spec.h every parsed `--bms` spec or `--config` file keeps (fuzz_bms_spec,
 * fuzz_config). */
#ifndef BMSRIG_TESTS_FUZZ_SPEC_CHECK_H
#define BMSRIG_TESTS_FUZZ_SPEC_CHECK_H

#include "bmsrig/sim/spec.h"

/* The first n specs of s[0..n) are in range, and bmssim's next steps (spec_resolve, spec_group)
 * take them or refuse them with a one-line reason; abort() otherwise. */
void fuzz_check_specs(struct bms_spec *s, unsigned n);

#endif
