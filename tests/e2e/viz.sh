# bmsviz: usage errors, the layout contract, and screenshots whose pixels must change as the
# state does: first against a fake control socket playing canned states (tests/viz/), then
# against a real `bmssim serve --control`.
. tests/e2e/common
VIZ="$BIN/bmsviz"
HELP=build/asan/tests/viz
FAKE="$HELP/fakectl"
PROBE="$HELP/pngcheck"
FIX=tests/viz

# region NAME [INDEX]: "x y w h" of a region of --print-layout (one region per line).
region() {
	if [ -n "${2:-}" ]; then key="\"name\":\"$1\",\"index\":$2,"; else key="\"name\":\"$1\","; fi
	grep -F "{$key" "$TMP/layout.json" | head -n 1 |
		sed 's/.*"x":\([0-9]*\),"y":\([0-9]*\),"w":\([0-9]*\),"h":\([0-9]*\)}.*/\1 \2 \3 \4/'
}
# probe bar|mean FILE REGION...: the probe's numbers, without their labels.
probe() {
	kind=$1 file=$2
	shift 2
	# shellcheck disable=SC2046
	"$PROBE" "$kind" "$file" $(region "$@") | tr -d 'a-z'
}
# centre NAME [INDEX]: "X:Y" of a region's centre, for --press click:X:Y.
centre() {
	region "$@" | awk '{ printf "%d:%d", $1 + $3 / 2, $2 + $4 / 2 }'
}
# fake SCRIPT [fakectl options]: serve SCRIPT on $TMP/fake.sock in the background.
fake() {
	script=$1
	shift
	rm -f "$TMP/fake.sock"
	"$FAKE" --socket "$TMP/fake.sock" --script "$script" --duration-s 20 "$@" &
	fake_pid=$!
	for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$TMP/fake.sock" ] && break; sleep 0.1; done
}
# shot NAME OUT [bmsviz options]: one headless screenshot; PASS/FAIL on exit 0 and a PNG.
shot() {
	name=$1 out=$2
	shift 2
	"$VIZ" --screenshot "$out" -q "$@" 2>"$TMP/viz.err"
	rc=$?
	if [ $rc -eq 0 ] && [ -s "$out" ] && [ ! -e "$out.tmp" ]; then
		pass "$name: exit 0"
	else
		fail "$name: exit $rc: $(head -c 400 "$TMP/viz.err")"
	fi
	if [ -n "${fake_pid:-}" ]; then
		kill "$fake_pid" 2>/dev/null
		wait "$fake_pid" 2>/dev/null
		fake_pid=
	fi
}

# ---- usage --------------------------------------------------------------------------------
expect_usage_error "no --control" "--control PATH is required" "$VIZ"
expect_usage_error "bad --size" "--size: expected WxH" "$VIZ" --control x --size 10x10
expect_usage_error "bad --after" "--after: expected a time" "$VIZ" --control x --screenshot o.png --after soon
expect_usage_error "--after without --screenshot" "--after needs --screenshot" "$VIZ" --control x --after 1s
expect_usage_error "no such socket" "^bmsviz: $TMP/none.sock: cannot connect: No such file or directory\$" \
	"$VIZ" --control "$TMP/none.sock"
: >"$TMP/plain"
expect_usage_error "not a socket" "^bmsviz: $TMP/plain: cannot connect: Connection refused\$" \
	"$VIZ" --control "$TMP/plain"

# ---- the layout contract -------------------------------------------------------------------
"$VIZ" --print-layout --size 1280x800 --cells 4 >"$TMP/layout.json"
"$VIZ" --print-layout --cells 4 >"$TMP/layout2.json"
if [ "$(region cell_bar 4 | wc -w)" -eq 4 ] && [ "$(region relay | wc -w)" -eq 4 ] &&
   cmp -s "$TMP/layout.json" "$TMP/layout2.json" &&
   awk -F'[:,}]' '/"x":/ { for (i = 1; i < NF; i++) { if ($i ~ /"x"$/) x = $(i+1); if ($i ~ /"y"$/) y = $(i+1);
		if ($i ~ /"w"$/) w = $(i+1); if ($i ~ /"h"$/) h = $(i+1) }
		if (x < 0 || y < 0 || x + w > 1280 || y + h > 800) bad = 1 } END { exit bad }' "$TMP/layout.json"; then
	pass "--print-layout: deterministic, every region inside 1280x800, cell bars and relay found"
else
	fail "--print-layout: $(head -c 300 "$TMP/layout.json")"
fi

# ---- against the fake: a known state A, then B ---------------------------------------------
# B: cell 3 at 3620 mV (3302 in A), the DSG FET off, the DUT's relay open, its cell 3 stale.
fake "$FIX/state-a.jsonl"
shot "fake, state A" "$TMP/a.png" --control "$TMP/fake.sock" --after 1s
fake "$FIX/state-b.jsonl"
shot "fake, state B" "$TMP/b.png" --control "$TMP/fake.sock" --after 1s

# bar_grew NAME A.png B.png CELL: taller by 15 px or more, and its colour much nearer the
# scale's orange at the high cut-off (255 120 0): a squared distance at least 20000 smaller.
bar_grew() {
	set -- "$1" "$(probe bar "$2" cell_bar "$4")" "$(probe bar "$3" cell_bar "$4")"
	# shellcheck disable=SC2086
	if echo $2 $3 | awk 'function d(r, g, b) { return (255 - r) ^ 2 + (120 - g) ^ 2 + b ^ 2 }
		{ exit !($5 > $1 + 15 && d($6, $7, $8) < d($2, $3, $4) - 20000) }'; then
		pass "$1: height rgb $2 -> $3"
	else
		fail "$1: height rgb $2 -> $3 (want taller and toward orange)"
	fi
}
# went_red NAME A.png B.png REGION: a green indicator turned red.
went_red() {
	set -- "$1" "$(probe mean "$2" "$4")" "$(probe mean "$3" "$4")"
	# shellcheck disable=SC2086
	if echo $2 $3 | awk '{ exit !($2 > $1 + 60 && $4 > $5 + 60) }'; then
		pass "$1: mean rgb $2 -> $3"
	else
		fail "$1: mean rgb $2 -> $3 (want green, then red)"
	fi
}
bar_grew "fake: cell 3's bar grew and turned toward orange" "$TMP/a.png" "$TMP/b.png" 3
same_1="$(probe bar "$TMP/a.png" cell_bar 1) = $(probe bar "$TMP/b.png" cell_bar 1)"
# shellcheck disable=SC2086
echo $same_1 | awk '{ exit !($1 == $6 && $2 == $7) }' && pass "fake: cell 1 unchanged: $same_1" ||
	fail "fake: cell 1 changed: $same_1"
went_red "fake: DSG FET indicator" "$TMP/a.png" "$TMP/b.png" fet_dsg
went_red "fake: relay indicator" "$TMP/a.png" "$TMP/b.png" relay
# The DUT's stale cell 3 (3302 mV against 3620) lights its strip magenta; in A it agreed.
mag_a=$("$PROBE" count "$TMP/a.png" $(region cell_dut 3) 255 60 220 10 | tr -d 'a-z ')
mag_b=$("$PROBE" count "$TMP/b.png" $(region cell_dut 3) 255 60 220 10 | tr -d 'a-z ')
set -- $(region cell_dut 3)
if [ "$mag_b" -gt $(($3 * $4 / 2)) ] && [ "$mag_a" -lt $(($3 * 6)) ]; then
	pass "fake: DUT disagreement on cell 3 highlighted ($mag_a -> $mag_b magenta pixels)"
else
	fail "fake: DUT highlight on cell 3: $mag_a -> $mag_b magenta pixels of $(($3 * $4))"
fi

# ---- hostile input: garbage, wrong types, huge arrays, a 5 MiB line, a NUL; then state A -----
{
	cat "$FIX/hostile.jsonl"
	printf '{"event":"frame","decoded":{"a":"'
	head -c 5000000 /dev/zero | tr '\0' z
	printf '"}}\n{"a":1,\0"b":2}\n'
	cat "$FIX/state-a.jsonl"
} >"$TMP/hostile.jsonl"
fake "$TMP/hostile.jsonl" --period-ms 60
shot "hostile lines drawn one by one under ASan" "$TMP/h.png" --control "$TMP/fake.sock" --after 3s
same_3="$(probe bar "$TMP/a.png" cell_bar 3) = $(probe bar "$TMP/h.png" cell_bar 3)"
# shellcheck disable=SC2086
echo $same_3 | awk '{ exit !($1 == $6 && $2 == $7 && $3 == $8) }' &&
	pass "after the garbage, state A draws as before: $same_3" ||
	fail "after the garbage, state A draws differently: $same_3"

# ---- keys and clicks become requests; a refusal shows in the status line -------------------
: >"$TMP/req.log"
fake "$FIX/state-a.jsonl" --log "$TMP/req.log" --refuse clear
keys="Right,Right,o,click:$(centre cell_col 2),o,s,click:$(centre 'button:Short'),n,r,+,-,PageUp,space,.,],c"
shot "fake: --press $keys" "$TMP/k.png" --control "$TMP/fake.sock" --after 1s --press "$keys"
for want in '"cmd":"fault","unit":0,"do":"open_wire","cell":3,' '"do":"open_wire","cell":2,' \
	'"do":"ntc_open","ntc":1,' '"do":"no_reply","for":"10s",' '"key":"current_a","value":-15,' \
	'"key":"current_a","value":-25,' '"key":"cell_soc_pct","cell":2,"value":75,' \
	'"cmd":"pause",' '"cmd":"step","ms":1000,' '"cmd":"rate","x":2,' '"cmd":"clear","unit":0,'; do
	grep -qF "$want" "$TMP/req.log" && pass "request sent: $want" ||
		fail "no request $want in: $(grep -v '"get"' "$TMP/req.log" | tr '\n' ' ' | head -c 600)"
done
n_short=$(grep -c '"do":"short_circuit"' "$TMP/req.log")
[ "$n_short" -eq 2 ] && pass "short circuit by key and by clicking its button" ||
	fail "short circuit requests: $n_short, want 2 (key s, click on the Short button)"
red=$("$PROBE" count "$TMP/k.png" $(region status) 205 40 40 40 | tr -d 'a-z ')
[ "$red" -gt 50 ] && pass "the refused clear shows in red in the status line ($red pixels)" ||
	fail "no red refusal in the status line ($red pixels)"

# The socket going away while connected is a runtime failure: exit 1 and one line.
"$FAKE" --socket "$TMP/short.sock" --script "$FIX/state-a.jsonl" --duration-s 1 &
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -S "$TMP/short.sock" ] && break; sleep 0.1; done
"$VIZ" --control "$TMP/short.sock" --screenshot "$TMP/never.png" --after 5s -q 2>"$TMP/gone.err"
rc=$?
if [ $rc -eq 1 ] && [ "$(wc -l <"$TMP/gone.err")" -eq 1 ] &&
   grep -q "^bmsviz: $TMP/short.sock: connection closed by bmssim\$" "$TMP/gone.err" && [ ! -e "$TMP/never.png" ]; then
	pass "the socket closing mid-run: exit 1, \"$(cat "$TMP/gone.err")\", no PNG"
else
	fail "the socket closing mid-run: exit $rc: $(cat "$TMP/gone.err")"
fi
wait

# ---- against a real bmssim ------------------------------------------------------------------
"$BIN/bmssim" serve --bms jbd --cells 4 --link "$TMP/jbd" --control "$TMP/ctl.sock" \
	--chem nmc --soc-pct 60 --duration-s 30 -q >"$TMP/sim.out" 2>"$TMP/sim.err" &
sim=$!
for _ in $(seq 1 50); do [ -S "$TMP/ctl.sock" ] && break; sleep 0.1; done
shot "bmssim: first screenshot" "$TMP/r1.png" --control "$TMP/ctl.sock" --after 1500ms
# Cell 3's SOC up in 5 % steps from 60 % to full (NMC: 3.92 V to 4.19 V, past the 4.10 V where
# the scale leaves green), then NTC 1 open: it reads -40 degC, and the BMS protects on charge
# and discharge under-temperature with both FETs off for as long as the probe stays open.
press="Right,Right,PageUp,PageUp,PageUp,PageUp,PageUp,PageUp,PageUp,PageUp,n"
shot "bmssim: --press $press" "$TMP/r2.png" --control "$TMP/ctl.sock" --after 3s --press "$press"
bar_grew "bmssim: cell 3's bar grew and turned toward the high colours" "$TMP/r1.png" "$TMP/r2.png" 3
went_red "bmssim: CHG FET indicator after NTC 1 opened" "$TMP/r1.png" "$TMP/r2.png" fet_chg
went_red "bmssim: DSG FET indicator after NTC 1 opened" "$TMP/r1.png" "$TMP/r2.png" fet_dsg
kill "$sim" 2>/dev/null
wait "$sim" 2>/dev/null

# --viz: bmssim opens the socket itself and starts the viewer on it, which leaves when it closes.
SDL_VIDEODRIVER=offscreen "$BIN/bmssim" serve --bms jbd --link "$TMP/viz-link" --duration-s 3 --viz \
	>"$TMP/viz.out" 2>"$TMP/viz.err"
rc=$?
sleep 1
sock=$(sed -n 's/^bmssim: control socket //p' "$TMP/viz.err")
if [ $rc -eq 0 ] && [ -n "$sock" ] && grep -q "^bmsviz: $sock: connection closed by bmssim" "$TMP/viz.err"; then
	pass "bmssim serve --viz: the viewer ran on $sock until the emulator ended"
else
	fail "bmssim serve --viz: exit $rc: $(cat "$TMP/viz.err")"
fi
