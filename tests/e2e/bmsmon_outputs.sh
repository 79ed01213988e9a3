# bmsmon's outputs against the real things (docs/bmsmon.md, "Outputs"): a mosquitto broker read
# with mosquitto_sub (state, per-cell topics, Home Assistant discovery, the last will, a broker
# restart), Influx line protocol on a Unix datagram socket and UDP read by Python, and the web
# view read by headless Chromium. Values are held to the emulator's (its control socket).
. tests/e2e/common

PY=/usr/bin/python3
H=tests/e2e/bmsmon_outputs.py
# The broker lives in /usr/sbin, which a user's PATH may lack.
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
for c in "$MOSQUITTO" mosquitto_sub chromium curl; do
	command -v "$c" >/dev/null || { fail "$c missing (tools/deps test installs it)"; exit 0; }
done
wait_for() { i=0; while [ ! -e "$1" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; }
# wait_lines FILE N: until FILE has N lines, up to 20 s (a loaded machine runs the ASan build slowly).
wait_lines() { i=0; while [ "$(wc -l <"$1")" -lt "$2" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done; }
# sub FILE: every retained message of bmsmon's and Home Assistant's topics, until the last cell's
# topic is among them (bmsmon publishes it last), up to 20 s.
sub() {
	i=0
	while [ $i -lt 10 ]; do
		mosquitto_sub -h 127.0.0.1 -p "$MQ" -t 'bmsrig/j0/#' -t 'homeassistant/#' -v -W 2 >"$1" 2>/dev/null
		grep -q '^bmsrig/j0/cell/4 ' "$1" && return
		i=$((i + 1))
	done
}
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

MQ=$($PY $H free-port)
HP=$($PY $H free-port)
UP=$($PY $H free-port)
# The broker: its own config, loopback only, nothing kept across a restart.
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$MQ" >"$TMP/mosquitto.conf"
broker() { "$MOSQUITTO" -c "$TMP/mosquitto.conf" >>"$TMP/mosquitto.log" 2>&1 & BROKER=$!; PIDS="$PIDS $BROKER"; }
broker
"$BIN/bmssim" serve --cells 4 --soc-pct 63 --link "$TMP/j0" --control "$TMP/ctl" -q >"$TMP/sim" 2>&1 &
PIDS="$PIDS $!"
wait_for "$TMP/j0"
wait_for "$TMP/ctl"
$PY $H listen "unix:$TMP/influx.sock" "$TMP/influx" 60 &
PIDS="$PIDS $!"
wait_for "$TMP/influx.sock"
"$BIN/bmsmon" --port "$TMP/j0" --poll-ms 500 --mqtt "127.0.0.1:$MQ" --ha-discovery --http "127.0.0.1:$HP" \
	--influx "unix:$TMP/influx.sock" --duration-s 60 >"$TMP/mon" 2>"$TMP/mon.err" &
MON=$!
PIDS="$PIDS $MON"
wait_lines "$TMP/mon" 3
$PY $H emu "$TMP/ctl" >"$TMP/emu"
# Retained: a subscriber that comes later still gets everything at once.
sub "$TMP/sub1"
$PY $H mqtt "$TMP/sub1" "$TMP/emu" j0 4 2
$PY $H influx "$TMP/influx" "$TMP/emu" j0

# The web view: the JSON, then the page as Chromium filled it in, and a screenshot.
curl -s -o "$TMP/state.json" -w '%{http_code} %{content_type}' "http://127.0.0.1:$HP/api/v1/state" >"$TMP/http_code"
if grep -q '^200 application/json' "$TMP/http_code" && $PY -c 'import json,sys; json.load(open(sys.argv[1]))["cells_mv"]' "$TMP/state.json"; then
	pass "/api/v1/state: 200, application/json, a state with cells"
else
	fail "/api/v1/state: $(cat "$TMP/http_code") $(head -c 200 "$TMP/state.json")"
fi
codes=$(for u in /nope /api/v1/state/x; do curl -s -o /dev/null -w '%{http_code} ' "http://127.0.0.1:$HP$u"; done
        curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$HP/api/v1/state")
[ "$codes" = "404 404 405" ] && pass "unknown paths 404, POST 405" || fail "unknown paths and POST: $codes"
CHROME="chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
	--disable-component-update --disable-sync"
# shellcheck disable=SC2086
timeout 60 $CHROME --user-data-dir="$(mktemp -d "$TMP/chrome.XXXXXX")" --virtual-time-budget=3000 --dump-dom \
	"http://127.0.0.1:$HP/" >"$TMP/dom" 2>"$TMP/chrome.err"
curl -s -o "$TMP/state2.json" "http://127.0.0.1:$HP/api/v1/state"
$PY $H page "$TMP/dom" "$TMP/state2.json"
# shellcheck disable=SC2086
timeout 60 $CHROME --user-data-dir="$(mktemp -d "$TMP/chrome.XXXXXX")" --virtual-time-budget=3000 \
	--window-size=900,900 --screenshot="$TMP/page.png" "http://127.0.0.1:$HP/" >/dev/null 2>&1
if [ "$(head -c 8 "$TMP/page.png" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] &&
   [ "$(wc -c <"$TMP/page.png")" -gt 5000 ]; then
	pass "Chromium's screenshot of the page: a PNG of $(wc -c <"$TMP/page.png") bytes"
	[ -n "${BMSRIG_KEEP_SCREENSHOT:-}" ] && cp "$TMP/page.png" "$BMSRIG_KEEP_SCREENSHOT"
else
	fail "no screenshot: $(head -c 300 "$TMP/chrome.err")"
fi

# The broker restarts with nothing retained: bmsmon reconnects and publishes again, its poll
# loop untouched (its telemetry lines went on meanwhile).
before=$(wc -l <"$TMP/mon")
kill "$BROKER"
wait "$BROKER" 2>/dev/null
sleep 2
mid=$(wc -l <"$TMP/mon")
broker
sub "$TMP/sub2"
$PY $H mqtt "$TMP/sub2" "$TMP/emu" j0 4 2 | sed 's/^\(....: \)/\1after a broker restart: /'
if [ "$mid" -gt "$before" ] && kill -0 "$MON" 2>/dev/null; then
	pass "the poll loop went on while the broker was down ($before -> $mid telemetry lines)"
else
	fail "polling while the broker was down: $before -> $mid lines, bmsmon $(kill -0 "$MON" 2>/dev/null && echo alive || echo gone)"
fi

# The last will: bmsmon killed outright leaves "offline" behind, retained.
kill -9 "$MON"
wait "$MON" 2>/dev/null
sleep 1
st=$(mosquitto_sub -h 127.0.0.1 -p "$MQ" -t 'bmsrig/j0/status' -C 1 -W 2 2>/dev/null)
[ "$st" = offline ] && pass "last will: bmsmon killed, bmsrig/j0/status is offline (retained)" ||
	fail "last will: status \"$st\""

# A clean stop says offline too, without the will; --mqtt-topic moves the prefix. And UDP.
$PY $H listen "udp:$UP" "$TMP/udp" 8 &
LST=$!
PIDS="$PIDS $LST"
sleep 0.3
"$BIN/bmsmon" --port "$TMP/j0" --poll-ms 500 --count 3 --id pack7 --mqtt "127.0.0.1:$MQ" --mqtt-topic home/bat \
	--influx "udp:127.0.0.1:$UP" >/dev/null 2>"$TMP/mon2.err"
rc=$?
st=$(mosquitto_sub -h 127.0.0.1 -p "$MQ" -t 'home/bat/#' -v -W 2 2>/dev/null | sort)
if [ $rc = 0 ] && echo "$st" | grep -q '^home/bat/status offline$' && echo "$st" | grep -q '^home/bat/cell/4 [0-9]'; then
	pass "--mqtt-topic home/bat: cells published there; after --count, status offline"
else
	fail "--mqtt-topic: exit $rc, topics: $(echo "$st" | head -n 3 | tr '\n' ' ') $(cat "$TMP/mon2.err")"
fi
wait "$LST" 2>/dev/null
$PY $H influx "$TMP/udp" "$TMP/emu" pack7 | sed 's/^\(....: \)Influx:/\1Influx over UDP:/'
[ "$(grep -c . "$TMP/udp")" = 3 ] && pass "UDP: one datagram per telemetry line (3)" || fail "UDP: $(grep -c . "$TMP/udp") lines for --count 3"

# A broker that comes up after bmsmon: it keeps polling meanwhile and connects once it is there.
MQ2=$($PY $H free-port)
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$MQ2" >"$TMP/mosquitto2.conf"
"$BIN/bmsmon" --port "$TMP/j0" --poll-ms 500 --duration-s 30 --mqtt "127.0.0.1:$MQ2" >"$TMP/mon4" 2>"$TMP/mon4.err" &
LATE=$!
PIDS="$PIDS $LATE"
wait_lines "$TMP/mon4" 3
i=0
until grep -q "no broker answered\|Connection refused" "$TMP/mon4.err" || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
cp "$TMP/mon4.err" "$TMP/mon4.before"
"$MOSQUITTO" -c "$TMP/mosquitto2.conf" >/dev/null 2>&1 &
PIDS="$PIDS $!"
i=0 got=""
while [ -z "$got" ] && [ $i -lt 10 ]; do
	got=$(mosquitto_sub -h 127.0.0.1 -p "$MQ2" -t 'bmsrig/j0/cell/1' -C 1 -W 2 2>/dev/null)
	i=$((i + 1))
done
if [ -n "$got" ] && grep -q "no broker answered\|Connection refused" "$TMP/mon4.before" &&
   [ "$(grep -c "no broker answered\|Connection refused" "$TMP/mon4.err")" = 1 ] && grep -q 'connected, publishing' "$TMP/mon4.err"; then
	pass "a broker started after bmsmon: said once that none answered, then connected; cell 1 = $got mV"
else
	fail "late broker: \"$got\", stderr before the broker: $(tr '\n' ' ' <"$TMP/mon4.before"), after: $(tr '\n' ' ' <"$TMP/mon4.err")"
fi
kill "$LATE"

# --influx - replaces the telemetry lines on stdout.
"$BIN/bmsmon" --port "$TMP/j0" --count 2 --influx - -q >"$TMP/stdout"
if [ "$(grep -c '^bmsrig,id=j0,proto=jbd ' "$TMP/stdout")" = 2 ] && ! grep -q '^BMSRIG' "$TMP/stdout"; then
	pass "--influx -: two line protocol lines on stdout, no telemetry lines"
else
	fail "--influx -: $(head -c 300 "$TMP/stdout")"
fi

# The page with a discharge current and the relay open (too hot): one poll, then --poll-ms holds
# the state still, so the page and the JSON cannot differ by a poll between them.
"$BIN/bmssim" serve --cells 4 --current-a -5 --temp-c 70 --link "$TMP/hot" -q >"$TMP/sim2" 2>&1 &
PIDS="$PIDS $!"
wait_for "$TMP/hot"
HP2=$($PY $H free-port)
"$BIN/bmsmon" --port "$TMP/hot" --poll-ms 600000 --http "$HP2" --duration-s 60 -q >"$TMP/mon3" 2>&1 &
PIDS="$PIDS $!"
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$HP2/api/v1/state" || [ $i -ge 100 ]; do sleep 0.2; i=$((i + 1)); done
# shellcheck disable=SC2086
timeout 60 $CHROME --user-data-dir="$(mktemp -d "$TMP/chrome.XXXXXX")" --virtual-time-budget=3000 --dump-dom \
	"http://127.0.0.1:$HP2/" >"$TMP/dom2" 2>"$TMP/chrome.err"
curl -s -o "$TMP/state3.json" "http://127.0.0.1:$HP2/api/v1/state"
if grep -q '"current_ma":-5000,.*"relay":0,.*"why_names":\["temp_high"\]' "$TMP/state3.json"; then
	$PY $H page "$TMP/dom2" "$TMP/state3.json" | sed 's/^\(....: \)web page/\1relay open, discharging: web page/'
else
	fail "the hot pack's state: $(head -c 300 "$TMP/state3.json")"
fi

# Bridge mode publishes the battery as one: no cells, the inverter's record as inv_ fields.
for i in 1 2; do
	"$BIN/bmssim" serve --bms "jbd,cells=16,soc_pct=$((40 + 10 * i))" --link "$TMP/b$i" -q >/dev/null 2>&1 &
	PIDS="$PIDS $!"
done
wait_for "$TMP/b1"
wait_for "$TMP/b2"
"$BIN/bmsmon" --port "$TMP/b1" --port "$TMP/b2" --count 3 --influx - -q >"$TMP/bridge" 2>&1
last=$(tail -n 1 "$TMP/bridge")
if echo "$last" | grep -q '^bmsrig,id=bridge,proto=jbd .*soc_pct=55i,.*inv_cvl_mv=[0-9]*i,.*inv_online_packs=2i,inv_pack1_ok=1i,inv_pack2_ok=1i' &&
   ! echo "$last" | grep -q 'cell1_mv'; then
	pass "bridge mode: the aggregated battery (SOC 55 %, two packs online, inv_ fields), id bridge"
else
	fail "bridge mode: $last"
fi

expect_usage_error "--mqtt without a port" "bmsmon: --mqtt: expected HOST:PORT" \
	"$BIN/bmsmon" --port "$TMP/j0" --mqtt localhost
expect_usage_error "--ha-discovery alone" "needs --mqtt HOST:PORT" "$BIN/bmsmon" --port "$TMP/j0" --ha-discovery
expect_usage_error "--influx with an unknown target" "expected -, udp:HOST:PORT or unix:PATH" \
	"$BIN/bmsmon" --port "$TMP/j0" --influx tcp:1.2.3.4:5
expect_usage_error "--http on a name" "bmsmon: --http: expected \[ADDR:\]PORT with a numeric address" \
	"$BIN/bmsmon" --port "$TMP/j0" --http example.org:80
expect_usage_error "--mqtt-topic with a wildcard" "^bmsmon: --mqtt-topic: expected a topic of 1..99 bytes without + or #" \
	"$BIN/bmsmon" --port "$TMP/j0" --mqtt 127.0.0.1:1 --mqtt-topic 'a/#'
expect_usage_error "--pretty with --influx -" "both want stdout" "$BIN/bmsmon" --port "$TMP/j0" --pretty --influx -
