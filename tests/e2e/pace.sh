# bmssim serve --pace on a pty: a 7-byte JBD request and its 15-byte 4S 0x04 reply take their
# 22.9 ms at 9600 Bd (the request's crossing, then the reply's, with the latency at 0), never
# less; without --pace the reply comes at once. Then bmsmon --poll-ms 0 polls back to back: one
# cycle (7+34 and 7+15 bytes) per 65.6 ms of wire, every cycle.
. tests/e2e/common

if ! /usr/bin/python3 -c 'import serial' 2>/dev/null; then
	fail "python3-serial missing (tools/deps test installs it)"
	exit 0
fi

cat >"$TMP/time.py" <<'PYEOF'
# Sends 0x04 twenty times; prints the fastest and the median time to the whole reply, in us.
import sys
import time
import serial

s = serial.Serial(sys.argv[1], 9600, timeout=1)
req = bytes.fromhex("DDA50400FFFC77")
took = []
for _ in range(20):
    s.reset_input_buffer()
    t0 = time.monotonic()
    s.write(req)
    got = s.read(15)
    if len(got) != 15 or got[0] != 0xDD or got[-1] != 0x77:
        print("bad reply", got.hex())
        sys.exit(1)
    took.append((time.monotonic() - t0) * 1e6)
took.sort()
print(int(took[0]), int(took[len(took) // 2]))
PYEOF

# serve PACE_FLAG: a 4S JBD with latency 0 on $TMP/jbd0; leaves its pid in SIM.
serve() {
	rm -f "$TMP/jbd0"
	"$BIN/bmssim" serve $1 --latency-ms 0 --link "$TMP/jbd0" --duration-s 60 -q >"$TMP/sim" 2>&1 &
	SIM=$!
	i=0
	while [ ! -e "$TMP/jbd0" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}

WIRE_US=22917   # (7 + 15) bytes x 10 bits / 9600 Bd
serve --pace
if out=$(/usr/bin/python3 "$TMP/time.py" "$TMP/jbd0" 2>&1); then
	set -- $out
	if [ "$1" -ge $WIRE_US ] && [ "$2" -lt $((WIRE_US + 15000)) ]; then
		pass "--pace: request and reply take their wire time: fastest $1 us, median $2 us (wire $WIRE_US us)"
	else
		fail "--pace: fastest $1 us, median $2 us; expected at least $WIRE_US, median within 15 ms of it"
	fi
else
	fail "--pace: $out"
fi

# Back to back: the telemetry stamps are one cycle of wire apart (65.6 ms), never less.
"$BIN/bmsmon" --port "$TMP/jbd0" --poll-ms 0 --count 21 -q >"$TMP/mon" 2>&1
sed -n 's/^BMSRIG {"ms":\([0-9]*\),.*/\1/p' "$TMP/mon" >"$TMP/ms"
if [ "$(wc -l <"$TMP/ms")" -eq 21 ] &&
	awk 'NR > 1 { d = $1 - p; if (d < 65) bad = 1; s += d } { p = $1 }
	     END { exit (bad || s / (NR - 1) > 75) }' "$TMP/ms"; then
	pass "--poll-ms 0: 20 cycles back to back, $(awk 'NR == 1 { f = $1 } END { printf "%.1f", ($1 - f) / (NR - 1) }' "$TMP/ms") ms apart (wire 65.6 ms)"
else
	fail "--poll-ms 0: stamps $(tr '\n' ' ' <"$TMP/ms" | head -c 300)"
fi
kill $SIM 2>/dev/null
wait $SIM 2>/dev/null

serve ""
if out=$(/usr/bin/python3 "$TMP/time.py" "$TMP/jbd0" 2>&1); then
	set -- $out
	if [ "$2" -lt 15000 ]; then
		pass "no --pace: the reply at once (median $2 us)"
	else
		fail "no --pace: median $2 us, expected well under the wire time"
	fi
else
	fail "no --pace: $out"
fi
kill $SIM 2>/dev/null
wait $SIM 2>/dev/null
