# crosslink-audit show and report on a real audit log: a generated coalition,
# the linker service, four agencies submitting (one twice), a link run, an
# extract, refusals of several kinds and a reload, all as real processes.
# Each filter of `show` is checked against an independent reading of the log
# (python3), --json against the log's own lines, a tampered copy makes both
# commands fail naming the entry, and the HTML report is checked for its
# contents and escaping, then rendered by headless Chromium into a PNG whose
# pixels are checked.
. tests/e2e/lib.sh
. deploy/coalition-setup.sh
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP test_audit_report: python3 is not installed (it reads the log independently)"
    exit 77
fi
t_begin
K=$XL_BIN/crosslink-keys
A=$XL_BIN/crosslink-agent
L=$XL_BIN/crosslink-linker
AN=$XL_BIN/crosslink-analyst
AU=$XL_BIN/crosslink-audit
RAW=$XL_BUILD/tests/tools/zmq_raw
EP="ipc://$T_DIR/linker.sock"
C=$T_DIR/c
LOG=$C/linker/audit.jsonl
kid() { "$K" show "$1" | sed -n 's/^key id: //p'; }

# ---- a real log -------------------------------------------------------------------------
expect_ok "generate a coalition" "$XL_BUILD/bench/gen_coalition" --seed 31 --people 600 --quiet --out "$T_DIR/data"
expect_ok "set up keys, agencies and the linker" xl_coalition_setup "$C" "$XL_BIN" "$EP"
mkdir -p "$C/alice/keys" && chmod 700 "$C/alice/keys"
expect_ok "analyst alice's key" "$K" new analyst alice -o "$C/alice/keys"
expect_ok "alice in the keyring" "$K" keyring add "$C/linker/keys/keyring" "$C/alice/keys/alice.pub"
cp -p "$C/custodian/analysis.key" "$C/custodian/linker.pub" "$C/custodian/linker-sign.pub" "$C/alice/keys/"
sed -e "s|^endpoint = .*|endpoint = $EP|" -e "s|keys/analyst.key|keys/alice.key|" \
    deploy/examples/analyst.conf >"$C/alice/analyst.conf"
ALICE=$(kid "$C/alice/keys/alice.pub")
WMP=$(kid "$C/wmp/keys/wmp-agent.pub")
check "alice and wmp have key ids" [ ${#ALICE} -eq 16 -a ${#WMP} -eq 16 ]
# A purpose with text that HTML must escape.
cat >"$C/linker/keys/projects" <<EOF
[pd]
purpose = Evaluate <b>the</b> programme & "more"
legal_basis = Art 6(1)(e)
analysts = $ALICE
datasets = csc/* wmp/youth-justice icb/health
expires = 2099-12-31
EOF
start_linker
check "linker listens" [ -S "$T_DIR/linker.sock" ]
if [ ! -S "$T_DIR/linker.sock" ]; then
    # Nothing below can run; the agents would wait ten minutes for it.
    sed 's/^/# linker: /' "$T_DIR/linker.log" | head -5
    t_end
    exit 1
fi
for pair in $XL_AGENCIES; do
    expect_ok "${pair%%:*}: submit" "$A" submit -q -c "$C/${pair%%:*}/agent.conf" "$T_DIR/data/${pair#*:}.csv"
done
expect_ok "extract of pd (waits for the link run)" "$AN" extract -q -c "$C/alice/analyst.conf" pd -o "$T_DIR/pd" --retry-for 60
# A second apart, so that a time between them cuts the log in two (below).
sleep 1.1
# The same records from a changed file (a row of only delimiters added): an
# unchanged file would be "already submitted" and store nothing.
{ cat "$T_DIR/data/health.csv"; echo ',,,,,,,,,'; } >"$T_DIR/data/health-again.csv"
expect_ok "icb resubmits (a new submission replaces the first)" "$A" submit -q -c "$C/icb/agent.conf" "$T_DIR/data/health-again.csv"
expect_fail "an extract of an unknown project is refused" "no approved project 'nope'" \
    "$AN" extract -q -c "$C/alice/analyst.conf" nope -o "$T_DIR/x1"
"$RAW" "$EP" "$C/custodian/linker.pub" "$C/wmp/keys/wmp-agent.key" extract pd >"$T_DIR/raw1.out" 2>&1
check "wmp's agent key is refused an extract" grep -q 'reply error 4' "$T_DIR/raw1.out"
"$RAW" "$EP" "$C/custodian/linker.pub" "$C/wmp/keys/wmp-agent.key" link >"$T_DIR/raw2.out" 2>&1
check "wmp's agent key is refused a link run" grep -q 'reply error 4' "$T_DIR/raw2.out"
"$K" new agent stranger --agency wmp -o "$C/wmp/keys" >/dev/null
"$RAW" "$EP" "$C/custodian/linker.pub" "$C/wmp/keys/stranger.key" ping >"$T_DIR/raw3.out" 2>&1
check "a key not in the keyring is refused at the door" grep -q '^refused' "$T_DIR/raw3.out"
STRANGER=$(kid "$C/wmp/keys/stranger.pub")
# Then the key custodian adds it (a new wmp key) and the projects change.
expect_ok "the stranger's key added to the keyring" "$K" keyring add "$C/linker/keys/keyring" "$C/wmp/keys/stranger.pub"
printf '[later]\npurpose = Added later\nlegal_basis = Art 6(1)(e)\nanalysts = %s\ndatasets = icb/health\nexpires = 2099-12-31\n' \
    "$ALICE" >>"$C/linker/keys/projects"
sleep 1.1
kill -HUP "$LPID"
i=0
while ! grep -q '"event":"projects.reload"' "$LOG" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
stop_linker
for ev in linker.start submission.commit submission.superseded link.run extract extract.delivered \
    extract.refused link.refused connection.refused keyring.reload projects.reload linker.stop; do
    check "the log holds $ev" grep -q "\"event\":\"$ev\"" "$LOG"
done
N=$(grep -c '' "$LOG")

# ---- show, each filter against an independent reading of the log --------------------------
# expect [--since D] [--until D] [--agency A] [--event E]... [--project P]: the seqs
# of the entries that pass, as python reads the log (a date takes its whole day;
# an agency is details.agency, one whose dataset an extract drew on, or the
# agency the log shows the actor's key belongs to: a keyring reload naming it, or its own submissions; an event
# class is the event or its dotted prefix).
cat >"$T_DIR/expect.py" <<'EOF'
import json, sys
log, args = sys.argv[1], sys.argv[2:]
entries = [json.loads(l) for l in open(log, encoding='utf-8')]
keys = {}
for e in entries:
    d = e.get('details', {})
    if e['event'] in ('submission.begin', 'submission.commit') and e['role'] == 'agent' \
            and d.get('key_id') == e['actor']:
        keys.setdefault(e['actor'], set()).add(d.get('agency'))
    if e['event'] == 'keyring.reload':
        for k in d.get('keys_added', []) + d.get('keys_revoked', []) + d.get('keys_removed', []):
            if k.get('role') == 'agent' and k.get('agency'):
                keys.setdefault(k['key_id'], set()).add(k['agency'])
since = until = agency = project = None
events = []
i = 0
while i < len(args):
    o, v = args[i], args[i + 1]
    i += 2
    if o == '--since': since = v if 'T' in v else v + 'T00:00:00Z'
    elif o == '--until': until = v if 'T' in v else v + 'T23:59:59Z'
    elif o == '--agency': agency = v
    elif o == '--event': events.append(v)
    elif o == '--project': project = v
out = []
for e in entries:
    d = e.get('details', {})
    if since and e['time'] < since: continue
    if until and e['time'] > until: continue
    ds = d.get('datasets')  # a list in an extract, a count in a link run
    drew = {x.get('agency') for x in ds if isinstance(x, dict)} if isinstance(ds, list) else set()
    if agency and d.get('agency') != agency and agency not in keys.get(e['actor'], ()) \
            and agency not in drew: continue
    if events and not any(e['event'] == c or e['event'].startswith(c + '.') for c in events): continue
    if project and d.get('project') != project: continue
    out.append(str(e['seq']))
print(' '.join(out))
EOF
expect() { python3 "$T_DIR/expect.py" "$LOG" "$@"; }
# shown ARGS...: the seqs `show` lists (its first column)
shown() { "$AU" show "$LOG" "$@" 2>"$T_DIR/show.err" | awk '{ printf "%s%s", sep, $1; sep = " " } END { print "" }'; }
# count of seqs in a list
count() { echo "$1" | wc -w; }

all=$(shown)
check "show lists every entry ($N)" [ "$(count "$all")" -eq "$N" -a "$N" -gt 20 ]
check "show lists them in order, 1 to $N" same "$all" "$(seq -s ' ' 1 "$N")"
"$AU" show "$LOG" >"$T_DIR/show.txt" 2>"$T_DIR/show.err"
check "show exits 0 and says nothing on stderr" [ $? -eq 0 -a ! -s "$T_DIR/show.err" ]
check "each line: seq, date, time, event, who" \
    [ "$(grep -cE '^ *[0-9]+  20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8}  [a-z_.]+ +[0-9a-z]+' "$T_DIR/show.txt")" -eq "$N" ]
check "a commit's line says what was stored" grep -qE 'submission.commit +[0-9a-f]{16} \(agent\) +wmp/youth-justice: [0-9]+ records in [0-9]+ chunks? stored, submission [0-9a-f]{32}$' "$T_DIR/show.txt"
check "a keyring reload names the key added" grep -qE "keyring.reload +linker +keyring reloaded: [0-9]+ keys .*: added $STRANGER stranger \(agent of wmp\)$" "$T_DIR/show.txt"
check "a project's refusal names its rule" grep -qE 'extract.refused .*project nope, rule unknown_project' "$T_DIR/show.txt"

want=$(expect --agency wmp)
got=$(shown --agency wmp)
check "--agency wmp lists what python expects ($want)" same "$want" "$got"
refused=$(grep -n "\"actor\":\"$WMP\",\"role\":\"agent\",\"event\":\"extract.refused\"" "$LOG" | cut -d: -f1)
check "... including wmp's key refused an extract, whose details name no agency (entry $refused)" \
    sh -c 'case " $1 " in *" $2 "*) exit 0 ;; esac; exit 1' - "$got" "${refused:-none}"
lrefused=$(grep -n "\"actor\":\"$WMP\",\"role\":\"agent\",\"event\":\"link.refused\"" "$LOG" | cut -d: -f1)
check "... and its link request refused (entry $lrefused)" \
    sh -c 'case " $1 " in *" $2 "*) exit 0 ;; esac; exit 1' - "$got" "${lrefused:-none}"
crefused=$(grep -n "\"actor\":\"$STRANGER\",\"role\":\"unknown\",\"event\":\"connection.refused\"" "$LOG" | cut -d: -f1)
check "... and the stranger's connection, refused before the keyring named it wmp's (entry $crefused)" \
    sh -c 'case " $1 " in *" $2 "*) exit 0 ;; esac; exit 1' - "$got" "${crefused:-none}"
"$AU" show "$LOG" --agency wmp >"$T_DIR/wmp.txt"
check "--agency wmp shows no other agency's dataset" lacks -E '(icb|lea|csc)/' "$T_DIR/wmp.txt"
check "--agency wmp shows wmp's submission" grep -q 'wmp/youth-justice' "$T_DIR/wmp.txt"
want=$(expect --agency icb)
check "--agency icb lists what python expects ($want)" same "$want" "$(shown --agency icb)"
check "... both of icb's submissions and the replacement" [ "$(grep -c 'icb/health' "$T_DIR/show.txt")" -ge 5 ]

want=$(expect --event extract)
got=$(shown --event extract)
check "--event extract lists what python expects ($want)" same "$want" "$got"
"$AU" show "$LOG" --event extract | awk '{ print $4 }' | sort -u >"$T_DIR/ev.txt"
check "--event extract takes extract, extract.delivered and extract.refused" \
    same "$(tr '\n' ' ' <"$T_DIR/ev.txt")" "extract extract.delivered extract.refused "
want=$(expect --event submission.commit)
check "--event submission.commit: the commits only ($want)" same "$want" "$(shown --event submission.commit)"
check "... not the begins" [ "$(count "$want")" -eq "$(grep -c '"event":"submission.commit"' "$LOG")" ]
want=$(expect --event extract.refused --event link)
check "two --event options: either ($want)" same "$want" "$(shown --event extract.refused --event link)"
"$AU" show "$LOG" --event extrac >"$T_DIR/none.txt" 2>"$T_DIR/none.err"
check "--event extrac matches no event (exit 0)" [ $? -eq 0 -a ! -s "$T_DIR/none.txt" ]
check "... and says so on stderr" grep -q 'no entry matches' "$T_DIR/none.err"

want=$(expect --project pd)
check "--project pd lists what python expects ($want)" same "$want" "$(shown --project pd)"
check "... which are extracts of pd and their deliveries" \
    [ "$(count "$want")" -eq "$(grep -c '"project":"pd"' "$LOG")" ]
check "--project nope: the refusal only" same "$(expect --project nope)" "$(shown --project nope)"

# Times: the log spans a few seconds; cut it at the resubmission, a second
# after the first extract and a second before the reloads and the stop.
t=$(sed -n 's/.*"time":"\([^"]*\)","actor":"[^"]*","role":"[^"]*","event":"submission.superseded".*/\1/p' "$LOG" | head -1)
# the first and last entries' days (a run across midnight spans two)
day0=$(head -1 "$LOG" | sed 's/.*"time":"\([0-9-]*\)T.*/\1/')
day1=$(tail -1 "$LOG" | sed 's/.*"time":"\([0-9-]*\)T.*/\1/')
check "the resubmission has a time ($t)" [ ${#t} -eq 20 ]
want=$(expect --since "$t")
check "--since $t lists what python expects" same "$want" "$(shown --since "$t")"
check "... and leaves the start out" [ "$(count "$want")" -lt "$N" ]
want=$(expect --until "$t")
check "--until $t lists what python expects" same "$want" "$(shown --until "$t")"
check "... and leaves the stop out" [ "$(count "$want")" -lt "$N" ]
check "--since and --until the log's days ($day0, $day1): everything" [ "$(count "$(shown --since "$day0" --until "$day1")")" -eq "$N" ]
tomorrow=$(date -u -d "$day1 + 1 day" +%Y-%m-%d)
yesterday=$(date -u -d "$day0 - 1 day" +%Y-%m-%d)
"$AU" show "$LOG" --since "$tomorrow" >"$T_DIR/none.txt" 2>"$T_DIR/none.err"
check "--since the next day: nothing, exit 0" [ $? -eq 0 -a ! -s "$T_DIR/none.txt" ]
check "... saying so on stderr, with the log's size" grep -q "no entry matches (the log holds $N, all verified)" "$T_DIR/none.err"
"$AU" show "$LOG" --until "$yesterday" >"$T_DIR/none.txt" 2>"$T_DIR/none.err"
check "--until the day before: nothing, exit 0" [ $? -eq 0 -a ! -s "$T_DIR/none.txt" ]
check "... saying so" grep -q 'no entry matches' "$T_DIR/none.err"
want=$(expect --agency wmp --event extract --since "$day0")
check "filters together ($want)" same "$want" "$(shown --agency wmp --event extract --since "$day0")"
case " $want " in *" ${refused:-none} "*) in_want=1 ;; *) in_want=0 ;; esac
check "... among them wmp's key refused an extract (entry $refused)" [ "$in_want" = 1 ]
check "... and the extracts that drew on wmp's data" [ "$(count "$want")" -ge 2 ]

expect_fail "an impossible date is a usage error" '--since takes a date' "$AU" show "$LOG" --since 2026-02-30
expect_fail "an event class ending in a dot is a usage error" '--event takes' "$AU" show "$LOG" --event extract.
expect_fail "--since after --until is a usage error" 'after --until' "$AU" show "$LOG" --since "$tomorrow" --until "$day1"
expect_fail "a missing log is named" 'nowhere.jsonl: cannot read' "$AU" show "$T_DIR/nowhere.jsonl"
expect_ok "show --help" "$AU" show --help

# --json: the log's own lines, unchanged
"$AU" show "$LOG" --json >"$T_DIR/all.jsonl"
check "--json without a filter is the log itself" cmp -s "$T_DIR/all.jsonl" "$LOG"
"$AU" show "$LOG" --json --agency wmp >"$T_DIR/wmp.jsonl"
n=$(python3 -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["seq"] > 0))' "$T_DIR/wmp.jsonl" 2>&1)
check "--json lines parse as JSON ($n)" same "$n" "$(count "$(expect --agency wmp)")"
check "--json lines are lines of the log, unchanged" same "$(grep -cxF -f "$LOG" "$T_DIR/wmp.jsonl")" "$n"

# ---- entries the linker will write later, and ones no version knows -----------------------
# Appended to a copy with their hashes chained, as the linker would: a purge,
# an unknown event whose text tries HTML and a terminal escape.
cat >"$T_DIR/extend.py" <<'EOF'
import hashlib, json, sys
src, dst = sys.argv[1], sys.argv[2]
lines = open(src, encoding='utf-8').read().splitlines()
last = json.loads(lines[-1])
prev, seq, time = last['hash'], last['seq'], last['time']
new = [
    ('linker', 'linker', 'submission.purged',
     {'submission': 'ab' * 16, 'agency': 'wmp', 'dataset': 'youth-justice', 'records': 123,
      'reason': 'retention: 400 days'}),
    ('linker', 'linker', 'audit.future_thing',
     {'note': '<script>alert(1)</script> & <b>x</b>', 'tty': '\x1b[31mred', 'count': 7,
      'list': [1, 2, 3]}),
]
for actor, role, event, details in new:
    seq += 1
    canon = json.dumps({'seq': seq, 'time': time, 'actor': actor, 'role': role, 'event': event,
                        'details': details, 'prev': prev}, separators=(',', ':'))
    h = hashlib.sha256(bytes.fromhex(prev) + canon.encode()).hexdigest()
    lines.append(canon[:-1] + ',"hash":"' + h + '"}')
    prev = h
open(dst, 'w', encoding='utf-8').write('\n'.join(lines) + '\n')
EOF
X=$T_DIR/extended.jsonl
python3 "$T_DIR/extend.py" "$LOG" "$X"
"$AU" show "$X" >"$T_DIR/x.txt" 2>&1
check "the extended log verifies and lists every entry" [ $? -eq 0 -a "$(grep -c '' "$T_DIR/x.txt")" -eq $((N + 2)) ]
check "a purge is shown in words" grep -qE "submission.purged +linker +wmp/youth-justice: submission (ab){16}, 123 records purged: retention: 400 days" "$T_DIR/x.txt"
check "an unknown event is shown with its details" grep -qE 'audit.future_thing +linker +note=<script>alert\(1\)</script> & <b>x</b>, tty=\?\[31mred, count=7, list=\[3 items\]' "$T_DIR/x.txt"
check "no terminal escape reaches the listing" lacks "$(printf '\033')" "$T_DIR/x.txt"
check "--event audit finds the unknown event" same "$(( N + 2 ))" "$("$AU" show "$X" --event audit | awk '{ print $1 }')"
"$AU" show "$X" --agency wmp >"$T_DIR/xw.txt"
check "--agency wmp finds the purge" grep -q 'submission.purged' "$T_DIR/xw.txt"

# ---- a tampered log -------------------------------------------------------------------------
# Entry 4 (wmp's commit) with one record more: its hash no longer matches.
awk 'NR == 4 { sub(/"records":[0-9]+/, "\"records\":99999") } { print }' "$LOG" >"$T_DIR/tampered.jsonl"
check "the edit changed entry 4 only" same "$(cmp "$LOG" "$T_DIR/tampered.jsonl" | sed -n 's/.* line \([0-9]*\)$/\1/p')" 4
expect_fail "show refuses the tampered log, naming entry 4" 'tampered.jsonl: entry 4 \(at byte [0-9]+\)' "$AU" show "$T_DIR/tampered.jsonl"
"$AU" show "$T_DIR/tampered.jsonl" --json >"$T_DIR/t.out" 2>/dev/null
check "... and lists nothing, not even entries 1 to 3" [ ! -s "$T_DIR/t.out" ]
expect_fail "report refuses it too, naming entry 4" 'tampered.jsonl: entry 4 \(at byte [0-9]+\)' \
    "$AU" report "$T_DIR/tampered.jsonl" --html "$T_DIR/t.html"
check "... and writes no report, nor a temporary file" [ -z "$(ls "$T_DIR"/t.html* 2>/dev/null)" ]
sed 7d "$LOG" >"$T_DIR/removed.jsonl"
expect_fail "an entry removed: show names where" 'removed.jsonl: entry 7 .*has seq 8' "$AU" show "$T_DIR/removed.jsonl"
expect_fail "an entry removed: report names where" 'removed.jsonl: entry 7 .*has seq 8' \
    "$AU" report "$T_DIR/removed.jsonl" --html "$T_DIR/t.html"
head -c -20 "$LOG" >"$T_DIR/cut.jsonl"
expect_fail "a log cut short mid-line is named as such" "cut.jsonl: entry $N .*incomplete" "$AU" show "$T_DIR/cut.jsonl"

# ---- the report -----------------------------------------------------------------------------
H=$T_DIR/report.html
expect_ok "report --html writes the report" "$AU" report "$X" --html "$H"
check "the report is written" [ -s "$H" ]
check "report is one self-contained file (no src, no link out of the page)" lacks -Ei '(src|href)="[^#]' "$H"
check "report's stylesheet loads nothing" lacks -Ei 'url\(|@import' "$H"
check "report has no script" lacks -i '<script' "$H"
check "report has a print stylesheet" grep -q '@media print' "$H"
check "report escapes the purpose" grep -qF 'Evaluate &lt;b&gt;the&lt;/b&gt; programme &amp; &quot;more&quot;' "$H"
check "report escapes an unknown event's text" grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$H"
check "no element made from the log's text" lacks -E '<b>(the|x)</b>' "$H"
for id in glance data runs extracts refusals keys purges service other kinds; do
    check "report has its section '$id'" grep -q "<section id=\"$id\">" "$H"
done
section() { sed -n "/<section id=\"$1\">/,/<\/section>/p" "$H"; }
records=$(python3 -c 'import json, sys
print("{:,}".format(sum(json.loads(l)["details"]["records"] for l in open(sys.argv[1]) if "\"event\":\"submission.commit\"" in l)))' "$LOG")
commits=$(grep -c '"event":"submission.commit"' "$LOG")
check "at a glance: 4 agencies, $commits submissions, $records records" \
    sh -c 'printf "%s" "$1" | grep -qF "4 agencies sent $2 submissions holding $3 records in all."' - "$(section glance)" "$commits" "$records"
check "at a glance: the replacement" sh -c 'printf "%s" "$1" | grep -qF "1 earlier submission was replaced by a newer one."' - "$(section glance)"
for ag in wmp icb lea csc; do
    check "the agency table has $ag" sh -c 'printf "%s" "$1" | grep -q "<tr><td>$2</td>"' - "$(section data)" "$ag"
done
icb=$(python3 -c 'import json, sys
print("{:,}".format(sum(json.loads(l)["details"]["records"] for l in open(sys.argv[1]) if "\"event\":\"submission.commit\"" in l and "\"agency\":\"icb\"" in l)))' "$LOG")
check "icb's two submissions and $icb records, one replaced" \
    sh -c 'printf "%s" "$1" | grep -q "<tr><td>icb</td><td>health</td><td class=\"n\">2</td><td class=\"n\">$2</td><td>[^<]*</td><td>[^<]*</td><td class=\"n\">1</td>"' - "$(section data)" "$icb"
# The first run's counts as the log has them, as the report's row should show them.
runrow=$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["event"] == "link.run":
        d = e["details"]
        print("".join("<td class=\"n\">{:,}</td>".format(d[k]) for k in
              ("run", "records", "datasets", "links", "clusters", "possible_pairs", "conflicts")))
        break' "$LOG")
check "the link run's counts, as the log has them" \
    sh -c '[ -n "$2" ] || exit 1; printf "%s" "$1" | grep -qF "$2"' - "$(section runs)" "$runrow"
check "the extract: project pd, alice's key, delivered" \
    sh -c 'printf "%s" "$1" | grep -qE "<td>pd</td><td class=\"h\">$2</td>.*<td>yes, 20"' - "$(section extracts)" "$ALICE"
check "the extract names the agencies' datasets it holds" sh -c 'printf "%s" "$1" | grep -qE "wmp/youth-justice \([0-9,]+\)"' - "$(section extracts)"
check "refusals by rule: unknown_project" sh -c 'printf "%s" "$1" | grep -q "<td>Extracts refused</td><td>rule unknown_project</td><td class=\"n\">1</td>"' - "$(section refusals)"
check "refusals: the connection of a key not in the keyring" sh -c 'printf "%s" "$1" | grep -q "<td>Connections refused</td><td>key not in the keyring</td>"' - "$(section refusals)"
check "refusals: wmp's link request" sh -c 'printf "%s" "$1" | grep -qE "<td>Link runs refused</td><td>DENIED \(link_request\)</td>"' - "$(section refusals)"
check "the keyring reload, with the key added" sh -c 'printf "%s" "$1" | grep -qF "<td>added $2 stranger (agent of wmp)</td>"' - "$(section keys)" "$STRANGER"
check "at a glance: the key added" sh -c 'printf "%s" "$1" | grep -qF "The keyring was reloaded 1 time (1 key added, 0 revoked, 0 removed)"' - "$(section glance)"
check "the projects reload, with the project added" sh -c 'printf "%s" "$1" | grep -qE "<td>ok</td><td class=\"n\">2</td><td>later</td>"' - "$(section keys)"
check "the purge, with its records and reason" sh -c 'printf "%s" "$1" | grep -qE "<td>wmp</td><td>youth-justice</td><td class=\"n\">123</td>.*retention: 400 days"' - "$(section purges)"
check "the unknown event under Other entries" sh -c 'printf "%s" "$1" | grep -q "audit.future_thing"' - "$(section other)"
check "every entry counted by kind ($((N + 2)))" sh -c 'printf "%s" "$1" | grep -q "All entries</th><td class=\"n\">$2</td>"' - "$(section kinds)" "$((N + 2))"
check "an empty section says so" sh -c 'printf "%s" "$1" | grep -q "None in this period."' - "$(sed -n '/Files imported by the operator/,/<\/section>/p' "$H")"
check "each chart has an SVG title and desc" [ "$(grep -c '<svg ' "$H")" -ge 3 -a "$(grep -c '<svg ' "$H")" = "$(grep -c '<desc ' "$H")" -a "$(grep -c '<svg ' "$H")" = "$(grep -c '<title id=' "$H")" ]
check "each table has a caption" [ "$(grep -c '<table>' "$H")" = "$(grep -c '<caption>' "$H")" ]
check "the report says the log was checked" grep -q "Every one of the log&rsquo;s $((N + 2)) entries was read and checked" "$H"
last=$(tail -1 "$X" | sed 's/.*"hash":"\([0-9a-f]*\)"}$/\1/')
check "the report gives the last entry's hash" grep -q "<code>$last</code>" "$H"

month=$(echo "$day1" | cut -c1-7)
expect_ok "report --month $month" "$AU" report "$X" --html "$T_DIR/month.html" --month "$month"
inmonth=$(grep -c "\"time\":\"$month-" "$X")
check "the month holds its $inmonth entries" grep -q "Entries in the period</dt><dd>$inmonth of the log&rsquo;s $((N + 2))" "$T_DIR/month.html"
expect_ok "report --month 2020-01" "$AU" report "$X" --html "$T_DIR/empty.html" --month 2020-01
check "a month without entries: none in it" grep -q "Entries in the period</dt><dd>0 of the log&rsquo;s $((N + 2))" "$T_DIR/empty.html"
check "... every section says so" [ "$(grep -c 'None in this period.' "$T_DIR/empty.html")" -ge 10 ]
check "... and draws no chart" lacks '<svg ' "$T_DIR/empty.html"
check "... and names the month" grep -q 'January 2020 (1 January 2020 to 31 January 2020)' "$T_DIR/empty.html"
expect_fail "an impossible month is a usage error" '--month takes a month' "$AU" report "$X" --html "$T_DIR/m.html" --month 2026-13
expect_fail "report without --html is a usage error" '--html FILE is required' "$AU" report "$X"
expect_ok "report --help" "$AU" report --help

# ---- rendered by a real browser -------------------------------------------------------------
if ! find_browser; then
    t_end || exit 1
    echo "SKIP test_audit_report (rendering): no headless Chromium (sh deploy/install-deps.sh installs it)"
    exit 77
fi
render_html "$H"
check "the rendered DOM holds the SVG charts" [ "$(grep -o '<svg ' "$T_DIR/dom.html" | wc -l)" -ge 3 ]
check "the rendered DOM has the records chart" grep -q 'Records received per day, by agency</title>' "$T_DIR/dom.html"
check "the rendered DOM has the refusals chart" grep -q 'Refusals by kind</title>' "$T_DIR/dom.html"
check "no element made from the log in the DOM" lacks -E '<script|<b>' "$T_DIR/dom.html"

check_rendered
t_end
