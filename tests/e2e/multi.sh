# Many BMS in one bmssim, RS485 buses, Bluetooth, and config files.
. tests/e2e/common

# JBD behind a Bluetooth bridge: slow connect, first request lost, 20-byte notifications.
"$BIN/bmssim" serve --bms jbd-ble --current-a -10 --duration-s 9 \
	--dut "$BIN/bmsmon --proto jbd-ble --port {port} -q" >"$TMP/ble" 2>&1
if [ $? -eq 0 ] && grep -q '^verdict: AGREE' "$TMP/ble"; then
	pass "jbd-ble: $(grep '^verdict' "$TMP/ble" | cut -c1-60)"
else
	fail "jbd-ble: $(tail -n 3 "$TMP/ble" | tr '\n' ' ')"
fi

# Two JBD boards (no addresses in that protocol) on one bus answer together: every reply
# collides (identical replies would not garble: the second pack differs), the monitor sees
# only garbage and gives up.
"$BIN/bmssim" serve --bms "jbd,link=$TMP/bus" --bms "jbd,link=$TMP/bus,cells=8,seed=2" --duration-s 20 \
	--dut "$BIN/bmsmon --port {port} --poll-ms 300 --timeout-ms 200 --count 2 -q" >"$TMP/collide" 2>&1
if [ $? -eq 1 ] && grep -q '0 of 2 reports agree .* 2 failed polls' "$TMP/collide"; then
	pass "two unaddressed BMS on one bus collide: every poll fails"
else
	fail "collision: $(tail -n 3 "$TMP/collide" | tr '\n' ' ')"
fi

# 256 BMS in one process, each on its own pty, from a config file.
{
	printf '{"bms": [\n'
	i=0
	while [ $i -lt 256 ]; do
		[ $i -gt 0 ] && printf ',\n'
		printf '  {"kind": "jbd", "cells": %d, "seed": %d}' $((i % 16 + 1)) $i
		i=$((i + 1))
	done
	printf '\n]}\n'
} >"$TMP/many.json"
"$BIN/bmssim" serve --config "$TMP/many.json" --duration-s 4 \
	--dut "$BIN/bmsmon --port {port} --poll-ms 200 --count 3 -q" >"$TMP/many" 2>&1
served=$(grep -c '^bmssim: serving jbd' "$TMP/many")
if [ "$served" -eq 256 ] && grep -q '^verdict: AGREE: 3 of 3' "$TMP/many"; then
	pass "256 BMS from one config file in one process, the first read correctly"
else
	fail "256 BMS: $served served; $(tail -n 2 "$TMP/many" | tr '\n' ' ')"
fi

# Config errors name the file, line and column, and nothing is opened.
printf '{"bms": [\n  {"kind": "jbd", "link": "%s/never"},\n  {"kind": "jbd", "cells": 33}\n]}\n' "$TMP" >"$TMP/bad.json"
expect_usage_error "config with a bad value" "bad.json:3:28: cells: expected an integer 1..32, got \"33\"" \
	"$BIN/bmssim" serve --config "$TMP/bad.json"
[ ! -e "$TMP/never" ] && pass "no port was opened for the bad config" || fail "a link was left behind"
expect_usage_error "bad --bms spec" '--bms jbd,cells=4,quirk.latency_ms=9999: jbd quirk latency_ms: expected 0..5000' \
	"$BIN/bmssim" serve --bms jbd,cells=4,quirk.latency_ms=9999 --link "$TMP/never"

# One central only (JK boards, some JBD dongles), for a client that owns the connection (a
# close is a disconnect): a client that reconnects within stuck_ms is
# refused (for 10 s here: several polls fail; a plain reconnect costs at most one); it keeps
# retrying and gets through once the old link times out. The new connection starts unsubscribed,
# so the client sets up its 0x97/0x96 session again (its first request lost) before it reads.
"$BIN/bmssim" serve --bms jk-ble --ble stuck_ms=10000 --ble disconnect_on_close=1 --duration-s 45 --dut \
	"$BIN/bmsmon --proto jk-ble --port {port} --count 2 -q && $BIN/bmsmon --proto jk-ble --port {port} --count 5 -q" \
	>"$TMP/stuck" 2>&1
agrees=$(grep -c 'agrees$' "$TMP/stuck")
refused=$(grep -c 'FAIL pack' "$TMP/stuck")
# The second monitor's clock starts at 0: its first good poll comes only after the 10 s.
if [ "$agrees" -ge 3 ] && [ "$refused" -ge 2 ] && grep -q '^dut  *1[0-9][0-9][0-9][0-9] ms: ok .*agrees$' "$TMP/stuck"; then
	pass "jk-ble refuses a quick reconnect ($refused failed polls), the client recovers ($agrees reports agree)"
else
	fail "single central: $agrees agree, $refused failed: $(tail -n 4 "$TMP/stuck" | tr '\n' ' ')"
fi

# --proto auto: a monitor that does not know what is on the port finds out.
for kind in daly jk jk-pb; do
	"$BIN/bmssim" serve --bms "$kind,link=$TMP/auto-$kind" --duration-s 15 -q &
	sim=$!
	for i in 1 2 3 4 5 6 7 8 9 10; do [ -L "$TMP/auto-$kind" ] && break; sleep 0.2; done
	"$BIN/bmsmon" --proto auto --port "$TMP/auto-$kind" --count 1 >"$TMP/auto.out" 2>"$TMP/auto.err"
	if grep -q "^bmsmon: auto: $kind at [0-9]* baud (.*): answered$" "$TMP/auto.err" &&
	   grep -q "^BMSRIG {.*\"proto\":\"$kind\",\"ok\":1" "$TMP/auto.out"; then
		pass "--proto auto finds $kind: $(grep -c 'no reply' "$TMP/auto.err") protocols tried first"
	else
		fail "--proto auto on $kind: $(cat "$TMP/auto.err" | tr '\n' ' ')"
	fi
	kill $sim; wait $sim 2>/dev/null
done

# A JBD module with an FF AA password forwards nothing to the BMS until a client gives it; bmsmon
# does not speak the module's password frames, so it never gets an answer.
"$BIN/bmssim" serve --bms jbd-ble --ble password=123456 --ble connect_ms=0 --duration-s 20 \
	--dut "$BIN/bmsmon --proto jbd-ble --port {port} --timeout-ms 300 --count 2 -q" >"$TMP/pw" 2>&1
if [ $? -eq 1 ] && grep -q '^verdict: DISAGREE: 0 of 2 ' "$TMP/pw"; then
	pass "a password-protected JBD module answers nothing before the password"
else
	fail "password: $(tail -n 2 "$TMP/pw" | tr '\n' ' ')"
fi
