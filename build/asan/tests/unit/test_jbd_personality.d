build/asan/tests/unit/test_jbd_personality.o: \
 tests/unit/test_jbd_personality.c include/bmsrig/jbd_personality.h \
 include/bmsrig/bms.h include/bmsrig/jbd.h include/bmsrig/rc.h \
 include/bmsrig/model.h
include/bmsrig/jbd_personality.h:
include/bmsrig/bms.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/model.h:
