build/rel/firmware/core/jbd_codec.o: firmware/core/jbd_codec.c \
 include/bmsrig/jbd.h include/bmsrig/rc.h firmware/core/intmath.h
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
firmware/core/intmath.h:
