build/asan/firmware/port/host/cli.o: firmware/port/host/cli.c \
 include/bmsrig/cli.h
include/bmsrig/cli.h:
