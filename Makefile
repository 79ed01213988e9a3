# bmsrig: one non-recursive Makefile. Outputs under build/.
#   make          programs (build/bin)        make test   everything, unit tests under ASan+UBSan
#   make run      the default scenario        make bench  benchmarks
#   make fuzz     libFuzzer targets           make deps   Debian packages, only those missing
#   make fuzz-long FUZZ_SECONDS=60   every fuzz target for that long (not part of make test)
#   make lx106    the core for the ESP8266    make clean
#
# The parts and their arrows (docs/architecture.md). Each part is one archive, compiled against
# the headers of the parts it may reach and nothing else, so a wrong include fails to compile
# and a wrong call fails to link:
#   core  firmware/core   -> (nothing)          lib  lib/  -> core (rc.h, slcan)
#   sim   sim/            -> core lib           hil  hil/  -> sim core lib
#   viz   viz/            -> core lib           port firmware/port/host (bmsmon) -> core lib
#   tools tools/ (mains), tests/: anything

# Plain `make` needs only the compiler and the libraries the programs link; the goals that run
# tests also need cmocka, clang, the Xtensa compiler, QEMU and socat. Each installs what is
# missing first, so pkg-config below can answer.
DEPS_GROUP := $(if $(filter-out all build/bin/% run,$(or $(MAKECMDGOALS),all)),test,build)
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
ifneq ($(shell tools/deps --check $(DEPS_GROUP) >&2 && echo ok),ok)
$(error missing Debian packages, see the line above)
endif
endif

CC      ?= cc
CLANG   ?= clang
XCC     ?= xtensa-lx106-elf-gcc
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wconversion -Wsign-conversion
PKG_CFLAGS  := $(shell pkg-config --cflags libserialport libcjson 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs libserialport libcjson 2>/dev/null)
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
SDL_PKGS    := sdl2 SDL2_ttf SDL2_image
SDL_CFLAGS  := $(shell pkg-config --cflags $(SDL_PKGS) 2>/dev/null)
SDL_LIBS    := $(shell pkg-config --libs $(SDL_PKGS) 2>/dev/null)
# bmsmon's outputs (MQTT, the web view): linked into bmsmon alone.
OUT_PKGS    := libmosquitto libmicrohttpd
OUT_CFLAGS  := $(shell pkg-config --cflags $(OUT_PKGS) 2>/dev/null)
OUT_LIBS    := $(shell pkg-config --libs $(OUT_PKGS) 2>/dev/null)
SYS_LIBS    := -lutil -lm
STD_CORE := -std=c99 -pedantic
STD_HOST := -std=c11

# ---- parts ---------------------------------------------------------------------------------
PARTS     := core lib sim hil viz
SRC_core  := $(sort $(wildcard firmware/core/*.c))
SRC_lib   := $(sort $(wildcard lib/*.c))
SRC_sim   := $(sort $(wildcard sim/*.c))
SRC_hil   := $(sort $(wildcard hil/*.c))
# viz_draw.c is the viewer's SDL half: it goes with bmsviz alone, so nothing else needs SDL.
SRC_viz   := $(filter-out viz/viz_draw.c,$(sort $(wildcard viz/*.c)))
# The header parts each part may include (its own first).
REACH_core := core
REACH_lib  := lib core
REACH_sim  := sim core lib
REACH_hil  := hil sim core lib
REACH_viz  := viz core lib
REACH_port := core lib
REACH_all  := $(PARTS)

# Programs: their own sources, the archives they link (in link order) and extra libraries.
PROGS := bmsmon bmssim bmsdecode bmsviz bmsctl
SRC_bmsmon     := $(sort $(wildcard firmware/port/host/*.c))
SRC_bmssim     := $(sort $(wildcard tools/bmssim*.c))
SRC_bmsdecode  := tools/bmsdecode.c
SRC_bmsctl     := $(sort $(wildcard tools/bmsctl*.c))
SRC_bmsviz     := tools/bmsviz.c viz/viz_draw.c
LINK_bmsmon    := lib core
LINK_bmssim    := hil sim lib core
LINK_bmsdecode := sim lib core
LINK_bmsctl    := sim lib core
LINK_bmsviz    := viz lib core
LIBS_bmsviz    := $(SDL_LIBS)
LIBS_bmsmon    := $(OUT_LIBS)

UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_HELP := $(filter-out $(UNIT_SRC),$(sort $(wildcard tests/unit/*.c)))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_HELP := $(filter-out $(FUZZ_SRC),$(sort $(wildcard tests/fuzz/*.c)))
BENCH_SRC := $(sort $(wildcard tests/bench/bench_*.c))

# Each part's include root: build/inc/<part>/bmsrig/ holds links to the header folders it may
# reach, and only those.
INC_DIRS := $(foreach p,$(PARTS) port all,build/inc/$(p)/bmsrig)
$(foreach p,$(PARTS) port all,$(eval build/inc/$(p)/bmsrig: Makefile ; \
	@rm -rf $$@ && mkdir -p $$@ && $$(foreach r,$(REACH_$(p)),ln -s ../../../../include/bmsrig/$$(r) $$@/$$(r) &&) true))
part_of = $(strip $(if $(filter firmware/core/%,$1),core,$(if $(filter lib/%,$1),lib,\
	$(if $(filter sim/%,$1),sim,$(if $(filter hil/%,$1),hil,$(if $(filter viz/%,$1),viz,\
	$(if $(filter firmware/port/host/%,$1),port,all)))))))

.PHONY: FORCE all run test bench fuzz fuzz-long lx106 lx106-deploy lx106-chosen lx106-elf lx106-measure deps clean
.SECONDARY:
all: $(addprefix build/bin/,$(PROGS))

# ---- variants: rel (the programs), asan (what `make test` runs), fuzz (clang, libFuzzer) ----
CC_rel    := $(CC)
CC_asan   := $(CC)
CC_fuzz   := $(CLANG)
# The programs link as one unit with gcc (-flto: small functions inlined across files; the
# 24-hour lockstep day takes about 5 % fewer instructions, docs/benchmarks.md), their archives
# made with gcc-ar (the LTO plugin). Another compiler builds them as before.
LTO_rel     := $(if $(shell $(CC) -v 2>&1 | grep '^gcc version' >/dev/null && command -v gcc-ar),-flto=auto)
CFLAGS_rel  := -O2 -g $(LTO_rel) $(WARN)
CFLAGS_asan := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all $(WARN)
CFLAGS_fuzz := -O1 -g -fsanitize=fuzzer-no-link,address,undefined $(WARN)
LDFLAGS_rel  := $(if $(LTO_rel),-O2 -g $(LTO_rel))
AR_rel       := $(if $(LTO_rel),gcc-ar,$(AR))
AR_asan      := $(AR)
AR_fuzz      := $(AR)
LDFLAGS_asan := -fsanitize=address,undefined
LDFLAGS_fuzz := -fsanitize=fuzzer,address,undefined

define variant
build/$(1)/firmware/core/%.o: firmware/core/%.c | build/inc/core/bmsrig
	@mkdir -p $$(@D)
	$$(CC_$(1)) -Ibuild/inc/core -Ifirmware/core $$(STD_CORE) $$(CFLAGS_$(1)) -MMD -MP -c $$< -o $$@
build/$(1)/%.o: %.c | $(INC_DIRS)
	@mkdir -p $$(@D)
	$$(CC_$(1)) -Ibuild/inc/$$(call part_of,$$<) $$(if $$(filter tests/%,$$<),-Itests/unit) -D_DEFAULT_SOURCE $$(PKG_CFLAGS) $$(CMOCKA_CFLAGS) \
		$$(STD_HOST) $$(CFLAGS_$(1)) -MMD -MP -c $$< -o $$@
$(foreach p,$(PARTS),
build/$(1)/lib$(p).a: $$(SRC_$(p):%.c=build/$(1)/%.o)
	@mkdir -p $$(@D) && rm -f $$@
	$$(AR_$(1)) rcs $$@ $$^
)
endef
$(foreach v,rel asan fuzz,$(eval $(call variant,$(v))))
archives = $(foreach p,$(2),build/$(1)/lib$(p).a)

# Each program: its sources and the archives its arrows allow.
define program
build/bin/$(1): $(SRC_$(1):%.c=build/rel/%.o) $(call archives,rel,$(LINK_$(1)))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_rel) -o $$@ $$^ $$(PKG_LIBS) $$(LIBS_$(1)) $$(SYS_LIBS)
build/asan/bin/$(1): $(SRC_$(1):%.c=build/asan/%.o) $(call archives,asan,$(LINK_$(1)))
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS_asan) -o $$@ $$^ $$(PKG_LIBS) $$(LIBS_$(1)) $$(SYS_LIBS)
endef
$(foreach p,$(PROGS),$(eval $(call program,$(p))))
$(foreach v,rel asan,$(SRC_bmsviz:%.c=build/$(v)/%.o)): PKG_CFLAGS += $(SDL_CFLAGS)
$(foreach v,rel asan,$(SRC_bmsmon:%.c=build/$(v)/%.o)): PKG_CFLAGS += $(OUT_CFLAGS)

# Tests reach everything.
ALL_AR = $(call archives,$(1),hil sim viz lib core)
UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
build/asan/tests/%: build/asan/tests/unit/%.o $(UNIT_HELP:%.c=build/asan/%.o) $(call ALL_AR,asan)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS) $(SYS_LIBS)
# bmsmon's outputs are no archive (bmsmon alone links them): their test takes the objects it
# tests, those that need neither libmosquitto nor libmicrohttpd.
build/asan/tests/test_out: build/asan/firmware/port/host/out.o build/asan/firmware/port/host/out_influx.o

# The viewer's test helpers (tests/viz/): a PNG pixel probe and a fake bmssim control socket.
VIZ_TEST_BINS := build/asan/tests/viz/pngcheck build/asan/tests/viz/fakectl
build/asan/tests/viz/pngcheck: build/asan/tests/viz/pngcheck.o
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(SDL_LIBS)
build/asan/tests/viz/pngcheck.o: PKG_CFLAGS += $(SDL_CFLAGS)
build/asan/tests/viz/fakectl: build/asan/tests/viz/fakectl.o
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(PKG_LIBS)

# ---- fuzzing (clang libFuzzer): each target links the archives, which take what it uses ----
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
build/fuzz/fuzz_%: build/fuzz/tests/fuzz/fuzz_%.o $(FUZZ_HELP:%.c=build/fuzz/%.o) $(call ALL_AR,fuzz)
	$(CLANG) $(LDFLAGS_fuzz) -o $@ $^ $(PKG_LIBS) $(SYS_LIBS)
fuzz: $(FUZZ_BINS)
FUZZ_SECONDS ?= 60
fuzz-long: $(FUZZ_BINS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_TARGETS="$(FUZZ_TARGETS)" tests/fuzz/run-long

# ---- the core on the ESP8266's CPU -------------------------------------------------------
# A board carries only what it reads (firmware/core/with.h, docs/nodemcu.md): LX_PROTOCOLS names
# the BMS-side protocols, LX_INVERTER the inverter-side ones ("none": no inverter port); empty,
# every protocol. A choice builds in its own folder, so the default build/lx106 stays whole.
LX_KNOWN     := jbd daly jk jk-ble jk-pb byd thornwave deye-modbus pylontech-rs485 pylontech-can
LX_INV_KNOWN := pylontech-can pylontech-rs485 deye-modbus none
LX_PROTOCOLS ?=
LX_INVERTER  ?=
$(if $(filter-out $(LX_KNOWN),$(LX_PROTOCOLS)),$(error LX_PROTOCOLS: unknown $(filter-out $(LX_KNOWN),$(LX_PROTOCOLS)); expected some of: $(LX_KNOWN)))
$(if $(filter-out $(LX_INV_KNOWN),$(LX_INVERTER)),$(error LX_INVERTER: unknown $(filter-out $(LX_INV_KNOWN),$(LX_INVERTER)); expected some of: $(LX_INV_KNOWN)))
lx_macro = $(shell echo '$(1)' | tr 'a-z-' 'A-Z_')
LX_SEL := $(if $(LX_PROTOCOLS),-DRIG_PROTOS_CHOSEN $(foreach p,$(LX_PROTOCOLS),-DRIG_WITH_$(call lx_macro,$p)=1)) \
          $(if $(LX_INVERTER),-DRIG_INV_CHOSEN $(foreach p,$(filter-out none,$(LX_INVERTER)),-DRIG_INV_WITH_$(call lx_macro,$p)=1))
lx_empty :=
lx_space := $(lx_empty) $(lx_empty)
LXB := build/lx106$(if $(strip $(LX_PROTOCOLS)$(LX_INVERTER)),-sel/$(subst $(lx_space),-,$(strip $(LX_PROTOCOLS) inv $(LX_INVERTER))))
# -flto: the core links as one unit (inlined across files, unused paths gone): 47,760 -> 42,488 B
# of flash for everything together; fat objects keep tests/lx106-check's per-object view.
# -fno-jump-tables: a switch as compares is smaller here than a table of 4-byte addresses.
XFLAGS := --specs=/usr/lib/xtensa-lx106-elf/picolibc.specs -std=c99 -pedantic -Os -mlongcalls -mtext-section-literals -ffunction-sections \
          -fdata-sections -flto -ffat-lto-objects -fno-jump-tables -Wall -Wextra -Werror -Wconversion -Wsign-conversion -Iinclude -Ifirmware/core \
          -DRIG_FIRMWARE $(LX_SEL)
LX_OBJS := $(SRC_core:firmware/core/%.c=$(LXB)/%.o)
# The flags an object was built with, kept beside it: an object built before a flag changed
# (LTO, a protocol choice) is rebuilt, not linked with the new ones. Taken once, at parse time,
# so a target's own additions (libgcc_lx106.o's -fno-lto) never rewrite it.
LX_FLAGS_NOW := $(XFLAGS)
$(LXB)/flags: FORCE
	@mkdir -p $(@D)
	@echo '$(LX_FLAGS_NOW)' | cmp -s - $@ 2>/dev/null || echo '$(LX_FLAGS_NOW)' >$@
FORCE:
$(LXB)/%.o: firmware/core/%.c $(LXB)/flags
	@mkdir -p $(@D)
	$(XCC) $(XFLAGS) -MMD -MP -c $< -o $@
# The virtual NodeMCU: the core, a semihosting HAL and startup, linked for QEMU's sim machine.
LXP_DIR  := firmware/port/qemu-lx106
LXP_OBJS := $(LXB)/port/reset.o $(patsubst $(LXP_DIR)/%.c,$(LXB)/port/%.o,$(sort $(wildcard $(LXP_DIR)/*.c)))
LX_ELF   := $(LXB)/bmsmon-lx106.elf
XSIZE    ?= xtensa-lx106-elf-size
lx106: $(LX_OBJS) $(LX_ELF) build/bin/bmssim
	@tests/lx106-check $(LX_OBJS)
	@echo "virtual NodeMCU $(LX_ELF) (QEMU -M sim -cpu lx106), sections:"
	@$(XSIZE) -A $(LX_ELF) | awk '$$1 ~ /^\.(reset|text|rodata|data|bss)$$/ {printf "  %-7s %6d bytes at 0x%08x\n", $$1, $$2, $$3}'
	@LINKED_ALL_ONLY=$(if $(strip $(LX_PROTOCOLS)$(LX_INVERTER)),1) PORT_OBJS=$(LXB)/port/main.o $(LXP_DIR)/linked $(LX_OBJS)
ifeq ($(strip $(LX_PROTOCOLS)$(LX_INVERTER)),)
	@echo "deployments (make lx106 LX_PROTOCOLS=... LX_INVERTER=...; docs/nodemcu.md):"
	@$(MAKE) --no-print-directory lx106-deploy LX_DEPLOY=jbd-monitor LX_PROTOCOLS=jbd LX_INVERTER=none \
		LX_ROOTS="rig_fw_init rig_fw_step"
	@$(MAKE) --no-print-directory lx106-deploy LX_DEPLOY=vbms-bridge LX_PROTOCOLS="jbd jk daly" \
		LX_INVERTER=pylontech-can LX_ROOTS="rig_bridge_cfg_defaults rig_bridge_link_set rig_bridge_init rig_bridge_step"
	@$(LXP_DIR)/measure build/bin stack
endif
# The two deployments' virtual NodeMCUs alone, for make test (tests/e2e/qemu_chosen.sh).
lx106-chosen:
	@$(MAKE) --no-print-directory LX_PROTOCOLS=jbd LX_INVERTER=none lx106-elf
	@$(MAKE) --no-print-directory LX_PROTOCOLS="jbd jk daly" LX_INVERTER=pylontech-can lx106-elf
lx106-elf: $(LX_ELF)
# One deployment's figure: its objects checked as make lx106 checks the whole core, then linked
# from the entry points its port calls (LX_ROOTS); its virtual NodeMCU is built too, for
# tests/e2e/qemu_chosen.sh.
lx106-deploy: $(LX_OBJS) $(LX_ELF)
	@tests/lx106-check $(LX_OBJS) >$(LXB)/lx106-check.log || { cat $(LXB)/lx106-check.log; exit 1; }
	@LINK_ROOTS="$(LX_ROOTS)" $(LXP_DIR)/linked $(LX_OBJS) | sed -n 's/^  all together    /  $(LX_DEPLOY)/; s/  (the protocols this.*/  (LX_PROTOCOLS="$(LX_PROTOCOLS)" LX_INVERTER=$(LX_INVERTER))/p'
# The division and multiply helpers are called by code LTO makes after it has resolved symbols,
# so they must be plain code, not LTO code.
$(LXB)/port/libgcc_lx106.o: XFLAGS += -fno-lto
$(LXB)/port/%.o: $(LXP_DIR)/%.c $(LXB)/flags
	@mkdir -p $(@D)
	$(XCC) $(XFLAGS) -MMD -MP -c $< -o $@
$(LXB)/port/%.o: $(LXP_DIR)/%.S $(LXB)/flags
	@mkdir -p $(@D)
	$(XCC) $(XFLAGS) -c $< -o $@
$(LX_ELF): $(LXP_OBJS) $(LX_OBJS) $(LXP_DIR)/lx106.ld
	$(XCC) $(XFLAGS) -nostartfiles -T $(LXP_DIR)/lx106.ld -Wl,-Map=$@.map -o $@ $(LXP_OBJS) $(LX_OBJS)
# Runs it briefly against bmssim for each protocol: stack high-water mark, poll-cycle time, and
# (under -icount) instructions per poll cycle.
lx106-measure: $(LX_ELF) build/bin/bmssim
	@$(LXP_DIR)/measure build/bin

# ---- the two user commands ---------------------------------------------------------------
test: $(UNIT_BINS) $(addprefix build/asan/bin/,$(PROGS)) $(VIZ_TEST_BINS) $(FUZZ_BINS) $(LX_OBJS) $(LX_ELF) lx106-chosen
	@tests/run-tests

# The main job: the default scenario, a 24-hour day of a 16S LFP pack (solar charge, evening
# load) played in lockstep against the firmware core, with live progress and the verdict of each
# expectation. Exit 0 when every one holds.
RUN_SCENARIO := scenarios/jbd-16s-24h-solar-day-tracks-the-pack.json
run: all
	build/bin/bmssim run $(RUN_SCENARIO)

BENCH_BINS := $(BENCH_SRC:tests/bench/%.c=build/bench/%)
bench: all $(LX_ELF) $(BENCH_BINS)
	@tests/bench/run-bench
build/bench/%: build/rel/tests/bench/%.o build/rel/tests/unit/fake_io.o $(call ALL_AR,rel)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_rel) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS) $(SYS_LIBS)

deps:
	@tools/deps

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
