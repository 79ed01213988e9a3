# Shared by the end-to-end scripts: PASS:/FAIL: lines that tests/run-tests counts.
# BIN: the programs under test (the sanitizer build by default).
BIN=${BMSRIG_BIN:-build/asan/bin}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bmsrig-e2e.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }

# expect_usage_error NAME PATTERN CMD...: exit 2 and exactly one stderr line matching PATTERN.
expect_usage_error() {
	name=$1 pattern=$2
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	lines=$(wc -l <"$TMP/err")
	if [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && grep -q -- "$pattern" "$TMP/err"; then
		pass "$name: exit 2, \"$(cat "$TMP/err")\""
	else
		fail "$name: exit $rc, $lines stderr lines: $(head -c 300 "$TMP/err")"
	fi
}
