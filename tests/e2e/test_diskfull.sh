# The linker on a filesystem that fills up: its database and audit log on a
# small tmpfs this test mounts, filled until a submission hits ENOSPC midway.
# The chunk is refused with UNAVAILABLE, the linker says why and keeps serving,
# the agent keeps retrying, and once space is freed the same run ends with a
# receipt and every record stored once. Needs root (mount); otherwise SKIP,
# exit 77, which tests/run-e2e.sh counts apart from passes.
. tests/e2e/lib.sh
. deploy/coalition-setup.sh
t_begin
A=$XL_BIN/crosslink-agent
L=$XL_BIN/crosslink-linker
RAW=$XL_BUILD/tests/tools/zmq_raw
EP="ipc://$T_DIR/linker.sock"
C=$T_DIR/c
DISK=$T_DIR/disk
LPID=
MOUNTED=
APIDS=

start_linker() {
    "$L" serve -c "$C/linker/linker.conf" >>"$T_DIR/linker.log" 2>&1 &
    LPID=$!
    i=0
    while [ ! -S "$T_DIR/linker.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
stop_linker() {
    [ -n "$LPID" ] && kill "$LPID" 2>/dev/null && wait "$LPID" 2>/dev/null
    LPID=
}
t_cleanup() {
    for p in $APIDS; do kill "$p" 2>/dev/null; done
    stop_linker
    [ -n "$MOUNTED" ] && umount "$DISK"
    [ -n "${T_KEEP:-}" ] || rm -rf "$T_DIR"
}
skip() {
    echo "SKIP $T_NAME: $1"
    exit 77
}
# wait_for SECONDS CMD...: until the command succeeds, for at most SECONDS.
wait_for() {
    n=$(($1 * 10))
    shift
    i=0
    while ! "$@" && [ $i -lt "$n" ]; do sleep 0.1; i=$((i + 1)); done
    "$@"
}
alive() { kill -0 "$1" 2>/dev/null; }
stored() {
    "$L" status -c "$C/linker/linker.conf" | awk -v a="$1" '$1 == a && $3 ~ /^[0-9]+$/ { print $3; exit }'
}
# open_sub AGENCY: records and chunks stored of the agency's open submission,
# from its `status` line "icb health 500 of 2867 records (5 of 29 chunks), ...":
# "500 5"; nothing when it has none.
open_sub() {
    "$L" status -c "$C/linker/linker.conf" |
        awk -v a="$1" '$1 == a && $4 == "of" { c = $7; sub(/^\(/, "", c); print $3, c; exit }'
}
sent_by() { sed -n 's/^dataset .*: \([0-9,][0-9,]*\) records.*/\1/p' "$1" | tr -d , | head -1; }

[ "$(id -u)" -eq 0 ] || skip "needs root to mount a small tmpfs"
mkdir -p "$DISK"
mount -t tmpfs -o size=24m,mode=0700 tmpfs "$DISK" 2>"$T_DIR/mount.err" ||
    skip "cannot mount a tmpfs here: $(cat "$T_DIR/mount.err")"
MOUNTED=1

expect_ok "generate a coalition" "$XL_BUILD/bench/gen_coalition" --seed 11 --people 3000 --quiet --out "$T_DIR/data"
expect_ok "set up keys, agencies and the linker" xl_coalition_setup "$C" "$XL_BIN" "$EP"
sed -i "s|^database = .*|database = $DISK/linker.db|; s|^audit_log = .*|audit_log = $DISK/audit.jsonl|" "$C/linker/linker.conf"
for a in csc icb lea; do sed -i 's/^chunk_records = .*/chunk_records = 100/' "$C/$a/agent.conf"; done
start_linker
check "linker listens" [ -S "$T_DIR/linker.sock" ]
check "its audit log is on the small filesystem" [ -s "$DISK/audit.jsonl" ]

# Acknowledged and committed before the disk fills: must stay.
"$A" submit -q -c "$C/csc/agent.conf" "$T_DIR/data/social.csv" >"$T_DIR/csc.out" 2>&1
check "a submission committed before the disk fills" [ $? -eq 0 ]
csc_sent=$(sent_by "$T_DIR/csc.out")

# Fill the filesystem, then free 1 MiB: room for a begin and a few chunks of
# icb's 2867 records (each chunk's transaction writes some 200 KiB of 64 KiB
# pages to the WAL), not for all of them.
dd if=/dev/zero of="$DISK/filler" bs=64k 2>/dev/null
check "the filesystem is full" [ "$(df -k --output=avail "$DISK" | tail -1)" -eq 0 ]
truncate -s -1M "$DISK/filler"

# (--retry-for and timeout: a stuck agent fails the test rather than hang it)
timeout 120 "$A" submit -q --retry-for 60s -c "$C/icb/agent.conf" "$T_DIR/data/health.csv" >"$T_DIR/icb.out" 2>&1 &
icb=$!
APIDS="$icb"
wait_for 20 grep -q 'disk full: .*linker.db: store chunk [0-9]*: .*refused with UNAVAILABLE' "$T_DIR/linker.log"
check "the linker logs the full disk, the database and the chunk refused" [ $? -eq 0 ]
at=$(open_sub icb)
records=${at% *}
chunks=${at#* }
check "some of the submission stored ($records records)" [ "${records:-0}" -gt 0 ]
check "not all of it" [ "${records:-2867}" -lt 2867 ]
check "only whole chunks stored ($chunks chunks)" [ "${records:-1}" -eq $((${chunks:-0} * 100)) ]
wait_for 10 grep -q 'answered UNAVAILABLE: the linker is out of disk space' "$T_DIR/icb.out"
check "the agent is told the linker is out of disk space" [ $? -eq 0 ]
check "and says it will try again" grep -q 'out of disk space.*trying again in' "$T_DIR/icb.out"
sleep 1
check "the agent keeps retrying" alive "$icb"
check "the linker keeps running" alive "$LPID"
check "nothing more stored while the disk is full" same "$at" "$(open_sub icb)"
check "the submission committed earlier is intact" same "$csc_sent" "$(stored csc)"

# The audit log on the full disk: begins of new submissions are audited
# before they are stored, so they are refused too. Refused requests (a raw
# begin for another agency) append entries until the log's last page is used up.
i=0
while ! grep -q 'audit: .*audit.jsonl: cannot write the .* entry: No space left' "$T_DIR/linker.log" && [ $i -lt 40 ]; do
    "$RAW" "$EP" "$C/wmp/keys/linker.pub" "$C/wmp/keys/wmp-agent.key" ping >/dev/null 2>&1
    i=$((i + 1))
done
check "an audit entry that does not fit is reported, not half written" grep -q 'audit: .*audit.jsonl: cannot write the .* entry: No space left' "$T_DIR/linker.log"
check "the audit log still ends in a whole line" [ "$(tail -c 1 "$DISK/audit.jsonl" | od -An -c | tr -d ' ')" = '\n' ]
timeout 120 "$A" submit -q --retry-for 60s -c "$C/lea/agent.conf" "$T_DIR/data/education.csv" >"$T_DIR/lea.out" 2>&1 &
lea=$!
APIDS="$icb $lea"
wait_for 20 grep -q 'disk full: .*audit.jsonl: cannot write the submission.begin entry: .*refused with UNAVAILABLE' "$T_DIR/linker.log"
check "a new submission is refused while its begin cannot be audited" [ $? -eq 0 ]
wait_for 10 grep -q 'answered UNAVAILABLE: the linker is out of disk space' "$T_DIR/lea.out"
check "that agent is told so too" [ $? -eq 0 ]
check "and keeps retrying" alive "$lea"
check "nothing of it stored" [ -z "$(open_sub lea)" ]

# Space returns: the same runs finish.
rm -f "$DISK/filler"
wait "$icb"
check "icb: the same run ends with a receipt once space is freed" [ $? -eq 0 ]
wait "$lea"
check "lea: so does the one refused at its begin" [ $? -eq 0 ]
APIDS=
check "icb: receipt filed" [ -n "$(ls "$C/icb/state/receipts" 2>/dev/null)" ]
check "icb: every record stored once" same "$(sent_by "$T_DIR/icb.out")" "$(stored icb)"
check "lea: every record stored once" same "$(sent_by "$T_DIR/lea.out")" "$(stored lea)"
check "csc: still intact" same "$csc_sent" "$(stored csc)"
expect_ok "receipts verify" "$A" receipts -c "$C/icb/agent.conf" --verify
check "the linker logs that it stores again" grep -q 'storing again: [0-9]* requests refused since' "$T_DIR/linker.log"
check "one commit entry for each" [ "$(grep -c '"event":"submission.commit"' "$DISK/audit.jsonl")" -eq 3 ]

# The audit log's chain survives: every line whole, seq without gaps, and a
# restarted linker (which verifies the last entries) opens it.
stop_linker
check "audit log lines all whole" lacks -v -E '^\{"seq":[0-9]+,.*,"hash":"[0-9a-f]{64}"\}$' "$DISK/audit.jsonl"
check "audit log seq without gaps" awk '{ s = $0; sub(/^\{"seq":/, "", s); sub(/,.*/, "", s); if (s != NR) exit 1 }
    END { if (NR < 10) exit 1 }' "$DISK/audit.jsonl"
rm -f "$T_DIR/linker.sock"
start_linker
check "the linker restarts on the same audit log" alive "$LPID"
stop_linker
check "no 'does not verify' in the linker's log" lacks 'does not verify' "$T_DIR/linker.log"
t_end
