# The support programme's caseload (gen_coalition --programme): children's
# services validate and encode it as a second dataset with programme.map, and
# adding it leaves the four agency files and their truth rows as they were.
. tests/e2e/lib.sh
. deploy/coalition-setup.sh
t_begin
A=$XL_BIN/crosslink-agent
G=$XL_BUILD/bench/gen_coalition
base=$T_DIR/base
with=$T_DIR/with

# differ A B: both files exist and differ (cmp exits 2 on a missing file,
# which `! cmp` would take as a difference).
differ() {
    cmp -s "$1" "$2"
    [ $? -eq 1 ]
}

# A raised invalid rate so that the agent has something to reject.
expect_ok "generate without the programme" "$G" --quiet --seed 11 --people 4000 --invalid-rate 0.02 --out "$base"
expect_ok "generate with the programme" "$G" --quiet --seed 11 --people 4000 --invalid-rate 0.02 --programme 0.05 --out "$with"
check "no programme.csv without the flag" [ ! -e "$base/programme.csv" ]
check "programme.csv written with the flag" [ -s "$with/programme.csv" ]
for kind in police health education social; do
    check "$kind.csv not empty" [ -s "$base/$kind.csv" ]
    check "$kind.csv identical with and without the programme" cmp -s "$base/$kind.csv" "$with/$kind.csv"
done
grep -v '^programme,' "$with/truth.csv" >"$T_DIR/truth-agencies.csv"
check "truth rows of the four agencies identical" cmp -s "$base/truth.csv" "$T_DIR/truth-agencies.csv"
check "truth.csv without the flag has no programme rows" lacks '^programme,' "$base/truth.csv"
prog_rows=$(($(grep -c '' "$with/programme.csv") - 1))
truth_rows=$(grep -c '^programme,' "$with/truth.csv")
check "programme.csv has cases" [ "$prog_rows" -gt 50 ]
check "a truth row for every case" [ "$truth_rows" -eq "$prog_rows" ]
check "header as a case-management export writes it" \
    grep -q '^Case Ref,First Name,Last Name,DOB,Sex,Postcode,NHS Number,Referral Source,Support Start,Sessions Attended' "$with/programme.csv"

# The programme does not draw from the agencies' streams, and its own streams
# follow the seed.
"$G" --quiet --seed 12 --people 4000 --invalid-rate 0.02 --programme 0.05 --out "$T_DIR/other"
check "another seed gives another caseload" differ "$with/programme.csv" "$T_DIR/other/programme.csv"
"$G" --quiet --seed 11 --people 4000 --invalid-rate 0.02 --programme 0.05 --out "$T_DIR/again"
check "the same seed gives the same caseload" cmp -s "$with/programme.csv" "$T_DIR/again/programme.csv"
"$G" --quiet --seed 11 --people 4000 --invalid-rate 0.02 --out "$T_DIR/again"
check "regenerating without the flag removes the old programme.csv" [ ! -e "$T_DIR/again/programme.csv" ]
check "... and its truth rows" cmp -s "$base/truth.csv" "$T_DIR/again/truth.csv"
"$G" --quiet --seed 1 --people 10 --programme 1.5 --out "$T_DIR/bad" 2>"$T_DIR/bad.err"
rc=$?
check "a share above 1 is refused" [ "$rc" -eq 2 ]
check "... naming the option" grep -q -e '--programme needs a valid value' "$T_DIR/bad.err"
check "... and nothing written" [ ! -e "$T_DIR/bad" ]

expect_ok "set up keys and agencies" xl_coalition_setup "$T_DIR/c" "$XL_BIN"
expect_ok "set up csc's programme dataset" xl_programme_setup "$T_DIR/c"
dir=$T_DIR/c/csc
check "programme.conf names programme.map" grep -q '^mapping = programme.map$' "$dir/programme.conf"
check "csc's agent.conf still names social.map" grep -q '^mapping = social.map$' "$dir/agent.conf"
check "programme.conf is csc's" grep -q '^agency = csc$' "$dir/programme.conf"

"$A" validate -c "$dir/programme.conf" --rejects "$dir/programme.rejects.csv" "$with/programme.csv" \
    >"$dir/validate.out" 2>"$dir/validate.err"
rc=$?
check "validate exits 0" [ "$rc" -eq 0 ]
check "validated as csc's programme dataset" grep -q '^dataset *programme (agency csc' "$dir/validate.out"
read_n=$(sed -n 's/^rows *\([0-9][0-9]*\) read.*/\1/p' "$dir/validate.out")
acc=$(sed -n 's/^accepted *\([0-9][0-9]*\) .*/\1/p' "$dir/validate.out")
rej=$(sed -n 's/^rejected *\([0-9][0-9]*\) .*/\1/p' "$dir/validate.out")
check "every case read" same "$read_n" "$prog_rows"
check "some cases accepted" [ "${acc:-0}" -gt 0 ]
check "accepted and rejected add up to the rows read" [ $((${acc:-0} + ${rej:-0})) -eq "${read_n:-0}" ]
check "most cases accepted" [ "${acc:-0}" -ge $((prog_rows * 97 / 100)) ]
# The mapping requires only the case id: an invalid date of birth is reported
# and kept for the fuzzy comparison only, never a reason to drop a case.
check "every case accepted" same "${acc:-0}" "$prog_rows"
check "invalid dates of birth reported, kept for fuzzy matching only" grep -q '^[0-9]*,[0-9]*,[^,]*,dob,date_invalid,used for fuzzy matching only' "$dir/programme.rejects.csv"
check "no outcome value refused" lacks -E ',(support_start|referral_source|sessions),' "$dir/programme.rejects.csv"

"$A" encode -c "$dir/programme.conf" -o "$dir/programme.xle" "$with/programme.csv" >"$dir/encode.out" 2>"$dir/encode.err"
rc=$?
check "encode exits 0" [ "$rc" -eq 0 ]
check "encoded file written" [ -s "$dir/programme.xle" ]
awk -F, 'NR > 1 { for (i = 2; i <= 7; i++) { v = $i; gsub(/^[ "]+|[ "]+$/, "", v);
         if (length(v) >= 6) { print v; print tolower(v) } } }' "$with/programme.csv" | sort -u >"$dir/ids.txt"
check "identifiers to look for" [ "$(wc -l <"$dir/ids.txt")" -gt 100 ]
check "no identifier in the .xle or the reports" lacks -a -F -f "$dir/ids.txt" "$dir/programme.xle" \
    "$dir/validate.out" "$dir/validate.err" "$dir/encode.out" "$dir/encode.err"
t_end
