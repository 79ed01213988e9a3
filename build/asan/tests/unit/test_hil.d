build/asan/tests/unit/test_hil.o: tests/unit/test_hil.c \
 include/bmsrig/hil.h include/bmsrig/pack_state.h include/bmsrig/rc.h \
 include/bmsrig/truth.h include/bmsrig/telemetry.h
include/bmsrig/hil.h:
include/bmsrig/pack_state.h:
include/bmsrig/rc.h:
include/bmsrig/truth.h:
include/bmsrig/telemetry.h:
