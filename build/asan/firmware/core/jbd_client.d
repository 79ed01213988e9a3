build/asan/firmware/core/jbd_client.o: firmware/core/jbd_client.c \
 include/bmsrig/jbd_client.h include/bmsrig/client.h include/bmsrig/io.h \
 include/bmsrig/jbd.h include/bmsrig/rc.h include/bmsrig/pack_state.h
include/bmsrig/jbd_client.h:
include/bmsrig/client.h:
include/bmsrig/io.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/pack_state.h:
