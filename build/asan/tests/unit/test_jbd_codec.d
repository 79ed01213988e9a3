build/asan/tests/unit/test_jbd_codec.o: tests/unit/test_jbd_codec.c \
 include/bmsrig/jbd.h include/bmsrig/rc.h include/bmsrig/jbd_json.h \
 tests/unit/fake_io.h include/bmsrig/io.h
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/jbd_json.h:
tests/unit/fake_io.h:
include/bmsrig/io.h:
