/* The clients' shared decode scratch (scratch.h): defined once, in .bss. */
#include "bmsrig/core/scratch.h"

union rig_client_scratch rig_client_scratch;
