"""The inverter's side of tests/e2e/bridge.sh, on Debian's python3-can (interface slcan, bmsmon's
--inverter pty as channel). Run with /usr/bin/python3 (the pyenv python does not see Debian's
packages). Prints PASS:/FAIL: lines.

  can PTY PID   the aggregated set of three packs (CVL 56.8 V, CCL 150 A, SOC 60 %, 3 modules);
                then kills PID (one pack's emulator) and waits for 2 modules and CCL 100 A
"""
import os
import signal
import struct
import sys
import time

import can


def sets(bus, seconds, ext_known=True):
    """Yields {id: data} each time a whole set (0x351 .. 0x35E after a 0x351) came, for `seconds`.
    The keep-alive 0x305 goes every 0.3 s, as an inverter's does. ext_known False: the reader
    cannot tell 29-bit ids (python-can 4.1.0's socketcand marks every frame extended)."""
    end, next_ka, cur = time.time() + seconds, 0.0, None
    while time.time() < end:
        if time.time() >= next_ka:
            bus.send(can.Message(arbitration_id=0x305, data=bytes(8), is_extended_id=False))
            next_ka = time.time() + 0.3
        m = bus.recv(0.1)
        if m is None or (ext_known and m.is_extended_id):
            continue
        if m.arbitration_id == 0x351:
            cur = {}
        if cur is not None:
            cur[m.arbitration_id] = bytes(m.data)
            if all(i in cur for i in (0x351, 0x355, 0x359)) and 0x35E in cur:
                yield cur
                cur = None


def decode(s):
    cvl, ccl, dcl, dvl = struct.unpack_from("<HhhH", s[0x351])
    soc, _soh = struct.unpack_from("<HH", s[0x355])
    return {"cvl_mv": cvl * 100, "ccl_ma": ccl * 100, "dcl_ma": dcl * 100, "dvl_mv": dvl * 100,
            "soc_pct": soc, "modules": s[0x359][4]}


def check(ok, what):
    print(("PASS: " if ok else "FAIL: ") + what)
    return ok


def test_can(pty, pid):
    bus = can.Bus(interface="slcan", channel=pty, bitrate=500000, sleep_after_open=0.2)
    try:
        first = None
        for s in sets(bus, 15.0):
            d = decode(s)
            if d["modules"] == 3:
                first = d
                break
        if not check(first is not None, "a whole set with 3 modules within 15 s"):
            return
        check(first["cvl_mv"] == 56800 and first["dvl_mv"] == 48000,
              "CVL %d mV, DVL %d mV: 16 cells at 3550 / 3000 mV" % (first["cvl_mv"], first["dvl_mv"]))
        check(first["ccl_ma"] == 150000 and first["dcl_ma"] == 150000,
              "CCL %d mA, DCL %d mA: three packs of 50 A" % (first["ccl_ma"], first["dcl_ma"]))
        check(first["soc_pct"] == 60, "SOC %d %%: packs at 50, 60 and 70 %%" % first["soc_pct"])
        os.kill(pid, signal.SIGTERM)
        t0, after = time.time(), None
        for s in sets(bus, 20.0):
            d = decode(s)
            if d["modules"] == 2:
                after = d
                break
        if not check(after is not None, "one pack's emulator stopped: 2 modules announced "
                     "(after %.1f s, stale time 2 s)" % (time.time() - t0)):
            return
        check(after["ccl_ma"] == 100000 and after["dcl_ma"] == 100000,
              "limits shrink to the packs left: CCL %d mA, DCL %d mA" % (after["ccl_ma"], after["dcl_ma"]))
        check(after["soc_pct"] == 55, "SOC %d %%: the two packs left at 50 and 60 %%" % after["soc_pct"])
    finally:
        bus.shutdown()


if __name__ == "__main__":
    if sys.argv[1] == "can":
        test_can(sys.argv[2], int(sys.argv[3]))
    else:
        print("FAIL: unknown test " + sys.argv[1])
