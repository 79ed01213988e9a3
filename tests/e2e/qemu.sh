# The virtual NodeMCU: the firmware core built for the ESP8266's CPU (build/lx106/bmsmon-lx106.elf)
# running in QEMU (-M sim -cpu lx106) against bmssim. Its telemetry lines must parse and agree
# with the emulator's truth for every protocol variant, its command line must behave as
# bmsmon's, and it must report its stack high-water mark and its poll-cycle figures. In bridge
# mode (several packs, an inverter port) it reads a Daly bus as one battery, and the judge runs
# an aggregator scenario on it with the rig playing the inverter on a pty.
. tests/e2e/common

DUT=firmware/port/qemu-lx106/bmsmon-qemu
ELF=${BMSMON_LX106_ELF:-build/lx106/bmsmon-lx106.elf}

if ! command -v qemu-system-xtensa >/dev/null 2>&1; then
	fail "qemu-system-xtensa not installed (Debian qemu-system-misc; make deps)"
	exit 0
fi
if [ ! -f "$ELF" ]; then
	fail "$ELF not built (make lx106)"
	exit 0
fi

# serve NAME BMSSIM_ARGS...: bmssim in the background on $TMP/NAME; waits for the link.
serve() {
	name=$1
	shift
	"$BIN/bmssim" serve "$@" --link "$TMP/$name" --duration-s 60 -q >"$TMP/$name.sim" 2>&1 &
	sim_pid=$!
	i=0
	while [ ! -e "$TMP/$name" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
stop_sim() { kill "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null; }

# num KEY FILE: the integer after "KEY": on the first line that has it.
num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2" | head -n 1; }

# ---- a few polls against bmssim serve, read directly ---------------------------------------
serve jbd --bms jbd --cells 4 --current-a -12
start=$(date +%s%N)
"$DUT" --port "$TMP/jbd" --proto jbd --poll-ms 500 --count 3 >"$TMP/out" 2>"$TMP/err"
rc=$?
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
stop_sim
lines=$(grep -c '^BMSRIG {"ms":[0-9]*,"proto":"jbd","ok":1,"pack_mv":[0-9]*,"current_ma":-*[0-9]*,.*"relay":1,"comm_fail":0,"why":0}$' "$TMP/out")
# The model's current may still read 0 at the very first poll; it must be there by the last.
if [ $rc -eq 0 ] && [ "$lines" -eq 3 ] && grep '^BMSRIG {' "$TMP/out" | tail -n 1 | grep -q '"current_ma":-12000,'; then
	pass "jbd direct: exit 0, 3 telemetry lines, relay closed, -12 A, in $elapsed_ms ms"
else
	fail "jbd direct: exit $rc, $lines good lines: $(head -c 400 "$TMP/out") $(head -c 200 "$TMP/err")"
fi
used=$(num used_bytes "$TMP/out")
size=$(num size_bytes "$TMP/out")
if [ -n "$used" ] && [ "$used" -gt 256 ] && [ "$used" -lt 4096 ] && [ "$size" -gt "$used" ]; then
	pass "stack high-water mark: $used of $size bytes (an ESP8266 Arduino loop gets 4096)"
else
	fail "stack high-water mark: used \"$used\" of \"$size\": $(grep STACK "$TMP/out")"
fi
# The core's own share (below the port's call into it): the ESP8266 budget is 512 B.
core=$(num core_bytes "$TMP/out")
if [ -n "$core" ] && [ "$core" -gt 64 ] && [ "$core" -le 512 ] && [ "$core" -lt "$used" ]; then
	pass "core stack: $core B below the port's frames, within the 512 B budget"
else
	fail "core stack: \"$core\" B (budget 512, whole program \"$used\"): $(grep STACK "$TMP/out")"
fi
timed=$(num timed_cycles "$TMP/out")
cyc=$(num cycle_ms_avg "$TMP/out")
if [ -n "$timed" ] && [ "$timed" -ge 1 ] && [ "$cyc" -gt 0 ] && [ "$cyc" -lt 500 ]; then
	pass "poll cycle: $cyc ms from first request to report ($timed cycles), $(num busy_us_per_report "$TMP/out") us of QEMU time in fw_step each"
else
	fail "poll cycle figures: $(grep PERF "$TMP/out")"
fi

# ---- instructions per poll cycle, under -icount ----------------------------------------------
serve jbdi --bms jbd --cells 4
"$DUT" --port "$TMP/jbdi" --proto jbd --poll-ms 500 --count 3 -q --icount-shift 5 >"$TMP/icount" 2>&1
rc=$?
stop_sim
insns=$(num insns_per_report "$TMP/icount")
work=$(num work_insns_per_report "$TMP/icount")
if [ $rc -eq 0 ] && [ "$(grep -c '^BMSRIG {' "$TMP/icount")" -eq 3 ] && [ -n "$insns" ] &&
   [ "$work" -gt 1000 ] && [ "$insns" -ge "$work" ]; then
	pass "-icount shift=5: $insns instructions per poll cycle, $work of them the cycle's own work"
else
	fail "-icount: exit $rc: $(tail -c 400 "$TMP/icount")"
fi

# ---- the command line --------------------------------------------------------------------------
"$DUT" --help >"$TMP/help" 2>&1
if [ $? -eq 0 ] && grep -q -- '--poll-ms' "$TMP/help"; then pass "--help: exit 0"; else fail "--help: $(head -c 200 "$TMP/help")"; fi
expect_usage_error "no --port" "--port is required" "$DUT"
expect_usage_error "bad --poll-ms" 'poll-ms: expected an integer 100..600000, got "5"' "$DUT" --port x --poll-ms=5
expect_usage_error "bad --proto" 'expected one of jbd' "$DUT" --port x --proto nope
expect_usage_error "unknown option" 'unknown option "--frob"' "$DUT" --port x --frob
expect_usage_error "missing port" "cannot open" "$DUT" --port "$TMP/nothing-here"

# ---- bridge mode: its command line ------------------------------------------------------------
expect_usage_error "bridge: empty address" '--address: expected an integer 0..254, got ""' \
	"$DUT" --port x --address 1,,2
expect_usage_error "bridge: 16 addresses" '--address: at most 15 addresses on a port' \
	"$DUT" --port x --address 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16
expect_usage_error "bridge: five ports" '--port: at most 4 ports' \
	"$DUT" --port a --port b --port c --port d --port e
expect_usage_error "bridge: --inverter without a path" '--inverter: expected PROTO:PATH' \
	"$DUT" --port x --inverter pylontech-can
expect_usage_error "bridge: unknown inverter protocol" '--inverter: unknown protocol "sma"' \
	"$DUT" --port x --inverter sma:/dev/null
expect_usage_error "bridge: --policy-fets" '--policy-fets works with one BMS only' \
	"$DUT" --port a --port b --policy-fets
expect_usage_error "bridge: a link the bridge refuses" 'more than 15 packs, or a setting the bridge refuses' \
	"$DUT" --port /dev/null --port /dev/null --proto pylontech-rs485

# ---- bridge mode: a Daly bus of two read as one battery --------------------------------------------
serve bus --bms "daly,address=1,seed=1" --bms "daly,address=2,seed=2" --cells 16 --current-a -10
expect_usage_error "bridge: inverter pty missing" "--inverter: $TMP/no-pty: cannot open" \
	"$DUT" --port "$TMP/bus" --proto daly --address 1,2 --inverter "pylontech-can:$TMP/no-pty"
"$DUT" --port "$TMP/bus" --proto daly --address 1,2 --timeout-ms 300 --retries 1 --count 6 \
	>"$TMP/bridge" 2>"$TMP/bridge.err"
rc=$?
stop_sim
last=$(grep '^BMSRIG {' "$TMP/bridge" | tail -n 1)
# Both packs online by the last line: the aggregate is their sum (-10 A each on the bus's model).
if [ $rc -eq 0 ] && [ "$(grep -c '^BMSRIG {' "$TMP/bridge")" -eq 6 ] &&
   printf '%s' "$last" | grep -q '"inv":{"cvl_mv":[0-9]*,"ccl_ma":[0-9]*,.*"online_packs":2,"pack_ok":\[1,1\]' &&
   grep -q '^bmsmon-lx106: pack 1: [1-9][0-9]* cycles ok' "$TMP/bridge.err"; then
	pass "bridge: a Daly bus of 2 on the lx106, 6 lines, both packs online: $(printf '%s' "$last" | sed 's/.*"inv"://' | cut -c1-120)"
else
	fail "bridge: exit $rc: $(printf '%s' "$last" | tail -c 300) $(head -c 300 "$TMP/bridge.err")"
fi

# ---- bridge mode judged: an aggregator scenario, the rig as the inverter (wall clock, 30 s) -------
sc=scenarios/aggregator-cold-pack-forbids-charging-for-all.json
wallclock "on the virtual NodeMCU:" "$sc" --dut qemu

# ---- the emulator goes away: exit 1 --------------------------------------------------------------
"$BIN/bmssim" serve --bms jbd --link "$TMP/short" --duration-s 2 -q >/dev/null 2>&1 &
sim_pid=$!
i=0
while [ ! -e "$TMP/short" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$DUT" --port "$TMP/short" --poll-ms 500 -q --duration-s 20 >"$TMP/lost" 2>"$TMP/lost.err"
rc=$?
wait "$sim_pid" 2>/dev/null
if [ $rc -eq 1 ] && grep -q 'port lost' "$TMP/lost.err" && grep -q '^BMSRIG-STACK' "$TMP/lost"; then
	pass "emulator gone: exit 1, \"$(head -n 1 "$TMP/lost.err")\""
else
	fail "emulator gone: exit $rc: $(head -c 300 "$TMP/lost.err")"
fi

# ---- every protocol, judged by bmssim --dut ------------------------------------------------------
# variant NAME COUNT BMSSIM_ARGS -- DUT_ARGS
variant() {
	name=$1 count=$2
	shift 2
	sim_args=""
	while [ "$1" != "--" ]; do sim_args="$sim_args $1"; shift; done
	shift
	# shellcheck disable=SC2086
	"$BIN/bmssim" serve $sim_args --current-a -12 --duration-s 40 \
		--dut "$DUT --port {port} -q --count $count $*" >"$TMP/v-$name" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^verdict: AGREE' "$TMP/v-$name" && ! grep -q DISAGREES "$TMP/v-$name"; then
		pass "$name: $(grep '^verdict' "$TMP/v-$name" | cut -c10-70)"
	else
		fail "$name: exit $rc: $(grep -E 'DISAGREES|verdict|first problem|bmssim:|bmsmon' "$TMP/v-$name" | tail -n 4 | tr '\n' ' ')"
	fi
}

variant jbd 4 --bms jbd -- --proto jbd --poll-ms 500
variant jbd-ble 4 --bms jbd-ble -- --proto jbd-ble
variant daly 4 --bms daly --cells 16 -- --proto daly
variant daly-rs485 4 --bms "daly,address=1,link=$TMP/bus,seed=1" --bms "daly,address=2,link=$TMP/bus,seed=2" \
	--dut-unit 1 -- --proto daly --address 2
variant daly-ble 4 --bms daly-ble -- --proto daly-ble
variant jk 4 --bms jk --cells 14 -- --proto jk --poll-ms 500
variant jk-ble 4 --bms jk-ble --cells 16 -- --proto jk-ble
variant jk-pb-rs485 4 --bms "jk-pb,link=$TMP/pbbus,seed=1" --bms "jk-pb,link=$TMP/pbbus,seed=2,quirk.at_junk=3" \
	--dut-unit 1 -- --proto jk-pb --address 2
# A battery monitor: the long ATT read of handle 0x0015, three pieces a poll.
variant thornwave 4 --bms thornwave --ntc 1 -- --proto thornwave
variant thornwave-x 4 --bms thornwave-x --ntc 1 -- --proto thornwave-x
