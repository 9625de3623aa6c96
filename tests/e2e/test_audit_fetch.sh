# crosslink-audit fetch with real processes: an auditor's key pulls the linker's
# audit log and its signed checkpoints into a store, then only what is new; the
# copy is the linker's log, byte for byte; an agent's and an analyst's key are
# refused and the refusals audited; a copy or a kept checkpoint altered in the
# store is refused; an unreachable linker gives 75. Then "two views": a second
# linker signing with the same key but with another history (a copy of the
# first's state that went its own way, and one started afresh) is refused
# whichever way its log differs (the same size with another root, a larger
# log that does not extend the one seen, a smaller one), naming the size, and
# the store is left as it was; the first linker is still accepted after, and
# crosslink-audit verify holds the store's copy to every checkpoint kept.
. tests/e2e/lib.sh
. deploy/coalition-setup.sh
t_begin
K=$XL_BIN/crosslink-keys
A=$XL_BIN/crosslink-agent
L=$XL_BIN/crosslink-linker
AU=$XL_BIN/crosslink-audit
EP="ipc://$T_DIR/linker.sock"
C=$T_DIR/c
LOG=$C/linker/audit.jsonl
S=$C/ig/store
export XL_LOG=debug # the linker's log says which entries each page served

# conf DIR KEY STORE: $C/DIR/audit.conf for the key pair $C/DIR/keys/KEY.{pub,key}
conf() {
    sed -e "s|^endpoint = .*|endpoint = $EP|" -e "s|keys/ig.pub|keys/$2.pub|" \
        -e "s|keys/ig.key|keys/$2.key|" -e "s|^store = .*|store = $3|" \
        deploy/examples/audit.conf >"$C/$1/audit.conf"
}
# role_key ROLE NAME: a key pair of ROLE in $C/NAME/keys, in the keyring, with an audit.conf
role_key() {
    mkdir -p "$C/$2/keys" && chmod 700 "$C/$2/keys" &&
        "$K" new "$1" "$2" -o "$C/$2/keys" >/dev/null &&
        "$K" keyring add "$C/custodian/keyring" "$C/$2/keys/$2.pub" >/dev/null &&
        cp "$C/custodian/linker.pub" "$C/custodian/linker-sign.pub" "$C/$2/keys/" &&
        conf "$2" "$2" store
}
kid() { "$K" show "$1" | sed -n 's/^key id: //p'; }
# started DIR: waits for the linker of $C/DIR to log its start (it binds first)
started() {
    i=0
    while ! tail -n 1 "$C/$1/audit.jsonl" 2>/dev/null | grep -q '"event":"linker.start"' && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
}
# start_at DIR: the linker service of $C/DIR (as start_linker does for $C/linker)
start_at() {
    "$L" serve -c "$C/$1/linker.conf" 2>>"$T_DIR/linker.log" &
    LPID=$!
    i=0
    while [ ! -S "$T_DIR/linker.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    started "$1"
}
entries() { grep -c '' "$1"; }
notes() { grep -c '^— ' "$S/audit.jsonl.checkpoints"; }
# prefix_of FILE LOG: FILE is the first lines of LOG, byte for byte
prefix_of() { n=$(entries "$1") && [ "$n" -gt 0 ] && head -n "$n" "$2" | cmp -s - "$1"; }
# fetch_out NAME PATTERN CONF: fetch exits 0 and its one line of output (kept in
# FOUT) matches PATTERN
fetch_out() {
    if FOUT=$("$AU" fetch -c "$3" 2>"$T_DIR/.ferr"); then
        if [ "$(printf '%s\n' "$FOUT" | grep -c '')" -eq 1 ] && printf '%s\n' "$FOUT" | grep -qE -- "$2"; then
            ok "$1"
        else
            not_ok "$1" "output: $FOUT"
        fi
    else
        not_ok "$1" "exit $?: $(cat "$T_DIR/.ferr")"
    fi
}
# snapshot / unchanged: the store's files as they were
snapshot() { cp "$S/audit.jsonl" "$T_DIR/copy.before" && cp "$S/audit.jsonl.checkpoints" "$T_DIR/cps.before"; }
unchanged() {
    cmp -s "$S/audit.jsonl" "$T_DIR/copy.before" && cmp -s "$S/audit.jsonl.checkpoints" "$T_DIR/cps.before" &&
        [ ! -e "$S/audit.jsonl.new" ]
}

expect_ok "generate agency data" \
    "$XL_BUILD/bench/gen_coalition" --seed 5 --people 300 --quiet --out "$T_DIR/data"
expect_ok "set up keys, agencies and the linker" xl_coalition_setup "$C" "$XL_BIN" "$EP"
expect_ok "an auditor key, ig" role_key auditor ig
expect_ok "an analyst key, alice" role_key analyst alice
expect_ok "an audit.conf naming wmp's agent key" conf wmp wmp-agent store
cp "$C/custodian/keyring" "$C/linker/keys/keyring"
IG=$(kid "$C/ig/keys/ig.pub")
check "ig has a key id" [ ${#IG} -eq 16 ]
start_linker
check "linker listens" [ -S "$T_DIR/linker.sock" ]

# --- the first fetch, then nothing new ------------------------------------------------------
fetch_out "first fetch" '^[1-9][0-9]* new entries, [1-9][0-9]* in .*audit.jsonl, verified: .*size [1-9]' \
    "$C/ig/audit.conf"
N1=$(entries "$S/audit.jsonl")
check "the first fetch reports the $N1 entries it wrote" \
    same "$(printf '%s' "$FOUT" | cut -d' ' -f1,4)" "$N1 $N1"
check "the copy is the linker's log, byte for byte ($N1 entries)" prefix_of "$S/audit.jsonl" "$LOG"
check "one checkpoint kept" [ "$(notes)" -eq 1 ]
check "the kept checkpoint is the linker's of size $N1" \
    grep -qx "$N1" "$S/audit.jsonl.checkpoints"
check "store mode 700" [ "$(mode_of "$S")" = 700 ]
check "copy mode 600" [ "$(mode_of "$S/audit.jsonl")" = 600 ]
check "checkpoints mode 600" [ "$(mode_of "$S/audit.jsonl.checkpoints")" = 600 ]
check "no partial copy left" [ ! -e "$S/audit.jsonl.new" ]
snapshot
fetch_out "a second fetch finds nothing new" "^0 new entries, $N1 in " "$C/ig/audit.conf"
check "the store is as it was (no checkpoint kept twice)" unchanged
check "serving the log added nothing to it" [ "$(entries "$LOG")" -eq "$N1" ]

# --- other roles are refused, and the refusals audited ----------------------------------------
expect_fail "an agent key is refused, naming its role" "role agent: audit_query is for auditor keys only" \
    "$AU" fetch -c "$C/wmp/audit.conf" --retry-for 0
expect_fail "an analyst key is refused, naming its role" "role analyst: audit_query is for auditor keys only" \
    "$AU" fetch -c "$C/alice/audit.conf" --retry-for 0
check "the agent's refusal is audited" grep -q '"role":"agent","event":"request.refused".*"request":"audit_query"' "$LOG"
check "the analyst's refusal is audited" grep -q '"role":"analyst","event":"request.refused".*"request":"audit_query"' "$LOG"
check "the agent's refused store holds no copy" [ ! -e "$C/wmp/store/audit.jsonl" ]
check "the analyst's refused store holds no copy" [ ! -e "$C/alice/store/audit.jsonl" ]

# --- more activity: only the new entries ----------------------------------------------------------
expect_ok "wmp submits" "$A" submit -q -c "$C/wmp/agent.conf" "$T_DIR/data/police.csv"
i=0
while ! grep -q '"event":"link.run"' "$LOG" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
check "the link run after it is logged" grep -q '"event":"link.run"' "$LOG"
NL=$(entries "$LOG")
fetch_out "a fetch after activity" "^$((NL - N1)) new entries, $NL in " "$C/ig/audit.conf"
N3=$(entries "$S/audit.jsonl")
check "the copy is the linker's log, byte for byte ($N3 entries)" prefix_of "$S/audit.jsonl" "$LOG"
check "it holds the submission's commit" grep -q '"event":"submission.commit"' "$S/audit.jsonl"
check "two checkpoints kept" [ "$(notes)" -eq 2 ]
check "the linker served the first fetch from entry 1" \
    grep -q "audit entries for key $IG: $N1 of 1\.\.$N1," "$T_DIR/linker.log"
check "and this fetch from entry $((N1 + 1)) only" \
    grep -q "audit entries for key $IG: $((N3 - N1)) of $((N1 + 1))\.\.$N3," "$T_DIR/linker.log"
check "no other page was served" [ "$(grep -c "audit entries for key $IG" "$T_DIR/linker.log")" -eq 2 ]

# --- the store itself altered -------------------------------------------------------------------
snapshot
sed -i '2s/"seq":2,/"seq":2 ,/' "$S/audit.jsonl"
expect_fail "an entry altered in the copy is refused, naming it" "audit.jsonl: entry 2 .*nothing written" \
    "$AU" fetch -c "$C/ig/audit.conf"
cp "$T_DIR/copy.before" "$S/audit.jsonl"
sed -i '0,/^— /s/^\(— [^ ]* \)./\1A/' "$S/audit.jsonl.checkpoints"
if cmp -s "$S/audit.jsonl.checkpoints" "$T_DIR/cps.before"; then
    sed -i '0,/^— /s/^\(— [^ ]* \)./\1B/' "$S/audit.jsonl.checkpoints"
fi
expect_fail "a kept checkpoint altered is refused" "checkpoint 1 does not verify with the linker's signing key" \
    "$AU" fetch -c "$C/ig/audit.conf"
cp "$T_DIR/cps.before" "$S/audit.jsonl.checkpoints"
fetch_out "put back, the store fetches again" "^0 new entries, $N3 in " "$C/ig/audit.conf"
check "the store is as it was" unchanged

# --- an unreachable linker ----------------------------------------------------------------------
stop_linker
"$AU" fetch -c "$C/ig/audit.conf" --retry-for 0 >/dev/null 2>"$T_DIR/.err"
rc=$?
check "an unreachable linker gives exit status 75" [ "$rc" -eq 75 ]
check "and says so" grep -q "nothing written" "$T_DIR/.err"
t0=$(date +%s.%N)
"$AU" fetch -c "$C/ig/audit.conf" --retry-for 3 >/dev/null 2>&1
rc=$?
secs=$(echo "$(date +%s.%N) - $t0" | bc)
check "--retry-for 3 is kept: 75 after ${secs} s, not 3 s plus a timeout" \
    sh -c "[ $rc -eq 75 ] && [ \$(echo '$secs >= 2.9 && $secs < 6' | bc) -eq 1 ]"

# --- two views: the same signing key, another history --------------------------------------------
# linkerB is a copy of the linker's state while it is stopped: each then
# starts once (a linker.start entry each), so both logs have the same size and
# differ in their last entry.
cp -a "$C/linker" "$C/linkerB"
start_linker
started linker
NL=$(entries "$LOG")
check "the linker's stop and start were logged" [ "$NL" -gt "$N3" ]
fetch_out "after a restart, its stop and start are fetched" "^$((NL - N3)) new entries, $NL in " \
    "$C/ig/audit.conf"
N5=$(entries "$S/audit.jsonl")
stop_linker
snapshot
start_at linkerB
check "linkerB listens" [ -S "$T_DIR/linker.sock" ]
check "linkerB's log has the size the store kept last ($N5)" [ "$(entries "$C/linkerB/audit.jsonl")" -eq "$N5" ]
expect_fail "the same size with another root is refused" \
    "two checkpoints of size $N5 with different roots: the log was rewritten or shown two ways" \
    "$AU" fetch -c "$C/ig/audit.conf" --retry-for 0
check "the store is as it was" unchanged
# One more entry at linkerB (a refusal): now a larger log that does not extend the one seen.
expect_fail "linkerB refuses the agent key" "role agent" "$AU" fetch -c "$C/wmp/audit.conf" --retry-for 0
expect_fail "a larger log that does not extend the one seen is refused" \
    "checkpoint of size $((N5 + 1)) is not consistent with the one of size $N5 seen before" \
    "$AU" fetch -c "$C/ig/audit.conf" --retry-for 0
check "the store is as it was" unchanged
stop_linker
# linkerC: the linker's keys and configuration only, a history of its own from nothing.
mkdir -p "$C/linkerC/keys" && chmod 700 "$C/linkerC/keys"
cp -p "$C/linker/keys/linker.key" "$C/linker/keys/linker-sign.key" "$C/linker/keys/keyring" "$C/linkerC/keys/"
cp "$C/linker/linker.conf" "$C/linker/linkage.spec" "$C/linkerC/"
start_at linkerC
check "linkerC listens" [ -S "$T_DIR/linker.sock" ]
# Refusals grow its log past the sizes kept (a kept size would be refused as
# two roots of one size, as above).
i=0
while grep -qx "$(entries "$C/linkerC/audit.jsonl")" "$S/audit.jsonl.checkpoints" && [ $i -lt 5 ]; do
    "$AU" fetch -c "$C/wmp/audit.conf" --retry-for 0 2>/dev/null
    i=$((i + 1))
done
nc=$(entries "$C/linkerC/audit.jsonl")
check "linkerC's log ($nc entries) is smaller than the store's last checkpoint" [ "$nc" -lt "$N5" ]
check "and of another size than any kept" lacks -x "$nc" "$S/audit.jsonl.checkpoints"
expect_fail "a smaller log is refused as truncated or rolled back" \
    "smaller than size $N5 seen before .*truncated or rolled back" \
    "$AU" fetch -c "$C/ig/audit.conf" --retry-for 0
check "the store is as it was" unchanged
stop_linker
start_linker
fetch_out "the first linker is accepted again" "^[1-9][0-9]* new entries, [0-9]+ in " "$C/ig/audit.conf"
check "the copy is still its log, byte for byte" prefix_of "$S/audit.jsonl" "$LOG"
stop_linker
# crosslink-audit verify finds the kept checkpoints beside the copy.
"$AU" verify "$S/audit.jsonl" --linker-pub "$C/ig/keys/linker-sign.pub" >"$T_DIR/verify.out" 2>&1
rc=$?
check "verify passes the store's copy" [ "$rc" -eq 0 ]
check "holding it to every checkpoint kept ($(notes))" \
    grep -qE "^checkpoints +$(notes) signatures verified" "$T_DIR/verify.out"
t_end
