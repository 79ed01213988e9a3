build/asan/tests/unit/test_serial.o: tests/unit/test_serial.c \
 include/bmsrig/serial.h include/bmsrig/io.h include/bmsrig/rc.h
include/bmsrig/serial.h:
include/bmsrig/io.h:
include/bmsrig/rc.h:
