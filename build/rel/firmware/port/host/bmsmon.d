build/rel/firmware/port/host/bmsmon.o: firmware/port/host/bmsmon.c \
 include/bmsrig/cli.h include/bmsrig/fw.h include/bmsrig/client.h \
 include/bmsrig/io.h include/bmsrig/jbd_client.h include/bmsrig/jbd.h \
 include/bmsrig/rc.h include/bmsrig/pack_state.h include/bmsrig/policy.h \
 include/bmsrig/serial.h
include/bmsrig/cli.h:
include/bmsrig/fw.h:
include/bmsrig/client.h:
include/bmsrig/io.h:
include/bmsrig/jbd_client.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/pack_state.h:
include/bmsrig/policy.h:
include/bmsrig/serial.h:
