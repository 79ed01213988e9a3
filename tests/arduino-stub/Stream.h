/* Stub of Arduino's Stream (see Arduino.h). */
#ifndef Stream_h
#define Stream_h

#include "Print.h"

class Stream : public Print {
public:
	virtual int available() = 0;
	virtual int read() = 0;
	virtual int peek() = 0;
};

#endif
