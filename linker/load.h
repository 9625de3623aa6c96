/* A link run's records, read from the store's link columns (columns.h): a
 * few copies a chunk, no record unpacked. The link run (link.c) and the link
 * bench (bench/link.c) load through here. */
#ifndef LINKER_LOAD_H
#define LINKER_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "match.h"
#include "store.h"
#include "xl/crypto.h"

struct linker_loaded {
    struct linker_input *in;
    uint8_t (*subs)[LINKER_SUBID_BYTES]; /* submissions, in load order */
    size_t nsubs, capsubs;
    uint32_t *rec_sub;             /* [record] index into subs */
    uint64_t *rec_index;           /* [record] index within its submission */
    uint8_t (*refs)[XL_REF_BYTES]; /* [record] local_ref */
    size_t caprec;
};

/* Loads the committed submissions of epoch into l (zeroed by the caller), for
 * a run of spec on threads threads (0: every processor). On error err names
 * the submission or chunk; l is freed with linker_loaded_free either way. */
int linker_load(struct linker_store *st, uint32_t epoch, const struct xl_spec *spec,
                unsigned threads, struct linker_loaded *l, char *err, size_t errlen);
void linker_loaded_free(struct linker_loaded *l);

#endif
