# bmsmon on the network (docs/bmsmon.md, "Ports on the network"): a BMS read over TCP from
# `bmssim serve --link tcp:...` (values right, an emulator killed and restarted is reconnected),
# and the inverter side served on a TCP listener and a socketcand server, read by Debian's
# python3-can (slcan over socket://, socketcand) and python3-pymodbus (Modbus RTU over TCP).
. tests/e2e/common

if ! /usr/bin/python3 -c 'import can, pymodbus' 2>/dev/null; then
	fail "python3-can or python3-pymodbus missing (tools/deps test installs them)"
	exit 0
fi
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

# wait_for FILE PATTERN [TENTHS]: until grep finds PATTERN in FILE (default 10 s).
wait_for() {
	i=0
	while ! grep -q -- "$2" "$1" 2>/dev/null && [ $i -lt "${3:-100}" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q -- "$2" "$1" 2>/dev/null
}
# serve NAME SPEC LINK: an emulator in the background; its banner names the port it bound.
serve() {
	"$BIN/bmssim" serve --bms "$2" --link "$3" >"$TMP/$1" 2>"$TMP/$1.err" &
	PIDS="$PIDS $!"
	eval "PID_$1=$!"
	wait_for "$TMP/$1" 'on tcp:127.0.0.1:[0-9]' || fail "$1: no banner: $(head -c 300 "$TMP/$1.err")"
	eval "PORT_$1=$(sed -n 's/.* on tcp:127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/$1" | head -n 1)"
}

# ---- a BMS over TCP, and the emulator behind it killed and restarted on the same port --------
serve a "jbd,cells=16,soc_pct=50" tcp:127.0.0.1:0
"$BIN/bmsmon" --port "tcp:127.0.0.1:$PORT_a" --poll-ms 500 --duration-s 40 >"$TMP/mon" 2>"$TMP/mon.err" &
MON=$!
PIDS="$PIDS $MON"
if wait_for "$TMP/mon" '"ok":1,"pack_mv":5[0-9][0-9][0-9][0-9],"current_ma":0,"soc_pct":50,"cells_mv":\[[0-9]*\(,[0-9]*\)\{15\}\]'; then
	pass "bmsmon --port tcp:127.0.0.1:PORT reads the emulator: 16 cells, SOC 50 %: $(grep -o '"pack_mv":[0-9]*' "$TMP/mon" | head -n 1)"
else
	fail "bmsmon over TCP: $(tail -n 1 "$TMP/mon") $(head -c 300 "$TMP/mon.err")"
fi
kill "$PID_a"
if wait_for "$TMP/mon.err" "bmsmon: tcp:127.0.0.1:$PORT_a: port lost (closed by the far end); reconnecting every 500 ms" &&
   wait_for "$TMP/mon" '"ok":0,'; then
	pass "the emulator killed: one line on stderr, and the telemetry says ok 0"
else
	fail "no loss seen: $(tail -n 2 "$TMP/mon.err" | tr '\n' ' ')"
fi
serve a "jbd,cells=16,soc_pct=70" "tcp:127.0.0.1:$PORT_a"
if wait_for "$TMP/mon.err" "bmsmon: tcp:127.0.0.1:$PORT_a: port back" && wait_for "$TMP/mon" '"ok":1,.*"soc_pct":70,'; then
	pass "the emulator restarted on the same port: 'port back', and the new pack's SOC 70 % is read"
else
	fail "no reconnect: $(tail -n 1 "$TMP/mon") $(tail -n 2 "$TMP/mon.err" | tr '\n' ' ')"
fi
kill "$MON"
wait "$MON"
[ $? -eq 0 ] && pass "bmsmon over TCP stops cleanly on SIGTERM" || fail "bmsmon exit status on SIGTERM"
[ "$(grep -c 'port lost' "$TMP/mon.err")" -eq 1 ] && pass "the loss was said once" ||
	fail "the loss was said $(grep -c 'port lost' "$TMP/mon.err") times"

# ---- --proto auto over TCP: each probe a fresh connection, the newest replacing the last ------
serve c "daly,cells=8,soc_pct=40" tcp:127.0.0.1:0
"$BIN/bmsmon" --port "tcp:127.0.0.1:$PORT_c" --proto auto --count 1 >"$TMP/auto" 2>"$TMP/auto.err"
if grep -q 'bmsmon: auto: daly at 9600 baud (300 ms x 2): answered' "$TMP/auto.err" &&
   grep -q '"proto":"daly","ok":1,.*"soc_pct":40,' "$TMP/auto"; then
	pass "--proto auto over TCP finds the Daly (SOC 40 %)"
else
	fail "auto over TCP: $(tail -n 2 "$TMP/auto.err" | tr '\n' ' ') $(tail -n 1 "$TMP/auto")"
fi
kill "$PID_c"

# ---- the bridge: two packs over TCP, the inverter side on TCP ---------------------------------
serve b1 "jbd,cells=16,soc_pct=50" tcp:127.0.0.1:0
serve b2 "jbd,cells=16,soc_pct=60,seed=2" tcp:127.0.0.1:0
# inverter NAME WHERE ARGS..: bmsmon bridging b1 and b2, its inverter port (port 0) parsed from
# the line it prints.
inverter() {
	name=$1
	shift
	"$BIN/bmsmon" --port "tcp:127.0.0.1:$PORT_b1" --port "tcp:127.0.0.1:$PORT_b2" --inverter "$@" \
		--duration-s 30 >"$TMP/$name" 2>"$TMP/$name.err" &
	PIDS="$PIDS $!"
	INV=$!
	wait_for "$TMP/$name.err" ' -> [a-z]*:127\.0\.0\.1:[0-9]' || fail "$name: no inverter port line: $(head -c 300 "$TMP/$name.err")"
	INV_PORT=$(sed -n 's/.* -> [a-z]*:127\.0\.0\.1:\([0-9]*\)$/\1/p' "$TMP/$name.err" | head -n 1)
	# Both packs in before the inverter looks: a poll a second.
	wait_for "$TMP/$name" '"online_packs":2,' || fail "$name: 2 packs not online: $(tail -n 1 "$TMP/$name")"
}
for how in tcp socketcand; do
	inverter "inv_$how" "pylontech-can:$how:0"
	/usr/bin/python3 tests/e2e/net_inverter.py "$( [ $how = tcp ] && echo slcan || echo socketcand)" "$INV_PORT" >"$TMP/py_$how" 2>&1
	grep '^PASS\|^FAIL' "$TMP/py_$how"
	grep -q '^PASS' "$TMP/py_$how" || fail "python3-can ($how): $(tail -n 3 "$TMP/py_$how" | tr '\n' ' ')"
	kill "$INV"
done
inverter inv_deye deye-modbus:tcp:0 --inverter-address 1
/usr/bin/python3 tests/e2e/net_inverter.py modbus "$INV_PORT" >"$TMP/py_deye" 2>&1
grep '^PASS\|^FAIL' "$TMP/py_deye"
grep -q '^PASS' "$TMP/py_deye" || fail "pymodbus: $(tail -n 3 "$TMP/py_deye" | tr '\n' ' ')"
kill "$INV"

# ---- bad input: one line, exit 2 ------------------------------------------------------------
expect_usage_error "socketcand for an RS485 protocol" \
	'socketcand carries CAN frames: only pylontech-can, not deye-modbus' \
	"$BIN/bmsmon" --port /dev/null --inverter deye-modbus:socketcand:5000
expect_usage_error "a tcp port without a port number" 'tcp:127.0.0.1: expected HOST:PORT' \
	"$BIN/bmsmon" --port tcp:127.0.0.1
kill "$PID_b2"
wait "$PID_b2" 2>/dev/null
expect_usage_error "a tcp port nobody listens on" "tcp:127.0.0.1:$PORT_b2: cannot connect: Connection refused" \
	"$BIN/bmsmon" --port "tcp:127.0.0.1:$PORT_b2"
expect_usage_error "an inverter port already taken" "tcp:$PORT_b1: cannot listen: Address already in use" \
	"$BIN/bmsmon" --port "tcp:127.0.0.1:$PORT_b1" --inverter "pylontech-rs485:tcp:$PORT_b1"
