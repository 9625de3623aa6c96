# Shared helpers for end-to-end tests: source it, call t_begin, checks, t_end.
# XL_BIN points at the binaries under test (bin/ by default; build-asan/bin under make asan).
set -u
XL_BIN=${XL_BIN:-bin}
XL_BUILD=${XL_BUILD:-build}
case $XL_BUILD in /*) ;; *) XL_BUILD=$(pwd)/$XL_BUILD ;; esac
XL_ROOT=$(pwd)
case $XL_BIN in /*) ;; *) XL_BIN=$(pwd)/$XL_BIN ;; esac
T_PASS=0
T_FAIL=0
T_NAME=$(basename "$0" .sh)

t_begin() {
    T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/xl-$T_NAME.XXXXXX")
    trap 't_cleanup' EXIT INT TERM
}

t_cleanup() {
    stop_linker
    [ -n "${T_KEEP:-}" ] || rm -rf "$T_DIR"
}

# start_linker: the service of $C/linker/linker.conf (crosslink-linker in $L),
# its log in $T_DIR/linker.log, waiting for $T_DIR/linker.sock to appear;
# stop_linker ends it (SIGTERM) and waits.
LPID=
start_linker() {
    "$L" serve -c "$C/linker/linker.conf" 2>>"$T_DIR/linker.log" &
    LPID=$!
    i=0
    while [ ! -S "$T_DIR/linker.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
}
stop_linker() {
    [ -n "$LPID" ] && kill "$LPID" 2>/dev/null && wait "$LPID" 2>/dev/null
    LPID=
}

# start_linker_tcp: the same service on a TCP port of the system's choosing:
# waits for its "listening on" line, sets EP (the endpoint it bound) and PORT,
# and points every agency's agent.conf at it.
EP=
PORT=
start_linker_tcp() {
    "$L" serve -c "$C/linker/linker.conf" 2>>"$T_DIR/linker.log" &
    LPID=$!
    n0=$(grep -c 'listening on' "$T_DIR/linker.log" 2>/dev/null)
    i=0
    while [ "$(grep -c 'listening on' "$T_DIR/linker.log" 2>/dev/null)" = "$n0" ] && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    EP=$(sed -n 's/.*listening on \(tcp:[^ ]*\) .*/\1/p' "$T_DIR/linker.log" | tail -1)
    PORT=${EP##*:}
    for pair in $XL_AGENCIES; do
        sed -i "s|^endpoint = .*|endpoint = $EP|" "$C/${pair%%:*}/agent.conf"
    done
}

# audited EVENT: how many entries of the event the linker's audit log holds.
audited() { grep -c "\"event\":\"$1\"" "$C/linker/audit.jsonl"; }

ok() { T_PASS=$((T_PASS + 1)); printf 'ok - %s\n' "$1"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); printf 'not ok - %s\n' "$1"; [ -n "${2:-}" ] && printf '#   %s\n' "$2"; }

# expect_ok NAME CMD...: the command exits 0.
expect_ok() {
    name=$1; shift
    if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name" "exit $?: $out"; fi
}

# expect_fail NAME PATTERN CMD...: the command exits non-zero, prints exactly one
# line on stderr, and that line matches PATTERN (grep -E).
expect_fail() {
    name=$1; pat=$2; shift 2
    if "$@" >"$T_DIR/.out" 2>"$T_DIR/.err"; then
        not_ok "$name" "exited 0"
        return
    fi
    lines=$(grep -c '' "$T_DIR/.err")
    if ! grep -qE -- "$pat" "$T_DIR/.err"; then
        not_ok "$name" "stderr did not match '$pat': $(head -c 400 "$T_DIR/.err")"
    elif [ "$lines" -gt 2 ]; then
        not_ok "$name" "error took $lines lines: $(head -c 400 "$T_DIR/.err")"
    else
        ok "$name"
    fi
}

# check NAME CONDITION...: a shell test.
check() {
    name=$1; shift
    if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# lacks GREP-OPTIONS... PATTERN FILE...: grep finds nothing in the files. A
# missing or unreadable file fails the check (grep exits 2), where `! grep`
# would pass it.
lacks() {
    grep -q "$@"
    [ $? -eq 1 ]
}

# same A B: both strings non-empty and equal (two failed commands give two
# empty strings, which `[ "$a" = "$b" ]` would take as equal).
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }

mode_of() { stat -c '%a' "$1"; }

# find_browser: sets BROWSER to a headless Chromium; fails when there is none.
find_browser() {
    BROWSER=
    for b in chromium-headless-shell chromium chromium-browser google-chrome; do
        if command -v "$b" >/dev/null 2>&1; then BROWSER=$(command -v "$b"); return 0; fi
    done
    return 1
}

# render_html FILE: FILE rendered by $BROWSER into $T_DIR/report.png (1200x2000)
# and its DOM into $T_DIR/dom.html, checking a screenshot was written.
render_html() {
    # Chromium writes its profile and crash reports under HOME: keep them in the test's directory.
    set -- "$1" "$BROWSER --no-sandbox --headless --disable-gpu --hide-scrollbars --no-first-run"
    # shellcheck disable=SC2086
    HOME=$T_DIR/home $2 --screenshot="$T_DIR/report.png" --window-size=1200,2000 "file://$1" >"$T_DIR/shot.log" 2>&1
    check "screenshot written" [ -s "$T_DIR/report.png" ]
    # shellcheck disable=SC2086
    HOME=$T_DIR/home $2 --dump-dom "file://$1" >"$T_DIR/dom.html" 2>"$T_DIR/dom.log"
}

# check_rendered: $T_DIR/report.png decodes at 1200x2000 and is not blank: many
# colours (text, bars, shading) and at least 2% of the sampled pixels inked.
check_rendered() {
    python3 tests/e2e/png_pixels.py "$T_DIR/report.png" >"$T_DIR/pixels.txt" 2>&1
    read -r pw ph ncol ink total <"$T_DIR/pixels.txt" || true
    check "screenshot decodes at 1200x2000 ($(head -c 200 "$T_DIR/pixels.txt"))" [ "${pw:-0}" = 1200 -a "${ph:-0}" = 2000 ]
    check "screenshot has many colours (${ncol:-0}): text, bars, shading" [ "${ncol:-0}" -ge 20 ]
    check "screenshot is not blank (${ink:-0} of ${total:-0} sampled pixels inked)" [ "${ink:-0}" -ge $(( ${total:-1} / 50 )) ]
}

t_end() {
    printf '%s: %d passed, %d failed\n' "$T_NAME" "$T_PASS" "$T_FAIL"
    [ "$T_FAIL" -eq 0 ]
}
