# Several BMS lines in one scenario (a `bms` unit's "line"): the mixed-protocol library file
# against bmsmon as a process and the virtual NodeMCU (one --port per line, wall clock), and the loader's located errors for the new key.
. tests/e2e/common

s=scenarios/aggregator-mixed-protocols-on-three-lines-read-as-one-battery.json
wallclock "host: three lines (jbd, jk, a daly bus of two) read by bmsmon as one battery:" "$s" --dut host

# The virtual NodeMCU's bridge mode reads the same three lines (one --port each, semihosting).
wallclock "qemu: three lines read by the core on the lx106 as one battery:" "$s" --dut qemu

# Several lines without an inverter: only the bridge reads them; the error stands at line 2.
sed '/"inverter": {/,/},/d' "$s" >"$TMP/noinv.json"
expect_usage_error "several lines need an inverter" \
	"$TMP/noinv.json:19:15: bms\[1\].line: expected line 1 only, got 2 (several BMS lines are read by the bridge" \
	"$BIN/bmssim" run "$TMP/noinv.json"
# A gap in the line numbers.
sed 's/"line": 3,/"line": 4,/' "$s" >"$TMP/gap.json"
expect_usage_error "a gap in the line numbers" \
	"$TMP/gap.json:23:15: bms\[2\].line: expected a line 1..3 (lines are numbered from 1 in the order they first appear, without a gap), got \"4\"" \
	"$BIN/bmssim" run "$TMP/gap.json"
