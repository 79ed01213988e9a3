build/asan/tests/unit/test_loop.o: tests/unit/test_loop.c \
 include/bmsrig/loop.h include/bmsrig/rc.h
include/bmsrig/loop.h:
include/bmsrig/rc.h:
