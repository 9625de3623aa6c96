# crosslink-analyst summary on a hand-made extract directory: the text under
# disclosure control, then the HTML report rendered by a real headless browser.
#
# The fixture plants cells: 60 cohort children, 140 comparison. Cohort GP
# registration is 13 of 48 (must print as 15 of 50, never 13 or 48); cohort
# exclusions above 0 is 7 (must be suppressed); cohort care entry before the
# programme start is 4 and after it 11 (4 suppressed, and 11 suppressed too
# because the 15 with both dates would give the 4 back); the cohort's
# evidence bands are 42, 12, 6 and 0 (6 and the zero suppressed).
. tests/e2e/lib.sh
t_begin
A=$XL_BIN/crosslink-analyst
D=$T_DIR/extract
mkdir -p "$D"

cat >"$D/manifest.json" <<'EOF'
{"project": "vanguard <2025>", "purpose": "Evaluate the trauma-informed vanguard for children",
 "legal_basis": "UK GDPR Art. 6(1)(e) and 9(2)(h)", "run": 7, "created": "2025-11-02T10:00:00Z",
 "cohort": "yot/caseload", "index_date": "programme_start",
 "sdc": {"min_count": 10, "round_to": 5}, "rows": 200,
 "datasets": [{"agency": "yot", "dataset": "caseload", "rows": 120},
              {"agency": "nhs", "dataset": "gp", "rows": 160},
              {"agency": "la", "dataset": "schools", "rows": 171},
              {"agency": "cs", "dataset": "care", "rows": 100}]}
EOF

cat >"$D/dictionary.csv" <<'EOF'
file,column,type,role,source,meaning,values
people.csv,pseudonym,text,pseudonym,,the child's project pseudonym,64 hex digits
people.csv,in_cohort,bool,cohort,yot/caseload,has a record in the cohort dataset,1 or 0
people.csv,evidence,text,evidence,,weakest link evidence,identifier|keys|probable|single
people.csv,n_datasets,int,datasets,,datasets holding the child,1 to 4
people.csv,records_yot,int,records,yot/caseload,records in yot/caseload,0 = not known
people.csv,records_gp,int,records,nhs/gp,records in nhs/gp,0 = not known
people.csv,records_school,int,records,la/schools,records in la/schools,0 = not known
people.csv,records_care,int,records,cs/care,records in cs/care,0 = not known
people.csv,programme_start,date,index_date,yot/caseload,programme start,YYYY-MM-DD
people.csv,gp_registered,bool,outcome,nhs/gp,registered with a GP,1 or 0
people.csv,exclusions,int,outcome,la/schools,fixed-term exclusions,count
people.csv,attendance,decimal,outcome,la/schools,attendance %,0 to 100
people.csv,ethnicity,text,outcome,la/schools,ethnicity as recorded,text
people.csv,care_entry,date,outcome,cs/care,date the child entered care,YYYY-MM-DD
records.csv,pseudonym,text,pseudonym,,the child's project pseudonym,64 hex digits
EOF

awk 'BEGIN {
    OFS = ","
    print "pseudonym,in_cohort,evidence,n_datasets,records_yot,records_gp,records_school,records_care,programme_start,gp_registered,exclusions,attendance,ethnicity,care_entry"
    split("White British|Asian|Black|\"Any <other> & \"\"mixed\"\"\"", eth, "|")
    for (i = 0; i < 200; i++) {
        c = i < 60
        yot = c ? 1 + i % 3 : 0
        start = c ? sprintf("2023-02-%02d", 1 + i % 28) : ""
        gp = (i % 5 != 0) ? 1 + i % 2 : 0
        reg = ""
        if (gp) { if (c) reg = (kg[c]++ < 13) ? 1 : 0; else reg = (kg[c]++ < 90) ? 1 : 0 }
        sch = (i % 5 != 3) ? 2 : 0
        exc = ""; att = ""; et = ""
        if (sch) {
            k = ks[c]++
            if (c) exc = (k < 7) ? 1 + k % 3 : 0; else exc = (k < 30) ? 1 : 0
            att = sprintf("%d.5", 80 + i % 20)
            et = (i == 100 || i == 101) ? "Rare value" : eth[1 + k % 4]
        }
        care = (i % 2 == 0) ? 1 : 0
        ce = ""
        if (care) {
            k = kc[c]++
            if (c) ce = (k < 4) ? "2022-06-15" : (k < 15) ? "2023-09-01" : ""
            else ce = (k < 25) ? "2022-11-30" : ""
        }
        if (c) ev = (i < 42) ? "identifier" : (i < 54) ? "keys" : "probable"
        else { m = i % 10; ev = (m < 6) ? "identifier" : (m < 8) ? "keys" : (m < 9) ? "probable" : "single" }
        nd = (yot > 0) + (gp > 0) + (sch > 0) + (care > 0)
        printf "%064x,%d,%s,%d,%d,%d,%d,%d,%s,%s,%s,%s,%s,%s\n", i * 7919 + 1, c, ev, nd, yot, gp, sch, care, start, reg, exc, att, et, ce
    }
}' >"$D/people.csv"

# The cohort line under a row label: "    cohort      15 of 50: ...".
cohort_of() { grep -A2 -F -- "$1" "$T_DIR/out.txt" | grep -m1 '^    cohort'; }

expect_ok "summary runs" "$A" summary "$D"
"$A" summary "$D" >"$T_DIR/out.txt" 2>"$T_DIR/err.txt"
check "group sizes rounded and shown" grep -Eq '^    cohort +60$' "$T_DIR/out.txt"
check "comparison group shown" grep -Eq '^    comparison +140$' "$T_DIR/out.txt"
check "planted 13 of 48 printed as 15 of 50" sh -c "grep -A2 -F 'gp_registered (nhs/gp): yes' '$T_DIR/out.txt' | grep -Eq '^    cohort +15 of 50: 27% \\(17% to 41%\\)$'"
check "the unrounded 13 appears nowhere" lacks -Ew '13|48' "$T_DIR/out.txt"
c=$(cohort_of 'exclusions (la/schools): above 0')
check "planted 7 suppressed as fewer than 10" [ "$(echo "$c" | sed 's/^ *cohort *//')" = "suppressed: fewer than 10" ]
check "the unrounded 7 appears nowhere as a count" lacks -Ew '7( of|$)' "$T_DIR/out.txt"
ba=$(sed -n '/^== Before and after/,/^==/p' "$T_DIR/out.txt")
check "before the index date (4) suppressed" sh -c "printf '%s\n' \"\$1\" | grep -Eq '^    before +suppressed: fewer than 10$'" _ "$ba"
check "on or after (11) suppressed as revealing the 4" sh -c "printf '%s\n' \"\$1\" | grep -Eq '^    on or after +suppressed: would reveal a suppressed cell$'" _ "$ba"
check "with both dates (15) shown" sh -c "printf '%s\n' \"\$1\" | grep -Eq '^    with both dates +15$'" _ "$ba"
ev=$(sed -n '/^== Link evidence/,/^==/p' "$T_DIR/out.txt")
check "a band of 6 suppressed" sh -c "printf '%s\n' \"\$1\" | grep -A1 '^  probable' | grep -Eq 'cohort +suppressed: fewer than 10'" _ "$ev"
check "a zero band suppressed" sh -c "printf '%s\n' \"\$1\" | grep -A1 '^  single' | grep -Eq 'cohort +suppressed: fewer than 10'" _ "$ev"
check "a band of 42 rounded to 40" sh -c "printf '%s\n' \"\$1\" | grep -A1 '^  identifier' | grep -Eq 'cohort +40$'" _ "$ev"
check "mean shown with its rounded count" sh -c "grep -A2 -F 'attendance (la/schools)' '$T_DIR/out.txt' | grep -Eq '^    cohort +50 with a value, mean [0-9.]+$'"
check "a rare text value is not a row of its own" lacks -F 'Rare value' "$T_DIR/out.txt"
check "rare values counted as other values" grep -q '^  other values$' "$T_DIR/out.txt"
# Every count in an entry line is a multiple of 5: drop percentages, the
# threshold in the reason, and means, then look at what numbers are left.
nums=$(grep -E '^    ' "$T_DIR/out.txt" | sed -E 's/[0-9]+%//g; s/fewer than [0-9]+//; s/mean [0-9.]+//' | grep -oE '[0-9]+' | sort -u | tr '\n' ' ')
bad=$(for n in $nums; do [ $((n % 5)) -eq 0 ] || printf '%s ' "$n"; done)
check "every printed count is a multiple of 5 (found: $nums)" [ -z "$bad" -a -n "$nums" ]
notes=$(sed -n '/^Notes: disclosure control/,$p' "$T_DIR/out.txt" | tr -s ' \n' '  ')
check "footnote states the zero rule" sh -c "printf '%s' \"\$1\" | grep -q 'A zero is suppressed like any count below 10'" _ "$notes"
check "footnote states the rounding" sh -c "printf '%s' \"\$1\" | grep -q 'rounded to the nearest 5'" _ "$notes"

# The project's settings turn the rules off: the planted counts come back.
sed 's/"min_count": 10, "round_to": 5/"min_count": 0, "round_to": 1/' "$D/manifest.json" >"$T_DIR/m.json"
mkdir -p "$T_DIR/off" && cp "$D"/*.csv "$T_DIR/off/" && mv "$T_DIR/m.json" "$T_DIR/off/manifest.json"
"$A" summary "$T_DIR/off" >"$T_DIR/off.txt" 2>&1
check "with the rules off the exact 13 of 48 is printed" sh -c "grep -A2 -F 'gp_registered (nhs/gp): yes' '$T_DIR/off.txt' | grep -Eq '^    cohort +13 of 48'"

# A second extract, for counts that come out equal without being the same
# set by definition, and for zeros fixed by the extract's design. 80 cohort
# children (prog/cohort), 120 comparison. 45 cohort children are known to
# pol/youth-justice, and every one of them has offences above 0 and a
# first-offence date. "None known without an offence" is the zero that
# discloses: the 45 with offences, with a date and with both dates are
# suppressed (and printed nowhere), while the 45 known to the dataset, a
# different definition, stay shown, and shown alike wherever that definition
# is printed (the overlap diagonal, and "prog/cohort and pol/youth-justice",
# the same children by design). The comparison group has no child in
# prog/cohort by design: its count there, its sessions and its "3 datasets"
# are zero by design, printed as such, and do not suppress its "2 datasets" (48).
S=$T_DIR/same
mkdir -p "$S"
cat >"$S/manifest.json" <<'EOF2'
{"project": "same-children", "run": 1, "cohort": "prog/cohort", "index_date": "start",
 "sdc": {"min_count": 10, "round_to": 5},
 "datasets": [{"agency": "prog", "dataset": "cohort"}, {"agency": "pol", "dataset": "youth-justice"},
              {"agency": "nhs", "dataset": "gp"}]}
EOF2
cat >"$S/dictionary.csv" <<'EOF2'
file,column,type,role,source,meaning,values
people.csv,pseudonym,text,pseudonym,,pseudonym,hex
people.csv,in_cohort,bool,cohort,prog/cohort,in the cohort dataset,1 or 0
people.csv,evidence,text,evidence,,weakest link evidence,bands
people.csv,n_datasets,int,datasets,,datasets holding the child,1 to 3
people.csv,records_prog,int,records,prog/cohort,records,0 = not known
people.csv,records_yj,int,records,pol/youth-justice,records,0 = not known
people.csv,records_gp,int,records,nhs/gp,records,0 = not known
people.csv,start,date,index_date,prog/cohort,programme start,YYYY-MM-DD
people.csv,sessions,int,outcome,prog/cohort,sessions attended,count
people.csv,offences,int,outcome,pol/youth-justice,offences,count
people.csv,first_offence,date,outcome,pol/youth-justice,first offence,YYYY-MM-DD
people.csv,gp_registered,bool,outcome,nhs/gp,registered with a GP,1 or 0
EOF2
awk 'BEGIN {
    print "pseudonym,in_cohort,evidence,n_datasets,records_prog,records_yj,records_gp,start,sessions,offences,first_offence,gp_registered"
    for (i = 0; i < 200; i++) {
        c = i < 80
        yj = c ? i < 45 : i < 140
        gp = (i % 5 != 0) || (!c && !yj)
        ev = (i % 10 == 0) ? "identifier" : "keys"
        start = c ? "2023-03-01" : ""
        ses = c ? i % 4 : ""
        off = yj ? 1 + i % 3 : ""
        fo = !yj ? "" : !c ? "2022-01-01" : (i < 30) ? "2022-05-01" : "2023-06-01"
        reg = gp ? (i % 7 != 0) : ""
        printf "%032x,%d,%s,%d,%d,%d,%d,%s,%s,%s,%s,%s\n", i + 1, c, ev, c + yj + gp, c, yj, gp, start, ses, off, fo, reg
    }
}' >"$S/people.csv"
"$A" summary "$S" >"$T_DIR/same.txt" 2>&1
# The entry of group $2 under the row whose label starts with $1, in table $3.
entry() { sed -n "/^== $3/,/^==/p" "$T_DIR/same.txt" | grep -A3 -F -- "  $1" | grep -m1 "^    $2 " | sed "s/^    $2 *//"; }
yj=$(entry 'pol/youth-justice' cohort 'Children known to each dataset')
check "cohort known to youth justice shown ($yj)" [ "$yj" = 45 ]
w=$(entry 'pol/youth-justice' comparison 'Children known to each dataset')
check "comparison known to youth justice shown ($w)" [ "$w" = 60 ]
for row in 'offences (pol/youth-justice): above 0' 'first_offence (pol/youth-justice): has a date'; do
    for g in cohort comparison; do
        v=$(entry "$row" $g 'Outcome rates')
        check "every child known has it: '$row' suppressed for the $g ($v)" [ "$v" = "suppressed: would reveal a suppressed cell" ]
    done
done
v=$(sed -n '/^== Before and after/,/^==/p' "$T_DIR/same.txt" | grep -m1 '^    with both dates' | sed 's/^    with both dates *//')
check "with both dates, 45 again, suppressed too ($v)" [ "$v" = "suppressed: would reveal a suppressed cell" ]
rates=$(sed -n '/^== Outcome rates/,/^==/p' "$T_DIR/same.txt")
check "no rate says every child known has it" sh -c "printf '%s\n' \"\$1\" | grep -Eq '(45 of 45|60 of 60)' && exit 1 || exit 0" _ "$rates"
m=$(sed -n '/^== Children in both of two datasets: cohort/,/^==/p' "$T_DIR/same.txt")
check "known to youth justice, the same on the overlap diagonal" sh -c "printf '%s\n' \"\$1\" | grep -Fqx '  pol/youth-justice (all known to it): $yj'" _ "$m"
check "and as the cohort in both, the same children by design" sh -c "printf '%s\n' \"\$1\" | grep -Fqx '  prog/cohort and pol/youth-justice: $yj'" _ "$m"
v=$(entry 'prog/cohort' comparison 'Children known to each dataset')
check "comparison in the cohort dataset: none by design ($v)" [ "$v" = "0 (none by design)" ]
v=$(entry '3 datasets' comparison 'Children by number of datasets')
check "comparison in all 3 datasets: none by design ($v)" [ "$v" = "0 (none by design)" ]
v=$(entry '2 datasets' comparison 'Children by number of datasets')
check "a zero by design suppresses nothing: comparison in 2 datasets shown ($v)" [ "$v" = 50 ]
v=$(entry 'sessions (prog/cohort): above 0' comparison 'Outcome rates')
check "comparison sessions: none by design ($v)" [ "$v" = "0 (none by design)" ]
v=$(entry 'probable' cohort 'Link evidence')
check "any other zero is still suppressed ($v)" [ "$v" = "suppressed: fewer than 10" ]
notes=$(sed -n '/^Notes: disclosure control/,$p' "$T_DIR/same.txt" | tr -s ' \n' '  ')
check "footnote states the zero-by-design rule" sh -c "printf '%s' \"\$1\" | grep -q 'none by design'" _ "$notes"
check "footnote still states the zero rule" sh -c "printf '%s' \"\$1\" | grep -q 'A zero is suppressed like any count below 10'" _ "$notes"

# Errors name the file and row.
cp -r "$D" "$T_DIR/bad"
sed -i '5s/,2023-02-04,/,2023-02-30,/' "$T_DIR/bad/people.csv"
expect_fail "an impossible date is refused with file, row and column" "people.csv: row 4, column 'programme_start': not a date" "$A" summary "$T_DIR/bad"
expect_fail "a missing directory is named" 'nowhere/manifest.json: cannot open' "$A" summary "$T_DIR/nowhere"
expect_fail "no directory is a usage error" 'expected one extract directory' "$A" summary
expect_ok "summary --help" "$A" summary --help

# The HTML report.
H=$T_DIR/report.html
expect_ok "summary --html writes the report" "$A" summary "$D" --html "$H"
check "report is one self-contained file (no src, no link out of the page)" lacks -Ei '(src|href)="[^#]' "$H"
check "report's stylesheet loads nothing" lacks -Ei 'url\(|@import' "$H"
check "report has no script" lacks -i '<script' "$H"
check "report has a print stylesheet" grep -q '@media print' "$H"
check "report escapes the project name" grep -q 'vanguard &lt;2025&gt;' "$H"
check "report escapes text values" grep -qF 'Any &lt;other&gt; &amp; &quot;mixed&quot;' "$H"
check "report states the suppression reasons" grep -q 'suppressed: would reveal a suppressed cell' "$H"
check "report states the legal basis" grep -q 'UK GDPR Art. 6(1)(e) and 9(2)(h)' "$H"
check "report has the planted rate as 15 of 50" grep -q '15 of 50: 27%' "$H"
check "report never shows 13 of 48" lacks -E '13 of|of 48' "$H"
check "each chart has an SVG title and desc" [ "$(grep -c '<svg ' "$H")" -ge 4 -a "$(grep -c '<svg ' "$H")" = "$(grep -c '<desc ' "$H")" -a "$(grep -c '<svg ' "$H")" = "$(grep -c '<title id=' "$H")" ]
check "each table has a caption" [ "$(grep -c '<table>' "$H")" = "$(grep -c '<caption>' "$H")" ]

if ! find_browser; then
    t_end || exit 1
    echo "SKIP test_analyst_report (rendering): no headless Chromium (sh deploy/install-deps.sh installs it)"
    exit 77
fi
render_html "$H"
check "the rendered DOM holds the SVG charts" [ "$(grep -o '<svg ' "$T_DIR/dom.html" | wc -l)" -ge 4 ]
check "the rendered DOM has the rates chart" grep -q 'Outcome rates</title>' "$T_DIR/dom.html"
check "the rendered DOM has the overlap matrix" grep -q 'Children in both of two datasets: cohort</title>' "$T_DIR/dom.html"
check "no element made from data in the DOM" lacks -E '<other|<2025' "$T_DIR/dom.html"

if ! command -v python3 >/dev/null 2>&1; then
    t_end || exit 1
    echo "SKIP test_analyst_report (pixel check): python3 is not installed"
    exit 77
fi
check_rendered
t_end
