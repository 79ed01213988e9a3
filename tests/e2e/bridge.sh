# The firmware as the battery's voice to an inverter (docs/bmsmon.md, "Bridge"): emulated packs,
# bmsmon reading them all and announcing one battery on an --inverter pty, and the inverter
# played by Debian's python3-can (slcan) and mbpoll (Deye Modbus).
. tests/e2e/common

if ! /usr/bin/python3 -c 'import can' 2>/dev/null || ! command -v mbpoll >/dev/null; then
	fail "python3-can or mbpoll missing (tools/deps test installs them)"
	exit 0
fi
wait_link() { i=0; while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; }
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

# Three JBD packs, each its own emulator on its own pty, at 50, 60 and 70 %.
for i in 1 2 3; do
	"$BIN/bmssim" serve --bms "jbd,cells=16,soc_pct=$((40 + 10 * i))" --link "$TMP/p$i" -q >"$TMP/sim$i" 2>&1 &
	eval "SIM$i=$!"
	PIDS="$PIDS $!"
done
for i in 1 2 3; do wait_link "$TMP/p$i"; done
"$BIN/bmsmon" --port "$TMP/p1" --port "$TMP/p2" --port "$TMP/p3" --stale-ms 2000 --comm-alarm-ms 4000 \
	--inverter "pylontech-can:$TMP/inv" --duration-s 40 >"$TMP/mon" 2>"$TMP/mon.err" &
MON=$!
PIDS="$PIDS $MON"
wait_link "$TMP/inv"
/usr/bin/python3 tests/e2e/bridge_inverter.py can "$TMP/inv" "$SIM3" >"$TMP/py" 2>&1
cat "$TMP/py"
grep -q '^PASS' "$TMP/py" || fail "python3-can: $(tail -n 3 "$TMP/py" | tr '\n' ' ')"
# The telemetry line says the same: the pack gone, then the communication alarm.
i=0
while ! grep -q '"alarm":1,"online_packs":2,"pack_ok":\[1,1,0\]' "$TMP/mon" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if grep -q '"inv":{"cvl_mv":56800,"ccl_ma":150000,"dcl_ma":150000,"dvl_mv":48000,"soc_pct":60,.*"online_packs":3,"pack_ok":\[1,1,1\]' "$TMP/mon" &&
   grep -q '"ccl_ma":100000,.*"alarm":1,"online_packs":2,"pack_ok":\[1,1,0\]' "$TMP/mon"; then
	pass "bmsmon's lines: three packs announced, then two and the communication alarm"
else
	fail "bmsmon's lines: $(tail -n 1 "$TMP/mon")"
fi
kill "$MON"
wait "$MON"
[ $? -eq 0 ] && pass "bmsmon stops cleanly on SIGTERM" || fail "bmsmon exit status on SIGTERM"
[ ! -e "$TMP/inv" ] && pass "the inverter link is removed on exit" || fail "$TMP/inv left behind"

# Deye Modbus toward the inverter, the two packs left; mbpoll is the inverter (slave 1).
"$BIN/bmsmon" --port "$TMP/p1" --port "$TMP/p2" --inverter "deye-modbus:$TMP/deye" --inverter-address 1 \
	--duration-s 20 >"$TMP/mon2" 2>"$TMP/mon2.err" &
MON=$!
PIDS="$PIDS $MON"
wait_link "$TMP/deye"
# Until both packs are in (a poll a second): 100 A. SOC in 0.1 %: the emulated packs' own
# coulomb count drifts a little from the 50 and 60 % they started at, so 54..56 %.
i=0
while [ $i -lt 20 ]; do
	mbpoll -m rtu -b 9600 -P none -t 3 -r 4096 -c 22 -0 -a 1 -1 -o 1 "$TMP/deye" >"$TMP/mbpoll" 2>&1
	regs=$(sed -n 's/^\[4[01][0-9][0-9]\]:[[:space:]]*\([0-9]*\).*/\1/p' "$TMP/mbpoll" | tr '\n' ' ')
	set -- $regs
	[ $# -eq 22 ] && [ "${13}" = 10000 ] && break
	sleep 0.5
	i=$((i + 1))
done
if [ $# -eq 22 ] && [ "$9" -ge 540 ] && [ "$9" -le 560 ] && [ "${13}" = 10000 ] && [ "${21}" = 5680 ]; then
	pass "mbpoll as the inverter over Deye Modbus: SOC $9 permille, CCL ${13}0 mA, CVL ${21}0 mV"
else
	fail "mbpoll: $# registers: $regs $(tail -n 2 "$TMP/mbpoll" | tr '\n' ' ')"
fi
kill "$MON"

# A Daly RS485 bus: three boards at addresses 1, 2, 3 on one pty, one client polling them in
# turn (a Daly cycle is about a second at 9600 baud, so a round of three takes about three).
"$BIN/bmssim" serve --cells 16 --bms "daly,link=$TMP/bus,address=1,soc_pct=30" \
	--bms "daly,link=$TMP/bus,address=2,soc_pct=60,seed=2" --bms "daly,link=$TMP/bus,address=3,soc_pct=90,seed=3" \
	-q >"$TMP/simbus" 2>&1 &
PIDS="$PIDS $!"
wait_link "$TMP/bus"
"$BIN/bmsmon" --proto daly --port "$TMP/bus" --address 1,2,3 --duration-s 20 >"$TMP/mon3" 2>"$TMP/mon3.err" &
MON=$!
PIDS="$PIDS $MON"
i=0
while ! grep -q '"online_packs":3,"pack_ok":\[1,1,1\]' "$TMP/mon3" && [ $i -lt 150 ]; do
	sleep 0.1
	i=$((i + 1))
done
if grep -q '"proto":"daly",.*"soc_pct":60,.*"inv":{"cvl_mv":56800,"ccl_ma":150000,.*"online_packs":3,"pack_ok":\[1,1,1\]' "$TMP/mon3"; then
	pass "a Daly bus of three (1, 2, 3) read in turn: 3 packs online, SOC 60 %, CCL 150 A"
else
	fail "Daly bus: $(tail -n 1 "$TMP/mon3") $(head -c 300 "$TMP/mon3.err")"
fi
kill "$MON"
