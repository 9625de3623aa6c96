/* What several fuzz targets share: a private temporary folder for inputs that
 * a parser reads from disk, and the fixture (tests/fuzz/fixture.h) the signed
 * and sealed seeds were made with. Not thread-safe: libFuzzer runs one input
 * at a time. */
#ifndef FUZZ_FUZZLIB_H
#define FUZZ_FUZZLIB_H

#include <stddef.h>
#include <stdint.h>

#include "../../agent/submit.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/spec.h"

/* Every target's entry point. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Writes data to a file called name (mode 0600, replacing any earlier one) in
 * this process's temporary folder, which is removed at exit, and returns its
 * path (static storage, one per name slot: valid until the next call with the
 * same name). Aborts when the file cannot be written. */
const char *fuzz_file(const char *name, const uint8_t *data, size_t size);
/* The path of name in the temporary folder, without creating anything. */
const char *fuzz_path(const char *name);
/* The temporary folder itself. */
const char *fuzz_dir(void);

/* The fixture, loaded once (aborting when it does not load: a broken fixture
 * is a bug of the target, not a finding). */
const uint8_t *fuzz_sign_public(void);          /* the linker's Ed25519 public key */
const struct xl_keyfile *fuzz_agent_key(void);  /* the agent's curve secret key */
const struct xl_spec *fuzz_spec(void);          /* the linkage specification */
const struct agent_xle_info *fuzz_sent(void);   /* what the agent sent */
const uint8_t *fuzz_submission_id(size_t *len); /* the submission's id */

/* Aborts with a message on stderr: a property the target checks does not hold. */
void fuzz_fail(const char *what) __attribute__((noreturn));

#endif
