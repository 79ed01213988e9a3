build/asan/sim/model.o: sim/model.c include/bmsrig/model.h \
 include/bmsrig/rc.h
include/bmsrig/model.h:
include/bmsrig/rc.h:
