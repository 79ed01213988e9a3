build/asan/tests/unit/test_e2e_jbd.o: tests/unit/test_e2e_jbd.c \
 include/bmsrig/jbd.h include/bmsrig/rc.h include/bmsrig/serial.h \
 include/bmsrig/io.h tests/unit/fake_io.h
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/serial.h:
include/bmsrig/io.h:
tests/unit/fake_io.h:
