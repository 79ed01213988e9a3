/* A stub of the Arduino API, for tests/arduino-check only: just what the real-board ports
 * (firmware/port/nodemcu, firmware/port/esp32) use, with the signatures of the ESP8266 Arduino
 * core 3.1 and arduino-esp32 2.0, so that the host compiler checks the ports' calls against
 * them. Compile with -DARDUINO_ARCH_ESP8266 or -DARDUINO_ARCH_ESP32, as the real build systems
 * do. The bodies behind these declarations are in smoke.cpp, which plays the board. */
#ifndef Arduino_h
#define Arduino_h

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(ARDUINO_ARCH_ESP8266) == defined(ARDUINO_ARCH_ESP32)
#error "the stub needs exactly one of -DARDUINO_ARCH_ESP8266 and -DARDUINO_ARCH_ESP32"
#endif

#define HIGH 0x1
#define LOW 0x0
#if defined(ARDUINO_ARCH_ESP8266)
#define INPUT 0x00
#define OUTPUT 0x01
#define INPUT_PULLUP 0x02
#else
#define INPUT 0x01
#define OUTPUT 0x03
#define INPUT_PULLUP 0x05
#define INPUT_PULLDOWN 0x09
#endif

extern "C" {
void pinMode(uint8_t pin, uint8_t mode);
void digitalWrite(uint8_t pin, uint8_t val);
int digitalRead(uint8_t pin);
unsigned long millis(void);
#if defined(ARDUINO_ARCH_ESP8266)
void delay(unsigned long ms);
#else
void delay(uint32_t ms);
#endif
}

#include "HardwareSerial.h"

#endif
