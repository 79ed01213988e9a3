build/rel/firmware/port/host/serial.o: firmware/port/host/serial.c \
 include/bmsrig/serial.h include/bmsrig/io.h include/bmsrig/rc.h
include/bmsrig/serial.h:
include/bmsrig/io.h:
include/bmsrig/rc.h:
