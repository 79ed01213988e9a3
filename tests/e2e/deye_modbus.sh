# Deye Modbus: bmssim serves packs on one RS485 line as a Deye inverter polls them, and Debian's
# own Modbus masters read them: mbpoll (libmodbus inside) and python3-pymodbus (FC 0x04 and
# FC 0x11). Values are checked against what the emulator was given. Then bmsmon, the core's
# client, reads a pack and is judged against the truth.
. tests/e2e/common

if ! command -v mbpoll >/dev/null || ! /usr/bin/python3 -c 'import pymodbus' 2>/dev/null; then
	fail "mbpoll or python3-pymodbus missing (tools/deps test installs them)"
	exit 0
fi

BUS=$TMP/bus
# Pack 0 (SOC 40 %, discharging 10 A) and pack 1 (SOC 70 %, charging 5 A) take addresses 0 and
# 1 by their place on the line; a third pack at address 2 is absent (silent).
"$BIN/bmssim" serve --cells 16 --capacity-ah 100 \
	--bms "deye-modbus,link=$BUS,soc_pct=40,current_a=-10,seed=1" \
	--bms "deye-modbus,link=$BUS,soc_pct=70,current_a=5,seed=2" \
	--bms "deye-modbus,link=$BUS,address=2,quirk.absent=1" \
	--duration-s 60 >"$TMP/sim" 2>&1 &
SIM=$!
i=0
while [ ! -e "$BUS" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e "$BUS" ] || fail "bmssim did not publish $BUS: $(head -c 300 "$TMP/sim")"

# mbpoll: all 22 registers of pack 1 (mbpoll takes slave addresses 1..255 only in RTU, so
# pack 0 is pymodbus's), then the absent pack times out.
if mbpoll -m rtu -b 9600 -P none -t 3 -r 4096 -c 22 -0 -a 1 -1 -o 2 "$BUS" >"$TMP/mbpoll" 2>&1; then
	regs=$(sed -n 's/^\[4[01][0-9][0-9]\]:[[:space:]]*\([0-9]*\).*/\1/p' "$TMP/mbpoll" | tr '\n' ' ')
	set -- $regs
	n=$#
	# 0x1000 pack (10 mV), 0x1001 current (10 mA, two's complement), 0x1008 SOC (0.1 %),
	# 0x100D/E cell max/min (mV), 0x1015 design capacity (10 mAh).
	pack=$1 cur=$2 soc=$9 cmax=${14} cmin=${15} design=${22}
	if [ "$n" -eq 22 ] && [ "$cur" -ge 495 ] && [ "$cur" -le 505 ] && [ "$soc" -ge 690 ] && [ "$soc" -le 710 ] &&
		[ "$design" -eq 10000 ] && [ "$cmin" -le "$cmax" ] && [ "$cmin" -gt 2500 ] && [ "$cmax" -lt 3700 ] &&
		[ $((pack * 10)) -ge $((16 * cmin - 40)) ] && [ $((pack * 10)) -le $((16 * cmax + 40)) ]; then
		pass "mbpoll read 22 registers of pack 1: ${pack}0 mV, ${cur}0 mA, SOC $soc permille, cells $cmin..$cmax mV"
	else
		fail "mbpoll pack 1: $n registers: $regs"
	fi
else
	fail "mbpoll pack 1: $(tail -n 3 "$TMP/mbpoll" | tr '\n' ' ')"
fi
if mbpoll -m rtu -b 9600 -P none -t 3 -r 4096 -c 22 -0 -a 2 -1 -o 0.5 "$BUS" >"$TMP/mbpoll2" 2>&1; then
	fail "the absent pack 2 answered mbpoll"
elif grep -qi 'timed out\|timeout' "$TMP/mbpoll2"; then
	pass "the absent pack 2 is silent: mbpoll times out"
else
	fail "absent pack 2: $(tail -n 2 "$TMP/mbpoll2" | tr '\n' ' ')"
fi

cat >"$TMP/inverter.py" <<'EOF'
# A Deye stand-in on pymodbus: FC 0x04 on the block of packs 0 and 1, FC 0x11 of pack 1, and
# an address nobody answers. Prints one line per check: "ok ..." or "bad ...".
import sys
from pymodbus.client import ModbusSerialClient
from pymodbus.other_message import ReportSlaveIdRequest

port = sys.argv[1]
want = {0: (400, -1000), 1: (700, 500)}
c = ModbusSerialClient(port, baudrate=9600, timeout=1, retries=0)
c.connect()
for slave, (soc, cur) in want.items():
    r = c.read_input_registers(0x1000, 22, slave=slave)
    if r.isError():
        print("bad pack %d: %s" % (slave, r))
        continue
    v = r.registers
    s16 = lambda x: x - 65536 if x >= 32768 else x
    pack_mV, cur_mA, soc_pm, cmax, cmin = v[0] * 10, s16(v[1]) * 10, v[8], v[13], v[14]
    good = (len(v) == 22 and abs(soc_pm - soc) <= 10 and abs(s16(v[1]) - cur) <= 5 and
            2500 < cmin <= cmax < 3700 and 16 * cmin - 40 <= pack_mV <= 16 * cmax + 40 and
            v[21] == 10000 and v[15] == 0 and v[19] == 0)
    print("%s pack %d: %d mV, %d mA, SOC %d permille, cells %d..%d mV" %
          ("ok" if good else "bad", slave, pack_mV, cur_mA, soc_pm, cmin, cmax))
# Partial reads inside the block, and 0xFFFF outside the map.
r = c.read_input_registers(0x1008, 1, slave=1)
print(("ok" if not r.isError() and abs(r.registers[0] - 700) <= 10 else "bad") + " partial read of 0x1008: %s" %
      (r if r.isError() else r.registers))
r = c.read_input_registers(0x2000, 2, slave=1)
print(("ok" if not r.isError() and r.registers == [0xFFFF, 0xFFFF] else "bad") + " outside the map: %s" %
      (r if r.isError() else r.registers))
r = c.execute(ReportSlaveIdRequest(unit=1))
ident = getattr(r, "identifier", b"")
parts = ident.split(b"*")
print(("ok" if len(parts) == 5 and parts[4] == b"" and len(parts[3]) == 20 and 1 <= len(parts[0]) <= 15
       else "bad") + " FC 0x11 of pack 1: %r" % ident)
r = c.read_input_registers(0x1000, 22, slave=9)
print(("ok" if r.isError() else "bad") + " address 9 (no pack) times out")
c.close()
EOF
/usr/bin/python3 "$TMP/inverter.py" "$BUS" >"$TMP/py" 2>"$TMP/pyerr"
if [ "$(grep -c '^ok' "$TMP/py")" -eq 6 ] && ! grep -q '^bad' "$TMP/py"; then
	while read -r line; do pass "pymodbus: ${line#ok }"; done <"$TMP/py"
else
	fail "pymodbus: $(tr '\n' ' ' <"$TMP/py") $(tail -n 3 "$TMP/pyerr" | tr '\n' ' ')"
fi
kill "$SIM" 2>/dev/null
wait "$SIM" 2>/dev/null

# The core's client (bmsmon) on pack 1 of two, judged against the truth.
"$BIN/bmssim" serve --cells 16 --current-a -12 --duration-s 6 \
	--bms "deye-modbus,link=$TMP/bus2,seed=1" --bms "deye-modbus,link=$TMP/bus2,seed=2" --dut-unit 1 \
	--dut "$BIN/bmsmon --proto deye-modbus --port {port} --address 1 -q" >"$TMP/mon" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^verdict: AGREE' "$TMP/mon" && ! grep -q DISAGREES "$TMP/mon"; then
	pass "bmsmon --proto deye-modbus --address 1: $(grep '^verdict' "$TMP/mon" | cut -c10-70)"
else
	fail "bmsmon: exit $rc: $(grep -E 'DISAGREES|verdict|bmssim:|bmsmon:' "$TMP/mon" | tail -n 4 | tr '\n' ' ')"
fi

# bmsdecode reads the notes' FC 0x11 sample and refuses a bad CRC.
out=$("$BIN/bmsdecode" --proto deye-modbus \
	"01 11 22 4A 4B 2D 42 4D 53 2A 10 11 2A 20 21 2A 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 30 2A 30 D1")
if echo "$out" | grep -q '"model":"JK-BMS","sw_version":"1011","hw_version":"2021","serial":"00000000000000000000"'; then
	pass "bmsdecode --proto deye-modbus: the FC 0x11 sample"
else
	fail "bmsdecode FC 0x11: $out"
fi
out=$("$BIN/bmsdecode" --proto deye-modbus "01 04 10 00 00 16 75 05")
[ $? -eq 1 ] && echo "$out" | grep -q 'bad checksum' && pass "bmsdecode --proto deye-modbus: a bad CRC is named" ||
	fail "bmsdecode bad CRC: $out"
