build/asan/tests/unit/test_pty.o: tests/unit/test_pty.c \
 include/bmsrig/pty.h include/bmsrig/rc.h include/bmsrig/serial.h \
 include/bmsrig/io.h
include/bmsrig/pty.h:
include/bmsrig/rc.h:
include/bmsrig/serial.h:
include/bmsrig/io.h:
