/* bmsrig on an ESP32 DevKit: the firmware core polling a BMS on UART2 (GPIO16 RX, GPIO17 TX),
 * driving a relay on GPIO4 and writing its telemetry lines on the USB console (UART0).
 * Everything but opening the link is in ../../arduino/bmsrig_arduino.h, shared with the
 * NodeMCU port; the settings are build flags (platformio.ini).
 *
 * The ESP32 has three hardware UARTs, so the BMS gets one of its own: Serial2 on its usual
 * pins, GPIO16/17, which are neither boot straps nor flash pins on an ESP32-WROOM module (on a
 * WROVER they carry the PSRAM: move the link with -D BMSRIG_BMS_RX_PIN/BMSRIG_BMS_TX_PIN, e.g.
 * 26/27). The UART driver receives in its interrupt, so 115200 baud (JK) is as safe as 9600.
 * GPIO4 for the relay: not a strap pin (0, 2, 5, 12 and 15 are, and some pulse at boot). */
#include <Arduino.h>

#ifndef ARDUINO_ARCH_ESP32
#error "firmware/port/esp32 is for the ESP32 (board = esp32dev); the NodeMCU: firmware/port/nodemcu"
#endif

#define BMSRIG_PORT_NAME "esp32"
#ifndef BMSRIG_BMS_RX_PIN
#define BMSRIG_BMS_RX_PIN 16   /* RX2: from the BMS's TX */
#endif
#ifndef BMSRIG_BMS_TX_PIN
#define BMSRIG_BMS_TX_PIN 17   /* TX2: to the BMS's RX */
#endif
#ifndef BMSRIG_RELAY_PIN
#define BMSRIG_RELAY_PIN 4
#endif
/* The driver's receive ring (the core default is 256 bytes): room for a whole JK record
 * pushed while a telemetry line goes out on the console. */
#ifndef BMSRIG_RX_BUF
#define BMSRIG_RX_BUF 1024
#endif

#include "../../arduino/bmsrig_arduino.h"

void setup()
{
	bmsrig_relay_setup();   /* first: the relay is open before anything can take time */
	Serial.begin(BMSRIG_CONSOLE_BAUD);
	Serial2.setRxBufferSize(BMSRIG_RX_BUF);   /* must come before begin() */
	Serial2.begin(bmsrig_baud(), SERIAL_8N1, BMSRIG_BMS_RX_PIN, BMSRIG_BMS_TX_PIN);
	bmsrig_start(Serial2);
}

void loop()
{
	bmsrig_loop();
}
