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

# 2. The --link folder: one anyone may write in (not sticky) would let anyone swap the link.
mkdir -m 0777 "$TMP/open"
chmod 0777 "$TMP/open"
expect_usage_error "--link in a folder others may write in" \
	"^bmssim: --bms jbd: link folder $TMP/open: expected a folder of ours or root's that no one else can write in, or a sticky one such as /tmp; got mode 0777" \
	"$BIN/bmssim" serve --bms jbd --link "$TMP/open/jbd" --duration-s 1 -q
[ ! -e "$TMP/open/jbd" ] && pass "--link in a folder others may write in: nothing made there" ||
	fail "--link in a folder others may write in: $(ls -l "$TMP/open")"
chmod 1777 "$TMP/open"
"$BIN/bmssim" serve --bms jbd --link "$TMP/open/jbd" --duration-s 1 -q >/dev/null 2>"$TMP/sticky.err"
[ $? -eq 0 ] && pass "--link in a sticky folder (as /tmp) is served" || fail "--link in a sticky folder: $(cat "$TMP/sticky.err")"

# 3. Who owns a link: a live emulator keeps it; one killed outright leaves it to the next.
L=$TMP/own/jbd
"$BIN/bmssim" serve --bms jbd --link "$L" -q --duration-s 60 >/dev/null 2>"$TMP/first.err" &
first=$!
wait_for '[ -L "$L" ]' || fail "the first emulator published no link: $(cat "$TMP/first.err")"
expect_usage_error "a second emulator on a live link" "^bmssim: --bms jbd: $L is held by bmssim pid $first\$" \
	"$BIN/bmssim" serve --bms jbd --link "$L" -q --duration-s 1
case $(ask "$L") in
*\"ok\":1,*) pass "after the refusal the first emulator's link still works" ;;
*) fail "after the refusal the link is broken: $(ls -l "$L" 2>&1)" ;;
esac
kill -KILL $first
wait $first 2>/dev/null
"$BIN/bmssim" serve --bms jbd --link "$L" -q --duration-s 60 >/dev/null 2>"$TMP/second.err" &
second=$!
if wait_for 'grep -qx "$second" "$L.lock" 2>/dev/null && [ -e "$L" ]' && ! grep -q . "$TMP/second.err"; then
	pass "a link left by kill -9 is taken over"
else
	fail "a link left by kill -9: $(cat "$TMP/second.err")"
fi
case $(ask "$L") in
*\"ok\":1,*) pass "the new emulator answers on the link it took over" ;;
*) fail "the taken-over link does not answer" ;;
esac
kill -TERM $second
wait $second
[ ! -e "$L" ] && [ ! -e "$L.lock" ] && pass "the link and its lock are removed at exit" ||
	fail "left at exit: $(ls -l "$TMP/own")"
