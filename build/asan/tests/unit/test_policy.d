build/asan/tests/unit/test_policy.o: tests/unit/test_policy.c \
 include/bmsrig/policy.h include/bmsrig/pack_state.h
include/bmsrig/policy.h:
include/bmsrig/pack_state.h:
