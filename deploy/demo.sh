#!/bin/sh
# make demo: the whole service as it exists, end to end, in demo-out/.
# A key custodian sets up a coalition of four agencies, its linker and an
# analyst; the IG lead approves a project; each agency validates, encodes and
# submits a synthetic extract (generated, seeded: the same every run) over
# ZeroMQ with CURVE, and children's services also its support programme's
# caseload; the linker stores, signs receipts, links the records across
# agencies and reports; the analyst takes the project's pseudonymised extract
# and its disclosure-controlled summary; the audit log records it all.
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
project=positive-directions-2026
echo "== generating a synthetic coalition of $PEOPLE children (seed 1), with a support programme's"
echo "   caseload, in demo-out/data"
"$XL_BUILD/bench/gen_coalition" --seed 1 --people "$PEOPLE" --programme 0.05 --out "$out/data" 2>&1 |
    sed -n '1,8p;/^programme:/p'
echo
echo "== key custodian: coalition keys, an agent key and sealed bundle per agency, the linker"
xl_coalition_setup "$out" "$XL_BIN" "$endpoint"
xl_programme_setup "$out"
echo
echo "== key custodian: an analyst key for phi-analyst (public-health intelligence), in the keyring;"
echo "   the analyst gets the analysis key and the linker's public keys"
mkdir -p "$out/analyst/keys"
chmod 700 "$out/analyst/keys"
said=$("$XL_BIN/crosslink-keys" new analyst phi-analyst -o "$out/analyst/keys")
echo "$said" | sed -n 1p
"$XL_BIN/crosslink-keys" keyring add "$out/custodian/keyring" "$out/analyst/keys/phi-analyst.pub" >/dev/null
cp -p "$out/custodian/keyring" "$out/linker/keys/keyring"
cp -p "$out/custodian/analysis.key" "$out/custodian/linker.pub" "$out/custodian/linker-sign.pub" \
    "$out/analyst/keys/"
sed -e "s|^endpoint = .*|endpoint = $endpoint|" -e "s|keys/analyst.key|keys/phi-analyst.key|" \
    deploy/examples/analyst.conf >"$out/analyst/analyst.conf"
echo
echo "== key custodian: an auditor key for the IG lead (ig-lead), in the keyring; the IG lead gets"
echo "   the linker's public keys"
mkdir -p "$out/ig/keys"
chmod 700 "$out/ig" "$out/ig/keys"
"$XL_BIN/crosslink-keys" new auditor ig-lead -o "$out/ig/keys" | sed -n 1p
"$XL_BIN/crosslink-keys" keyring add "$out/custodian/keyring" "$out/ig/keys/ig-lead.pub" >/dev/null
cp -p "$out/custodian/keyring" "$out/linker/keys/keyring"
cp -p "$out/custodian/linker.pub" "$out/custodian/linker-sign.pub" "$out/ig/keys/"
sed -e "s|^endpoint = .*|endpoint = $endpoint|" -e "s|keys/ig.pub|keys/ig-lead.pub|" \
    -e "s|keys/ig.key|keys/ig-lead.key|" deploy/examples/audit.conf >"$out/ig/audit.conf"
"$XL_BIN/crosslink-keys" keyring list "$out/custodian/keyring"
echo
echo "== IG lead: approves project $project for phi-analyst (demo-out/linker/keys/projects)"
said=$("$XL_BIN/crosslink-keys" show "$out/analyst/keys/phi-analyst.pub")
kid=$(echo "$said" | sed -n 's/^key id: //p')
sed "s/^analysts = .*/analysts = $kid/" deploy/examples/projects >"$out/linker/keys/projects"
sed -n "/^\[$project\]/,\$p" "$out/linker/keys/projects" | grep -v '^;' | sed 's/^/  /'
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
echo "== agency csc: validate, encode and submit its second dataset, the programme's caseload"
"$XL_BIN/crosslink-agent" submit -c "$out/csc/programme.conf" \
    --rejects "$out/csc/programme.rejects.csv" "$out/data/programme.csv"
echo
echo "== linker: status"
"$XL_BIN/crosslink-linker" status -c "$out/linker/linker.conf"
echo
echo "== linker: link run across the agencies' five datasets, with the operator's report"
"$XL_BIN/crosslink-linker" link -c "$out/linker/linker.conf" --report
# The run just made records the commits it linked, so the extract is not told
# to wait for one; the service would start its own only after 2 s without requests.
echo
echo "== analyst: extract of project $project (checked against the linker's signed manifest)"
"$XL_BIN/crosslink-analyst" extract -c "$out/analyst/analyst.conf" "$project" -o "$out/analyst/extract"
echo
echo "== analyst: summary with disclosure control, and a report for the board"
echo "   (three of its tables here; all of them in demo-out/analyst/summary.txt and report.html)"
"$XL_BIN/crosslink-analyst" summary "$out/analyst/extract" --html "$out/analyst/report.html" \
    >"$out/analyst/summary.txt"
awk '/^== / { keep = $0 == "== Children" || $0 == "== Outcome rates" || $0 ~ /^== Before and after/ }
     /^Notes:/ { keep = 0 }
     !seen && /^== / { seen = 1 }
     !seen || keep' "$out/analyst/summary.txt"
echo
echo "== IG lead: fetches the live audit log and its signed checkpoints into demo-out/ig/store"
"$XL_BIN/crosslink-audit" fetch -c "$out/ig/audit.conf"
echo
echo "== IG lead: verifies the copy and every agency's receipt with the linker's public key alone"
# shellcheck disable=SC2046
"$XL_BIN/crosslink-audit" verify "$out/ig/store/audit.jsonl" --linker-pub "$out/ig/keys/linker-sign.pub" \
    $(for r in "$out"/*/state/receipts/*; do printf -- '--receipt %s ' "$r"; done)
echo
echo "== IG lead: who extracted what (crosslink-audit show --event extract)"
"$XL_BIN/crosslink-audit" show "$out/ig/store/audit.jsonl" --event extract
kill "$lpid"
wait "$lpid" 2>/dev/null || true
trap - EXIT INT TERM
echo
echo "== IG lead: after the linker's stop, the live log verified whole against the checkpoints the"
echo "   IG lead kept and every receipt; the board report in demo-out/ig/report.html"
# shellcheck disable=SC2046
"$XL_BIN/crosslink-audit" verify "$out/linker/audit.jsonl" --linker-pub "$out/ig/keys/linker-sign.pub" \
    --checkpoint "$out/ig/store/audit.jsonl.checkpoints" \
    $(for r in "$out"/*/state/receipts/*; do printf -- '--receipt %s ' "$r"; done) | grep -E '^(log|checkpoints|receipts|result) '
"$XL_BIN/crosslink-audit" report "$out/linker/audit.jsonl" --html "$out/ig/report.html"
echo "== audit log: $(wc -l <"$out/linker/audit.jsonl") entries in demo-out/linker/audit.jsonl, signed checkpoints"
echo "   beside it; events: $(sed 's/.*"event":"\([a-z._]*\)".*/\1/' "$out/linker/audit.jsonl" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
echo "== done: receipts in demo-out/<agency>/state/receipts, the linker's database in demo-out/linker;"
echo "   the analyst's extract in demo-out/analyst/extract (people.csv, people.dta, records.csv,"
echo "   dictionary.csv, manifest.json), the summary in demo-out/analyst/summary.txt and the"
echo "   board report in demo-out/analyst/report.html; the IG lead's copy of the log in"
echo "   demo-out/ig/store and the IG board report in demo-out/ig/report.html"
