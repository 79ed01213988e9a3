build/asan/tools/bmsdecode.o: tools/bmsdecode.c include/bmsrig/jbd_json.h \
 include/bmsrig/jbd.h include/bmsrig/rc.h
include/bmsrig/jbd_json.h:
include/bmsrig/jbd.h:
include/bmsrig/rc.h:
