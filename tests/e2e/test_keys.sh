# crosslink-keys from the key custodian's and an agency's side, as real processes.
. tests/e2e/lib.sh
t_begin
K=$XL_BIN/crosslink-keys
cd "$T_DIR"

expect_ok "init creates the coalition keys" "$K" init coal
check "secret key files are 0600" [ "$(mode_of coal/linker.key)$(mode_of coal/linker-sign.key)$(mode_of coal/analysis.key)$(mode_of coal/linkage-e1.secret)" = 600600600600 ]
check "public key files are 0644" [ "$(mode_of coal/linker.pub)$(mode_of coal/analysis.pub)" = 644644 ]
check "keys directory is 0700" [ "$(mode_of coal)" = 700 ]
expect_fail "init twice is refused" 'exists' "$K" init coal

expect_ok "new agent key" "$K" new agent wmp-agent --agency wmp -o coal
expect_ok "new analyst key" "$K" new analyst ana1 -o coal
expect_fail "agent without agency refused" 'needs --agency' "$K" new agent x -o coal
expect_fail "unknown role refused" "unknown role 'chief'" "$K" new chief x -o coal
expect_fail "bad name refused" 'invalid name' "$K" new agent 'a b' --agency wmp -o coal
expect_fail "existing key not overwritten" 'refusing to overwrite' "$K" new agent wmp-agent --agency wmp -o coal

expect_ok "keyring add" "$K" keyring add coal/keyring coal/wmp-agent.pub
expect_ok "keyring add analyst" "$K" keyring add coal/keyring coal/ana1.pub
expect_fail "keyring add twice refused" 'already in the keyring' "$K" keyring add coal/keyring coal/wmp-agent.pub
expect_fail "keyring add of a non-role key refused" 'expected a curve-public' "$K" keyring add coal/keyring coal/linker-sign.pub
"$K" keyring list coal/keyring >list.txt 2>&1
check "keyring list shows both keys active" [ "$(grep -c ' active ' list.txt)" = 2 ]
expect_ok "keyring revoke by name" "$K" keyring revoke coal/keyring ana1
"$K" keyring list coal/keyring >list.txt 2>&1
check "revoked key listed as revoked" grep -q 'ana1 *revoked' list.txt
expect_fail "revoke twice refused" 'already revoked' "$K" keyring revoke coal/keyring ana1
expect_fail "revoke unknown refused" "no key 'nobody'" "$K" keyring revoke coal/keyring nobody
printf 'deadbeef agent wmp x active 2026-01-01 short\n' >>coal/keyring
expect_fail "malformed keyring line refused with its line number" 'keyring:4: public key' "$K" keyring list coal/keyring
sed -i '$d' coal/keyring

expect_ok "bundle for an agent" "$K" bundle coal coal/wmp-agent.pub -o wmp.bundle
check "bundle is 0600" [ "$(mode_of wmp.bundle)" = 600 ]
expect_fail "bundle for an analyst refused" 'only agents receive' "$K" bundle coal coal/ana1.pub -o x.bundle
expect_ok "unbundle" "$K" unbundle wmp.bundle --key coal/wmp-agent.key -o wmp.secret
check "unbundled secret equals the custodian's" same "$(grep secret: wmp.secret)" "$(grep secret: coal/linkage-e1.secret)"
check "check values agree" same "$("$K" show wmp.secret | grep check)" "$("$K" show coal/linkage-e1.secret | grep check)"
sed 's/^epoch: 1$/epoch: 2/' wmp.bundle >tampered.bundle
expect_fail "bundle with edited epoch refused" 'altered' "$K" unbundle tampered.bundle --key coal/wmp-agent.key -o t1.secret
awk '/^sealed:/ { c = substr($2, 10, 1); r = (c == "a") ? "b" : "a"; $2 = substr($2, 1, 9) r substr($2, 11) } { print }' wmp.bundle >tampered2.bundle
expect_fail "bundle with edited ciphertext refused" 'altered or sealed to another key' "$K" unbundle tampered2.bundle --key coal/wmp-agent.key -o t2.secret
check "no secret written from a bundle with an edited epoch" [ ! -e t1.secret ]
check "no secret written from a bundle with edited ciphertext" [ ! -e t2.secret ]
"$K" new agent other --agency wmp -o coal >/dev/null
expect_fail "bundle opened with another agent's key refused" 'is for key' "$K" unbundle wmp.bundle --key coal/other.key -o t3.secret

chmod 640 coal/wmp-agent.key
expect_fail "group-readable secret key refused, naming the fix" 'chmod 600 coal/wmp-agent.key' "$K" unbundle wmp.bundle --key coal/wmp-agent.key -o t4.secret
chmod 600 coal/wmp-agent.key
expect_fail "missing file named" 'nofile.key: cannot open' "$K" unbundle wmp.bundle --key nofile.key
sed 's/^public: ...../public: /' coal/wmp-agent.pub >short.pub
expect_fail "key of the wrong length refused" 'expected 32' "$K" keyring add coal/keyring short.pub
expect_fail "wrong key type refused" 'is a curve-public key file, expected a curve-secret' "$K" unbundle wmp.bundle --key coal/wmp-agent.pub

expect_ok "rotate" "$K" rotate coal
check "epoch 2 secret exists and is 0600" [ "$(mode_of coal/linkage-e2.secret)" = 600 ]
expect_ok "bundle defaults to the latest epoch" "$K" bundle coal coal/wmp-agent.pub -o wmp2.bundle
check "bundle carries epoch 2" grep -q '^epoch: 2$' wmp2.bundle
expect_ok "every subcommand has --help" sh -c "for c in init new local keyring bundle unbundle rotate show; do '$K' \$c --help >/dev/null || exit 1; done"
expect_fail "unknown command" "unknown command 'frob'" "$K" frob
t_end
