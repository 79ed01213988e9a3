"""The inverter's side of tests/e2e/pylon_can.sh, on Debian's python3-can (interface slcan, the
emulator's pty as channel). Run with /usr/bin/python3 (the pyenv python does not see Debian's
packages). Prints PASS:/FAIL: lines.

  set PTY            receive the whole set, check the six ids and their values, send 0x305
  modules PTY        two units on one link: module count 2, one set a period
  keepalive PTY      with on_keepalive_loss=stop and a 1500 ms timeout: frames stop while
                     no 0x305 goes and come back when it does
"""
import struct
import sys
import time

import can

IDS = (0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E)


def bus_on(pty):
    return can.Bus(interface="slcan", channel=pty, bitrate=500000, sleep_after_open=0.2)


def keepalive(bus):
    bus.send(can.Message(arbitration_id=0x305, data=bytes(8), is_extended_id=False))


def collect(bus, seconds, send_keepalive, until=None):
    """Frames seen in the next `seconds` (or until every id of `until` came): {id: (data, time)}
    of the last of each, and a count. The keep-alive goes every 0.3 s, well inside any timeout."""
    seen, count, end, next_ka = {}, 0, time.time() + seconds, 0.0
    while time.time() < end and not (until and all(i in seen for i in until)):
        if send_keepalive and time.time() >= next_ka:
            keepalive(bus)
            next_ka = time.time() + 0.3
        m = bus.recv(0.1)
        if m is not None and not m.is_extended_id:
            seen[m.arbitration_id] = (bytes(m.data), time.time())
            count += 1
    return seen, count


def check(ok, what):
    print(("PASS: " if ok else "FAIL: ") + what)
    return ok


def test_set(pty):
    bus = bus_on(pty)
    try:
        seen, _ = collect(bus, 10.0, True, until=IDS)
    finally:
        bus.shutdown()
    if not check(all(i in seen for i in IDS), "python-can received 0x351 0x355 0x356 0x359 0x35C 0x35E "
                 "(got %s)" % " ".join("%03X" % i for i in sorted(seen))):
        return
    d = {i: seen[i][0] for i in IDS}
    cvl, ccl, dcl, dvl = struct.unpack("<HhhH", d[0x351])
    soc, soh, soc_hr = struct.unpack("<HHH", d[0x355][:6])
    volt, amp, temp = struct.unpack("<hhh", d[0x356][:6])
    # 16 LFP cells at the default 3650 mV over-voltage threshold; the emulator starts at 80 %.
    check(cvl == 584 and dvl > 0 and ccl > 0 and dcl > 0,
          "0x351: CVL %.1f V, CCL %.1f A, DCL %.1f A, DVL %.1f V" % (cvl / 10, ccl / 10, dcl / 10, dvl / 10))
    check(soc == 80 and soh == 100 and soc_hr == 8000, "0x355: SOC %d %%, SOH %d %%, %d/100 %%" % (soc, soh, soc_hr))
    check(45000 < volt * 10 < 58400 and amp == 0 and 200 < temp < 300,
          "0x356: %.2f V, %.1f A, %.1f degC" % (volt / 100, amp / 10, temp / 10))
    check(d[0x359][4] == 1 and d[0x359][5:7] == b"PN" and d[0x359][:4] == bytes(4),
          "0x359: no flags, 1 module, PN")
    check(d[0x35C][0] == 0xC0, "0x35C: charge and discharge enabled (0x%02X)" % d[0x35C][0])
    check(d[0x35E] == b"PYLON   ", "0x35E: %r" % d[0x35E])
    check(all(len(d[i]) == 8 for i in IDS), "every frame DLC 8")


def test_keepalive(pty):
    bus = bus_on(pty)
    try:
        # period_ms=200, keepalive_timeout_ms=1000 (pylon_can.sh): a set every 0.2 s while the
        # 0x305 goes; 1 s after the last one the battery goes quiet (2 s allowed).
        _, with_ka = collect(bus, 1.0, True)
        collect(bus, 2.0, False)
        _, quiet = collect(bus, 1.0, False)
        _, back = collect(bus, 1.0, True)
    finally:
        bus.shutdown()
    check(with_ka >= 6, "on_keepalive_loss=stop: %d frames while 0x305 goes" % with_ka)
    check(quiet == 0, "on_keepalive_loss=stop: %d frames once 0x305 stopped" % quiet)
    check(back >= 6, "on_keepalive_loss=stop: %d frames after 0x305 came back" % back)


def test_modules(pty):
    bus = bus_on(pty)
    try:
        collect(bus, 10.0, True, until=IDS)
        t0 = time.time()
        seen, count = collect(bus, 3.0, True)
        dt = time.time() - t0
    finally:
        bus.shutdown()
    flags = seen.get(0x359, (bytes(8), 0))[0]
    check(flags[4] == 2, "two units on one link: 0x359 module count %d" % flags[4])
    # One set a second: 12 to 18 frames in 3 s; two talking units would give 24 or more.
    check(6 <= count <= 20, "two units on one link: %d frames in %.1f s, one unit talking" % (count, dt))


if __name__ == "__main__":
    {"set": test_set, "keepalive": test_keepalive, "modules": test_modules}[sys.argv[1]](sys.argv[2])
