build/asan/hil/dut_report.o: hil/dut_report.c include/bmsrig/hil.h \
 include/bmsrig/pack_state.h include/bmsrig/rc.h include/bmsrig/truth.h \
 include/bmsrig/telemetry.h
include/bmsrig/hil.h:
include/bmsrig/pack_state.h:
include/bmsrig/rc.h:
include/bmsrig/truth.h:
include/bmsrig/telemetry.h:
