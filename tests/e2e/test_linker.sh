# The linker service and agents as real processes over ZeroMQ with CURVE and a
# real SQLite database: concurrent submissions, kill -9 of either side, every
# refusal, and garbage on the wire.
. tests/e2e/lib.sh
. deploy/coalition-setup.sh
t_begin
K=$XL_BIN/crosslink-keys
A=$XL_BIN/crosslink-agent
L=$XL_BIN/crosslink-linker
RAW=$XL_BUILD/tests/tools/zmq_raw
EP="ipc://$T_DIR/linker.sock"
C=$T_DIR/c
# stored AGENCY: records of the agency's current submission, per `status`
stored() {
    "$L" status -c "$C/linker/linker.conf" | awk -v a="$1" '$1 == a && $3 ~ /^[0-9]+$/ { print $3; exit }'
}
# open_stored: records stored so far in open submissions
open_stored() {
    "$L" status -c "$C/linker/linker.conf" | sed -n 's/.* \([0-9][0-9]*\) of [0-9]* records.*/\1/p' | head -1
}

expect_ok "generate a coalition" "$XL_BUILD/bench/gen_coalition" --seed 11 --people 3000 --quiet --out "$T_DIR/data"
expect_ok "set up keys, agencies and the linker" xl_coalition_setup "$C" "$XL_BIN" "$EP"
start_linker
check "linker listens" [ -S "$T_DIR/linker.sock" ]

# --- four agents at once -------------------------------------------------------
for pair in $XL_AGENCIES; do
    agency=${pair%%:*}
    "$A" submit -q -c "$C/$agency/agent.conf" "$T_DIR/data/${pair#*:}.csv" >"$T_DIR/$agency.out" 2>&1 &
    eval "pid_$agency=\$!"
done
for pair in $XL_AGENCIES; do
    agency=${pair%%:*}
    eval "wait \$pid_$agency"
    check "$agency: concurrent submit exits 0" [ $? -eq 0 ]
    sent=$(sed -n 's/^dataset .*: \([0-9,][0-9,]*\) records.*/\1/p' "$T_DIR/$agency.out" | tr -d , | head -1)
    check "$agency: receipt filed" [ -n "$(ls "$C/$agency/state/receipts" 2>/dev/null)" ]
    check "$agency: linker holds what was sent ($sent records)" same "$sent" "$(stored "$agency")"
    expect_ok "$agency: receipts verify with the linker's key" "$A" receipts -c "$C/$agency/agent.conf" --verify
done
check "every commit audited" [ "$(audited submission.commit)" -eq 4 ]
n_commit=$(audited submission.commit)

# The service links by itself once the commits have settled.
i=0
while [ "$(audited link.run)" -eq 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "a link run followed the commits, audited" [ "$(audited link.run)" -ge 1 ]

# Resubmitting identical content is idempotent: the stored receipt comes back.
"$A" encode -q -c "$C/csc/agent.conf" -o "$T_DIR/social.xle" "$T_DIR/data/social.csv" >/dev/null
expect_ok "submit an encoded file" "$A" submit -q -c "$C/csc/agent.conf" "$T_DIR/social.xle"
n_commit=$(audited submission.commit)
expect_ok "resubmission of the same file" "$A" submit -q -c "$C/csc/agent.conf" "$T_DIR/social.xle"
check "resubmission stores nothing new" [ "$(audited submission.commit)" -eq "$n_commit" ]

# --- kill -9 of the linker in the middle of a submission -----------------------
# One record a chunk: a round trip and a commit each, so the submission is
# still open when the status poll below (slower under the sanitizers) looks
# and the kill lands. With five a chunk, an agent under the sanitizers once
# finished before the kill, and the check below found nothing open.
sed -i 's/^chunk_records = .*/chunk_records = 1/' "$C/icb/agent.conf"
"$A" encode -q -c "$C/icb/agent.conf" -o "$T_DIR/health.xle" "$T_DIR/data/health.csv" >/dev/null
want=$(stored icb)
"$A" submit -q --timeout 2 -c "$C/icb/agent.conf" "$T_DIR/health.xle" >"$T_DIR/icb2.out" 2>&1 &
apid=$!
i=0
while [ "$(open_stored)" = "" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$LPID"
wait "$LPID" 2>/dev/null
LPID=
got=$(open_stored)
check "linker killed with part of the submission stored ($got records)" [ -n "$got" ]
start_linker
wait "$apid"
check "agent resumed and finished after the linker restarted" [ $? -eq 0 ]
check "no record lost or duplicated ($want records)" same "$want" "$(stored icb)"
check "the resumed submission committed once" [ "$(audited submission.commit)" -eq $((n_commit + 1)) ]
n_commit=$(audited submission.commit)

# --- kill -9 of the agent in the middle of a submission -------------------------
sed -i 's/^chunk_records = .*/chunk_records = 1/' "$C/lea/agent.conf"
"$A" encode -q -c "$C/lea/agent.conf" -o "$T_DIR/edu.xle" "$T_DIR/data/education.csv" >/dev/null
want=$(stored lea)
"$A" submit -q -c "$C/lea/agent.conf" "$T_DIR/edu.xle" >/dev/null 2>&1 &
apid=$!
i=0
while [ "$(open_stored)" = "" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$apid"
wait "$apid" 2>/dev/null
rm -f "$C/lea/state/lock"
got=$(open_stored)
check "agent killed with part of the submission stored ($got records)" [ -n "$got" ]
expect_ok "restarted agent resumes" "$A" submit -q -c "$C/lea/agent.conf" "$T_DIR/edu.xle"
check "no record lost or duplicated after the agent restart ($want)" same "$want" "$(stored lea)"

# --- refusals: each refused, audited, nothing stored ----------------------------
before=$("$L" status -c "$C/linker/linker.conf" | grep '^totals')
"$K" new agent stranger --agency wmp -o "$C/wmp/keys" >/dev/null
cp "$C/wmp/agent.conf" "$C/wmp/stranger.conf"
sed -i 's/wmp-agent.key/stranger.key/' "$C/wmp/stranger.conf"
expect_fail "unknown key refused" 'keyring|refused|not an active' "$A" submit -q --retry-for 5s -c "$C/wmp/stranger.conf" "$T_DIR/data/police.csv"
check "unknown key audited" [ "$(audited connection.refused)" -ge 1 ]

"$K" keyring revoke "$C/linker/keys/keyring" csc-agent >/dev/null
kill -HUP "$LPID"
# The reload is audited when the service's loop next turns (a link run or an
# asan build can make that take longer than a fixed pause): up to 10 s.
i=0
while [ "$(audited keyring.reload)" -lt 1 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "keyring reload audited" [ "$(audited keyring.reload)" -ge 1 ]
expect_fail "revoked key refused" 'keyring|refused|revoked|not an active|DENIED|denied' "$A" submit -q --retry-for 5s -c "$C/csc/agent.conf" "$T_DIR/social.xle"
check "revoked key's attempt audited" [ "$(audited connection.refused)" -ge 2 ]

cp "$C/wmp/agent.conf" "$C/wmp/other.conf"
sed -i 's/^agency = wmp/agency = icb/; s/wmp-local.key/icb-local.key/' "$C/wmp/other.conf"
cp "$C/icb/keys/icb-local.key" "$C/wmp/keys/" 2>/dev/null
expect_fail "an agent configured for another agency stops before sending" 'agency' "$A" submit -q -c "$C/wmp/other.conf" "$T_DIR/data/health.csv"
# The linker's own check: a begin for another agency from a valid agent key.
"$RAW" "$EP" "$C/wmp/keys/linker.pub" "$C/wmp/keys/wmp-agent.key" ping >"$T_DIR/raw-other.out" 2>&1
check "a begin for another agency is DENIED by the linker" grep -q 'reply error 4' "$T_DIR/raw-other.out"
check "and audited" grep -q '"event":"submission.refused".*"code":"DENIED"' "$C/linker/audit.jsonl"

sed 's/^field = sex .*/field = sex 4 128/' "$C/wmp/linkage.spec" >"$C/wmp/other.spec"
sed 's/^spec = .*/spec = other.spec/' "$C/wmp/agent.conf" >"$C/wmp/spec.conf"
expect_fail "wrong specification refused, saying so" 'specification' "$A" submit -q -c "$C/wmp/spec.conf" "$T_DIR/data/police.csv"

"$K" rotate "$C/custodian" >/dev/null
"$K" bundle "$C/custodian" "$C/wmp/keys/wmp-agent.pub" -o "$C/wmp/e2.bundle" >/dev/null
(cd "$C/wmp/keys" && "$K" unbundle ../e2.bundle --key wmp-agent.key -o linkage-e2.secret >/dev/null)
sed 's/linkage-e1.secret/linkage-e2.secret/' "$C/wmp/agent.conf" >"$C/wmp/e2.conf"
expect_fail "wrong epoch refused, saying so" 'epoch' "$A" submit -q -c "$C/wmp/e2.conf" "$T_DIR/data/police.csv"
check "spec and epoch refusals audited with their reason" [ "$(grep -c '"event":"submission.refused".*"code":"MISMATCH"' "$C/linker/audit.jsonl")" -ge 2 ]
check "nothing stored by any refusal" same "$before" "$("$L" status -c "$C/linker/linker.conf" | grep '^totals')"

# --- garbage on the wire from a raw client with a valid key ---------------------
for mode in garbage truncated version nobody multipart oversized; do
    "$RAW" "$EP" "$C/wmp/keys/linker.pub" "$C/wmp/keys/wmp-agent.key" "$mode" >"$T_DIR/raw-$mode.out" 2>&1
    check "raw $mode: linker still running" kill -0 "$LPID"
done
check "garbage gets error replies" grep -q 'reply error' "$T_DIR/raw-garbage.out"
check "a truncated envelope gets an error reply" grep -q 'reply error' "$T_DIR/raw-truncated.out"
check "an unknown version gets a VERSION error" grep -q 'reply error 2' "$T_DIR/raw-version.out"
check "an envelope without a body gets MALFORMED" grep -q 'reply error 1' "$T_DIR/raw-nobody.out"
"$RAW" "$EP" "$C/wmp/keys/linker.pub" "$C/wmp/keys/wmp-agent.key" ping >"$T_DIR/raw-ping.out" 2>&1
check "after all that, a request is still answered" grep -q 'reply error 4' "$T_DIR/raw-ping.out"
"$RAW" "$EP" "$C/wmp/keys/linker.pub" "$C/wmp/keys/stranger.key" ping >"$T_DIR/raw-stranger.out" 2>&1
check "an unknown key is refused at the handshake" grep -q '^refused' "$T_DIR/raw-stranger.out"

# --- import of a file-based agency's .xle, through the same checks --------------
"$A" encode -q -c "$C/wmp/agent.conf" -o "$T_DIR/police.xle" "$T_DIR/data/police.csv" >/dev/null
expect_ok "import an .xle" sh -c "'$L' import -c '$C/linker/linker.conf' '$T_DIR/police.xle' >'$T_DIR/import1.out'"
check "import prints a receipt" grep -q '^crosslink-receipt v1' "$T_DIR/import1.out"
n_commit=$(audited submission.commit)
"$L" import -c "$C/linker/linker.conf" "$T_DIR/police.xle" >"$T_DIR/import2.out" 2>/dev/null
check "importing the same file again returns the same receipt" cmp -s "$T_DIR/import1.out" "$T_DIR/import2.out"
check "and stores nothing" [ "$(audited submission.commit)" -eq "$n_commit" ]
"$A" encode -q -c "$C/wmp/e2.conf" -o "$T_DIR/police-e2.xle" "$T_DIR/data/police.csv" >/dev/null
expect_fail "import of a wrong-epoch file refused" 'epoch' "$L" import -c "$C/linker/linker.conf" "$T_DIR/police-e2.xle"

# --- link runs on demand ---------------------------------------------------------
"$L" link -c "$C/linker/linker.conf" >"$T_DIR/link1.out" 2>&1
check "link run on demand" grep -q '^link run [0-9]*: [0-9]* records' "$T_DIR/link1.out"
"$L" link -c "$C/linker/linker.conf" >"$T_DIR/link2.out" 2>&1
check "re-running with no new data gives identical clusters" same "$(sed -n 's/.*clusters \([0-9a-f]*\)$/\1/p' "$T_DIR/link1.out")" "$(sed -n 's/.*clusters \([0-9a-f]*\)$/\1/p' "$T_DIR/link2.out")"
"$L" link -c "$C/linker/linker.conf" --report >"$T_DIR/report.out" 2>&1
check "the report shows match rates per agency pair" grep -q '^match rates' "$T_DIR/report.out"
check "the report marks the thresholds on the score distribution" grep -q '<- accept' "$T_DIR/report.out"
check "the report shows the model's m and u per field and level" grep -q '^  dob  *same  *0\.[0-9]*  *0\.[0-9]*  *+[0-9]' "$T_DIR/report.out"
check "the report shows how candidates were found" grep -q '^candidates: [0-9]* pairs scored' "$T_DIR/report.out"
check "the report gives the threshold's expected precision and recall" grep -q 'the model expects precision 0\.[0-9]* and recall' "$T_DIR/report.out"
check "the report counts the joins refused" grep -q 'joins of groups refused for want of support' "$T_DIR/report.out"
check "status shows the last link run" sh -c "'$L' status -c '$C/linker/linker.conf' | grep -q '^last link run: [0-9]* at'"
check "every link run is audited with its counts" grep -q '"event":"link.run".*"clusters"' "$C/linker/audit.jsonl"
"$L" conflicts -c "$C/linker/linker.conf" --agency icb >"$T_DIR/conflicts.csv"
check "conflicts exits 0" [ $? -eq 0 ]
# The header is printed before the query: the check is on the rows (the
# generated coalition has conflicts in icb's data).
check "conflicts listed for an agency by local_ref" grep -q '^icb,[a-z-]*,[0-9a-f]\{32\},' "$T_DIR/conflicts.csv"
check "each pair of records is listed once ($(sed 1d "$T_DIR/conflicts.csv" | wc -l) conflicts)" \
    sh -c "[ -z \"\$(sed 1d '$T_DIR/conflicts.csv' | cut -d, -f3,6,7 | sort | uniq -d)\" ]"
check "with the level names the report uses, not numbers" \
    sh -c "sed 1d '$T_DIR/conflicts.csv' | cut -d, -f8 | grep -qvE '^[0-9]+\$' && ! sed 1d '$T_DIR/conflicts.csv' | cut -d, -f8 | grep -qE '^[0-9]+\$'"
"$A" refs -c "$C/icb/agent.conf" "$T_DIR/data/health.csv" >"$T_DIR/icb-refs.csv"
check "the agency maps its local_refs back to its own ids" [ "$(wc -l <"$T_DIR/icb-refs.csv")" -gt 1000 ]
ref=$(sed -n '2s/^[^,]*,[^,]*,\([0-9a-f]*\),.*/\1/p' "$T_DIR/conflicts.csv")
check "a conflict's local_ref is one of the agency's records" grep -q ",${ref:-none}\$" "$T_DIR/icb-refs.csv"
"$K" new admin ops -o "$C/linker/keys" >/dev/null
"$K" keyring add "$C/linker/keys/keyring" "$C/linker/keys/ops.pub" >/dev/null
kill -HUP "$LPID"
sleep 0.5
"$RAW" "$EP" "$C/wmp/keys/linker.pub" "$C/linker/keys/ops.key" link >"$T_DIR/raw-link.out" 2>&1
check "an admin's link request over the wire gets a report" grep -q 'reply link_report run' "$T_DIR/raw-link.out"
"$RAW" "$EP" "$C/wmp/keys/linker.pub" "$C/wmp/keys/wmp-agent.key" link >"$T_DIR/raw-link2.out" 2>&1
check "an agent's link request is DENIED" grep -q 'reply error 4' "$T_DIR/raw-link2.out"

stop_linker
check "linker stopped cleanly" grep -q '"event":"linker.stop"' "$C/linker/audit.jsonl"
check "the keyring reload names the key it added" grep -qE '"event":"keyring.reload".*"keys_added":\[\{"key_id":"[0-9a-f]{16}","name":"ops","role":"admin","agency":"coalition"\}\]' "$C/linker/audit.jsonl"
check "no identifier in the linker's log or audit log" lacks -i -E 'forename|surname|[0-9]{3} [0-9]{3} [0-9]{4}' "$T_DIR/linker.log" "$C/linker/audit.jsonl"

# The whole audit log is checked at start, not only its tail: an entry in the
# middle edited (entry 3; the last two are intact) stops the service.
cp "$C/linker/audit.jsonl" "$T_DIR/audit.good"
awk 'NR == 3 { sub(/"role":"[a-z]*"/, "\"role\":\"admin\"") } { print }' "$T_DIR/audit.good" >"$C/linker/audit.jsonl"
check "the edit changed entry 3 only" same "$(cmp "$T_DIR/audit.good" "$C/linker/audit.jsonl" | sed -n 's/.* line \([0-9]*\)$/\1/p')" 3
expect_fail "a linker whose audit log was edited in the middle refuses to start" \
    'entry 3 \(at byte [0-9]+\): its hash member does not match its content' \
    timeout 20 "$L" serve -c "$C/linker/linker.conf"
cp "$T_DIR/audit.good" "$C/linker/audit.jsonl"
sed 3d "$T_DIR/audit.good" >"$C/linker/audit.jsonl"
expect_fail "and one with an entry removed" 'entry 3 .*has seq 4' timeout 20 "$L" serve -c "$C/linker/linker.conf"

# What the chain alone cannot show, the signed checkpoints beside the log do.
# s_rechain FROM TO: the good log with FROM replaced by TO in entry 3 and every
# later entry's prev and hash recomputed, as an insider who knows the format can.
s_rechain() {
    python3 - "$T_DIR/audit.good" "$1" "$2" <<'PY'
import hashlib, re, sys
prev = bytes(32)
for i, line in enumerate(open(sys.argv[1]).read().splitlines()):
    canon = line[:line.rindex(',"hash":"')] + '}'
    if i == 2:
        canon = canon.replace(sys.argv[2], sys.argv[3], 1)
    canon = re.sub(r'"prev":"[0-9a-f]{64}"', '"prev":"%s"' % prev.hex(), canon, count=1)
    prev = hashlib.sha256(prev + canon.encode()).digest()
    print(canon[:-1] + ',"hash":"%s"}' % prev.hex())
PY
}
s_rechain '"role":"' '"role":"x' >"$C/linker/audit.jsonl"
check "the re-chained log differs from entry 3 on" same "$(cmp "$T_DIR/audit.good" "$C/linker/audit.jsonl" | sed -n 's/.* line \([0-9]*\)$/\1/p')" 3
expect_fail "an edit with the chain recomputed after it is refused, naming the range" \
    'checkpoint [0-9]+ in audit.jsonl.checkpoints \(size [0-9]+\) does not match the log: .*an entry from [0-9]+ to [0-9]+ was changed' \
    timeout 20 "$L" serve -c "$C/linker/linker.conf"
n=$(wc -l <"$T_DIR/audit.good")
head -n $((n - 2)) "$T_DIR/audit.good" >"$C/linker/audit.jsonl"
expect_fail "a log cut at a line boundary is refused, naming the entries removed" \
    "the log has $((n - 2)) entries but .* covers $n: entries $((n - 1))-$n were removed" \
    timeout 20 "$L" serve -c "$C/linker/linker.conf"
: >"$C/linker/audit.jsonl"
expect_fail "an emptied log is refused" "the log has 0 entries but .* covers $n" \
    timeout 20 "$L" serve -c "$C/linker/linker.conf"
# A forged entry after the clean stop: well formed and chained, but unsigned.
{
    cat "$T_DIR/audit.good"
    python3 - "$T_DIR/audit.good" <<'PY'
import hashlib, json, sys
last = open(sys.argv[1]).read().splitlines()[-1]
prev = bytes.fromhex(json.loads(last)["hash"])
seq = json.loads(last)["seq"] + 1
canon = ('{"seq":%d,"time":"2026-12-01T00:00:00Z","actor":"linker","role":"linker",'
         '"event":"extract.refused","details":{},"prev":"%s"}' % (seq, prev.hex()))
print(canon[:-1] + ',"hash":"%s"}' % hashlib.sha256(prev + canon.encode()).hexdigest())
PY
} >"$C/linker/audit.jsonl"
expect_fail "a forged entry appended after the clean stop is refused, naming it" \
    "entries $((n + 1))-$((n + 1)) follow the linker's clean stop \(entry $n\)" \
    timeout 20 "$L" serve -c "$C/linker/linker.conf"
cp "$T_DIR/audit.good" "$C/linker/audit.jsonl"
t_end
