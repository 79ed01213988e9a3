build/asan/sim/bms.o: sim/bms.c include/bmsrig/bms.h include/bmsrig/jbd.h \
 include/bmsrig/rc.h include/bmsrig/model.h
include/bmsrig/bms.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/model.h:
