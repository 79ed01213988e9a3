build/asan/sim/bmssim.o: sim/bmssim.c include/bmsrig/bms.h \
 include/bmsrig/jbd.h include/bmsrig/rc.h include/bmsrig/model.h \
 include/bmsrig/cli.h include/bmsrig/hil.h include/bmsrig/pack_state.h \
 include/bmsrig/truth.h include/bmsrig/jbd_json.h include/bmsrig/serial.h \
 include/bmsrig/io.h include/bmsrig/sim.h \
 include/bmsrig/jbd_personality.h include/bmsrig/loop.h
include/bmsrig/bms.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
include/bmsrig/model.h:
include/bmsrig/cli.h:
include/bmsrig/hil.h:
include/bmsrig/pack_state.h:
include/bmsrig/truth.h:
include/bmsrig/jbd_json.h:
include/bmsrig/serial.h:
include/bmsrig/io.h:
include/bmsrig/sim.h:
include/bmsrig/jbd_personality.h:
include/bmsrig/loop.h:
