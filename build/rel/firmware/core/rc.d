build/rel/firmware/core/rc.o: firmware/core/rc.c include/bmsrig/rc.h
include/bmsrig/rc.h:
