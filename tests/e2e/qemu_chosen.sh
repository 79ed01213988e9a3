# A virtual NodeMCU built with only some protocols (make lx106 builds two such deployments,
# docs/nodemcu.md "Choosing the protocols a board carries"): what it carries still polls a BMS
# byte for byte as the whole build does, and what it leaves out is refused by name, listing only
# what it has.
. tests/e2e/common

DUT=firmware/port/qemu-lx106/bmsmon-qemu
MON=build/lx106-sel/jbd-inv-none/bmsmon-lx106.elf
VBMS=build/lx106-sel/jbd-jk-daly-inv-pylontech-can/bmsmon-lx106.elf

if ! command -v qemu-system-xtensa >/dev/null 2>&1; then
	fail "qemu-system-xtensa not installed (Debian qemu-system-misc; make deps)"
	exit 0
fi
for elf in "$MON" "$VBMS"; do
	if [ ! -f "$elf" ]; then
		fail "$elf not built (make lx106)"
		exit 0
	fi
done

# poll NAME ELF BMS PROTO: three polls of bmssim's BMS through that build; all must be good.
poll() {
	name=$1 elf=$2 bms=$3 proto=$4
	"$BIN/bmssim" serve --bms "$bms" --cells 4 --current-a -12 --link "$TMP/$name" --duration-s 60 -q \
		>"$TMP/$name.sim" 2>&1 &
	sim_pid=$!
	i=0
	while [ ! -e "$TMP/$name" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	BMSMON_LX106_ELF=$elf "$DUT" --port "$TMP/$name" --proto "$proto" --poll-ms 500 --count 3 >"$TMP/out" 2>"$TMP/err"
	rc=$?
	kill "$sim_pid" 2>/dev/null
	wait "$sim_pid" 2>/dev/null
	lines=$(grep -c "^BMSRIG {\"ms\":[0-9]*,\"proto\":\"$proto\",\"ok\":1,.*\"relay\":1,\"comm_fail\":0,\"why\":0}\$" "$TMP/out")
	if [ $rc -eq 0 ] && [ "$lines" -eq 3 ] && grep '^BMSRIG {' "$TMP/out" | tail -n 1 | grep -q '"current_ma":-12000,'; then
		pass "$name: exit 0, 3 good telemetry lines, -12 A"
	else
		fail "$name: exit $rc, $lines good lines: $(head -c 400 "$TMP/out") $(head -c 200 "$TMP/err")"
	fi
}

poll "jbd monitor reads a JBD" "$MON" jbd jbd
poll "vbms build reads a Daly" "$VBMS" daly daly

expect_usage_error "jbd monitor: daly left out" '--proto: expected one of jbd, jbd-ble; got "daly"' \
	env BMSMON_LX106_ELF="$MON" "$DUT" --port x --proto daly
expect_usage_error "jbd monitor: no inverter port" \
	'--inverter: unknown protocol "pylontech-can" (this build has no inverter port)' \
	env BMSMON_LX106_ELF="$MON" "$DUT" --port x --port y --inverter pylontech-can:/dev/null
expect_usage_error "vbms build: byd left out" '--proto: expected one of jbd, jbd-ble, daly, daly-ble, jk; got "byd"' \
	env BMSMON_LX106_ELF="$VBMS" "$DUT" --port x --proto byd
expect_usage_error "vbms build: only Pylontech CAN toward the inverter" '--inverter: unknown protocol "deye-modbus" (pylontech-can)' \
	env BMSMON_LX106_ELF="$VBMS" "$DUT" --port x --port y --inverter deye-modbus:/dev/null
