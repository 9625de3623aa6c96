#!/bin/sh
# make demo: the whole service as it exists, end to end, in demo-out/.
# A key custodian sets up a coalition of four agencies and its linker; each
# agency validates, encodes and submits a synthetic extract (generated, seeded:
# the same every run) over ZeroMQ with CURVE; the linker stores, signs receipts,
# links the records across agencies and reports; the audit log records it all.
set -eu
XL_BIN=${XL_BIN:-bin}
XL_BUILD=${XL_BUILD:-build}
PEOPLE=${DEMO_PEOPLE:-20000}
out=demo-out
. deploy/coalition-setup.sh

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
endpoint="ipc://$out/linker.sock"
echo "== generating a synthetic coalition of $PEOPLE children (seed 1) in demo-out/data"
"$XL_BUILD/bench/gen_coalition" --seed 1 --people "$PEOPLE" --out "$out/data" 2>&1 | sed -n '1,7p'
echo
echo "== key custodian: coalition keys, an agent key and sealed bundle per agency, the linker"
xl_coalition_setup "$out" "$XL_BIN" "$endpoint"
"$XL_BIN/crosslink-keys" keyring list "$out/custodian/keyring"
echo
echo "== linker: serve (log in demo-out/linker/linker.log)"
"$XL_BIN/crosslink-linker" serve -c "$out/linker/linker.conf" 2>"$out/linker/linker.log" &
lpid=$!
trap 'kill $lpid 2>/dev/null || true' EXIT INT TERM
i=0
while [ ! -S "$out/linker.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
for pair in $XL_AGENCIES; do
    agency=${pair%%:*}
    kind=${pair#*:}
    echo
    echo "== agency $agency: validate, encode and submit $kind.csv"
    "$XL_BIN/crosslink-agent" submit -c "$out/$agency/agent.conf" \
        --rejects "$out/$agency/$kind.rejects.csv" "$out/data/$kind.csv"
done
echo
echo "== linker: status"
"$XL_BIN/crosslink-linker" status -c "$out/linker/linker.conf"
echo
echo "== linker: link run across the four agencies, with the operator's report"
"$XL_BIN/crosslink-linker" link -c "$out/linker/linker.conf" --report
kill "$lpid"
wait "$lpid" 2>/dev/null || true
trap - EXIT INT TERM
echo
echo "== audit log: $(wc -l <"$out/linker/audit.jsonl") hash-chained entries in demo-out/linker/audit.jsonl;"
echo "   events: $(sed 's/.*"event":"\([a-z._]*\)".*/\1/' "$out/linker/audit.jsonl" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
echo "== done: receipts in demo-out/<agency>/state/receipts, the linker's database in demo-out/linker"
