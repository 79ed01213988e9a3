build/rel/firmware/core/fw.o: firmware/core/fw.c include/bmsrig/fw.h \
 include/bmsrig/client.h include/bmsrig/io.h include/bmsrig/jbd_client.h \
 include/bmsrig/jbd.h include/bmsrig/rc.h include/bmsrig/pack_state.h \
 include/bmsrig/policy.h include/bmsrig/telemetry.h
include/bmsrig/fw.h:
include/bmsrig/client.h:
include/bmsrig/io.h:
include/bmsrig/jbd_client.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/pack_state.h:
include/bmsrig/policy.h:
include/bmsrig/telemetry.h:
