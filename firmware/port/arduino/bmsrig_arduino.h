/* The Arduino half of the real-board ports (firmware/port/nodemcu, firmware/port/esp32): the
 * settings from build flags, the fw_hal over any Arduino Stream, the start-up banner and the
 * loop. The two boards differ only in how they open their BMS link and which pins they use, so
 * each src/main.cpp does that and hands the link to bmsrig_start(); the rest is here once.
 *
 * Header-only because PlatformIO compiles a project's src/ and its libraries, and this file
 * belongs to neither: include it from exactly one .cpp, after defining BMSRIG_PORT_NAME,
 * BMSRIG_BMS_RX_PIN, BMSRIG_BMS_TX_PIN and a default BMSRIG_RELAY_PIN. The functions are
 * static inline so that one a port does not call costs neither code nor an unused-function
 * warning.
 *
 * Console lines (USB serial, 115200 baud), one per line, each a prefix and one JSON object:
 *   BMSRIG-BOOT {...}    once, after reset: the port, protocol, pins and every setting
 *   BMSRIG {...}         the telemetry line, one per poll cycle (the core's, unchanged)
 *   BMSRIG-LOG {...}     the core's events (relay changes); -D BMSRIG_LOG=0 silences them
 *   BMSRIG-ERROR {...}   the link could not be opened: the board stops, relay open
 * Only "BMSRIG " (with a space) is telemetry, so readers of telemetry skip the others. */
#ifndef BMSRIG_ARDUINO_H
#define BMSRIG_ARDUINO_H

#include <Arduino.h>
#include <stdio.h>
#include <string.h>

/* The core is C99; its headers carry their own extern "C". */
#include "bmsrig/core/fw.h"
#include "bmsrig/core/telemetry.h"

#if !defined(BMSRIG_PORT_NAME) || !defined(BMSRIG_BMS_RX_PIN) || !defined(BMSRIG_BMS_TX_PIN) || \
    !defined(BMSRIG_RELAY_PIN)
#error "define BMSRIG_PORT_NAME, BMSRIG_BMS_RX_PIN, BMSRIG_BMS_TX_PIN and BMSRIG_RELAY_PIN first"
#endif

#ifndef BMSRIG_VERSION
#define BMSRIG_VERSION "0.1.0"
#endif

/* ---- settings: -D NAME=VALUE in platformio.ini's build_flags ------------------------------
 * The same names and ranges as bmsmon's flags; a value out of range stops the build (the
 * static_asserts below) rather than running a monitor nobody meant. */

/* The protocol: FW_PROTO_JBD, FW_PROTO_JBD_BLE, FW_PROTO_DALY, FW_PROTO_DALY_BLE, FW_PROTO_JK,
 * FW_PROTO_JK_BLE or FW_PROTO_BYD (BYD PRO 2.5 on RS485). A -ble protocol here means the client behind a BLE-to-UART bridge on the
 * same pins: the same bytes, slower and in pieces. */
#ifndef BMSRIG_PROTO
#define BMSRIG_PROTO FW_PROTO_JBD
#endif
#ifndef BMSRIG_BAUD
#define BMSRIG_BAUD 0                 /* 0: the protocol's (JBD, Daly, BYD 9600, JK 115200) */
#endif
#ifndef BMSRIG_CONSOLE_BAUD
#define BMSRIG_CONSOLE_BAUD 115200
#endif
/* Defaults come from the core's own initialisers, so they cannot drift from bmsmon's. */
static constexpr struct client_cfg bmsrig_client_dflt = CLIENT_CFG_DEFAULT;
static constexpr struct policy_cfg bmsrig_lfp = POLICY_CFG_LFP;
#ifndef BMSRIG_POLL_MS
#define BMSRIG_POLL_MS (bmsrig_client_dflt.poll_ms)
#endif
#ifndef BMSRIG_TIMEOUT_MS
#define BMSRIG_TIMEOUT_MS 0           /* 0: the protocol's (500 ms, 2 s for the -ble ones) */
#endif
#ifndef BMSRIG_RETRIES
#define BMSRIG_RETRIES (bmsrig_client_dflt.retries)
#endif
#ifndef BMSRIG_ADDRESS
#define BMSRIG_ADDRESS 0              /* on an RS485 bus; 0: the protocol's default */
#endif
#ifndef BMSRIG_CELL_MAX_MV
#define BMSRIG_CELL_MAX_MV (bmsrig_lfp.cell_max_mV)
#endif
#ifndef BMSRIG_CELL_MIN_MV
#define BMSRIG_CELL_MIN_MV (bmsrig_lfp.cell_min_mV)
#endif
#ifndef BMSRIG_CELL_HYST_MV
#define BMSRIG_CELL_HYST_MV (bmsrig_lfp.cell_hyst_mV)
#endif
#ifndef BMSRIG_TEMP_MAX_DK
#define BMSRIG_TEMP_MAX_DK (bmsrig_lfp.temp_max_dK)   /* 0.1 K: 2731 = 0 degC */
#endif
#ifndef BMSRIG_TEMP_MIN_DK
#define BMSRIG_TEMP_MIN_DK (bmsrig_lfp.temp_min_dK)
#endif
#ifndef BMSRIG_TEMP_HYST_DK
#define BMSRIG_TEMP_HYST_DK (bmsrig_lfp.temp_hyst_dK)
#endif
#ifndef BMSRIG_SILENT_POLLS
#define BMSRIG_SILENT_POLLS (bmsrig_lfp.comm_fail_max)   /* 0: never open for silence */
#endif
#ifndef BMSRIG_POLICY_FETS
#define BMSRIG_POLICY_FETS 0          /* 1: also switch the BMS's FETs off with the relay */
#endif
/* 1: the relay closes when the pin is high, the usual transistor or MOSFET driver; with a
 * pull-down on the pin it stays open through reset and flashing. 0: for the relay modules
 * whose input closes the relay when pulled low; use a pull-up then. */
#ifndef BMSRIG_RELAY_ACTIVE_HIGH
#define BMSRIG_RELAY_ACTIVE_HIGH 1
#endif
#ifndef BMSRIG_LOG
#define BMSRIG_LOG 1
#endif

static_assert((unsigned)(BMSRIG_PROTO) < (unsigned)FW_PROTO_COUNT,
              "BMSRIG_PROTO: one of FW_PROTO_JBD, _JBD_BLE, _DALY, _DALY_BLE, _JK, _JK_BLE, _BYD");
static_assert(BMSRIG_BAUD <= 4000000, "BMSRIG_BAUD: 0 (the protocol's) or a line speed");
static_assert(BMSRIG_POLL_MS >= 100 && BMSRIG_POLL_MS <= 600000, "BMSRIG_POLL_MS: 100..600000");
static_assert(BMSRIG_TIMEOUT_MS == 0 || (BMSRIG_TIMEOUT_MS >= 10 && BMSRIG_TIMEOUT_MS <= 60000),
              "BMSRIG_TIMEOUT_MS: 0 (the protocol's) or 10..60000");
static_assert(BMSRIG_RETRIES <= 10, "BMSRIG_RETRIES: 0..10");
static_assert(BMSRIG_ADDRESS <= 254, "BMSRIG_ADDRESS: 0..254");
static_assert(BMSRIG_CELL_MAX_MV >= 1000 && BMSRIG_CELL_MAX_MV <= 5000, "BMSRIG_CELL_MAX_MV: 1000..5000");
static_assert(BMSRIG_CELL_MIN_MV < BMSRIG_CELL_MAX_MV, "BMSRIG_CELL_MIN_MV: below BMSRIG_CELL_MAX_MV");
static_assert(BMSRIG_CELL_HYST_MV <= 1000, "BMSRIG_CELL_HYST_MV: 0..1000");
static_assert(BMSRIG_TEMP_MAX_DK >= 2331 && BMSRIG_TEMP_MAX_DK <= 4231, "BMSRIG_TEMP_MAX_DK: 2331..4231");
static_assert(BMSRIG_TEMP_MIN_DK >= 2331 && BMSRIG_TEMP_MIN_DK < BMSRIG_TEMP_MAX_DK,
              "BMSRIG_TEMP_MIN_DK: 2331 up to below BMSRIG_TEMP_MAX_DK");
static_assert(BMSRIG_TEMP_HYST_DK <= 500, "BMSRIG_TEMP_HYST_DK: 0..500");
static_assert(BMSRIG_SILENT_POLLS <= 1000, "BMSRIG_SILENT_POLLS: 0..1000");
static_assert(BMSRIG_POLICY_FETS == 0 || BMSRIG_POLICY_FETS == 1, "BMSRIG_POLICY_FETS: 0 or 1");
static_assert(BMSRIG_RELAY_ACTIVE_HIGH == 0 || BMSRIG_RELAY_ACTIVE_HIGH == 1,
              "BMSRIG_RELAY_ACTIVE_HIGH: 0 or 1");

#define BMSRIG_RELAY_CLOSED_LEVEL (BMSRIG_RELAY_ACTIVE_HIGH ? HIGH : LOW)
#define BMSRIG_RELAY_OPEN_LEVEL (BMSRIG_RELAY_ACTIVE_HIGH ? LOW : HIGH)

/* All the firmware's state: the core's in one struct (under 1 KiB), static so that neither
 * the heap nor loop()'s stack (4 KiB on an ESP8266) holds it. */
static struct fw bmsrig_fw;

/* ---- the HAL ------------------------------------------------------------------------------ */

/* Never waits: takes what the UART (or SoftwareSerial) has buffered already, up to cap.
 * available() once, then read() that many, so no Stream's own read timeout ever applies. */
static inline int32_t bmsrig_link_read(void *ctx, uint8_t *p, uint16_t cap)
{
	Stream *link = static_cast<Stream *>(ctx);
	int have = link->available();
	uint16_t n = 0;

	while (have-- > 0 && n < cap) {
		int c = link->read();

		if (c < 0)
			break;
		p[n++] = (uint8_t)c;
	}
	return n;
}

/* Returns once the bytes are in the UART's transmit FIFO or buffer; SoftwareSerial sends them
 * there and then. A request is 7 to 21 bytes: under 25 ms even at 9600 baud, bit-banged. */
static inline int32_t bmsrig_link_write(void *ctx, const uint8_t *p, uint16_t n)
{
	return (int32_t)static_cast<Stream *>(ctx)->write(p, n);
}

static inline uint32_t bmsrig_now_ms(void *ctx)
{
	(void)ctx;
	return (uint32_t)millis();   /* wraps after 49.7 days; the core compares differences only */
}

static inline void bmsrig_set_relay(void *ctx, uint8_t closed)
{
	(void)ctx;
	digitalWrite(BMSRIG_RELAY_PIN, closed ? BMSRIG_RELAY_CLOSED_LEVEL : BMSRIG_RELAY_OPEN_LEVEL);
}

static inline void bmsrig_telemetry(void *ctx, const char *line)
{
	(void)ctx;
	Serial.println(line);
}

/* `text` as a JSON string's contents: the core's messages are plain words, but a quote or a
 * control character must never break the line for a reader. */
static inline void bmsrig_print_json_text(const char *text)
{
	char esc[7];

	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;

		if (c == '"' || c == '\\' || c < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			Serial.print(esc);
		} else {
			Serial.write((uint8_t)c);
		}
	}
}

static inline void bmsrig_log(void *ctx, const char *msg)
{
	char head[48];

	(void)ctx;
	snprintf(head, sizeof head, "BMSRIG-LOG {\"ms\":%lu,\"msg\":\"", (unsigned long)millis());
	Serial.print(head);
	bmsrig_print_json_text(msg);
	Serial.println("\"}");
}

/* ---- start-up ----------------------------------------------------------------------------- */

static inline enum fw_proto bmsrig_proto(void)
{
	return (enum fw_proto)(BMSRIG_PROTO);
}

/* Each env in platformio.ini builds the core with its one protocol (-D RIG_PROTOS_CHOSEN
 * -D RIG_WITH_<NAME>=1, firmware/core/with.h), so a board carries only the code it reads with.
 * A protocol the core was built without has an empty row in rig_fw_protos. */
static inline int bmsrig_proto_built(void)
{
	return rig_fw_protos[bmsrig_proto()].ops != NULL;
}

/* The BMS link's speed: the board opens its UART with this before bmsrig_start(). Without the
 * protocol in the build any speed will do: bmsrig_start() stops with the reason. */
static inline uint32_t bmsrig_baud(void)
{
	if (BMSRIG_BAUD)
		return (uint32_t)BMSRIG_BAUD;
	return bmsrig_proto_built() ? rig_fw_protos[bmsrig_proto()].ops->baud : 9600u;
}

/* First thing in setup(): drive the relay open. Until here the pin floats (the pull-down or
 * pull-up on the board holds the relay open); OUTPUT starts low, so an active-low relay may
 * see a few microseconds of "closed", far shorter than any relay can act on. */
static inline void bmsrig_relay_setup(void)
{
	pinMode(BMSRIG_RELAY_PIN, OUTPUT);
	digitalWrite(BMSRIG_RELAY_PIN, BMSRIG_RELAY_OPEN_LEVEL);
}

/* The board cannot run (the link would not open, the protocol is not built in): say so on the
 * console and stop, relay open. */
static inline void bmsrig_fail(const char *why)
{
	bmsrig_set_relay(NULL, 0);
	Serial.print("BMSRIG-ERROR {\"port\":\"" BMSRIG_PORT_NAME "\",\"msg\":\"");
	bmsrig_print_json_text(why);
	Serial.println("\"}");
	for (;;)
		delay(1000);   /* delay() yields, so the watchdogs stay fed */
}

/* One line with everything this build does, so the runner can tell the board has (re)started
 * and check that the firmware matches the scenario it is about to judge. */
static inline void bmsrig_banner(const struct fw_cfg *cfg, uint32_t baud)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof line,
	             "BMSRIG-BOOT {\"port\":\"%s\",\"version\":\"%s\",\"proto\":\"%s\",\"baud\":%lu,"
	             "\"bms_rx_pin\":%d,\"bms_tx_pin\":%d,\"relay_pin\":%d,\"relay_active_high\":%d,"
	             "\"poll_ms\":%lu,\"timeout_ms\":%lu,\"retries\":%u,\"address\":%u,"
	             "\"policy\":{\"cell_max_mv\":%u,\"cell_min_mv\":%u,\"cell_hyst_mv\":%u,"
	             "\"temp_max_dk\":%u,\"temp_min_dk\":%u,\"temp_hyst_dk\":%u,\"comm_fail_max\":%u},"
	             "\"policy_fets\":%u}",
	             BMSRIG_PORT_NAME, BMSRIG_VERSION, rig_fw_protos[cfg->proto].name, (unsigned long)baud,
	             (int)(BMSRIG_BMS_RX_PIN), (int)(BMSRIG_BMS_TX_PIN), (int)(BMSRIG_RELAY_PIN),
	             (int)(BMSRIG_RELAY_ACTIVE_HIGH), (unsigned long)cfg->client.poll_ms,
	             (unsigned long)cfg->client.timeout_ms, (unsigned)cfg->client.retries,
	             (unsigned)cfg->client.address, (unsigned)cfg->policy.cell_max_mV,
	             (unsigned)cfg->policy.cell_min_mV, (unsigned)cfg->policy.cell_hyst_mV,
	             (unsigned)cfg->policy.temp_max_dK, (unsigned)cfg->policy.temp_min_dK,
	             (unsigned)cfg->policy.temp_hyst_dK, (unsigned)cfg->policy.comm_fail_max,
	             (unsigned)cfg->policy_drives_fets);
	if (n < 0 || (size_t)n >= sizeof line)   /* only a very long BMSRIG_VERSION gets here */
		snprintf(line, sizeof line, "BMSRIG-BOOT {\"port\":\"%s\",\"proto\":\"%s\"}", BMSRIG_PORT_NAME,
		         rig_fw_protos[cfg->proto].name);
	/* The blank line ends whatever the boot ROM printed (an ESP8266's is at 74880 baud and
	 * arrives as noise without a newline), so the banner starts a line of its own. */
	Serial.println();
	Serial.println(line);
}

/* After the console and the BMS link are open: the banner, then the core. */
static inline void bmsrig_start(Stream &link)
{
	struct fw_cfg cfg;
	struct fw_hal hal;

	if (!bmsrig_proto_built())
		bmsrig_fail("BMSRIG_PROTO names a protocol the core was built without: give the env "
		            "-D RIG_PROTOS_CHOSEN and that protocol's -D RIG_WITH_<NAME>=1 "
		            "(firmware/core/with.h)");
	memset(&cfg, 0, sizeof cfg);
	cfg.proto = bmsrig_proto();
	cfg.client = bmsrig_client_dflt;
	cfg.client.poll_ms = BMSRIG_POLL_MS;
	cfg.client.timeout_ms = BMSRIG_TIMEOUT_MS ? (uint32_t)BMSRIG_TIMEOUT_MS : rig_fw_protos[cfg.proto].timeout_ms;
	cfg.client.retries = (uint8_t)(BMSRIG_RETRIES);
	cfg.client.address = (uint8_t)(BMSRIG_ADDRESS);
	cfg.policy.cell_max_mV = BMSRIG_CELL_MAX_MV;
	cfg.policy.cell_min_mV = BMSRIG_CELL_MIN_MV;
	cfg.policy.cell_hyst_mV = BMSRIG_CELL_HYST_MV;
	cfg.policy.temp_max_dK = BMSRIG_TEMP_MAX_DK;
	cfg.policy.temp_min_dK = BMSRIG_TEMP_MIN_DK;
	cfg.policy.temp_hyst_dK = BMSRIG_TEMP_HYST_DK;
	cfg.policy.comm_fail_max = BMSRIG_SILENT_POLLS;
	cfg.policy_drives_fets = BMSRIG_POLICY_FETS;

	memset(&hal, 0, sizeof hal);
	hal.bms.ctx = &link;
	hal.bms.read = bmsrig_link_read;
	hal.bms.write = bmsrig_link_write;
	hal.ctx = NULL;
	hal.now_ms = bmsrig_now_ms;
	hal.set_relay = bmsrig_set_relay;
	hal.telemetry = bmsrig_telemetry;
	hal.log = BMSRIG_LOG ? bmsrig_log : NULL;

	bmsrig_banner(&cfg, bmsrig_baud());
	rig_fw_init(&bmsrig_fw, &hal, &cfg);   /* opens the relay again: fail safe until a good poll */
}

/* All of loop(): rig_fw_step never blocks, so this runs as often as the board's core calls loop()
 * (thousands of times per second), well inside the 1 ms a byte takes at 9600 baud. Bytes
 * that arrive meanwhile wait in the UART's or SoftwareSerial's receive buffer. */
static inline void bmsrig_loop(void)
{
	rig_fw_step(&bmsrig_fw, (uint32_t)millis());
}

#endif
