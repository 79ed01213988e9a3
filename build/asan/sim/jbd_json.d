build/asan/sim/jbd_json.o: sim/jbd_json.c include/bmsrig/jbd_json.h \
 include/bmsrig/jbd.h include/bmsrig/rc.h
include/bmsrig/jbd_json.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
