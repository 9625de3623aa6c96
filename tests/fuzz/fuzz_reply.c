/* libFuzzer target: a reply from the linker, as the agent decodes it and reads
 * it during a submission (agent_reply_read).
 *
 * Checked: an ack is read only from a SubmitAck with a submission id of a
 * length the agent keeps; a receipt only from a Receipt signed by the linker's
 * key for exactly what was sent; anything else is an error with a message
 * that holds no control character (the linker's text is shown to a person). */
#include <stdlib.h>
#include <string.h>

#include "fuzzlib.h"
#include "xl/receipt.h"
#include "xl/wire.h"

static void
s_check(const xl_envelope *env, const uint8_t *sid, size_t idlen)
{
    const struct agent_xle_info *sent = fuzz_sent();
    const Crosslink__Receipt *rc = env->receipt;
    char err[XL_ERRBUF];
    int r;

    memset(err, 0, sizeof err);
    r = agent_reply_read(env, fuzz_sign_public(), sent, sid, idlen, err, sizeof err);
    if (r == AGENT_REPLY_ACK) {
        if (env->body_case != CROSSLINK__ENVELOPE__BODY_SUBMIT_ACK ||
            env->submit_ack->submission_id.len == 0 ||
            env->submit_ack->submission_id.len > AGENT_SUBMISSION_ID_MAX)
            fuzz_fail("an ack is a SubmitAck with a submission id the agent can keep");
    } else if (r == AGENT_REPLY_RECEIPT) {
        if (env->body_case != CROSSLINK__ENVELOPE__BODY_RECEIPT ||
            xl_receipt_verify(rc, fuzz_sign_public(), err, sizeof err) != 0 ||
            rc->record_count != sent->count ||
            !xl_equal(rc->content_hash.data, sent->hash, XL_HASH_BYTES) ||
            strcmp(rc->agency, sent->hdr->agency) != 0 ||
            (sid != NULL &&
             (rc->submission_id.len != idlen || !xl_equal(rc->submission_id.data, sid, idlen))))
            fuzz_fail("a receipt is signed by the linker for exactly what was sent");
    } else {
        if (r >= 0 || err[0] == '\0')
            fuzz_fail("anything else is an error with a message");
        for (size_t i = 0; err[i] != '\0'; i++) {
            if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
                fuzz_fail("an error message holds no control character");
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xl_envelope *env = NULL;
    const uint8_t *sid;
    char err[XL_ERRBUF];
    size_t idlen;

    /* The agent's cap on a reply (S_REPLY_MAX in agent/submit.c). */
    if (xl_wire_decode(data, size, 1u << 20, NULL, &env, err, sizeof err) != 0)
        return 0;
    sid = fuzz_submission_id(&idlen);
    s_check(env, NULL, 0);    /* the reply to a first begin */
    s_check(env, sid, idlen); /* any later reply */
    xl_wire_free(&env, NULL);
    return 0;
}
