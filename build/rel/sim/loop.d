build/rel/sim/loop.o: sim/loop.c include/bmsrig/loop.h \
 include/bmsrig/rc.h
include/bmsrig/loop.h:
include/bmsrig/rc.h:
