# Ports and links that come and go: a serial port unplugged under bmssim serve --port and
# plugged back (socat pty pairs stand in for a USB-serial adapter), the --link folder's rules,
# and who owns a --link name when two emulators want it.
. tests/e2e/common

if ! command -v socat >/dev/null 2>&1; then
	fail "socat is missing (tools/deps installs it)"
	exit 0
fi

# wait_for COND...: polls the shell condition for up to 10 s.
wait_for() {
	for _ in $(seq 100); do eval "$*" && return 0; sleep 0.1; done
	return 1
}
# cpu_ticks PID: user + system time so far, in clock ticks (/proc/PID/stat fields 14, 15).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# ask PORT: one JBD poll cycle by bmsmon; its telemetry line.
ask() { timeout 10 "$BIN/bmsmon" --port "$1" --count 1 -q 2>&1 | tail -n 1; }

# 1. An unplugged port: one line, no busy loop, served again once it is back.
plug() {
	socat pty,raw,echo=0,link="$TMP/usb" pty,raw,echo=0,link="$TMP/usb.peer" 2>/dev/null &
	socat_pid=$!
	wait_for '[ -e "$TMP/usb" ] && [ -e "$TMP/usb.peer" ]'
}
plug
"$BIN/bmssim" serve --bms jbd --port "$TMP/usb" -q --duration-s 60 >"$TMP/port.out" 2>"$TMP/port.err" &
sim=$!
case $(ask "$TMP/usb.peer") in
*\"ok\":1,*) pass "serve --port answers on the port" ;;
*) fail "serve --port does not answer: $(head -c 300 "$TMP/port.err")" ;;
esac
kill $socat_pid
wait $socat_pid 2>/dev/null
if wait_for 'grep -q "lost" "$TMP/port.err"'; then
	l=$(grep -c . "$TMP/port.err")
	if [ "$l" -eq 1 ] && grep -q "^bmssim: port $TMP/usb lost (.*); waiting for it to come back\$" "$TMP/port.err"; then
		pass "unplugged: one line, \"$(cat "$TMP/port.err")\""
	else
		fail "unplugged: $l lines: $(head -c 300 "$TMP/port.err")"
	fi
else
	fail "unplugged: nothing said on stderr"
fi
t0=$(cpu_ticks $sim)
sleep 2
t1=$(cpu_ticks $sim)
tck=$(getconf CLK_TCK)
if [ $((t1 - t0)) -lt $((tck * 3 / 10)) ]; then
	pass "unplugged: no busy loop ($((t1 - t0)) ticks of CPU in 2 s)"
else
	fail "unplugged: busy loop, $((t1 - t0)) ticks of CPU in 2 s (CLK_TCK $tck)"
fi
plug
if wait_for 'grep -q "^bmssim: port $TMP/usb back\$" "$TMP/port.err"'; then
	pass "plugged back: \"bmssim: port $TMP/usb back\""
else
	fail "plugged back: not said: $(head -c 300 "$TMP/port.err")"
fi
case $(ask "$TMP/usb.peer") in
*\"ok\":1,*) pass "plugged back: served again" ;;
*) fail "plugged back: no answer" ;;
esac
kill $sim $socat_pid 2>/dev/null
wait $sim $socat_pid 2>/dev/null
