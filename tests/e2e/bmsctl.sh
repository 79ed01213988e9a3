# bmsctl against bmssim serve, one emulator per protocol with settings: info (checked against the
# emulator's own state on its control socket), get of a value the control socket set, set and
# its read-back, a write the BMS logic acts on, refusals before anything is sent, dump and
# restore, fets and soc (their effect read from the control socket), --json parsed by python3,
# and the usage errors.
. tests/e2e/common

if ! command -v socat >/dev/null 2>&1; then
	fail "socat is missing (tools/deps installs it)"
	exit 0
fi

CTL=$BIN/bmsctl
SOCK=$TMP/ctl.sock
ctl() { printf '%s\n' "$1" | socat -t 2 - UNIX-CONNECT:"$SOCK"; }
# check NAME PATTERN TEXT: PASS when TEXT holds PATTERN (grep -E).
check() {
	if printf '%s' "$3" | grep -Eq -- "$2"; then pass "$1"; else fail "$1: $(printf '%s' "$3" | head -c 400)"; fi
}
# rc_is NAME WANT CMD...: PASS when CMD exits WANT (stdout in $TMP/o, stderr in $TMP/e).
rc_is() {
	name=$1 want=$2
	shift 2
	"$@" >"$TMP/o" 2>"$TMP/e"
	rc=$?
	if [ $rc -eq "$want" ]; then pass "$name: exit $rc"; else fail "$name: exit $rc, want $want: $(head -c 300 "$TMP/e")"; fi
}
# py EXPR: evaluates a python3 expression with j = the JSON on stdin; prints it.
py() { /usr/bin/python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

# start PROTO: bmssim serve with a link at $TMP/PROTO and the control socket.
start() {
	rm -f "$SOCK"
	"$BIN/bmssim" serve --bms "$1" --link "$TMP/$1" --control "$SOCK" --duration-s 120 >"$TMP/sim.out" 2>"$TMP/sim.err" &
	sim=$!
	for _ in $(seq 200); do [ -S "$SOCK" ] && [ -L "$TMP/$1" ] && return 0; sleep 0.1; done
	fail "$1: bmssim serve did not come up: $(cat "$TMP/sim.err")"
	return 1
}
stop() { kill "$sim" 2>/dev/null; wait "$sim" 2>/dev/null; }

# ---- usage, no emulator needed ----------------------------------------------------------------
expect_usage_error "no --proto" '^bmsctl: expected --proto P$' "$CTL" --port /nonexistent info
expect_usage_error "an unknown protocol" 'expected jbd, daly, jk, jbd-ble, daly-ble, jk-ble or jk-pb, got "nope"' "$CTL" --proto nope info
expect_usage_error "an unknown command" 'expected a command' "$CTL" --proto jbd --port x frobnicate
expect_usage_error "a port that is not there" '^bmsctl: ' "$CTL" --proto jbd --port "$TMP/none" info
check "--help names the exit codes" '3 value refused' "$("$CTL" --help)"
check "list: jbd's settings with ranges, no port" '^cell_ovp_mV 0\.\.65535$' "$("$CTL" --proto jbd list)"

for proto in jbd daly jk; do
	start "$proto" || continue
	P="$CTL --proto $proto --port $TMP/$proto"

	# info: what the wire says equals what the emulator's BMS holds.
	info=$($P --json info)
	truth=$(ctl '{"cmd":"get"}')
	a=$(printf '%s' "$info" | py 'j["cells_mV"], j["fet_chg"], j["fet_dsg"], j["prot"]')
	b=$(printf '%s' "$truth" | py 'j["state"]["units"][0]["bms"]["cells_mv"], j["state"]["units"][0]["bms"]["fet_chg"], j["state"]["units"][0]["bms"]["fet_dsg"], j["state"]["units"][0]["bms"]["prot"]')
	if [ -n "$a" ] && [ "$a" = "$b" ]; then pass "$proto: info --json cells, FETs, prot equal the emulator's ($a)"; else fail "$proto: info $a, emulator $b"; fi

	# get: a value set on the emulator's side comes back over the wire.
	check "$proto: control socket sets cell_uvp_mV 2600" '"ok":true' "$(ctl '{"cmd":"set","key":"cell_uvp_mV","value":2600}')"
	check "$proto: get --json reads it" '^2600$' "$($P --json get cell_uvp_mV | py 'j["get"]["cell_uvp_mV"]')"

	# refusals before sending.
	rc_is "$proto: cell_ovp_mV=70000 refused" 3 $P set cell_ovp_mV=70000
	check "$proto: ... with the range" 'expected 0\.\.65535, got 70000' "$(cat "$TMP/e")"
	rc_is "$proto: an unknown setting name" 2 $P get no_such_mV

	$P dump >"$TMP/$proto.json"
	check "$proto: dump is JSON with the settings" '^'"$proto"' [0-9]+$' \
		"$(py 'j["proto"], j["settings"]["cell_ovp_mV"]' <"$TMP/$proto.json")"

	if [ "$proto" = daly ]; then
		rc_is "daly: set refused (no setting write captured)" 3 $P set cell_ovp_mV=3600
		check "daly: ... saying so" 'setting writes are not supported' "$(cat "$TMP/e")"
		rc_is "daly: restore refused likewise" 3 $P restore "$TMP/daly.json"
	else
		rc_is "$proto: set cell_ovp_mV=3600 balance_delta_mV=20" 0 $P set cell_ovp_mV=3600 balance_delta_mV=20
		check "$proto: the read-back is reported" 'cell_ovp_mV = 3600' "$(cat "$TMP/o")"
		check "$proto: get reads 3600" '^cell_ovp_mV = 3600$' "$($P get cell_ovp_mV)"
		# Below the cells' 3304 mV: the emulator's BMS trips cell OV after its 2 s delay.
		$P -q set cell_ovp_release_mV=3250 cell_ovp_mV=3300 >/dev/null 2>&1
		sleep 3
		check "$proto: cell_ovp_mV=3300 trips the BMS's cell OV (control socket)" '"bms":\{[^}]*"fet_chg":0,"fet_dsg":1,"prot":[0-9]*[13579],' \
			"$(ctl '{"cmd":"get"}')"
		rc_is "$proto: restore the dump" 0 $P -q restore "$TMP/$proto.json"
		check "$proto: get after restore reads the dumped value" \
			"^cell_ovp_mV = $(py 'j["settings"]["cell_ovp_mV"]' <"$TMP/$proto.json")\$" "$($P get cell_ovp_mV)"
		$P dump >"$TMP/$proto.2.json"
		if cmp -s "$TMP/$proto.json" "$TMP/$proto.2.json"; then pass "$proto: dump, restore, dump: identical"; else fail "$proto: dumps differ"; fi
		printf '{"proto":"%s","settings":{"cell_ovp_mV":3600,"cell_uvp_mV":99999}}\n' "$proto" >"$TMP/bad.json"
		rc_is "$proto: restore with one value out of range" 3 $P restore "$TMP/bad.json"
		check "$proto: ... wrote nothing" '^cell_ovp_mV = '"$(py 'j["settings"]["cell_ovp_mV"]' <"$TMP/$proto.json")"'$' "$($P get cell_ovp_mV)"
	fi
	[ "$proto" = jbd ] && rc_is "jbd: pack_ovp_mV=14805 (10 mV register) refused" 3 $P set pack_ovp_mV=14805
	[ "$proto" = jk ] && rc_is "jk: chg_otp_dK=3235 (whole degC) refused" 3 $P set chg_otp_dK=3235

	rc_is "$proto: fets chg=off" 0 $P fets chg=off
	check "$proto: the emulator's charge FET is off" '"bms":\{[^}]*"fet_chg":0,"fet_dsg":1' "$(ctl '{"cmd":"get"}')"
	rc_is "$proto: fets chg=on dsg=on" 0 $P --json fets chg=on dsg=on
	check "$proto: --json reports both on" '^1 1$' "$(py 'j["fet_chg"], j["fet_dsg"]' <"$TMP/o")"

	if [ "$proto" = jk ]; then
		rc_is "jk: soc refused (no SOC write)" 3 $P soc 55
	else
		rc_is "$proto: soc 55" 0 $P soc 55
		check "$proto: the emulator's BMS reports 55 %" '"bms":\{[^}]*"soc_pct":55,' "$(ctl '{"cmd":"get"}')"
		rc_is "$proto: soc 101 refused" 3 $P soc 101
	fi
	stop
done

# ---- the Bluetooth modules (the same frames in 20-byte pieces, after a connect that loses the
# first request: the link model's defaults, so each run retries as it would on a real module),
# and JK-PB (the JK BLE records and settings words through Modbus RTU on RS485).
for proto in jbd-ble daly-ble jk-ble jk-pb; do
	start "$proto" || continue
	P="$CTL --proto $proto --port $TMP/$proto"
	a=$($P --json info | py 'j["cells_mV"], j["fet_chg"]')
	b=$(ctl '{"cmd":"get"}' | py 'j["state"]["units"][0]["bms"]["cells_mv"], j["state"]["units"][0]["bms"]["fet_chg"]')
	if [ -n "$a" ] && [ "$a" = "$b" ]; then pass "$proto: info --json equals the emulator's ($a)"; else fail "$proto: info $a, emulator $b"; fi
	if [ "$proto" != daly-ble ]; then
		rc_is "$proto: set cell_ovp_mV=3600 chg_otp_dK=3231" 0 $P set cell_ovp_mV=3600 chg_otp_dK=3231
		check "$proto: read back" 'cell_ovp_mV = 3600' "$(cat "$TMP/o")"
		check "$proto: get --json reads chg_otp_dK back" '^3231$' "$($P --json get chg_otp_dK | py 'j["get"]["chg_otp_dK"]')"
	else
		rc_is "daly-ble: set refused" 3 $P set cell_ovp_mV=3600
	fi
	case $proto in jk-*) rc_is "$proto: chg_oc_mA=50005 (10 mA words) refused" 3 $P set chg_oc_mA=50005 ;; esac
	rc_is "$proto: fets dsg=off" 0 $P fets dsg=off
	check "$proto: the emulator's discharge FET is off" '"bms":\{[^}]*"fet_chg":1,"fet_dsg":0' "$(ctl '{"cmd":"get"}')"
	stop
done

# ---- JBD calibration: write-only registers, so the check is the emulator's saved state: the
# current calibrations are saved (exit 0x2828) and land in its store, 0xAE at index 57 (after
# the 56 EEPROM words), in the register's 10 mA.
rm -f "$SOCK"
"$BIN/bmssim" serve --bms jbd --link "$TMP/cal" --state "$TMP/state.json" --duration-s 60 >"$TMP/sim.out" 2>"$TMP/sim.err" &
sim=$!
for _ in $(seq 200); do [ -L "$TMP/cal" ] && break; sleep 0.1; done
P="$CTL --proto jbd --port $TMP/cal"
rc_is "jbd: cal chg_current_mA=12340" 0 $P cal chg_current_mA=12340
check "jbd: ... reports what the BMS then measures" '^chg_current_mA written; the BMS now measures 0 mA, cells \(mV\) 3304' "$(cat "$TMP/o")"
for _ in $(seq 50); do grep -q '"57":[[:space:]]*1234' "$TMP/state.json" 2>/dev/null && break; sleep 0.1; done
check "jbd: the emulator saved calibration 0xAE = 1234 (x 10 mA)" '"57":[[:space:]]*1234' "$(cat "$TMP/state.json" 2>/dev/null)"
rc_is "jbd: cal cell3_mV=3301" 0 $P --json cal cell3_mV=3301
check "jbd: ... --json parses" '^cell3_mV 4$' "$(py 'j["cal"], len(j["cells_mV"])' <"$TMP/o")"
rc_is "jbd: cal cell33_mV (registers for cells 1..32 only)" 2 $P cal cell33_mV=3301
rc_is "jbd: cal chg_current_mA=12345 (10 mA register) refused" 3 $P cal chg_current_mA=12345
rc_is "jbd: cal zero_current=5 (takes no value)" 2 $P cal zero_current=5
rc_is "daly: no calibration" 3 "$CTL" --proto daly --port "$TMP/cal" cal zero_current
stop

# ---- a real serial port asks before a write: answered "n", nothing is sent (exit 4). Needs an
# openable UART; without one this is skipped, not passed.
if [ -c /dev/ttyS0 ]; then
	printf 'n\n' | "$CTL" --proto jbd --port /dev/ttyS0 set cell_ovp_mV=3600 >"$TMP/o" 2>"$TMP/e"
	rc=$?
	if grep -q 'cannot open' "$TMP/e"; then
		echo "SKIP: /dev/ttyS0 does not open here"
	elif [ $rc -eq 4 ] && grep -q 'go on? \[y/N\]' "$TMP/e" && grep -q 'not written' "$TMP/e"; then
		pass "a real serial port asks first; \"n\" writes nothing: exit 4"
	else
		fail "the serial-port confirmation: exit $rc: $(head -c 300 "$TMP/e")"
	fi
fi
