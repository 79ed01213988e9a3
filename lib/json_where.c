/* json_where: a JSON walker that only skips values, to find where one begins. */
#include <ctype.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "bmsrig/lib/json_where.h"

static const char *ws(const char *p)
{
	while (*p && isspace((unsigned char)*p))
		p++;
	return p;
}

/* Past one string starting at the quote; NULL if it never ends. */
static const char *skip_string(const char *p)
{
	for (p++; *p; p++) {
		if (*p == '\\' && p[1])
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Past one value of any kind. */
static const char *skip_value(const char *p)
{
	int depth = 0;

	p = ws(p);
	do {
		if (!*p)
			return NULL;
		if (*p == '"') {
			p = skip_string(p);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (depth == 0 && (*p == ',' || isspace((unsigned char)*p)))
			return p;
		p++;
	} while (depth > 0 || (*p && !strchr(",}] \t\r\n", *p)));
	return p;
}

/* The value for key inside the object at p (or the key itself when want_key). */
static const char *find_key(const char *p, const char *key, int want_key)
{
	size_t klen = strlen(key);

	p = ws(p);
	if (*p != '{')
		return NULL;
	p = ws(p + 1);
	while (*p == '"') {
		const char *k = p, *end = skip_string(p);

		if (!end)
			return NULL;
		p = ws(end);
		if (*p != ':')
			return NULL;
		p = ws(p + 1);
		if ((size_t)(end - k - 2) == klen && !strncmp(k + 1, key, klen))
			return want_key ? k : p;
		p = skip_value(p);
		if (!p)
			return NULL;
		p = ws(p);
		if (*p == ',')
			p = ws(p + 1);
	}
	return NULL;
}

static const char *find_index(const char *p, unsigned index)
{
	unsigned i;

	p = ws(p);
	if (*p != '[')
		return NULL;
	p = ws(p + 1);
	for (i = 0; *p && *p != ']'; i++) {
		if (i == index)
			return p;
		p = skip_value(p);
		if (!p)
			return NULL;
		p = ws(p);
		if (*p == ',')
			p = ws(p + 1);
	}
	return NULL;
}

void json_offset_where(const char *text, size_t offset, unsigned *line, unsigned *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < offset && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int json_where(const char *text, const struct json_step *path, unsigned depth, int key_pos,
               unsigned *line, unsigned *col)
{
	const char *p = ws(text);
	unsigned i;

	for (i = 0; i < depth && p; i++)
		p = path[i].key ? find_key(p, path[i].key, key_pos && i == depth - 1) : find_index(p, path[i].index);
	if (!p)
		return 0;
	json_offset_where(text, (size_t)(p - text), line, col);
	return 1;
}

int json_key_repeated(const cJSON *obj, const cJSON *it)
{
	const cJSON *prev;

	for (prev = obj->child; prev && prev != it; prev = prev->next)
		if (prev->string && it->string && !strcmp(prev->string, it->string))
			return 1;
	return 0;
}

static const cJSON *find_repeat(const cJSON *node, struct json_step *path, unsigned cap, unsigned d,
                                unsigned *depth)
{
	const cJSON *it, *found;
	unsigned i = 0;

	if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
		return NULL;
	for (it = node->child; it; it = it->next, i++) {
		if (d >= cap)
			return NULL;
		path[d] = cJSON_IsObject(node) ? (struct json_step){ it->string, 0 } : (struct json_step){ NULL, i };
		if (cJSON_IsObject(node) && json_key_repeated(node, it)) {
			*depth = d + 1;
			return it;
		}
		if ((found = find_repeat(it, path, cap, d + 1, depth)))
			return found;
	}
	return NULL;
}

const cJSON *json_find_repeat(const cJSON *root, struct json_step *path, unsigned cap, unsigned *depth)
{
	*depth = 0;
	return find_repeat(root, path, cap, 0, depth);
}
