"""The inverter side of tests/e2e/can_transports.sh, on Debian's python3-can (run it with
/usr/bin/python3: a pyenv python3 earlier in PATH does not see Debian's packages).

    can_inverter.py pty PATH         slcan on the emulator's pty (PATH: its --link)
    can_inverter.py slcan PORT       slcan over TCP (channel socket://127.0.0.1:PORT)
    can_inverter.py socketcand PORT  socketcand rawmode, bus can0

Reads until it has the whole Pylontech set (0x351 0x355 0x356 0x359 0x35C 0x35E) or 10 s
pass, sends one 0x305 keep-alive (eight zero bytes), and prints one line:
    ids=351,355,356,359,35C,35E mfr=PYLON cvl_mV=58400 soc_pct=80 pack_mV=52860 modules=1
"""
import logging
import sys
import time

import can

# python-can's socketcand client warns about the '\n' the emulator puts after each frame
# (a separator its reader needs, see docs/bmssim.md): not a fault here.
logging.getLogger("can").setLevel(logging.ERROR)

WANT = (0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E)


def main():
    kind = sys.argv[1]
    if kind == "pty":
        bus = can.Bus(interface="slcan", channel=sys.argv[2], bitrate=500000, sleep_after_open=0.2)
    elif kind == "slcan":
        port = int(sys.argv[2])
        bus = can.Bus(interface="slcan", channel="socket://127.0.0.1:%d" % port,
                      bitrate=500000, sleep_after_open=0.2)
    else:
        port = int(sys.argv[2])
        bus = can.Bus(interface="socketcand", channel="can0", host="127.0.0.1", port=port)
    seen = {}
    end = time.time() + 10
    while time.time() < end and not all(i in seen for i in WANT):
        m = bus.recv(0.5)
        if m is not None:
            seen[m.arbitration_id] = bytes(m.data)
    bus.send(can.Message(arbitration_id=0x305, data=bytes(8), is_extended_id=False))
    time.sleep(0.3)   # the keep-alive leaves before the connection closes
    bus.shutdown()
    line = "ids=" + ",".join("%X" % i for i in sorted(seen))
    if 0x35E in seen:
        line += " mfr=" + seen[0x35E].decode("ascii", "replace").strip()
    if 0x351 in seen:
        line += " cvl_mV=%d" % (int.from_bytes(seen[0x351][0:2], "little") * 100)
    if 0x355 in seen:
        line += " soc_pct=%d" % int.from_bytes(seen[0x355][0:2], "little")
    if 0x356 in seen:
        line += " pack_mV=%d" % (int.from_bytes(seen[0x356][0:2], "little") * 10)
    if 0x359 in seen:
        line += " modules=%d" % seen[0x359][4]
    print(line)


main()
