/* bmsdecode: BMS frames given as hex -> one decoded-frame JSON object each (docs/architecture.md). */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bmsrig/lib/capture.h"
#include "bmsrig/lib/file.h"
#include "bmsrig/lib/hex.h"
#include "bmsrig/sim/personality.h"
#include "bmsrig/sim/pylon_rs485_json.h"
#include "bmsrig/sim/pylon_rs485_personality.h"

#ifndef BMSRIG_VERSION
#define BMSRIG_VERSION "0.1"
#endif

#define WIRE_MAX 4608u      /* well past any frame (a 15-module Pylontech answer is 2 KB), so an
                             * overlong line still gets a real verdict */
/* A stdin line longer than this is refused, not read: WIRE_MAX bytes as "0xDD, " fit. */
#define LINE_MAX_BYTES 8192u
/* An error object quotes this much of its input, then "...(N bytes)": a 10 MB argument must
 * not come back as a 10 MB line. */
#define EXCERPT_MAX 32u

enum { EXIT_BAD_FRAME = 1, EXIT_USAGE = 2 };

struct opts {
	const struct personality_ops *proto;   /* its wire_json decodes, its name names */
	int pretty, quiet;
	int proto_given;                       /* --proto: it decodes a capture's lines too */
	int capture;                           /* the input is a capture log (docs/capture.md) */
	struct host_capture_header cap_head;   /* what its header said so far */
	int last_cmd;                          /* Pylontech: the CID2 of the last request seen, so
	                                        * the response on the next line decodes as its
	                                        * answer; -1 before any */
};

/* Protocols whose frames are text, handed to wire_json as written rather than read as hex:
 * CAN frames as candump "ID#DATA" or slcan lines. In their input a '#' starts a comment only at
 * the start of a line or after a blank, since "351#..." is a frame. */
static const char *const text_protos[] = { "pylontech-can" };

static int is_text_proto(const struct opts *o)
{
	for (size_t i = 0; i < sizeof text_protos / sizeof text_protos[0]; i++)
		if (!strcmp(o->proto->name, text_protos[i]))
			return 1;
	return 0;
}

static void usage(FILE *to)
{
	fputs("Usage: bmsdecode [--proto NAME] [--pretty] [-q] [HEX...]\n"
	      "       bmsdecode [options] --capture FILE\n"
	      "Decode BMS frames to JSON, one object per frame (fields as in docs/vectors.md).\n"
	      "\n"
	      "Each HEX argument is one whole frame: hex digits in any case, optionally separated by\n"
	      "spaces, colons or commas, with or without 0x prefixes, e.g. \"DD A5 03 00 FF FD 77\",\n"
	      "dd:a5:03:00:ff:fd:77 or 0xDD,0xA5,0x03,0x00,0xFF,0xFD,0x77. With no HEX arguments,\n"
	      "frames are read from standard input, one per line; blank lines and text after '#' are\n"
	      "skipped. Input that is not hex or not a frame prints {\"error\":...,\"input\":...}, the\n"
	      "input quoted as its first 32 characters and \"...(N bytes)\". A stdin line longer than\n"
	      "8192 bytes or holding a NUL byte is refused with its place (stdin:LINE[:COLUMN]: ...).\n"
	      "\n"
	      "An ASCII frame (pylontech-rs485) may be given as its text instead: ~20024642E00202FD33,\n"
	      "the closing CR optional. A response decodes as the answer to the request on the line\n"
	      "before it; alone, only its address, rtn and info_len are known.\n"
	      "\n"
	      "A capture log (docs/capture.md: bmssim serve --capture, bmsctl tap) is read whole,\n"
	      "from --capture FILE or from stdin when its first line is the capture header: each\n"
	      "frame line prints its decoded object with \"t_us\" (its time stamp) and \"dir\" (rx,\n"
	      "client to BMS; tx, BMS to client) added, decoded as the line's protocol (or the\n"
	      "header's, or --proto when given). A line that is not a frame line prints\n"
	      "{\"error\":\"FILE:LINE: expected ...\"}.\n"
	      "\n"
	      "Options:\n"
	      "  -p, --proto NAME  protocol of the frames: jbd (default), daly, jk, jk-ble,\n"
	      "                    byd (BYD PRO 2.5 RS485, a read or its 105-byte reply),\n"
	      "                    deye-modbus (a Modbus RTU request or response, either direction),\n"
	      "                    jk-pb (a JK-PB RS485 Modbus frame, or a 300/308-byte record answer),\n"
	      "                    pylontech-rs485 (the ASCII frame or its hex),\n"
	      "                    pylontech-can (frames as candump ID#DATA, e.g.\n"
	      "                    351#1402C012C012C201, or slcan lines, e.g. t355458005E00),\n"
	      "                    thornwave (an ATT PDU, the 52-byte PowerMon value, or a\n"
	      "                    COBS-framed monitor frame of newer firmware)\n"
	      "  -c, --capture FILE  decode the frames of a capture log\n"
	      "      --pretty      indented JSON instead of one line per frame\n"
	      "  -q, --quiet       print nothing; the exit status tells\n"
	      "  -h, --help        this text\n"
	      "      --version     print the version and exit\n"
	      "\n"
	      "Exit status: 0 every frame decoded; 1 some input was not hex, not a frame, or had a\n"
	      "payload that does not decode (its object carries \"error\"); 2 usage error.\n", to);
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

/* {"error": err, "input": the first EXCERPT_MAX bytes of p[0..n), then "...(N bytes)"}. A byte
 * outside printable ASCII shows as '?': hex is ASCII, and a cut UTF-8 sequence or a NUL would
 * make the excerpt something else than text. */
static void emit_error(const struct opts *o, const char *err, const char *p, size_t n)
{
	char shown[EXCERPT_MAX + 32];
	size_t k = n < EXCERPT_MAX ? n : EXCERPT_MAX;
	cJSON *bad = cJSON_CreateObject();

	for (size_t i = 0; i < k; i++)
		shown[i] = (unsigned char)p[i] >= 0x20u && (unsigned char)p[i] < 0x7Fu ? p[i] : '?';
	shown[k] = '\0';
	if (n > k)
		snprintf(shown + k, sizeof shown - k, "...(%zu bytes)", n);
	if (bad) {
		cJSON_AddStringToObject(bad, "error", err);
		cJSON_AddStringToObject(bad, "input", shown);
		emit(o, bad);
		cJSON_Delete(bad);
	}
}

/* An ASCII frame ('~' ... with or without its CR) as wire bytes; NULL when text is not one. '~'
 * is no hex digit, so this never takes input meant as hex. */
static const char *ascii_frame(const char *text, uint8_t *wire, size_t cap, size_t *n)
{
	size_t len = strlen(text);

	if (text[0] != '~')
		return "not an ASCII frame";
	if (len >= 2 && text[len - 2] == '\\' && text[len - 1] == 'r')
		len -= 2;                      /* "\r" written out, as captures print it */
	else if (text[len - 1] == '\r')
		len--;
	if (len + 1 > cap)
		return "frame too long";
	memcpy(wire, text, len);
	wire[len] = '\r';
	*n = len + 1;
	return NULL;
}

static cJSON *decode_wire(struct opts *o, const struct personality_ops *proto, const uint8_t *wire, size_t n,
                          const char **err);

/* Decodes one frame's text; returns 1 when it fully decoded, 0 otherwise. */
static int decode_one(struct opts *o, const char *text)
{
	static uint8_t wire[WIRE_MAX];
	size_t n;
	const char *err = NULL;
	cJSON *obj = NULL;
	int ok;

	if (is_text_proto(o)) {
		n = strlen(text);
		if (n > sizeof wire)
			err = "frame text too long";
		else
			memcpy(wire, text, n);
	} else if (text[0] == '~') {   /* a Pylontech RS485 frame as its ASCII text */
		err = ascii_frame(text, wire, sizeof wire, &n);
	} else {
		err = host_hex_parse(text, wire, sizeof wire, &n);
	}
	if (!err)
		obj = decode_wire(o, o->proto, wire, n, &err);
	if (err) {
		emit_error(o, err, text, strlen(text));
		cJSON_Delete(obj);
		return 0;
	}
	emit(o, obj);
	ok = !cJSON_HasObjectItem(obj, "error");
	cJSON_Delete(obj);
	return ok;
}

/* The frame decoded as proto; *err set (and the object, if any, returned for freeing) when it
 * is not one. */
static cJSON *decode_wire(struct opts *o, const struct personality_ops *proto, const uint8_t *wire, size_t n,
                          const char **err)
{
	cJSON *obj;

	{
		if (proto == &pylon_rs485_personality_ops) {
			obj = pylon_rs485_wire_json_cmd(wire, n, o->last_cmd);
			if (obj && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(obj, "kind")))
				o->last_cmd = !strcmp(cJSON_GetObjectItemCaseSensitive(obj, "kind")->valuestring,
				                      "request")
				                      ? (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(obj, "cmd"))
				                      : -1;
		} else {
			obj = proto->wire_json(wire, n);
		}
		if (!obj)
			*err = "out of memory";
		else if (!cJSON_HasObjectItem(obj, "kind"))
			*err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, "error"));
	}
	return obj;
}

/* One line of a capture log: a frame line prints its decoded object with its time stamp and
 * direction; comments and blank lines print nothing. Returns 1 unless the line was bad. */
static int decode_capture_line(struct opts *o, const char *where, unsigned long lineno, const char *line)
{
	static struct host_capture_frame f;
	enum host_capture_line kind;
	const char *why = host_capture_parse_line(line, &o->cap_head, &f, &kind), *err = NULL;
	const struct personality_ops *proto = o->proto;
	char msg[200];
	cJSON *obj;
	int ok;

	if (!why && kind != HOST_CAPTURE_LINE_FRAME)
		return 1;
	if (!why && !o->proto_given &&
	    !(proto = personality_find(strcmp(f.proto, "-") ? f.proto : o->cap_head.protocol)))
		why = "a protocol bmsdecode knows on the line or in the header, or --proto";
	if (why) {
		snprintf(msg, sizeof msg, "%s:%lu: expected %s", where, lineno, why);
		emit_error(o, msg, line, strcspn(line, "\r\n"));
		return 0;
	}
	obj = decode_wire(o, proto, f.bytes, f.len, &err);
	if (err) {
		snprintf(msg, sizeof msg, "%s:%lu: %s", where, lineno, err);
		emit_error(o, msg, line, strcspn(line, "\r\n"));
		cJSON_Delete(obj);
		return 0;
	}
	cJSON_AddNumberToObject(obj, "t_us", (double)f.t_us);
	cJSON_AddStringToObject(obj, "dir", f.dir == HOST_CAPTURE_RX ? "rx" : "tx");
	emit(o, obj);
	ok = !cJSON_HasObjectItem(obj, "error");
	cJSON_Delete(obj);
	return ok;
}

/* Strips the '#' comment and surrounding blanks in place; returns NULL for nothing left. */
static char *frame_text(const struct opts *o, char *line)
{
	char *hash = strchr(line, '#'), *end;

	/* "351#1402..." is a CAN frame: there only a '#' first or after a blank is a comment. */
	while (hash && is_text_proto(o) && hash > line && !isspace((unsigned char)hash[-1]))
		hash = strchr(hash + 1, '#');

	if (hash)
		*hash = '\0';
	while (isspace((unsigned char)*line))
		line++;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return *line ? line : NULL;
}

/*
 * One line of f into line[0..LINE_MAX_BYTES] (NUL-terminated, no newline); *len its whole
 * length, which passes LINE_MAX_BYTES for a line read only to its end. 0 at the end of input.
 */
static int read_line(FILE *f, char *line, size_t *len)
{
	int c;

	*len = 0;
	while ((c = getc(f)) != EOF && c != '\n') {
		if (*len < LINE_MAX_BYTES)
			line[*len] = (char)c;
		(*len)++;
	}
	line[*len < LINE_MAX_BYTES ? *len : LINE_MAX_BYTES] = '\0';
	return c != EOF || *len > 0;
}

/* --capture FILE, line by line. 0 (said on stderr) when the file cannot be read or is no
 * capture; else 1 when every line was good. */
static int decode_capture_file(struct opts *o, const char *path, int *all_ok)
{
	char err[600], *line = NULL;
	size_t cap = 0;
	unsigned long lineno = 0;
	FILE *f = host_file_open_read(path, err, sizeof err);
	ssize_t got;

	if (!f) {
		fprintf(stderr, "bmsdecode: %s\n", err);
		return 0;
	}
	while ((got = getline(&line, &cap, f)) > 0) {
		if (++lineno == 1 && !host_capture_detect(line, (size_t)got)) {
			fprintf(stderr, "bmsdecode: %s:1: expected the capture header \"%s\"\n", path, HOST_CAPTURE_MAGIC);
			free(line);
			fclose(f);
			return 0;
		}
		if ((size_t)got > HOST_CAPTURE_LINE_MAX || memchr(line, '\0', (size_t)got)) {
			snprintf(err, sizeof err, "%s:%lu: expected a line of at most %u bytes without NUL", path, lineno,
			         HOST_CAPTURE_LINE_MAX);
			emit_error(o, err, line, (size_t)got);
			*all_ok = 0;
			continue;
		}
		*all_ok &= decode_capture_line(o, path, lineno, line);
	}
	free(line);
	fclose(f);
	return 1;
}

static int decode_stdin(struct opts *o)
{
	static char line[LINE_MAX_BYTES + 1];
	char why[96], *text, *nul;
	size_t len;
	unsigned long lineno = 0;
	int all_ok = 1;

	while (read_line(stdin, line, &len)) {
		lineno++;
		if (len > LINE_MAX_BYTES) {
			snprintf(why, sizeof why, "stdin:%lu: line longer than %u bytes", lineno, LINE_MAX_BYTES);
			emit_error(o, why, line, len);
			all_ok = 0;
		} else if ((nul = memchr(line, '\0', len)) != NULL) {
			/* The hex reader would stop there and decode a cut frame as if it were whole. */
			snprintf(why, sizeof why, "stdin:%lu:%zu: NUL byte in input", lineno, (size_t)(nul - line) + 1);
			emit_error(o, why, line, len);
			all_ok = 0;
		} else if (lineno == 1 && host_capture_detect(line, len)) {
			o->capture = 1;
		} else if (o->capture) {
			all_ok &= decode_capture_line(o, "stdin", lineno, line);
		} else if ((text = frame_text(o, line)) != NULL) {
			all_ok &= decode_one(o, text);
		}
	}
	if (ferror(stdin)) {
		perror("bmsdecode: stdin");
		all_ok = 0;
	}
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
		{ "capture", required_argument, NULL, 'c' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	static struct opts o;
	const char *capture = NULL;
	int c, all_ok = 1;

	o.proto = personality_table[0];
	o.last_cmd = -1;
	while ((c = getopt_long(argc, argv, "hp:qc:", longopts, NULL)) != -1) {
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
			o.proto_given = 1;
			break;
		case 'c':
			capture = optarg;
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
	if (capture && optind != argc) {
		fputs("bmsdecode: --capture FILE: expected no HEX arguments beside it\n", stderr);
		return EXIT_USAGE;
	}
	if (capture) {
		if (!decode_capture_file(&o, capture, &all_ok))
			return EXIT_USAGE;
	} else if (optind == argc)
		all_ok = decode_stdin(&o);
	for (; optind < argc; optind++)
		all_ok &= decode_one(&o, argv[optind]);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("bmsdecode: stdout");
		return EXIT_BAD_FRAME;
	}
	return all_ok ? EXIT_SUCCESS : EXIT_BAD_FRAME;
}
