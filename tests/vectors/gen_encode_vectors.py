#!/usr/bin/env python3
"""Writes tests/vectors/encode.txt: known-answer vectors for the agent's encoder.

An independent implementation, in Python with the standard library only, of
what agent/encode.c produces for a person: match-key tokens per level (with
variants and double-barrelled surname parts), blocking keys, local_ref and the
CLK Bloom filter (segments of one field or several, per-line salts, the keyed
flip noise, the per-segment XOR fold), for the specification
tests/vectors/spec_example.spec and fixed keys. It shares no code with the C implementation; where the two disagree
the vectors (and so tests/unit/test_encode.c) fail.

Run from the repository root:

    python3 tests/vectors/gen_encode_vectors.py            # rewrite the file
    python3 tests/vectors/gen_encode_vectors.py --check    # compare, exit 1 if different

The output is deterministic. A changed vector is a protocol change: agencies
encoding with different code would no longer match each other.
"""

import hashlib
import hmac
import os
import struct
import sys

OUT = "tests/vectors/encode.txt"
SPEC_FILE = "tests/vectors/spec_example.spec"

MASK64 = (1 << 64) - 1
SEP = b"\x1f"  # between the parts of a match-key or blocking value
BLOCK_TAG = 0x80  # blocking key i is hashed with 0x80 + i in place of a level

# ---- SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF") ----


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & MASK64


def siphash24(key, msg):
    """SipHash-2-4 of msg under a 16-byte key, as a 64-bit integer. The 8-byte
    output of the reference code (and of libsodium's crypto_shorthash) is this
    integer in little-endian order."""
    assert len(key) == 16
    k0, k1 = struct.unpack("<QQ", key)
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573

    def rounds(n):
        nonlocal v0, v1, v2, v3
        for _ in range(n):
            v0 = (v0 + v1) & MASK64
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & MASK64
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & MASK64
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & MASK64
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)

    full = len(msg) // 8 * 8
    for i in range(0, full, 8):
        (m,) = struct.unpack("<Q", msg[i : i + 8])
        v3 ^= m
        rounds(2)
        v0 ^= m
    tail = msg[full:] + bytes(7 - (len(msg) - full))
    (m,) = struct.unpack("<Q", tail + bytes([len(msg) & 0xFF]))
    v3 ^= m
    rounds(2)
    v0 ^= m
    v2 ^= 0xFF
    rounds(4)
    return v0 ^ v1 ^ v2 ^ v3


# Appendix A of the SipHash paper: key 00..0f, message 00..0e gives the 64-bit
# value 0xa129ca6149be45e5, written out little-endian as e5 45 be 49 61 ca 29 a1
# (the reference code's vectors.h, libsodium's crypto_shorthash).
SIPHASH_KEY = bytes(range(16))
SIPHASH_MSG = bytes(range(15))
assert siphash24(SIPHASH_KEY, SIPHASH_MSG) == 0xA129CA6149BE45E5
SIPHASH_OUT = struct.pack("<Q", 0xA129CA6149BE45E5).hex()


def splitmix64(state):
    """One step of splitmix64 (Steele, Lea, Flood): (new state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return state, z ^ (z >> 31)


# ---- keys ------------------------------------------------------------------------

SECRET = bytes(range(32))  # the coalition linkage secret S
LOCAL_KEY = bytes(range(0x40, 0x60))  # the agency's local key
AGENCY = "wmp"
DATASET = "youth-justice"

SUBKEY_MATCH, SUBKEY_BLOOM, SUBKEY_BLOCK = 1, 2, 3


def kdf(secret, subkey_id):
    """libsodium crypto_kdf_derive_from_key with context "xlinkkdf"."""
    return hashlib.blake2b(
        b"",
        digest_size=32,
        key=secret,
        salt=subkey_id.to_bytes(8, "little") + bytes(8),
        person=b"xlinkkdf" + bytes(8),
    ).digest()


MATCH_KEY = kdf(SECRET, SUBKEY_MATCH)
BLOOM_KEY = kdf(SECRET, SUBKEY_BLOOM)
BLOCK_KEY = kdf(SECRET, SUBKEY_BLOCK)
# Cross-check with tests/vectors/kdf.txt (same secret).
assert MATCH_KEY.hex() == "9d179f9c6ee071110c92b44c2eb354da32da1cbeaea2314dcccf5e115acc58e8"

# ---- the specification (tests/vectors/spec_example.spec, as data) ---------------

FIELDS = [
    "nhs_number", "upn", "first_name", "first_initial", "middle_name", "surname",
    "surname_phonetic", "first_phonetic", "dob", "yob", "sex", "postcode", "district",
    "sector",
]
FNUM = {name: i for i, name in enumerate(FIELDS)}

# (number, name, variant, compare, strong, fields), sorted by number.
LEVELS = [
    (1, "nhs", "none", 1, 1, ["nhs_number"]),
    (2, "upn", "none", 2, 1, ["upn"]),
    (3, "full", "none", 3, 0, ["first_name", "surname", "dob", "sex", "postcode"]),
    (4, "name_dob", "none", 4, 0, ["first_name", "surname", "dob"]),
    (5, "initial_dob_postcode", "none", 5, 0, ["first_initial", "surname", "dob", "postcode"]),
    (6, "names_swapped", "names_swapped", 4, 0, ["first_name", "surname", "dob"]),
    (7, "dob_transposed", "dob_transposed", 4, 0, ["first_name", "surname", "dob"]),
    (8, "phonetic", "none", 8, 0, ["surname_phonetic", "first_initial", "dob"]),
    (9, "surname_change", "none", 9, 0, ["first_name", "dob", "sex", "postcode"]),
    (10, "middle", "none", 10, 0, ["first_name", "middle_name", "surname", "yob"]),
    (12, "phonetic_sector", "none", 12, 0,
     ["first_phonetic", "surname_phonetic", "yob", "sector"]),
]
SPEC = {
    "name": "vectors-v2",
    "nicknames": 1,
    "clk_q": 2,
    "clk_salt": "none",
    "clk_xor_fold": 0,
    "clk_flip": "0",
    # The "field = NAME K BITS [SALT]" lines in file order, as (field, k, bits,
    # salt): bits is the length of a new segment, or "+" for a line that adds
    # its field to the segment of the line before; salt is the field this
    # line's q-grams are salted with, None for the [clk] salt. Segments are
    # laid out in file order, each starting where the one before ends.
    "clk_fields": [("first_name", 20, 384, None), ("dob", 6, "+", None),
                   ("middle_name", 5, 64, None), ("surname", 20, 512, "dob"),
                   ("dob", 12, 320, None), ("sex", 12, 64, None), ("postcode", 6, 128, None)],
    "blocks": [["surname_phonetic", "yob"], ["first_phonetic", "yob"], ["first_initial", "dob"],
               ["district", "yob"], ["sector", "sex"]],
}


def flip_canonical(text):
    """flip as the spec file writes it, rounded to 1/10000 as the parser keeps
    it (so 0.01234 and 0.0123 are one specification)."""
    p = float(text)
    assert 0.0 <= p <= 0.25
    return int(p * 10000.0 + 0.5) / 10000.0


def spec_canonical(spec):
    """The canonical text common/spec.c hashes (xl_spec_canonical): thresholds
    left out, levels by number, CLK fields and blocking keys in file order."""
    out = "crosslink-spec 2\nname=%s\nnicknames=%d\n" % (spec["name"], spec["nicknames"])
    for number, name, variant, compare, strong, parts in LEVELS:
        out += "level=%d name=%s variant=%s compare=%d strong=%d fields=%s\n" % (
            number, name, variant, compare, strong, ",".join(parts))
    total = sum(bits for _field, _k, bits, _salt in spec["clk_fields"] if bits != "+")
    out += "clk bits=%d q=%d salt=%s xor_fold=%d flip=%.4f\n" % (
        total, spec["clk_q"], spec["clk_salt"], spec["clk_xor_fold"],
        flip_canonical(spec["clk_flip"]))
    for field, k, bits, salt in spec["clk_fields"]:
        out += "clk_field=%s k=%d bits=%s" % (field, k, bits)
        if salt is not None:
            out += " salt=%s" % salt
        out += "\n"
    for i, parts in enumerate(spec["blocks"]):
        out += "block=%d fields=%s\n" % (i, ",".join(parts))
    return out


CANONICAL = spec_canonical(SPEC)
SPEC_FP = hashlib.sha256(CANONICAL.encode()).digest()

# ---- field values (agent_field_value) --------------------------------------------

# The entries of the nickname table (agent/normalise.c) the test persons use.
NICKNAMES = {"bill": "william", "tom": "thomas", "liz": "elizabeth"}

SOUNDEX_CODES = {}
for letters, digit in (("aeiouy", "0"), ("hw", "-"), ("bfpv", "1"), ("cgjkqsxz", "2"),
                       ("dt", "3"), ("l", "4"), ("mn", "5"), ("r", "6")):
    for c in letters:
        SOUNDEX_CODES[c] = digit


def soundex(name):
    """American Soundex of the a-z letters of name (anything else ignored):
    vowels separate equal codes, h and w do not. None when there is no a-z."""
    letters = [c for c in name.lower() if "a" <= c <= "z"]
    if not letters:
        return None
    code = letters[0].upper()
    last = SOUNDEX_CODES[letters[0]]
    for c in letters[1:]:
        d = SOUNDEX_CODES[c]
        if d not in ("0", "-") and d != last:
            code += d
            if len(code) == 4:
                break
        if d != "-":
            last = d
    return (code + "000")[:4]


assert [soundex(n) for n in ("robert", "tymczak", "pfister", "ashcraft")] == \
    ["R163", "T522", "P236", "A261"]


def first_name(p, nicknames):
    v = p["first"].replace(" ", "")
    if not v:
        return None
    if nicknames and v in NICKNAMES:
        v = NICKNAMES[v]
    return v


def field_value(p, field, nicknames):
    """The value of a spec field as hashed, or None when it (or a field it is
    derived from) is missing. Names are compacted (spaces removed); the
    nickname table applies to the first name only, and only when asked."""
    def present(v):
        return v if v else None

    if field == "nhs_number":
        return present(p["nhs"])
    if field == "upn":
        return present(p["upn"])
    if field == "first_name":
        return first_name(p, nicknames)
    if field == "first_initial":
        v = first_name(p, nicknames)
        return v[0] if v else None
    if field == "middle_name":
        return present(p["middle"].replace(" ", ""))
    if field == "surname":
        return present(p["surname"].replace(" ", ""))
    if field == "surname_phonetic":
        return soundex(p["surname"])
    if field == "first_phonetic":
        v = first_name(p, nicknames)
        return soundex(v) if v else None
    if field == "dob":
        return present(p["dob"])
    if field == "yob":
        return p["dob"][:4] if p["dob"] else None
    if field in ("sex", "postcode", "district", "sector"):
        return present(p[field])
    raise ValueError(field)


def join(p, parts, nicknames):
    values = [field_value(p, f, nicknames) for f in parts]
    if any(v is None for v in values):
        return None
    return SEP.join(v.encode() for v in values)


def variant(p, kind):
    """The person as a variant level sees it, or None when it does not apply."""
    q = dict(p)
    if kind == "names_swapped":
        if not p["first"] or not p["surname"] or p["first"] == p["surname"]:
            return None
        q["first"], q["surname"] = p["surname"], p["first"]
        return q
    if kind == "dob_transposed":
        dob = p["dob"]
        if not dob:
            return None
        month, day = dob[5:7], dob[8:10]
        if day == month or not ("01" <= day <= "12"):
            return None
        q["dob"] = dob[:5] + day + "-" + month
        return q
    return p


# ---- encodings ---------------------------------------------------------------------


def hmac256(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


def tokens(p):
    """[(stored level, hashed level, value, token)] in the encoder's order."""
    out = []

    def add(level, hashed, value):
        tok = hmac256(MATCH_KEY, SPEC_FP[:8] + bytes([hashed]) + value)[:16]
        if any(o[0] == level and o[3] == tok for o in out):
            return  # the same value twice for one level gives one token
        out.append((level, hashed, value, tok))

    for number, _name, kind, compare, _strong, parts in LEVELS:
        src = variant(p, kind)
        if src is None:
            continue
        value = join(src, parts, SPEC["nicknames"])
        if value is None:
            continue
        add(number, compare, value)
        # A double-barrelled surname also gives a token for each of its words
        # (the first three).
        if "surname" in parts and " " in src["surname"]:
            for word in src["surname"].split()[:3]:
                r = dict(src)
                r["surname"] = word
                value = join(r, parts, SPEC["nicknames"])
                if value is not None:
                    add(number, compare, value)
    return out


def blocks(p):
    """[(index, value, 8-byte blocking key)] for the keys whose fields are present."""
    out = []
    for i, parts in enumerate(SPEC["blocks"]):
        value = join(p, parts, SPEC["nicknames"])
        if value is None:
            continue
        h = siphash24(BLOCK_KEY[:16], bytes([BLOCK_TAG + i]) + value)
        out.append((i, value, h.to_bytes(8, "little")))
    return out


def local_ref(p):
    msg = AGENCY.encode() + SEP + DATASET.encode() + SEP + p["source_id"].encode()
    return hmac256(LOCAL_KEY, msg)[:16]


def clk_salt(p, salt_field):
    """The salt bytes: the value of the salt field, empty when there is none
    or the person has no such value (no nicknames)."""
    if salt_field is None or salt_field == "none":
        return b""
    v = field_value(p, salt_field, False)
    return v.encode() if v is not None else b""


def clk_qgram_hashes(p, field, segment, q, salt):
    """[(hash input, SipHash value)] of the q-grams of one field's value in
    segment number segment."""
    value = field_value(p, field, False)  # the CLK uses the name as written
    if value is None:
        return []
    chars = list("_" * (q - 1) + value + "_" * (q - 1))  # Unicode code points
    out = []
    for g in range(len(chars) - q + 1):
        gram = "".join(chars[g : g + q]).encode()
        data = bytes([FNUM[field], segment]) + salt + SEP + gram
        out.append((data, siphash24(BLOOM_KEY[:16], data)))
    return out


def clk_positions(h, k, bits):
    positions = []
    state = h
    while len(positions) < k:
        state, r = splitmix64(state)
        # each 64-bit output gives two positions: low 32 bits, then high
        for half in (r & 0xFFFFFFFF, r >> 32):
            if len(positions) < k:
                positions.append((half * bits) >> 32)
    return positions


def segments(fields):
    """The segments of the unfolded filter, in order, as (offset, bits, lines)
    with lines [(field, k, salt field or None)]: a line with bits "+" joins the
    segment before it, any other starts a new one. Segment i is numbered i."""
    out, offset = [], 0
    for field, k, bits, salt in fields:
        if bits == "+":
            assert out, "the first line cannot share a segment"
            assert field not in [f for f, _k, _s in out[-1][2]]
            out[-1][2].append((field, k, salt))
        else:
            out.append((offset, bits, [(field, k, salt)]))
            offset += bits
    return out


def flip_seed(ref):
    """The noise generator's seed: SipHash-2-4 of "flip" || local_ref."""
    data = b"flip" + ref
    return data, siphash24(BLOOM_KEY[:16], data)


def flip_bits(ref, nbits, p):
    """Which bits of an nbits filter the noise flips, as a list of 0/1. Each bit
    has its own 16-bit draw, four per splitmix64 output (lowest 16 bits first),
    and flips when the draw is below round(p * 65536)."""
    threshold = int(p * 65536.0 + 0.5)
    flips = [0] * nbits
    if threshold == 0:
        return flips  # no draws at all
    _data, state = flip_seed(ref)
    for b in range(0, nbits, 4):
        state, r = splitmix64(state)
        for i in range(4):
            if (r >> (16 * i)) & 0xFFFF < threshold:
                flips[b + i] = 1
    return flips


def to_bytes(bitlist):
    """Bit b is bit (b mod 8), least significant first, of byte b / 8."""
    out = bytearray(len(bitlist) // 8)
    for b, v in enumerate(bitlist):
        if v:
            out[b // 8] |= 1 << (b % 8)
    return bytes(out)


def clk(p, fields, q, salt_field, xor_fold, flip):
    """The CLK of person p for [clk] field lines [(name, k, bits, salt)], q, the
    [clk] salt, xor_fold and flip (canonical float), as sent."""
    segs = segments(fields)
    total = sum(bits for _o, bits, _lines in segs)
    full = [0] * total
    for number, (offset, bits, lines) in enumerate(segs):
        for field, k, line_salt in lines:
            # A line's own salt field replaces the [clk] one.
            salt = clk_salt(p, line_salt if line_salt is not None else salt_field)
            for _data, h in clk_qgram_hashes(p, field, number, q, salt):
                for pos in clk_positions(h, k, bits):
                    full[offset + pos] = 1
    # The noise covers the whole unfolded filter, after every q-gram.
    noise = flip_bits(local_ref(p), total, flip)
    full = [a ^ b for a, b in zip(full, noise)]
    if xor_fold:
        # Each segment folded on itself: its first half xor its second half.
        folded = []
        for offset, bits, _lines in segs:
            half = bits // 2
            folded += [full[offset + i] ^ full[offset + half + i] for i in range(half)]
        full = folded
    return to_bytes(full)


# ---- the test persons ---------------------------------------------------------------

# Values as validation leaves them (agent/normalise.h): names lower case with
# words separated by single spaces, dates ISO, postcodes canonical; "" missing.
PERSON_KEYS = ["source_id", "first", "middle", "surname", "dob", "sex", "postcode",
               "district", "sector", "nhs", "upn"]


def nhs_valid(n):
    total = sum(int(d) * (10 - i) for i, d in enumerate(n[:9]))
    check = 11 - total % 11
    return (0 if check == 11 else check) == int(n[9])


UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def upn_with_check(body12):
    total = sum(int(c) * (i + 2) for i, c in enumerate(body12))
    return UPN_LETTERS[total % 23] + body12


def person(pid, **kw):
    p = {k: "" for k in PERSON_KEYS}
    p.update(kw)
    p["id"] = pid
    return p


PERSONS = [
    # Every field but the UPN; the day of birth could be a month (transposed variant).
    person("amelia", source_id="P-0001", first="amelia", middle="grace", surname="okafor",
           dob="2012-07-01", sex="f", postcode="B11 2AA", district="B11", sector="B11 2",
           nhs="9434765919"),
    # A nickname (bill -> william in match keys, not in the CLK) and a
    # double-barrelled surname (tokens for "smithjones", "smith" and "jones").
    person("bill", source_id="P-0002", first="bill", surname="smith jones",
           dob="2010-03-15", sex="m", postcode="M1 1AE", district="M1", sector="M1 1"),
    # Two given names: swapped, "mary sue" becomes a two-word surname. Day equal
    # to month: no transposed variant. A UPN and no postcode.
    person("marysue", source_id="P-0003", first="mary sue", surname="oneill",
           dob="2011-11-11", sex="f", upn=upn_with_check("801200001001")),
    # A Cyrillic surname: multi-byte q-grams, no Soundex code.
    person("sofia", source_id="P-0004", first="sofia", surname="иванова",
           dob="2013-05-09", sex="f", postcode="LS1 4AP", district="LS1", sector="LS1 4"),
    # No surname: every level and CLK field that needs it is left out.
    person("nosurname", source_id="P-0005", first="tom", middle="james",
           dob="2014-02-10", sex="m", postcode="E1 6AN", district="E1", sector="E1 6",
           nhs="4010232137"),
    # No date of birth: the surname's own salt (dob) and the [clk] salt (yob)
    # are missing, so its q-grams go unsalted; no level or blocking key that
    # needs the date.
    person("nodob", source_id="P-0006", first="oliver", surname="brown", sex="m",
           postcode="NG1 5FS", district="NG1", sector="NG1 5"),
]
for _p in PERSONS:
    assert not _p["nhs"] or nhs_valid(_p["nhs"])

# CLK parameter sets: (name, bits of each segment in file order (one per
# field line that is not "+"), q, salt, xor_fold, flip as written in the spec
# file). The first is the spec's own. Segments are sized so that a typical
# value sets about a third of its bits; 320, 384 and 192 are not powers of two
# (positions by multiplication). The folded sets fold segment 0, which holds
# the shared dob line.
CLK_SETS = [
    ("spec", (384, 64, 512, 320, 64, 128), 2, "none", 0, "0"),
    # 0.0529 * 65536 = 3466.9: t = 3467 only when rounded, and a draw of
    # amelia's noise is 3466, so the rounding is pinned
    ("flip", (384, 64, 512, 320, 64, 128), 2, "none", 0, "0.0529"),
    # flip rounded to 0.0123 by the parser: a threshold of 806/65536
    ("salt", (384, 64, 512, 320, 64, 128), 2, "yob", 0, "0.01234"),
    ("fold", (384, 128, 512, 384, 128, 128), 2, "none", 1, "0"),
    ("fold_q3", (256, 128, 256, 256, 128, 128), 3, "yob", 1, "0.1"),
    # t = 15768, and a draw of bill's noise is 15768: it must not flip (draw < t)
    ("small", (256, 64, 256, 192, 64, 192), 2, "none", 0, "0.2406"),
]
assert CLK_SETS[0][1] == tuple(b for _f, _k, b, _s in SPEC["clk_fields"] if b != "+")


def clk_set_spec(clk_set):
    """SPEC with [clk] as the parameter set gives it: each segment's bits
    replaced, "+" lines and line salts kept."""
    _name, seg_bits, q, salt, fold, flip = clk_set
    spec = dict(SPEC)
    bits = iter(seg_bits)
    spec["clk_fields"] = [(f, k, b if b == "+" else next(bits), s)
                          for f, k, b, s in SPEC["clk_fields"]]
    assert next(bits, None) is None
    spec["clk_q"], spec["clk_salt"], spec["clk_xor_fold"], spec["clk_flip"] = q, salt, fold, flip
    return spec


# The noise alone (the CLK of a record with nothing but its source id) for these
# sets, by the local_ref of these persons.
FLIP_VECTORS = [("flip", "amelia"), ("small", "bill")]

# ---- output ----------------------------------------------------------------------

HEADER = """\
# Known-answer vectors for the agent's encoder (agent/encode.c). Written by
# tests/vectors/gen_encode_vectors.py, an independent Python implementation;
# do not edit by hand. This file is a contract between agencies: every agent
# must produce exactly these bytes, or records of different agencies never
# match. A changed value here is a protocol change.
#
# Format: records of "name = value" lines separated by blank lines; '#' starts
# a comment line. Byte strings are lower-case hex; numbers decimal. The first
# field, kind, says what a record holds.
#
# Inputs
#   kind = siphash   the SipHash-2-4 reference vector (paper, appendix A: the
#                    value 0xa129ca6149be45e5), as the 8 bytes the reference
#                    code and libsodium write (little-endian).
#   kind = keys      secret: the linkage secret S; local_key: the agency's
#                    local key; match_key, bloom_key, block_key: crypto_kdf
#                    subkeys 1, 2, 3 of S (context "xlinkkdf"; see kdf.txt):
#                    BLAKE2b-256(key = S, salt = id as 8 bytes LE || 8 zero
#                    bytes, personal = "xlinkkdf" || 8 zero bytes).
#   kind = spec      spec_fp: SHA-256 of the canonical text of
#                    tests/vectors/spec_example.spec (shown below; each line
#                    ends with a newline); agency and dataset the encoder is
#                    made for.
#   kind = person    values: the person's normalised fields joined by '|', in
#                    the order source_id|first|middle|surname|dob|sex|postcode|
#                    district|sector|nhs|upn; an empty value is a missing field.
#
# Field values (agent_field_value): names with their spaces removed
# ("smith jones" -> "smithjones"); for match keys and blocking keys, when the
# spec sets nicknames, a listed nickname as first name is replaced by its
# canonical name ("bill" -> "william") before first_initial and first_phonetic
# are taken from it; the CLK never applies nicknames. first_initial: the first
# UTF-8 character; surname_phonetic / first_phonetic: American Soundex of the
# a-z letters (no a-z: missing); yob: the first four characters of dob. A
# value of a missing field is missing, never the empty string.
#
# Outputs
#   kind = token     one per match key of a person, in the encoder's order:
#                    level is the level number the record stores, hashed_level
#                    the byte hashed (the level named by compare: a variant is
#                    joined with the tokens of that level), value the joined
#                    value, token:
#                      first 16 bytes of HMAC-SHA256(match_key,
#                          spec_fp[:8] || hashed_level (1 byte) || value)
#                    value = the level's field values joined by 0x1f. A level
#                    with a missing field gives no token. Variants:
#                    names_swapped exchanges first name and surname (not when
#                    either is missing or they are equal); dob_transposed
#                    exchanges month and day of YYYY-MM-DD (only when the day
#                    is 01-12 and differs from the month). When a level has the
#                    field surname and the (possibly swapped) surname has
#                    several words, each of its first three words gives a token
#                    too, in place of the whole surname. A value repeated within
#                    a level gives one token.
#   kind = block     blocking keys, by index in [blocking] (keys with a missing
#                    field are left out):
#                      SipHash-2-4(first 16 bytes of block_key,
#                          (0x80 + index) || value), its 8 bytes as libsodium
#                          writes them
#   kind = local_ref first 16 bytes of HMAC-SHA256(local_key,
#                        agency || 0x1f || dataset || 0x1f || source_id)
#   kind = qgram     the first q-gram hashes of some of a person's field lines
#                    under the spec's own [clk] (q 2), for auditing: field and
#                    segment (its number), input, hash (the 8 bytes of
#                    SipHash-2-4 as libsodium's crypto_shorthash writes them,
#                    i.e. the 64-bit value little-endian) and the bit positions
#                    it sets within that segment (k and bits of the line).
#   kind = clk_set   a [clk] parameter set: the spec file with the BITS of each
#                    "field = NAME K BITS [SALT]" line replaced by segments (in
#                    file order; "field = NAME K + [SALT]" lines kept as they
#                    are), and q, salt, xor_fold and flip replaced; spec_fp is
#                    the fingerprint of that specification (its canonical text
#                    as below, with these values). Set "spec" is the spec file
#                    itself.
#   kind = clk       the CLK of a person under a clk_set. Each field line
#                    "field = NAME K BITS [SALT]" starts a new segment of BITS
#                    bits; a line "field = NAME K + [SALT]" adds NAME to the
#                    segment of the line before it (same offset and BITS).
#                    Segments are numbered 0, 1, ... and laid out in file order
#                    from bit 0 (a segment's offset is the sum of the BITS
#                    before it; the filter has their sum). For each line whose
#                    field is present, the value is padded with q-1 '_' on each
#                    side and cut into q-grams of q Unicode characters (UTF-8
#                    encoded). Each q-gram is hashed:
#                      h = SipHash-2-4(first 16 bytes of bloom_key,
#                            field number (1 byte) || segment number (1 byte)
#                            || salt || 0x1f || q-gram)
#                    read as a little-endian 64-bit integer; salt is the value
#                    of the line's SALT field, or of the [clk] salt field when
#                    the line has none (empty when there is none or the person
#                    has no such value; no nicknames). Field numbers:
#                    nhs_number 0, upn 1, first_name 2, first_initial 3,
#                    middle_name 4, surname 5, surname_phonetic 6,
#                    first_phonetic 7, dob 8, yob 9, sex 10, postcode 11,
#                    district 12, sector 13. h seeds splitmix64; each output r
#                    gives two positions, (lo * BITS) >> 32 then
#                    (hi * BITS) >> 32 for its low and high 32-bit halves,
#                    until K (of the line) are drawn; each sets bit
#                    offset + position of the line's segment.
#                    Then the flip noise, over the whole filter: with
#                    t = floor(flip * 65536 + 0.5) (flip rounded to 4 decimals
#                    first) and t > 0, splitmix64 is seeded with
#                      SipHash-2-4(first 16 bytes of bloom_key,
#                            "flip" (4 ASCII bytes) || local_ref)
#                    read little-endian, and each output r gives the draws of
#                    four bits in order, (r >> 0), (r >> 16), (r >> 32),
#                    (r >> 48), each & 0xffff; a bit flips when its draw is
#                    below t. t = 0: no noise.
#                    Then, with xor_fold, each segment (once, however many
#                    lines it has) is folded on itself: bit i of the folded
#                    segment is bit i xor bit i + BITS/2 of the segment; the
#                    folded segments in file order are the result (half the
#                    length).
#                    Bit b of the result is bit (b mod 8) of byte b / 8 (least
#                    significant first).
#   kind = flip      the noise alone: the CLK (no fold) under a clk_set of a
#                    record with the person's source_id and no other field.
#                    input and seed: the noise generator's SipHash input and
#                    its 8 bytes.
#
# Canonical text of spec_example.spec:
"""


def fmt_value(value):
    return value.decode().replace("\x1f", "|")


def render():
    lines = [HEADER.rstrip("\n")]
    for line in CANONICAL.rstrip("\n").split("\n"):
        lines.append("#   " + line)
    lines.append("")

    def record(comment, fields):
        if comment:
            lines.append("# " + comment)
        for name, value in fields:
            lines.append("%s = %s" % (name, value))
        lines.append("")

    record("SipHash-2-4 reference vector", [
        ("kind", "siphash"), ("key", SIPHASH_KEY.hex()), ("input", SIPHASH_MSG.hex()),
        ("hash", SIPHASH_OUT)])
    record(None, [
        ("kind", "keys"), ("secret", SECRET.hex()), ("local_key", LOCAL_KEY.hex()),
        ("match_key", MATCH_KEY.hex()), ("bloom_key", BLOOM_KEY.hex()),
        ("block_key", BLOCK_KEY.hex())])
    record(None, [
        ("kind", "spec"), ("spec_fp", SPEC_FP.hex()), ("agency", AGENCY),
        ("dataset", DATASET)])

    for p in PERSONS:
        record(None, [("kind", "person"), ("person", p["id"]),
                      ("values", "|".join(p[k] for k in PERSON_KEYS))])
    for p in PERSONS:
        for level, hashed, value, tok in tokens(p):
            record("%s, level %d: %s" % (p["id"], level, fmt_value(value)), [
                ("kind", "token"), ("person", p["id"]), ("level", str(level)),
                ("hashed_level", str(hashed)), ("value", value.hex()), ("token", tok.hex())])
    for p in PERSONS:
        for index, value, key in blocks(p):
            record("%s, blocking key %d: %s" % (p["id"], index, fmt_value(value)), [
                ("kind", "block"), ("person", p["id"]), ("index", str(index)),
                ("value", value.hex()), ("block", key.hex())])
    for p in PERSONS:
        record(None, [("kind", "local_ref"), ("person", p["id"]),
                      ("local_ref", local_ref(p).hex())])
    # The first q-grams of amelia's lines first_name (segment 0), dob (shared
    # into segment 0) and surname (segment 2, salted with dob), under the
    # spec's own [clk] (no [clk] salt).
    assert SPEC["clk_salt"] == "none"
    amelia = PERSONS[0]
    for number, (_offset, bits, seglines) in enumerate(segments(SPEC["clk_fields"])):
        for field, k, line_salt in seglines:
            if field not in ("first_name", "surname") and not (field == "dob" and number == 0):
                continue
            salt = clk_salt(amelia, line_salt)
            for data, h in clk_qgram_hashes(amelia, field, number, 2, salt)[:3]:
                record("amelia, %s q-gram '%s' in segment %d%s" % (
                    field, data[3 + len(salt):].decode(), number,
                    ", salt '%s'" % salt.decode() if salt else ""), [
                    ("kind", "qgram"), ("person", amelia["id"]), ("field", field),
                    ("segment", str(number)), ("input", data.hex()),
                    ("hash", struct.pack("<Q", h).hex()),
                    ("positions", ",".join(str(b) for b in clk_positions(h, k, bits)))])
    for clk_set in CLK_SETS:
        name, seg_bits, q, salt, fold, flip = clk_set
        spec = clk_set_spec(clk_set)
        record(None, [
            ("kind", "clk_set"), ("set", name), ("segments", " ".join(str(b) for b in seg_bits)),
            ("q", str(q)), ("salt", salt), ("xor_fold", "yes" if fold else "no"),
            ("flip", flip), ("spec_fp", hashlib.sha256(spec_canonical(spec).encode()).hexdigest())])
    for clk_set in CLK_SETS:
        spec = clk_set_spec(clk_set)
        for p in PERSONS:
            record(None, [
                ("kind", "clk"), ("set", clk_set[0]), ("person", p["id"]),
                ("clk", clk(p, spec["clk_fields"], spec["clk_q"], spec["clk_salt"],
                            spec["clk_xor_fold"], flip_canonical(spec["clk_flip"])).hex())])
    for set_name, pid in FLIP_VECTORS:
        spec = clk_set_spec(next(c for c in CLK_SETS if c[0] == set_name))
        p = next(x for x in PERSONS if x["id"] == pid)
        nobody = person(pid, source_id=p["source_id"])
        data, seed = flip_seed(local_ref(p))
        assert not spec["clk_xor_fold"]
        record("the noise alone: a record of %s's source id and nothing else" % pid, [
            ("kind", "flip"), ("set", set_name), ("person", pid), ("input", data.hex()),
            ("seed", struct.pack("<Q", seed).hex()),
            ("clk", clk(nobody, spec["clk_fields"], spec["clk_q"], spec["clk_salt"], 0,
                        flip_canonical(spec["clk_flip"])).hex())])
    return "\n".join(lines).rstrip("\n") + "\n"


def main():
    text = render()
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        with open(OUT, encoding="utf-8") as f:
            if f.read() != text:
                print("%s differs from what %s writes" % (OUT, sys.argv[0]), file=sys.stderr)
                return 1
        return 0
    if not os.path.exists(SPEC_FILE):
        print("run from the repository root (%s not found)" % SPEC_FILE, file=sys.stderr)
        return 1
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
