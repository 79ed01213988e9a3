build/asan/tests/unit/test_jbd_rx.o: tests/unit/test_jbd_rx.c \
 include/bmsrig/jbd.h include/bmsrig/rc.h tests/unit/fake_io.h \
 include/bmsrig/io.h
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
tests/unit/fake_io.h:
include/bmsrig/io.h:
