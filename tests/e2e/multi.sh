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
