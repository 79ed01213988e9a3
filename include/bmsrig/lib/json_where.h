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

/*
 * Repeated keys. cJSON keeps both members of {"a": 1, "a": 2} and a lookup silently takes the
 * first, so every reader of a user's JSON refuses them, through these.
 * json_key_repeated: 1 when it's key is also the key of a member of obj before it.
 * json_find_repeat: the first member (document order) whose key its object already has, with
 * its path in path[0..*depth) (keys and indices, for json_where); NULL when there is none or
 * it lies deeper than cap steps.
 */
struct cJSON;
int json_key_repeated(const struct cJSON *obj, const struct cJSON *it);
const struct cJSON *json_find_repeat(const struct cJSON *root, struct json_step *path, unsigned cap,
                                     unsigned *depth);

#endif
