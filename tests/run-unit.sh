#!/bin/sh
# Runs the cmocka unit-test binaries given as arguments, one after another,
# showing their output, then prints one summary line:
#
#   unit: N passed, N failed
#
# counting binaries. Exits 1 if any binary failed (a non-zero exit, a crash, or
# a binary that is missing or not executable), 2 when called without binaries.
# Run from the repository root: tests read tests/vectors/ relative to it. Tests
# make their temporary files under $TMPDIR (default /tmp) and remove them.

if [ "$#" -eq 0 ]; then
    echo "usage: sh tests/run-unit.sh build/tests/test_<name> ..." >&2
    exit 2
fi

passed=0
failed=0
failures=

for t in "$@"; do
    echo "== $t"
    if [ ! -f "$t" ] || [ ! -x "$t" ]; then
        echo "$t: missing or not executable" >&2
        status=127
    else
        # The path as given, so "build/tests/test_x" is not looked up in PATH.
        case $t in
        */*) "$t" ;;
        *) "./$t" ;;
        esac
        status=$?
    fi
    if [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        if [ "$status" -gt 128 ]; then
            why="killed by signal $((status - 128))"
        else
            why="exit status $status"
        fi
        failures="$failures
FAIL: $t ($why)"
    fi
done

if [ -n "$failures" ]; then
    printf '%s\n' "$failures" | sed '/^$/d'
fi
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
