#!/bin/sh
# make bench, extracts: the whole extract of a project over the generated
# coalition of about 1M children (gen_coalition --seed 1 --people 1000000 at
# its default coverage: about 2.1M records in the four agencies' datasets),
# timed from the analyst's request to the last file written: the linker's
# preparation (records read, pseudonyms, the shuffle, pages, the signed
# manifest), the transfer, the checks and the payloads opened, and the
# person-level files. Beside it, the peak resident memory of the analyst and of
# the linker during the extract. The datasets are encoded, imported and linked
# first (about a minute and a half); the generated CSV files are cached in
# $XL_BUILD/bench-data.
#
#   sh bench/extract.sh WORKDIR   (with XL_BIN, XL_BUILD as make bench sets them)
set -eu
XL_BIN=${XL_BIN:-bin}
XL_BUILD=${XL_BUILD:-build}
PEOPLE=${BENCH_EXTRACT_PEOPLE:-1000000}
. deploy/coalition-setup.sh
ew=$1/extract
data=$XL_BUILD/bench-data/seed1-$PEOPLE
if [ ! -f "$data/truth.csv" ]; then
    echo "bench: generating $PEOPLE children in $data"
    rm -rf "$data"
    mkdir -p "$data"
    "$XL_BUILD/bench/gen_coalition" --seed 1 --people "$PEOPLE" --out "$data" 2>"$data.log" ||
        { cat "$data.log"; exit 1; }
fi
xl_coalition_setup "$ew" "$XL_BIN" "ipc://$ew/linker.sock"
mkdir -p "$ew/analyst/keys"
chmod 700 "$ew/analyst/keys"
"$XL_BIN/crosslink-keys" new analyst bench-analyst -o "$ew/analyst/keys" >/dev/null
"$XL_BIN/crosslink-keys" keyring add "$ew/custodian/keyring" "$ew/analyst/keys/bench-analyst.pub" >/dev/null
cp "$ew/custodian/keyring" "$ew/linker/keys/keyring"
cp -p "$ew/custodian/analysis.key" "$ew/custodian/linker.pub" "$ew/custodian/linker-sign.pub" "$ew/analyst/keys/"
sed -e "s|^endpoint = .*|endpoint = ipc://$ew/linker.sock|" -e "s|keys/analyst.key|keys/bench-analyst.key|" \
    deploy/examples/analyst.conf >"$ew/analyst/analyst.conf"
kid=$("$XL_BIN/crosslink-keys" show "$ew/analyst/keys/bench-analyst.pub" | sed -n 's/^key id: //p')
cat >"$ew/linker/keys/projects" <<EOF
[bench]
purpose = Benchmark: every record of the coalition
legal_basis = Art 6(1)(e)
analysts = $kid
datasets = wmp/* icb/* lea/* csc/*
expires = 2099-12-31
EOF

# Every dataset encoded and stored (import: the same checks as a submission,
# without the network), then a link run.
for pair in $XL_AGENCIES; do
    agency=${pair%%:*}
    kind=${pair#*:}
    "$XL_BIN/crosslink-agent" encode -q -c "$ew/$agency/agent.conf" -o "$ew/$kind.xle" \
        "$data/$kind.csv" >/dev/null
    "$XL_BIN/crosslink-linker" import -c "$ew/linker/linker.conf" "$ew/$kind.xle" >/dev/null
    rm -f "$ew/$kind.xle"
done
"$XL_BIN/crosslink-linker" link -c "$ew/linker/linker.conf" >"$ew/link.out"

"$XL_BIN/crosslink-linker" serve -c "$ew/linker/linker.conf" 2>"$ew/linker.log" &
lpid=$!
i=0
while [ ! -S "$ew/linker.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$lpid/status"; }
# The linker's peak so far is its start-up; reset it so the figure is the extract's.
echo 5 >"/proc/$lpid/clear_refs" 2>/dev/null || true
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%M' -o "$ew/analyst.rss" "$XL_BIN/crosslink-analyst" extract \
        -c "$ew/analyst/analyst.conf" bench -o "$ew/out" >"$ew/extract.out" 2>"$ew/extract.log"
else
    "$XL_BIN/crosslink-analyst" extract -c "$ew/analyst/analyst.conf" bench -o "$ew/out" \
        >"$ew/extract.out" 2>"$ew/extract.log"
fi
lhwm=$(kib VmHWM)
kill "$lpid"
wait "$lpid" 2>/dev/null || true

# extract of project bench verified: R records of C children from D datasets (link run 1) in T s, ...
sum=$(sed -n 's/.*verified: \([0-9]*\) records of \([0-9]*\) children from \([0-9]*\) datasets .* in \([0-9.]*\) s, .*/\1 \2 \3 \4/p' "$ew/extract.out")
[ -n "$sum" ] || { cat "$ew/extract.log" "$ew/extract.out"; exit 1; }
# shellcheck disable=SC2086
set -- $sum
prep=$(sed -n 's/.*extract prepared in \([0-9.]*\) s.*/\1/p' "$ew/extract.log")
fetch=$(sed -n 's/.*rows received, opened and checked against the manifest in \([0-9.]*\) s.*/\1/p' "$ew/extract.log")
people=$(sed -n 's/.*people.dta and dictionary.csv written in \([0-9.]*\) s.*/\1/p' "$ew/extract.log")
pages=$(sed -n 's/.*extract prepared in .* rows in \([0-9]*\) pages.*/\1/p' "$ew/extract.log")
awk -v n="$1" -v c="$2" -v d="$3" -v t="$4" 'BEGIN {
    printf "extract: %d rows (%d children, %d datasets) in %.1f s  %.0f rows/s (aim: whole extract under 15 s)\n",
        n, c, d, t, n / t }'
echo "extract split: linker preparation $prep s, pages received, checked and opened $fetch s, people.csv + people.dta + dictionary.csv $people s"
amem="?"
[ -s "$ew/analyst.rss" ] && amem=$(awk '{ printf "%.0f", $1 / 1024 }' "$ew/analyst.rss")
awk -v a="$amem" -v l="$lhwm" -v p="$pages" 'BEGIN {
    printf "extract peak memory: analyst %s MiB, linker %.0f MiB (peak RSS during the extract; aim: bounded by a page, a bucket and buffers, not the %d pages of rows, at most 1 MiB each)\n",
        a, l / 1024, p }'
rm -rf "$ew"
