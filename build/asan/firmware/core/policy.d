build/asan/firmware/core/policy.o: firmware/core/policy.c \
 include/bmsrig/policy.h include/bmsrig/pack_state.h
include/bmsrig/policy.h:
include/bmsrig/pack_state.h:
