build/rel/hil/dut_proc.o: hil/dut_proc.c include/bmsrig/hil.h \
 include/bmsrig/pack_state.h include/bmsrig/rc.h include/bmsrig/truth.h
include/bmsrig/hil.h:
include/bmsrig/pack_state.h:
include/bmsrig/rc.h:
include/bmsrig/truth.h:
