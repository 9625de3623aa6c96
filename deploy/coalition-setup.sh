# Sets up a working coalition in a directory, with the real tools: the key
# custodian's keys, and for each of the four example agencies a folder with its
# agent key, unbundled linkage secret, local key, agent.conf and column mapping.
# Used by the demo, the benchmarks and the end-to-end tests.
#
#   . deploy/coalition-setup.sh
#   xl_coalition_setup OUT_DIR BIN_DIR [ENDPOINT]
#
# With ENDPOINT, OUT_DIR/linker/ also gets the linker's keys, keyring and a
# linker.conf listening there, and every agent.conf points at it.
#
# Agencies: wmp (police.csv), icb (health.csv), lea (education.csv),
# csc (social.csv); folder OUT_DIR/<agency>/, CSV names as the generator writes them.
#
#   xl_programme_setup OUT_DIR
#
# After xl_coalition_setup: gives csc its second dataset, the support
# programme's caseload (programme.csv, from gen_coalition --programme F):
# OUT_DIR/csc/programme.map and OUT_DIR/csc/programme.conf, csc's agent.conf
# with only the mapping changed (same keys, linker and state directory), so
#   crosslink-agent validate -c OUT_DIR/csc/programme.conf programme.csv

XL_AGENCIES="wmp:police icb:health lea:education csc:social"

xl_coalition_setup() {
    out=$1
    bin=$(cd "$2" && pwd)
    endpoint=${3:-}
    examples=$(cd "$(dirname -- "${XL_SETUP_SELF:-deploy/coalition-setup.sh}")" && pwd)/examples
    mkdir -p "$out" || return 1
    "$bin/crosslink-keys" init "$out/custodian" >/dev/null || return 1
    for pair in $XL_AGENCIES; do
        agency=${pair%%:*}
        kind=${pair#*:}
        dir=$out/$agency
        mkdir -p "$dir/keys" || return 1
        chmod 700 "$dir/keys"
        "$bin/crosslink-keys" new agent "$agency-agent" --agency "$agency" -o "$dir/keys" >/dev/null || return 1
        "$bin/crosslink-keys" keyring add "$out/custodian/keyring" "$dir/keys/$agency-agent.pub" >/dev/null || return 1
        "$bin/crosslink-keys" bundle "$out/custodian" "$dir/keys/$agency-agent.pub" -o "$dir/$agency-e1.bundle" >/dev/null || return 1
        (cd "$dir/keys" &&
            "$bin/crosslink-keys" unbundle "../$agency-e1.bundle" --key "$agency-agent.key" -o linkage-e1.secret >/dev/null &&
            "$bin/crosslink-keys" local "$agency" >/dev/null) || return 1
        cp "$out/custodian/analysis.pub" "$out/custodian/linker.pub" "$out/custodian/linker-sign.pub" "$dir/keys/" || return 1
        cp "$examples/linkage.spec" "$examples/$kind.map" "$dir/" || return 1
        sed -e "s/^agency = .*/agency = $agency/" \
            -e "s/^mapping = .*/mapping = $kind.map/" \
            -e "s/wmp-local.key/$agency-local.key/" \
            -e "s/wmp-agent.key/$agency-agent.key/" \
            -e "s|^endpoint = .*|endpoint = ${endpoint:-tcp://127.0.0.1:7800}|" \
            "$examples/agent.conf" >"$dir/agent.conf" || return 1
    done
    [ -n "$endpoint" ] || return 0
    mkdir -p "$out/linker/keys" || return 1
    chmod 700 "$out/linker/keys"
    cp -p "$out/custodian/linker.key" "$out/custodian/linker-sign.key" \
        "$out/custodian/keyring" "$out/linker/keys/" || return 1
    cp "$examples/linkage.spec" "$out/linker/" || return 1
    check=$("$bin/crosslink-keys" show "$out/custodian/linkage-e1.secret" | sed -n 's/.*check value //p')
    sed -e "s|^endpoint = .*|endpoint = $endpoint|" \
        -e "s/^secret_check = .*/secret_check = $check/" \
        "$examples/linker.conf" >"$out/linker/linker.conf" || return 1
}

xl_programme_setup() {
    dir=$1/csc
    examples=$(cd "$(dirname -- "${XL_SETUP_SELF:-deploy/coalition-setup.sh}")" && pwd)/examples
    [ -f "$dir/agent.conf" ] || { echo "xl_programme_setup: no $dir/agent.conf (run xl_coalition_setup first)" >&2; return 1; }
    cp "$examples/programme.map" "$dir/" || return 1
    sed -e "s/^mapping = .*/mapping = programme.map/" "$dir/agent.conf" >"$dir/programme.conf" || return 1
    grep -q '^mapping = programme.map$' "$dir/programme.conf" || { echo "xl_programme_setup: no mapping line in $dir/agent.conf" >&2; return 1; }
}
