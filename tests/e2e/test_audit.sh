# The audit log end to end, with real processes, as the people who rely on it
# use it: four agencies submit, each filing a receipt that proves its commit
# entry is in a checkpoint the linker signed; the analyst takes an extract;
# the IG lead fetches the live log and its checkpoints with an auditor key
# and verifies the copy against them and against every agency's receipt;
# after more activity an agency's old receipt is verified against a later
# checkpoint; a checkpoint is checked by an independent implementation (the
# C2SP formats in Python's standard library, Ed25519 by the openssl command);
# at the end the linker stops, the live log verifies whole, and the IG lead's
# HTML report of it is written.
. tests/e2e/lib.sh
. deploy/coalition-setup.sh
t_begin
K=$XL_BIN/crosslink-keys
A=$XL_BIN/crosslink-agent
L=$XL_BIN/crosslink-linker
AN=$XL_BIN/crosslink-analyst
AU=$XL_BIN/crosslink-audit
EP="ipc://$T_DIR/linker.sock"
C=$T_DIR/c
LOG=$C/linker/audit.jsonl
S=$C/ig/store
PUB=$C/ig/keys/linker-sign.pub
kid() { "$K" show "$1" | sed -n 's/^key id: //p'; }
# receipts: every agency's receipt files
receipts() { ls "$C"/*/state/receipts/* 2>/dev/null; }
# with_receipts: --receipt FILE for each of them
with_receipts() { for r in $(receipts); do printf -- '--receipt %s ' "$r"; done; }
entries() { grep -c '' "$1"; }

expect_ok "generate a coalition" \
    "$XL_BUILD/bench/gen_coalition" --seed 31 --people 1500 --quiet --out "$T_DIR/data"
expect_ok "set up keys, agencies and the linker" xl_coalition_setup "$C" "$XL_BIN" "$EP"
# The analyst and the IG lead: a key each, in the keyring, with their configs.
mkdir -p "$C/phi/keys" "$C/ig/keys"
chmod 700 "$C/phi/keys" "$C/ig/keys"
expect_ok "an analyst key" "$K" new analyst phi -o "$C/phi/keys"
expect_ok "an auditor key for the IG lead" "$K" new auditor ig -o "$C/ig/keys"
"$K" keyring add "$C/custodian/keyring" "$C/phi/keys/phi.pub" >/dev/null
"$K" keyring add "$C/custodian/keyring" "$C/ig/keys/ig.pub" >/dev/null
cp "$C/custodian/keyring" "$C/linker/keys/keyring"
cp -p "$C/custodian/analysis.key" "$C/custodian/linker.pub" "$C/custodian/linker-sign.pub" "$C/phi/keys/"
cp -p "$C/custodian/linker.pub" "$C/custodian/linker-sign.pub" "$C/ig/keys/"
sed -e "s|^endpoint = .*|endpoint = $EP|" -e "s|keys/analyst.key|keys/phi.key|" \
    deploy/examples/analyst.conf >"$C/phi/analyst.conf"
sed -e "s|^endpoint = .*|endpoint = $EP|" -e "s|^store = .*|store = store|" \
    deploy/examples/audit.conf >"$C/ig/audit.conf"
cat >"$C/linker/keys/projects" <<EOF
[gp]
purpose = GP registration of children known to youth justice
legal_basis = Art 6(1)(e)
analysts = $(kid "$C/phi/keys/phi.pub")
datasets = icb/health wmp/youth-justice
expires = 2099-12-31
EOF

start_linker
for pair in $XL_AGENCIES; do
    agency=${pair%%:*}
    kind=${pair#*:}
    expect_ok "agency $agency submits and files a receipt with its audit proof" \
        "$A" submit --quiet -c "$C/$agency/agent.conf" "$T_DIR/data/$kind.csv"
done
check "four receipts filed" [ "$(receipts | grep -c .)" -eq 4 ]
"$A" receipts -c "$C/wmp/agent.conf" -v >"$T_DIR/wmp-receipts.txt" 2>&1
check "the agency's listing says its submission was logged and proved" \
    grep -qE 'logged as audit entry [0-9]+, proved in the linker.s signed checkpoint of [0-9]+ entries' \
    "$T_DIR/wmp-receipts.txt"
expect_ok "a link run" "$L" link -c "$C/linker/linker.conf"
expect_ok "the analyst takes an extract" "$AN" extract --quiet -c "$C/phi/analyst.conf" gp -o "$T_DIR/extract"

# The IG lead fetches the live log and verifies the copy.
expect_ok "the IG lead fetches the live log" "$AU" fetch -c "$C/ig/audit.conf"
check "the copy holds the extract" grep -q '"event":"extract"' "$S/audit.jsonl"
check "the copy is the linker's log so far, byte for byte" \
    sh -c "head -n \$(grep -c '' '$S/audit.jsonl') '$LOG' | cmp -s - '$S/audit.jsonl'"
# shellcheck disable=SC2046
check "the copy verifies against every checkpoint and every agency's receipt" \
    "$AU" verify "$S/audit.jsonl" --linker-pub "$PUB" $(with_receipts) >"$T_DIR/verify1.txt"
check "verify says it checked the four receipts" grep -qE '^receipts +4 ' "$T_DIR/verify1.txt"
check "and that it verified" grep -qE '^result +verified$' "$T_DIR/verify1.txt"

# A checkpoint as outside tools check it, sharing no code with crosslink.
VKEY=$("$L" status -c "$C/linker/linker.conf" | sed -n 's/^audit checkpoints are signed as //p')
check "status gives the verifier key" sh -c "echo '$VKEY' | grep -qE '^crosslink/audit-[0-9a-f]{16}\\+[0-9a-f]{8}\\+[A-Za-z0-9+/=]{44}\$'"
# The last note: its three lines of text, the blank line and its one signature.
tail -n 5 "$S/audit.jsonl.checkpoints" >"$T_DIR/latest.note"
expect_ok "the latest checkpoint verifies with Python and openssl alone, root recomputed" \
    python3 tests/e2e/checkpoint_check.py "$VKEY" "$T_DIR/latest.note" "$S/audit.jsonl"
cp "$T_DIR/latest.note" "$T_DIR/bad.note"
sed -i '2s/^\([0-9]*\)$/\1 /' "$T_DIR/bad.note"
expect_fail "and a checkpoint altered by a byte does not" 'does not verify' \
    python3 tests/e2e/checkpoint_check.py "$VKEY" "$T_DIR/bad.note"

# More activity; the old receipt of one agency against a later checkpoint.
OLD=$(ls "$C"/wmp/state/receipts/* | head -n 1)
expect_ok "wmp submits again" "$A" submit --quiet -c "$C/wmp/agent.conf" "$T_DIR/data/police.csv"
expect_ok "a second link run" "$L" link -c "$C/linker/linker.conf"
n1=$(entries "$S/audit.jsonl")
expect_ok "the IG lead fetches again" "$AU" fetch -c "$C/ig/audit.conf"
check "only new entries were added" [ "$(entries "$S/audit.jsonl")" -gt "$n1" ]
expect_ok "the agency's first receipt verifies against the later checkpoint" \
    "$AU" verify "$S/audit.jsonl" --linker-pub "$PUB" --receipt "$OLD"
# The receipt's commit entry, altered in a copy with the chain recomputed
# after it and the checkpoints left out: the receipt still catches it.
python3 - "$S/audit.jsonl" "$OLD" >"$T_DIR/rewritten.jsonl" <<'PY'
import hashlib, re, sys
prev, hit = bytes(32), False
for line in open(sys.argv[1]).read().splitlines():
    canon = line[:line.rindex(',"hash":"')] + '}'
    if not hit and '"event":"submission.commit"' in canon and '"agency":"wmp"' in canon:
        canon, hit = canon.replace('"records":', '"records":1', 1), True
    canon = re.sub(r'"prev":"[0-9a-f]{64}"', '"prev":"%s"' % prev.hex(), canon, count=1)
    prev = hashlib.sha256(prev + canon.encode()).digest()
    print(canon[:-1] + ',"hash":"%s"}' % prev.hex())
PY
expect_fail "a rewritten log fails the agency's receipt, naming it" "receipt .*$(basename "$OLD")" \
    "$AU" verify "$T_DIR/rewritten.jsonl" --linker-pub "$PUB" --receipt "$OLD" --allow-uncovered

stop_linker
check "linker stopped cleanly" grep -q '"event":"linker.stop"' "$LOG"
# shellcheck disable=SC2046
expect_ok "the live log verifies whole after the stop, with every receipt and the IG lead's checkpoints" \
    "$AU" verify "$LOG" --linker-pub "$PUB" --checkpoint "$S/audit.jsonl.checkpoints" $(with_receipts)
expect_ok "the IG lead writes the board report" "$AU" report "$LOG" --html "$T_DIR/ig-report.html"
check "the report names the project extracted" grep -q 'gp' "$T_DIR/ig-report.html"
check "no identifier in the log, its checkpoints or the report" \
    lacks -i -E 'forename|surname|[0-9]{3} [0-9]{3} [0-9]{4}' "$LOG" "$LOG.checkpoints" "$T_DIR/ig-report.html"
t_end
