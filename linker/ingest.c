#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h"
#include "xl/err.h"
#include "xl/payload.h"
#include "xl/xle.h"
#include "xl/log.h"
#include "xl/receipt.h"
#include "xl/wire.h"

int
linker_ctx_open(struct linker_ctx *ctx, const char *conf_path, char *err, size_t errlen)
{
    int r;

    memset(ctx, 0, sizeof *ctx);
    r = linker_config_load(conf_path, &ctx->cfg, err, errlen);
    if (r == 0)
        r = xl_spec_load(ctx->cfg.spec_path, &ctx->spec, err, errlen);
    if (r == 0) {
        ctx->clk_bytes = xl_spec_clk_bytes(ctx->spec);
        r = xl_keyfile_load(ctx->cfg.sign_key_path, XL_KEY_SIGN_SECRET, &ctx->sign, err, errlen);
    }
    if (r == 0)
        r = linker_store_open(ctx->cfg.database_path, &ctx->store, err, errlen);
    if (r == 0)
        r = linker_audit_open(ctx->cfg.audit_path, ctx->sign->secret, ctx->sign->pub, &ctx->audit,
                              err, errlen);
    if (r != 0)
        linker_ctx_close(ctx);
    return r;
}

void
linker_ctx_close(struct linker_ctx *ctx)
{
    linker_audit_close(&ctx->audit);
    linker_store_close(&ctx->store);
    xl_keyfile_destroy(&ctx->sign);
    free(ctx->spec);
    ctx->spec = NULL;
    free(ctx->scratch);
    ctx->scratch = NULL;
    ctx->scratchcap = 0;
    linker_columns_free(&ctx->cols);
}

void
linker_answer_clear(struct linker_answer *res)
{
    free(res->receipt);
    free(res->link_text);
    cJSON_Delete(res->refusal);
    memset(res, 0, sizeof *res);
}

const char *
linker_outcome_name(enum linker_outcome o)
{
    static const char *const names[] = {
        [LINKER_DID_NOTHING] = "none",      [LINKER_DID_BEGIN] = "new",
        [LINKER_DID_RESUME] = "resumed",    [LINKER_DID_FIND_COMMITTED] = "already committed",
        [LINKER_DID_STORE] = "stored",      [LINKER_DID_ACK_AGAIN] = "duplicate",
        [LINKER_DID_COMMIT] = "committed",  [LINKER_DID_REPEAT] = "repeated",
        [LINKER_DID_DISCARD] = "discarded",
    };

    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "unknown";
}

Crosslink__Error__Code
linker_error_code(int e)
{
    switch (e) {
    case XL_ERR_FORMAT:
    case XL_ERR_INVALID: return CROSSLINK__ERROR__CODE__MALFORMED;
    case XL_ERR_VERSION: return CROSSLINK__ERROR__CODE__VERSION;
    case XL_ERR_TOOBIG: return CROSSLINK__ERROR__CODE__TOO_BIG;
    case XL_ERR_DENIED:
    case XL_ERR_PERM: return CROSSLINK__ERROR__CODE__DENIED;
    case XL_ERR_MISMATCH: return CROSSLINK__ERROR__CODE__MISMATCH;
    case XL_ERR_SEQUENCE: return CROSSLINK__ERROR__CODE__SEQUENCE;
    case XL_ERR_NOTFOUND: return CROSSLINK__ERROR__CODE__NOT_FOUND;
    case XL_ERR_UNAVAILABLE:
    case XL_ERR_NOSPACE: return CROSSLINK__ERROR__CODE__UNAVAILABLE;
    case XL_ERR_DISCARDED: return CROSSLINK__ERROR__CODE__DISCARDED;
    default: return CROSSLINK__ERROR__CODE__INTERNAL;
    }
}

/* The protocol's name of an error code, for audit entries ("MISMATCH"). */
static const char *
s_code_name(int e)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &crosslink__error__code__descriptor, (int)linker_error_code(e));
    return v != NULL ? v->name : "INTERNAL";
}

void
linker_answer_set(struct linker_answer *res, int code, const char *fmt, ...)
{
    va_list ap;

    res->kind = LINKER_REPLY_ERROR;
    res->code = code;
    va_start(ap, fmt);
    vsnprintf(res->msg, sizeof res->msg, fmt, ap);
    va_end(ap);
}

/* A full disk or an I/O error refuses every write until the operator acts, and
 * agents retry: the first refusal is logged at once, later ones at the same
 * file (the database, the audit log) once a minute with a count, and the first
 * write that succeeds again says so. Requests are answered one at a time (the
 * server's thread, or an import), so this needs no lock. */
#define S_TROUBLE_EVERY 60

static struct {
    unsigned long refused;  /* since the first refusal of this spell */
    unsigned long unlogged; /* since the last line logged */
    time_t since, logged;
    char where[256]; /* the file the last line logged named */
} s_trouble;

static void
s_storage_trouble(int code, const char *detail)
{
    time_t now = time(NULL);
    const char *what = code == XL_ERR_NOSPACE ? "disk full" : "storage I/O error";
    const char *end = strstr(detail, ": "); /* details start with the file's path */
    size_t n = end != NULL ? (size_t)(end - detail) : strlen(detail);
    int same = n < sizeof s_trouble.where && strncmp(s_trouble.where, detail, n) == 0 &&
               s_trouble.where[n] == '\0';

    if (s_trouble.refused++ == 0)
        s_trouble.since = now;
    else if (same && now - s_trouble.logged < S_TROUBLE_EVERY) {
        s_trouble.unlogged++;
        return;
    }
    if (s_trouble.unlogged > 0)
        xl_error("%s: %s: refused with UNAVAILABLE, and %lu more requests since the last "
                 "message; agents retry, and nothing acknowledged is lost",
                 what, detail, s_trouble.unlogged);
    else
        xl_error("%s: %s: refused with UNAVAILABLE; agents retry, and nothing acknowledged is "
                 "lost%s",
                 what, detail, code == XL_ERR_NOSPACE ? " (free space on that filesystem)" : "");
    s_trouble.logged = now;
    s_trouble.unlogged = 0;
    snprintf(s_trouble.where, sizeof s_trouble.where, "%.*s", (int)n, detail);
}

/* A write went through: ends a spell of refusals, if there was one. */
static void
s_storage_ok(void)
{
    char t[21];

    if (s_trouble.refused == 0)
        return;
    linker_iso_time(s_trouble.since, t);
    xl_info("storing again: %lu requests refused since %s for a full disk or an I/O error",
            s_trouble.refused, t);
    memset(&s_trouble, 0, sizeof s_trouble);
}

/* An error whose detail (paths, database messages) is for the operator's log,
 * not for the peer. Store errors that are the peer's doing keep their text. A
 * full disk or an I/O error writing the database or the audit log is the
 * linker's trouble, not the request's: UNAVAILABLE, which agents retry. */
static int
s_store_fail(struct linker_answer *res, int code, const char *detail)
{
    switch (code) {
    case XL_ERR_NOTFOUND:
    case XL_ERR_SEQUENCE:
    case XL_ERR_MISMATCH:
    case XL_ERR_TOOBIG:
    case XL_ERR_INVALID: return linker_answer_fail(res, code, "%s", detail);
    case XL_ERR_UNAVAILABLE:
        xl_warn("%s", detail);
        return linker_answer_fail(res, code, "the linker is busy; try again");
    case XL_ERR_NOSPACE:
        s_storage_trouble(code, detail);
        return linker_answer_fail(res, code,
                                  "the linker is out of disk space; nothing of this request was "
                                  "stored, and what it acknowledged before is kept");
    case XL_ERR_IO:
        s_storage_trouble(code, detail);
        return linker_answer_fail(
            res, XL_ERR_UNAVAILABLE,
            "the linker cannot write to its storage; nothing of this request was "
            "stored, and what it acknowledged before is kept");
    default:
        xl_error("%s", detail);
        return linker_answer_fail(res, code < 0 ? code : XL_ERR_INTERNAL,
                                  "internal error at the linker");
    }
}

static void
s_hexid(const uint8_t id[LINKER_SUBID_BYTES], char out[LINKER_SUBID_HEX + 1])
{
    xl_hex(id, LINKER_SUBID_BYTES, out);
}

static void
s_add_hex(cJSON *o, const char *name, const uint8_t *p, size_t n)
{
    char hex[2 * 64 + 1];

    if (n > 64)
        return;
    xl_hex(p, n, hex);
    cJSON_AddStringToObject(o, name, hex);
}

/* A peer's name, if it is one: otherwise a placeholder, so nothing the peer
 * chose beyond a valid name reaches the log. */
static const char *
s_safe_name(const char *s)
{
    return s != NULL && xl_name_valid(s) ? s : "(invalid)";
}

static void
s_audit(struct linker_ctx *ctx, const struct linker_actor *who, const char *event, cJSON *d)
{
    linker_audit_note(ctx->audit, who->audit_actor, who->audit_role, event, d);
}

/* Marks res, an error of the peer's doing, as a refusal to audit: its details
 * go with the answer (the caller audits under the refusal limit). */
static int
s_refused(const struct linker_actor *who, const char *stage, const char *agency,
          const char *dataset, const uint8_t *id, struct linker_answer *res)
{
    cJSON *d = cJSON_CreateObject();

    if (d != NULL) {
        cJSON_AddStringToObject(d, "stage", stage);
        cJSON_AddStringToObject(d, "code", s_code_name(res->code));
        if (agency != NULL)
            cJSON_AddStringToObject(d, "agency", s_safe_name(agency));
        if (dataset != NULL)
            cJSON_AddStringToObject(d, "dataset", s_safe_name(dataset));
        if (id != NULL)
            s_add_hex(d, "submission", id, LINKER_SUBID_BYTES);
        cJSON_AddStringToObject(d, "source", who->source);
    }
    cJSON_Delete(res->refusal);
    res->refusal = d;
    return res->code;
}

static int
s_attr_type_ok(const char *t)
{
    static const char *types[] = {"int", "decimal", "bool", "date", "text"};

    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (t != NULL && strcmp(t, types[i]) == 0)
            return 1;
    }
    return 0;
}

/* The attribute schema as JSON text (malloc'd), after checking it. */
static int
s_attributes(const Crosslink__SubmitBegin *b, char **out, struct linker_answer *res)
{
    cJSON *arr;

    *out = NULL;
    if (b->n_attributes > LINKER_MAX_ATTRIBUTES)
        return linker_answer_fail(res, XL_ERR_FORMAT, "%zu outcome attributes (at most %d)",
                                  b->n_attributes, LINKER_MAX_ATTRIBUTES);
    for (size_t i = 0; i < b->n_attributes; i++) {
        const Crosslink__Attribute *a = b->attributes[i];
        if (a == NULL || !xl_name_valid(a->name) || !s_attr_type_ok(a->type))
            return linker_answer_fail(
                res, XL_ERR_FORMAT,
                "outcome attribute %zu: name or type is not valid (types: int, "
                "decimal, bool, date, text)",
                i + 1);
        for (size_t j = 0; j < i; j++) {
            if (strcmp(b->attributes[j]->name, a->name) == 0)
                return linker_answer_fail(res, XL_ERR_FORMAT, "outcome attribute %s appears twice",
                                          a->name);
        }
    }
    arr = cJSON_CreateArray();
    for (size_t i = 0; arr != NULL && i < b->n_attributes; i++) {
        cJSON *o = cJSON_CreateObject();
        if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            arr = NULL;
            break;
        }
        cJSON_AddStringToObject(o, "name", b->attributes[i]->name);
        cJSON_AddStringToObject(o, "type", b->attributes[i]->type);
    }
    if (arr != NULL)
        *out = cJSON_PrintUnformatted(arr);
    cJSON_Delete(arr);
    if (*out == NULL)
        return s_store_fail(res, XL_ERR_NOMEM, "out of memory");
    return 0;
}

/* Begin's checks, in the order docs/protocol.md gives. */
static int
s_begin_check(struct linker_ctx *ctx, const struct linker_actor *who,
              const Crosslink__SubmitBegin *b, struct linker_answer *res)
{
    char theirs[2 * XL_HASH_BYTES + 1] = "(none)", ours[2 * XL_HASH_BYTES + 1];

    if (b->spec_fingerprint.len != XL_HASH_BYTES ||
        !xl_equal(b->spec_fingerprint.data, ctx->spec->fingerprint, XL_HASH_BYTES)) {
        if (b->spec_fingerprint.len == XL_HASH_BYTES)
            xl_hex(b->spec_fingerprint.data, XL_HASH_BYTES, theirs);
        xl_hex(ctx->spec->fingerprint, XL_HASH_BYTES, ours);
        return linker_answer_fail(
            res, XL_ERR_MISMATCH,
            "specification fingerprint differs: agent has %.12s…, linker has %.12s…", theirs, ours);
    }
    if (b->epoch != ctx->cfg.epoch)
        return linker_answer_fail(res, XL_ERR_MISMATCH, "epoch %u, linker is on epoch %u",
                                  (unsigned)b->epoch, (unsigned)ctx->cfg.epoch);
    if (b->secret_check.len != XL_CHECK_BYTES ||
        !xl_equal(b->secret_check.data, ctx->cfg.secret_check, XL_CHECK_BYTES)) {
        /* Check values are published (SECURITY.md 2.4): naming both tells
         * the agency which side holds the wrong one. */
        if (b->secret_check.len == XL_CHECK_BYTES)
            xl_hex(b->secret_check.data, XL_CHECK_BYTES, theirs);
        xl_hex(ctx->cfg.secret_check, XL_CHECK_BYTES, ours);
        return linker_answer_fail(res, XL_ERR_MISMATCH,
                                  "linkage secret differs: the submission's check value is %s, "
                                  "the linker expects %s for epoch %u; compare both with the "
                                  "value the key custodian published",
                                  theirs, ours, (unsigned)ctx->cfg.epoch);
    }
    if (b->chunk_records == 0)
        return linker_answer_fail(res, XL_ERR_FORMAT, "chunk_records is 0");
    if (b->chunk_records > ctx->cfg.max_chunk_records)
        return linker_answer_fail(res, XL_ERR_TOOBIG,
                                  "chunk_records %u is over the linker's limit of %u",
                                  (unsigned)b->chunk_records, (unsigned)ctx->cfg.max_chunk_records);
    if (b->record_count == 0)
        return linker_answer_fail(res, XL_ERR_FORMAT, "record_count is 0: nothing to submit");
    if (b->record_count > LINKER_MAX_RECORDS)
        return linker_answer_fail(res, XL_ERR_TOOBIG, "record_count %llu is over the limit",
                                  (unsigned long long)b->record_count);
    if (b->content_hash.len != XL_HASH_BYTES)
        return linker_answer_fail(res, XL_ERR_FORMAT, "content_hash is %zu bytes, not %d",
                                  b->content_hash.len, XL_HASH_BYTES);
    if (!xl_name_valid(b->dataset))
        return linker_answer_fail(res, XL_ERR_FORMAT, "dataset name is missing or not valid");
    return 0;
}

static void
s_ack(struct linker_ctx *ctx, const struct linker_submission *sub, struct linker_answer *res)
{
    res->kind = LINKER_REPLY_ACK;
    res->code = 0;
    memcpy(res->id, sub->id, LINKER_SUBID_BYTES);
    res->next_seq = sub->next_seq;
    res->records_stored = sub->records_stored;
    res->credit = ctx->cfg.credit;
    res->max_message = ctx->cfg.max_message;
}

/* Answers with the stored receipt of sub. */
static int
s_stored_receipt(struct linker_ctx *ctx, const struct linker_submission *sub,
                 struct linker_answer *res)
{
    char err[XL_ERRBUF];
    int r =
        linker_store_receipt(ctx->store, sub->id, &res->receipt, &res->receiptlen, err, sizeof err);

    if (r != 0)
        return s_store_fail(res, r == XL_ERR_NOTFOUND ? XL_ERR_INTERNAL : r, err);
    res->kind = LINKER_REPLY_RECEIPT;
    res->code = 0;
    memcpy(res->id, sub->id, LINKER_SUBID_BYTES);
    return 0;
}

static cJSON *
s_sub_details(const struct linker_submission *sub, const struct linker_actor *who)
{
    cJSON *d = cJSON_CreateObject();

    if (d == NULL)
        return NULL;
    s_add_hex(d, "submission", sub->id, LINKER_SUBID_BYTES);
    cJSON_AddStringToObject(d, "agency", sub->agency);
    cJSON_AddStringToObject(d, "dataset", sub->dataset);
    cJSON_AddNumberToObject(d, "records", (double)sub->record_count);
    s_add_hex(d, "content", sub->content_hash, XL_HASH_BYTES);
    cJSON_AddNumberToObject(d, "epoch", sub->epoch);
    cJSON_AddStringToObject(d, "key_id", sub->key_id);
    cJSON_AddStringToObject(d, "source", who->source);
    /* The agency's identity of its input (an HMAC under its local key): in
     * the commit entry a receipt proves, so a later "already submitted"
     * receipt shows it was made from the same input. */
    if (sub->has_input)
        s_add_hex(d, "input", sub->input_id, XL_HASH_BYTES);
    return d;
}

/* A begin whose input (the same file, mapping, specification and epoch) the
 * linker already holds: the current submission's receipt, nothing stored
 * again; or, when a newer submission has superseded it, a refusal unless
 * forced (a scheduled job re-sending last month's file would otherwise
 * replace this month's). 1 when answered, 0 to go on (forced: *forced set),
 * or an error. */
static int
s_begin_input(struct linker_ctx *ctx, const struct linker_actor *who,
              const Crosslink__SubmitBegin *b, struct linker_answer *res, int *forced,
              uint8_t superseded_id[LINKER_SUBID_BYTES])
{
    struct linker_submission old;
    char err[XL_ERRBUF], hexid[LINKER_SUBID_HEX + 1], when[21];
    cJSON *d;
    int r;

    *forced = 0;
    if (b->input_id.len == 0)
        return 0;
    r = linker_store_find_input(ctx->store, b->agency, b->dataset, b->input_id.data, &old, err,
                                sizeof err);
    if (r == XL_ERR_NOTFOUND)
        return 0;
    if (r != 0)
        return s_store_fail(res, r, err);
    s_hexid(old.id, hexid);
    if (old.state == LINKER_COMMITTED) {
        r = s_stored_receipt(ctx, &old, res);
        if (r != 0)
            return r;
        res->outcome = LINKER_DID_FIND_COMMITTED;
        d = s_sub_details(&old, who);
        if (d != NULL)
            cJSON_AddStringToObject(d, "result", "unchanged input");
        s_audit(ctx, who, "submission.begin", d);
        xl_info("begin %s/%s from key %s: unchanged input, already submission %s", old.agency,
                old.dataset, who->key_id, hexid);
        return 1;
    }
    linker_iso_time((time_t)old.committed, when);
    if (!b->force) {
        linker_answer_fail(res, XL_ERR_DENIED,
                           "this input (same file, mapping, specification and epoch) was "
                           "committed on %s as submission %.16s, and a newer submission of %s/%s "
                           "has replaced it since: sending it again would put older data back; "
                           "submit it with --force if that is meant",
                           when, hexid, b->agency, b->dataset);
        s_refused(who, "begin", b->agency, b->dataset, old.id, res);
        if (res->refusal != NULL)
            cJSON_AddStringToObject(res->refusal, "rule", "superseded input");
        return res->code;
    }
    *forced = 1;
    memcpy(superseded_id, old.id, LINKER_SUBID_BYTES);
    return 0;
}

int
linker_begin(struct linker_ctx *ctx, const struct linker_actor *who,
             const Crosslink__SubmitBegin *b, struct linker_answer *res)
{
    struct linker_submission want, sub;
    char err[XL_ERRBUF], *attrs = NULL, hexid[LINKER_SUBID_HEX + 1];
    uint8_t superseded_id[LINKER_SUBID_BYTES];
    cJSON *d;
    int r, forced = 0;

    memset(res, 0, sizeof *res);
    res->credit = ctx->cfg.credit;
    if (s_begin_check(ctx, who, b, res) != 0 || s_attributes(b, &attrs, res) != 0)
        return s_refused(who, "begin", b->agency, b->dataset, NULL, res);
    if (b->input_id.len != 0 && b->input_id.len != XL_HASH_BYTES) {
        cJSON_free(attrs);
        linker_answer_fail(res, XL_ERR_FORMAT, "input_id is %zu bytes, not %d", b->input_id.len,
                           XL_HASH_BYTES);
        return s_refused(who, "begin", b->agency, b->dataset, NULL, res);
    }
    if (b->payload_key.len != 0 && b->payload_key.len != XL_PAYLOAD_KEY) {
        cJSON_free(attrs);
        linker_answer_fail(res, XL_ERR_FORMAT, "payload_key is %zu bytes, not %d",
                           b->payload_key.len, XL_PAYLOAD_KEY);
        return s_refused(who, "begin", b->agency, b->dataset, NULL, res);
    }

    memset(&want, 0, sizeof want);
    snprintf(want.agency, sizeof want.agency, "%s", b->agency);
    snprintf(want.dataset, sizeof want.dataset, "%s", b->dataset);
    snprintf(want.key_id, sizeof want.key_id, "%s", who->key_id);
    snprintf(want.source, sizeof want.source, "%s", who->source);
    memcpy(want.spec, ctx->spec->fingerprint, XL_HASH_BYTES);
    want.epoch = b->epoch;
    want.record_count = b->record_count;
    memcpy(want.content_hash, b->content_hash.data, XL_HASH_BYTES);
    want.chunk_records = b->chunk_records;
    want.one_per_person = b->one_per_person ? 1 : 0;
    if (b->payload_key.len == XL_PAYLOAD_KEY) {
        want.has_payload_key = 1;
        memcpy(want.payload_key, b->payload_key.data, XL_PAYLOAD_KEY);
    }

    r = linker_store_find(ctx->store, &want, &sub, err, sizeof err);
    if (r == 0) {
        /* The same content again: resume it, or answer with its receipt. */
        cJSON_free(attrs);
        if (sub.state == LINKER_COMMITTED)
            r = s_stored_receipt(ctx, &sub, res);
        else
            s_ack(ctx, &sub, res);
        if (r != 0)
            return r;
        res->outcome =
            sub.state == LINKER_COMMITTED ? LINKER_DID_FIND_COMMITTED : LINKER_DID_RESUME;
        d = s_sub_details(&sub, who);
        if (d != NULL) {
            cJSON_AddStringToObject(d, "result",
                                    sub.state == LINKER_COMMITTED ? "committed" : "resumed");
            cJSON_AddNumberToObject(d, "next_seq", (double)sub.next_seq);
        }
        s_audit(ctx, who, "submission.begin", d);
        s_hexid(sub.id, hexid);
        xl_info("begin %s/%s from key %s: %s submission %s at chunk %llu", sub.agency, sub.dataset,
                who->key_id, linker_outcome_name(res->outcome), hexid,
                (unsigned long long)sub.next_seq);
        return 0;
    }
    if (r != XL_ERR_NOTFOUND) {
        cJSON_free(attrs);
        return s_store_fail(res, r, err);
    }
    r = s_begin_input(ctx, who, b, res, &forced, superseded_id);
    if (r != 0) {
        cJSON_free(attrs);
        return r > 0 ? 0 : r;
    }

    sub = want;
    if (b->input_id.len == XL_HASH_BYTES) {
        sub.has_input = 1;
        memcpy(sub.input_id, b->input_id.data, XL_HASH_BYTES);
    }
    xl_random(sub.id, sizeof sub.id);
    sub.created = (int64_t)time(NULL);
    /* Audited before it exists: a failed audit write refuses the submission. */
    d = s_sub_details(&sub, who);
    if (d != NULL) {
        cJSON_AddStringToObject(d, "result", "new");
        cJSON_AddNumberToObject(d, "chunk_records", sub.chunk_records);
        cJSON_AddBoolToObject(d, "one_per_person", sub.one_per_person);
        cJSON_AddNumberToObject(d, "attributes", (double)b->n_attributes);
        if (forced) {
            /* An input a newer submission had replaced, sent again on purpose. */
            cJSON_AddBoolToObject(d, "forced", 1);
            s_add_hex(d, "resubmits", superseded_id, LINKER_SUBID_BYTES);
        }
    }
    r = linker_audit_append(ctx->audit, (time_t)sub.created, who->audit_actor, who->audit_role,
                            "submission.begin", d, NULL, err, sizeof err);
    if (r == 0)
        r = linker_store_create(ctx->store, &sub, attrs, err, sizeof err);
    cJSON_free(attrs);
    if (r != 0)
        return s_store_fail(res, r == XL_ERR_EXISTS ? XL_ERR_INTERNAL : r, err);
    s_storage_ok();
    s_ack(ctx, &sub, res);
    res->outcome = LINKER_DID_BEGIN;
    s_hexid(sub.id, hexid);
    xl_info("begin %s/%s from key %s: new submission %s of %llu records", sub.agency, sub.dataset,
            who->key_id, hexid, (unsigned long long)sub.record_count);
    return 0;
}

int
linker_record_check(const struct linker_ctx *ctx, const Crosslink__Record *r, int keyed, char *err,
                    size_t errlen)
{
    if (r == NULL)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "empty record");
    /* Nothing but the defined fields is stored: an unknown one would pass
     * every check below and be packed again, whatever it carries. */
    if (xl_wire_defined_only(&r->base, err, errlen) != 0)
        return XL_ERR_FORMAT;
    if (r->local_ref.len != LINKER_REF_BYTES)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "local_ref is %zu bytes, not %d",
                          r->local_ref.len, LINKER_REF_BYTES);
    if (r->n_keys > LINKER_MAX_KEYS)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%zu match keys (at most %d)", r->n_keys,
                          LINKER_MAX_KEYS);
    for (size_t i = 0; i < r->n_keys; i++) {
        const Crosslink__MatchKey *k = r->keys[i];
        if (k == NULL || k->level > 255 || xl_spec_level(ctx->spec, (uint8_t)k->level) == NULL)
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "match key %zu has a level the specification does not define", i + 1);
        if (k->token.len != XL_TOKEN_BYTES)
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "match key %zu (level %u) is %zu bytes, not %d", i + 1,
                              (unsigned)k->level, k->token.len, XL_TOKEN_BYTES);
    }
    if (r->clk.len != ctx->clk_bytes)
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "CLK is %zu bytes; the specification makes %zu", r->clk.len,
                          ctx->clk_bytes);
    if (r->n_blocks > LINKER_MAX_BLOCKS)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%zu blocking keys (at most %d)", r->n_blocks,
                          LINKER_MAX_BLOCKS);
    for (size_t i = 0; i < r->n_blocks; i++) {
        if (r->blocks[i].len != LINKER_BLOCK_BYTES)
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "blocking key %zu is %zu bytes, not %d",
                              i + 1, r->blocks[i].len, LINKER_BLOCK_BYTES);
    }
    if (r->payload.len > LINKER_MAX_PAYLOAD)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "payload of %zu bytes (at most %u)",
                          r->payload.len, LINKER_MAX_PAYLOAD);
    /* A compact payload opens only with its batch's key: without one, no
     * analyst could ever read it. (A whole one opens on its own anywhere.) */
    if (r->payload.len > 0 && r->payload.data[0] == XL_PAYLOAD_COMPACT &&
        (!keyed || r->payload.len < XL_PAYLOAD_COMPACT_OVERHEAD))
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s",
                          keyed ? "a compact payload too short to hold its counter and tag"
                                : "a compact payload, but the submission sent no payload key");
    return 0;
}

static void
s_put_be32(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* The stored form of decoded records, checking each, into ctx's scratch
 * buffer (*out points into it; valid until the next chunk). */
static int
s_pack_records(struct linker_ctx *ctx, Crosslink__Record *const *recs, size_t n, int keyed,
               uint8_t **out, size_t *outlen, struct linker_answer *res)
{
    char msg[XL_ERRBUF];
    size_t total = 0, off = 0;
    uint8_t *buf;

    *out = NULL;
    *outlen = 0;
    linker_columns_begin(&ctx->cols);
    for (size_t i = 0; i < n; i++) {
        size_t sz;
        int r;
        if (linker_record_check(ctx, recs[i], keyed, msg, sizeof msg) != 0)
            return linker_answer_fail(res, XL_ERR_FORMAT, "record %zu of the chunk: %s", i + 1,
                                      msg);
        if ((r = linker_columns_add(&ctx->cols, recs[i])) != 0)
            return linker_answer_fail(res, r, "record %zu of the chunk: %s", i + 1,
                                      r == XL_ERR_NOMEM ? "out of memory building its link columns"
                                                        : "its link columns cannot be built");
        sz = crosslink__record__get_packed_size(recs[i]);
        if (sz > UINT32_MAX || total > SIZE_MAX - 4 - sz)
            return linker_answer_fail(res, XL_ERR_TOOBIG, "record %zu of the chunk is too big",
                                      i + 1);
        total += 4 + sz;
    }
    /* One buffer for every chunk: a fresh allocation of this size per chunk
     * would be mapped and unmapped, faulting its pages in each time. */
    if (total > ctx->scratchcap) {
        uint8_t *p = realloc(ctx->scratch, total);
        if (p == NULL)
            return s_store_fail(res, XL_ERR_NOMEM, "out of memory packing a chunk");
        ctx->scratch = p;
        ctx->scratchcap = total;
    }
    buf = ctx->scratch;
    for (size_t i = 0; i < n; i++) {
        size_t sz = crosslink__record__pack(recs[i], buf + off + 4);
        s_put_be32(buf + off, sz);
        off += 4 + sz;
    }
    *out = buf;
    *outlen = off;
    return 0;
}

int
linker_records_check(const struct linker_ctx *ctx, const uint8_t *data, size_t len, size_t n,
                     int keyed, struct linker_columns_buf *cols, char *err, size_t errlen)
{
    char msg[XL_ERRBUF];
    const uint8_t *raw;
    size_t off = 0, i = 0, rl;

    if (cols != NULL)
        linker_columns_begin(cols);
    while (xl_stored_next(data, len, &off, &raw, &rl) == 1) {
        Crosslink__Record *rec = crosslink__record__unpack(NULL, rl, raw);
        int r, c;
        if (rec == NULL)
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "record %zu of the chunk is malformed",
                              i + 1);
        r = linker_record_check(ctx, rec, keyed, msg, sizeof msg);
        c = r == 0 && cols != NULL ? linker_columns_add(cols, rec) : 0;
        crosslink__record__free_unpacked(rec, NULL);
        if (r != 0)
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "record %zu of the chunk: %s", i + 1,
                              msg);
        if (c != 0)
            return xl_err_set(err, errlen, c, "record %zu of the chunk: %s", i + 1,
                              c == XL_ERR_NOMEM ? "out of memory building its link columns"
                                                : "its link columns cannot be built");
        i++;
    }
    if (off != len || i != n)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "chunk data does not hold %zu whole records",
                          n);
    return 0;
}

/* Checks records already in the stored form (an import). */
static int
s_check_packed(struct linker_ctx *ctx, const uint8_t *data, size_t len, size_t n, int keyed,
               struct linker_answer *res)
{
    char msg[XL_ERRBUF];

    int r = linker_records_check(ctx, data, len, n, keyed, &ctx->cols, msg, sizeof msg);

    if (r != 0)
        return linker_answer_fail(res, r, "%s", msg);
    return 0;
}

/* Starts the answer to a request about submission id, and looks it up. */
static int
s_lookup(struct linker_ctx *ctx, const struct linker_actor *who, const uint8_t *id, size_t idlen,
         struct linker_submission *sub, struct linker_answer *res)
{
    char err[XL_ERRBUF];
    int r;

    memset(res, 0, sizeof *res);
    res->credit = ctx->cfg.credit;
    if (id == NULL || idlen != LINKER_SUBID_BYTES)
        return linker_answer_fail(res, XL_ERR_NOTFOUND, "unknown submission id");
    r = linker_store_get(ctx->store, id, sub, err, sizeof err);
    if (r == XL_ERR_NOTFOUND)
        return linker_answer_fail(res, XL_ERR_NOTFOUND, "unknown submission id");
    if (r != 0)
        return s_store_fail(res, r, err);
    return 0;
}

int
linker_submission_agency(struct linker_ctx *ctx, const uint8_t *id, size_t idlen,
                         char agency[XL_NAME_MAX])
{
    struct linker_submission sub;

    agency[0] = '\0';
    if (id == NULL || idlen != LINKER_SUBID_BYTES ||
        linker_store_get(ctx->store, id, &sub, NULL, 0) != 0)
        return XL_ERR_NOTFOUND;
    snprintf(agency, XL_NAME_MAX, "%s", sub.agency);
    return 0;
}

int
linker_chunk(struct linker_ctx *ctx, const struct linker_actor *who, const uint8_t *id,
             size_t idlen, uint64_t seq, const struct linker_records *recs,
             struct linker_answer *res)
{
    struct linker_submission sub;
    struct linker_chunk_result cr;
    char err[XL_ERRBUF], hexid[LINKER_SUBID_HEX + 1];
    uint8_t *packed = NULL; /* ctx->scratch, not freed here */
    const uint8_t *data, *cols;
    size_t len, colslen;
    int r;

    r = s_lookup(ctx, who, id, idlen, &sub, res);
    if (r != 0)
        return r;
    if (seq < sub.next_seq) {
        /* A resend after a lost ack: already durable, acked again unread. */
        s_ack(ctx, &sub, res);
        res->outcome = LINKER_DID_ACK_AGAIN;
        return 0;
    }
    if (sub.state != LINKER_OPEN)
        return linker_answer_fail(res, XL_ERR_MISMATCH, "submission is %s: no more chunks",
                                  linker_state_name(sub.state));
    if (seq > sub.next_seq)
        return linker_answer_fail(res, XL_ERR_SEQUENCE,
                                  "chunk %llu out of sequence: next expected is %llu",
                                  (unsigned long long)seq, (unsigned long long)sub.next_seq);
    if (recs->n > sub.chunk_records) {
        linker_answer_fail(res, XL_ERR_TOOBIG,
                           "chunk %llu has %zu records, more than the %u agreed",
                           (unsigned long long)seq, recs->n, sub.chunk_records);
        return s_refused(who, "chunk", sub.agency, sub.dataset, sub.id, res);
    }
    if (recs->n == 0) {
        linker_answer_fail(res, XL_ERR_FORMAT, "chunk %llu has no records",
                           (unsigned long long)seq);
        return s_refused(who, "chunk", sub.agency, sub.dataset, sub.id, res);
    }
    if (recs->records != NULL) {
        r = s_pack_records(ctx, recs->records, recs->n, sub.has_payload_key, &packed, &len, res);
        data = packed;
    } else {
        r = s_check_packed(ctx, recs->data, recs->len, recs->n, sub.has_payload_key, res);
        data = recs->data;
        len = recs->len;
    }
    if (r != 0) {
        if (res->code == XL_ERR_FORMAT || res->code == XL_ERR_TOOBIG)
            return s_refused(who, "chunk", sub.agency, sub.dataset, sub.id, res);
        return r;
    }
    if (linker_columns_finish(&ctx->cols, &cols, &colslen) != 0)
        return s_store_fail(res, XL_ERR_NOMEM, "out of memory building a chunk's columns");
    r = linker_store_put_chunk(ctx->store, sub.id, seq, recs->n, data, len, cols, colslen, &cr, err,
                               sizeof err);
    if (r != 0) {
        s_store_fail(res, r, err);
        if (r == XL_ERR_MISMATCH || r == XL_ERR_TOOBIG || r == XL_ERR_INVALID)
            return s_refused(who, "chunk", sub.agency, sub.dataset, sub.id, res);
        return r;
    }
    if (!cr.duplicate)
        s_storage_ok();
    sub.next_seq = cr.next_seq;
    sub.records_stored = cr.records_stored;
    s_ack(ctx, &sub, res);
    res->outcome = cr.duplicate ? LINKER_DID_ACK_AGAIN : LINKER_DID_STORE;
    if (xl_log_get_level() >= XL_LOG_DEBUG) {
        s_hexid(sub.id, hexid);
        xl_debug("chunk %llu of %s: %zu records, %llu of %llu stored", (unsigned long long)seq,
                 hexid, recs->n, (unsigned long long)cr.records_stored,
                 (unsigned long long)sub.record_count);
    }
    return 0;
}

/* State the seal hook needs. */
struct s_seal {
    struct linker_ctx *ctx;
    const struct linker_actor *who;
    uint64_t chunks;
};

/* Inside the commit transaction: the audit entries, then the receipt, which
 * names the commit entry's sequence number. */
static int
s_seal(void *arg, const struct linker_submission *sub,
       const uint8_t (*superseded)[LINKER_SUBID_BYTES], size_t nsuperseded, uint8_t **receipt,
       size_t *receiptlen, char *err, size_t errlen)
{
    struct s_seal *s = arg;
    struct linker_ctx *ctx = s->ctx;
    Crosslink__Receipt rc = CROSSLINK__RECEIPT__INIT;
    struct linker_audit_proof proof;
    ProtobufCBinaryData path[XL_MERKLE_PROOF_MAX];
    uint8_t sig[XL_SIG_BYTES], pk[XL_SIGN_PK_BYTES], id[LINKER_SUBID_BYTES], content[XL_HASH_BYTES],
        spec[XL_HASH_BYTES];
    char agency[XL_NAME_MAX], dataset[XL_NAME_MAX];
    uint64_t seq = 0;
    cJSON *d, *arr;
    size_t n;
    int r;

    *receipt = NULL;
    *receiptlen = 0;
    d = s_sub_details(sub, s->who);
    if (d != NULL) {
        s_add_hex(d, "spec", sub->spec, XL_HASH_BYTES);
        cJSON_AddNumberToObject(d, "chunks", (double)s->chunks);
        arr = cJSON_AddArrayToObject(d, "supersedes");
        for (size_t i = 0; arr != NULL && i < nsuperseded; i++) {
            char hex[LINKER_SUBID_HEX + 1];
            s_hexid(superseded[i], hex);
            cJSON_AddItemToArray(arr, cJSON_CreateString(hex));
        }
    }
    /* The receipt carries the commit entry, a checkpoint ending with it and
     * its inclusion path: the agency can prove it was logged. */
    r = linker_audit_append_proved(ctx->audit, (time_t)sub->committed, s->who->audit_actor,
                                   s->who->audit_role, "submission.commit", d, &proof, err, errlen);
    if (r != 0) {
        linker_audit_proof_free(&proof);
        return r;
    }
    seq = proof.seq;
    for (size_t i = 0; i < nsuperseded; i++) {
        d = cJSON_CreateObject();
        if (d != NULL) {
            s_add_hex(d, "submission", superseded[i], LINKER_SUBID_BYTES);
            cJSON_AddStringToObject(d, "agency", sub->agency);
            cJSON_AddStringToObject(d, "dataset", sub->dataset);
            s_add_hex(d, "by", sub->id, LINKER_SUBID_BYTES);
        }
        r = linker_audit_append(ctx->audit, (time_t)sub->committed, s->who->audit_actor,
                                s->who->audit_role, "submission.superseded", d, NULL, err, errlen);
        if (r != 0) {
            linker_audit_proof_free(&proof);
            return r;
        }
    }
    memcpy(id, sub->id, sizeof id);
    memcpy(content, sub->content_hash, sizeof content);
    memcpy(spec, sub->spec, sizeof spec);
    snprintf(agency, sizeof agency, "%s", sub->agency);
    snprintf(dataset, sizeof dataset, "%s", sub->dataset);
    rc.submission_id.data = id;
    rc.submission_id.len = sizeof id;
    rc.agency = agency;
    rc.dataset = dataset;
    rc.record_count = sub->record_count;
    rc.content_hash.data = content;
    rc.content_hash.len = sizeof content;
    rc.time = sub->committed;
    rc.audit_seq = seq;
    rc.epoch = sub->epoch;
    rc.spec_fingerprint.data = spec;
    rc.spec_fingerprint.len = sizeof spec;
    rc.audit_root.data = proof.root;
    rc.audit_root.len = XL_HASH_BYTES;
    rc.audit_checkpoint.data = (uint8_t *)proof.checkpoint;
    rc.audit_checkpoint.len = proof.checkpoint_len;
    rc.audit_entry.data = (uint8_t *)proof.entry;
    rc.audit_entry.len = proof.entry_len;
    rc.n_audit_proof = proof.path.n;
    rc.audit_proof = path;
    for (size_t i = 0; i < proof.path.n; i++) {
        path[i].data = proof.path.hash[i];
        path[i].len = XL_HASH_BYTES;
    }
    r = xl_receipt_sign(&rc, ctx->sign->secret, ctx->sign->pub, sig, pk);
    if (r != 0) {
        r = xl_err_set(err, errlen, r, "cannot sign the receipt: %s", xl_strerror(r));
        goto out;
    }
    n = crosslink__receipt__get_packed_size(&rc);
    *receipt = malloc(n);
    if (*receipt == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    *receiptlen = crosslink__receipt__pack(&rc, *receipt);
out:
    linker_audit_proof_free(&proof);
    return r;
}

/* Discards open submission sub and audits it (submission.discarded). Returns
 * XL_ERR_DISCARDED once done, or the store's error in res. */
static int
s_discard(struct linker_ctx *ctx, const struct linker_actor *who,
          const struct linker_submission *sub, const char *reason, const char *stored_hash,
          uint64_t records, struct linker_answer *res)
{
    char err[XL_ERRBUF], hexid[LINKER_SUBID_HEX + 1];
    cJSON *d;
    int r;

    r = linker_store_discard(ctx->store, sub->id, err, sizeof err);
    if (r != 0)
        return s_store_fail(res, r, err);
    d = s_sub_details(sub, who);
    if (d != NULL) {
        cJSON_AddStringToObject(d, "reason", reason);
        cJSON_AddNumberToObject(d, "chunks_stored", (double)sub->next_seq);
        if (stored_hash != NULL) {
            cJSON_AddStringToObject(d, "stored_content", stored_hash);
            cJSON_AddNumberToObject(d, "stored_records", (double)records);
        }
    }
    s_audit(ctx, who, "submission.discarded", d);
    s_hexid(sub->id, hexid);
    xl_warn("discarded submission %s of %s/%s (key %s): %s", hexid, sub->agency, sub->dataset,
            who->key_id, reason);
    res->outcome = LINKER_DID_DISCARD;
    return XL_ERR_DISCARDED;
}

int
linker_abort(struct linker_ctx *ctx, const struct linker_actor *who, const uint8_t *id,
             size_t idlen, struct linker_answer *res)
{
    struct linker_submission sub;
    int r;

    r = s_lookup(ctx, who, id, idlen, &sub, res);
    if (r != 0)
        return r;
    if (sub.state != LINKER_OPEN)
        return linker_answer_fail(res, XL_ERR_MISMATCH, "submission is %s: nothing to abort",
                                  linker_state_name(sub.state));
    r = s_discard(ctx, who, &sub, "aborted by the agent", NULL, 0, res);
    if (r != XL_ERR_DISCARDED)
        return r;
    sub.next_seq = 0;
    sub.records_stored = 0;
    s_ack(ctx, &sub, res);
    res->outcome = LINKER_DID_DISCARD;
    return 0;
}

int
linker_commit(struct linker_ctx *ctx, const struct linker_actor *who, const uint8_t *id,
              size_t idlen, uint64_t record_count, const uint8_t *hash, size_t hashlen,
              struct linker_answer *res)
{
    struct linker_submission sub;
    struct s_seal seal = {.ctx = ctx, .who = who};
    struct linker_commit_hooks hooks = {.seal = s_seal, .ctx = &seal};
    uint8_t stored[XL_HASH_BYTES];
    char err[XL_ERRBUF], hexid[LINKER_SUBID_HEX + 1];
    uint64_t chunks = 0, records = 0;
    int r;

    r = s_lookup(ctx, who, id, idlen, &sub, res);
    if (r != 0)
        return r;
    if (sub.state != LINKER_OPEN) {
        /* A repeated commit (its answer was lost): the same receipt again. */
        r = s_stored_receipt(ctx, &sub, res);
        res->outcome = LINKER_DID_REPEAT;
        return r;
    }
    if (record_count != sub.record_count)
        linker_answer_fail(res, XL_ERR_MISMATCH, "commit counts %llu records, begin announced %llu",
                           (unsigned long long)record_count, (unsigned long long)sub.record_count);
    else if (hash == NULL || hashlen != XL_HASH_BYTES ||
             !xl_equal(hash, sub.content_hash, XL_HASH_BYTES))
        linker_answer_fail(res, XL_ERR_MISMATCH, "commit content hash differs from the begin's");
    else if (sub.records_stored != sub.record_count)
        linker_answer_fail(
            res, XL_ERR_MISMATCH,
            "%llu of %llu records stored: send the chunks from %llu before committing",
            (unsigned long long)sub.records_stored, (unsigned long long)sub.record_count,
            (unsigned long long)sub.next_seq);
    if (res->code != 0)
        return s_refused(who, "commit", sub.agency, sub.dataset, sub.id, res);

    r = linker_store_content_hash(ctx->store, &sub, stored, &chunks, &records, err, sizeof err);
    if (r != 0)
        return s_store_fail(res, r, err);
    if (records != sub.record_count || !xl_equal(stored, sub.content_hash, XL_HASH_BYTES)) {
        /* Beyond repair: every identical begin would resume it and fail here
         * again. Discarded, the agent's next begin starts afresh. */
        char hex[2 * XL_HASH_BYTES + 1];
        xl_hex(stored, XL_HASH_BYTES, hex);
        r = s_discard(ctx, who, &sub, "the stored records do not match the content hash", hex,
                      records, res);
        if (r != XL_ERR_DISCARDED)
            return r;
        linker_answer_fail(
            res, XL_ERR_DISCARDED,
            "the stored records do not match the content hash (%llu records in %llu chunks): "
            "the submission is discarded; begin it again",
            (unsigned long long)records, (unsigned long long)chunks);
        return s_refused(who, "commit", sub.agency, sub.dataset, sub.id, res);
    }
    seal.chunks = chunks;
    r = linker_store_commit(ctx->store, sub.id, (int64_t)time(NULL), &hooks, err, sizeof err);
    if (r != 0)
        return s_store_fail(res, r, err);
    s_storage_ok();
    r = s_stored_receipt(ctx, &sub, res);
    if (r != 0)
        return r;
    res->outcome = LINKER_DID_COMMIT;
    s_hexid(sub.id, hexid);
    xl_info("commit %s/%s from key %s: submission %s, %llu records", sub.agency, sub.dataset,
            who->key_id, hexid, (unsigned long long)sub.record_count);
    return 0;
}
