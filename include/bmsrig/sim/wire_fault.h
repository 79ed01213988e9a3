/*
 * Line faults between an emulated BMS and its client, protocol-blind: what a noisy RS485 pair,
 * a half-dead USB adapter or a misconfigured port does to the bytes (docs/field-notes.md §2.3, §3.2).
 * Each fault is switched on with a rate (the share of replies it hits, drawn from a seeded
 * generator) and one parameter. Pure functions on byte buffers: the emulator applies them to
 * each reply before the link model and the transport carry it.
 */
#ifndef BMSRIG_WIRE_FAULT_H
#define BMSRIG_WIRE_FAULT_H

#include <stddef.h>
#include <stdint.h>

enum wire_fault_kind {
	WF_NO_REPLY = 0,    /* the reply is lost */
	WF_LATE_REPLY,      /* param: extra delay in ms */
	WF_CORRUPT,         /* one byte in the middle of the frame flips a bit: the checksum fails */
	WF_TRUNCATE,        /* only the first half of the frame (param > 0: the first param bytes) */
	WF_OVERSIZE,        /* the frame's first bytes, then param (default 600) filler bytes before
	                     * the real frame: a length no receive buffer holds */
	WF_GARBAGE,         /* param (default 16) random bytes before the frame */
	WF_DROP_BYTES,      /* param (default 1) bytes at random positions are lost */
	WF_DUP_BYTES,       /* param (default 1) bytes at random positions arrive twice */
	WF_BAUD,            /* the client listens at param baud: the line is resampled, both ways */
	WF_MUTE_DUT,        /* what the client (the DUT) sends is lost: its requests, an inverter's
	                     * keep-alive; rate is the share of its writes lost. Replies untouched. */
	WF_COUNT
};

/* "no_reply", "late_reply", "corrupt_checksum", "truncate_frame", "oversize_frame",
 * "garbage", "drop_bytes", "dup_bytes", "baud_mismatch", "mute_dut". */
extern const char *const wire_fault_names[WF_COUNT];
/* By name; -1 when unknown. */
int wire_fault_find(const char *name);

struct wire_fault {
	double rate;        /* 0..1: share of replies hit; 1 = every one */
	uint32_t param;     /* 0 = the fault's default */
};

struct wire_faults {
	struct wire_fault f[WF_COUNT];
	uint32_t rng;       /* xorshift state, from a seed; never 0 */
	uint32_t hits[WF_COUNT];   /* replies each fault changed */
	uint32_t on_mask;   /* bit k: fault k is set (wire_faults_set, _clear); wire_faults_any,
	                     * asked at every request and reply, is one load */
};

void wire_faults_init(struct wire_faults *w, uint32_t seed);
void wire_faults_set(struct wire_faults *w, enum wire_fault_kind k, double rate, uint32_t param);
void wire_faults_clear(struct wire_faults *w, enum wire_fault_kind k);
int wire_faults_any(const struct wire_faults *w);

/* Room a reply may grow to under any fault: oversize filler and garbage included. */
#define WIRE_FAULT_GROWTH 2048u

/*
 * One reply of n bytes, sent by a BMS whose line runs at line_baud: the faulted bytes go to
 * out (cap >= n + WIRE_FAULT_GROWTH, or the tail is cut), *extra_delay_ms gets the late-reply
 * delay (0 when none). Returns the length written, 0 when the reply is lost.
 */
size_t wire_faults_reply(struct wire_faults *w, const uint8_t *in, size_t n, uint32_t line_baud,
                         uint8_t *out, size_t cap, uint32_t *extra_delay_ms);
/* Whether mute_dut loses this write from the client (counted in hits[WF_MUTE_DUT]); the
 * emulator asks before wire_faults_request. */
int wire_faults_request_lost(struct wire_faults *w);
/* Bytes from the client (only a baud mismatch changes them). Returns the length written. */
size_t wire_faults_request(struct wire_faults *w, const uint8_t *in, size_t n, uint32_t line_baud,
                           uint8_t *out, size_t cap);

/*
 * What a UART receiver at rx_baud makes of bytes sent at tx_baud (8N1, idle high): the line is
 * rebuilt bit by bit, the receiver waits for a falling edge, samples mid-bit at its own rate
 * and keeps a byte only when its stop bit reads high (a framing error loses it, as most
 * drivers do). Equal rates give the bytes back unchanged. Returns the bytes written to out.
 */
size_t uart_resample(const uint8_t *in, size_t n, uint32_t tx_baud, uint32_t rx_baud,
                     uint8_t *out, size_t cap);

#endif
