#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xl/auditlog.h"
#include "xl/err.h"
#include "xl/merkle.h"
#include "xl/receipt.h"

static int
s_name_ok(const char *s)
{
    return s != NULL && s[0] != '\0' && strpbrk(s, "\n\r ") == NULL;
}

int
xl_receipt_canonical(const Crosslink__Receipt *r, char *buf, size_t len)
{
    char id[2 * 32 + 1], content[2 * XL_HASH_BYTES + 1], spec[2 * XL_HASH_BYTES + 1];
    int n;

    if (r->submission_id.len == 0 || r->submission_id.len > 32 ||
        r->content_hash.len != XL_HASH_BYTES || r->spec_fingerprint.len != XL_HASH_BYTES ||
        !s_name_ok(r->agency) || !s_name_ok(r->dataset))
        return XL_ERR_INVALID;
    xl_hex(r->submission_id.data, r->submission_id.len, id);
    xl_hex(r->content_hash.data, XL_HASH_BYTES, content);
    xl_hex(r->spec_fingerprint.data, XL_HASH_BYTES, spec);
    n = snprintf(buf, len,
                 "crosslink-receipt v1\nsubmission %s\nagency %s\ndataset %s\nrecords %llu\n"
                 "content %s\nepoch %u\nspec %s\ntime %lld\naudit %llu\n",
                 id, r->agency, r->dataset, (unsigned long long)r->record_count, content,
                 (unsigned)r->epoch, spec, (long long)r->time, (unsigned long long)r->audit_seq);
    return n < 0 || (size_t)n >= len ? XL_ERR_INVALID : n;
}

int
xl_receipt_sign(Crosslink__Receipt *r, const uint8_t sk[XL_SIGN_SK_BYTES],
                const uint8_t pk[XL_SIGN_PK_BYTES], uint8_t sig[XL_SIG_BYTES],
                uint8_t pkbuf[XL_SIGN_PK_BYTES])
{
    char text[XL_RECEIPT_TEXT_MAX];
    int n = xl_receipt_canonical(r, text, sizeof text);

    if (n < 0)
        return n;
    if (xl_sign(sk, text, (size_t)n, sig) != 0)
        return XL_ERR_CRYPTO;
    memcpy(pkbuf, pk, XL_SIGN_PK_BYTES);
    r->signature.data = sig;
    r->signature.len = XL_SIG_BYTES;
    r->linker_key.data = pkbuf;
    r->linker_key.len = XL_SIGN_PK_BYTES;
    return 0;
}

int
xl_receipt_verify(const Crosslink__Receipt *r, const uint8_t pk[XL_SIGN_PK_BYTES], char *err,
                  size_t errlen)
{
    char text[XL_RECEIPT_TEXT_MAX];
    int n = xl_receipt_canonical(r, text, sizeof text);

    if (n < 0)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "receipt is malformed");
    if (r->signature.len != XL_SIG_BYTES)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO, "receipt has no signature");
    if (xl_verify(pk, text, (size_t)n, r->signature.data) != 0)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "receipt signature does not verify with the linker's key");
    return 0;
}

/* 1 when the commit entry obj names this receipt's submission, agency and
 * dataset. */
static int
s_entry_matches(const cJSON *obj, const Crosslink__Receipt *r)
{
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(obj, "event");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(obj, "details");
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(d, "submission");
    const cJSON *ag = cJSON_GetObjectItemCaseSensitive(d, "agency");
    const cJSON *ds = cJSON_GetObjectItemCaseSensitive(d, "dataset");
    char id[2 * 32 + 1];

    xl_hex(r->submission_id.data, r->submission_id.len, id);
    return cJSON_IsString(ev) && strcmp(ev->valuestring, "submission.commit") == 0 &&
           cJSON_IsString(sub) && strcmp(sub->valuestring, id) == 0 && cJSON_IsString(ag) &&
           strcmp(ag->valuestring, r->agency) == 0 && cJSON_IsString(ds) &&
           strcmp(ds->valuestring, r->dataset) == 0;
}

int
xl_receipt_verify_audit(const Crosslink__Receipt *r, const uint8_t pk[XL_SIGN_PK_BYTES],
                        struct xl_checkpoint *cp, uint8_t leaf[XL_HASH_BYTES], char *err,
                        size_t errlen)
{
    struct xl_checkpoint c;
    struct xl_merkle_proof proof;
    struct xl_audit_entry e;
    uint8_t lh[XL_HASH_BYTES];
    char msg[XL_ERRBUF];
    cJSON *obj = NULL;
    int rc;

    if (cp != NULL)
        memset(cp, 0, sizeof *cp);
    if (leaf != NULL)
        memset(leaf, 0, XL_HASH_BYTES);
    if (r->audit_checkpoint.len == 0 && r->audit_entry.len == 0)
        return xl_err_set(err, errlen, XL_ERR_NOTFOUND,
                          "the receipt carries no audit checkpoint (made by an older linker)");
    rc = xl_audit_checkpoint_open((const char *)r->audit_checkpoint.data, r->audit_checkpoint.len,
                                  pk, &c, msg, sizeof msg);
    if (rc != 0)
        return xl_err_set(err, errlen, rc, "the receipt's audit checkpoint: %s", msg);
    if (r->audit_seq == 0 || c.size < r->audit_seq)
        return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                          "the receipt's audit checkpoint covers %llu entries, not its entry %llu",
                          (unsigned long long)c.size, (unsigned long long)r->audit_seq);
    if (r->audit_root.len != XL_HASH_BYTES || !xl_equal(r->audit_root.data, c.root, XL_HASH_BYTES))
        return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                          "the receipt's audit_root is not its checkpoint's root");
    if (r->audit_entry.len == 0 || r->audit_entry.len > XL_AUDIT_LINE_MAX)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "the receipt carries no audit entry");
    rc = xl_audit_entry_check((const char *)r->audit_entry.data, r->audit_entry.len, &e, &obj, msg,
                              sizeof msg);
    if (rc != 0)
        return xl_err_set(err, errlen, rc, "the receipt's audit entry: %s", msg);
    rc = e.seq == r->audit_seq && s_entry_matches(obj, r);
    cJSON_Delete(obj);
    if (!rc)
        return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                          "the receipt's audit entry is not the commit entry %llu of this "
                          "submission",
                          (unsigned long long)r->audit_seq);
    if (r->n_audit_proof > XL_MERKLE_PROOF_MAX)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "the receipt's audit proof is too long");
    memset(&proof, 0, sizeof proof);
    proof.n = r->n_audit_proof;
    for (size_t i = 0; i < r->n_audit_proof; i++) {
        if (r->audit_proof[i].len != XL_HASH_BYTES)
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "the receipt's audit proof holds a hash of %zu bytes",
                              r->audit_proof[i].len);
        memcpy(proof.hash[i], r->audit_proof[i].data, XL_HASH_BYTES);
    }
    xl_merkle_leaf_hash(r->audit_entry.data, r->audit_entry.len, lh);
    rc = xl_merkle_verify_inclusion(r->audit_seq - 1, c.size, lh, &proof, c.root, msg, sizeof msg);
    if (rc != 0)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "the receipt's inclusion proof does not verify against its checkpoint "
                          "(size %llu): %s",
                          (unsigned long long)c.size, msg);
    if (cp != NULL)
        *cp = c;
    if (leaf != NULL)
        memcpy(leaf, lh, XL_HASH_BYTES);
    return 0;
}

int
xl_receipt_load(const char *path, Crosslink__Receipt **out, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    uint8_t *buf;
    size_t got = 0;

    *out = NULL;
    if (fd < 0)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "cannot open: %s", strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)XL_RECEIPT_FILE_MAX) {
        close(fd);
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "not a receipt file");
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf == NULL) {
        close(fd);
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got == (size_t)st.st_size)
        *out = crosslink__receipt__unpack(NULL, got, buf);
    free(buf);
    if (got != (size_t)st.st_size)
        return xl_err_set(err, errlen, XL_ERR_IO, "read failed");
    if (*out == NULL)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "not a receipt (does not parse)");
    return 0;
}
