/* C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures, and the
 * transparency-log checkpoints carried in them (c2sp.org/tlog-checkpoint).
 *
 * A signed note is a text (UTF-8, no control characters but newline, ending
 * in a newline), a blank line, then one or more signature lines
 *
 *     "\u2014 " <key name> " " base64(key id, 4 bytes big-endian || signature) "\n"
 *
 * The Ed25519 key id is the first four bytes of
 * SHA-256(key name || 0x0A || 0x01 || public key). A verifier key ("vkey") is
 * the text <key name> "+" hex(key id) "+" base64(0x01 || public key); it is the
 * form in which IG leads and witnesses are given the linker's key.
 *
 * The checkpoint is the note text of a log's signed tree head: origin line,
 * decimal tree size, base64 root hash, then optional extension lines.
 *
 * Same format as golang.org/x/mod/sumdb/note, so notes made here open there and
 * the other way round. All functions return 0 or a negative XL_ERR_* code;
 * output parameters are cleared first. Nothing here copies a signing key: it
 * is read in the caller's buffer. */
#ifndef XL_NOTE_H
#define XL_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include "xl/crypto.h"

#define XL_NOTE_ALG_ED25519 0x01 /* signature type byte of Ed25519 keys */
#define XL_NOTE_KEYID_BYTES 4
#define XL_NOTE_NAME_MAX    255 /* bytes of a key name (ours; the spec sets none) */
/* Largest note accepted and most signature lines in one (the spec requires at
 * least 16; 100 is the reference implementation's bound). XL_NOTE_MAX leaves
 * room for 16 post-quantum signatures of nearly 5 kB each. */
#define XL_NOTE_MAX      (256 * 1024)
#define XL_NOTE_SIGS_MAX 100
/* Longest base64 signature (key id included) in a signature line. */
#define XL_NOTE_SIG_B64_MAX 8192
/* A vkey's text with its NUL: name, '+', 8 hex digits, '+', base64 of 33 bytes. */
#define XL_NOTE_VKEY_MAX (XL_NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)

/* A verifier key: who signs, and with which Ed25519 public key. */
struct xl_note_vkey {
    char name[XL_NOTE_NAME_MAX + 1];
    uint32_t id; /* key id, as a big-endian number */
    uint8_t pk[XL_SIGN_PK_BYTES];
};

/* 1 when name is a valid key name: non-empty, at most XL_NOTE_NAME_MAX bytes of
 * valid UTF-8, with no Unicode space (White_Space), no '+' and no control
 * character. */
int xl_note_name_valid(const char *name);

/* The Ed25519 key id of (name, pk). XL_ERR_INVALID for an invalid name. */
int xl_note_key_id(const char *name, const uint8_t pk[XL_SIGN_PK_BYTES], uint32_t *id);

/* Fills vk for name and pk, computing the key id. XL_ERR_INVALID with a
 * message for an invalid name. */
int xl_note_vkey_init(struct xl_note_vkey *vk, const char *name, const uint8_t pk[XL_SIGN_PK_BYTES],
                      char *err, size_t errlen);

/* The vkey text of vk into out (NUL-terminated). XL_ERR_INVALID for an invalid
 * name. The key id is recomputed, not taken from vk->id. */
int xl_note_vkey_format(const struct xl_note_vkey *vk, char out[XL_NOTE_VKEY_MAX]);

/* Parses a vkey text (NUL-terminated, no newline). XL_ERR_FORMAT with a message
 * when it does not parse, names another signature type than Ed25519, or its
 * key id is not the one its name and key give. */
int xl_note_vkey_parse(const char *text, struct xl_note_vkey *vk, char *err, size_t errlen);

/* Signs the note text (len bytes, valid note text ending in a newline) as key
 * `name` with the Ed25519 secret key sk (libsodium's 64-byte form; its public
 * half gives the key id). On success *out is a newly allocated signed note of
 * *outlen bytes plus a NUL; the caller frees it with free(). XL_ERR_INVALID
 * with a message for a bad text or name, XL_ERR_TOOBIG for a text over
 * XL_NOTE_MAX, XL_ERR_NOMEM. */
int xl_note_sign(const char *text, size_t len, const char *name, const uint8_t sk[XL_SIGN_SK_BYTES],
                 char **out, size_t *outlen, char *err, size_t errlen);

/* Checks the signed note msg (len bytes) and its signatures by vk. Returns 0
 * when every signature line with vk's name and key id verifies, and there is at
 * least one, with *textlen the length of the note text: the signed text is the
 * first *textlen bytes of msg. Lines by other keys are checked for form and
 * otherwise ignored, as the spec requires. Errors, each with a message:
 * XL_ERR_TOOBIG (over XL_NOTE_MAX), XL_ERR_FORMAT (not a well-formed note,
 * including more than XL_NOTE_SIGS_MAX signature lines), XL_ERR_CRYPTO (a
 * signature by vk does not verify), XL_ERR_NOTFOUND (no signature by vk). */
int xl_note_verify(const char *msg, size_t len, const struct xl_note_vkey *vk, size_t *textlen,
                   char *err, size_t errlen) __attribute__((warn_unused_result));

/* ---- checkpoints ------------------------------------------------------------------------- */

#define XL_CHECKPOINT_ORIGIN_MAX XL_NOTE_NAME_MAX

struct xl_checkpoint {
    char origin[XL_CHECKPOINT_ORIGIN_MAX + 1];
    uint64_t size;               /* number of leaves */
    uint8_t root[XL_HASH_BYTES]; /* RFC 6962 root hash at that size */
};

/* The checkpoint text of cp into out (outlen bytes, NUL-terminated); returns
 * its length (without the NUL) or a negative code. ext is NULL or extension
 * lines, each non-empty and ending in a newline (the spec advises against
 * them). The origin must be a valid key name, so the log can sign as it.
 * XL_ERR_INVALID for a bad origin or ext, XL_ERR_TOOBIG when out is short. */
int xl_checkpoint_format(const struct xl_checkpoint *cp, const char *ext, char *out, size_t outlen);

/* Parses a checkpoint text (len bytes, as returned by xl_note_verify). On
 * success *ext_off (if not NULL) is the offset of the extension lines in text,
 * len when there are none. XL_ERR_FORMAT with a message: fewer than three
 * lines, an empty or over-long origin, a size with a sign, a leading zero or
 * over 2^64-1, a root hash that is not the base64 of 32 bytes, an empty
 * extension line, a control character or invalid UTF-8. */
int xl_checkpoint_parse(const char *text, size_t len, struct xl_checkpoint *cp, size_t *ext_off,
                        char *err, size_t errlen);

/* xl_note_verify by vk, then xl_checkpoint_parse of the text; also refuses
 * (XL_ERR_MISMATCH) a checkpoint whose origin is not vk's name, the spec's
 * advice followed as a rule for our own logs. */
int xl_checkpoint_open(const char *msg, size_t len, const struct xl_note_vkey *vk,
                       struct xl_checkpoint *cp, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
