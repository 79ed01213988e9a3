# The Pylontech CAN battery on a pty speaking slcan: Debian's python3-can as the inverter (the
# set, its values, the 0x305 keep-alive and the on_keepalive_loss=stop knob), bmsmon as the
# inverter-side monitor judged against the truth, bmsdecode on the real US5000 capture.
. tests/e2e/common

PY=/usr/bin/python3
if ! $PY -c 'import can' 2>/dev/null; then
	fail "python3-can is not installed for /usr/bin/python3 (make deps)"
	exit 0
fi

# serve_pty NAME ARGS...: bmssim in the background on link $TMP/NAME; waits for the link.
serve_pty() {
	name=$1
	shift
	"$BIN/bmssim" serve --bms pylontech-can --cells 16 --link "$TMP/$name" "$@" >"$TMP/$name.log" 2>&1 &
	pid=$!
	i=0
	while [ ! -e "$TMP/$name" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}

serve_pty can0 --duration-s 30
$PY tests/e2e/pylon_can_inverter.py set "$TMP/can0" 2>&1 | sed 's/^\([^PF]\)/FAIL: python: \1/'
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

serve_pty can1 --duration-s 30 --quirk on_keepalive_loss=stop --quirk keepalive_timeout_ms=1000 --quirk period_ms=200
$PY tests/e2e/pylon_can_inverter.py keepalive "$TMP/can1" 2>&1 | sed 's/^\([^PF]\)/FAIL: python: \1/'
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

# Two modules on one link: unit 0 speaks for both (module count 2), unit 1 stays silent, so
# one set a period reaches the inverter, not two.
"$BIN/bmssim" serve --bms "pylontech-can,link=$TMP/bus,cells=16" --bms "pylontech-can,link=$TMP/bus,cells=16,seed=2" \
	--duration-s 30 >"$TMP/bus.log" 2>&1 &
pid=$!
i=0
while [ ! -e "$TMP/bus" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
$PY tests/e2e/pylon_can_inverter.py modules "$TMP/bus" 2>&1 | sed 's/^\([^PF]\)/FAIL: python: \1/'
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

# bmsmon as the inverter side: it opens the adapter, sends 0x305 and reads the set; the judge
# compares what it reports with the emulator's truth.
"$BIN/bmssim" serve --bms pylontech-can --cells 16 --current-a -20 --duration-s 3 \
	--dut "$BIN/bmsmon --proto pylontech-can --port {port} -q" >"$TMP/dut" 2>&1
if [ $? -eq 0 ] && grep -q '^verdict: AGREE' "$TMP/dut"; then
	pass "bmsmon --proto pylontech-can: $(grep '^verdict' "$TMP/dut" | cut -c1-60)"
else
	fail "bmsmon --proto pylontech-can: $(tail -n 3 "$TMP/dut" | tr '\n' ' ')"
fi

# bmsdecode on the US5000 capture, candump style, in a candump log line and as slcan.
out=$("$BIN/bmsdecode" --proto pylontech-can 351#1402C012C012C201 '(1700000000.000000) can0 359#0000000006504E' \
	t35E850594C4F4E202020 2>&1)
if [ $? -eq 0 ] && echo "$out" | grep -q '"cvl_mv":53200,"ccl_ma":480000,"dcl_ma":480000,"dvl_mv":45000' &&
	echo "$out" | grep -q '"module_count":6' && echo "$out" | grep -q '"manufacturer":"PYLON"'; then
	pass "bmsdecode --proto pylontech-can: ID#DATA, a candump log line and an slcan line"
else
	fail "bmsdecode --proto pylontech-can: $out"
fi
"$BIN/bmsdecode" --proto pylontech-can 351#14 >"$TMP/short" 2>&1
if [ $? -eq 1 ] && grep -q '"error":"wrong length"' "$TMP/short"; then
	pass "bmsdecode --proto pylontech-can: a 0x351 of 1 byte is refused"
else
	fail "bmsdecode short 0x351: $(cat "$TMP/short")"
fi
