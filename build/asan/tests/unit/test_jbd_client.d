build/asan/tests/unit/test_jbd_client.o: tests/unit/test_jbd_client.c \
 include/bmsrig/jbd_client.h include/bmsrig/client.h include/bmsrig/io.h \
 include/bmsrig/jbd.h include/bmsrig/rc.h include/bmsrig/pack_state.h \
 tests/unit/fake_io.h
include/bmsrig/jbd_client.h:
include/bmsrig/client.h:
include/bmsrig/io.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/pack_state.h:
tests/unit/fake_io.h:
