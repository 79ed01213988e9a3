# The real-board DUT (bmssim run --dut serial:...) without a board: socat links pty pairs that
# stand in for a USB-serial adapter on the BMS UART and the board's USB console, and a "board"
# made of bmsmon writes its telemetry to the console side after a start-up banner. Checked: a
# separate console, a console shared with the BMS link, a console unplugged and plugged back
# mid-run, and the errors a bench meets (no banner, a missing port, modem lines a pty lacks).
. tests/e2e/common

S=scenarios/jbd-short-run-reads-the-pack-within-resolution.json
BOOT='BMSRIG-BOOT {"port":"fake","relay_active_high":1}'

# pair NAME: two linked ptys, $TMP/NAME (the runner's end) and $TMP/NAME.board
pair() {
	socat "pty,raw,echo=0,link=$TMP/$1" "pty,raw,echo=0,link=$TMP/$1.board" 2>/dev/null &
	eval "pid_$1=$!"
	i=0
	while { [ ! -e "$TMP/$1" ] || [ ! -e "$TMP/$1.board" ]; } && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

# board BMS CONSOLE: after a second, the banner then one line per telemetry report, each line
# written by opening the console anew (so a console plugged back in is found again).
board() {
	(sleep 1
	 echo "noise before the banner" >"$2"
	 echo "$BOOT" >"$2"
	 "$BIN/bmsmon" --port "$1" -q --duration-s 25 2>/dev/null | while IFS= read -r l; do
		printf '%s\n' "$l" >"$2" 2>/dev/null || true
	 done) &
	board_pid=$!
}

stop() {
	kill $board_pid 2>/dev/null
	pkill -f "bmsmon --port $TMP/" 2>/dev/null
	wait $board_pid 2>/dev/null
	kill "$@" 2>/dev/null
	wait "$@" 2>/dev/null
}

# 1. BMS link on one port, telemetry on the console.
pair bms
pair con
board "$TMP/bms.board" "$TMP/con.board"
if "$BIN/bmssim" run --dut "serial:$TMP/bms,console=$TMP/con" "$S" >"$TMP/out" 2>"$TMP/err"; then
	pass "a board with its console apart: $(head -n 1 "$TMP/out" | cut -c1-70)"
else
	fail "a board with its console apart: $(head -c 800 "$TMP/out" "$TMP/err")"
fi
stop $pid_bms $pid_con

# 2. One port for both: the telemetry lines are taken out before the emulator sees the bytes.
pair one
board "$TMP/one.board" "$TMP/one.board"
if "$BIN/bmssim" run --dut "serial:$TMP/one" "$S" >"$TMP/out" 2>"$TMP/err"; then
	pass "a board sharing one port for the BMS link and its console: $(head -n 1 "$TMP/out" | cut -c1-70)"
else
	fail "a shared port: $(head -c 800 "$TMP/out" "$TMP/err")"
fi
stop $pid_one

# 3. The console is unplugged at about 5 s and back at about 8 s: said on stderr, reopened.
pair bms
pair con
board "$TMP/bms.board" "$TMP/con.board"
"$BIN/bmssim" run --dut "serial:$TMP/bms,console=$TMP/con" "$S" >"$TMP/out" 2>"$TMP/err" &
run=$!
sleep 6
kill $pid_con; wait $pid_con 2>/dev/null
sleep 3
pair con
wait $run
rc=$?
if grep -q "con: console lost at" "$TMP/err" && grep -q "con: console back at" "$TMP/err" &&
	grep -q 'telemetry lines' "$TMP/out"; then
	pass "an unplugged console is reported and reconnected (run exit $rc): $(grep console "$TMP/err" | tr '\n' ' ' | cut -c1-160)"
else
	fail "unplug and reconnect: exit $rc: $(head -c 800 "$TMP/err" "$TMP/out")"
fi
stop $pid_bms $pid_con

# 4. Errors a bench meets: each a failed run (exit 1) naming the port and what went wrong.
# run_error NAME PATTERN DUT
run_error() {
	"$BIN/bmssim" run --dut "$3" "$S" >"$TMP/out" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q -- "$2" "$TMP/out"; then
		pass "$1: exit 1, \"$(grep -o 'device under test: .*' "$TMP/out" | head -n 1)\""
	else
		fail "$1: exit $rc: $(head -c 500 "$TMP/out")"
	fi
}
pair bms
pair con
run_error "a silent board" "con: no start-up banner \"BMSRIG-BOOT\" within 1500 ms" \
	"serial:$TMP/bms,console=$TMP/con,banner_ms=1500"
run_error "reset on a port without modem lines" "cannot pulse the reset line: the port has no modem lines" \
	"serial:$TMP/bms,console=$TMP/con,reset=rts"
run_error "relay sense on a port without modem lines" "cannot read the relay line" \
	"serial:$TMP/bms,console=$TMP/con,relay=cts,banner_ms=0"
stop $pid_bms $pid_con
run_error "a missing port" "$TMP/ttyUSB9: cannot open: no such device" "serial:$TMP/ttyUSB9,console=$TMP/con"
expect_usage_error "a bad --dut option" 'relay: expected one of cts, dsr, dcd, ri, got "dtr"' \
	"$BIN/bmssim" run --dut "serial:/dev/ttyUSB0,relay=dtr" "$S"
expect_usage_error "an unknown --dut kind" 'expected inproc, host, qemu or serial:PORT' \
	"$BIN/bmssim" run --dut board "$S"
