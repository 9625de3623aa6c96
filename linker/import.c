#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "import.h"
#include "projects.h"
#include "ingest.h"
#include "xl/auditlog.h"
#include "xl/err.h"
#include "xl/keyring.h"
#include "xl/log.h"
#include "xl/receipt.h"
#include "xl/xle.h"

int
linker_receipt_print(FILE *out, const uint8_t *receipt, size_t len, char *err, size_t errlen)
{
    Crosslink__Receipt *rc = crosslink__receipt__unpack(NULL, len, receipt);
    char text[XL_RECEIPT_TEXT_MAX], sig[2 * XL_SIG_BYTES + 1], pk[2 * XL_SIGN_PK_BYTES + 1];
    int n;

    if (rc == NULL)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "stored receipt does not parse");
    n = xl_receipt_canonical(rc, text, sizeof text);
    if (n < 0 || rc->signature.len != XL_SIG_BYTES || rc->linker_key.len != XL_SIGN_PK_BYTES) {
        crosslink__receipt__free_unpacked(rc, NULL);
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "stored receipt is malformed");
    }
    xl_hex(rc->signature.data, XL_SIG_BYTES, sig);
    xl_hex(rc->linker_key.data, XL_SIGN_PK_BYTES, pk);
    fprintf(out, "%.*ssignature %s\nsigner %s\n", n, text, sig, pk);
    crosslink__receipt__free_unpacked(rc, NULL);
    return 0;
}

/* The first active agent key of agency, on whose behalf the operator imports. */
static const struct xl_keyring_entry *
s_agency_key(const struct xl_keyring *kr, const char *agency)
{
    for (size_t i = 0; i < kr->count; i++) {
        const struct xl_keyring_entry *e = &kr->entries[i];
        if (e->active && e->role == XL_ROLE_AGENT && strcmp(e->agency, agency) == 0)
            return e;
    }
    return NULL;
}

static void
s_user(char *out, size_t len)
{
    struct passwd *pw = getpwuid(geteuid());

    if (pw != NULL && pw->pw_name != NULL)
        snprintf(out, len, "%s", pw->pw_name);
    else
        snprintf(out, len, "uid %u", (unsigned)geteuid());
}

/* First pass: checks the whole file (count and content hash against its
 * trailer) before anything is stored. */
static int
s_verify(const char *path, uint8_t hash[XL_HASH_BYTES], uint64_t *count, char *err, size_t errlen)
{
    const Crosslink__XleHeader *hdr;
    struct xl_xle_reader *rd = xl_xle_reader_open(path, &hdr, err, errlen);
    const uint8_t *rec;
    size_t len;
    int r;

    if (rd == NULL)
        return XL_ERR_FORMAT;
    while ((r = xl_xle_next(rd, &rec, &len, err, errlen)) == 1)
        ;
    if (r == 0) {
        memcpy(hash, xl_xle_reader_hash(rd), XL_HASH_BYTES);
        *count = xl_xle_reader_count(rd);
    }
    xl_xle_reader_close(&rd);
    return r;
}

/* A refusal of the import's records is audited as the network's are (the
 * operator's own command needs no rate limit). */
static void
s_refused(struct linker_ctx *ctx, struct linker_answer *res)
{
    if (res->refusal == NULL)
        return;
    cJSON_AddStringToObject(res->refusal, "reason", res->msg);
    linker_audit_note(ctx->audit, "linker", "operator", "submission.refused", res->refusal);
    res->refusal = NULL; /* consumed */
}

/* Second pass: the chunks from next_seq on, through linker_chunk. */
static int
s_send_chunks(struct linker_ctx *ctx, const struct linker_actor *who, const char *path,
              const uint8_t id[LINKER_SUBID_BYTES], uint32_t chunk_records, uint64_t next_seq,
              char *err, size_t errlen)
{
    const Crosslink__XleHeader *hdr;
    struct xl_xle_reader *rd = xl_xle_reader_open(path, &hdr, err, errlen);
    struct linker_answer res;
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0, n = 0;
    uint64_t seq = 0;
    int r;

    if (rd == NULL)
        return XL_ERR_FORMAT;
    for (; (r = xl_xle_next_chunk(rd, chunk_records, &buf, &cap, &len, &n, err, errlen)) == 1;
         seq++) {
        struct linker_records recs = {.data = buf, .len = len, .n = n};
        if (seq < next_seq)
            continue;
        linker_chunk(ctx, who, id, LINKER_SUBID_BYTES, seq, &recs, &res);
        if (res.code != 0) {
            s_refused(ctx, &res);
            r = xl_err_set(err, errlen, res.code, "%s: chunk %llu refused: %s", path,
                           (unsigned long long)seq, res.msg);
            linker_answer_clear(&res);
            break;
        }
        linker_answer_clear(&res);
    }
    free(buf);
    xl_xle_reader_close(&rd);
    return r;
}

int
linker_import(const char *conf_path, const char *path, FILE *out, char *err, size_t errlen)
{
    struct linker_ctx ctx;
    struct xl_keyring *kr = NULL;
    struct xl_xle_reader *rd = NULL;
    const Crosslink__XleHeader *hdr;
    const struct xl_keyring_entry *key;
    Crosslink__SubmitBegin b = CROSSLINK__SUBMIT_BEGIN__INIT;
    struct linker_actor who;
    struct linker_answer res;
    uint8_t hash[XL_HASH_BYTES];
    char user[64], tmp[1024], hex[2 * XL_HASH_BYTES + 1];
    uint64_t count = 0;
    cJSON *d;
    int r;

    memset(&res, 0, sizeof res);
    r = linker_ctx_open(&ctx, conf_path, err, errlen);
    if (r != 0)
        return r;
    r = xl_keyring_load(ctx.cfg.keyring_path, &kr, err, errlen);
    if (r != 0)
        goto out;
    rd = xl_xle_reader_open(path, &hdr, err, errlen);
    if (rd == NULL) {
        r = XL_ERR_FORMAT;
        goto out;
    }
    if (hdr->agency == NULL || !xl_name_valid(hdr->agency)) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: the header names no valid agency", path);
        goto out;
    }
    key = s_agency_key(kr, hdr->agency);
    if (key == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_DENIED,
                       "%s: agency %s has no active agent key in the keyring: import refused", path,
                       hdr->agency);
        goto out;
    }
    r = s_verify(path, hash, &count, err, errlen);
    if (r != 0)
        goto out;

    memset(&who, 0, sizeof who);
    snprintf(who.key_id, sizeof who.key_id, "%s", key->key_id);
    who.role = key->role;
    snprintf(who.agency, sizeof who.agency, "%s", key->agency);
    who.audit_actor = "linker";
    who.audit_role = "operator";
    who.source = "import";

    snprintf(tmp, sizeof tmp, "%s", path);
    s_user(user, sizeof user);
    xl_hex(hash, sizeof hash, hex);
    d = cJSON_CreateObject();
    if (d != NULL) {
        cJSON_AddStringToObject(d, "file", basename(tmp));
        cJSON_AddStringToObject(d, "agency", hdr->agency);
        cJSON_AddStringToObject(d, "dataset",
                                xl_name_valid(hdr->dataset) ? hdr->dataset : "(invalid)");
        cJSON_AddNumberToObject(d, "records", (double)count);
        cJSON_AddStringToObject(d, "content", hex);
        cJSON_AddStringToObject(d, "key_id", key->key_id);
        cJSON_AddStringToObject(d, "user", user);
    }
    r = linker_audit_append(ctx.audit, 0, "linker", "operator", "import", d, NULL, err, errlen);
    if (r != 0)
        goto out;

    /* The same begin an agent would send for these records. */
    b.agency = hdr->agency;
    b.dataset = hdr->dataset;
    b.spec_fingerprint = hdr->spec_fingerprint;
    b.epoch = hdr->epoch;
    b.record_count = count;
    b.content_hash.data = hash;
    b.content_hash.len = sizeof hash;
    b.chunk_records = LINKER_IMPORT_CHUNK < ctx.cfg.max_chunk_records ? LINKER_IMPORT_CHUNK
                                                                      : ctx.cfg.max_chunk_records;
    b.secret_check = hdr->secret_check;
    b.one_per_person = hdr->one_per_person;
    b.payload_key = hdr->payload_key;
    b.n_attributes = hdr->n_attributes;
    b.attributes = hdr->attributes;
    if (linker_begin(&ctx, &who, &b, &res) != 0) {
        s_refused(&ctx, &res);
        r = xl_err_set(err, errlen, res.code, "%s: refused: %s", path, res.msg);
        goto out;
    }
    if (res.kind == LINKER_REPLY_ACK) {
        uint8_t id[LINKER_SUBID_BYTES];
        uint64_t next = res.next_seq;

        memcpy(id, res.id, sizeof id);
        if (next > 0)
            fprintf(stderr, "crosslink-linker: resuming an interrupted import at chunk %llu\n",
                    (unsigned long long)next);
        linker_answer_clear(&res);
        r = s_send_chunks(&ctx, &who, path, id, b.chunk_records, next, err, errlen);
        if (r != 0)
            goto out;
        if (linker_commit(&ctx, &who, id, sizeof id, count, hash, sizeof hash, &res) != 0) {
            s_refused(&ctx, &res);
            r = xl_err_set(err, errlen, res.code, "%s: commit refused: %s", path, res.msg);
            goto out;
        }
    } else {
        fprintf(stderr, "crosslink-linker: this content is already committed; its receipt:\n");
    }
    r = linker_receipt_print(out, res.receipt, res.receiptlen, err, errlen);
out:
    linker_answer_clear(&res);
    xl_xle_reader_close(&rd);
    xl_keyring_destroy(&kr);
    linker_ctx_close(&ctx);
    return r;
}

/* ---- status ------------------------------------------------------------------ */

struct s_status {
    FILE *out;
    const struct xl_keyring *kr;
    int pass; /* -1 column widths, 0 current, 1 open */
    size_t current, open, superseded, purged, lines;
    uint64_t current_records, current_epoch_records, open_records;
    uint32_t epoch;
    int wa, wd, wk; /* widths of the agency, dataset and key columns */
};

static const char *
s_s(uint64_t n)
{
    return n == 1 ? "" : "s";
}

static const char *
s_key_name(const struct xl_keyring *kr, const char *id)
{
    const struct xl_keyring_entry *e = xl_keyring_find_id(kr, id);

    return e != NULL ? e->name : id;
}

static int
s_status_row(void *arg, const struct linker_submission *sub)
{
    struct s_status *s = arg;
    char id[LINKER_SUBID_HEX + 1], when[21];

    xl_hex(sub->id, LINKER_SUBID_BYTES, id);
    if (s->pass < 0) {
        /* Columns as wide as the longest name, so long dataset names stay aligned. */
        int a = (int)strlen(sub->agency), d = (int)strlen(sub->dataset);
        int k = (int)strlen(s_key_name(s->kr, sub->key_id));
        s->wa = a > s->wa ? a : s->wa;
        s->wd = d > s->wd ? d : s->wd;
        s->wk = k > s->wk ? k : s->wk;
        return 0;
    }
    if (s->pass == 0) {
        if (sub->state == LINKER_SUPERSEDED && sub->purged != 0)
            s->purged++;
        else if (sub->state == LINKER_SUPERSEDED)
            s->superseded++;
        else if (sub->state == LINKER_OPEN) {
            s->open++;
            s->open_records += sub->records_stored;
        }
        if (sub->state != LINKER_COMMITTED)
            return 0;
        s->current++;
        s->current_records += sub->record_count;
        if (sub->epoch == s->epoch)
            s->current_epoch_records += sub->record_count;
        linker_iso_time((time_t)sub->committed, when);
        fprintf(s->out, "  %-*s %-*s %10llu %6u  %-20s  %-*s %.16s %s\n", s->wa, sub->agency, s->wd,
                sub->dataset, (unsigned long long)sub->record_count, (unsigned)sub->epoch, when,
                s->wk, s_key_name(s->kr, sub->key_id), id, sub->source);
    } else if (sub->state == LINKER_OPEN) {
        uint64_t chunks = (sub->record_count + sub->chunk_records - 1) / sub->chunk_records;
        linker_iso_time((time_t)sub->created, when);
        fprintf(s->out,
                "  %-*s %-*s %llu of %llu record%s (%llu of %llu chunk%s), epoch %u, begun %s "
                "by %s, submission %.16s\n",
                s->wa, sub->agency, s->wd, sub->dataset, (unsigned long long)sub->records_stored,
                (unsigned long long)sub->record_count, s_s(sub->record_count),
                (unsigned long long)sub->next_seq, (unsigned long long)chunks, s_s(chunks),
                (unsigned)sub->epoch, when, s_key_name(s->kr, sub->key_id), id);
        s->lines++;
    }
    return 0;
}

/* Storage by agency: the bytes of the records stored for its current,
 * superseded and open submissions, and the database file's size; the
 * retention that purges the superseded and open ones. */
struct s_storage_row {
    char agency[XL_NAME_MAX];
    uint64_t bytes[3], subs[3]; /* committed, superseded, open */
};
struct s_storage {
    struct s_storage_row rows[64];
    size_t n;
};

static int
s_storage_cb(void *arg, const char *agency, enum linker_state state, uint64_t subs, uint64_t bytes)
{
    struct s_storage *t = arg;
    size_t i;
    int col = state == LINKER_COMMITTED ? 0 : state == LINKER_SUPERSEDED ? 1 : 2;

    for (i = 0; i < t->n && strcmp(t->rows[i].agency, agency) != 0; i++)
        ;
    if (i == t->n) {
        if (t->n == sizeof t->rows / sizeof t->rows[0])
            return 0;
        snprintf(t->rows[t->n++].agency, sizeof t->rows[0].agency, "%s", agency);
    }
    t->rows[i].bytes[col] += bytes;
    t->rows[i].subs[col] += subs;
    return 0;
}

static void
s_mb(uint64_t bytes, char *out, size_t len)
{
    snprintf(out, len, "%.1f MB", (double)bytes / 1e6);
}

static int
s_status_storage(struct linker_store *st, const struct linker_config *cfg, const struct s_status *s,
                 FILE *out, char *err, size_t errlen)
{
    struct s_storage *t = calloc(1, sizeof *t);
    char a[32], b[32], c[32], ret[32];
    struct stat sb;
    uint64_t file = 0;
    int r;

    if (t == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    r = linker_store_storage(st, s_storage_cb, t, err, errlen);
    if (r == 0) {
        if (stat(cfg->database_path, &sb) == 0)
            file = (uint64_t)sb.st_size;
        if (cfg->retention >= 86400)
            snprintf(ret, sizeof ret, "after %.0f day%s", cfg->retention / 86400,
                     s_s((uint64_t)(cfg->retention / 86400)));
        else if (cfg->retention > 0)
            snprintf(ret, sizeof ret, "after %.0f s", cfg->retention);
        else
            snprintf(ret, sizeof ret, "never (retention off)");
        fprintf(out,
                "\nstorage by agency (bytes of records; superseded and abandoned submissions "
                "are purged %s):\n",
                ret);
        fprintf(out, "  %-*s %12s %12s %12s\n", s->wa, "AGENCY", "CURRENT", "SUPERSEDED", "OPEN");
        for (size_t i = 0; i < t->n; i++) {
            s_mb(t->rows[i].bytes[0], a, sizeof a);
            s_mb(t->rows[i].bytes[1], b, sizeof b);
            s_mb(t->rows[i].bytes[2], c, sizeof c);
            fprintf(out, "  %-*s %12s %12s %12s\n", s->wa, t->rows[i].agency, a, b, c);
        }
        if (t->n == 0)
            fprintf(out, "  (none)\n");
        s_mb(file, a, sizeof a);
        fprintf(out, "  database file %s; %zu superseded submission%s purged (receipts kept)\n", a,
                s->purged, s_s(s->purged));
    }
    free(t);
    return r;
}

/* The approved projects, as the service would load them now. */
static void
s_status_projects(const struct linker_config *cfg, FILE *out)
{
    struct linker_projects *ps = NULL;
    char err[XL_ERRBUF], today[11];

    if (linker_projects_load(cfg->projects_path, &ps, err, sizeof err) != 0) {
        fprintf(out,
                "approved projects: the file does not load (the service keeps the projects "
                "in force): %s\n",
                err);
        return;
    }
    xl_today(today);
    if (!ps->present)
        fprintf(out, "approved projects: none (no file %s): every extract is refused\n",
                cfg->projects_path);
    else
        fprintf(out, "approved projects: %zu in %s\n", ps->n, cfg->projects_path);
    for (size_t i = 0; i < ps->n; i++) {
        const struct linker_project *p = &ps->p[i];
        char cohort[2 * XL_NAME_MAX + 16] = "";
        if (p->cohort.agency[0] != '\0')
            snprintf(cohort, sizeof cohort, ", cohort %s/%s", p->cohort.agency, p->cohort.dataset);
        fprintf(out, "  %-28s %zu analyst key%s, %zu dataset%s%s, until %s%s\n", p->id,
                p->nanalysts, p->nanalysts == 1 ? "" : "s", p->ndatasets,
                p->ndatasets == 1 ? "" : "s", cohort, p->expires,
                strcmp(today, p->expires) > 0 ? " (expired)" : "");
    }
    linker_projects_free(&ps);
}

/* The last note in the file of checkpoints (the latest the linker signed),
 * copied: status opens only that one, so that it stays quick however many
 * there are (the linker checks them all at start). */
struct s_latest {
    char *note;
    size_t len, count;
};

static int
s_latest_cp(void *ctx, const char *note, size_t len, char *err, size_t errlen)
{
    struct s_latest *l = ctx;
    char *copy = malloc(len);

    if (copy == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    memcpy(copy, note, len);
    free(l->note);
    l->note = copy;
    l->len = len;
    l->count++;
    return 0;
}

/* The audit log's signed checkpoints and the key to verify them with: what an
 * IG lead or a witness is given. */
static void
s_status_audit(const struct linker_config *cfg, FILE *out)
{
    struct xl_keyfile *kf = NULL;
    struct xl_note_vkey vk;
    struct s_latest l = {0};
    struct xl_checkpoint cp;
    char vkey[XL_NOTE_VKEY_MAX], path[LINKER_PATH_MAX + 16], err[XL_ERRBUF];
    int r;

    if (xl_keyfile_load(cfg->sign_key_path, XL_KEY_SIGN_SECRET, &kf, err, sizeof err) != 0) {
        fprintf(out, "audit log: %s (signing key unreadable: %s)\n", cfg->audit_path, err);
        return;
    }
    snprintf(path, sizeof path, "%s%s", cfg->audit_path, XL_AUDIT_CHECKPOINTS_SUFFIX);
    r = xl_checkpoints_each(path, s_latest_cp, &l, NULL, err, sizeof err);
    if (r == 0 && l.note == NULL)
        r = XL_ERR_NOTFOUND;
    if (r == 0)
        r = xl_audit_checkpoint_open(l.note, l.len, kf->pub, &cp, err, sizeof err);
    if (r == XL_ERR_NOTFOUND)
        fprintf(out, "audit log: %s, no checkpoint signed yet\n", cfg->audit_path);
    else if (r != 0)
        fprintf(out, "audit log: %s: %s (run crosslink-audit verify)\n", cfg->audit_path, err);
    else
        fprintf(out, "audit log: %s, %zu checkpoints signed, the latest of %llu entries\n",
                cfg->audit_path, l.count, (unsigned long long)cp.size);
    free(l.note);
    if (xl_audit_vkey(kf->pub, &vk) == 0 && xl_note_vkey_format(&vk, vkey) == 0)
        fprintf(out, "audit checkpoints are signed as %s\n", vkey);
    xl_keyfile_destroy(&kf);
}

int
linker_status(const char *conf_path, FILE *out, char *err, size_t errlen)
{
    struct linker_config cfg;
    struct linker_store *st = NULL;
    struct xl_keyring *kr = NULL;
    struct xl_spec *spec = NULL;
    struct s_status s;
    char fp[2 * XL_HASH_BYTES + 1] = "(unreadable)", kerr[XL_ERRBUF];
    int r;

    r = linker_config_load(conf_path, &cfg, err, errlen);
    if (r != 0)
        return r;
    r = linker_store_open_readonly(cfg.database_path, &st, err, errlen);
    if (r != 0)
        return r;
    if (xl_spec_load(cfg.spec_path, &spec, kerr, sizeof kerr) == 0)
        xl_hex(spec->fingerprint, XL_HASH_BYTES, fp);
    /* Key names make the report readable; without the keyring it shows key ids. */
    if (xl_keyring_load(cfg.keyring_path, &kr, kerr, sizeof kerr) != 0)
        kr = NULL;
    memset(&s, 0, sizeof s);
    s.out = out;
    s.kr = kr;
    s.epoch = cfg.epoch;
    fprintf(out, "linker: epoch %u, specification %.16s…, database %s\n", (unsigned)cfg.epoch, fp,
            cfg.database_path);
    /* Whole, for an agency to compare with crosslink-agent spec. */
    fprintf(out, "specification fingerprint %s (%s)\n", fp, cfg.spec_path);
    if (kr != NULL) {
        struct xl_keyring_counts c;
        xl_keyring_count(kr, &c);
        fprintf(out, "keyring: %zu keys, %zu active (%zu agents), %zu revoked\n", c.entries,
                c.active, c.agents, c.revoked);
    }
    s_status_audit(&cfg, out);
    s.pass = -1;
    s.wa = 12;
    s.wd = 16;
    s.wk = 18;
    r = linker_store_foreach_submission(st, s_status_row, &s, err, errlen);
    s.pass = 0;
    if (r == 0) {
        fprintf(out, "\ncurrent submissions (committed):\n");
        fprintf(out, "  %-*s %-*s %10s %6s  %-20s  %-*s %-16s %s\n", s.wa, "AGENCY", s.wd,
                "DATASET", "RECORDS", "EPOCH", "COMMITTED (UTC)", s.wk, "KEY", "SUBMISSION",
                "SOURCE");
        r = linker_store_foreach_submission(st, s_status_row, &s, err, errlen);
    }
    if (r == 0 && s.current == 0)
        fprintf(out, "  (none)\n");
    if (r == 0) {
        fprintf(out, "\nopen submissions (in progress or abandoned):\n");
        s.pass = 1;
        s.lines = 0;
        r = linker_store_foreach_submission(st, s_status_row, &s, err, errlen);
        if (r == 0 && s.lines == 0)
            fprintf(out, "  (none)\n");
    }
    if (r == 0)
        r = s_status_storage(st, &cfg, &s, out, err, errlen);
    if (r == 0)
        fprintf(out,
                "\ntotals: %zu current submission%s, %llu record%s (%llu of epoch %u); %zu open "
                "(%llu record%s stored); %zu superseded\n",
                s.current, s_s(s.current), (unsigned long long)s.current_records,
                s_s(s.current_records), (unsigned long long)s.current_epoch_records,
                (unsigned)cfg.epoch, s.open, (unsigned long long)s.open_records,
                s_s(s.open_records), s.superseded);
    if (r == 0) {
        /* The last link run: when, over what, with what result. */
        struct linker_run_row run;
        char when[32], hash[2 * XL_HASH_BYTES + 1];
        time_t t;
        struct tm tm;
        int lr = linker_store_run_last(st, &run, NULL, 0);
        if (lr == 0) {
            t = (time_t)run.finished;
            gmtime_r(&t, &tm);
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
            xl_hex(run.cluster_hash, XL_HASH_BYTES, hash);
            fprintf(out,
                    "last link run: %lld at %s, epoch %u: %llu records, %llu clusters, %llu "
                    "links, %llu possible pairs, %llu conflicts (clusters %.16s)\n",
                    (long long)run.run, when, (unsigned)run.epoch, (unsigned long long)run.records,
                    (unsigned long long)run.clusters, (unsigned long long)run.links,
                    (unsigned long long)run.possible, (unsigned long long)run.conflicts, hash);
        } else {
            fprintf(out, "last link run: none yet (crosslink-linker link, or after commits)\n");
        }
    }
    if (r == 0)
        s_status_projects(&cfg, out);
    xl_keyring_destroy(&kr);
    free(spec);
    linker_store_close(&st);
    return r;
}
