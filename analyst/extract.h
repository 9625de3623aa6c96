/* crosslink-analyst extract: asks the linker for an extract of an approved
 * project, checks it, opens its payloads and writes the analyst's files.
 *
 *   1. ExtractRequest; the linker answers ExtractReady when the extract is
 *      prepared (docs/protocol.md, "Extracts");
 *   2. the manifest first (page == pages): its Ed25519 signature is checked
 *      with the linker's signing key before anything else is believed;
 *   3. each page in turn: every row is parsed, its dataset must be in the
 *      manifest, its payload must open with the analysis key (a payload altered
 *      or of another agency does not); the bytes of every page are hashed;
 *   4. at the end the row count, the rows' SHA-256, and the counts per
 *      dataset and per evidence band must equal the manifest's.
 *
 * Everything is written into DIR.partial-XXXXXX beside DIR, and renamed to
 * DIR only when all of it verified: a failure leaves nothing (the partial
 * directory is removed). Memory is bounded by a page and one bucket of the
 * person-level pass (people.h). A linker that is busy or unreachable is
 * retried for retry_for seconds; a refusal (project rules, key) is final. */
#ifndef ANALYST_EXTRACT_H
#define ANALYST_EXTRACT_H

#include <stddef.h>

struct analyst_extract_opts {
    const char *conf_path;
    const char *project;
    const char *out_dir;
    char **datasets; /* "agency/dataset": only these (optional) */
    size_t ndatasets;
    double retry_for; /* seconds */
    int quiet;
};

/* 0, or an XL_ERR_* with err: XL_ERR_UNAVAILABLE when the linker stayed busy
 * or unreachable (may pass), anything else is final. */
int analyst_extract(const struct analyst_extract_opts *o, char *err, size_t errlen);

#endif
