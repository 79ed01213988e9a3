/* Stub of Arduino's Print (see Arduino.h): the write and print overloads the ports use. */
#ifndef Print_h
#define Print_h

#include <stddef.h>
#include <stdint.h>
#include <string.h>

class Print {
public:
	virtual ~Print() {}
	virtual size_t write(uint8_t c) = 0;
	virtual size_t write(const uint8_t *buffer, size_t size)
	{
		size_t n = 0;

		while (n < size && write(buffer[n]))
			n++;
		return n;
	}
	size_t write(const char *str) { return str ? write((const uint8_t *)str, strlen(str)) : 0; }
	size_t write(const char *buffer, size_t size) { return write((const uint8_t *)buffer, size); }
	size_t print(const char str[]) { return write(str); }
	size_t println(const char str[]) { return print(str) + println(); }
	size_t println(void) { return write("\r\n"); }
};

#endif
