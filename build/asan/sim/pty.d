build/asan/sim/pty.o: sim/pty.c include/bmsrig/pty.h include/bmsrig/rc.h \
 include/bmsrig/serial.h include/bmsrig/io.h
include/bmsrig/pty.h:
include/bmsrig/rc.h:
include/bmsrig/serial.h:
include/bmsrig/io.h:
