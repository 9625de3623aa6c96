# The linker's front door, tried as an attacker and as an unlucky agency
# would: unauthenticated connections with huge handshake frames, peers without
# CURVE, idle and surplus connections, fields the protocol does not define,
# floods of refused requests, a link request during ingest, a crash with a link
# run owed, and submissions whose stored chunks can never match. Real linker,
# real agents, real sockets (TCP on 127.0.0.1, a port the system picks).
. tests/e2e/lib.sh
. deploy/coalition-setup.sh
t_begin
K=$XL_BIN/crosslink-keys
A=$XL_BIN/crosslink-agent
L=$XL_BIN/crosslink-linker
RAW=$XL_BUILD/tests/tools/zmq_raw
FLOOD=$XL_BUILD/tests/tools/zmtp_flood
C=$T_DIR/c

kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$LPID/status"; }
# stored AGENCY: records of the agency's current (committed) submission
stored() {
    "$L" status -c "$C/linker/linker.conf" | sed '/^open submissions/,$d' |
        awk -v a="$1" '$1 == a && $3 ~ /^[0-9]+$/ { print $3; exit }'
}
raw() { "$RAW" "$EP" "$C/wmp/keys/linker.pub" "$@"; }

expect_ok "generate a coalition" "$XL_BUILD/bench/gen_coalition" --seed 5 --people 400 --quiet --out "$T_DIR/data"
expect_ok "set up keys, agencies and the linker" xl_coalition_setup "$C" "$XL_BIN" "tcp://127.0.0.1:*"
# Small limits, so the tests reach them quickly.
cat >>"$C/linker/linker.conf" <<EOF
max_message = 1048576
max_unauthenticated = 4
max_connections = 64
max_connections_per_key = 2
idle_timeout = 3
handshake_timeout = 5
EOF
for pair in $XL_AGENCIES; do
    sed -i 's/^chunk_records = .*/chunk_records = 10/' "$C/${pair%%:*}/agent.conf"
done
"$K" new admin ops -o "$C/linker/keys" >/dev/null
"$K" keyring add "$C/linker/keys/keyring" "$C/linker/keys/ops.pub" >/dev/null
start_linker_tcp
check "linker listens on a TCP port ($EP)" [ -n "$PORT" ]

# --- limits before authentication -----------------------------------------------
# 100 peers, each sending a 1 MiB handshake frame and holding it: only
# max_unauthenticated (4) may stay in the handshake, the rest are shut as soon
# as the linker hears of them, so it holds 4 frames (each at most max_message +
# 64 KiB), not 100. What libzmq read from a peer before it was shut is freed at
# once (docs/linker.md, "Limits"); the peak stays well below 100 frames (20-50
# MiB measured, the higher under AddressSanitizer).
rss0=$(kib VmRSS)
"$FLOOD" 127.0.0.1 "$PORT" 100 1048000 3 >"$T_DIR/flood.out"
grown=$(($(kib VmHWM) - rss0))
every=$((100 * 1024))
check "100 unauthenticated peers with 1 MiB frames grew the linker by ${grown} KiB (holding every frame: ${every} KiB)" [ "$grown" -lt $((every * 3 / 4)) ]
closed=$(sed -n 's/.*closed by the server \([0-9]*\),.*/\1/p' "$T_DIR/flood.out")
check "peers over the handshake limit were shut out at once (${closed:-none} of 100)" [ "${closed:-0}" -ge 90 ]
n=$(grep -c 'too many connections in the handshake' "$C/linker/audit.jsonl")
check "and the refusals audited, under the limit ($n)" [ "$n" -ge 1 -a "$n" -le 3 ]
check "a frame over max_message is not read: the peer is dropped" sh -c "'$FLOOD' 127.0.0.1 '$PORT' 1 2000000 2 | grep -q 'closed by the server 1,'"

# --- a peer without CURVE leaves a trace -------------------------------------------
"$FLOOD" 127.0.0.1 "$PORT" 1 100 1 NULL >/dev/null
sleep 1
check "a connection offering NULL security is logged" grep -q 'not a CURVE connection' "$T_DIR/linker.log"
check "and audited with its mechanism and address" grep -q '"event":"connection.refused".*"mechanism":"not CURVE"' "$C/linker/audit.jsonl"
check "refused connections' audit entries name the peer's address" grep -q '"event":"connection.refused".*"peer":"127.0.0.1:[0-9]*"' "$C/linker/audit.jsonl"

# --- idle and surplus connections ----------------------------------------------------
raw "$C/wmp/keys/wmp-agent.key" idle 10 >"$T_DIR/idle.out"
check "an idle authenticated connection is closed after idle_timeout: $(cat "$T_DIR/idle.out")" grep -q 'closed after [3-6] s' "$T_DIR/idle.out"
raw "$C/wmp/keys/wmp-agent.key" hold 6 >"$T_DIR/hold1.out" &
h1=$!
raw "$C/wmp/keys/wmp-agent.key" hold 6 >"$T_DIR/hold2.out" &
h2=$!
sleep 1
raw "$C/wmp/keys/wmp-agent.key" ping >"$T_DIR/third.out"
wait $h1 $h2
check "a key's third connection at once is refused (limit 2)" grep -q 'reply error 4 .*already has 2 connections' "$T_DIR/third.out"
check "its first connection was served" grep -q 'reply error 4 key .* submits for agency wmp only' "$T_DIR/hold1.out"
check "its second connection was served" grep -q 'reply error 4 key .* submits for agency wmp only' "$T_DIR/hold2.out"

# --- nothing undefined is stored ----------------------------------------------------------
raw "$C/wmp/keys/wmp-agent.key" unknown >"$T_DIR/unknown.out"
check "a record with a 900 KB field the protocol does not define is MALFORMED" grep -q 'reply error 1 .*not defined by the protocol' "$T_DIR/unknown.out"

# --- refusals are rate-limited, and their details are objects -------------------------------
raw "$C/wmp/keys/wmp-agent.key" flood 50 >"$T_DIR/flood-link.out"
check "50 link requests from an agent key: every one refused" [ "$(grep -c 'reply error 4' "$T_DIR/flood-link.out")" -eq 50 ]
n=$(audited link.refused)
check "and at most 3 audited in the minute ($n)" [ "$n" -ge 1 -a "$n" -le 3 ]
check "no audit entry's details is a bare string" sh -c "! grep -q '\"details\":\"' '$C/linker/audit.jsonl'"

# --- a link request does not hold up the request loop ----------------------------------------
expect_ok "wmp submits" "$A" submit -q -c "$C/wmp/agent.conf" "$T_DIR/data/police.csv"
raw "$C/linker/keys/ops.key" link-then-ping >"$T_DIR/ltp.out"
check "a request sent after an admin's link request is answered first" [ "$(head -c 13 "$T_DIR/ltp.out")" = "reply error 4" ]
check "and the link request is answered with its report" grep -q 'reply link_report run' "$T_DIR/ltp.out"
check "the admin's run is audited as the admin's" grep -q '"role":"admin","event":"link.run"' "$C/linker/audit.jsonl"

# --- a link run owed after commits survives a crash --------------------------------------------
runs=$(audited link.run)
expect_ok "icb submits" "$A" submit -q -c "$C/icb/agent.conf" "$T_DIR/data/health.csv"
kill -9 "$LPID"
wait "$LPID" 2>/dev/null
LPID=
check "killed before the idle link run began" [ "$(audited link.run)" -eq "$runs" ]
start_linker_tcp
i=0
while [ "$(audited link.run)" -eq "$runs" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "after the restart the owed link run happens" [ "$(audited link.run)" -gt "$runs" ]
check "and the linker says why" grep -q 'a link run is owed' "$T_DIR/linker.log"

# --- no submission gets stuck ----------------------------------------------------------------------
"$A" encode -q -c "$C/lea/agent.conf" -o "$T_DIR/edu.xle" "$T_DIR/data/education.csv" >/dev/null
raw "$C/lea/keys/lea-agent.key" tamper "$T_DIR/edu.xle" >"$T_DIR/tamper.out"
check "another key of the agency stored an altered first chunk" grep -q 'reply submit_ack' "$T_DIR/tamper.out"
expect_ok "the honest agent still gets its receipt" "$A" submit -q -c "$C/lea/agent.conf" "$T_DIR/edu.xle"
want=$(grep -c '' "$T_DIR/data/education.csv")
check "the discarded submission is audited" [ "$(audited submission.discarded)" -eq 1 ]
check "and the records committed are the file's ($(stored lea) of $((want - 1)) rows)" [ "$(stored lea)" -ge $((want - 20)) ]

"$A" encode -q -c "$C/csc/agent.conf" -o "$T_DIR/social.xle" "$T_DIR/data/social.csv" >/dev/null
size=$(stat -c %s "$T_DIR/social.xle")
# One byte in the last tenth of the records changed (inverted, so it differs
# whatever it was): found while sending.
off=$((size * 9 / 10))
byte=$(od -An -tu1 -j "$off" -N1 "$T_DIR/social.xle" | tr -d ' ')
# shellcheck disable=SC2059
printf "\\$(printf %03o $((byte ^ 255)))" | dd of="$T_DIR/social.xle" bs=1 seek="$off" conv=notrunc 2>/dev/null
check "the file's byte was changed" [ "$(od -An -tu1 -j "$off" -N1 "$T_DIR/social.xle" | tr -d ' ')" -eq $((byte ^ 255)) ]
expect_fail "an agent whose file is damaged stops" 'social.xle|content|hash|malformed|mismatch' "$A" submit -q -c "$C/csc/agent.conf" "$T_DIR/social.xle"
check "and tells the linker, which discards what it stored" grep -q '"event":"submission.discarded".*aborted by the agent' "$C/linker/audit.jsonl"
check "so nothing of it stays open" sh -c "'$L' status -c '$C/linker/linker.conf' | sed -n '/^open submissions/,/^totals/p' | grep -q '^  (none)'"

# --- a chunk the linker would not read is not sent -------------------------------------------------
stop_linker
sed -i 's/^max_message = .*/max_message = 65536/' "$C/linker/linker.conf"
start_linker_tcp
head -n 300 "$T_DIR/data/health.csv" >"$T_DIR/data/health-300.csv"
sed -i 's/^chunk_records = .*/chunk_records = 400/' "$C/icb/agent.conf"
expect_fail "a chunk over the linker's max_message is refused by the agent, with the fix" 'chunk_records in agent.conf to [0-9]+ or fewer' "$A" submit -q -c "$C/icb/agent.conf" "$T_DIR/data/health-300.csv"
fits=$(sed -n 's/.*chunk_records in agent.conf to \([0-9]*\) or fewer.*/\1/p' "$T_DIR/.err")
sed -i "s/^chunk_records = .*/chunk_records = ${fits:-1}/" "$C/icb/agent.conf"
# The run after this commit cannot read the specification: it fails, and is owed still.
mv "$C/linker/linkage.spec" "$C/linker/linkage.spec.away"
expect_ok "and the chunk size it names goes through (chunk_records = ${fits:-none})" "$A" submit -q -c "$C/icb/agent.conf" "$T_DIR/data/health-300.csv"
i=0
while ! grep -q 'link run failed' "$T_DIR/linker.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "a link run that fails is tried again later" grep -q 'the link run failed .*trying again in 60 s' "$T_DIR/linker.log"
mv "$C/linker/linkage.spec.away" "$C/linker/linkage.spec"

stop_linker
check "linker stopped cleanly" grep -q '"event":"linker.stop"' "$C/linker/audit.jsonl"
check "no identifier in the linker's log or audit log" sh -c "! grep -q -i -E 'forename|surname|[0-9]{3} [0-9]{3} [0-9]{4}' '$T_DIR/linker.log' '$C/linker/audit.jsonl'"
t_end
