"""The independent half of tests/e2e/bmsmon_outputs.sh: listeners and checks written without
bmsmon's code. Run with /usr/bin/python3. Prints PASS:/FAIL: lines.

  free-port                       a TCP port nobody listens on (127.0.0.1)
  emu SOCK                        the emulator's BMS view (control socket "get", unit 0) as JSON
  listen unix:PATH|udp:PORT OUT SECONDS   datagrams, one per line, appended to OUT
  mqtt SUB_FILE EMU_FILE ID CELLS TEMPS   mosquitto_sub -v output against the emulator
  influx FILE EMU_FILE ID         the line protocol lines against the emulator
  page DOM_FILE JSON_FILE         the numbers the page shows against /api/v1/state
"""
import html.parser
import json
import re
import socket
import sys
import time


def ok(cond, what, detail=""):
    print(("PASS: " if cond else "FAIL: ") + what + ("" if cond else ": " + detail))
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def emu(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(b'{"cmd":"get"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        buf += s.recv(65536)
    print(json.dumps(json.loads(buf)["state"]["units"][0]["bms"]))


def listen(where, out, seconds):
    if where.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(where[5:])
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", int(where[4:])))
    s.settimeout(0.2)
    end = time.time() + float(seconds)
    with open(out, "ab", buffering=0) as f:
        while time.time() < end:
            try:
                f.write(s.recv(65536))
            except socket.timeout:
                pass


def mqtt(sub_file, emu_file, ident, cells, temps):
    e = json.load(open(emu_file))
    topics = {}
    for line in open(sub_file, encoding="utf-8"):
        t, _, payload = line.rstrip("\n").partition(" ")
        topics[t] = payload          # the last message on each topic
    p = "bmsrig/%s/" % ident
    ok(topics.get(p + "status") == "online", "MQTT: %sstatus is online" % p, repr(topics.get(p + "status")))
    try:
        st = json.loads(topics[p + "state"])
    except (KeyError, ValueError) as x:
        ok(False, "MQTT: %sstate is JSON" % p, repr(x))
        return
    same = [k for k in ("cells_mv", "temps_dk", "soc_pct", "fet_chg", "fet_dsg", "prot", "bal_mask") if st[k] == e[k]]
    ok(len(same) == 7 and len(st["cells_mv"]) == int(cells),
       "MQTT: state's cells %s, temperatures %s, SOC %d %%, FETs and protections equal the emulator's"
       % (st["cells_mv"], st["temps_dk"], st["soc_pct"]), "state %s, emulator %s" % (st, e))
    # JBD reports the pack in 10 mV: the emulator's own voltage rounds to it.
    ok(abs(st["pack_mv"] - e["pack_mv"]) <= 10, "MQTT: pack %d mV, the emulator's %d mV" % (st["pack_mv"], e["pack_mv"]))
    cell_t = [topics.get(p + "cell/%d" % (i + 1)) for i in range(int(cells))]
    temp_t = [topics.get(p + "temp/%d" % (i + 1)) for i in range(int(temps))]
    ok(cell_t == [str(v) for v in e["cells_mv"]] and temp_t == [str(v) for v in e["temps_dk"]],
       "MQTT: per-cell and per-probe topics %s %s" % (cell_t, temp_t), "emulator %s %s" % (e["cells_mv"], e["temps_dk"]))
    node = "bmsrig_" + ident
    cfgs = {t: json.loads(v) for t, v in topics.items() if t.startswith("homeassistant/") and v}
    want = 4 + int(cells) + int(temps) + 4
    ok(len(cfgs) == want, "HA discovery: %d configs (4 pack sensors, one per cell and probe, 4 binary sensors)" % want,
       "got %d: %s" % (len(cfgs), sorted(cfgs)))
    relay = cfgs.get("homeassistant/binary_sensor/%s/relay/config" % node, {})
    ok(relay.get("state_topic") == p + "state" and relay.get("device_class") == "power"
       and relay.get("availability_topic") == p + "status" and relay.get("device", {}).get("identifiers") == [node],
       "HA discovery: the relay is a binary sensor on the state topic, with availability and device", repr(relay))
    v = cfgs.get("homeassistant/sensor/%s/pack_mv/config" % node, {})
    c1 = cfgs.get("homeassistant/sensor/%s/cell1_mv/config" % node, {})
    t1 = cfgs.get("homeassistant/sensor/%s/temp1/config" % node, {})
    ok(v.get("unit_of_measurement") == "mV" and v.get("device_class") == "voltage"
       and c1.get("state_topic") == p + "cell/1" and c1.get("unit_of_measurement") == "mV"
       and t1.get("device_class") == "temperature" and t1.get("unit_of_measurement") == "\u00b0C"
       and len({json.dumps(c["device"], sort_keys=True) for c in cfgs.values()}) == 1,
       "HA discovery: units and device classes (pack mV/voltage, cell 1 on its topic, temperature degC), one device",
       "%r %r %r" % (v, c1, t1))


LINE = re.compile(r"^(?P<m>[a-z]+)(?P<tags>(?:,[a-z_]+=[^ ,]+)*) (?P<fields>[a-z0-9_]+=-?\d+i(?:,[a-z0-9_]+=-?\d+i)*) (?P<ts>\d{19})$")


def influx(path, emu_file, ident):
    e = json.load(open(emu_file))
    lines = [l for l in open(path, encoding="utf-8").read().split("\n") if l]
    bad = [l for l in lines if not LINE.match(l)]
    if not ok(lines and not bad, "Influx: %d lines parse as line protocol (measurement, tags, integer fields, ns time)"
              % len(lines), repr(bad[:2] or "no lines")):
        return
    m = LINE.match(lines[-1])
    tags = dict(kv.split("=") for kv in m["tags"][1:].split(","))
    fields = {k: int(v[:-1]) for k, v in (kv.split("=") for kv in m["fields"].split(","))}
    ok(m["m"] == "bmsrig" and tags == {"id": ident, "proto": "jbd"}, "Influx: measurement bmsrig, tags %s" % tags)
    ts = int(m["ts"]) / 1e9
    ok(abs(ts - time.time()) < 120, "Influx: the time stamp is now, in nanoseconds", str(ts))
    cells = [fields.get("cell%d_mv" % (i + 1)) for i in range(len(e["cells_mv"]))]
    temps = [fields.get("temp%d_dk" % (i + 1)) for i in range(len(e["temps_dk"]))]
    ok(cells == e["cells_mv"] and temps == e["temps_dk"] and fields["soc_pct"] == e["soc_pct"]
       and abs(fields["pack_mv"] - e["pack_mv"]) <= 10 and fields["relay"] == 1,
       "Influx: fields cell1_mv.. %s, temp1_dk.. %s, soc_pct, pack_mv equal the emulator's" % (cells, temps),
       "fields %s, emulator %s" % (fields, e))


class Ids(html.parser.HTMLParser):
    """The text of every element with an id (the page's leaf cells)."""

    def __init__(self):
        super().__init__()
        self.text, self.stack = {}, []

    VOID = ("meta", "link", "br", "img", "input", "hr")

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        self.stack.append(dict(attrs).get("id"))
        if self.stack[-1]:
            self.text[self.stack[-1]] = ""

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        for i in self.stack:
            if i:
                self.text[i] += data


def fixed(v, div, dec):
    s = "-" if v < 0 else ""
    a = abs(v)
    return s + str(a // div) + ("." + str(a % div).zfill(len(str(div)) - 1)[:dec] if dec else "")


def page(dom_file, json_file):
    s = json.load(open(json_file))
    p = Ids()
    p.feed(open(dom_file, encoding="utf-8").read())
    t = {k: v.strip() for k, v in p.text.items()}
    want = {
        "id": s["id"], "pack_v": fixed(s["pack_mv"], 1000, 3), "current_a": fixed(s["current_ma"], 1000, 3),
        "soc_pct": str(s["soc_pct"]), "fet_chg": "on" if s["fet_chg"] else "off",
        "fet_dsg": "on" if s["fet_dsg"] else "off",
        "relay": "closed" if s["relay"] else "open (%s)" % ", ".join(s["why_names"]),
        "prot": ", ".join(s["prot_names"]) or "none", "comm_fail": str(s["comm_fail"]),
    }
    for i, v in enumerate(s.get("cells_mv", [])):
        want["cells_%d" % (i + 1)] = str(v)
    for i, v in enumerate(s.get("temps_dk", [])):
        want["temps_%d" % (i + 1)] = fixed(v - 2731, 10, 1)
    diff = {k: (t.get(k), v) for k, v in want.items() if t.get(k) != v}
    ok(not diff and "cells_%d" % (len(s.get("cells_mv", [])) + 1) not in t,
       "web page in Chromium: pack %s V, current %s A, SOC %s %%, cells %s mV, probes %s degC, relay %s, "
       "protections %s: equal to /api/v1/state" % (t.get("pack_v"), t.get("current_a"), t.get("soc_pct"),
       [t.get("cells_%d" % (i + 1)) for i in range(len(s.get("cells_mv", [])))],
       [t.get("temps_%d" % (i + 1)) for i in range(len(s.get("temps_dk", [])))], t.get("relay"), t.get("prot")),
       "shown vs JSON: %s" % diff)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"free-port": free_port, "emu": emu, "listen": listen, "mqtt": mqtt, "influx": influx, "page": page}[cmd](*args)
