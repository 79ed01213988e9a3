build/asan/sim/bms_state_file.o: sim/bms_state_file.c \
 include/bmsrig/bms.h include/bmsrig/jbd.h include/bmsrig/rc.h \
 include/bmsrig/model.h
include/bmsrig/bms.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/model.h:
