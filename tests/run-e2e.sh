#!/bin/sh
# Runs every end-to-end test script (tests/e2e/test_*.sh) and sums their results.
# Each script prints "NAME: N passed, N failed" last and exits non-zero on failure,
# or prints "SKIP NAME: reason" and exits 77 when it cannot run here (a test
# that needs root to mount a filesystem): skipped, neither passed nor failed.
pass=0
fail=0
skip=0
for t in tests/e2e/test_*.sh; do
    [ -f "$t" ] || continue
    echo "== $t"
    sh "$t"
    rc=$?
    case $rc in
    0) pass=$((pass + 1)) ;;
    77) skip=$((skip + 1)) ;;
    *) fail=$((fail + 1)); echo "FAILED: $t" ;;
    esac
done
echo "e2e: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
