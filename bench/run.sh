#!/bin/sh
# make bench: benchmarks that print figures. Generated data and encoded files
# are cached in $XL_BUILD/bench-data, so a second run does not redo them.
set -eu
XL_BIN=${XL_BIN:-bin}
XL_BUILD=${XL_BUILD:-build}
PEOPLE=${BENCH_PEOPLE:-480000}
LINK_PEOPLE=${BENCH_LINK_PEOPLE:-1050000}
SHARED=${XL_SHARED:-../shared/data}
. deploy/coalition-setup.sh
spec=deploy/examples/linkage.spec

# gen DIR PEOPLE [COVERAGE]: a generated coalition, made once.
gen() {
    if [ ! -f "$1/truth.csv" ]; then
        echo "bench: generating $2 children in $1"
        rm -rf "$1"
        mkdir -p "$1"
        "$XL_BUILD/bench/gen_coalition" --seed 1 --people "$2" ${3:+--coverage "$3"} \
            --out "$1" 2>"$1.log" || { cat "$1.log"; exit 1; }
    fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/xl-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
xl_coalition_setup "$work" "$XL_BIN"

data=$XL_BUILD/bench-data/seed1-$PEOPLE
gen "$data" "$PEOPLE"
echo "== encode throughput (one core, real agent pipeline, all match keys + CLK + payload)"
args=
for pair in $XL_AGENCIES; do
    args="$args $work/${pair%%:*}/agent.conf $data/${pair#*:}.csv"
done
# shellcheck disable=SC2086
"$XL_BUILD/bench/encode" $args

big=$XL_BUILD/bench-data/seed1-$LINK_PEOPLE-4x
gen "$big" "$LINK_PEOPLE" 0.95,0.95,0.95,0.95

echo "== ingest throughput: about 1M records submitted end to end and durably (agent ->"
echo "   CURVE -> linker -> SQLite, one fsync per 1000-record chunk), beside raw CURVE PUSH/PULL"
lw=$work/ingest
xl_coalition_setup "$lw" "$XL_BIN" "ipc://$lw/linker.sock"
"$XL_BIN/crosslink-agent" encode -q -c "$lw/icb/agent.conf" -o "$lw/health.xle" "$big/health.csv" >/dev/null
"$XL_BIN/crosslink-linker" serve -c "$lw/linker/linker.conf" 2>"$lw/linker.log" &
lpid=$!
i=0
while [ ! -S "$lw/linker.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
t0=$(date +%s.%N)
"$XL_BIN/crosslink-agent" submit -q -c "$lw/icb/agent.conf" "$lw/health.xle" >"$lw/submit.out"
t1=$(date +%s.%N)
kill "$lpid"
wait "$lpid" 2>/dev/null || true
n=$(sed -n 's/^dataset .*: \([0-9,][0-9,]*\) records.*/\1/p' "$lw/submit.out" | tr -d ,)
ingest=$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "ingest end to end, durable: %d records in %.2f s  %9.0f records/s\n", n, b - a, n / (b - a) }'
"$XL_BUILD/bench/curve_raw" "ipc://$lw/raw.sock" "$lw/health.xle" 1000 | tee "$lw/raw.out"
raw=$(sed -n 's/.* s  *\([0-9]*\) records\/s.*/\1/p' "$lw/raw.out")
awk -v i="$ingest" -v r="$raw" 'BEGIN { printf "ingest ratio: %.2f of raw CURVE (aim >= 0.5)\n", i / r }'
rm -f "$lw/health.xle"

echo "== audit log: the RFC 9162 Merkle tree over 4M entries, one thread (the linker's start-up check will recompute it)"
"$XL_BUILD/bench/merkle"

echo "== audit log verification: 1M entries of about 300 bytes, a checkpoint every 1000 (crosslink-audit verify)"
"$XL_BUILD/bench/audit"

echo "== front door: memory under unauthenticated floods and idle connections"
sh bench/frontdoor.sh "$work"

echo "== extract: a project of every record of about 1M children (2.1M rows), linker to analyst's files"
sh bench/extract.sh "$work"

echo "== link run on 4 agencies of about 1M records each (exact cascade, fuzzy, clusters)"
fp=$(sha256sum "$spec" | cut -c1-16)
xles=
for pair in $XL_AGENCIES; do
    agency=${pair%%:*}
    kind=${pair#*:}
    xle=$big/$kind-$fp.xle
    if [ ! -f "$xle" ]; then
        "$XL_BIN/crosslink-agent" encode -q -c "$work/$agency/agent.conf" -o "$xle" \
            "$big/$kind.csv" >/dev/null
    fi
    xles="$xles $xle"
done
# shellcheck disable=SC2086
"$XL_BUILD/bench/link" "$spec" $xles

echo "== linkage quality (real agent encoding, real linker matching, against the truth)"
q=$XL_BUILD/bench-data/seed5-60000
gen5() {
    if [ ! -f "$q/truth.csv" ]; then
        rm -rf "$q"
        mkdir -p "$q"
        "$XL_BUILD/bench/gen_coalition" --seed 5 --people 60000 --out "$q" 2>/dev/null
    fi
}
gen5
E=deploy/examples
"$XL_BUILD/bench/quality" "$spec" "$work" generated-coalition all \
    $E/police.map "$q/police.csv" "truth:police:$q/truth.csv" \
    $E/health.map "$q/health.csv" "truth:health:$q/truth.csv" \
    $E/education.map "$q/education.csv" "truth:education:$q/truth.csv" \
    $E/social.map "$q/social.csv" "truth:social:$q/truth.csv"
if [ -d "$SHARED" ]; then
    P=bench/quality
    B=$XL_BUILD/bench/quality
    S=$SHARED
    echo "-- two-file sets (aim: precision >= 0.999, recall >= 0.99)"
    "$B" $P/public.spec "$work" febrl-dsgen-D-10000 cross \
        $P/febrl-11.map "$S/febrl-dsgen/dataset_D_org_10000.csv" div10 \
        $P/febrl-11b.map "$S/febrl-dsgen/dataset_D_dup_10000.csv" div10
    "$B" $P/public.spec "$work" clkhash-dirty-1000-50 cross \
        $P/febrl-11.map "$S/clkhash/dirty_1000_50_1.csv" same \
        $P/febrl-11b.map "$S/clkhash/dirty_1000_50_2.csv" same
    echo "-- within-file sets (reported; reference: the best-known Bloom-filter encoder,"
    echo "   precision 1.000 / recall 0.992 on the standard FEBRL two-file set)"
    for f in 1 2 3; do
        "$B" $P/public.spec "$work" "febrl-dataset$f" all $P/febrl.map "$S/febrl/dataset$f.csv" febrl
    done
    for f in A_10000 C_10000; do
        "$B" $P/public.spec "$work" "febrl-dsgen-$f" all $P/febrl.map "$S/febrl-dsgen/dataset_$f.csv" div10
    done
    "$B" $P/public.spec "$work" splink-fake-1000 all $P/splink.map "$S/splink/fake_1000.csv" col:cluster
else
    echo "-- $SHARED absent: quality on the public test sets skipped (generated data only)"
fi

echo "== frequency attack: the curious hub against what it stores (first names and surnames recovered)"
# Today a CLK is compared only as a whole (the "whole CLK" lines); the per-field
# segments under each hardening setting: flip noise 0, 0.02, 0.05, salted with
# the year of birth or not.
fa=$XL_BUILD/bench-data/seed1-100000
gen "$fa" 100000
specs=
for flip in 0 0.02 0.05; do
    for salt in none yob; do
        s=$work/attack-flip$flip-$salt.spec
        sed -e "s/^flip = .*/flip = $flip/" -e "s/^salt = .*/salt = $salt/" "$spec" >"$s"
        if ! grep -qxF "flip = $flip" "$s" || ! grep -qxF "salt = $salt" "$s"; then
            echo "bench: $spec has no 'flip =' or 'salt =' line to vary"
            exit 1
        fi
        specs="$specs $s"
    done
done
args=
for pair in $XL_AGENCIES; do
    args="$args $work/${pair%%:*}/agent.conf $fa/${pair#*:}.csv"
done
# shellcheck disable=SC2086
"$XL_BUILD/bench/attack" $specs -- $args
