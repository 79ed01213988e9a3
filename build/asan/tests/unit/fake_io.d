build/asan/tests/unit/fake_io.o: tests/unit/fake_io.c \
 tests/unit/fake_io.h include/bmsrig/io.h
tests/unit/fake_io.h:
include/bmsrig/io.h:
