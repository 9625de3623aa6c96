#!/usr/bin/env python3
"""Checks a crosslink audit checkpoint the way an outside transparency-log tool
or witness would, sharing no code with crosslink: Python's standard library for
the formats and the `openssl` command for Ed25519.

    checkpoint_check.py VKEY NOTE [LOG]

VKEY is the verifier key text (c2sp.org/signed-note: name+hexid+base64(0x01||key)),
as `crosslink-linker status` prints it. NOTE is a file holding one signed
checkpoint (c2sp.org/tlog-checkpoint). With LOG, the RFC 9162 Merkle tree hash
of the log's first `size` lines is recomputed and compared with the root.
Prints "ok SIZE" and exits 0, or says what failed and exits 1.
"""
import base64
import hashlib
import os
import subprocess
import sys
import tempfile


def fail(msg):
    print("checkpoint_check: " + msg, file=sys.stderr)
    sys.exit(1)


def key_id(name, key):
    return hashlib.sha256(name.encode() + b"\n" + key).digest()[:4]


def mth(leaves):
    """RFC 9162 section 2.1.1: the Merkle Tree Hash of a list of leaf hashes."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def ed25519_verify(pk, msg, sig):
    der = bytes.fromhex("302a300506032b6570032100") + pk
    pem = (b"-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der) +
           b"\n-----END PUBLIC KEY-----\n")
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for name, data in (("pub.pem", pem), ("msg", msg), ("sig", sig)):
            paths[name] = os.path.join(d, name)
            with open(paths[name], "wb") as f:
                f.write(data)
        r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey",
                            paths["pub.pem"], "-rawin", "-in", paths["msg"],
                            "-sigfile", paths["sig"]], capture_output=True)
        return r.returncode == 0


def main():
    if len(sys.argv) not in (3, 4):
        fail("usage: checkpoint_check.py VKEY NOTE [LOG]")
    parts = sys.argv[1].split("+", 2)  # the key's base64 may hold "+"
    if len(parts) != 3:
        fail("the verifier key is not name+id+key")
    name, hexid, b64 = parts
    key = base64.b64decode(b64)
    if len(key) != 33 or key[0] != 1:
        fail("the verifier key is not an Ed25519 key")
    if key_id(name, key).hex() != hexid:
        fail("the verifier key's id does not match its name and key")
    note = open(sys.argv[2], "rb").read()
    cut = note.rfind(b"\n\n")
    if cut < 0:
        fail("the note has no signature block")
    text, sigs = note[:cut + 1], note[cut + 2:]
    good = 0
    for line in sigs.decode().splitlines():
        if not line.startswith("\u2014 "):
            fail("a signature line does not start with an em dash")
        who, sig = line[2:].split(" ")
        raw = base64.b64decode(sig)
        if who == name and raw[:4] == key_id(name, key):
            if not ed25519_verify(key[1:], text, raw[4:]):
                fail("the signature by %s does not verify" % name)
            good += 1
    if good == 0:
        fail("no signature by %s" % name)
    lines = text.decode().split("\n")
    origin, size, root = lines[0], int(lines[1]), base64.b64decode(lines[2])
    if origin != name:
        fail("the origin %s is not the key's name %s" % (origin, name))
    if len(root) != 32:
        fail("the root hash is not 32 bytes")
    if len(sys.argv) == 4:
        with open(sys.argv[3], "rb") as f:
            entries = f.read().split(b"\n")[:-1]
        if len(entries) < size:
            fail("the log has %d entries, the checkpoint %d" % (len(entries), size))
        leaves = [hashlib.sha256(b"\x00" + e).digest() for e in entries[:size]]
        if mth(leaves) != root:
            fail("the root of the log's first %d entries is not the checkpoint's" % size)
    print("ok %d" % size)


main()
