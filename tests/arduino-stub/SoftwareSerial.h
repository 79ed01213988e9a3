/* Stub of EspSoftwareSerial 8.0 as the ESP8266 core 3.1.2 bundles it (see Arduino.h): the
 * class is EspSoftwareSerial::UART, the config names live in that namespace and a
 * using-directive brings them out; 6.x (core 3.1.1 and older) had the same names globally. */
#ifndef __SoftwareSerial_h
#define __SoftwareSerial_h

#include "Stream.h"
#include "stub_wire.h"

namespace EspSoftwareSerial {

enum Parity : uint8_t { SWSERIAL_PARITY_NONE = 000, SWSERIAL_PARITY_EVEN = 020, SWSERIAL_PARITY_ODD = 030 };

enum Config {
	SWSERIAL_5N1 = SWSERIAL_PARITY_NONE, SWSERIAL_6N1, SWSERIAL_7N1, SWSERIAL_8N1,
	SWSERIAL_5E1 = SWSERIAL_PARITY_EVEN, SWSERIAL_6E1, SWSERIAL_7E1, SWSERIAL_8E1,
};

class UART;

} // namespace EspSoftwareSerial

/* Not EspSoftwareSerial: the last UART begun, for smoke.cpp. */
extern EspSoftwareSerial::UART *stub_softserial;

namespace EspSoftwareSerial {

class UART : public Stream {
public:
	UART() {}
	UART(int8_t rxPin, int8_t txPin = -1, bool invert = false) : rx_(rxPin), tx_(txPin) { (void)invert; }
	UART(const UART &) = delete;
	UART &operator=(const UART &) = delete;
	void begin(uint32_t baud, Config config, int8_t rxPin, int8_t txPin, bool invert,
	           int bufCapacity = 64, int isrBufCapacity = 0)
	{
		(void)config; (void)invert; (void)isrBufCapacity;
		rx_ = rxPin;
		tx_ = txPin;
		stub.begin(baud, rxPin, txPin);
		stub.rx_buffer = (size_t)bufCapacity;
		stub_softserial = this;
	}
	void begin(uint32_t baud, Config config = SWSERIAL_8N1) { begin(baud, config, rx_, tx_, false); }
	/* The real one is false for pins SoftwareSerial cannot use (flash pins, GPIO16 for RX). */
	operator bool() const { return rx_ >= 0 && rx_ <= 15 && !(rx_ >= 6 && rx_ <= 11) && tx_ >= 0 && tx_ <= 16; }
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

	StubWire stub;

private:
	int8_t rx_ = -1, tx_ = -1;
};

} // namespace EspSoftwareSerial

using namespace EspSoftwareSerial;
using SoftwareSerial = EspSoftwareSerial::UART;

#endif
