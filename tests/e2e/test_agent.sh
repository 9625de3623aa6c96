# crosslink-agent on generated agency extracts, as an agency would run it:
# validate and encode each extract; nothing identifying leaves in the output.
. tests/e2e/lib.sh
. deploy/coalition-setup.sh
t_begin
A=$XL_BIN/crosslink-agent

expect_ok "generate a coalition" "$XL_BUILD/bench/gen_coalition" --seed 7 --people 1500 --out "$T_DIR/data"
expect_ok "set up keys and agencies" xl_coalition_setup "$T_DIR/c" "$XL_BIN"

for pair in $XL_AGENCIES; do
    agency=${pair%%:*}
    kind=${pair#*:}
    dir=$T_DIR/c/$agency
    csv=$T_DIR/data/$kind.csv
    "$A" validate -c "$dir/agent.conf" --rejects "$dir/rejects.csv" "$csv" >"$dir/validate.out" 2>"$dir/validate.err"
    rc=$?
    check "$agency: validate exits 0 on a realistic extract" [ "$rc" -eq 0 ]
    check "$agency: validate reports rows read" grep -q '^rows ' "$dir/validate.out"
    check "$agency: reject file is owner-only" [ "$(mode_of "$dir/rejects.csv")" = 600 ]
    "$A" encode -c "$dir/agent.conf" -o "$dir/$kind.xle" "$csv" >"$dir/encode.out" 2>"$dir/encode.err"
    rc=$?
    check "$agency: encode exits 0" [ "$rc" -eq 0 ]
    check "$agency: encoded file written" [ -s "$dir/$kind.xle" ]
    check "$agency: no partial file left" [ ! -e "$dir/$kind.xle.partial" ]
    expect_fail "$agency: encode refuses to overwrite" 'exists' "$A" encode -q -c "$dir/agent.conf" -o "$dir/$kind.xle" "$csv"

    # Identifiers of 6 or more characters from the extract (names, postcodes,
    # dates, NHS numbers, as written and lower-cased) must not appear anywhere
    # in what the agent writes or prints.
    awk -F, 'NR > 1 { for (i = 2; i <= 8; i++) { v = $i; gsub(/^[ "]+|[ "]+$/, "", v);
             if (length(v) >= 6) { print v; print tolower(v) } } }' "$csv" | sort -u >"$dir/ids.txt"
    check "$agency: identifiers to look for" [ "$(wc -l <"$dir/ids.txt")" -gt 100 ]
    check "$agency: no identifier in the .xle" lacks -a -F -f "$dir/ids.txt" "$dir/$kind.xle"
    check "$agency: no identifier in the report or errors" lacks -a -F -f "$dir/ids.txt" \
        "$dir/validate.out" "$dir/validate.err" "$dir/encode.out" "$dir/encode.err"
done

# A deliberately broken extract: every row bad in a different way, read with a
# mapping that requires names and a date of birth (the examples require only
# the source id, so that typing errors still feed the fuzzy comparison).
dir=$T_DIR/c/wmp
sed -e 's/^required = .*/required = source_id first_name surname dob/' "$dir/police.map" >"$dir/strict.map"
sed -e 's/^mapping = .*/mapping = strict.map/' "$dir/agent.conf" >"$dir/strict.conf"
cat >"$dir/bad.csv" <<'CSV'
Person ID,Forename,Surname,Date of Birth,Gender,Postcode,Offence Count,Reoffended,First Offence Date
B1,Zebedee,Quartermaine,31/02/2012,Male,B1 1AA,1,Y,
B2,Xanthippe,Featherstonehaugh,12/12/2013,Female,NOTAPOSTCODE,2,N,
B3,,Wolstenholme,01/01/2012,M,CV1 2AB,0,N,
B4,Bartholomew,Cholmondeley,01/01/2012,M,CV1 2AB,lots,N,
CSV
"$A" validate -c "$dir/strict.conf" --rejects "$dir/bad.rejects.csv" "$dir/bad.csv" >"$dir/bad.out" 2>"$dir/bad.err"
rc=$?
check "bad extract: validate exits non-zero over the reject limit" [ "$rc" -ne 0 ]
check "bad extract: impossible date reported by row" grep -q 'dob .*date_invalid .* rows 1$' "$dir/bad.out"
check "bad extract: bad postcode reported, row kept" grep -q '^2,3,B2,postcode,postcode_format,value left out' "$dir/bad.rejects.csv"
check "bad extract: missing first name rejects the row" grep -q '^3,4,B3,first_name,missing,row rejected' "$dir/bad.rejects.csv"
check "bad extract: non-numeric outcome reported" grep -q '^4,5,B4,offence_count,not_integer' "$dir/bad.rejects.csv"
check "bad extract: one-line error names the limit" grep -q 'over the limit of 5.00%' "$dir/bad.err"
check "bad extract: no value in any output" lacks -E 'Zebedee|Quartermaine|Xanthippe|NOTAPOSTCODE|Wolstenholme|Cholmondeley|lots' \
    "$dir/bad.out" "$dir/bad.err" "$dir/bad.rejects.csv"
expect_fail "bad extract: encode writes nothing over the limit" 'no encoded file written' "$A" encode -q -c "$dir/strict.conf" -o "$dir/bad.xle" "$dir/bad.csv"
check "bad extract: no .xle" [ ! -e "$dir/bad.xle" ]
check "bad extract: no partial .xle" [ ! -e "$dir/bad.xle.partial" ]

# Tolerant encoding: with only the source id required, a refused name, date or
# postcode is reported as strictly as ever, and what can be read from it feeds
# the fuzzy comparison. Neither the value nor its salvaged form is printed.
check "the example mapping requires only the source id" grep -q '^required = source_id$' "$dir/police.map"
cp "$dir/police.map" "$dir/tolerant.map"
sed -e 's/^mapping = .*/mapping = tolerant.map/' "$dir/agent.conf" >"$dir/tolerant.conf"
cat >"$dir/salvage.csv" <<'CSV'
Person ID,Forename,Surname,Date of Birth,Gender,Postcode,Offence Count,Reoffended,First Offence Date
T1,Zebede3,Quartermaine,05/13/2012,Male,B1 1AI,1,Y,
T2,Xanthippe,Featherst0nehaugh,2091/12/12,Female,no fixed abode,2,N,
T3,Wilhelmina,Wolstenholme,00/05/2012,F,CV1 2AB,0,N,
T4,Bartholomew,Cholmondeley,01/01/2012,M,CV1 2AB,0,N,
CSV
R=$dir/salvage.rejects.csv
expect_ok "salvage: validate accepts every row" "$A" validate -c "$dir/tolerant.conf" --rejects "$R" "$dir/salvage.csv"
"$A" validate -c "$dir/tolerant.conf" --rejects "$R" "$dir/salvage.csv" >"$dir/salvage.out" 2>"$dir/salvage.err"
check "salvage: name with a digit, same code, fuzzy only" grep -q '^1,2,T1,first_name,name_chars,used for fuzzy matching only,' "$R"
check "salvage: impossible date, same code, fuzzy only" grep -q '^1,2,T1,dob,date_invalid,used for fuzzy matching only,' "$R"
check "salvage: bad postcode, same code, fuzzy only" grep -q '^1,2,T1,postcode,postcode_format,used for fuzzy matching only,' "$R"
check "salvage: date in no format, fuzzy only" grep -q '^2,3,T2,dob,date_format,used for fuzzy matching only,' "$R"
check "salvage: a missing-value word is no problem" lacks -q '^2,3,T2,postcode' "$R"
check "salvage: a 00 day is an invalid date without partial = yes" grep -q '^3,4,T3,dob,date_invalid,used for fuzzy matching only,' "$R"
check "salvage: report counts by code" grep -q 'first_name .*name_chars .* rows 1$' "$dir/salvage.out"
"$A" encode -c "$dir/tolerant.conf" -o "$dir/salvage.xle" "$dir/salvage.csv" >"$dir/salvage-enc.out" 2>"$dir/salvage-enc.err"
check "salvage: encode exits 0" [ $? -eq 0 ]
check "salvage: encoded file written" [ -s "$dir/salvage.xle" ]
check "salvage: no value or salvaged form in any output" lacks -a -i -E \
    'Zebede|Quartermaine|Featherst|nehaugh|05/13/2012|2012-13-05|2091/12/12|2091-12-12|00/05/2012|B1 ?1AI|fixed abode|Wilhelmina|Wolstenholme|Cholmondeley' \
    "$dir/salvage.out" "$dir/salvage.err" "$R" "$dir/salvage-enc.out" "$dir/salvage-enc.err" "$dir/salvage.xle"

printf 'Person ID,Forename,Surname,Date of Birth,Gender,Postcode,Offence Count,Reoffended,First Offence Date\nX1,"unterminated\n' >"$dir/broken.csv"
expect_fail "malformed CSV stops with the file and line" 'broken.csv:2' "$A" validate -q -c "$dir/agent.conf" "$dir/broken.csv"
printf 'Person ID,Given,Surname,Date of Birth\nX1,A,B,01/01/2012\n' >"$dir/cols.csv"
expect_fail "a mapped column missing from the header is named" "not in the header: 'Forename' \\(first_name\\)" "$A" validate -q -c "$dir/agent.conf" "$dir/cols.csv"
expect_fail "missing extract named" 'nofile.csv' "$A" validate -q -c "$dir/agent.conf" "$dir/nofile.csv"
expect_fail "missing config named" 'nope.conf' "$A" validate -c "$dir/nope.conf" "$dir/cols.csv"
chmod 644 "$dir/keys/linkage-e1.secret"
expect_fail "world-readable linkage secret refused" 'chmod 600' "$A" encode -q -c "$dir/agent.conf" -o "$dir/x.xle" "$T_DIR/data/police.csv"
chmod 600 "$dir/keys/linkage-e1.secret"
t_end
