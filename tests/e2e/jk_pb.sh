# JK-PB over RS485: bmssim serves three chained packs on one pty as JK-PB boards answer Modbus.
# A stand-in for the popular Python clients (python3-serial, as mpp-solar's jkpb.py and
# dbus-serialbattery's jkbms_pb.py talk to a board) sends their exact request bytes and checks
# the answer byte for byte against the captures of docs/protocols/jk-pb.md: the 300-byte record
# and the 8-byte FC 0x10 reply `01 10 16 20 00 01 04 4B`. Then silence (a wrong CRC, an
# address nobody has), an exception, bmsmon reading one pack and the bus, bmsdecode.
. tests/e2e/common

if ! /usr/bin/python3 -c 'import serial' 2>/dev/null; then
	fail "python3-serial missing (tools/deps test installs it)"
	exit 0
fi

BUS=$TMP/bus
# Packs 1, 2, 3 by their place on the line (their DIP switches); 8 cells, as the capture.
"$BIN/bmssim" serve --cells 8 --capacity-ah 220 \
	--bms "jk-pb,link=$BUS,soc_pct=88,current_a=17.8,seed=1" \
	--bms "jk-pb,link=$BUS,soc_pct=50,seed=2" \
	--bms "jk-pb,link=$BUS,soc_pct=30,seed=3,quirk.at_junk=5" \
	--duration-s 60 >"$TMP/sim" 2>&1 &
SIM=$!
i=0
while [ ! -e "$BUS" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e "$BUS" ] || fail "bmssim did not publish $BUS: $(head -c 300 "$TMP/sim")"

cat >"$TMP/client.py" <<'PYEOF'
# The requests of mpp-solar's jkpb.py, byte for byte, and what it expects back. One line per
# check: "ok ..." or "bad ...".
import sys
import time
import serial

s = serial.Serial(sys.argv[1], 115200, timeout=0.4)


def crc16(b):
    c = 0xFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
    return bytes([c & 0xFF, c >> 8])


def ask(req, want):
    s.reset_input_buffer()
    s.write(req)
    got = b""
    end = time.time() + 1.0
    while len(got) < want and time.time() < end:
        got += s.read(want - len(got))
    time.sleep(0.05)
    got += s.read(s.in_waiting or 0)
    return got


def check(name, good, detail):
    print(("ok " if good else "bad ") + name + ": " + detail)


# The popular client's cell-info request: the record, then exactly 01 10 16 20 00 01 04 4B.
r = ask(bytes.fromhex("01 10 16 20 00 01 02 00 00 D6 F1"), 308)
rec, tail = r[:300], r[300:]
check("cell-info trigger", len(r) == 308 and rec[:5] == bytes.fromhex("55AAEB9002") and
      sum(rec[:299]) & 0xFF == rec[299] and tail == bytes.fromhex("01 10 16 20 00 01 04 4B"),
      "%d bytes, tail %s" % (len(r), tail.hex(" ")))
cells = [rec[6 + 2 * i] | rec[7 + 2 * i] << 8 for i in range(32)] if len(rec) == 300 else []
res = [rec[80 + 2 * i] | rec[81 + 2 * i] << 8 for i in range(32)] if len(rec) == 300 else []
check("cell-count fields", len(rec) == 300 and rec[70:74] == bytes.fromhex("FF000000") and
      all(2500 < c < 3700 for c in cells[:8]) and not any(cells[8:]) and all(res[:8]) and
      not any(res[8:]) and rec[287] != 0, "mask %s, cells %s" % (rec[70:74].hex(), cells[:8]))
soc = rec[173] if len(rec) == 300 else -1
cur = int.from_bytes(rec[158:162], "little", signed=True) if len(rec) == 300 else 0
check("pack 1's values (charging from 88 %)", 88 <= soc <= 93 and abs(cur - 17800) <= 50, "SOC %d %%, %d mA" % (soc, cur))
# The device-info and settings triggers, with their captured tails.
r = ask(bytes.fromhex("01 10 16 1C 00 01 02 00 00 D3 CD"), 308)
check("device-info trigger", len(r) == 308 and r[4] == 3 and r[300:] == bytes.fromhex("01 10 16 1C 00 01 C4 47"),
      "%d bytes, model %r" % (len(r), r[6:22].rstrip(b"\0")))
r = ask(bytes.fromhex("01 10 16 1E 00 01 02 00 00 D2 2F"), 308)
check("settings trigger", len(r) == 308 and r[4] == 1 and r[114] == 8 and
      r[300:] == bytes.fromhex("01 10 16 1E 00 01 65 87"), "%d bytes, cell count %d" % (len(r), r[114] if len(r) > 114 else -1))
# Pack 2 by its own address and CRC; pack 3 behind its AT flood.
req = bytes.fromhex("02 10 16 20 00 01 02 00 00")
r = ask(req + crc16(req), 308)
check("pack 2", len(r) == 308 and r[300:306] == bytes.fromhex("02 10 16 20 00 01") and abs(r[173] - 50) <= 1,
      "%d bytes, SOC %d %%" % (len(r), r[173] if len(r) > 173 else -1))
req = bytes.fromhex("03 10 16 20 00 01 02 00 00")
r = ask(req + crc16(req), 328)
check("pack 3 floods AT junk first", len(r) == 328 and r[:20] == b"AT\r\n" * 5 and r[20:24] == bytes.fromhex("55AAEB90"),
      "%d bytes" % len(r))
# Silence: a wrong CRC; address 2 with address 1's CRC (what dbus-serialbattery sends for
# other addresses); an address nobody has.
for name, hx in (("a wrong CRC", "01 10 16 20 00 01 02 00 00 D6 F2"),
                 ("address 2 with address 1's CRC", "02 10 16 20 00 01 02 00 00 D6 F1")):
    r = ask(bytes.fromhex(hx), 308)
    check("silence on " + name, r == b"", "%d bytes" % len(r))
req = bytes.fromhex("09 10 16 20 00 01 02 00 00")
r = ask(req + crc16(req), 308)
check("silence on address 9", r == b"", "%d bytes" % len(r))
# An illegal function: exception 01.
req = bytes.fromhex("01 04 12 00 00 02")
r = ask(req + crc16(req), 5)
check("exception to FC 0x04", r == bytes.fromhex("01 84 01") + crc16(bytes.fromhex("01 84 01")), r.hex(" "))
PYEOF
/usr/bin/python3 "$TMP/client.py" "$BUS" >"$TMP/py" 2>"$TMP/pyerr"
if [ "$(grep -c '^ok' "$TMP/py")" -eq 11 ] && ! grep -q '^bad' "$TMP/py"; then
	while read -r line; do pass "python3-serial: ${line#ok }"; done <"$TMP/py"
else
	fail "python3-serial: $(tr '\n' ' ' <"$TMP/py") $(tail -n 3 "$TMP/pyerr" | tr '\n' ' ')"
fi

# bmsmon on the same bus: pack 2 alone, then all three as a bridge.
out=$(timeout 20 "$BIN/bmsmon" --proto jk-pb --port "$BUS" --address 2 --count 2 --poll-ms 300 2>&1)
if echo "$out" | grep -q '"proto":"jk-pb","ok":1' && echo "$out" | grep -q '"cells_mv":\[[0-9]*\(,[0-9]*\)\{7\}\]' &&
	echo "$out" | grep -q '"soc_pct":50'; then
	pass "bmsmon --proto jk-pb --address 2: 8 cells, SOC 50 %"
else
	fail "bmsmon --address 2: $(echo "$out" | head -c 400)"
fi
out=$(timeout 20 "$BIN/bmsmon" --proto jk-pb --port "$BUS" --address 1,2,3 --cells 8 --count 3 --poll-ms 500 2>&1)
if echo "$out" | grep -q '"online_packs":3,"pack_ok":\[1,1,1\]'; then
	pass "bmsmon --proto jk-pb --address 1,2,3: the bridge reads all three packs"
else
	fail "bmsmon bridge: $(echo "$out" | tail -n 4 | head -c 600)"
fi
kill "$SIM" 2>/dev/null
wait "$SIM" 2>/dev/null

# The core's client judged against the truth.
"$BIN/bmssim" serve --bms jk-pb --cells 16 --current-a -12 --duration-s 6 \
	--dut "$BIN/bmsmon --proto jk-pb --port {port} -q" >"$TMP/mon" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^verdict: AGREE' "$TMP/mon" && ! grep -q DISAGREES "$TMP/mon"; then
	pass "bmsmon --proto jk-pb judged by bmssim serve --dut: $(grep '^verdict' "$TMP/mon" | cut -c10-70)"
else
	fail "bmsmon --dut: exit $rc: $(grep -E 'DISAGREES|verdict|bmssim:|bmsmon:' "$TMP/mon" | tail -n 4 | tr '\n' ' ')"
fi

# bmsdecode: the popular client's request, and a bad CRC named.
out=$("$BIN/bmsdecode" --proto jk-pb "01 10 16 20 00 01 02 00 00 D6 F1")
if echo "$out" | grep -q '"register":5664,"count":1,"data_hex":"0000","trigger":"cell_info"'; then
	pass "bmsdecode --proto jk-pb: the cell-info trigger"
else
	fail "bmsdecode trigger: $out"
fi
out=$("$BIN/bmsdecode" --proto jk-pb "01 10 16 20 00 01 04 4C")
[ $? -eq 1 ] && echo "$out" | grep -q 'bad checksum' && pass "bmsdecode --proto jk-pb: a bad CRC is named" ||
	fail "bmsdecode bad CRC: $out"

# Addresses the DIP switches cannot give are refused, not silently replaced.
expect_usage_error "bmsmon --proto jk-pb --address 16" "jk-pb takes 1..15, got 16" \
	"$BIN/bmsmon" --proto jk-pb --port "$TMP/none" --address 16
expect_usage_error "bmssim --bms jk-pb,address=16" "jk-pb: address 16" \
	"$BIN/bmssim" serve --bms jk-pb,address=16 --duration-s 1
expect_usage_error "bmssim --quirk at_junk=99" 'at_junk: expected 0..16, got "99"' \
	"$BIN/bmssim" serve --bms jk-pb --quirk at_junk=99 --duration-s 1
