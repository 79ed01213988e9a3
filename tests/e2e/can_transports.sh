# CAN transports with no kernel CAN: bmssim serve --bms pylontech-can on slcan on its pty, slcan
# over TCP and on a
# socketcand rawmode server, read by Debian's python3-can as an inverter would (the whole set
# arrives, its 0x305 keep-alive reaches the emulator), a TCP client reconnecting and the newest
# client replacing a live one, and --link socketcan saying in one line that this kernel has no
# CAN.
. tests/e2e/common

PY=/usr/bin/python3   # Debian's python3-can is not seen by a pyenv python3 earlier in PATH
INV=tests/e2e/can_inverter.py

if ! "$PY" -c 'import can' 2>/dev/null; then
	fail "python3-can is missing (tools/deps installs it)"
	exit 0
fi

# wait_for COND...: polls the shell condition for up to 10 s.
wait_for() {
	for _ in $(seq 100); do eval "$*" && return 0; sleep 0.1; done
	return 1
}

# serve NAME SCHEME [MORE...]: starts the emulator on SCHEME:0 (the kernel picks the port),
# with MORE options after; sets $sim and $port from its banner.
serve() {
	name=$1 scheme=$2
	shift 2
	"$BIN/bmssim" serve --bms pylontech-can --cells 16 --link "$scheme:0" -v --duration-s 120 "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" &
	sim=$!
	port=
	if wait_for "grep -q 'serving pylontech-can on $scheme:127.0.0.1:' '$TMP/$name.out' 2>/dev/null"; then
		port=$(sed -n "s/.* on $scheme:127\.0\.0\.1:\([0-9]*\).*/\1/p" "$TMP/$name.out" | head -n 1)
	fi
}

stop() {
	kill "$sim" 2>/dev/null
	wait "$sim" 2>/dev/null
}

# inverter NAME KIND WHAT [MODULES]: one python-can inverter session; checks the set it read
# (MODULES: the module count 0x359 must say, 1 by default).
inverter() {
	got=$(timeout 30 "$PY" "$INV" "$2" "$port" 2>"$TMP/$1.py.err")
	case $got in
	"ids=351,355,356,359,35C,35E mfr=PYLON "*" soc_pct=80 "*" modules=${4:-1}")
		pass "$3: python-can ($2) read the whole set: $got" ;;
	*) fail "$3: python-can ($2) read \"$got\"; $(head -c 300 "$TMP/$1.py.err")" ;;
	esac
}

# keepalives NAME N WHAT: the emulator logged at least N received 0x305 frames.
keepalives() {
	if wait_for "[ \$(grep -c '#0 rx .*\"can_id\":\"305\"' '$TMP/$1.err') -ge $2 ]"; then
		pass "$3: the emulator saw the inverter's 0x305 ($(grep -c '#0 rx .*"can_id":"305"' "$TMP/$1.err") so far)"
	else
		fail "$3: no 0x305 in the emulator's log: $(grep -v '"tx"\| tx ' "$TMP/$1.err" | head -c 300)"
	fi
}

# 0. slcan on the emulator's pty (--link PATH), as a USB-slcan adapter would be read.
"$BIN/bmssim" serve --bms pylontech-can --cells 16 --link "$TMP/run/can0" -v --duration-s 120 \
	>"$TMP/pty.out" 2>"$TMP/pty.err" &
sim=$!
if wait_for "[ -e '$TMP/run/can0' ]"; then
	port=$TMP/run/can0
	inverter pty pty "slcan on the pty"
	keepalives pty 1 "slcan on the pty"
else
	fail "slcan on the pty: no link: $(head -c 300 "$TMP/pty.err")"
fi
stop

# 1. slcan over TCP, twice on one emulator: the second connection is served like the first.
serve slcan tcp
if [ -n "$port" ]; then
	inverter slcan slcan "slcan over TCP"
	keepalives slcan 1 "slcan over TCP"
	inverter slcan slcan "slcan over TCP, reconnected"
	keepalives slcan 2 "slcan over TCP, reconnected"
	# The newest client replaces a live one: the first sees its connection end, the second
	# opens the adapter and gets the frames (raw sockets: the listener as any TCP client sees it).
	got=$("$PY" - "$port" <<'PYEOF'
import socket, sys, time
a = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(0.3)
b = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
a.settimeout(5)
ended = False
try:
    while True:
        d = a.recv(4096)
        if not d:
            ended = True
            break
except OSError:
    ended = True
b.sendall(b"S6\rO\r")   # the last python-can session closed the adapter ("C")
b.settimeout(1)
data, end = b"", time.time() + 5
while time.time() < end and b"t351" not in data:
    try:
        data += b.recv(4096)
    except socket.timeout:
        pass
print("first-ended=%d second-got-351=%d" % (ended, b"t351" in data))
PYEOF
)
	if [ "$got" = "first-ended=1 second-got-351=1" ]; then
		pass "slcan over TCP: a new client replaces a live one ($got)"
	else
		fail "slcan over TCP: a new client replacing a live one: \"$got\""
	fi
	kill -0 "$sim" 2>/dev/null && pass "slcan over TCP: the emulator is still serving" ||
		fail "slcan over TCP: the emulator died: $(tail -c 300 "$TMP/slcan.err")"
else
	fail "slcan over TCP: no banner: $(head -c 300 "$TMP/slcan.err")"
fi
stop

# 2. socketcand rawmode, and a second session after the first closed.
serve scd socketcand
if [ -n "$port" ]; then
	inverter scd socketcand "socketcand"
	keepalives scd 1 "socketcand"
	inverter scd socketcand "socketcand, reconnected"
	keepalives scd 2 "socketcand, reconnected"
else
	fail "socketcand: no banner: $(head -c 300 "$TMP/scd.err")"
fi
stop

# 3. Hostile bytes on both listeners do not stop the emulator, and the next inverter is served;
# two modules on one socketcand link are one battery of two (0x359's module count).
serve junk socketcand --bms pylontech-can,link=socketcand:0
if [ -n "$port" ]; then
	"$PY" - "$port" <<'PYEOF'
import random, socket, sys
random.seed(12)
for opening in (b"", b"< open can0 >< rawmode >"):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(opening + bytes(random.randrange(256) for _ in range(4096)) +
              b"< send 305 9 >< send FFF 0 >< send 305 8 0 0 0 >" + b"<" * 300 + b"< open can0 >")
    s.close()
PYEOF
	inverter junk socketcand "socketcand after 8 KB of hostile bytes, two modules" 2
	kill -0 "$sim" 2>/dev/null && pass "socketcand: the emulator survived the hostile bytes" ||
		fail "socketcand: the emulator died: $(tail -c 300 "$TMP/junk.err")"
else
	fail "socketcand, two modules: no banner: $(head -c 300 "$TMP/junk.err")"
fi
stop
expect_usage_error "a bad tcp port" "tcp:99999: expected a port 0-65535\$" \
	"$BIN/bmssim" serve --bms pylontech-can --link tcp:99999
expect_usage_error "a socketcand address that is no IPv4 address" \
	"socketcand:localhost:5000: expected a dotted IPv4 address, got \"localhost\"\$" \
	"$BIN/bmssim" serve --bms pylontech-can --link socketcand:localhost:5000

# 4. SocketCAN: used where the kernel has CAN; here, one clear line and exit 2.
if "$PY" -c 'import socket; socket.socket(socket.AF_CAN, socket.SOCK_RAW, socket.CAN_RAW)' 2>/dev/null; then
	echo "SKIP: socketcan: this kernel has CAN; the no-CAN message is not checked here"
else
	expect_usage_error "socketcan without kernel CAN" \
		"socketcan: this kernel has no CAN support (EAFNOSUPPORT); use --link PATH (slcan on a pty), tcp:PORT or socketcand:PORT\$" \
		"$BIN/bmssim" serve --bms pylontech-can --link socketcan:vcan0
fi
