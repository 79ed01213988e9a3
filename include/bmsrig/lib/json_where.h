/* Where in a JSON text a value stands, for errors in the form file:line:column. cJSON keeps no
 * positions, so this walks the text along a path of object keys and array indices. */
#ifndef BMSRIG_JSON_WHERE_H
#define BMSRIG_JSON_WHERE_H

#include <stddef.h>

/* One step of a path: a key (array index ignored) or, with key NULL, an array index. */
struct json_step {
	const char *key;
	unsigned index;
};

/* Line and column (1-based) of the value at path, or of the key naming it when key_pos is set.
 * Returns 0 when the path is not in the text. */
int json_where(const char *text, const struct json_step *path, unsigned depth, int key_pos,
               unsigned *line, unsigned *col);
/* Line and column of a byte offset (cJSON_GetErrorPtr() - text for syntax errors). */
void json_offset_where(const char *text, size_t offset, unsigned *line, unsigned *col);

#endif
