#include <stdlib.h>
#include <string.h>

#include "xl/auditverify.h"
#include "xl/err.h"

static int
s_by_size(const void *a, const void *b)
{
    const struct xl_audit_claim *x = a, *y = b;
    uint64_t sx = x->has_cp ? x->cp.size : UINT64_MAX, sy = y->has_cp ? y->cp.size : UINT64_MAX;

    return sx < sy ? -1 : sx > sy;
}

static int
s_by_seq(const void *a, const void *b)
{
    const struct xl_audit_claim *x = *(const struct xl_audit_claim *const *)a;
    const struct xl_audit_claim *y = *(const struct xl_audit_claim *const *)b;

    return x->leaf_seq < y->leaf_seq ? -1 : x->leaf_seq > y->leaf_seq;
}

/* The event member of an entry line, into out (empty when absent). */
static void
s_event_of(const char *line, size_t len, char *out, size_t outlen)
{
    cJSON *o = cJSON_ParseWithLength(line, len);
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");

    snprintf(out, outlen, "%s", cJSON_IsString(ev) ? ev->valuestring : "");
    cJSON_Delete(o);
}

int
xl_audit_verify(const char *path, struct xl_audit_claim *claims, size_t n, xl_audit_entry_fn fn,
                void *ctx, struct xl_audit_verified *out, char *err, size_t errlen)
{
    struct xl_audit_reader rd;
    uint8_t leaf[XL_HASH_BYTES];
    const char *line;
    size_t len, next = 0, ncp = 0, nleaf = 0, nextleaf = 0;
    /* The last checkpoint that matched, to narrow where a change lies. */
    const struct xl_audit_claim *good = NULL;
    /* The claims with a leaf, by seq: each entry is compared with its own
     * only, so a log of millions of entries held to thousands of claims costs
     * one pass, not entries times claims. */
    const struct xl_audit_claim **leaves = NULL;
    int r;

    memset(out, 0, sizeof *out);
    /* qsort's array may not be NULL even when empty, and no claims is a
     * caller's NULL, 0. */
    if (n > 0)
        qsort(claims, n, sizeof *claims, s_by_size);
    while (ncp < n && claims[ncp].has_cp)
        ncp++;
    for (size_t i = 1; i < ncp; i++)
        if (claims[i].cp.size == claims[i - 1].cp.size &&
            !xl_equal(claims[i].cp.root, claims[i - 1].cp.root, XL_HASH_BYTES))
            return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                              "%s and %s are both signed for size %llu but have different roots: "
                              "the log was rewritten, or shown two ways",
                              claims[i - 1].name, claims[i].name,
                              (unsigned long long)claims[i].cp.size);
    if (n > 0 && (leaves = malloc(n * sizeof *leaves)) == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (claims[i].leaf_seq > 0)
            leaves[nleaf++] = &claims[i];
    if (nleaf > 0)
        qsort(leaves, nleaf, sizeof *leaves, s_by_seq);
    r = xl_audit_reader_open(&rd, path, err, errlen);
    if (r == XL_ERR_NOTFOUND) {
        r = 0; /* a log never written is an empty log; claims say whether it should be */
    } else if (r != 0) {
        free(leaves);
        return r;
    }
    for (;;) {
        /* Checkpoints of the size reached so far, the empty tree's first. */
        while (next < ncp && claims[next].cp.size == rd.tree.size) {
            uint8_t root[XL_HASH_BYTES];
            const struct xl_audit_claim *c = &claims[next];
            xl_merkle_builder_root(&rd.tree, root);
            if (!xl_equal(root, c->cp.root, XL_HASH_BYTES)) {
                if (good != NULL && good->cp.size > 0)
                    r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                                   "%s (size %llu) does not match the log: entries 1-%llu match "
                                   "%s, so an entry from %llu to %llu was changed, added or "
                                   "removed (and the chain recomputed after it)",
                                   c->name, (unsigned long long)c->cp.size,
                                   (unsigned long long)good->cp.size, good->name,
                                   (unsigned long long)good->cp.size + 1,
                                   (unsigned long long)c->cp.size);
                else
                    r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                                   "%s (size %llu) does not match the log: an entry from 1 to "
                                   "%llu was changed, added or removed (and the chain "
                                   "recomputed after it), or the log was replaced",
                                   c->name, (unsigned long long)c->cp.size,
                                   (unsigned long long)c->cp.size);
                goto out;
            }
            if (c->cp.size > 0 && c->cp.size >= out->covered) {
                out->covered = c->cp.size;
                out->offset_covered = rd.offset;
                if (rd.line != NULL && c->cp.size == rd.n)
                    s_event_of(rd.line, strlen(rd.line), out->covered_event,
                               sizeof out->covered_event);
            }
            good = c;
            next++;
        }
        if (rd.f == NULL)
            break;
        {
            uint64_t off = rd.offset;
            r = xl_audit_reader_next(&rd, &line, &len, leaf, err, errlen);
            if (r <= 0)
                break;
            for (; nextleaf < nleaf && leaves[nextleaf]->leaf_seq == rd.n; nextleaf++) {
                const struct xl_audit_claim *c = leaves[nextleaf];
                if (!xl_equal(c->leaf, leaf, XL_HASH_BYTES)) {
                    r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                                   "%s: entry %llu of the log is not the entry it was given (its "
                                   "leaf hash differs): the entry was changed or replaced",
                                   c->name, (unsigned long long)rd.n);
                    goto out;
                }
            }
            if (fn != NULL && (r = fn(ctx, rd.n, off, line, len, leaf, err, errlen)) != 0)
                goto out;
        }
    }
    if (r < 0)
        goto out;
    r = 0;
    if (next < ncp) {
        const struct xl_audit_claim *c = &claims[ncp - 1];
        if (c->cp.size == rd.n + 1)
            r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                           "the log has %llu entries but %s covers %llu: entry %llu was removed "
                           "(the log was cut short)",
                           (unsigned long long)rd.n, c->name, (unsigned long long)c->cp.size,
                           (unsigned long long)c->cp.size);
        else
            r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                           "the log has %llu entries but %s covers %llu: entries %llu-%llu were "
                           "removed (the log was cut short or emptied)",
                           (unsigned long long)rd.n, c->name, (unsigned long long)c->cp.size,
                           (unsigned long long)rd.n + 1, (unsigned long long)c->cp.size);
        goto out;
    }
    if (nextleaf < nleaf) {
        const struct xl_audit_claim *c = leaves[nextleaf];
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                       "%s: its entry %llu is not in the log, which has %llu entries (the log "
                       "was cut short)",
                       c->name, (unsigned long long)c->leaf_seq, (unsigned long long)rd.n);
        goto out;
    }
    out->entries = rd.n;
    xl_merkle_builder_root(&rd.tree, out->root);
    memcpy(out->last, rd.last, XL_HASH_BYTES);
out:
    free(leaves);
    xl_audit_reader_close(&rd);
    if (r != 0) {
        uint64_t e = rd.n;
        memset(out, 0, sizeof *out);
        out->entries = e; /* entries that verified before the failure */
    }
    return r;
}
