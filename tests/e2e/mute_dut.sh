# The mute_dut line fault from the control socket, seen by an independent client (Debian's
# python3-serial, not our code): while it lasts the emulated BMS hears none of the client's
# requests, so nothing comes back; once its `for` ends the same request is answered again. The
# fault is protocol-blind: this is how an inverter's keep-alive is made to stop.
. tests/e2e/common

PY=/usr/bin/python3
if ! command -v socat >/dev/null 2>&1 || ! $PY -c 'import serial' 2>/dev/null; then
	fail "socat or python3-serial is missing (tools/deps installs them)"
	exit 0
fi

SOCK=$TMP/ctl.sock
ctl() { printf '%s\n' "$1" | socat -t 2 - UNIX-CONNECT:"$SOCK"; }
"$BIN/bmssim" serve --bms jbd --link "$TMP/jbd" --control "$SOCK" --duration-s 30 >"$TMP/sim.out" 2>"$TMP/sim.err" &
sim=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && [ -L "$TMP/jbd" ] && break; sleep 0.1; done

# The client: JBD's 0x03 read (DD A5 03 00 FF FD 77). "ask": one request, the reply's first
# bytes in hex or "none" within 1 s. "until": the same every 0.3 s until a reply, up to 15 s.
cat >"$TMP/client.py" <<'PYEOF'
import sys, time, serial
port = serial.Serial(sys.argv[1], 9600, timeout=0.1)
REQ = bytes.fromhex("DDA50300FFFD77")
def ask(wait_s):
    port.reset_input_buffer()
    port.write(REQ)
    got, end = b"", time.monotonic() + wait_s
    while time.monotonic() < end and len(got) < 4:
        got += port.read(64)
    return got
if sys.argv[2] == "ask":
    got = ask(1.0)
    print(got[:4].hex() if got else "none")
else:
    end = time.monotonic() + 15
    while time.monotonic() < end:
        got = ask(0.3)
        if got:
            print(got[:4].hex())
            break
    else:
        print("none")
PYEOF

r=$($PY "$TMP/client.py" "$TMP/jbd" ask)
if printf '%s' "$r" | grep -q '^dd0300'; then pass "python3-serial: the BMS answers 0x03 ($r)"; else fail "no answer before the fault: $r $(cat "$TMP/sim.err")"; fi
r=$(ctl '{"cmd":"fault","do":"mute_dut","for":"4s"}')
if [ "$r" = '{"ok":true}' ]; then pass "control: fault mute_dut for 4 s"; else fail "control: $r"; fi
r=$(ctl '{"cmd":"get"}')
if printf '%s' "$r" | grep -q '"line":\["mute_dut"\]'; then pass "the state lists mute_dut on the line"; else fail "state: $(printf '%s' "$r" | head -c 300)"; fi
r=$($PY "$TMP/client.py" "$TMP/jbd" ask)
if [ "$r" = "none" ]; then pass "python3-serial: the muted request gets no answer"; else fail "muted, yet answered: $r"; fi
r=$($PY "$TMP/client.py" "$TMP/jbd" until)
if printf '%s' "$r" | grep -q '^dd0300'; then pass "python3-serial: answered again once the fault ends ($r)"; else fail "still silent: $r"; fi
r=$(ctl '{"cmd":"get"}')
if printf '%s' "$r" | grep -q '"line":\[\]'; then pass "the fault is off the line"; else fail "state: $(printf '%s' "$r" | head -c 300)"; fi
kill "$sim" 2>/dev/null
wait "$sim" 2>/dev/null
