# bmsmon --proto auto on a port where nothing answers: its messages name what it tried, and
# what it skipped and why, never a protocol it did not try.
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
   [ "$last" = "bmsmon: auto: no BMS answered on $TMP/silent (tried jbd, daly, daly-ble, jk, jk-ble, deye-modbus, pylontech-rs485, thornwave, thornwave-x; skipped jbd-ble: on the wire it is jbd; skipped pylontech-can: a battery-to-inverter link (slcan), not a BMS port)" ] &&
   grep -qx 'bmsmon: auto: jbd-ble skipped: on the wire it is jbd' "$TMP/err" &&
   ! grep -q 'jbd-ble at' "$TMP/err"; then
	pass "--proto auto, nothing answers: exit $rc, \"$last\""
else
	fail "--proto auto, nothing answers: exit $rc: $(tr '\n' ' ' <"$TMP/err")"
fi
