# The scenario library: every file in lockstep, the real-time subset (scenarios/realtime.list)
# against bmsmon on a pty and against the virtual NodeMCU in QEMU, a located error for a broken
# file, a failing expectation with its evidence, JUnit and trace output, lockstep determinism.
. tests/e2e/common

for f in scenarios/*.json; do
	if "$BIN/bmssim" run -q --junit "$TMP/one.xml" "$f" >"$TMP/out" 2>"$TMP/err"; then
		pass "lockstep $f: $(tail -n 1 "$TMP/out")"
	else
		fail "lockstep $f (exit $?): $(head -c 1500 "$TMP/out" "$TMP/err")"
	fi
done

# The DUT is the bmsmon beside this bmssim, given the scenario's dut settings as flags.
while read -r f; do
	case $f in ''|'#'*) continue ;; esac
	wallclock realtime "$f" --realtime
done <scenarios/realtime.list

# The same subset against the virtual NodeMCU: the core on the ESP8266's CPU in QEMU.
while read -r f; do
	case $f in ''|'#'*) continue ;; esac
	wallclock qemu "$f" --dut qemu
done <scenarios/realtime.list

# A broken file: one located line, exit 2, and nothing ran (no JUnit file appears).
printf '{\n  "bmsrig_scenario": 1,\n  "name": "x",\n  "duration": "1m",\n  "pakc": {}\n}\n' >"$TMP/typo.json"
expect_usage_error "a misspelt key is located" "$TMP/typo.json:5:3: " \
	"$BIN/bmssim" run --junit "$TMP/never.xml" scenarios/jbd-reads-the-pack-within-resolution.json "$TMP/typo.json"
[ ! -e "$TMP/never.xml" ] && pass "nothing ran before the bad file was found" || fail "a JUnit file was written"

# An expectation that cannot hold: exit 1, the values and the wire in the report and the XML.
"$BIN/bmssim" run --junit "$TMP/fail.xml" tests/scenarios/fail/relay-never-closes.json >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'dut.relay = 1' "$TMP/out" && grep -q 'last frames on the wire' "$TMP/out" &&
	grep -q '<failure message=' "$TMP/fail.xml" && grep -q 'tests="[0-9]*" failures="1"' "$TMP/fail.xml"; then
	pass "a failed expectation: exit 1, both sides' values, the last frames, JUnit <failure>"
else
	fail "a failed expectation: exit $rc: $(head -c 1500 "$TMP/out" "$TMP/err")"
fi

# Lockstep is deterministic for a seed: two runs give the same trace byte for byte; another seed
# gives another trace.
s=scenarios/jbd-reads-the-pack-within-resolution.json
"$BIN/bmssim" run -q --trace "$TMP/a.jsonl" "$s" >/dev/null 2>&1
"$BIN/bmssim" run -q --trace "$TMP/b.jsonl" "$s" >/dev/null 2>&1
"$BIN/bmssim" run -q --seed 99 --trace "$TMP/c.jsonl" "$s" >/dev/null 2>&1
if [ -s "$TMP/a.jsonl" ] && cmp -s "$TMP/a.jsonl" "$TMP/b.jsonl" && ! cmp -s "$TMP/a.jsonl" "$TMP/c.jsonl"; then
	pass "lockstep traces are identical for one seed ($(wc -l <"$TMP/a.jsonl") lines) and differ for another"
else
	fail "lockstep determinism: traces differ for one seed or agree across seeds"
fi
for type in scenario truth dut frame event verdict; do
	grep -q "\"type\":\"$type\"" "$TMP/a.jsonl" && pass "the trace holds $type records" ||
		fail "the trace has no $type record"
done

# A trace replays: bmssim replay serves the recorded BMS side, and a monitor polling it reports
# what the monitor of the recorded run reported (all but the clock).
"$BIN/bmssim" replay -q --link "$TMP/replay" --duration-s 10 "$TMP/a.jsonl" 2>"$TMP/replay.err" &
rp=$!
i=0
while [ ! -e "$TMP/replay" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
"$BIN/bmsmon" --port "$TMP/replay" --proto jbd --count 3 -q 2>/dev/null | sed 's/"ms":[0-9]*,//' >"$TMP/replayed"
grep '"type":"dut"' "$TMP/a.jsonl" | head -n 3 | sed 's/^.*"report"://; s/}$//; s/"ms":[0-9]*,//; s/^/BMSRIG /' >"$TMP/recorded"
kill $rp 2>/dev/null; wait $rp 2>/dev/null
if [ -s "$TMP/replayed" ] && cmp -s "$TMP/replayed" "$TMP/recorded"; then
	pass "a replayed trace gives the monitor the recorded readings ($(wc -l <"$TMP/replayed") reports)"
else
	fail "replay: $(head -c 600 "$TMP/replayed") vs $(head -c 600 "$TMP/recorded") $(cat "$TMP/replay.err")"
fi
expect_usage_error "replay of a file that is no trace" "$TMP/typo.json:1: expected" \
	"$BIN/bmssim" replay "$TMP/typo.json"
# A run killed while writing its trace leaves half a line last: replayed anyway, with a warning.
size=$(wc -c <"$TMP/a.jsonl")
head -c $((size - 20)) "$TMP/a.jsonl" >"$TMP/cut.jsonl"
lines=$(wc -l <"$TMP/cut.jsonl")
timeout 20 "$BIN/bmssim" replay -q --link "$TMP/replay-cut" --duration-s 1 "$TMP/cut.jsonl" 2>"$TMP/cut.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(cat "$TMP/cut.err")" = "bmssim replay: $TMP/cut.jsonl:$((lines + 1)): warning: truncated last line ignored (run killed while writing?)" ]; then
	pass "a trace cut mid-line replays, with one warning line"
else
	fail "a trace cut mid-line: exit $rc, $(head -c 300 "$TMP/cut.err")"
fi
mkfifo "$TMP/fifo.jsonl"
expect_usage_error "replay of a FIFO, refused at once" "$TMP/fifo.jsonl: not a regular file" \
	timeout 10 "$BIN/bmssim" replay "$TMP/fifo.jsonl"
