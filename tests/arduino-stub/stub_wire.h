/* Not Arduino: the test's side of a stub serial port (what the board sent, what it will
 * receive). Only smoke.cpp looks at it; the ports cannot name it by accident. */
#ifndef STUB_WIRE_H
#define STUB_WIRE_H

#include <string>

/* Ports begun so far, all of them: smoke.cpp checks the relay pin is set up before any. */
extern int stub_ports_begun;

struct StubWire {
	std::string sent;          /* everything the board wrote */
	std::string to_board;      /* bytes waiting for the board to read */
	size_t read_pos = 0;
	unsigned long baud = 0;    /* 0 until begin() */
	int rx_pin = -1, tx_pin = -1;
	size_t rx_buffer = 0;      /* what setRxBufferSize/bufCapacity asked for */

	void begin(unsigned long b, int rx, int tx)
	{
		baud = b;
		rx_pin = rx;
		tx_pin = tx;
		stub_ports_begun++;
	}
	int available() const { return (int)(to_board.size() - read_pos); }
	int read() { return read_pos < to_board.size() ? (uint8_t)to_board[read_pos++] : -1; }
	int peek() const { return read_pos < to_board.size() ? (uint8_t)to_board[read_pos] : -1; }
};

#endif
