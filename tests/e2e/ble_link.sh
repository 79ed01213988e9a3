# The Bluetooth link model as clients meet it through a serial BLE bridge: a client that opens
# the port around each command (as many Python scripts do) is answered at once after the first
# connect; with disconnect_on_close=1 each close is a disconnect. The -v log shows what the
# link lost.
. tests/e2e/common

# ask PORT SECONDS [EVERY_S]: one client opens the port, sends a JBD 0x03 request (again every
# EVERY_S seconds while it waits, when given), reads the whole answer (34 bytes for the default
# 4 cells and 2 probes: a shorter read would leave its tail to the next client, as a bridge
# that stays connected delivers it), closes; prints the answer's first four bytes and its
# last in hex ("dd03001b77"), or nothing.
ask() {
	timeout "$2" sh -c 'exec 3<>"$1"
		req() { printf "\335\245\003\000\377\375\167" >&3; }
		if [ -n "$2" ]; then (while req; do sleep "$2"; done) & else req; fi
		head -c 34 <&3
		[ -n "$2" ] && kill $!' _ "$1" "${3:-}" |
		od -An -tx1 -v | tr -d ' \n' | sed -n 's/^\(dd03001b\).*\(77\)$/\1\2/p'
}

# serve NAME ARGS...: bmssim jbd-ble in the background on $TMP/NAME, -v log in $TMP/NAME.err.
serve() {
	name=$1
	shift
	"$BIN/bmssim" serve --bms jbd-ble "$@" --link "$TMP/$name" --duration-s 30 -v >"$TMP/$name.out" 2>"$TMP/$name.err" &
	sim=$!
	for i in $(seq 50); do [ -L "$TMP/$name" ] && break; sleep 0.1; done
}

# Default link: the first client waits out the 1.5 s connect and loses its first request, so it
# retries (each try a new open); after that, open-ask-close clients are answered at once.
serve bridge
first=
for i in 1 2 3 4 5 6 7 8; do
	first=$(ask "$TMP/bridge" 1)
	[ "$first" = dd03001b77 ] && break
done
second=$(ask "$TMP/bridge" 3)
third=$(ask "$TMP/bridge" 3)
kill "$sim" 2>/dev/null
wait "$sim" 2>/dev/null
if [ "$first" = dd03001b77 ] && [ "$second" = dd03001b77 ] && [ "$third" = dd03001b77 ]; then
	pass "jbd-ble over a serial bridge: two quick open-ask-close clients after the first are both answered"
else
	fail "jbd-ble open-ask-close: first \"$first\" second \"$second\" third \"$third\""
fi
if grep -q 'link: dropped [0-9]* bytes from the client (connecting)$' "$TMP/bridge.err" &&
   grep -q 'link: dropped [0-9]* bytes from the client (the first request after a connect is lost)$' "$TMP/bridge.err"; then
	pass "-v says what the link dropped: $(grep -m1 'link: dropped' "$TMP/bridge.err")"
else
	fail "-v drop lines: $(grep 'link:' "$TMP/bridge.err" | head -n 3 | tr '\n' ' ')"
fi

# disconnect_on_close=1: the close was a disconnect, so the next client meets a new connect.
# The first client keeps the port open and asks every second until answered.
serve owner --ble disconnect_on_close=1 --ble connect_ms=500
first=$(ask "$TMP/owner" 8 1)
second=$(ask "$TMP/owner" 2)
kill "$sim" 2>/dev/null
wait "$sim" 2>/dev/null
if [ "$first" = dd03001b77 ] && [ -z "$second" ]; then
	pass "disconnect_on_close=1: a reopened port connects again and its first request is lost"
else
	fail "disconnect_on_close=1: first \"$first\" second \"$second\""
fi
