/* Option values for the command-line programs: parsed whole, range-checked, and on failure one
 * line on stderr in the form `prog: --opt: expected ..., got "..."`. */
#ifndef BMSRIG_CLI_H
#define BMSRIG_CLI_H

#include <stdint.h>

#define CLI_EXIT_USAGE 2   /* bad flags, bad input files, ports that cannot be opened */

int cli_u32(const char *prog, const char *opt, const char *s, uint32_t min, uint32_t max,
            uint32_t *out);
int cli_double(const char *prog, const char *opt, const char *s, double min, double max,
               double *out);
/* s must be one of the NULL-terminated words; *out gets its index. */
int cli_word(const char *prog, const char *opt, const char *s, const char *const *words, int *out);

/* An error message made one line in place: control characters (a newline inside a JSON key or
 * an argument that a message quotes) become '?'. */
void cli_one_line(char *msg);

#endif
