build/rel/firmware/core/telemetry.o: firmware/core/telemetry.c \
 include/bmsrig/telemetry.h include/bmsrig/pack_state.h
include/bmsrig/telemetry.h:
include/bmsrig/pack_state.h:
