/* The keyring: the linker's list of public keys it admits, one per line:
 *
 *   <key id> <role> <agency> <name> <active|revoked> <date> <public key Z85>
 *
 * '#' starts a comment line. The key id is derived from the public key and
 * checked on load, so a hand-edited line whose id and key disagree is refused.
 * Saves are atomic (temporary file, fsync, rename). */
#ifndef XL_KEYRING_H
#define XL_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "xl/crypto.h"
#include "xl/keyfile.h"

enum xl_role { XL_ROLE_AGENT, XL_ROLE_ANALYST, XL_ROLE_AUDITOR, XL_ROLE_ADMIN, XL_ROLE_COUNT };

/* Role from its name ("agent", ...); XL_ERR_INVALID for anything else. */
int xl_role_parse(const char *s, enum xl_role *out);
const char *xl_role_name(enum xl_role r);

struct xl_keyring_entry {
    char key_id[XL_KEYID_HEX + 1];
    enum xl_role role;
    char agency[XL_NAME_MAX];
    char name[XL_NAME_MAX];
    int active;
    char date[11];
    uint8_t pk[XL_KEY_BYTES];
};

struct xl_keyring {
    struct xl_keyring_entry *entries;
    size_t count;
    size_t cap;
};

/* Parses one keyring line (no newline). `where` (e.g. "keyring:3") prefixes any
 * error. XL_ERR_FORMAT for a malformed line, naming the field. */
int xl_keyring_parse_line(const char *line, const char *where, struct xl_keyring_entry *e,
                          char *err, size_t errlen);
/* Formats e as a keyring line without newline into buf; XL_ERR_INVALID if small. */
int xl_keyring_format_line(const struct xl_keyring_entry *e, char *buf, size_t len);

/* Loads path into a new keyring (*out, caller frees with xl_keyring_destroy).
 * A missing file is XL_ERR_NOTFOUND; any bad line fails the whole load. */
int xl_keyring_load(const char *path, struct xl_keyring **out, char *err, size_t errlen);
struct xl_keyring *xl_keyring_new(void);
void xl_keyring_destroy(struct xl_keyring **kr);

/* Lookups: NULL when absent. */
const struct xl_keyring_entry *xl_keyring_find_pk(const struct xl_keyring *kr,
                                                  const uint8_t pk[XL_KEY_BYTES]);
const struct xl_keyring_entry *xl_keyring_find(const struct xl_keyring *kr, const char *id_or_name);
/* The entry with key id exactly id (never matched by name). kr may be NULL. */
const struct xl_keyring_entry *xl_keyring_find_id(const struct xl_keyring *kr, const char *id);

/* Counts of a keyring, for the audit log and status. */
struct xl_keyring_counts {
    size_t entries, active, revoked, agents;
};
void xl_keyring_count(const struct xl_keyring *kr, struct xl_keyring_counts *c);

/* Adds e. XL_ERR_EXISTS when the public key, key id or name is already there. */
int xl_keyring_add(struct xl_keyring *kr, const struct xl_keyring_entry *e, char *err,
                   size_t errlen);
/* Marks the entry with this key id or name revoked, dated date. XL_ERR_NOTFOUND
 * when absent; revoking a revoked key is XL_ERR_INVALID. */
int xl_keyring_revoke(struct xl_keyring *kr, const char *id_or_name, const char *date, char *err,
                      size_t errlen);
/* Writes kr to path atomically, mode 0644. */
int xl_keyring_save(const struct xl_keyring *kr, const char *path, char *err, size_t errlen);

/* A keyring entry for the public key in kf (a curve key with role and agency). */
int xl_keyring_entry_from_key(const struct xl_keyfile *kf, struct xl_keyring_entry *e, char *err,
                              size_t errlen);

#endif
