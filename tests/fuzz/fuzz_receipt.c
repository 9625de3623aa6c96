/* libFuzzer target: a receipt file, as the agent loads, checks, lists and
 * stores it, and as `crosslink-linker` prints a stored one.
 *
 * Checked: the listing counts the receipt bad exactly when it does not load
 * or verify, or carries audit evidence that does not prove its entry; a
 * verified receipt packed and parsed again still verifies, and
 * stored and loaded back has the same signed text; the agent's check against
 * what was sent passes only for a receipt of those very fields with audit
 * evidence that proves its entry; the linker
 * prints exactly the receipts with a canonical text, a signature and a key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../linker/import.h"
#include "fuzzlib.h"
#include "xl/receipt.h"

static FILE *s_null;

/* Packs r, parses it again and verifies that. */
static void
s_reverify(const Crosslink__Receipt *r, const uint8_t *pk)
{
    size_t len = crosslink__receipt__get_packed_size(r);
    uint8_t *buf = malloc(len + 1);
    Crosslink__Receipt *again;
    char err[XL_ERRBUF];

    if (buf == NULL)
        fuzz_fail("memory for a packed receipt");
    crosslink__receipt__pack(r, buf);
    again = crosslink__receipt__unpack(NULL, len, buf);
    if (again == NULL || xl_receipt_verify(again, pk, err, sizeof err) != 0)
        fuzz_fail("a verified receipt packed and parsed again verifies");
    crosslink__receipt__free_unpacked(again, NULL);
    free(buf);
}

/* Stores r in a folder of its own and loads it back. */
static void
s_store(const Crosslink__Receipt *r)
{
    char path[4096], err[XL_ERRBUF], a[XL_RECEIPT_TEXT_MAX], b[XL_RECEIPT_TEXT_MAX];
    const char *dir = fuzz_path("stored");
    Crosslink__Receipt *back = NULL;
    int na, nb;

    (void)mkdir(dir, 0700);
    if (agent_receipt_store(dir, r, path, sizeof path, err, sizeof err) != 0) {
        /* Only a dataset that cannot name a file or an id too short to. */
        if (xl_name_valid(r->dataset) && r->submission_id.len >= 4)
            fuzz_fail(err);
        return;
    }
    if (agent_receipt_load(path, &back, err, sizeof err) != 0)
        fuzz_fail(err);
    na = xl_receipt_canonical(r, a, sizeof a);
    nb = xl_receipt_canonical(back, b, sizeof b);
    if (na < 0 || na != nb || memcmp(a, b, (size_t)na) != 0)
        fuzz_fail("a stored receipt loads back with the same signed text");
    crosslink__receipt__free_unpacked(back, NULL);
    (void)unlink(path);
}

/* The agent's check against the fixture's submission, and an independent one. */
static void
s_check(const Crosslink__Receipt *r, const uint8_t *pk)
{
    const struct agent_xle_info *sent = fuzz_sent();
    const uint8_t *sid;
    char err[XL_ERRBUF];
    size_t idlen;
    int same;

    sid = fuzz_submission_id(&idlen);
    same = strcmp(r->agency, sent->hdr->agency) == 0 &&
           strcmp(r->dataset, sent->hdr->dataset) == 0 && r->record_count == sent->count &&
           xl_equal(r->content_hash.data, sent->hash, XL_HASH_BYTES) &&
           r->epoch == sent->hdr->epoch &&
           xl_equal(r->spec_fingerprint.data, sent->hdr->spec_fingerprint.data, XL_HASH_BYTES) &&
           xl_receipt_verify_audit(r, pk, NULL, NULL, err, sizeof err) == 0;
    if ((agent_receipt_check(r, pk, sent, NULL, 0, err, sizeof err) == 0) != same)
        fuzz_fail("the agent's check passes exactly for a receipt of what was sent");
    same = same && r->submission_id.len == idlen && xl_equal(r->submission_id.data, sid, idlen);
    if ((agent_receipt_check(r, pk, sent, sid, idlen, err, sizeof err) == 0) != same)
        fuzz_fail("the agent's check passes exactly for a receipt of this submission");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *pk = fuzz_sign_public();
    const char *path = fuzz_file("in.receipt", data, size);
    char err[XL_ERRBUF], text[XL_RECEIPT_TEXT_MAX];
    Crosslink__Receipt *r = NULL;
    size_t nbad = 0;
    int ok, good, audit, printable;

    if (s_null == NULL)
        s_null = fopen("/dev/null", "w");
    if (s_null == NULL)
        fuzz_fail("/dev/null opens");
    ok = agent_receipt_load(path, &r, err, sizeof err) == 0 &&
         xl_receipt_verify(r, pk, err, sizeof err) == 0;
    /* No audit evidence is an older linker's receipt; evidence must prove. */
    good = ok && ((audit = xl_receipt_verify_audit(r, pk, NULL, NULL, err, sizeof err)) == 0 ||
                  audit == XL_ERR_NOTFOUND);
    for (int verbose = 0; verbose <= 1; verbose++) {
        if (agent_receipt_list(fuzz_dir(), pk, verbose, s_null, &nbad, err, sizeof err) != 0 ||
            nbad != (good ? 0 : 1))
            fuzz_fail("the listing counts the receipt bad exactly when it does not verify");
    }
    printable = r != NULL && xl_receipt_canonical(r, text, sizeof text) >= 0 &&
                r->signature.len == XL_SIG_BYTES && r->linker_key.len == XL_SIGN_PK_BYTES;
    if (r != NULL && (linker_receipt_print(s_null, data, size, err, sizeof err) == 0) != printable)
        fuzz_fail("the linker prints exactly the well-formed receipts");
    if (ok) {
        agent_receipt_print(r, path, s_null);
        s_reverify(r, pk);
        s_check(r, pk);
        s_store(r);
    }
    if (r != NULL)
        crosslink__receipt__free_unpacked(r, NULL);
    return 0;
}
