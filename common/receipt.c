#include <stdio.h>
#include <string.h>

#include "xl/err.h"
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
