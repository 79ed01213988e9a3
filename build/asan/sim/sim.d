build/asan/sim/sim.o: sim/sim.c include/bmsrig/bms.h include/bmsrig/jbd.h \
 include/bmsrig/rc.h include/bmsrig/model.h include/bmsrig/pty.h \
 include/bmsrig/serial.h include/bmsrig/io.h include/bmsrig/sim.h \
 include/bmsrig/jbd_personality.h include/bmsrig/loop.h \
 include/bmsrig/truth.h include/bmsrig/pack_state.h
include/bmsrig/bms.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/model.h:
include/bmsrig/pty.h:
include/bmsrig/serial.h:
include/bmsrig/io.h:
include/bmsrig/sim.h:
include/bmsrig/jbd_personality.h:
include/bmsrig/loop.h:
include/bmsrig/truth.h:
include/bmsrig/pack_state.h:
