#!/bin/sh
# make bench: benchmarks that print figures. Generated data is cached in
# $XL_BUILD/bench-data so a second run does not regenerate it.
set -eu
XL_BIN=${XL_BIN:-bin}
XL_BUILD=${XL_BUILD:-build}
PEOPLE=${BENCH_PEOPLE:-480000}
. deploy/coalition-setup.sh

data=$XL_BUILD/bench-data/seed1-$PEOPLE
if [ ! -f "$data/truth.csv" ]; then
    echo "bench: generating a coalition of $PEOPLE children (about 1M agency records) in $data"
    rm -rf "$data"
    mkdir -p "$data"
    "$XL_BUILD/bench/gen_coalition" --seed 1 --people "$PEOPLE" --out "$data" 2>"$data.log" ||
        { cat "$data.log"; exit 1; }
    tail -1 "$data.log"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/xl-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
xl_coalition_setup "$work" "$XL_BIN"

echo "== encode throughput (one core, real agent pipeline, all match keys + CLK + payload)"
args=
for pair in $XL_AGENCIES; do
    agency=${pair%%:*}
    kind=${pair#*:}
    args="$args $work/$agency/agent.conf $data/$kind.csv"
done
# shellcheck disable=SC2086
"$XL_BUILD/bench/encode" $args

if [ -d ../shared/data ]; then
    echo "== ../shared/data present (linkage-quality benchmarks arrive with the matching engine)"
else
    echo "== ../shared/data absent: quality benchmarks on public sets skipped"
fi
