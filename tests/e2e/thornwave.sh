# Thornwave PowerMon end to end: bmssim serves the monitor over the Bluetooth link model on a pty
# (ATT Read + Read Blobs of handle 0x0015) and bmsmon --proto thornwave reads it, and the newer
# firmware's notified stream (thornwave-x) likewise, every report
# agreeing with the truth; bmsdecode reads a public capture and the requests of a long read; the
# personality's bad quirk and the Bluetooth key on it give their one-line errors.
. tests/e2e/common

"$BIN/bmssim" serve --bms thornwave --ntc 1 --current-a -12 --duration-s 9 \
	--dut "$BIN/bmsmon --port {port} -q --proto thornwave" >"$TMP/serve" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^verdict: AGREE' "$TMP/serve" && ! grep -q DISAGREES "$TMP/serve" &&
   grep -q 'pack [0-9]* mV -12000 mA' "$TMP/serve"; then
	pass "serve + bmsmon: $(grep '^verdict' "$TMP/serve" | cut -c10-70)"
else
	fail "serve + bmsmon: exit $rc: $(grep -E 'DISAGREES|verdict|bmssim:|bmsmon:' "$TMP/serve" | tail -n 4 | tr '\n' ' ')"
fi

# The newer firmware: a CCCD write, then COBS monitor frames notified once a second.
"$BIN/bmssim" serve --bms thornwave-x --ntc 1 --current-a 7 --duration-s 9 \
	--dut "$BIN/bmsmon --port {port} -q --proto thornwave-x" >"$TMP/serve-x" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^verdict: AGREE' "$TMP/serve-x" && ! grep -q DISAGREES "$TMP/serve-x" &&
   grep -q 'pack [0-9]* mV 7000 mA' "$TMP/serve-x"; then
	pass "serve thornwave-x + bmsmon: $(grep '^verdict' "$TMP/serve-x" | cut -c10-70)"
else
	fail "serve thornwave-x + bmsmon: exit $rc: $(grep -E 'DISAGREES|verdict|bmssim:|bmsmon:' "$TMP/serve-x" | tail -n 4 | tr '\n' ' ')"
fi

# Capture A of tests/vectors/thornwave.json, then a Read Request and the last Read Blob.
printf '%s\n' E0FF0FC651A65B4102B94D415B204440194728422DEDD741D2D2020000000000FA1F00000000000031702300A9D20A0E91DC6842 \
	'0A 15 00' '0C 15 00 2C 00' | "$BIN/bmsdecode" -p thornwave >"$TMP/dec" 2>&1
rc=$?
if [ $rc -eq 0 ] && sed -n 1p "$TMP/dec" | grep -q '"v1_mv":13728,"v2_mv":12858,"current_ma":3064' &&
   sed -n 1p "$TMP/dec" | grep -q '"clock_text":"2020-08-05 13:10:41"' &&
   sed -n 2p "$TMP/dec" | grep -q '"att":"read_req","op":10,"handle":21' &&
   sed -n 3p "$TMP/dec" | grep -q '"att":"blob_req","op":12,"handle":21,"offset":44'; then
	pass "bmsdecode: capture A and a long read's requests"
else
	fail "bmsdecode: exit $rc: $(head -c 400 "$TMP/dec")"
fi

expect_usage_error "unknown quirk" 'unknown thornwave quirk "mtu"' \
	"$BIN/bmssim" serve --bms thornwave --quirk mtu=247 --duration-s 1
