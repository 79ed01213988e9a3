/* bmsdecode: BMS frames given as hex -> one decoded-frame JSON object each (docs/architecture.md). */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/sim/personality.h"

#ifndef BMSRIG_VERSION
#define BMSRIG_VERSION "0.1"
#endif

#define WIRE_MAX 1024u      /* well past any frame, so an overlong line still gets a real verdict */

enum { EXIT_BAD_FRAME = 1, EXIT_USAGE = 2 };

struct opts {
	const struct personality_ops *proto;   /* its wire_json decodes, its name names */
	int pretty, quiet;
};

static void usage(FILE *to)
{
	fputs("Usage: bmsdecode [--proto NAME] [--pretty] [-q] [HEX...]\n"
	      "Decode BMS frames to JSON, one object per frame (fields as in docs/vectors.md).\n"
	      "\n"
	      "Each HEX argument is one whole frame: hex digits in any case, optionally separated by\n"
	      "spaces, colons or commas, with or without 0x prefixes, e.g. \"DD A5 03 00 FF FD 77\",\n"
	      "dd:a5:03:00:ff:fd:77 or 0xDD,0xA5,0x03,0x00,0xFF,0xFD,0x77. With no HEX arguments,\n"
	      "frames are read from standard input, one per line; blank lines and text after '#' are\n"
	      "skipped. Input that is not hex or not a frame prints {\"error\":...,\"input\":...}.\n"
	      "\n"
	      "Options:\n"
	      "  -p, --proto NAME  protocol of the frames: jbd (default), daly, jk, jk-ble\n"
	      "      --pretty      indented JSON instead of one line per frame\n"
	      "  -q, --quiet       print nothing; the exit status tells\n"
	      "  -h, --help        this text\n"
	      "      --version     print the version and exit\n"
	      "\n"
	      "Exit status: 0 every frame decoded; 1 some input was not hex, not a frame, or had a\n"
	      "payload that does not decode (its object carries \"error\"); 2 usage error.\n", to);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int is_sep(int c)
{
	return isspace(c) || c == ':' || c == ',';
}

/*
 * Tokens between separators, each an optional 0x and an even number of digits: "0xD" is
 * refused rather than read as 0x0D, because a lost nibble would shift every later byte.
 */
static const char *parse_hex(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	*n = 0;
	for (;;) {
		const char *tok;
		size_t digits = 0;

		while (is_sep((unsigned char)*s))
			s++;
		if (!*s)
			return *n ? NULL : "not valid hex: no digits";
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			s += 2;
		tok = s;
		while (*s && !is_sep((unsigned char)*s)) {
			if (hexval((unsigned char)*s) < 0)
				return "not valid hex: a character is not a hex digit";
			s++;
			digits++;
		}
		if (digits == 0)
			return "not valid hex: 0x without digits";
		if (digits % 2)
			return "not valid hex: odd number of digits";
		for (size_t i = 0; i < digits; i += 2) {
			if (*n == cap)
				return "too many bytes for one frame";
			out[(*n)++] = (uint8_t)(hexval((unsigned char)tok[i]) << 4 |
					       hexval((unsigned char)tok[i + 1]));
		}
	}
}

static void emit(const struct opts *o, cJSON *obj)
{
	char *s;

	if (o->quiet)
		return;
	s = o->pretty ? cJSON_Print(obj) : cJSON_PrintUnformatted(obj);
	if (s) {
		puts(s);
		cJSON_free(s);
	}
}

/* Decodes one frame's text; returns 1 when it fully decoded, 0 otherwise. */
static int decode_one(const struct opts *o, const char *text)
{
	uint8_t wire[WIRE_MAX];
	size_t n;
	const char *err = parse_hex(text, wire, sizeof wire, &n);
	cJSON *obj = NULL, *bad;
	int ok;

	if (!err) {
		obj = o->proto->wire_json(wire, n);
		if (!obj)
			err = "out of memory";
		else if (!cJSON_HasObjectItem(obj, "kind"))
			err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "error"));
	}
	if (err) {
		bad = cJSON_CreateObject();
		if (bad) {
			cJSON_AddStringToObject(bad, "error", err ? err : "not a frame");
			cJSON_AddStringToObject(bad, "input", text);
			emit(o, bad);
			cJSON_Delete(bad);
		}
		cJSON_Delete(obj);
		return 0;
	}
	emit(o, obj);
	ok = !cJSON_HasObjectItem(obj, "error");
	cJSON_Delete(obj);
	return ok;
}

/* Strips the '#' comment and surrounding blanks in place; returns NULL for nothing left. */
static char *frame_text(char *line)
{
	char *hash = strchr(line, '#'), *end;

	if (hash)
		*hash = '\0';
	while (isspace((unsigned char)*line))
		line++;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return *line ? line : NULL;
}

static int decode_stdin(const struct opts *o)
{
	char *line = NULL, *text;
	size_t cap = 0;
	int all_ok = 1;

	while (getline(&line, &cap, stdin) >= 0)
		if ((text = frame_text(line)) != NULL)
			all_ok &= decode_one(o, text);
	free(line);
	return all_ok;
}


int main(int argc, char **argv)
{
	enum { OPT_PRETTY = 256, OPT_VERSION };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "proto", required_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "pretty", no_argument, NULL, OPT_PRETTY },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { personality_table[0], 0, 0 };
	int c, all_ok = 1;

	while ((c = getopt_long(argc, argv, "hp:q", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'p':
			o.proto = personality_find(optarg);
			if (!o.proto) {
				fprintf(stderr, "bmsdecode: unknown protocol '%s' (supported:", optarg);
				for (size_t i = 0; personality_table[i]; i++)
					fprintf(stderr, " %s", personality_table[i]->name);
				fputs(")\n", stderr);
				return EXIT_USAGE;
			}
			break;
		case 'q':
			o.quiet = 1;
			break;
		case OPT_PRETTY:
			o.pretty = 1;
			break;
		case OPT_VERSION:
			printf("bmsdecode (bmsrig) %s\n", BMSRIG_VERSION);
			return 0;
		default:
			fputs("Try 'bmsdecode --help'.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind == argc)
		all_ok = decode_stdin(&o);
	for (; optind < argc; optind++)
		all_ok &= decode_one(&o, argv[optind]);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("bmsdecode: stdout");
		return EXIT_BAD_FRAME;
	}
	return all_ok ? EXIT_SUCCESS : EXIT_BAD_FRAME;
}
