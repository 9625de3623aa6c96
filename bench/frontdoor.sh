#!/bin/sh
# make bench, front door: the linker's resident memory under 64 unauthenticated
# peers each sending a maximal handshake frame, and under 200 idle
# authenticated connections, each beside its bound. Default limits
# (deploy/examples/linker.conf): max_message 4 MiB, max_unauthenticated 16,
# max_connections 256. Loopback only; every load is bounded and stops by itself.
#
#   sh bench/frontdoor.sh WORKDIR   (with XL_BIN, XL_BUILD as make bench sets them)
set -eu
XL_BIN=${XL_BIN:-bin}
XL_BUILD=${XL_BUILD:-build}
. deploy/coalition-setup.sh
fw=$1/frontdoor
xl_coalition_setup "$fw" "$XL_BIN" "tcp://127.0.0.1:*"
"$XL_BIN/crosslink-linker" serve -c "$fw/linker/linker.conf" 2>"$fw/linker.log" &
lpid=$!
i=0
while ! grep -q 'listening on' "$fw/linker.log" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ep=$(sed -n 's/.*listening on \(tcp:[^ ]*\) .*/\1/p' "$fw/linker.log")
port=${ep##*:}
kib() { sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$lpid/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# 200 idle authenticated connections (one agent key), held for 3 s.
base=$(kib VmRSS)
mkfifo "$fw/hold"
"$XL_BUILD/tests/tools/zmq_raw" "$ep" "$fw/wmp/keys/linker.pub" 2>/dev/null >/dev/null \
    "$fw/wmp/keys/wmp-agent.key" crowd 200 <"$fw/hold" &
cpid=$!
exec 3>"$fw/hold"
sleep 3
crowd=$(($(kib VmRSS) - base))
exec 3>&-
wait "$cpid" || true
each=$((crowd / 200))
printf 'front door: 200 idle authenticated connections   +%6s MiB resident (%d KiB each; bound at max_connections 256: %s MiB; closed after idle_timeout 300 s)\n' \
    "$(mib "$crowd")" "$each" "$(mib $((each * 256)))"

# 64 unauthenticated peers, each a handshake frame of max_message (4 MiB), held 4 s.
base=$(kib VmRSS)
frame=$((4 * 1048576 - 1024))
"$XL_BUILD/tests/tools/zmtp_flood" 127.0.0.1 "$port" 64 "$frame" 4 >"$fw/flood.out"
peak=$(($(kib VmHWM) - base))
held=$((16 * (4096 + 64)))
shut=$(sed -n 's/.*closed by the server \([0-9]*\),.*/\1/p' "$fw/flood.out")
printf 'front door: 64 unauthenticated 4 MiB frames         +%6s MiB peak resident (bound held: 16 in the handshake x 4.06 MiB = %s MiB; %s of 64 shut at once; before the limits every frame was held: 256 MiB for 30 s)\n' \
    "$(mib "$peak")" "$(mib "$held")" "${shut:-?}"
kill "$lpid"
wait "$lpid" 2>/dev/null || true
