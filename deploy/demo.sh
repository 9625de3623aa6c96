#!/bin/sh
# make demo: the whole service as far as it exists, end to end, in demo-out/.
# A key custodian sets up a coalition of four agencies; each agency validates and
# encodes a synthetic extract (generated, seeded: the same every run).
set -eu
XL_BIN=${XL_BIN:-bin}
XL_BUILD=${XL_BUILD:-build}
PEOPLE=${DEMO_PEOPLE:-20000}
out=demo-out
. deploy/coalition-setup.sh

rm -rf "$out"
mkdir -p "$out"
echo "== generating a synthetic coalition of $PEOPLE children (seed 1) in $out/data"
"$XL_BUILD/bench/gen_coalition" --seed 1 --people "$PEOPLE" --out "$out/data"
echo
echo "== key custodian: coalition keys in $out/custodian, an agent key and bundle per agency"
xl_coalition_setup "$out" "$XL_BIN"
"$XL_BIN/crosslink-keys" keyring list "$out/custodian/keyring"
for pair in $XL_AGENCIES; do
    agency=${pair%%:*}
    kind=${pair#*:}
    echo
    echo "== agency $agency: validate and encode $kind.csv"
    "$XL_BIN/crosslink-agent" encode -c "$out/$agency/agent.conf" \
        --rejects "$out/$agency/$kind.rejects.csv" -o "$out/$agency/$kind.xle" "$out/data/$kind.csv"
done
echo
echo "== done: encoded files in $out/<agency>/*.xle; reject lists beside them"
