# bmsmon --proto auto: on a port where nothing answers, its messages name what it tried and
# what it skipped and why; on each kind bmssim serves, wired or Bluetooth, it names the kind
# and says what told it (the link's pieces and pacing, the JBD module's own answer), or says
# plainly when nothing on the port tells a wire from Bluetooth.
. tests/e2e/common

# A pty pair with nobody on the other end: every probe times out.
socat "pty,raw,echo=0,link=$TMP/silent" "pty,raw,echo=0,link=$TMP/silent.peer" 2>/dev/null &
peer=$!
for i in $(seq 50); do [ -L "$TMP/silent" ] && break; sleep 0.1; done
"$BIN/bmsmon" --proto auto --port "$TMP/silent" --count 1 >"$TMP/out" 2>"$TMP/err"
rc=$?
kill "$peer" 2>/dev/null
wait "$peer" 2>/dev/null
last=$(tail -n 1 "$TMP/err")
if [ $rc -ne 0 ] &&
   [ "$last" = "bmsmon: auto: no BMS answered on $TMP/silent (tried jbd, daly, jk, jk-pb, byd, deye-modbus, pylontech-rs485, jbd-ble, daly-ble, jk-ble, thornwave, thornwave-x; skipped pylontech-can: a battery-to-inverter link (slcan), not a BMS port)" ] &&
   grep -qx 'bmsmon: auto: pylontech-can skipped: a battery-to-inverter link (slcan), not a BMS port' "$TMP/err" &&
   grep -qx 'bmsmon: auto: jbd-ble at 9600 baud (2000 ms x 3, time for a Bluetooth connect): no reply' "$TMP/err" &&
   grep -qx 'bmsmon: auto: jbd at 9600 baud (300 ms x 2): no reply' "$TMP/err" &&
   ! grep -q 'pylontech-can at' "$TMP/err"; then
	pass "--proto auto, nothing answers: exit $rc, \"$last\""
else
	fail "--proto auto, nothing answers: exit $rc: $(tr '\n' ' ' <"$TMP/err")"
fi

# serve KIND ARGS...: bmssim serving KIND on $TMP/KIND in the background.
serve() {
	kind=$1
	shift
	"$BIN/bmssim" serve --bms "$kind" "$@" --link "$TMP/$kind" --duration-s 90 >"$TMP/$kind.sim" 2>&1 &
	sim=$!
	for i in $(seq 50); do [ -L "$TMP/$kind" ] && break; sleep 0.1; done
}

# detect KIND WHY [TAG]: bmsmon --proto auto on $TMP/KIND must name KIND on its "found" line
# with WHY after it (exactly), and poll it as KIND.
detect() {
	kind=$1 why=$2 tag=${3:-}
	want="bmsmon: auto: found $kind${why:+: $why}"
	timeout 60 "$BIN/bmsmon" --proto auto --port "$TMP/$kind" --count 1 >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ $rc -eq 0 ] && grep -qxF "$want" "$TMP/err" && grep -q "^BMSRIG {.*\"proto\":\"$kind\",\"ok\":1" "$TMP/out"; then
		pass "--proto auto on $kind$tag: $(grep 'answered$' "$TMP/err" | sed 's/^bmsmon: auto: //') -> \"$want\""
	else
		fail "--proto auto on $kind$tag: exit $rc, want \"$want\": $(grep -v 'no reply' "$TMP/err" | tr '\n' ' ') $(head -c 120 "$TMP/out")"
	fi
}

stop() {
	kill "$sim" 2>/dev/null
	wait "$sim" 2>/dev/null
}

# Wired: a whole reply, or Daly's 13-byte frames at the line's pace, is a wire.
for kind in jbd daly jk jk-pb byd deye-modbus pylontech-rs485; do
	serve "$kind"
	detect "$kind" "its replies came as a wire carries them"
	stop
done

# Bluetooth, first client: the wire rows' writes start the connect (1.5 s) and lose to it,
# the Bluetooth rows wait it out. Second client: the bridge stays connected, so the quick wire
# row answers, and the JBD module's own answer or the notifications' pacing name the link.
serve jbd-ble
detect jbd-ble "a JBD Bluetooth module answered its FF AA 0x15 query" " (first client)"
grep -q 'jbd-ble at 9600 baud (2000 ms x 3, time for a Bluetooth connect): answered$' "$TMP/err" ||
	fail "jbd-ble first client: the Bluetooth row was not the one that answered: $(tr '\n' ' ' <"$TMP/err")"
detect jbd-ble "a JBD Bluetooth module answered its FF AA 0x15 query" " (connected already)"
grep -qx 'bmsmon: auto: jbd at 9600 baud (300 ms x 2): answered' "$TMP/err" ||
	fail "jbd-ble connected: the wire row did not answer first: $(tr '\n' ' ' <"$TMP/err")"
stop
serve daly-ble
detect daly-ble "its replies came in Bluetooth notifications" " (first client)"
detect daly-ble "its replies came in Bluetooth notifications" " (connected already)"
grep -qx 'bmsmon: auto: daly at 9600 baud (300 ms x 2): answered' "$TMP/err" ||
	fail "daly-ble connected: the wire row did not answer first: $(tr '\n' ' ' <"$TMP/err")"
stop
serve jk-ble
detect jk-ble "its replies came in Bluetooth notifications"
stop

# A Thornwave PowerMon (a battery monitor): ATT reads, or the newer firmware's notified stream.
for kind in thornwave thornwave-x; do
	serve "$kind" --ntc 1
	detect "$kind" "its replies came in Bluetooth notifications"
	stop
done

# A wired Daly of 3 cells answers every request with one 13-byte frame: nothing in its
# replies tells a wire from Bluetooth, and bmsmon says so rather than guess.
serve daly --cells 3
detect daly "cannot tell daly from daly-ble on this port (the same bytes, and nothing in the replies' pieces or pacing tells); give --proto daly-ble if it is Bluetooth" " (3 cells)"
stop

# A JBD module with a password forwards nothing to its BMS, so no row answers; the module
# itself answers its query with "a password follows", and bmsmon says so before giving up.
serve jbd-ble --ble password=123456
timeout 60 "$BIN/bmsmon" --proto auto --port "$TMP/jbd-ble" --count 1 >"$TMP/out" 2>"$TMP/err"
rc=$?
stop
if [ $rc -eq 1 ] &&
   grep -qxF "bmsmon: auto: a JBD Bluetooth module answered on $TMP/jbd-ble but wants its password before it lets the BMS answer (FF AA 0x15 said 0x00); bmsmon does not give one" "$TMP/err" &&
   tail -n 1 "$TMP/err" | grep -q '^bmsmon: auto: no BMS answered on '; then
	pass "--proto auto on a JBD module with a password: exit 1, the module named"
else
	fail "--proto auto, JBD module password: exit $rc: $(grep -v 'no reply' "$TMP/err" | tr '\n' ' ')"
fi
