# bmsdecode on input that is not a frame: bounded, located errors (docs/bmsdecode.md).
. tests/e2e/common

DEC=$BIN/bmsdecode

# check NAME EXPECTED-RC PATTERN: the last run's exit status and stdout.
check() {
	if [ "$rc" -eq "$2" ] && grep -q -- "$3" "$TMP/out"; then
		pass "$1"
	else
		fail "$1: exit $rc, $(head -c 300 "$TMP/out")"
	fi
}

"$DEC" "DD A5 03 00 FF FD 77" >"$TMP/out"; rc=$?
check "a request decodes" 0 '"kind":"request","cmd":3'

# A 100 KB argument (argv's limit is 128 KB) is quoted as an excerpt, not echoed whole.
"$DEC" "$(head -c 100000 /dev/zero | tr '\0' 'D')" >"$TMP/out"; rc=$?
check "an overlong argument is refused" 1 '"error":"too many bytes for one frame"'
check "its excerpt is 32 characters and the length" 1 '"input":"DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD\.\.\.(100000 bytes)"}$'
[ "$(wc -c <"$TMP/out")" -lt 200 ] && pass "the error object is short" || fail "the error object is $(wc -c <"$TMP/out") bytes"

# A 10 MB line on stdin is refused with its line number, and the next line still decodes.
{ echo "# a comment"; head -c 10000000 /dev/zero | tr '\0' 'A'; echo; echo "DDA50300FFFD77"; } |
	"$DEC" >"$TMP/out"; rc=$?
check "a 10 MB line is refused, located" 1 '"error":"stdin:2: line longer than 8192 bytes","input":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\.\.\.(10000000 bytes)"}'
[ "$(wc -c <"$TMP/out")" -lt 300 ] && pass "its output is short" || fail "its output is $(wc -c <"$TMP/out") bytes"
[ "$(sed -n 2p "$TMP/out")" = '{"proto":"jbd","kind":"request","cmd":3,"rw":"read"}' ] &&
	pass "the line after it still decodes" || fail "the line after it: $(sed -n 2p "$TMP/out" | head -c 200)"

# A NUL byte cuts nothing silently: "DD A5 03 00" alone is no whole frame, but must not be tried.
printf 'DDA50300FFFD77\nDD A5 03 00\000 FF FD 77\n' | "$DEC" >"$TMP/out"; rc=$?
check "a NUL byte is an error, located" 1 '"error":"stdin:2:12: NUL byte in input"'
[ "$(wc -l <"$TMP/out")" -eq 2 ] && pass "one object per line" || fail "$(wc -l <"$TMP/out") objects for 2 lines"
