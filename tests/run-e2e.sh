#!/bin/sh
# Runs every end-to-end test script (tests/e2e/test_*.sh) and sums their results.
# Each script prints "NAME: N passed, N failed" last and exits non-zero on failure.
pass=0
fail=0
for t in tests/e2e/test_*.sh; do
    [ -f "$t" ] || continue
    echo "== $t"
    if sh "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t"; fi
done
echo "e2e: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
