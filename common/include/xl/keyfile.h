/* Key files: small text files of "field: value" lines, keys in Z85.
 *
 *   # crosslink key file
 *   type: curve-secret
 *   name: wmp-agent
 *   role: agent
 *   agency: wmp
 *   created: 2026-11-22
 *   public: <Z85>
 *   secret: <Z85>
 *
 * Files holding a secret are created O_CREAT|O_EXCL with mode 0600 and refused
 * on load when group or others can read them. A linkage-secret file also has
 * "epoch: N". */
#ifndef XL_KEYFILE_H
#define XL_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "xl/crypto.h"

enum xl_key_type {
    XL_KEY_CURVE_PUBLIC,    /* X25519 public (ZeroMQ CURVE) of a role's key pair */
    XL_KEY_CURVE_SECRET,    /* X25519 key pair */
    XL_KEY_SIGN_PUBLIC,     /* Ed25519 public (linker signing key) */
    XL_KEY_SIGN_SECRET,     /* Ed25519 key pair */
    XL_KEY_ANALYSIS_PUBLIC, /* X25519 public that agents seal payloads to */
    XL_KEY_ANALYSIS_SECRET, /* X25519 key pair held by analysts */
    XL_KEY_LINKAGE_SECRET,  /* coalition linkage secret, with epoch */
    XL_KEY_LOCAL_SECRET,    /* agency local key for local_ref */
    XL_KEY_PSEUDONYM_SECRET /* the linker's own key for per-project pseudonyms */
};

#define XL_NAME_MAX 64

struct xl_keyfile {
    enum xl_key_type type;
    char name[XL_NAME_MAX];
    char role[16];
    char agency[XL_NAME_MAX];
    char created[32];
    uint32_t epoch; /* linkage secrets only */
    uint8_t pub[XL_SIGN_PK_BYTES];
    size_t publen;   /* 0 when the type has no public part */
    uint8_t *secret; /* xl_secret_alloc memory; NULL for public types */
    size_t secretlen;
};

/* The name used in files ("curve-secret") and whether the type holds a secret. */
const char *xl_key_type_name(enum xl_key_type t);
int xl_key_type_is_secret(enum xl_key_type t);

/* A new key file structure of the given type with secret storage allocated and
 * zeroed; NULL on allocation failure. Caller fills it and frees with
 * xl_keyfile_destroy. */
struct xl_keyfile *xl_keyfile_new(enum xl_key_type t);
/* Wipes and frees *kf; sets *kf = NULL. Accepts NULL. */
void xl_keyfile_destroy(struct xl_keyfile **kf);

/* Generates a fresh key of kf->type into kf (key pair, or 32 random bytes). */
int xl_keyfile_generate(struct xl_keyfile *kf);

/* Writes kf to path. Refuses to overwrite (XL_ERR_EXISTS). Mode 0600 for secret
 * types, 0644 otherwise; the file is fsynced. For a secret type with a public
 * part, write_public writes only the public form (type changes to its public
 * counterpart). On failure no partial file is left. */
int xl_keyfile_write(const char *path, const struct xl_keyfile *kf, int write_public, char *err,
                     size_t errlen);

/* Loads path and checks it is of type want. Secret types are refused with
 * XL_ERR_PERM when the file is group- or world-readable, with the chmod fix in
 * the message. A key of the wrong length, a public key that does not match the
 * secret, or an unknown field is XL_ERR_FORMAT. *out is set on success only;
 * caller frees with xl_keyfile_destroy. */
int xl_keyfile_load(const char *path, enum xl_key_type want, struct xl_keyfile **out, char *err,
                    size_t errlen);

/* As xl_keyfile_load, for the public half of a key pair: accepts either the
 * public file or the secret file of the same kind (only the public part is kept). */
int xl_keyfile_load_public(const char *path, enum xl_key_type want_public, struct xl_keyfile **out,
                           char *err, size_t errlen);

/* Names: 1 to XL_NAME_MAX-1 characters of [A-Za-z0-9._-], not starting with '.'
 * or '-'. Returns 1 if valid. Used for key names, agencies and datasets. */
int xl_name_valid(const char *s);

/* Today's date as YYYY-MM-DD (UTC) into out[11]. */
void xl_today(char out[11]);

#endif
