#!/bin/sh
# The engine before per-field evidence, measured beside today's in the same
# bench run: its encode and link benchmarks, built from this repository's own
# history, on the same generated CSV files.
#
#   sh bench/baseline.sh encode WORK CSV_DIR   encode throughput (one core)
#   sh bench/baseline.sh link WORK CSV_DIR     the link run of every agency's file
#
# BASELINE is the last commit before specification v2 (one record-level CLK,
# an exact cascade and a blocked Dice pass). Its tree is built once into
# $XL_BUILD/baseline and kept. Without the history (a shallow clone, an
# exported tree) it says so and prints nothing else.
set -eu
BASELINE=a10851419ffdfaba60d34036a49b86a5b05cd3c5
XL_BUILD=${XL_BUILD:-build}
what=$1
work=$2
csv=$3
base=$(pwd)/$XL_BUILD/baseline

if ! git rev-parse -q --verify "$BASELINE^{commit}" >/dev/null 2>&1; then
    echo "baseline: commit $BASELINE is not in this clone's history: the figures before are not measured"
    exit 0
fi
if [ ! -x "$base/src/build/bench/link" ]; then
    rm -rf "$base"
    mkdir -p "$base/src"
    git archive "$BASELINE" | tar -x -C "$base/src"
    make -C "$base/src" -j2 bin/crosslink-agent bin/crosslink-keys build/bench/encode \
        build/bench/link >"$base/build.log" 2>&1 || {
        tail -20 "$base/build.log"
        echo "baseline: building $BASELINE failed" >&2
        exit 1
    }
fi
# The coalition's keys and mappings as that tree made them.
if [ ! -d "$work/baseline/icb" ]; then
    (cd "$base/src" && . deploy/coalition-setup.sh && xl_coalition_setup "$work/baseline" bin) \
        >/dev/null
fi
. deploy/coalition-setup.sh
case $what in
encode)
    args=
    for pair in $XL_AGENCIES; do
        args="$args $work/baseline/${pair%%:*}/agent.conf $csv/${pair#*:}.csv"
    done
    # shellcheck disable=SC2086
    "$base/src/build/bench/encode" $args | sed 's/^/before: /'
    ;;
link)
    xles=
    for pair in $XL_AGENCIES; do
        xle=$csv/${pair#*:}-baseline.xle
        if [ ! -f "$xle" ]; then
            "$base/src/bin/crosslink-agent" encode -q -c "$work/baseline/${pair%%:*}/agent.conf" \
                -o "$xle" "$csv/${pair#*:}.csv" >/dev/null
        fi
        xles="$xles $xle"
    done
    # read once before the clock starts, as bench/run.sh does for the engine now
    # shellcheck disable=SC2086
    cat $xles >/dev/null
    # shellcheck disable=SC2086
    "$base/src/build/bench/link" "$base/src/deploy/examples/linkage.spec" $xles | sed 's/^/before: /'
    ;;
*)
    echo "usage: baseline.sh encode|link WORK CSV_DIR" >&2
    exit 2
    ;;
esac
