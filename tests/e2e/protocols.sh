# The protocol variants, each served by bmssim and read by bmsmon: every report within
# one unit of the protocol's resolution of the model's truth. These are the commands of docs/protocol-variants.md.
. tests/e2e/common

# variant NAME DURATION_S BMSSIM_ARGS -- BMSMON_ARGS
variant() {
	name=$1 secs=$2
	shift 2
	sim_args=""
	while [ "$1" != "--" ]; do sim_args="$sim_args $1"; shift; done
	shift
	# shellcheck disable=SC2086
	"$BIN/bmssim" serve $sim_args --current-a -12 --duration-s "$secs" \
		--dut "$BIN/bmsmon --port {port} -q $*" >"$TMP/$name" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^verdict: AGREE' "$TMP/$name" && ! grep -q DISAGREES "$TMP/$name"; then
		pass "$name: $(grep '^verdict' "$TMP/$name" | cut -c10-70)"
	else
		fail "$name: exit $rc: $(grep -E 'DISAGREES|verdict|first problem|bmssim:|bmsmon:' "$TMP/$name" | tail -n 4 | tr '\n' ' ')"
	fi
}

variant jbd 4 --bms jbd -- --proto jbd --poll-ms 500
variant jbd-ble 9 --bms jbd-ble -- --proto jbd-ble
variant daly 6 --bms daly --cells 16 -- --proto daly
variant daly-rs485 6 --bms "daly,address=1,link=$TMP/bus,seed=1" --bms "daly,address=2,link=$TMP/bus,seed=2" \
	--dut-unit 1 -- --proto daly --address 2
variant daly-ble 10 --bms daly-ble -- --proto daly-ble
variant jk 4 --bms jk --cells 14 -- --proto jk --poll-ms 500
variant jk-ble 10 --bms jk-ble --cells 16 -- --proto jk-ble
# JK04 records carry cells but no current, SOC or temperatures: judged on the cells.
variant jk-ble-jk04 10 --bms jk-ble --cells 16 --quirk layout=JK04 -- --proto jk-ble
# BYD PRO 2.5: two packs on one RS485 bus, the monitor reading the second at its address. The
# record always has 8 temperature slots, so the packs have 8 probes for the counts to agree.
variant byd-rs485 5 --bms "byd,address=1,link=$TMP/bydbus,seed=1" --bms "byd,address=2,link=$TMP/bydbus,seed=2" \
	--cells 16 --ntc 8 --dut-unit 1 -- --proto byd --address 2
