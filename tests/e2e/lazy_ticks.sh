# The runner's engine and judge sleep through the 100 ms ticks where nothing can change on plain
# lockstep (hil/runner.c, lazy_tick.h); with the control socket open they step at every tick
# (an injection could come at any one). Both must give the same run: the traces (every event,
# frame, report, truth record and verdict, with their times) are compared byte for byte, over
# scenarios with ramps, a drifting ambient, a relay that cuts the load, `at`s, `within`s after
# events and conditions, protections and FET commands that move the BMS's decisions (the
# emulator wakes the judge for those: sim_on_decide), and a failing one; and the reports again
# without a trace, where the judge sleeps longest.
. tests/e2e/common

for f in scenarios/jbd-reads-the-pack-within-resolution.json \
	scenarios/jbd-charging-below-zero-trips-charge-under-temperature.json \
	scenarios/inverter-cold-charging-is-refused.json \
	scenarios/daly-asleep-board-echoes-until-a-current-wakes-it.json \
	scenarios/jbd-comms-loss-opens-the-relay-in-time.json \
	scenarios/aggregator-lost-pack-shrinks-the-limits-then-raises-the-alarm.json \
	scenarios/jk-fets-command-is-followed-by-the-monitor.json \
	tests/scenarios/fail/relay-never-closes.json; do
	"$BIN/bmssim" run -q -t "$TMP/lazy.trace" "$f" >"$TMP/lazy.out" 2>&1
	rc_lazy=$?
	"$BIN/bmssim" run -q --control "$TMP/ctl.sock" -t "$TMP/fixed.trace" "$f" >"$TMP/fixed.out" 2>&1
	rc_fixed=$?
	sed -i -E 's/ in [0-9.]+ s \([0-9]+x\)//' "$TMP/lazy.out" "$TMP/fixed.out"
	if [ $rc_lazy -ne $rc_fixed ]; then
		fail "$f: exit $rc_lazy lazy, $rc_fixed at every tick"
	elif ! cmp -s "$TMP/lazy.trace" "$TMP/fixed.trace"; then
		fail "$f: the traces differ: $(diff "$TMP/lazy.trace" "$TMP/fixed.trace" | head -n 4 | head -c 800)"
	elif ! cmp -s "$TMP/lazy.out" "$TMP/fixed.out"; then
		fail "$f: the reports differ: $(diff "$TMP/lazy.out" "$TMP/fixed.out" | head -c 800)"
	elif [ "$(wc -l <"$TMP/lazy.trace")" -lt 10 ]; then
		fail "$f: a trace of $(wc -l <"$TMP/lazy.trace") lines"
	else
		pass "$f: lazy and every-tick runs alike (exit $rc_lazy, $(wc -l <"$TMP/lazy.trace") trace lines)"
	fi
done

# Without a trace the judge wakes for no truth record and sleeps longest between reports; its
# check counts ("held at all N checks") must still be those of a pass at every tick. The 24-hour
# day and a weak cell that drifts into a cut-off hold `never truth.prot != 0`-style checks over
# long quiet stretches and a late move of the BMS's decisions.
for f in scenarios/jbd-16s-24h-solar-day-tracks-the-pack.json \
	scenarios/jbd-weak-cell-drifts-into-over-voltage-cut-off.json \
	scenarios/jbd-charging-below-zero-trips-charge-under-temperature.json \
	scenarios/jk-fets-command-is-followed-by-the-monitor.json \
	scenarios/daly-short-circuit-trips-the-discharge-fet.json; do
	"$BIN/bmssim" run "$f" 2>/dev/null >"$TMP/lazy.out"
	"$BIN/bmssim" run --control "$TMP/ctl.sock" "$f" 2>/dev/null >"$TMP/fixed.out"
	sed -i -E 's/ in [0-9.]+ s \([0-9]+x\)//' "$TMP/lazy.out" "$TMP/fixed.out"
	if ! grep -q 'checks' "$TMP/lazy.out"; then
		fail "$f: no check counts in the report: $(head -c 400 "$TMP/lazy.out")"
	elif cmp -s "$TMP/lazy.out" "$TMP/fixed.out"; then
		pass "$f: without a trace, the same report and check counts"
	else
		fail "$f: without a trace the reports differ: $(diff "$TMP/lazy.out" "$TMP/fixed.out" | head -c 800)"
	fi
done
