# bmssim serve's start-up banner tells what the BMS will report: the SOC a client reads at once
# (the board derives it from the cells' voltage, so --soc-pct 63 may read 62), and with a state
# file the stored capacity and SOC, saying the file was loaded.
. tests/e2e/common

# banner_and_read NAME ARGS...: serve with ARGS, one bmsmon read; banner in $TMP/NAME.out,
# the telemetry line in $TMP/NAME.mon.
banner_and_read() {
	name=$1
	shift
	"$BIN/bmssim" serve "$@" --link "$TMP/$name" --duration-s 10 >"$TMP/$name.out" 2>"$TMP/$name.err" &
	sim=$!
	for i in $(seq 50); do [ -L "$TMP/$name" ] && break; sleep 0.1; done
	"$BIN/bmsmon" --port "$TMP/$name" --count 1 -q >"$TMP/$name.mon" 2>&1
	kill "$sim" 2>/dev/null
	wait "$sim" 2>/dev/null
}

banner_and_read soc --soc-pct 63
said=$(sed -n 's/.* SOC \([0-9]*\) %.*/\1/p' "$TMP/soc.out")
read=$(sed -n 's/.*"soc_pct":\([0-9]*\).*/\1/p' "$TMP/soc.mon")
if [ -n "$said" ] && [ "$said" = "$read" ]; then
	pass "--soc-pct 63: the banner says SOC $said %, a client reads $read %"
else
	fail "--soc-pct 63: banner \"$(cat "$TMP/soc.out")\", client read \"$read\""
fi

printf '{"bmsrig_bms_state": 1, "settings": {"design_capacity_mAh": 50000, "cell_count": 4},\n "remain_mAh": 20000}\n' \
	>"$TMP/state.json"
banner_and_read state --soc-pct 63 --capacity-ah 100 --state "$TMP/state.json"
read=$(sed -n 's/.*"soc_pct":\([0-9]*\).*/\1/p' "$TMP/state.mon")
if grep -q ": 4S LFP 50.0 Ah, SOC 40 %, .*, state loaded from $TMP/state.json$" "$TMP/state.out" && [ "$read" = 40 ]; then
	pass "--state: the banner shows the stored 50.0 Ah and SOC 40 % a client reads, and says the file was loaded"
else
	fail "--state: banner \"$(cat "$TMP/state.out")\", client read \"$read\""
fi

# No file yet: a first start loads nothing and says nothing about it.
banner_and_read fresh --state "$TMP/none.json"
if grep -q ': 4S LFP 100.0 Ah, SOC [0-9]* %, +0.0 A, 2 NTC$' "$TMP/fresh.out"; then
	pass "--state with no file yet: the command line's pack, no \"state loaded\""
else
	fail "--state, first start: \"$(cat "$TMP/fresh.out")\""
fi
