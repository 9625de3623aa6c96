# Extracts for analysts, with real processes: a generated coalition of four
# agencies and a programme's caseload, the linker service, link runs, and
# crosslink-analyst extracts of two projects. Pseudonyms are unrelated between
# projects and stable within one across link runs (one after a resubmission);
# the files match the signed manifest and hold no identifier, token, local_ref
# or ciphertext; every project rule refuses and is audited; a tampered
# manifest, row or dropped row is refused and leaves nothing behind.
. tests/e2e/lib.sh
. deploy/coalition-setup.sh
t_begin
K=$XL_BIN/crosslink-keys
A=$XL_BIN/crosslink-agent
L=$XL_BIN/crosslink-linker
AN=$XL_BIN/crosslink-analyst
RAW=$XL_BUILD/tests/tools/zmq_raw
MITM=$XL_BUILD/tests/tools/extract_mitm
EP="ipc://$T_DIR/linker.sock"
C=$T_DIR/c
MPID=
t_cleanup() {
    stop_linker
    [ -n "$MPID" ] && kill "$MPID" 2>/dev/null
    [ -n "${T_KEEP:-}" ] || rm -rf "$T_DIR"
}
# rows FILE: data rows of a CSV file (without its header)
rows() { echo $(($(wc -l <"$1") - 1)); }
# mfield DIR NAME: a number of the extract's manifest
mfield() { sed -n "s/.*\"$2\":\([0-9][0-9]*\).*/\1/p" "$1/manifest.json"; }
# analyst NAME: a key of role analyst, in the keyring, with its analyst.conf
analyst() {
    mkdir -p "$C/$1/keys" && chmod 700 "$C/$1/keys" &&
        "$K" new analyst "$1" -o "$C/$1/keys" >/dev/null &&
        "$K" keyring add "$C/custodian/keyring" "$C/$1/keys/$1.pub" >/dev/null &&
        cp -p "$C/custodian/analysis.key" "$C/custodian/linker.pub" "$C/custodian/linker-sign.pub" "$C/$1/keys/" &&
        sed -e "s|^endpoint = .*|endpoint = $EP|" -e "s|keys/analyst.key|keys/$1.key|" \
            deploy/examples/analyst.conf >"$C/$1/analyst.conf"
}
kid() { "$K" show "$1" | sed -n 's/^key id: //p'; }

expect_ok "generate a coalition with a programme's caseload" \
    "$XL_BUILD/bench/gen_coalition" --seed 21 --people 3000 --programme 0.05 --quiet --out "$T_DIR/data"
expect_ok "set up keys, agencies and the linker" xl_coalition_setup "$C" "$XL_BIN" "$EP"
expect_ok "csc's second dataset: the programme" xl_programme_setup "$C"
expect_ok "analyst alice" analyst alice
expect_ok "analyst bob (in no project)" analyst bob
cp "$C/custodian/keyring" "$C/linker/keys/keyring"
ALICE=$(kid "$C/alice/keys/alice.pub")
check "alice has a key id" [ ${#ALICE} -eq 16 ]
cat >"$C/linker/keys/projects" <<EOF
[pd]
purpose = Evaluate the programme
legal_basis = Art 6(1)(e)
analysts = $ALICE
datasets = csc/* wmp/youth-justice icb/health lea/school-census
cohort = csc/programme
index_date = support_start
expires = 2099-12-31
[gp]
purpose = GP registration of children known to youth justice
legal_basis = Art 6(1)(e)
analysts = $ALICE
datasets = icb/health wmp/youth-justice
min_evidence = keys
expires = 2099-12-31
[pdc]
purpose = The programme's children only
legal_basis = Art 6(1)(e)
analysts = $ALICE
datasets = csc/programme icb/health
cohort = csc/programme
population = cohort
expires = 2099-12-31
[old]
purpose = An evaluation that ended
legal_basis = Art 6(1)(e)
analysts = $ALICE
datasets = icb/health
expires = 2020-01-31
EOF
start_linker
check "linker listens" [ -S "$T_DIR/linker.sock" ]
check "the linker made its pseudonym key, mode 600" [ "$(mode_of "$C/linker/pseudonym.key")" = 600 ]

for pair in $XL_AGENCIES; do
    expect_ok "${pair%%:*}: submit" "$A" submit -q -c "$C/${pair%%:*}/agent.conf" "$T_DIR/data/${pair#*:}.csv"
done
expect_ok "csc: submit the programme's caseload" "$A" submit -q -c "$C/csc/programme.conf" "$T_DIR/data/programme.csv"

# --- two projects -----------------------------------------------------------
# A link run is owed after the submissions: the analyst is told to wait and
# tries again until the run is done.
expect_ok "extract of pd (waits for the link run)" "$AN" extract -q -c "$C/alice/analyst.conf" pd -o "$T_DIR/pd1" --retry-for 60
expect_ok "extract of gp" "$AN" extract -q -c "$C/alice/analyst.conf" gp -o "$T_DIR/gp1"
for f in people.csv people.dta records.csv dictionary.csv manifest.json manifest.sig; do
    check "pd: $f written" [ -s "$T_DIR/pd1/$f" ]
done
check "pd: no partial directory left" [ -z "$(ls -d "$T_DIR"/pd1.partial-* 2>/dev/null)" ]
n=$(mfield "$T_DIR/pd1" rows)
check "pd: records.csv holds the manifest's $n rows" same "$n" "$(rows "$T_DIR/pd1/records.csv")"
total=0
for ds in children-social-care programme health school-census youth-justice; do
    want=$(sed -n "s/.*\"dataset\":\"$ds\",\"rows\":\([0-9]*\).*/\1/p" "$T_DIR/pd1/manifest.json")
    got=$(awk -F, -v d="$ds" 'NR > 1 && $3 == d' "$T_DIR/pd1/records.csv" | wc -l)
    check "pd: $ds rows match the manifest ($want)" same "$want" "$got"
    total=$((total + got))
done
stored=$("$L" status -c "$C/linker/linker.conf" | sed -n 's/^totals: .* submissions, \([0-9]*\) records.*/\1/p')
check "pd: the extract holds every stored record ($stored)" same "$stored" "$n"
check "pd: and the rows of the datasets add up to it" same "$total" "$n"
people=$(cut -d, -f1 "$T_DIR/pd1/records.csv" | sed 1d | sort -u | wc -l)
check "pd: people.csv has one row per pseudonym ($people)" same "$people" "$(rows "$T_DIR/pd1/people.csv")"
check "pd: the cohort is marked" [ "$(awk -F, 'NR > 1 && $2 == 1' "$T_DIR/pd1/people.csv" | wc -l)" -gt 50 ]
check "pd: rows arrive in no submission order (datasets interleaved)" \
    [ "$(cut -d, -f3 "$T_DIR/pd1/records.csv" | sed 1d | uniq | wc -l)" -gt 100 ]
check "pd: the .dta opens in an independent reader with one row per child" \
    same "$people" "$(readstat "$T_DIR/pd1/people.dta" - 2>/dev/null | sed 1d | wc -l)"
cut -d, -f1 "$T_DIR/pd1/people.csv" | sed 1d | sort >"$T_DIR/pd1.ids"
cut -d, -f1 "$T_DIR/gp1/people.csv" | sed 1d | sort >"$T_DIR/gp1.ids"
check "gp: children extracted" [ "$(wc -l <"$T_DIR/gp1.ids")" -gt 100 ]
check "no pseudonym of pd appears in gp (unrelated per project)" [ -z "$(comm -12 "$T_DIR/pd1.ids" "$T_DIR/gp1.ids")" ]
check "gp: only its two datasets" [ "$(cut -d, -f3 "$T_DIR/gp1/records.csv" | sed 1d | sort -u | tr '\n' ' ')" = "health youth-justice " ]

# --- nothing that identifies -----------------------------------------------------
for pair in $XL_AGENCIES; do
    "$A" refs -c "$C/${pair%%:*}/agent.conf" "$T_DIR/data/${pair#*:}.csv" 2>/dev/null | sed 1d | cut -d, -f2 >>"$T_DIR/refs"
done
{
    # source ids, NHS numbers (as written and as digits), postcodes and full names
    for f in police health education social programme; do
        awk -F, 'NR > 1 && $1 != "" { print $1 }' "$T_DIR/data/$f.csv"
    done
    awk -F, 'NR > 1 && $2 != "" { print $2; gsub(/ /, "", $2); print $2 }' "$T_DIR/data/health.csv"
    awk -F, 'NR > 1 && $6 != "" { print $6 }' "$T_DIR/data/police.csv"
    awk -F, 'NR > 1 && $3 != "" { print $3 " " $4; print $3 "," $4 }' "$T_DIR/data/education.csv"
} | tr -d '\r' | awk 'length($0) >= 6' | sort -u >"$T_DIR/identifiers"
check "local_refs listed for the check" [ "$(wc -l <"$T_DIR/refs")" -gt 1000 ]
check "identifiers listed for the check" [ "$(wc -l <"$T_DIR/identifiers")" -gt 1000 ]
for d in pd1 gp1; do
    check "$d: no local_ref in any file" lacks -a -r -F -f "$T_DIR/refs" "$T_DIR/$d"
    check "$d: no identifier in any file" lacks -a -r -F -f "$T_DIR/identifiers" "$T_DIR/$d"
    # A token, local_ref or ciphertext could only appear as a long hex or
    # base64 run; the pseudonym (first column) is the only long hex there is.
    check "$d: no long hex or base64 beside the pseudonym" \
        lacks -E '[0-9a-fA-F]{16}|[A-Za-z0-9+/]{40}' "$T_DIR/$d/dictionary.csv"
    cut -d, -f2- "$T_DIR/$d/records.csv" >"$T_DIR/$d.rest"
    check "$d: records.csv holds nothing long and hex or base64 after the pseudonym" \
        lacks -E '[0-9a-fA-F]{16}|[A-Za-z0-9+/]{40}' "$T_DIR/$d.rest"
done

# --- the same child, the same pseudonym, after a resubmission and a new run ---------
run1=$(mfield "$T_DIR/pd1" run)
# The same records from a changed file (a row of only delimiters added): an
# unchanged file would be "already submitted" and store nothing.
{ cat "$T_DIR/data/health.csv"; echo ',,,,,,,,,'; } >"$T_DIR/data/health-again.csv"
expect_ok "icb resubmits its dataset (new content: a new submission)" \
    "$A" submit -q -c "$C/icb/agent.conf" "$T_DIR/data/health-again.csv"
expect_ok "extract of pd after the new link run" "$AN" extract -q -c "$C/alice/analyst.conf" pd -o "$T_DIR/pd2" --retry-for 60
run2=$(mfield "$T_DIR/pd2" run)
check "pd: a later link run ($run1, then $run2)" [ "$run2" -gt "$run1" ]
cut -d, -f1 "$T_DIR/pd2/people.csv" | sed 1d | sort >"$T_DIR/pd2.ids"
check "pd: the same pseudonyms after the resubmission" cmp -s "$T_DIR/pd1.ids" "$T_DIR/pd2.ids"
# every child's values from the datasets not resubmitted are the same under its pseudonym
sort "$T_DIR/pd1/people.csv" | cut -d, -f1-12,17- >"$T_DIR/pd1.rows"
sort "$T_DIR/pd2/people.csv" | cut -d, -f1-12,17- >"$T_DIR/pd2.rows"
check "pd: each pseudonym keeps its child's values" cmp -s "$T_DIR/pd1.rows" "$T_DIR/pd2.rows"

# --- population = cohort --------------------------------------------------------
expect_ok "extract of pdc (the cohort only)" "$AN" extract -q -c "$C/alice/analyst.conf" pdc -o "$T_DIR/pdc"
check "pdc: every child is in the cohort" [ "$(awk -F, 'NR > 1 && $2 != 1' "$T_DIR/pdc/people.csv" | wc -l)" -eq 0 ]
check "pdc: children extracted" [ "$(rows "$T_DIR/pdc/people.csv")" -gt 50 ]

# --- refusals, each naming its rule, each audited ----------------------------------------
expect_fail "unknown project refused" "no approved project 'nope'" "$AN" extract -q -c "$C/alice/analyst.conf" nope -o "$T_DIR/x1"
expect_fail "key not listed refused" "is not one of project pd's analysts" "$AN" extract -q -c "$C/bob/analyst.conf" pd -o "$T_DIR/x2"
expect_fail "expired project refused" "project old expired on 2020-01-31" "$AN" extract -q -c "$C/alice/analyst.conf" old -o "$T_DIR/x3"
expect_fail "dataset outside the project refused" "not approved for dataset lea/school-census" \
    "$AN" extract -q -c "$C/alice/analyst.conf" gp --dataset lea/school-census -o "$T_DIR/x4"
out=$("$RAW" "$EP" "$C/custodian/linker.pub" "$C/wmp/keys/wmp-agent.key" extract pd 2>&1)
check "an agent's key is refused: extracts are for analysts ($out)" \
    sh -c 'echo "$1" | grep -q "reply error 4 .*has role agent: extract_request is for analyst keys only"' - "$out"
for rule in unknown_project key_not_listed expired dataset_not_approved; do
    check "refusal audited: $rule" grep -q "\"event\":\"extract.refused\".*\"rule\":\"$rule\"" "$C/linker/audit.jsonl"
done
check "refusal audited: wrong role" grep -q '"role":"agent","event":"extract.refused"' "$C/linker/audit.jsonl"
check "nothing written for a refusal" [ -z "$(ls -d "$T_DIR"/x* 2>/dev/null)" ]
check "every extract audited with its manifest's hash" [ "$(grep '"event":"extract"' "$C/linker/audit.jsonl" | grep -c manifest_sha256)" -ge 4 ]
check "deliveries audited" [ "$(audited extract.delivered)" -ge 4 ]
h=$(sha256sum "$T_DIR/gp1/manifest.json" | cut -d' ' -f1)
check "gp's audit entry names its manifest" grep -q "\"manifest_sha256\":\"$h\"" "$C/linker/audit.jsonl"

# --- an analyst who gave up is not locked out -----------------------------------------
for i in 1 2; do
    out=$("$RAW" "$EP" "$C/custodian/linker.pub" "$C/alice/keys/alice.key" extract gp 2>&1)
    check "abandoned extract $i prepared ($out)" sh -c 'echo "$1" | grep -q "reply extract_ready"' - "$out"
done
expect_ok "the key extracts again: its never-fetched extracts give way" \
    "$AN" extract -q -c "$C/alice/analyst.conf" gp -o "$T_DIR/gp-again"

# --- a hub that tampers -----------------------------------------------------------------
MEP="ipc://$T_DIR/mitm.sock"
sed "s|^endpoint = .*|endpoint = $MEP|" "$C/alice/analyst.conf" >"$C/alice/mitm.conf"
for mode in manifest row drop; do
    "$MITM" "$MEP" "$EP" "$C/custodian/linker.key" "$C/alice/keys/alice.key" "$mode" 2>>"$T_DIR/mitm.log" &
    MPID=$!
    sleep 0.3
    case $mode in
    manifest) pat="manifest does not verify" ;;
    row) pat="payload does not open|SHA-256 differs|not a well-formed row|does not list" ;;
    drop) pat="holds [0-9]+ rows, it says|received [0-9]+ rows|SHA-256 differs" ;;
    esac
    expect_fail "tampered $mode refused" "$pat" "$AN" extract -q -c "$C/alice/mitm.conf" gp -o "$T_DIR/t-$mode" --retry-for 0
    check "tampered $mode: nothing written" [ -z "$(ls -d "$T_DIR/t-$mode"* 2>/dev/null)" ]
    kill "$MPID" 2>/dev/null
    wait "$MPID" 2>/dev/null
    MPID=
done
check "the hub did tamper (3 times)" [ "$(grep -c 'extract_mitm: \(changed\|dropped\)' "$T_DIR/mitm.log")" -eq 3 ]

# --- projects reloaded on SIGHUP, every change audited ------------------------------------
mkdir "$T_DIR/empty"
check "an existing non-empty directory is refused" sh -c '! "$1" extract -q -c "$2" gp -o "$3" 2>/dev/null' - "$AN" "$C/alice/analyst.conf" "$T_DIR/pd1"
expect_ok "an empty directory is used" "$AN" extract -q -c "$C/alice/analyst.conf" gp -o "$T_DIR/empty"
cat >>"$C/linker/keys/projects" <<EOF
[later]
purpose = Added later
legal_basis = Art 6(1)(e)
analysts = $ALICE
datasets = icb/health
expires = 2099-12-31
EOF
kill -HUP "$LPID"
sleep 1
check "reload audited with the project added" grep -q '"event":"projects.reload".*"added":\["later"\]' "$C/linker/audit.jsonl"
expect_ok "the added project extracts" "$AN" extract -q -c "$C/alice/analyst.conf" later -o "$T_DIR/later"
"$L" status -c "$C/linker/linker.conf" >"$T_DIR/status" 2>&1
check "status lists the approved projects" grep -q '^approved projects: 5 in ' "$T_DIR/status"
check "status marks the expired one" grep -q '^  old .*until 2020-01-31 (expired)' "$T_DIR/status"
echo "broken line" >>"$C/linker/keys/projects"
kill -HUP "$LPID"
sleep 1
check "a broken projects file is refused and audited" grep -q '"event":"projects.reload".*"result":"failed"' "$C/linker/audit.jsonl"
expect_ok "the projects in force still serve" "$AN" extract -q -c "$C/alice/analyst.conf" later -o "$T_DIR/later2"
"$L" status -c "$C/linker/linker.conf" >"$T_DIR/status" 2>&1
check "status says a broken projects file does not load" grep -q '^approved projects: the file does not load' "$T_DIR/status"
stop_linker
t_end
