/* Stub of HardwareSerial (see Arduino.h): the ESP8266 core's or arduino-esp32's, by arch. */
#ifndef HardwareSerial_h
#define HardwareSerial_h

#include "Stream.h"
#include "stub_wire.h"

#if defined(ARDUINO_ARCH_ESP32)
#define SERIAL_8N1 0x800001c
#else
enum SerialConfig { SERIAL_8N1 = 0x1c };
#endif

class HardwareSerial : public Stream {
public:
	explicit HardwareSerial(int uart_nr) { (void)uart_nr; }
#if defined(ARDUINO_ARCH_ESP32)
	void begin(unsigned long baud, uint32_t config = SERIAL_8N1, int8_t rxPin = -1, int8_t txPin = -1,
	           bool invert = false, unsigned long timeout_ms = 20000UL, uint8_t rxfifo_full_thrhd = 112)
	{
		(void)config; (void)invert; (void)timeout_ms; (void)rxfifo_full_thrhd;
		stub.begin(baud, rxPin, txPin);
	}
	size_t setRxBufferSize(size_t new_size)
	{
		/* arduino-esp32 refuses it once the port is open */
		if (!stub.baud)
			stub.rx_buffer = new_size;
		return new_size;
	}
#else
	void begin(unsigned long baud) { begin(baud, SERIAL_8N1); }
	void begin(unsigned long baud, SerialConfig config) { (void)config; stub.begin(baud, 3, 1); }
#endif
	int available() override { return stub.available(); }
	int read() override { return stub.read(); }
	int peek() override { return stub.peek(); }
	size_t write(uint8_t c) override { stub.sent += (char)c; return 1; }
	size_t write(const uint8_t *buffer, size_t size) override
	{
		stub.sent.append((const char *)buffer, size);
		return size;
	}
	using Print::write;
	operator bool() const { return true; }

	StubWire stub;
};

extern HardwareSerial Serial;
extern HardwareSerial Serial1;
#if defined(ARDUINO_ARCH_ESP32)
extern HardwareSerial Serial2;
#endif

#endif
