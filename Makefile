# bmsrig: one non-recursive Makefile. Outputs under build/.
#   make          programs (build/bin)        make test   everything, unit tests under ASan+UBSan
#   make run      the default scenario        make bench  benchmarks
#   make fuzz     libFuzzer targets           make deps   Debian packages, only those missing
#   make lx106    the core for the ESP8266    make clean

# Any goal but these first installs missing Debian packages, so pkg-config below can answer.
ifeq ($(filter deps clean,$(MAKECMDGOALS)),)
ifneq ($(shell tools/deps --check >&2 && echo ok),ok)
$(error missing Debian packages, see the line above)
endif
endif

CC      ?= cc
CLANG   ?= clang
XCC     ?= xtensa-lx106-elf-gcc
PKGS    := libserialport libcjson cmocka
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs libserialport libcjson 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)
CPPFLAGS := -Iinclude -Ifirmware/core -D_DEFAULT_SOURCE
STD_CORE := -std=c99 -pedantic
STD_HOST := -std=c11

# Two object trees: rel (the programs) and asan (what `make test` runs).
CFLAGS_rel  := -O2 -g $(WARN)
CFLAGS_asan := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all $(WARN)
LDFLAGS_rel  :=
LDFLAGS_asan := -fsanitize=address,undefined

CORE_SRC := $(sort $(wildcard firmware/core/*.c))
HOST_SRC := $(filter-out firmware/port/host/bmsmon.c,$(sort $(wildcard firmware/port/host/*.c)))
SIM_SRC  := $(sort $(wildcard sim/*.c))
HIL_SRC  := $(sort $(wildcard hil/*.c))
# bmsviz alone links SDL: its SDL sources stay out of librig.a, so the unit tests never need
# SDL; its model, layout and socket code (tools/viz_*.c but viz_draw.c) are plain library code.
VIZ_SDL_SRC := tools/bmsviz.c tools/viz_draw.c
SDL_PKGS    := sdl2 SDL2_ttf SDL2_image
SDL_CFLAGS  := $(shell pkg-config --cflags $(SDL_PKGS) 2>/dev/null)
SDL_LIBS    := $(shell pkg-config --libs $(SDL_PKGS) 2>/dev/null)
# tools/ holds the program mains and what only they use: bmssim's subcommands (tools/bmssim_*.c)
# compose the emulator and the judge, so they live above both; like every non-main source they
# go into librig.a, and MAIN_<prog> names the main itself.
TOOL_SRC := $(filter-out tools/bmsdecode.c tools/bmssim.c $(VIZ_SDL_SRC),$(sort $(wildcard tools/*.c)))
LIB_SRC  := $(CORE_SRC) $(HOST_SRC) $(SIM_SRC) $(HIL_SRC) $(TOOL_SRC)
PROGS    := bmsmon bmssim bmsdecode bmsviz
MAIN_bmsmon    := firmware/port/host/bmsmon
MAIN_bmssim    := tools/bmssim
MAIN_bmsdecode := tools/bmsdecode
MAIN_bmsviz    := tools/bmsviz
UNIT_SRC  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_HELP := $(filter-out $(UNIT_SRC),$(sort $(wildcard tests/unit/*.c)))
BENCH_SRC := $(sort $(wildcard tests/bench/*.c))
FUZZ_SRC  := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all run test bench fuzz lx106 lx106-measure deps clean
.SECONDARY:
all: $(addprefix build/bin/,$(PROGS))

# ---- per-variant rules -------------------------------------------------------------------
define variant
build/$(1)/firmware/core/%.o: firmware/core/%.c
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(STD_CORE) $$(CFLAGS_$(1)) -MMD -MP -c $$< -o $$@
build/$(1)/%.o: %.c
	@mkdir -p $$(@D)
	$$(CC) $$(CPPFLAGS) $$(PKG_CFLAGS) $$(STD_HOST) $$(CFLAGS_$(1)) -MMD -MP -c $$< -o $$@
build/$(1)/librig.a: $$(LIB_SRC:%.c=build/$(1)/%.o)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(eval $(call variant,rel))
$(eval $(call variant,asan))

# Each program is its main object plus the library; MAIN_<prog> names its main source.
.SECONDEXPANSION:
build/bin/%: build/rel/$$(MAIN_$$*).o build/rel/librig.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_rel) -o $@ $^ $(PKG_LIBS) -lutil -lm

build/asan/bin/%: build/asan/$$(MAIN_$$*).o build/asan/librig.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(PKG_LIBS) -lutil -lm

# bmsviz: its SDL objects, the library, SDL. Explicit rules win over the pattern rules above.
$(foreach v,rel asan,$(VIZ_SDL_SRC:%.c=build/$(v)/%.o)): CPPFLAGS += $(SDL_CFLAGS)
build/bin/bmsviz: $(VIZ_SDL_SRC:%.c=build/rel/%.o) build/rel/librig.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_rel) -o $@ $^ $(PKG_LIBS) $(SDL_LIBS) -lutil -lm
build/asan/bin/bmsviz: $(VIZ_SDL_SRC:%.c=build/asan/%.o) build/asan/librig.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_asan) -o $@ $^ $(PKG_LIBS) $(SDL_LIBS) -lutil -lm

# The viewer's test helpers (tests/viz/): a PNG pixel probe and a fake bmssim control socket.
VIZ_TEST_BINS := build/asan/tests/viz/pngcheck build/asan/tests/viz/fakectl
build/asan/tests/viz/pngcheck: tests/viz/pngcheck.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(SDL_CFLAGS) $(STD_HOST) $(CFLAGS_asan) -o $@ $< $(SDL_LIBS)
build/asan/tests/viz/fakectl: tests/viz/fakectl.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(STD_HOST) $(CFLAGS_asan) -o $@ $< $(PKG_LIBS)

UNIT_BINS := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
build/asan/tests/%: build/asan/tests/unit/%.o $(UNIT_HELP:%.c=build/asan/%.o) build/asan/librig.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_asan) -o $@ $< $(UNIT_HELP:%.c=build/asan/%.o) build/asan/librig.a $(PKG_LIBS) $(CMOCKA_LIBS) -lutil -lm

# ---- fuzzing (clang libFuzzer) -----------------------------------------------------------
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined $(CPPFLAGS) $(PKG_CFLAGS)
FUZZ_EXTRA := $(wildcard sim/*_json.c) $(filter-out $(FUZZ_SRC),$(sort $(wildcard tests/fuzz/*.c)))
FUZZ_BINS  := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
# A target that needs host sources beyond the core names them in FUZZ_WITH_<target>.
FUZZ_WITH_fuzz_expr     := hil/expect.c
FUZZ_WITH_fuzz_replay   := sim/replay.c
FUZZ_WITH_fuzz_board_demux := hil/dut_board.c hil/dut_spec.c firmware/port/host/serial.c
FUZZ_WITH_fuzz_viz_line := tools/viz_model.c
FUZZ_WITH_fuzz_scenario := $(filter-out sim/control.c sim/loop.c sim/pty.c sim/sim.c sim/timeline.c sim/transport_mem.c,$(SIM_SRC)) \
                           hil/expect.c hil/scenario_judge.c firmware/port/host/serial.c
build/fuzz/%: tests/fuzz/%.c $(CORE_SRC) $(FUZZ_EXTRA) $$(FUZZ_WITH_$$*)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_FLAGS) -o $@ $< $(CORE_SRC) $(sort $(FUZZ_EXTRA) $(FUZZ_WITH_$*)) $(PKG_LIBS) -lm
fuzz: $(FUZZ_BINS)

# ---- the core on the ESP8266's CPU -------------------------------------------------------
XFLAGS := --specs=/usr/lib/xtensa-lx106-elf/picolibc.specs -std=c99 -pedantic -Os -mlongcalls -mtext-section-literals -ffunction-sections \
          -fdata-sections -Wall -Wextra -Werror -Iinclude -Ifirmware/core
LX_OBJS := $(CORE_SRC:firmware/core/%.c=build/lx106/%.o)
build/lx106/%.o: firmware/core/%.c
	@mkdir -p $(@D)
	$(XCC) $(XFLAGS) -MMD -MP -c $< -o $@
# The virtual NodeMCU: the core, a semihosting HAL and startup, linked for QEMU's sim machine.
LXP_DIR  := firmware/port/qemu-lx106
LXP_OBJS := build/lx106/port/reset.o $(patsubst $(LXP_DIR)/%.c,build/lx106/port/%.o,$(sort $(wildcard $(LXP_DIR)/*.c)))
LX_ELF   := build/lx106/bmsmon-lx106.elf
XSIZE    ?= xtensa-lx106-elf-size
lx106: $(LX_OBJS) $(LX_ELF) build/bin/bmssim
	@tests/lx106-check $(LX_OBJS)
	@echo "virtual NodeMCU $(LX_ELF) (QEMU -M sim -cpu lx106), sections:"
	@$(XSIZE) -A $(LX_ELF) | awk '$$1 ~ /^\.(reset|text|data|bss)$$/ {printf "  %-7s %6d bytes at 0x%08x\n", $$1, $$2, $$3}'
	@$(LXP_DIR)/measure build/bin stack
build/lx106/port/%.o: $(LXP_DIR)/%.c
	@mkdir -p $(@D)
	$(XCC) $(XFLAGS) -MMD -MP -c $< -o $@
build/lx106/port/%.o: $(LXP_DIR)/%.S
	@mkdir -p $(@D)
	$(XCC) $(XFLAGS) -c $< -o $@
$(LX_ELF): $(LXP_OBJS) $(LX_OBJS) $(LXP_DIR)/lx106.ld
	$(XCC) $(XFLAGS) -nostartfiles -T $(LXP_DIR)/lx106.ld -Wl,-Map=$@.map -o $@ $(LXP_OBJS) $(LX_OBJS)
# Runs it briefly against bmssim for each protocol: stack high-water mark, poll-cycle time, and
# (under -icount) instructions per poll cycle.
lx106-measure: $(LX_ELF) build/bin/bmssim
	@$(LXP_DIR)/measure build/bin

# ---- the two user commands ---------------------------------------------------------------
test: $(UNIT_BINS) $(addprefix build/asan/bin/,$(PROGS)) $(VIZ_TEST_BINS) $(FUZZ_BINS) $(LX_OBJS) $(LX_ELF)
	@tests/run-tests

# The main job: the default scenario, a 24-hour day of a 16S LFP pack (solar charge, evening
# load) played in lockstep against the firmware core, with live progress and the verdict of each
# expectation. Exit 0 when every one holds.
RUN_SCENARIO := scenarios/jbd-16s-24h-solar-day-tracks-the-pack.json
run: all
	build/bin/bmssim run $(RUN_SCENARIO)

bench: all $(LX_ELF) build/bench/bench_codec build/bench/bench_protocols build/bench/bench_pty build/bench/bench_many
	@tests/bench/run-bench

build/bench/%: tests/bench/%.c tests/bench/bench.h build/rel/librig.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/unit $(PKG_CFLAGS) $(STD_HOST) -O2 -g $(WARN) -o $@ $< tests/unit/fake_io.c build/rel/librig.a $(PKG_LIBS) $(CMOCKA_LIBS) -lutil -lm

deps:
	@tools/deps

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
