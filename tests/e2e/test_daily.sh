# Daily use by an agency's data officer and the linker's operator (issue 12):
# permanent mistakes fail at once with the fix, only passing trouble is
# "try again later" (75); extracts shaped like real exports (wide rows, Excel's
# trailing delimiters, semicolons, Windows-1252). Real linker and agents over
# TCP on 127.0.0.1.
. tests/e2e/lib.sh
. deploy/coalition-setup.sh
t_begin
K=$XL_BIN/crosslink-keys
A=$XL_BIN/crosslink-agent
L=$XL_BIN/crosslink-linker
C=$T_DIR/c

# conf_with KEY VALUE: a copy of wmp's agent.conf with KEY set to VALUE
conf_with() {
    sed -e "s|^$1 = .*|$1 = $2|" "$C/wmp/agent.conf" >"$C/wmp/edited.conf"
    echo "$C/wmp/edited.conf"
}
# under SECS N: SECS is below N
under() { [ "$(echo "$1 < $2" | bc)" -eq 1 ]; }
# exited WANT RC SECS LIMIT: the exit status was WANT, in under LIMIT seconds
# (one command, so check reports either failing).
exited() { [ "$2" -eq "$1" ] && under "$3" "$4"; }
# between LOW SECS HIGH: LOW < SECS < HIGH.
between() { under "$1" "$2" && under "$2" "$3"; }
# Everything the tools printed goes into printed.txt too: the README's
# troubleshooting section must quote it (checked at the end).
keep() { cat "$T_DIR/.out" "$T_DIR/.err" >>"$T_DIR/printed.txt" 2>/dev/null; }
xfail() {
    expect_fail "$@"
    keep
}
# run_timed CMD...: runs it, RC its exit status, SECS the seconds it took
run_timed() {
    t0=$(date +%s.%N)
    "$@" >"$T_DIR/.out" 2>"$T_DIR/.err"
    RC=$?
    SECS=$(echo "$(date +%s.%N) - $t0" | bc)
    keep
}

expect_ok "generate a coalition" "$XL_BUILD/bench/gen_coalition" --seed 12 --people 3000 --quiet --out "$T_DIR/data"
expect_ok "set up keys, agencies and the linker" xl_coalition_setup "$C" "$XL_BIN" "tcp://127.0.0.1:*"
start_linker_tcp
check "linker listens on a TCP port ($EP)" [ -n "$PORT" ]
CSV=$T_DIR/data/police.csv

# --- 1. permanent mistakes fail at once; passing trouble is 75 -----------------------
run_timed "$A" submit -q -c "$(conf_with endpoint "tcp://127.0.0.1:${PORT}x")" "$CSV"
check "a port typo is refused when agent.conf is read (exit $RC, ${SECS} s)" [ "$RC" -eq 1 ]
check "and names the port and the expected form" grep -q "the port '${PORT}x' is not a number from 1 to 65535 (write it as tcp://HOST:PORT" "$T_DIR/.err"
run_timed "$A" submit -q -c "$(conf_with endpoint "127.0.0.1:$PORT")" "$CSV"
check "an endpoint without a scheme is refused (exit $RC)" [ "$RC" -eq 1 ]
check "and says which form is expected" grep -q "has no scheme: write it as tcp://HOST:PORT" "$T_DIR/.err"
run_timed "$A" submit -q -c "$(conf_with endpoint "tcp://no-such-linker.invalid:$PORT")" "$CSV"
check "a host that does not exist fails at once (exit $RC, ${SECS} s)" exited 1 "$RC" "$SECS" 5
check "and says the host is not known" grep -q "the host 'no-such-linker.invalid' is not known" "$T_DIR/.err"

# Another coalition's linker key in server_public: the linker cannot open the
# handshake and closes it; the agent says so instead of retrying for 10 min.
mkdir -p "$T_DIR/other" && "$K" init "$T_DIR/other/keys" >/dev/null
run_timed "$A" submit -q -c "$(conf_with server_public "$T_DIR/other/keys/linker.pub")" "$CSV"
check "a wrong server_public fails at once (exit $RC, ${SECS} s)" exited 1 "$RC" "$SECS" 5
check "and names server_public as the cause" grep -q "server_public is not the key of the linker" "$T_DIR/.err"

# A key the linker's keyring does not hold: refused at the handshake, at once.
mkdir -p "$T_DIR/stray" && "$K" new agent stray-agent --agency wmp -o "$T_DIR/stray" >/dev/null
run_timed "$A" submit -q -c "$(conf_with agent_key "$T_DIR/stray/stray-agent.key")" "$CSV"
check "a key not in the keyring fails at once (exit $RC, ${SECS} s)" exited 1 "$RC" "$SECS" 5

# A linker that is down: 75 after --retry-for, not retry-for plus a timeout.
stop_linker
run_timed "$A" submit -q --retry-for 3 -c "$C/wmp/agent.conf" "$CSV"
check "a linker that is down gives exit 75 (${SECS} s)" [ "$RC" -eq 75 ]
check "after --retry-for 3, not later (${SECS} s)" between 2.9 "$SECS" 5
check "and says nothing accepted the connection" grep -q "nothing accepted a connection at tcp://127.0.0.1:$PORT" "$T_DIR/.err"
start_linker_tcp
check "the scheduled submission reports failures (OnFailure= and its notify unit)" \
    sh -c "grep -q '^OnFailure=crosslink-notify@%n.service' deploy/crosslink-agent-submit.service && grep -q '^ExecStart=' 'deploy/crosslink-notify@.service'"

# --- 5. the placeholder secret_check, and which check values differ ---------------------
sed -e 's/^secret_check = .*/secret_check = 0000000000000000/' "$C/linker/linker.conf" >"$C/linker/placeholder.conf"
xfail "the linker refuses to start with the example's placeholder secret_check" \
    "secret_check is still the example's placeholder: set it to the check value the key custodian published for this epoch \(crosslink-keys show linkage-eN.secret" \
    timeout 10 "$L" serve -c "$C/linker/placeholder.conf"
ours=$("$K" show "$C/custodian/linkage-e1.secret" | sed -n 's/.*check value //p')
theirs=$("$K" show "$T_DIR/other/keys/linkage-e1.secret" | sed -n 's/.*check value //p')
xfail "an agent with another linkage secret is told which check values differ" \
    "linkage secret differs: the submission's check value is $theirs, the linker expects $ours for epoch 1" \
    "$A" submit -q -c "$(conf_with linkage_secret "$T_DIR/other/keys/linkage-e1.secret")" "$CSV"

# --- 4. rows that do not fit are rejected, not guessed ---------------------------------
dir=$C/wmp
tr -d '\r' <"$CSV" | head -21 >"$dir/wide.csv"
# a row with one field too many (an unquoted decimal comma), and Excel's trailing rows
tr -d '\r' <"$CSV" | sed -n '22p' | sed 's/$/,5/' >>"$dir/wide.csv"
wide_id=$(sed -n '22p' "$CSV" | cut -d, -f1)
printf ',,,,,,,,\n,,,,,,,,\n' >>"$dir/wide.csv"
"$A" validate -c "$dir/agent.conf" --rejects "$dir/wide.rejects.csv" "$dir/wide.csv" >"$T_DIR/wide.out" 2>"$T_DIR/wide.err"
check "a row wider than the header is rejected as field_count, with its source id" \
    grep -q "^21,22,$wide_id,source_id,field_count,row rejected" "$dir/wide.rejects.csv"
check "the report counts 21 rows, 1 rejected" sh -c "grep -q '^rows      21 read' '$T_DIR/wide.out' && grep -q '^rejected  1 ' '$T_DIR/wide.out'"
check "rows of only delimiters are skipped and counted, not rejected" grep -q '^skipped   2 rows of only delimiters' "$T_DIR/wide.out"

# Every missing mapped column at once.
sed -e 's/^first_name = .*/first_name = Given Name/' -e 's/^surname = .*/surname = Family Name/' \
    "$dir/police.map" >"$dir/cols.map"
xfail "every missing mapped column is named in one message" \
    "2 columns mapped in .*cols.map are not in the header: 'Given Name' \(first_name\), 'Family Name' \(surname\)" \
    "$A" validate -c "$(conf_with mapping cols.map)" "$dir/wide.csv"

# A semicolon-separated export in Windows-1252, as Excel writes it in much of
# Europe: the same records as the UTF-8 comma file give the same local_refs.
head -21 "$CSV" | python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))
w = csv.writer(sys.stdout, delimiter=";", lineterminator="\r\n")
for r in rows:
    w.writerow(r)
' | iconv -f UTF-8 -t WINDOWS-1252//TRANSLIT >"$dir/semi.csv"
sed -e 's/^\[dataset\]/[dataset]\ndelimiter = semicolon\nencoding = windows-1252/' "$dir/police.map" >"$dir/semi.map"
head -21 "$CSV" >"$dir/comma.csv"
"$A" refs -c "$(conf_with mapping semi.map)" "$dir/semi.csv" >"$T_DIR/semi.refs" 2>"$T_DIR/semi.err"
"$A" refs -c "$dir/agent.conf" "$dir/comma.csv" >"$T_DIR/comma.refs"
check "a ';' Windows-1252 file reads as the UTF-8 one ($(wc -l <"$T_DIR/semi.refs") refs)" \
    sh -c "[ \$(wc -l <'$T_DIR/semi.refs') -eq 21 ] && cmp -s '$T_DIR/semi.refs' '$T_DIR/comma.refs'"
printf 'Person ID;Forename\n' >"$dir/bad-enc.csv"
xfail "an unknown encoding is refused when the mapping is read" \
    "encoding 'klingon-1' is not a character set" \
    sh -c "sed -e 's/^encoding = .*/encoding = klingon-1/' '$dir/semi.map' >'$dir/klingon.map' && '$A' validate -c '$(conf_with mapping klingon.map)' '$dir/semi.csv'"

# --- 2. the same data is not stored twice ----------------------------------------------
status() { "$L" status -c "$C/linker/linker.conf"; }
superseded() { status | sed -n 's/^totals: .*; \([0-9]*\) superseded$/\1/p'; }
expect_ok "wmp submits its extract" "$A" submit -q -c "$C/wmp/agent.conf" "$CSV"
s0=$(superseded)
"$A" submit -q -c "$C/wmp/agent.conf" "$CSV" >"$T_DIR/again.out" 2>&1
check "the same CSV again is answered 'already submitted' (exit $?)" grep -q '^already submitted: the linker holds this extract, unchanged' "$T_DIR/again.out"
check "and stores nothing: no submission superseded ($(superseded) after, $s0 before)" same "$(superseded)" "$s0"
check "the repeat is audited as unchanged input" grep -q '"event":"submission.begin".*"result":"unchanged input"' "$C/linker/audit.jsonl"
check "the commit entry carries the input's identity, not its content" grep -q '"event":"submission.commit".*"input":"[0-9a-f]\{64\}"' "$C/linker/audit.jsonl"
n=$(ls "$C/wmp/state/receipts" | wc -l)
check "one receipt file, not two ($n)" [ "$n" -eq 1 ]
# A newer export supersedes it; the old file sent again is refused, unless forced.
head -n -1 "$CSV" >"$T_DIR/police-newer.csv"
cp "$CSV" "$T_DIR/police-older.csv"
expect_ok "a newer export is submitted" "$A" submit -q -c "$C/wmp/agent.conf" "$T_DIR/police-newer.csv"
check "and supersedes the first" [ "$(superseded)" -eq $((s0 + 1)) ]
xfail "the older file sent again is refused, saying --force" \
    "a newer submission of wmp/youth-justice has replaced it since: .*--force" \
    "$A" submit -q -c "$C/wmp/agent.conf" "$T_DIR/police-older.csv"
check "the refusal is audited" grep -q '"rule":"superseded input"' "$C/linker/audit.jsonl"
expect_ok "with --force it is taken" "$A" submit -q --force -c "$C/wmp/agent.conf" "$T_DIR/police-older.csv"
check "and audited as forced" grep -q '"event":"submission.begin".*"forced":true' "$C/linker/audit.jsonl"

# --- 3. retention: superseded submissions purged, audited, space given back ----------
status >"$T_DIR/status1.out"
check "status shows storage per agency" grep -qE '^  wmp +[0-9.]+ MB +[0-9.]+ MB +[0-9.]+ MB$' "$T_DIR/status1.out"
check "with wmp's superseded submissions taking space" sh -c "grep -E '^  wmp +[0-9.]+ MB' '$T_DIR/status1.out' | awk '{ exit !(\$4 > 0) }'"
sed -e '$a retention = 1s' "$C/linker/linker.conf" >"$C/linker/short.conf"
sleep 2.1
"$L" purge --dry-run -c "$C/linker/short.conf" >"$T_DIR/dry.out" 2>&1
check "purge --dry-run lists both superseded submissions and purges nothing" \
    sh -c "[ \$(grep -c '^would purge wmp/youth-justice submission' '$T_DIR/dry.out') -eq 2 ] && [ \$(grep -c submission.purged '$C/linker/audit.jsonl') -eq 0 ]"
db0=$(stat -c %s "$C/linker/linker.db")
"$L" purge -c "$C/linker/short.conf" >"$T_DIR/purge.out" 2>&1
db1=$(stat -c %s "$C/linker/linker.db")
check "purge removes both ($(tail -1 "$T_DIR/purge.out"))" grep -q '^purged 2 submissions' "$T_DIR/purge.out"
check "each audited as submission.purged" [ "$(audited submission.purged)" -eq 2 ]
"$XL_BIN/crosslink-audit" show "$C/linker/audit.jsonl" --event submission.purged >"$T_DIR/purged-show.out" 2>&1
check "which the IG lead's tool lists with its reason" grep -q 'wmp/youth-justice: submission [0-9a-f]*, [0-9]* records purged: superseded past the retention' "$T_DIR/purged-show.out"
check "the database file shrank ($db0 -> $db1 bytes)" [ "$db1" -lt "$db0" ]
status >"$T_DIR/status2.out"
check "status: nothing superseded left, 2 purged with receipts kept" \
    sh -c "grep -E '^  wmp +[0-9.]+ MB' '$T_DIR/status2.out' | awk '{ exit !(\$4 == 0) }' && grep -q '2 superseded submissions purged' '$T_DIR/status2.out'"
head -n -2 "$CSV" >"$T_DIR/police-third.csv"
expect_ok "a third export supersedes the forced one" "$A" submit -q -c "$C/wmp/agent.conf" "$T_DIR/police-third.csv"
xfail "a purged input sent again is still recognised and refused" "has replaced it since" \
    "$A" submit -q -c "$C/wmp/agent.conf" "$T_DIR/police-newer.csv"
sleep 2.1
"$L" purge -c "$C/linker/short.conf" >/dev/null 2>&1
check "the next purge takes the newly superseded one, not the purged again" [ "$(audited submission.purged)" -eq 3 ]

# --- 7. small things people trip on -----------------------------------------------------
for tool in agent linker keys analyst audit; do
    check "crosslink-$tool --version" sh -c "'$XL_BIN/crosslink-$tool' --version | grep -qE '^crosslink-$tool [0-9]+\.[0-9]+\.[0-9]+ '"
done
check "keyring add --help prints the usage (exit 0)" sh -c "'$K' keyring add --help | grep -q '^usage: crosslink-keys keyring add KEYRING FILE.pub'"
fp_agent=$("$A" spec -c "$C/wmp/agent.conf" | sed -n 's/^fingerprint *//p')
check "crosslink-agent spec prints the fingerprint the linker's status prints ($fp_agent)" \
    grep -q "^specification fingerprint $fp_agent " "$T_DIR/status2.out"
xfail "serve -c DIR says it wants the file" \
    "$C/linker is a directory: -c wants the configuration file, such as $C/linker/linker.conf" \
    "$L" serve -c "$C/linker"
check "status says 1 current submission, not 1 submissions" grep -q '^totals: 1 current submission, ' "$T_DIR/status2.out"
"$L" link --progress -c "$C/linker/linker.conf" >/dev/null 2>"$T_DIR/progress.err"
check "link --progress reports its steps on stderr" \
    sh -c "grep -q '^loading records: [0-9]* of [0-9]* (100%)' '$T_DIR/progress.err' && grep -q '^storing the results' '$T_DIR/progress.err'"
# A dataset name longer than the column: the columns stay aligned.
sed -e 's/^name = .*/name = children-in-need-and-looked-after-children-census/' "$C/wmp/police.map" >"$C/wmp/long.map"
expect_ok "a dataset with a long name is submitted" "$A" submit -q -c "$(conf_with mapping long.map)" "$T_DIR/police-third.csv"
status >"$T_DIR/status3.out"
sed -n '/^current submissions/,/^$/p' "$T_DIR/status3.out" | sed '1d;/^$/d' >"$T_DIR/rows.txt"
check "status columns stay aligned for a long dataset name" \
    sh -c "[ \$(grep -c '' '$T_DIR/rows.txt') -ge 3 ] && [ \$(awk '{ print index(\$0, \$(NF - 1)) }' '$T_DIR/rows.txt' | sort -u | wc -l) -eq 1 ]"
# SIGTERM while a link run is in progress: the service says it waits for it.
# The run is held at its end by a write lock on the database (it stores its
# results there), so the test does not race it.
"$A" submit -q -c "$C/icb/agent.conf" "$T_DIR/data/health.csv" >/dev/null 2>&1
python3 -c 'import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN IMMEDIATE"); time.sleep(6); c.execute("ROLLBACK")' "$C/linker/linker.db" &
locker=$!
i=0
while ! pgrep -P "$LPID" >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "the service started a link run after the commit" sh -c "pgrep -P $LPID >/dev/null"
kill -TERM "$LPID"
sleep 0.5
check "SIGTERM during a link run: the service says it waits for it" \
    grep -q 'stopping: waiting for the link run in progress (process [0-9]*) to finish; it is not interrupted' "$T_DIR/linker.log"
wait "$LPID"
check "and stops cleanly once the run is done" [ $? -eq 0 ]
LPID=
wait "$locker"

# Before the service's first start, status and link say the same thing.
mkdir -p "$T_DIR/fresh"
sed -e "s|^database = .*|database = $T_DIR/fresh/linker.db|" "$C/linker/linker.conf" >"$C/linker/fresh.conf"
xfail "status before the first serve says what to do" "no database yet: the service creates it when it first starts \(crosslink-linker serve" \
    "$L" status -c "$C/linker/fresh.conf"
xfail "and link says the same, creating nothing" "no database yet: the service creates it when it first starts \(crosslink-linker serve" \
    "$L" link -c "$C/linker/fresh.conf"
check "no database was created" [ ! -e "$T_DIR/fresh/linker.db" ]

# --- 8. the README's troubleshooting section quotes messages as they are printed ----------
cat "$T_DIR"/*.out "$T_DIR"/*.err "$T_DIR"/*.csv "$C"/wmp/*.rejects.csv >>"$T_DIR/printed.txt" 2>/dev/null
python3 tests/e2e/readme_messages.py README.md "$T_DIR/printed.txt" >"$T_DIR/readme.out" 2>&1
rc=$?
check "every message README.md's troubleshooting quotes was printed here: $(tr '\n' ' ' <"$T_DIR/readme.out")" [ "$rc" -eq 0 ]

t_end
