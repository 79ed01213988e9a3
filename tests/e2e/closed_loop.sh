# bmssim on a pty, bmsmon reading it: every cell, pack voltage, current and temperature within
# one unit of the protocol's resolution of the model's truth (bmssim's --dut verdict).
. tests/e2e/common

# run_loop NAME ARGS...: a --dut run that must end with an agreeing verdict and exit 0.
run_loop() {
	name=$1
	shift
	"$BIN/bmssim" serve "$@" >"$TMP/loop" 2>"$TMP/loop.err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^verdict: AGREE' "$TMP/loop" && ! grep -q DISAGREES "$TMP/loop"; then
		pass "$name: $(grep '^verdict' "$TMP/loop")"
	else
		fail "$name: exit $rc: $(tail -n 3 "$TMP/loop" | tr '\n' ' ') $(head -c 300 "$TMP/loop.err")"
	fi
}

run_loop "4S LFP discharging 20 A" --cells 4 --chem lfp --capacity-ah 100 --soc-pct 80 \
	--current-a -20 --duration-s 4 --dut "$BIN/bmsmon --port {port} --poll-ms 500 -q"
run_loop "16S NMC charging 33 A, 8 NTC, cold" --cells 16 --chem nmc --capacity-ah 50 --soc-pct 30 \
	--current-a 33 --ntc 8 --temp-c -5 --duration-s 4 --dut "$BIN/bmsmon --port {port} --poll-ms 500 -q"
run_loop "32S, 280 Ah, 150 A discharge, 1 NTC" --cells 32 --chem lfp --capacity-ah 280 --soc-pct 50 \
	--current-a -150 --ntc 1 --duration-s 3 --dut "$BIN/bmsmon --port {port} --poll-ms 500 -q"
run_loop "1S NMC, nearly empty" --cells 1 --chem nmc --capacity-ah 3 --soc-pct 5 \
	--current-a -1 --duration-s 3 --dut "$BIN/bmsmon --port {port} --poll-ms 500 -q"

# The policy end to end: NMC cells (about 4 V) are over the monitor's LFP limit of 3650 mV, so
# it opens its relay and, with --policy-fets, tells the BMS to switch both MOSFETs off (0xE1);
# the next cycles show the BMS's FETs off and its software-lock bit (0x1000).
run_loop "policy opens the relay and switches the BMS's FETs off" --chem nmc --soc-pct 80 \
	--current-a -5 --duration-s 4 --dut "$BIN/bmsmon --port {port} --poll-ms 500 --policy-fets -q"
if grep -q 'fet 1/1 prot 0x0 relay 0' "$TMP/loop" && grep -q 'fet 0/0 prot 0x1000 relay 0' "$TMP/loop" &&
   ! grep -q 'relay 1' "$TMP/loop"; then
	pass "relay open on cells over 3650 mV, then BMS FETs off with the software lock"
else
	fail "policy: $(grep '^dut' "$TMP/loop" | head -n 4 | tr '\n' ' ')"
fi

# A client that closes the port and a new one that opens it again: both are answered.
run_loop "client closes and reopens the port" --current-a -5 --duration-s 30 \
	--dut "$BIN/bmsmon --port {port} --poll-ms 300 --count 3 -q && $BIN/bmsmon --port {port} --poll-ms 300 --count 3 -q"
if grep -c '^dut .*agrees' "$TMP/loop" | grep -qx 6; then
	pass "six reports over two connections"
else
	fail "expected six agreeing reports over two connections: $(grep -c '^dut' "$TMP/loop")"
fi

# The same loop through the stable symlink.
"$BIN/bmssim" serve --link "$TMP/jbd0" --duration-s 3 -q &
sim=$!
for i in 1 2 3 4 5 6 7 8 9 10; do [ -L "$TMP/jbd0" ] && break; sleep 0.2; done
if "$BIN/bmsmon" --port "$TMP/jbd0" --count 2 --poll-ms 300 -q >"$TMP/mon" && \
   [ "$(grep -c '^BMSRIG {.*"ok":1' "$TMP/mon")" -eq 2 ]; then
	pass "bmsmon reads bmssim through --link $TMP/jbd0"
else
	fail "through the link: $(cat "$TMP/mon")"
fi
wait $sim
[ ! -e "$TMP/jbd0" ] && pass "the link is removed at exit" || fail "the link outlived bmssim"

# A BMS that answers too late: failed polls, the relay opens, the verdict fails (exit 1).
"$BIN/bmssim" serve --latency-ms 5000 --duration-s 30 \
	--dut "$BIN/bmsmon --port {port} --poll-ms 300 --timeout-ms 100 --count 4 -q" >"$TMP/late" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q '^verdict: DISAGREE: 0 of 4 .* 4 failed polls' "$TMP/late" && \
   tail -n 4 "$TMP/late" | grep -q 'FAIL .* relay 0'; then
	pass "a BMS that never answers in time: 4 failed polls, relay open, exit 1"
else
	fail "late BMS: exit $rc: $(tail -n 4 "$TMP/late" | tr '\n' ' ')"
fi
