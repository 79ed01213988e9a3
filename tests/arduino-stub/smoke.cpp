/* The board, played on the host for tests/arduino-check: the stub Arduino API's bodies (a
 * millisecond clock the test moves, pins that record their level, serial ports that are
 * strings) and a test that runs a port's setup() and loop() against the real firmware core
 * and a scripted JBD BMS on the link. What it checks is the port's own work: the relay pin is
 * driven open first and follows the policy with the configured polarity, the link is opened at
 * the protocol's speed and read without waiting (replies arrive a byte per millisecond, as at
 * 9600 baud), and every console line is a known prefix with JSON that parses.
 *
 * Built once per port and setting; the script passes what to expect:
 *   SMOKE_PORT "nodemcu" | "esp32", SMOKE_RELAY_PIN, SMOKE_ACTIVE_HIGH 1 | 0, SMOKE_LOG 1 | 0
 * Prints "PASS: ..." / "FAIL: ..." lines; exit status 1 when anything failed. With
 * ARDUINO_CHECK_DUMP set in the environment it also prints the console as the board wrote it. */
#include <Arduino.h>
#if defined(ARDUINO_ARCH_ESP8266)
#include <SoftwareSerial.h>
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string>
#include <vector>

#include <cjson/cJSON.h>

void setup(void);
void loop(void);

/* ---- the board ---------------------------------------------------------------------------- */

HardwareSerial Serial(0);
HardwareSerial Serial1(1);
#if defined(ARDUINO_ARCH_ESP32)
HardwareSerial Serial2(2);
#else
EspSoftwareSerial::UART *stub_softserial;
#endif

enum { PINS = 40 };
static int pin_mode[PINS], pin_level[PINS];
static unsigned long now_ms;
int stub_ports_begun;
static int ports_before_relay = -1;   /* ports begun when the relay pin was first set up */

extern "C" {
void pinMode(uint8_t pin, uint8_t mode)
{
	if (pin < PINS)
		pin_mode[pin] = mode;
	if (pin == SMOKE_RELAY_PIN && ports_before_relay < 0)
		ports_before_relay = stub_ports_begun;
}

void digitalWrite(uint8_t pin, uint8_t val)
{
	if (pin < PINS)
		pin_level[pin] = val ? HIGH : LOW;
}

int digitalRead(uint8_t pin)
{
	return pin < PINS ? pin_level[pin] : LOW;
}

unsigned long millis(void)
{
	return now_ms;
}

/* Only bmsrig_fail() waits, forever: a test that gets here has failed, unless it is the one
 * built to stop (SMOKE_EXPECT_STOP: text its BMSRIG-ERROR line must carry). */
#if defined(ARDUINO_ARCH_ESP8266)
void delay(unsigned long ms)
#else
void delay(uint32_t ms)
#endif
{
	const std::string &sent = Serial.stub.sent;

	now_ms += ms;
#ifdef SMOKE_EXPECT_STOP
	if (sent.find("BMSRIG-ERROR {") != std::string::npos && sent.find(SMOKE_EXPECT_STOP) != std::string::npos &&
	    sent.find("BMSRIG-BOOT") == std::string::npos && pin_level[SMOKE_RELAY_PIN] == (SMOKE_ACTIVE_HIGH ? LOW : HIGH)) {
		printf("PASS: %s: the port stops before its banner, relay open, saying \"%s\"\n", SMOKE_NAME,
		       SMOKE_EXPECT_STOP);
		exit(0);
	}
#endif
	printf("FAIL: %s: the port stopped (bmsrig_fail); console:\n%s\n", SMOKE_NAME, sent.c_str());
	exit(1);
}
}

static StubWire *bms_wire(void)
{
#if defined(ARDUINO_ARCH_ESP32)
	return &Serial2.stub;
#else
	return stub_softserial ? &stub_softserial->stub : NULL;
#endif
}

/* ---- checks ------------------------------------------------------------------------------- */

static int failures;

static void check(int ok, const char *what)
{
	printf("%s: %s: %s\n", ok ? "PASS" : "FAIL", SMOKE_NAME, what);
	if (!ok)
		failures++;
}

/* The console split into lines, "\r\n" as the board's println ends them. */
static std::vector<std::string> console_lines(void)
{
	std::vector<std::string> out;
	const std::string &s = Serial.stub.sent;
	size_t at = 0, nl;

	while ((nl = s.find('\n', at)) != std::string::npos) {
		std::string line = s.substr(at, nl - at);

		if (!line.empty() && line[line.size() - 1] == '\r')
			line.erase(line.size() - 1);
		out.push_back(line);
		at = nl + 1;
	}
	return out;
}

static int starts_with(const std::string &s, const char *prefix)
{
	return s.compare(0, strlen(prefix), prefix) == 0;
}

/* The JSON after `prefix`, or NULL. The caller deletes it. */
static cJSON *json_after(const std::string &line, const char *prefix)
{
	return starts_with(line, prefix) ? cJSON_Parse(line.c_str() + strlen(prefix)) : NULL;
}

static long num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

static std::string str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* ---- a JBD BMS on the link ------------------------------------------------------------------ */

static std::string unhex(const char *h)
{
	std::string out;

	for (; h[0] && h[1]; h += 2)
		out += (char)strtol(std::string(h, 2).c_str(), NULL, 16);
	return out;
}

/* Replies from the project's captures: 4 cells of 3265 mV, 25.3 degC, FETs on, no protection:
 * inside every LFP limit, so the policy closes the relay. */
static const std::string req03 = unhex("DDA50300FFFD77"), req04 = unhex("DDA50400FFFC77");
static const std::string rep03 = unhex("DD03001B051A0000138827100000306F00000000000080320304020BA80BA6FC3677");
static const std::string rep04 = unhex("DD0400080CC10CC10CC10CC1FCC477");

struct bms {
	size_t seen;          /* bytes of wire->sent already answered */
	std::string pending;  /* reply bytes not yet on the line */
	int answer;
};

/* One millisecond of the line: answer each complete request, and move one reply byte. */
static void bms_tick(struct bms *b, StubWire *w)
{
	size_t at;

	while ((at = w->sent.find("\xDD\xA5", b->seen)) != std::string::npos && at + 7 <= w->sent.size()) {
		std::string req = w->sent.substr(at, 7);

		b->seen = at + 7;
		if (b->answer && req == req03)
			b->pending += rep03;
		else if (b->answer && req == req04)
			b->pending += rep04;
	}
	if (!b->pending.empty()) {
		w->to_board += b->pending[0];
		b->pending.erase(0, 1);
	}
}

static void run_ms(struct bms *b, unsigned long ms)
{
	unsigned long end = now_ms + ms;

	while (now_ms < end) {
		now_ms++;
		loop();
		bms_tick(b, bms_wire());
	}
}

/* The last telemetry line on the console, parsed, or NULL. */
static cJSON *last_telemetry(void)
{
	std::vector<std::string> lines = console_lines();

	for (size_t i = lines.size(); i-- > 0;)
		if (starts_with(lines[i], "BMSRIG "))
			return json_after(lines[i], "BMSRIG ");
	return NULL;
}

static size_t count_lines(const char *prefix, const char *containing)
{
	std::vector<std::string> lines = console_lines();
	size_t n = 0;

	for (size_t i = 0; i < lines.size(); i++)
		if (starts_with(lines[i], prefix) && (!containing || lines[i].find(containing) != std::string::npos))
			n++;
	return n;
}

int main(void)
{
	const int closed = SMOKE_ACTIVE_HIGH ? HIGH : LOW, open = SMOKE_ACTIVE_HIGH ? LOW : HIGH;
	struct bms b = { 0, "", 1 };
	std::vector<std::string> lines;
	cJSON *boot = NULL, *t;
	StubWire *w;
	size_t i, n_telemetry;
	int all_json = 1;
	char what[160];

	now_ms = 0;
	setup();
#ifdef SMOKE_EXPECT_STOP
	printf("FAIL: %s: setup() went on where it should have stopped; console:\n%s\n", SMOKE_NAME,
	       Serial.stub.sent.c_str());
	return 1;
#endif
	w = bms_wire();
	check(w != NULL && w->baud == 9600, "setup opens the BMS link at JBD's 9600 baud");
	check(pin_mode[SMOKE_RELAY_PIN] == OUTPUT && pin_level[SMOKE_RELAY_PIN] == open,
	      "setup drives the relay pin, open");
	check(ports_before_relay == 0, "the relay pin is set up before any serial port");
	check(Serial.stub.baud == 115200, "the console runs at 115200 baud");
	if (!w)
		return 1;

	lines = console_lines();
	for (i = 0; i < lines.size() && !boot; i++)
		boot = json_after(lines[i], "BMSRIG-BOOT ");
	check(boot != NULL, "a BMSRIG-BOOT line with JSON after the prefix");
	if (boot) {
		const cJSON *pol = cJSON_GetObjectItemCaseSensitive(boot, "policy");

		check(str(boot, "port") == SMOKE_PORT && str(boot, "proto") == "jbd" && num(boot, "baud") == 9600,
		      "the banner names the port, the protocol and the link speed");
		check(num(boot, "relay_pin") == SMOKE_RELAY_PIN && num(boot, "relay_active_high") == SMOKE_ACTIVE_HIGH &&
		      num(boot, "bms_rx_pin") == w->rx_pin && num(boot, "bms_tx_pin") == w->tx_pin,
		      "the banner's pins are the ones in use");
		check(num(boot, "poll_ms") == 1000 && num(boot, "timeout_ms") == 500 && num(boot, "retries") == 3 &&
		      num(pol, "cell_max_mv") == 3650 && num(pol, "cell_min_mv") == 2500 &&
		      num(pol, "temp_max_dk") == 3281 && num(pol, "comm_fail_max") == 3,
		      "unset settings are bmsmon's defaults (1000 ms, 500 ms, 3 retries, LFP limits)");
		cJSON_Delete(boot);
	}

	/* A BMS that answers: the first good cycle closes the relay. */
	run_ms(&b, 3000);
	check(w->sent.compare(0, 7, req03) == 0, "the first bytes on the link are JBD's 0x03 request");
	n_telemetry = count_lines("BMSRIG ", NULL);
	snprintf(what, sizeof what, "a telemetry line per poll cycle while the BMS answers (%zu in 3 s)", n_telemetry);
	check(n_telemetry >= 2 && n_telemetry <= 4, what);
	t = last_telemetry();
	check(t && num(t, "ok") == 1 && num(t, "relay") == 1 && num(t, "pack_mv") == 13060,
	      "telemetry: ok, relay closed, the pack as the BMS sent it");
	if (t) {
		const cJSON *cells = cJSON_GetObjectItemCaseSensitive(t, "cells_mv");

		check(cJSON_GetArraySize(cells) == 4 && num(t, "why") == 0, "telemetry: 4 cells, no reason to open");
		cJSON_Delete(t);
	}
	check(pin_level[SMOKE_RELAY_PIN] == closed, "the relay pin is at its closed level");
	check(count_lines("BMSRIG-LOG ", "relay closed") == (SMOKE_LOG ? 1u : 0u),
	      SMOKE_LOG ? "a BMSRIG-LOG line says the relay closed" : "no BMSRIG-LOG lines with BMSRIG_LOG=0");

	/* The BMS falls silent: three failed polls open the relay. */
	b.answer = 0;
	run_ms(&b, 15000);
	t = last_telemetry();
	check(t && num(t, "ok") == 0 && num(t, "relay") == 0 && num(t, "comm_fail") >= 3 && (num(t, "why") & 16),
	      "a silent BMS: telemetry says not ok, relay open, why has comm_lost (16)");
	cJSON_Delete(t);
	check(pin_level[SMOKE_RELAY_PIN] == open, "the relay pin is back at its open level");
	check(count_lines("BMSRIG-LOG ", "relay opened") == (SMOKE_LOG ? 1u : 0u),
	      SMOKE_LOG ? "a BMSRIG-LOG line says the relay opened" : "still no BMSRIG-LOG lines");

	/* Every line the console carried: blank, or a BMSRIG prefix and one JSON object. */
	lines = console_lines();
	for (i = 0; i < lines.size(); i++) {
		const std::string &l = lines[i];
		size_t sp = l.find(' ');
		cJSON *j;

		if (l.empty())
			continue;
		j = sp != std::string::npos && starts_with(l, "BMSRIG") ? cJSON_Parse(l.c_str() + sp + 1) : NULL;
		if (!cJSON_IsObject(j)) {
			printf("  not a BMSRIG line with JSON: %s\n", l.c_str());
			all_json = 0;
		}
		cJSON_Delete(j);
	}
	check(all_json && Serial.stub.sent.find("\r\n") == 0,
	      "console: a blank line first, then only BMSRIG lines with JSON");
	if (getenv("ARDUINO_CHECK_DUMP"))   /* to see what a board would print */
		printf("---- %s console ----\n%s", SMOKE_NAME, Serial.stub.sent.c_str());
	return failures ? 1 : 0;
}
