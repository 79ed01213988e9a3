build/asan/tests/unit/test_model.o: tests/unit/test_model.c \
 include/bmsrig/model.h include/bmsrig/rc.h
include/bmsrig/model.h:
include/bmsrig/rc.h:
