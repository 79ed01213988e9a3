# The control socket of bmssim serve, driven with socat as a user would: hello and the state, a
# fault that bmsmon then reads off the wire, pause and resume, bad requests that change nothing,
# and the socket file's rules (mode 0600, a live one refused, a stale one replaced, removed at exit).
. tests/e2e/common

if ! command -v socat >/dev/null 2>&1; then
	fail "socat is missing (tools/deps installs it)"
	exit 0
fi

SOCK=$TMP/ctl.sock
# ctl REQUEST: its one reply line.
ctl() { printf '%s\n' "$1" | socat -t 2 - UNIX-CONNECT:"$SOCK"; }
# t_ms REPLY: the clock in a get's reply.
t_ms() { printf '%s' "$1" | grep -o '"t_ms":[0-9]*' | head -n 1 | cut -d: -f2; }
# check NAME PATTERN TEXT: PASS when TEXT holds PATTERN (grep -E).
check() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then pass "$1"; else fail "$1: $(printf '%s' "$3" | head -c 400)"; fi
}
# Generous: under ASan on a loaded 2-core machine bmssim can take seconds to come up.
wait_for_socket() {
	for _ in $(seq 200); do [ -S "$SOCK" ] && [ -L "$TMP/jbd" ] && return 0; sleep 0.1; done
	return 1
}

"$BIN/bmssim" serve --bms jbd --link "$TMP/jbd" --control "$SOCK" --duration-s 20 >"$TMP/sim.out" 2>"$TMP/sim.err" &
sim=$!
if wait_for_socket; then pass "bmssim serve --control listens on $SOCK"; else fail "no socket: $(cat "$TMP/sim.err")"; fi
check "the path is announced on stderr" "^bmssim: control socket $SOCK\$" "$(cat "$TMP/sim.err")"
check "the socket is mode 0600" '^600$' "$(stat -c %a "$SOCK")"

check "hello" '^\{"id":1,"ok":true,"protocol":1,"program":"bmssim","mode":"serve","units":1\}$' \
	"$(ctl '{"cmd":"hello","id":1}')"
r=$(ctl '{"cmd":"get"}')
check "get: the state of one JBD unit, no faults" \
	'^\{"ok":true,"state":\{"t_ms":[0-9]+,"paused":false,"rate":1,"units":\[\{"unit":0,"proto":"jbd",.*"ntc_open_mask":0,' "$r"

check "fault ntc_open on probe 1" '^\{"ok":true\}$' "$(ctl '{"cmd":"fault","do":"ntc_open","ntc":1}')"
"$BIN/bmsmon" --port "$TMP/jbd" --count 3 --poll-ms 300 -q >"$TMP/mon" 2>&1
check "bmsmon reads the open probe as -40 C (2331 dK)" '"temps_dk":\[2331,[0-9]+\]' "$(tail -n 1 "$TMP/mon")"
check "the state shows the fault" '"bms":\{"cells_mv":\[[0-9,]+\],"temps_dk":\[2331,.*"ntc_open_mask":1,' \
	"$(ctl '{"cmd":"get"}')"

check "set a BMS setting by its name" '^\{"ok":true\}$' "$(ctl '{"cmd":"set","key":"charge_voltage_cell_mV","value":3500}')"
check "the limits follow: CVL 4 x 3500 mV; probe 1 at -40 C allows neither current" \
	'"limits":\{"cvl_mv":14000,"ccl_ma":0,"dcl_ma":0,"dvl_mv":12000,"request":0,' "$(ctl '{"cmd":"get"}')"
check "a setting out of its range: ok:false" '^\{"ok":false,"error":"value: expected an integer 0..1, got 2"\}$' \
	"$(ctl '{"cmd":"set","key":"soc_clamp","value":2}')"

r=$(ctl '{"cmd":"pause"}')
check "pause" '"ok":true,"t_ms":[0-9]+,"paused":true' "$r"
t1=$(t_ms "$r")
sleep 0.5
t2=$(t_ms "$(ctl '{"cmd":"get"}')")
if [ "$t1" = "$t2" ]; then pass "paused, the clock stands ($t1 ms)"; else fail "paused, the clock moved: $t1 -> $t2"; fi
check "step while paused" "^\\{\"ok\":true,\"t_ms\":$((t1 + 1000)),\"paused\":true\\}\$" \
	"$(ctl '{"cmd":"step","ms":1000}')"
check "resume" '"ok":true,"t_ms":[0-9]+,"paused":false' "$(ctl '{"cmd":"resume"}')"
sleep 0.5
t3=$(t_ms "$(ctl '{"cmd":"get"}')")
if [ "$t3" -ge $((t1 + 1000 + 400)) ]; then pass "resumed, the clock goes on ($t3 ms)"; else fail "resumed: $t1 -> $t3"; fi

check "not JSON: ok:false" '^\{"ok":false,"error":"expected a JSON object on one line' \
	"$(ctl '{"cmd":"fault","do":"ntc_open"')"
check "a bad field: ok:false, echoed id" '^\{"id":"x","ok":false,"error":"ntc: expected a probe number 1..2 \(pack.ntc\), got \\"7\\""\}$' \
	"$(ctl '{"cmd":"fault","id":"x","do":"ntc_open","ntc":7}')"
check "an unknown command: ok:false" '^\{"ok":false,"error":"cmd: expected one of hello, get' "$(ctl '{"cmd":"reboot"}')"
check "rate 0 is for lockstep runs only" '"ok":false,"error":"x: expected 0.1..1000' "$(ctl '{"cmd":"rate","x":0}')"
check "the bad requests changed nothing" '"ntc_open_mask":1,"ntc_short_mask":0' "$(ctl '{"cmd":"get"}')"

check "clear" '^\{"ok":true\}$' "$(ctl '{"cmd":"clear","unit":0}')"
"$BIN/bmsmon" --port "$TMP/jbd" --count 3 --poll-ms 300 -q >"$TMP/mon" 2>&1
check "bmsmon reads the probe again" '"temps_dk":\[2[89][0-9][0-9],[0-9]+\]' "$(tail -n 1 "$TMP/mon")"

expect_usage_error "a second bmssim on a live socket" "control socket $SOCK: is live" \
	"$BIN/bmssim" serve --link "$TMP/jbd2" --control "$SOCK" --duration-s 1

kill -TERM $sim
wait $sim
[ ! -e "$SOCK" ] && pass "the socket is removed at exit" || fail "the socket outlived bmssim"

# A bmssim killed outright leaves its socket behind: the next one replaces it.
"$BIN/bmssim" serve --link "$TMP/jbd" --control "$SOCK" --duration-s 20 -q >/dev/null 2>&1 &
sim=$!
wait_for_socket
kill -KILL $sim
wait $sim 2>/dev/null
[ -S "$SOCK" ] || fail "no stale socket left to test with"
"$BIN/bmssim" serve --link "$TMP/jbd" --control "$SOCK" --duration-s 20 >"$TMP/sim.out" 2>"$TMP/sim.err" &
sim=$!
for _ in $(seq 200); do grep -q "control socket" "$TMP/sim.err" && break; sleep 0.1; done
check "a stale socket is replaced" '"ok":true,"protocol":1' "$(ctl '{"cmd":"hello"}') $(cat "$TMP/sim.err")"
kill -TERM $sim
wait $sim
