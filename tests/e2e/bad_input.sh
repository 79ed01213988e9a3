# Bad input: one line on stderr naming what was wrong, exit 2, nothing left behind.
. tests/e2e/common

expect_usage_error "bmsmon, missing port" "$TMP/nope: cannot open" \
	"$BIN/bmsmon" --port "$TMP/nope" --count 1
expect_usage_error "bmsmon, no --port" "port" "$BIN/bmsmon" --count 1
expect_usage_error "bmsmon, bad --poll-ms" '--poll-ms: expected an integer 0..600000, got "abc"' \
	"$BIN/bmsmon" --port /dev/null --poll-ms abc
expect_usage_error "bmsmon, bad --proto" "--proto" "$BIN/bmsmon" --port /dev/null --proto foo
expect_usage_error "bmsmon, not a serial port" "/dev/null" "$BIN/bmsmon" --port /dev/null --count 1
expect_usage_error "bmssim, no command" "expected a command: serve" "$BIN/bmssim"
expect_usage_error "bmssim, bad --cells" '--cells: expected an integer 1..32, got "40"' \
	"$BIN/bmssim" serve --cells 40
expect_usage_error "bmssim, bad --chem" '--chem: expected one of lfp, nmc, got "lead"' \
	"$BIN/bmssim" serve --chem lead
expect_usage_error "bmssim, bad --soc-pct" '--soc-pct: expected a number 0..100, got "120"' \
	"$BIN/bmssim" serve --soc-pct 120
# A JK BLE layout's records have a fixed number of cell slots: more cells would vanish unsaid.
expect_usage_error "bmssim, more cells than JK02_24S carries" \
	"jk-ble quirk layout JK02_24S carries at most 24 cells, the pack has 32" \
	"$BIN/bmssim" serve --bms jk-ble --cells 32 --quirk layout=JK02_24S --link "$TMP/never" --duration-s 1
expect_usage_error "bmssim, more cells than JK04 carries" "layout JK04 carries at most 24 cells, the pack has 25" \
	"$BIN/bmssim" serve --bms "jk-ble,cells=25,quirk.layout=JK04" --link "$TMP/never" --duration-s 1
expect_usage_error "bmssim, missing serial port" "$TMP/ttyUSB9: cannot open" \
	"$BIN/bmssim" serve --port "$TMP/ttyUSB9"
touch "$TMP/regular"
expect_usage_error "bmssim, --link over a regular file" "$TMP/regular: exists and is not a symlink" \
	"$BIN/bmssim" serve --link "$TMP/regular" --duration-s 1
printf '{"bmsrig_bms_state": 1, "registers": {"0x2f": 40}}' >"$TMP/bad-value.json"
expect_usage_error "bmssim, state file with a bad value" "bad-value.json: register 0x2f" \
	"$BIN/bmssim" serve --state "$TMP/bad-value.json" --link "$TMP/never" --duration-s 1
printf '{"bmsrig_bms_state": 1, "registers": {' >"$TMP/broken.json"
expect_usage_error "bmssim, state file that is not JSON" "broken.json" \
	"$BIN/bmssim" serve --state "$TMP/broken.json" --link "$TMP/never" --duration-s 1
mkdir "$TMP/dir.json"
expect_usage_error "bmssim, unreadable state file" "dir.json" \
	"$BIN/bmssim" serve --state "$TMP/dir.json" --link "$TMP/never" --duration-s 1
[ ! -e "$TMP/never" ] && pass "no link is published when the state file is bad" || fail "a link was left behind"
printf '{"bmsrig_bms_state": 1, "registers": {"0x2f": 8}}' >"$TMP/eight.json"
expect_usage_error "bmssim, state file for another pack" "eight.json: cell_count: expected 4 cells" \
	"$BIN/bmssim" serve --cells 4 --state "$TMP/eight.json" --link "$TMP/never" --duration-s 1
# A FIFO (or any file that is not regular) where a file belongs is refused at once, never
# waited on: a scenario, a state file, a config (timeout: before the fix each blocked forever).
mkfifo "$TMP/fifo"
expect_usage_error "bmssim run, a FIFO as the scenario" "$TMP/fifo: not a regular file" \
	timeout 10 "$BIN/bmssim" run "$TMP/fifo"
expect_usage_error "bmssim, a FIFO as the state file" "$TMP/fifo: not a regular file" \
	timeout 10 "$BIN/bmssim" serve --state "$TMP/fifo" --link "$TMP/never" --duration-s 1
expect_usage_error "bmssim, a FIFO as the config" "$TMP/fifo: not a regular file" \
	timeout 10 "$BIN/bmssim" serve --config "$TMP/fifo" --duration-s 1
printf '{"bms": [{"kind": "jbd", "cells": 4,\n  "cells": 8}]}' >"$TMP/twice.json"
expect_usage_error "bmssim, a config key given twice" "$TMP/twice.json:1:26: cells: expected each key once, got it twice" \
	"$BIN/bmssim" serve --config "$TMP/twice.json" --duration-s 1
# A profile CSV outside the scenario's folder is refused where the key stands, and not read.
mkdir "$TMP/scen"
printf '{"bmsrig_scenario": 1, "name": "x", "duration": "1m", "timeline": [\n {"at": "0", "do": "profile", "csv": "/etc/passwd"}]}' >"$TMP/scen/abs.json"
expect_usage_error "bmssim run, an absolute profile path" "$TMP/scen/abs.json:2:38: timeline\[0\].csv: expected a path inside the scenario's folder" \
	"$BIN/bmssim" run "$TMP/scen/abs.json"
printf '0,1\n' >"$TMP/outside.csv"
printf '{"bmsrig_scenario": 1, "name": "x", "duration": "1m", "timeline": [\n {"at": "0", "do": "profile", "csv": "../outside.csv"}]}' >"$TMP/scen/up.json"
expect_usage_error "bmssim run, a profile path climbing out" "$TMP/scen/up.json:2:38: timeline\[0\].csv: expected a path inside the scenario's folder" \
	"$BIN/bmssim" run "$TMP/scen/up.json"
