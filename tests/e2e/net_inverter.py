"""The inverter's side of tests/e2e/net.sh: bmsmon's --inverter served on TCP, read by Debian's
python3-can (slcan over 'socket://', and interface='socketcand') and python3-pymodbus (Modbus RTU
framing over TCP, framer=ModbusRtuFramer). Run with /usr/bin/python3. Prints PASS:/FAIL: lines.

  slcan PORT        a whole Pylontech set of two packs at 50 and 60 %: CVL 56.8 V, CCL 100 A, SOC 55 %
  socketcand PORT   the same set through socketcand's rawmode
  modbus PORT       Deye's 22 input registers at 0x1000 from slave 1: SOC 54..56 %, CCL 100 A, CVL 56.8 V
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bridge_inverter import check, decode, sets  # noqa: E402


def pylon_set(bus, how, ext_known=True):
    try:
        got = None
        for s in sets(bus, 15.0, ext_known):
            d = decode(s)
            if d["modules"] == 2:
                got = d
                break
        if not check(got is not None, "%s: a whole set with 2 modules within 15 s" % how):
            return
        check(got["cvl_mv"] == 56800 and got["dvl_mv"] == 48000 and got["ccl_ma"] == 100000 and
              got["dcl_ma"] == 100000 and got["soc_pct"] == 55,
              "%s: CVL %d mV, DVL %d mV, CCL %d mA, DCL %d mA, SOC %d %% (two packs of 50 A at 50 and 60 %%)"
              % (how, got["cvl_mv"], got["dvl_mv"], got["ccl_ma"], got["dcl_ma"], got["soc_pct"]))
    finally:
        bus.shutdown()


def modbus(port):
    from pymodbus.client import ModbusTcpClient
    from pymodbus.transaction import ModbusRtuFramer

    c = ModbusTcpClient("127.0.0.1", port=port, framer=ModbusRtuFramer, timeout=2)
    if not check(c.connect(), "pymodbus connects to 127.0.0.1:%d" % port):
        return
    try:
        r = c.read_input_registers(0x1000, 22, slave=1)
        regs = getattr(r, "registers", None)
        if not check(regs is not None and len(regs) == 22, "pymodbus (RTU over TCP): 22 input registers "
                     "from 0x1000: %s" % (regs if regs is not None else r)):
            return
        check(540 <= regs[8] <= 560 and regs[12] == 10000 and regs[20] == 5680,
              "pymodbus as the inverter over Deye Modbus on TCP: SOC %d permille, CCL %d0 mA, CVL %d0 mV"
              % (regs[8], regs[12], regs[20]))
    finally:
        c.close()


if __name__ == "__main__":
    import logging

    import can

    # python-can's socketcand reader warns about the '\n' after each frame (docs/bmssim.md).
    logging.getLogger("can").setLevel(logging.ERROR)

    what, port = sys.argv[1], int(sys.argv[2])
    if what == "slcan":
        pylon_set(can.Bus(interface="slcan", channel="socket://127.0.0.1:%d" % port, bitrate=500000), "slcan over TCP")
    elif what == "socketcand":
        pylon_set(can.Bus(interface="socketcand", host="127.0.0.1", port=port, channel="can0"), "socketcand",
                  ext_known=False)
    elif what == "modbus":
        modbus(port)
    else:
        print("FAIL: unknown test " + what)
