build/rel/sim/jbd_personality.o: sim/jbd_personality.c \
 include/bmsrig/jbd_personality.h include/bmsrig/bms.h \
 include/bmsrig/jbd.h include/bmsrig/rc.h include/bmsrig/model.h
include/bmsrig/jbd_personality.h:
include/bmsrig/bms.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/model.h:
