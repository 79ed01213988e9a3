# The Pylontech RS485 battery (three modules on one line) as an inverter sees it: Debian's
# python3-serial plays the inverter with the real captured requests and checks every reply with
# its own LENGTH/LCHKSUM/CHKSUM arithmetic (not ours), the module count and the values against
# what the emulator was given; then bmsmon reads the modules and is judged against the truth.
. tests/e2e/common

PY=/usr/bin/python3     # Debian's python3-serial is seen by the system python only
if ! $PY -c 'import serial' 2>/dev/null; then
	fail "python3-serial missing: apt-get install -y python3-serial (tools/deps test)"
	exit 0
fi

"$BIN/bmssim" serve --duration-s 60 \
	--bms "pylontech-rs485,cells=15,ntc=5,capacity_ah=50,soc_pct=80,current_a=-10,temp_c=20,link=$TMP/bus" \
	--bms "pylontech-rs485,cells=15,ntc=5,capacity_ah=50,soc_pct=80,current_a=-10,temp_c=20,link=$TMP/bus,seed=2" \
	--bms "pylontech-rs485,cells=16,ntc=5,capacity_ah=100,soc_pct=80,current_a=-10,temp_c=20,link=$TMP/bus,seed=3" \
	>"$TMP/sim.out" 2>&1 &
sim=$!
for i in $(seq 100); do [ -L "$TMP/bus" ] && break; sleep 0.1; done

$PY - "$TMP/bus" >"$TMP/py.out" 2>&1 <<'PYEOF'
import sys, serial

port = serial.Serial(sys.argv[1], 9600, timeout=3)

def check(ok, what):
    print(("PASS: " if ok else "FAIL: ") + what)

def ask(req):
    """Sends req; returns the reply frame ('' on silence)."""
    port.reset_input_buffer()
    port.write(req.encode() + b"\r")
    return port.read_until(b"\r").decode("ascii", "replace")

def parse(frame):
    """The spec's arithmetic, written here independently: (adr, rtn, info bytes) or a reason."""
    if not frame.startswith("~") or not frame.endswith("\r"):
        return "not delimited: %r" % frame[:40]
    body, chk = frame[1:-5], frame[-5:-1]
    if (-sum(body.encode())) & 0xFFFF != int(chk, 16):
        return "CHKSUM %s wrong" % chk
    length = int(body[8:12], 16)
    lenid = length & 0xFFF
    if (-((lenid & 15) + (lenid >> 4 & 15) + (lenid >> 8))) & 15 != length >> 12:
        return "LCHKSUM of %s wrong" % body[8:12]
    info = body[12:]
    if len(info) != lenid:
        return "LENID %d, INFO %d characters" % (lenid, len(info))
    return int(body[2:4], 16), int(body[6:8], 16), bytes.fromhex(info)

def modules(info, count):
    """0x42 modules after DATAFLAG and the command value."""
    out, p = [], 2
    for _ in range(count):
        m = info[p]; cells = [int.from_bytes(info[p + 1 + 2 * i:p + 3 + 2 * i], "big") for i in range(m)]
        p += 1 + 2 * m
        n = info[p]; temps = [int.from_bytes(info[p + 1 + 2 * i:p + 3 + 2 * i], "big") for i in range(n)]
        p += 1 + 2 * n
        cur = int.from_bytes(info[p:p + 2], "big", signed=True) * 100
        volt = int.from_bytes(info[p + 2:p + 4], "big")
        remain = int.from_bytes(info[p + 4:p + 6], "big"); ud = info[p + 6]
        full = int.from_bytes(info[p + 7:p + 9], "big"); p += 11
        if ud == 4:
            remain = int.from_bytes(info[p:p + 3], "big"); full = int.from_bytes(info[p + 3:p + 6], "big"); p += 6
        out.append(dict(cells=cells, temps=temps, cur=cur, volt=volt, remain=remain, full=full))
    return out, p

# Captured requests (martiby/ess pylontech.py), each to the module it names.
r = parse(ask("~20024642E00202FD33"))
if isinstance(r, str):
    check(False, "0x42 at ADR 2: " + r)
else:
    adr, rtn, info = r
    (m,), end = modules(info, 1)
    check(adr == 2 and rtn == 0 and end == len(info) and info[1] == 2 and len(m["cells"]) == 15
          and len(m["temps"]) == 5 and abs(m["volt"] - sum(m["cells"])) <= 15
          and 45000 < m["volt"] < 52000 and abs(m["cur"] + 10000) <= 100
          and all(abs(t - 2931) <= 20 for t in m["temps"])
          and m["full"] == 50000 and 38000 <= m["remain"] <= 42000,
          "0x42 at ADR 2 (captured request): 15 cells, %d mV, %d mA, %d of %d mAh, temps %s"
          % (m["volt"], m["cur"], m["remain"], m["full"], m["temps"]))

r = parse(ask("~20034644E00203FD2F"))
check(not isinstance(r, str) and r[0] == 3 and r[1] == 0 and r[2][2] == 15 and r[2][-4] & 0x06 == 0x06,
      "0x44 at ADR 3 (captured request): the second module answers, both FETs on: %r" % (r,))
r = parse(ask("~20024693E00202FD2D"))
check(not isinstance(r, str) and r[1] == 0 and len(r[2]) == 17, "0x93 serial number: %r" % (r,))
r = parse(ask("~200246510000FDAC"))
check(not isinstance(r, str) and r[1] == 0 and len(r[2]) == 32 and r[2][12:17] == b"PYLON",
      "0x51 manufacturer: %r" % (r[2][:17] if not isinstance(r, str) else r,))

# The system-wide query (as python-pylontech sends it): one frame with all three modules.
r = parse(ask("~20024642E002FFFD09"))
if isinstance(r, str):
    check(False, "0x42 FF: " + r)
else:
    adr, rtn, info = r
    mods, end = modules(info, info[1])
    check(rtn == 0 and info[1] == 3 and end == len(info) and [len(x["cells"]) for x in mods] == [15, 15, 16]
          and mods[2]["full"] == 100000,
          "0x42 FF: one frame, %d modules, cells %s, the 100 Ah one in u24 (%d mAh)"
          % (info[1], [len(x["cells"]) for x in mods], mods[2]["full"]))

# Charge management: limits within the pack's, enable bits on.
r = parse(ask("~20024692E00202FD2E"))
if not isinstance(r, str):
    info = r[2]
    cvl, dvl = int.from_bytes(info[1:3], "big"), int.from_bytes(info[3:5], "big")
    ccl, dcl = (int.from_bytes(info[5:7], "big", signed=True) * 100,
                int.from_bytes(info[7:9], "big", signed=True) * 100)
    check(r[1] == 0 and 45000 <= cvl <= 58000 and 30000 <= dvl < cvl and ccl > 0 and dcl != 0 and info[9] & 0xC0 == 0xC0,
          "0x92: CVL %d mV, DVL %d mV, CCL %d mA, DCL %d mA, status %02X" % (cvl, dvl, ccl, dcl, info[9]))
else:
    check(False, "0x92: " + r)

# Errors as real packs give them: the captured bad-checksum request gets the captured RTN 02
# reply byte for byte; an unknown command RTN 04; an address nobody has, silence.
check(ask("~20024642E00201CB13") == "~200246020000FDB0\r", "bad checksum: the captured RTN 02 reply")
r = parse(ask("~200246990000FDA0"))
check(not isinstance(r, str) and r[1] == 4, "unknown CID2 0x99: RTN 04: %r" % (r,))
port.timeout = 1
check(ask("~20054642E00205FD2D") == "", "ADR 5 (no such module): silence")
port.timeout = 3
for cid2 in (0x60, 0x61, 0x62, 0x63):
    body = "200246%02X0000" % cid2
    r = parse(ask("~%s%04X" % (body, (-sum(body.encode())) & 0xFFFF)))
    check(not isinstance(r, str) and r[1] == 0 and len(r[2]) > 0,
          "system command 0x%02X answered by the master (%s INFO bytes)" % (cid2, "?" if isinstance(r, str) else len(r[2])))
PYEOF
cat "$TMP/py.out"
grep -q '^PASS: system command 0x63' "$TMP/py.out" || fail "python master: $(grep -v '^PASS' "$TMP/py.out" | tail -n 3 | tr '\n' ' ')"
kill "$sim" 2>/dev/null
wait "$sim" 2>/dev/null

# The firmware core as the inverter: bmsmon polls the master, then the third module at ADR 4,
# each report judged against that module's truth.
for unit in 0 2; do
	"$BIN/bmssim" serve --duration-s 20 --current-a -12 \
		--bms "pylontech-rs485,cells=15,ntc=5,link=$TMP/bus2" --bms "pylontech-rs485,cells=15,link=$TMP/bus2,seed=2" \
		--bms "pylontech-rs485,cells=16,ntc=4,link=$TMP/bus2,seed=3" --dut-unit $unit \
		--dut "$BIN/bmsmon --proto pylontech-rs485 --address $((unit + 2)) --port {port} --count 3 -q" \
		>"$TMP/mon$unit" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^verdict: AGREE: 3 of 3' "$TMP/mon$unit"; then
		pass "bmsmon --address $((unit + 2)): $(grep '^verdict' "$TMP/mon$unit" | cut -c10-70)"
	else
		fail "bmsmon --address $((unit + 2)): exit $rc: $(tail -n 3 "$TMP/mon$unit" | tr '\n' ' ')"
	fi
done
