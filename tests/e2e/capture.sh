# Capture logs (docs/capture.md): bmssim serve --capture while bmsmon polls through bmsctl tap,
# the tap's log against the emulator's frame for frame, bmssim replay of the capture answering
# bmsmon with the same values, bmsdecode on the capture, and bad input.
. tests/e2e/common

# wait_for COND...: polls the shell condition for up to 10 s.
wait_for() {
	for _ in $(seq 100); do eval "$*" && return 0; sleep 0.1; done
	return 1
}
# frames FILE: the frame lines without their time stamps and comments: "DIR PROTO HEX".
frames() { grep -v '^#' "$1" | cut -d' ' -f2-4; }
# field NAME FILE: the values of "NAME": in the file, one a line.
field() { grep -o "\"$1\":[^,}]*" "$2" | cut -d: -f2; }
# stop PID: SIGTERM and wait (the logs are written whole when the programs stop).
stop() { kill -TERM "$1" 2>/dev/null; wait "$1"; }

# 1. The emulator and the tap log the same session, each on its side.
"$BIN/bmssim" serve -q --bms jbd --link "$TMP/bms" --capture "$TMP/sim.log" --duration-s 60 2>"$TMP/sim.err" &
sim=$!
wait_for '[ -e "$TMP/bms" ]' || fail "bmssim did not publish its pty"
"$BIN/bmsctl" tap -q --bms "$TMP/bms" --client "$TMP/cli" --proto jbd --capture "$TMP/tap.log" --duration-s 60 \
	2>"$TMP/tap.err" &
tap=$!
wait_for '[ -e "$TMP/cli" ]' || fail "bmsctl tap did not publish the client's pty"
timeout 20 "$BIN/bmsmon" --port "$TMP/cli" --count 3 --poll-ms 300 >"$TMP/mon.out" 2>"$TMP/mon.err"
rc=$?
stop $tap; tap_rc=$?
stop $sim
[ $rc -eq 0 ] && [ "$(grep -c '"ok":1' "$TMP/mon.out")" -eq 3 ] && pass "bmsmon reads the BMS through the tap" ||
	fail "bmsmon through the tap: exit $rc, $(head -c 300 "$TMP/mon.err")"
[ $tap_rc -eq 0 ] && pass "the tap exits 0 on SIGTERM" || fail "the tap exits $tap_rc: $(head -c 300 "$TMP/tap.err")"

[ "$(head -n 1 "$TMP/sim.log")" = "# bmsrig capture 1" ] && grep -qx '# protocol: jbd' "$TMP/sim.log" &&
	grep -qx '# baud: 9600' "$TMP/sim.log" && pass "the capture's header names the protocol and baud" ||
	fail "the capture's header: $(head -n 4 "$TMP/sim.log")"
nrx=$(frames "$TMP/sim.log" | grep -c '^rx jbd ')
ntx=$(frames "$TMP/sim.log" | grep -c '^tx jbd ')
[ "$nrx" -ge 6 ] && [ "$ntx" -ge 6 ] && pass "bmssim's capture holds both ways ($nrx rx, $ntx tx)" ||
	fail "bmssim's capture: $nrx rx, $ntx tx"
grep -q '^([0-9]*\.[0-9]\{6\}) rx jbd DDA50300FFFD77  # {"proto":"jbd","kind":"request","cmd":3,"rw":"read"}$' "$TMP/sim.log" &&
	pass "a request line: time stamp, rx, protocol, hex, decoded comment" ||
	fail "no 0x03 request line: $(grep -m1 '^(' "$TMP/sim.log")"
if grep '^(' "$TMP/sim.log" | sed 's/^(\([0-9]*\)\.\([0-9]*\)).*/\1\2/' |
	awk 'NR > 1 && $1 < prev { bad = 1 } { prev = $1 } END { exit bad }'; then
	pass "time stamps never go back"
else
	fail "time stamps go back"
fi
if [ "$(frames "$TMP/tap.log")" = "$(frames "$TMP/sim.log")" ]; then
	pass "the tap's log equals bmssim's capture frame for frame ($(frames "$TMP/tap.log" | wc -l) frames)"
else
	fail "the tap's log differs: $(diff "$TMP/sim.log" "$TMP/tap.log" | head -c 300)"
fi

# 2. bmsdecode reads the capture: one object per frame, each with its time and direction.
"$BIN/bmsdecode" --capture "$TMP/sim.log" >"$TMP/dec.out"; rc=$?
[ $rc -eq 0 ] && [ "$(wc -l <"$TMP/dec.out")" -eq $((nrx + ntx)) ] && pass "bmsdecode --capture: every frame decodes" ||
	fail "bmsdecode --capture: exit $rc, $(wc -l <"$TMP/dec.out") objects for $((nrx + ntx)) frames"
[ "$(grep -c '"dir":"rx"' "$TMP/dec.out")" -eq "$nrx" ] && grep -q '"t_us":[0-9]\{16\}' "$TMP/dec.out" &&
	pass "each object carries dir and t_us" || fail "dir or t_us missing: $(head -c 300 "$TMP/dec.out")"
"$BIN/bmsdecode" <"$TMP/sim.log" >"$TMP/dec2.out"; rc=$?
[ $rc -eq 0 ] && cmp -s "$TMP/dec.out" "$TMP/dec2.out" && pass "bmsdecode detects a capture on stdin" ||
	fail "bmsdecode on stdin: exit $rc, $(head -c 200 "$TMP/dec2.out")"
# What bmsmon printed is what the emulator sent: the decoded replies carry the same values.
mon_pack=$(field pack_mv "$TMP/mon.out" | sort -u)
dec_pack=$(grep '"cmd":3,"status"' "$TMP/dec.out" | grep -o '"pack_mv":[0-9]*' | cut -d: -f2 | sort -u)
mon_cells=$(grep -o '"cells_mv":\[[0-9,]*\]' "$TMP/mon.out" | sort -u)
dec_cells=$(grep -o '"cells_mv":\[[0-9,]*\]' "$TMP/dec.out" | sort -u)
[ -n "$mon_pack" ] && [ "$mon_pack" = "$dec_pack" ] && [ -n "$mon_cells" ] && [ "$mon_cells" = "$dec_cells" ] &&
	pass "bmsmon's values are the emulator's ($mon_pack mV, $mon_cells)" ||
	fail "bmsmon $mon_pack $mon_cells, emulator $dec_pack $dec_cells"

# 3. bmssim replay serves the capture: bmsmon reads the same values as from the emulator.
"$BIN/bmssim" replay -q --link "$TMP/rep" --duration-s 60 "$TMP/sim.log" 2>"$TMP/rep.err" &
rep=$!
wait_for '[ -e "$TMP/rep" ]' || fail "bmssim replay did not publish its pty"
timeout 20 "$BIN/bmsmon" --port "$TMP/rep" --count 3 --poll-ms 300 >"$TMP/mon2.out" 2>"$TMP/mon2.err"
rc=$?
stop $rep
[ $rc -eq 0 ] && [ "$(grep -c '"ok":1' "$TMP/mon2.out")" -eq 3 ] &&
	[ "$(field pack_mv "$TMP/mon2.out" | sort -u)" = "$mon_pack" ] &&
	[ "$(grep -o '"cells_mv":\[[0-9,]*\]' "$TMP/mon2.out" | sort -u)" = "$mon_cells" ] &&
	pass "bmssim replay of the capture answers bmsmon with the same values" ||
	fail "replay: exit $rc, $(head -c 300 "$TMP/mon2.out") $(head -c 200 "$TMP/rep.err")"

# 4. Without --proto the tap cuts frames at silences; the frames are the same.
"$BIN/bmssim" serve -q --bms jbd --link "$TMP/bms2" --capture "$TMP/sim2.log" --duration-s 60 2>/dev/null &
sim=$!
wait_for '[ -e "$TMP/bms2" ]'
"$BIN/bmsctl" tap -q --bms "$TMP/bms2" --client "$TMP/cli2" --capture "$TMP/gap.log" --duration-s 60 &
tap=$!
wait_for '[ -e "$TMP/cli2" ]'
timeout 20 "$BIN/bmsmon" --port "$TMP/cli2" --count 2 --poll-ms 300 >/dev/null 2>&1
stop $tap
stop $sim
grep -qx '# protocol: -' "$TMP/gap.log" && [ -n "$(frames "$TMP/gap.log")" ] &&
	[ "$(frames "$TMP/gap.log" | cut -d' ' -f1,3)" = "$(frames "$TMP/sim2.log" | cut -d' ' -f1,3)" ] &&
	pass "cut at silences, the tap's frames equal bmssim's" ||
	fail "gap mode: $(diff "$TMP/sim2.log" "$TMP/gap.log" | head -c 300)"

# 5. Daly on its assembler: a bus protocol with addresses, 13-byte frames both ways.
"$BIN/bmssim" serve -q --bms daly --link "$TMP/bms3" --capture "$TMP/sim3.log" --duration-s 60 2>/dev/null &
sim=$!
wait_for '[ -e "$TMP/bms3" ]'
"$BIN/bmsctl" tap -q --bms "$TMP/bms3" --client "$TMP/cli3" --proto daly --capture "$TMP/daly.log" --duration-s 60 &
tap=$!
wait_for '[ -e "$TMP/cli3" ]'
timeout 20 "$BIN/bmsmon" --proto daly --port "$TMP/cli3" --count 2 --poll-ms 500 >"$TMP/mon3.out" 2>/dev/null
stop $tap
stop $sim
[ "$(grep -c '"ok":1' "$TMP/mon3.out")" -eq 2 ] && [ -n "$(frames "$TMP/daly.log")" ] &&
	[ "$(frames "$TMP/daly.log")" = "$(frames "$TMP/sim3.log")" ] &&
	pass "daly: the tap's log equals bmssim's capture ($(frames "$TMP/daly.log" | wc -l) frames)" ||
	fail "daly: $(diff "$TMP/sim3.log" "$TMP/daly.log" | head -c 300)"

# Noise and a frame with a bad checksum pass through but are not frames: only the good request
# and its reply are logged, and the tap counts what its assembler skipped.
"$BIN/bmssim" serve -q --bms jbd --link "$TMP/bn" --duration-s 60 2>/dev/null &
sim=$!
wait_for '[ -e "$TMP/bn" ]'
"$BIN/bmsctl" tap --bms "$TMP/bn" --client "$TMP/cn" --proto jbd --capture "$TMP/n.log" --duration-s 60 2>"$TMP/n.err" &
tap=$!
wait_for '[ -e "$TMP/cn" ]'
(printf 'AT\r\n\335\245\003\000\377\376\167\335\245\003\000\377\375\167'; sleep 0.5) >"$TMP/cn"
stop $tap
stop $sim
[ "$(frames "$TMP/n.log" | cut -d' ' -f1,3 | tr '\n' ' ')" = "rx DDA50300FFFD77 tx $(frames "$TMP/sim.log" | sed -n 2p | cut -d' ' -f3) " ] &&
	grep -q 'rx 18 bytes in 1 frames, tx 34 bytes in 1 frames; 11 bytes skipped by the assembler' "$TMP/n.err" &&
	pass "noise and a bad frame pass through, counted, not logged" ||
	fail "noise: $(frames "$TMP/n.log" | head -c 200) $(tail -n 1 "$TMP/n.err")"

# The other protocols the tap has the core's assembler for: frame for frame too.
for p in byd deye-modbus pylontech-rs485; do
	"$BIN/bmssim" serve -q --bms $p --link "$TMP/b-$p" --capture "$TMP/s-$p.log" --duration-s 60 2>/dev/null &
	sim=$!
	wait_for '[ -e "$TMP/b-$p" ]'
	"$BIN/bmsctl" tap -q --bms "$TMP/b-$p" --client "$TMP/c-$p" --proto $p --capture "$TMP/t-$p.log" --duration-s 60 &
	tap=$!
	wait_for '[ -e "$TMP/c-$p" ]'
	timeout 20 "$BIN/bmsmon" --proto $p --port "$TMP/c-$p" --count 2 --poll-ms 500 >"$TMP/m-$p.out" 2>/dev/null
	stop $tap
	stop $sim
	[ "$(grep -c '"ok":1' "$TMP/m-$p.out")" -eq 2 ] && [ -n "$(frames "$TMP/t-$p.log")" ] &&
		[ "$(frames "$TMP/t-$p.log")" = "$(frames "$TMP/s-$p.log")" ] &&
		pass "$p: the tap's log equals bmssim's capture ($(frames "$TMP/t-$p.log" | wc -l) frames)" ||
		fail "$p: $(diff "$TMP/s-$p.log" "$TMP/t-$p.log" | head -c 300)"
done

# 6. Over TCP both ways (a BMS behind ser2net, a client on the network), the log on stdout.
"$BIN/bmssim" serve --bms jbd --link tcp:127.0.0.1:0 --capture "$TMP/sim4.log" --duration-s 60 >"$TMP/sim4.out" 2>/dev/null &
sim=$!
wait_for 'grep -q "tcp:127.0.0.1:[0-9]" "$TMP/sim4.out" 2>/dev/null'
bms_port=$(grep -o 'tcp:127\.0\.0\.1:[0-9]*' "$TMP/sim4.out" | head -n 1)
"$BIN/bmsctl" tap --bms "$bms_port" --client tcp:127.0.0.1:0 --proto jbd --duration-s 60 >"$TMP/tcp.log" 2>"$TMP/tcp.err" &
tap=$!
wait_for 'grep -q "client tcp:127.0.0.1:[0-9]* as" "$TMP/tcp.err" 2>/dev/null'
cli_port=$(grep -o 'client tcp:127\.0\.0\.1:[0-9]*' "$TMP/tcp.err" | cut -d' ' -f2)
timeout 20 "$BIN/bmsmon" --port "$cli_port" --count 2 --poll-ms 300 >"$TMP/mon4.out" 2>/dev/null
stop $tap
stop $sim
[ "$(grep -c '"ok":1' "$TMP/mon4.out")" -eq 2 ] && [ -n "$(frames "$TMP/tcp.log")" ] &&
	[ "$(frames "$TMP/tcp.log")" = "$(frames "$TMP/sim4.log")" ] && grep -qx "# link: tap: BMS $bms_port, client $cli_port" "$TMP/tcp.log" &&
	pass "over TCP both ways, logged on stdout, frame for frame ($(frames "$TMP/tcp.log" | wc -l) frames)" ||
	fail "TCP tap: $(head -c 200 "$TMP/tcp.err") $(diff "$TMP/sim4.log" "$TMP/tcp.log" | head -c 300)"

# 7. Bad input: one line naming what was expected.
expect_usage_error "tap without --bms" "expected --bms PORT and --client PATH" "$BIN/bmsctl" tap --client "$TMP/x"
expect_usage_error "tap with an unknown protocol" "--proto: expected a protocol" \
	"$BIN/bmsctl" tap --bms "$TMP/bms" --client "$TMP/x" --proto nope
expect_usage_error "bmsdecode --capture on a non-capture" "mon.out:1: expected the capture header" \
	"$BIN/bmsdecode" --capture "$TMP/mon.out"
{ head -n 5 "$TMP/sim.log"; echo "(12.34) rx jbd DDA50300FFFD77"; } >"$TMP/bad.log"
expect_usage_error "replay of a bad capture line" "bad.log:6: expected a time stamp .* with 6 digits of microseconds" \
	"$BIN/bmssim" replay -q "$TMP/bad.log"
"$BIN/bmsdecode" --capture "$TMP/bad.log" >"$TMP/out"; rc=$?
[ $rc -eq 1 ] && grep -q '"error":".*bad.log:6: expected a time stamp' "$TMP/out" &&
	pass "bmsdecode: a bad capture line is an error object, located" || fail "bmsdecode bad line: exit $rc, $(cat "$TMP/out")"
expect_usage_error "serve --capture into a missing folder" "^bmssim: --capture: /nonexistent-bmsrig/x.log.*cannot write" \
	"$BIN/bmssim" serve -q --bms jbd --link "$TMP/bms9" --capture /nonexistent-bmsrig/x.log
[ ! -e "$TMP/bms9" ] && pass "and leaves no pty behind" || fail "a pty is left at $TMP/bms9"
