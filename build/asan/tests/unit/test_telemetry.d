build/asan/tests/unit/test_telemetry.o: tests/unit/test_telemetry.c \
 include/bmsrig/fw.h include/bmsrig/client.h include/bmsrig/io.h \
 include/bmsrig/jbd_client.h include/bmsrig/jbd.h include/bmsrig/rc.h \
 include/bmsrig/pack_state.h include/bmsrig/policy.h \
 include/bmsrig/telemetry.h tests/unit/fake_io.h
include/bmsrig/fw.h:
include/bmsrig/client.h:
include/bmsrig/io.h:
include/bmsrig/jbd_client.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/pack_state.h:
include/bmsrig/policy.h:
include/bmsrig/telemetry.h:
tests/unit/fake_io.h:
