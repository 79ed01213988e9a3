/*
 * Capture logs (docs/capture.md): every frame that crossed a BMS line, both ways, one text line
 * each, in the spirit of can-utils' candump log:
 *
 *   # bmsrig capture 1
 *   # protocol: jbd
 *   # baud: 9600
 *   # link: /dev/pts/5
 *   (1733600000.123456) rx jbd DDA50300FFFD77
 *   (1733600000.131002) tx jbd DD0300...77  # {"kind":"basic",...}
 *
 * rx is what the client sent to the BMS, tx what the BMS sent; the time stamp is the wall clock
 * in microseconds; the protocol token is "-" when the writer could not name it. Text after '#'
 * is a comment (the decoded frame), never read back. One writer and one reader, shared by
 * `bmssim serve --capture`, `bmsctl tap`, `bmssim replay` and `bmsdecode --capture`.
 */
#ifndef BMSRIG_LIB_CAPTURE_H
#define BMSRIG_LIB_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bmsrig/core/rc.h"
#include "bmsrig/lib/file.h"

#define HOST_CAPTURE_MAGIC "# bmsrig capture 1"
#define HOST_CAPTURE_FRAME_MAX 4608u    /* bytes in one frame, past any protocol's longest */
#define HOST_CAPTURE_PROTO_MAX 32u      /* a protocol token, NUL included */
/* A line longer than this is refused by the reader: the hex of the longest frame and its
 * decoded comment fit. */
#define HOST_CAPTURE_LINE_MAX 65536u

enum host_capture_dir { HOST_CAPTURE_RX = 0, HOST_CAPTURE_TX = 1 };

/* What the header comment says of the line; empty / 0 when it does not say. */
struct host_capture_header {
	char protocol[HOST_CAPTURE_PROTO_MAX];
	uint32_t baud;
	char link[256];
};

struct host_capture_frame {
	uint64_t t_us;
	enum host_capture_dir dir;
	char proto[HOST_CAPTURE_PROTO_MAX];
	size_t len;
	uint8_t bytes[HOST_CAPTURE_FRAME_MAX];
};

/* ---- writing ---- */

struct host_capture_out {
	struct host_file_out file;       /* a named file: written aside, renamed over at close */
	FILE *f;                         /* where lines go: file.f or stdout */
	int to_stdout;
	uint32_t frames;
};

/* Opens path ("-": stdout, flushed each line for a live view) and writes the header.
 * One line in err. */
rig_rc host_capture_open(struct host_capture_out *w, const char *path, const struct host_capture_header *h,
                         char *err, size_t errcap);
/* One frame. proto NULL or "" is written "-"; comment (may be NULL) goes after "  # " with any
 * line break in it turned into a blank, so a frame stays one line. */
void host_capture_write(struct host_capture_out *w, uint64_t t_us, enum host_capture_dir dir, const char *proto,
                        const uint8_t *p, size_t n, const char *comment);
/* A named file is committed (it appears whole, or not at all); stdout is flushed. */
rig_rc host_capture_close(struct host_capture_out *w, char *err, size_t errcap);
/* The wall clock in microseconds, as the time stamps are written. */
uint64_t host_capture_now_us(void);

/* ---- reading ---- */

enum host_capture_line { HOST_CAPTURE_LINE_FRAME, HOST_CAPTURE_LINE_NOTE };

/*
 * One line of a capture (without or with its '\n'). A frame line fills *f and gives
 * HOST_CAPTURE_LINE_FRAME; a blank line or a comment gives HOST_CAPTURE_LINE_NOTE, and a header
 * comment ("# protocol: jbd", "# baud: 9600", "# link: ...") also fills that field of *h.
 * NULL on success, else why, a constant phrase naming what was expected
 * ("a time stamp \"(SECONDS.MICROSECONDS)\"", ...).
 */
const char *host_capture_parse_line(const char *line, struct host_capture_header *h,
                                    struct host_capture_frame *f, enum host_capture_line *kind);

/* 1 when text (a file's start) begins with the capture header line. */
int host_capture_detect(const char *text, size_t n);

#endif
