/* bmsrig on a NodeMCU (ESP8266): the firmware core polling a BMS on D5/D6, driving a relay on
 * D1 and writing its telemetry lines on the USB console. Everything but opening the link is in
 * ../../arduino/bmsrig_arduino.h, shared with the ESP32 port; the settings are build flags
 * (platformio.ini).
 *
 * Why SoftwareSerial on D5/D6 and not the hardware UART: the ESP8266 has one full UART, UART0,
 * and the NodeMCU wires it to its USB chip. That port is the console the runner reads, the
 * flasher and the reset line, so it stays the console. The alternative, Serial.swap() to move
 * UART0 to D7/D8 for the BMS, would leave the USB port silent, put the telemetry on UART1
 * (transmit-only, D4) behind a second USB adapter, and put the link's TX on D8 (GPIO15), a
 * boot strap pin that must be low at reset. SoftwareSerial on GPIO14/GPIO12 touches no boot
 * or flash pin, and its receiver time-stamps every edge in an interrupt with the CPU's cycle
 * counter: solid at 9600 baud (JBD, Daly) and workable at 115200 (JK) because nothing else
 * here takes interrupts (the Wi-Fi radio stays off: ESP8266 cores since 3.0 do not start it
 * unless a sketch asks). For a JK on a NodeMCU in service, see hil/README.md. */
#include <Arduino.h>
#include <SoftwareSerial.h>

#ifndef ARDUINO_ARCH_ESP8266
#error "firmware/port/nodemcu is for the ESP8266 (board = nodemcuv2); ESP32 boards: firmware/port/esp32"
#endif

#define BMSRIG_PORT_NAME "nodemcu"
#ifndef BMSRIG_BMS_RX_PIN
#define BMSRIG_BMS_RX_PIN 14   /* D5: from the BMS's TX */
#endif
#ifndef BMSRIG_BMS_TX_PIN
#define BMSRIG_BMS_TX_PIN 12   /* D6: to the BMS's RX */
#endif
#ifndef BMSRIG_RELAY_PIN
#define BMSRIG_RELAY_PIN 5     /* D1: no boot function and quiet through reset */
#endif
/* Received bytes SoftwareSerial keeps until the core reads them. The core reads at every
 * loop(), but not while a telemetry line goes out on the console (up to ~30 ms for 16 cells,
 * 350 bytes at 115200 baud), and a JK BLE bridge may push a 300-byte record just then. The
 * library sizes its interrupt's edge buffer from this (10 entries of 4 bytes per byte, for
 * the worst case of alternating bits): 20 KiB of heap, of roughly 50 KiB a sketch this small
 * leaves free. */
#ifndef BMSRIG_SWSERIAL_BUF
#define BMSRIG_SWSERIAL_BUF 512
#endif

#include "../../arduino/bmsrig_arduino.h"

static SoftwareSerial bms_link;

void setup()
{
	bmsrig_relay_setup();   /* first: the relay is open before anything can take time */
	Serial.begin(BMSRIG_CONSOLE_BAUD);
	/* 8N1, not inverted: the BMS UARTs idle high at 3.3 V like the ESP8266's own pins.
	 * SWSERIAL_8N1 unqualified names the 8N1 setting in EspSoftwareSerial 6.x (ESP8266 core
	 * 3.1.1 and older) and 8.x (core 3.1.2, which adds the namespace with a using-directive). */
	bms_link.begin(bmsrig_baud(), SWSERIAL_8N1, BMSRIG_BMS_RX_PIN, BMSRIG_BMS_TX_PIN, false,
	               BMSRIG_SWSERIAL_BUF);
	if (!bms_link)
		bmsrig_fail("SoftwareSerial refused the BMS pins (BMSRIG_BMS_RX_PIN, BMSRIG_BMS_TX_PIN)");
	bmsrig_start(bms_link);
}

void loop()
{
	bmsrig_loop();
}
