#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xl/clock.h"
#include "pipeline.h"
#include "xl/csv.h"
#include "xl/err.h"
#include "xl/mem.h"
#include "xl/xle.h"

int
agent_ctx_load(struct agent_ctx *ctx, const char *conf_path, int need_keys, char *err,
               size_t errlen)
{
    struct tm tm;
    time_t now = time(NULL);
    int r;

    memset(ctx, 0, sizeof *ctx);
    r = agent_config_load(conf_path, &ctx->cfg, err, errlen);
    if (r == 0)
        r = agent_mapping_load(ctx->cfg.mapping_path, &ctx->map, err, errlen);
    if (r == 0)
        r = xl_spec_load(ctx->cfg.spec_path, &ctx->spec, err, errlen);
    if (r != 0)
        return r;
    if (ctx->map.dob_rules.ref.y == 0) {
        gmtime_r(&now, &tm);
        ctx->map.dob_rules.ref = (struct agent_date){tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
    }
    if (!need_keys)
        return 0;
    if (ctx->cfg.secret_path[0] == '\0' || ctx->cfg.local_key_path[0] == '\0' ||
        ctx->cfg.analysis_path[0] == '\0')
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: encoding needs linkage_secret, local_key and analysis_public in "
                          "[agent]",
                          conf_path);
    r = xl_keyfile_load(ctx->cfg.secret_path, XL_KEY_LINKAGE_SECRET, &ctx->secret, err, errlen);
    if (r == 0)
        r = xl_keyfile_load(ctx->cfg.local_key_path, XL_KEY_LOCAL_SECRET, &ctx->local, err, errlen);
    if (r == 0)
        r = xl_keyfile_load_public(ctx->cfg.analysis_path, XL_KEY_ANALYSIS_PUBLIC, &ctx->analysis,
                                   err, errlen);
    if (r == 0 && strcmp(ctx->local->agency, ctx->cfg.agency) != 0)
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH, "%s: local key of agency '%s', not '%s'",
                       ctx->cfg.local_key_path, ctx->local->agency, ctx->cfg.agency);
    return r;
}

void
agent_ctx_free(struct agent_ctx *ctx)
{
    free(ctx->spec);
    xl_keyfile_destroy(&ctx->secret);
    xl_keyfile_destroy(&ctx->local);
    xl_keyfile_destroy(&ctx->analysis);
    memset(ctx, 0, sizeof *ctx);
}

static void
s_progress(const struct agent_stats *st, uint64_t total, double t0, int final)
{
    double dt = xl_monotonic() - t0, rate = dt > 0 ? (double)st->rows / dt : 0;

    if (total > 0)
        fprintf(stderr, "\r  %llu rows  %.0f rows/s  %3.0f%%%s", (unsigned long long)st->rows, rate,
                100.0 * (double)st->bytes / (double)total, final ? "\n" : "");
    else
        fprintf(stderr, "\r  %llu rows  %.0f rows/s%s", (unsigned long long)st->rows, rate,
                final ? "\n" : "");
}

static FILE *
s_open_rejects(const char *path, char *err, size_t errlen)
{
    /* The reject file names the agency's own source ids: it stays in the agency
     * and is readable by its owner only. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f;

    if (fd < 0) {
        xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot create reject file: %s", path,
                   strerror(errno));
        return NULL;
    }
    (void)fchmod(fd, 0600);
    f = fdopen(fd, "w");
    if (f == NULL) {
        close(fd);
        xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    fprintf(f, "row,line,source_id,field,reason,effect,explanation\n");
    return f;
}

static void
s_count(const struct agent_ctx *ctx, const struct agent_row *row, uint64_t rowno, uint64_t line,
        struct agent_stats *st, FILE *rej)
{
    for (size_t i = 0; i < row->nissues; i++) {
        const struct agent_issue *is = &row->issues[i];
        uint64_t n = st->count[is->field][is->reason]++;
        if (n < AGENT_FIRST_ROWS)
            st->first[is->field][is->reason][n] = rowno;
        if (rej != NULL) {
            fprintf(rej, "%llu,%llu,", (unsigned long long)rowno, (unsigned long long)line);
            xl_csv_put(rej, row->person.source_id);
            fprintf(rej, ",%s,%s,%s,", agent_issue_field(&ctx->map, is->field),
                    agent_issue_code(is->reason),
                    is->fatal       ? "row rejected"
                    : row->rejected ? ""
                    : is->salvaged  ? "used for fuzzy matching only"
                                    : "value left out");
            xl_csv_put(rej, agent_issue_text(is->reason));
            fputc('\n', rej);
        }
    }
}

/* Header of the .xle: everything the linker checks before taking records. */
static void
s_header(const struct agent_ctx *ctx, Crosslink__XleHeader *h, Crosslink__Attribute *attrs,
         Crosslink__Attribute **attrp, uint8_t *check)
{
    crosslink__xle_header__init(h);
    h->spec_fingerprint.data = (uint8_t *)ctx->spec->fingerprint;
    h->spec_fingerprint.len = XL_HASH_BYTES;
    h->epoch = ctx->secret->epoch;
    h->agency = (char *)ctx->cfg.agency;
    h->dataset = (char *)ctx->map.dataset;
    h->created = (int64_t)time(NULL);
    (void)xl_secret_check(ctx->secret->secret, ctx->secret->epoch, check);
    h->secret_check.data = check;
    h->secret_check.len = XL_CHECK_BYTES;
    h->one_per_person = ctx->map.one_per_person;
    for (size_t i = 0; i < ctx->map.noutcomes; i++) {
        crosslink__attribute__init(&attrs[i]);
        attrs[i].name = (char *)ctx->map.outcomes[i].name;
        attrs[i].type = (char *)agent_outcome_type_name(ctx->map.outcomes[i].type);
        attrp[i] = &attrs[i];
    }
    h->n_attributes = ctx->map.noutcomes;
    h->attributes = attrp;
}

int
agent_input_id(const struct agent_ctx *ctx, const char *csv_path, uint8_t out[32], char *err,
               size_t errlen)
{
    static const char label[] = "crosslink input id v1";
    uint8_t csv[XL_HASH_BYTES], map[XL_HASH_BYTES], check[XL_CHECK_BYTES], epoch[4];
    const uint32_t e = ctx->secret->epoch;
    int r = xl_sha256_file(csv_path, csv, err, errlen);

    if (r == 0)
        r = xl_sha256_file(ctx->map.path, map, err, errlen);
    if (r == 0 && xl_secret_check(ctx->secret->secret, e, check) != 0)
        r = xl_err_set(err, errlen, XL_ERR_CRYPTO, "cannot compute the secret's check value");
    if (r != 0)
        return r;
    epoch[0] = (uint8_t)(e >> 24);
    epoch[1] = (uint8_t)(e >> 16);
    epoch[2] = (uint8_t)(e >> 8);
    epoch[3] = (uint8_t)e;
    {
        const struct xl_iov parts[] = {
            {label, sizeof label},
            {csv, sizeof csv},
            {map, sizeof map},
            {ctx->spec->fingerprint, XL_HASH_BYTES},
            {epoch, sizeof epoch},
            {check, sizeof check},
            {ctx->analysis->pub, ctx->analysis->publen},
            {ctx->cfg.agency, strlen(ctx->cfg.agency) + 1},
            {ctx->map.dataset, strlen(ctx->map.dataset) + 1},
        };
        r = xl_hmac_sha256(ctx->local->secret, ctx->local->secretlen, parts,
                           sizeof parts / sizeof parts[0], out);
    }
    return r != 0 ? xl_err_set(err, errlen, XL_ERR_CRYPTO, "cannot compute the input's id") : 0;
}

struct xl_csv *
agent_csv_open(const struct agent_mapping *m, const char *path, char *err, size_t errlen)
{
    struct xl_csv *csv = xl_csv_open(path, err, errlen);

    if (csv == NULL)
        return NULL;
    if ((m->delimiter != '\0' && xl_csv_set_delimiter(csv, m->delimiter) != 0) ||
        (m->encoding[0] != '\0' && xl_csv_set_encoding(csv, m->encoding) != 0)) {
        xl_err_set(err, errlen, XL_ERR_INVALID, "%s: cannot read it as %s (mapping %s)", path,
                   m->encoding[0] != '\0' ? m->encoding : "UTF-8", m->path);
        xl_csv_destroy(&csv);
    }
    return csv;
}

int
agent_csv_blank(const struct xl_csv *csv, size_t nfields)
{
    for (size_t i = 0; i < nfields; i++) {
        size_t len;
        if (xl_csv_field(csv, i, &len) != NULL && len > 0)
            return 0;
    }
    return 1;
}

int
agent_process(const struct agent_ctx *ctx, const struct agent_run *run, struct agent_stats *st,
              char *err, size_t errlen)
{
    struct xl_csv *csv = NULL;
    struct agent_layout layout;
    struct agent_row *row = NULL;
    struct agent_encoded *enc = NULL;
    struct agent_encoder *encoder = NULL;
    struct xl_xle_writer *w = NULL;
    Crosslink__XleHeader hdr;
    Crosslink__Attribute attrs[AGENT_MAX_OUTCOMES], *attrp[AGENT_MAX_OUTCOMES];
    uint8_t check[XL_CHECK_BYTES], paykey[XL_PAYLOAD_KEY], *packed = NULL;
    FILE *rej = NULL;
    struct stat sb;
    uint64_t total = 0;
    size_t nfields = 0;
    double t0 = xl_monotonic(), last = t0;
    int r;

    memset(st, 0, sizeof *st);
    csv = agent_csv_open(&ctx->map, run->csv_path, err, errlen);
    if (csv == NULL)
        return XL_ERR_IO;
    if (stat(run->csv_path, &sb) == 0 && S_ISREG(sb.st_mode))
        total = (uint64_t)sb.st_size;
    r = xl_csv_next(csv, &nfields, err, errlen);
    if (r == 0)
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: empty file (no header row)", run->csv_path);
    if (r < 0)
        goto out;
    r = agent_layout_from_header(&ctx->map, csv, nfields, &layout, err, errlen);
    if (r != 0) {
        char msg[XL_ERRBUF];
        snprintf(msg, sizeof msg, "%s", err);
        r = xl_err_set(err, errlen, r, "%s: %s", run->csv_path, msg);
        goto out;
    }
    row = malloc(sizeof *row);
    if (row == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (run->reject_path != NULL) {
        rej = s_open_rejects(run->reject_path, err, errlen);
        if (rej == NULL) {
            r = XL_ERR_IO;
            goto out;
        }
    }
    if (run->xle_path != NULL) {
        enc = malloc(sizeof *enc);
        packed = malloc(AGENT_MAX_PAYLOAD + 4096);
        encoder = agent_encoder_new(ctx->spec, ctx->secret, ctx->local, ctx->analysis->pub,
                                    ctx->cfg.agency, ctx->map.dataset, err, errlen);
        if (enc == NULL || packed == NULL || encoder == NULL) {
            r = encoder == NULL ? XL_ERR_CRYPTO
                                : xl_err_set(err, errlen, XL_ERR_NOMEM, "no memory");
            goto out;
        }
        s_header(ctx, &hdr, attrs, attrp, check);
        /* (the writer keeps a shallow copy of hdr: paykey lives as long) */
        agent_encoder_payload_key(encoder, paykey);
        hdr.payload_key.data = paykey;
        hdr.payload_key.len = sizeof paykey;
        w = xl_xle_writer_open(run->xle_path, &hdr, err, errlen);
        if (w == NULL) {
            r = XL_ERR_IO;
            goto out;
        }
    }

    while ((r = xl_csv_next(csv, &nfields, err, errlen)) == 1) {
        if (nfields > 1 && agent_csv_blank(csv, nfields)) {
            st->blank++;
            continue;
        }
        st->rows++;
        agent_validate_row(&ctx->map, &layout, csv, nfields, row);
        if (row->nissues > 0)
            s_count(ctx, row, xl_csv_record_no(csv), xl_csv_line_no(csv), st, rej);
        if (row->rejected) {
            st->rejected++;
        } else {
            st->accepted++;
            if (row->nissues > 0)
                st->warned++;
            if (w != NULL) {
                size_t len;
                r = agent_encode(encoder, &row->person, row->outcomes, layout.noutcomes, enc);
                if (r != 0) {
                    r = xl_err_set(err, errlen, r, "%s: row %llu: outcome values too large",
                                   run->csv_path, (unsigned long long)xl_csv_record_no(csv));
                    goto out;
                }
                len = crosslink__record__pack(&enc->rec, packed);
                r = xl_xle_write_record(w, packed, len, err, errlen);
                if (r != 0)
                    goto out;
            }
        }
        if (run->progress && (st->rows & 0x3fff) == 0) {
            double now = xl_monotonic();
            st->bytes = xl_csv_bytes_read(csv);
            if (now - last > 0.25) {
                s_progress(st, total, t0, 0);
                last = now;
            }
        }
    }
    if (r < 0)
        goto out; /* a malformed CSV stops the run: later rows cannot be trusted */
    st->bytes = xl_csv_bytes_read(csv);
    st->seconds = xl_monotonic() - t0;
    if (run->progress)
        s_progress(st, total, t0, 1);
    if (st->rows == 0) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: no data rows after the header",
                       run->csv_path);
        goto out;
    }
    if ((double)st->rejected > ctx->cfg.max_reject_rate * (double)st->rows) {
        r = xl_err_set(err, errlen, XL_ERR_INVALID,
                       "%s: %.2f%% of rows rejected, over the limit of %.2f%% (max_reject_rate in "
                       "%s)%s",
                       run->csv_path, 100.0 * (double)st->rejected / (double)st->rows,
                       100.0 * ctx->cfg.max_reject_rate, ctx->cfg.path,
                       w != NULL ? "; no encoded file written" : "");
        goto out;
    }
    if (w != NULL) {
        r = xl_xle_writer_finish(&w, st->content_hash, err, errlen);
        if (r != 0)
            goto out;
    }
    r = 0;
out:
    if (rej != NULL && fclose(rej) != 0 && r == 0)
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: write failed", run->reject_path);
    xl_xle_writer_abort(&w);
    agent_encoder_destroy(&encoder);
    if (row != NULL) {
        agent_row_wipe(row);
        free(row);
    }
    if (enc != NULL)
        xl_freezero(enc, sizeof *enc);
    free(packed);
    xl_csv_destroy(&csv);
    if (st->seconds == 0)
        st->seconds = xl_monotonic() - t0;
    return r;
}

static void
s_thousands(uint64_t n, char *out, size_t len)
{
    char tmp[32];
    int digits = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)n), j = 0;

    for (int i = 0; i < digits && (size_t)j + 2 < len; i++) {
        if (i > 0 && (digits - i) % 3 == 0)
            out[j++] = ',';
        out[j++] = tmp[i];
    }
    out[j] = '\0';
}

void
agent_report(const struct agent_ctx *ctx, const struct agent_run *run, const struct agent_stats *st,
             FILE *out)
{
    char a[32], b[32];
    int any = 0;

    fprintf(out, "extract   %s\ndataset   %s (agency %s, mapping %s)\n", run->csv_path,
            ctx->map.dataset, ctx->cfg.agency, ctx->map.path);
    s_thousands(st->rows, a, sizeof a);
    fprintf(out, "rows      %s read in %.1f s\n", a, st->seconds);
    if (st->blank > 0) {
        s_thousands(st->blank, a, sizeof a);
        fprintf(out, "skipped   %s row%s of only delimiters (not counted as rows)\n", a,
                st->blank == 1 ? "" : "s");
    }
    s_thousands(st->accepted, a, sizeof a);
    s_thousands(st->warned, b, sizeof b);
    fprintf(out, "accepted  %s (%s with a value left out)\n", a, b);
    s_thousands(st->rejected, a, sizeof a);
    fprintf(out, "rejected  %s (%.2f%%; limit %.2f%%)\n", a,
            st->rows ? 100.0 * (double)st->rejected / (double)st->rows : 0.0,
            100.0 * ctx->cfg.max_reject_rate);
    for (int f = 0; f < AGENT_MAX_ISSUES; f++) {
        for (int rs = 0; rs < AGENT_RR_COUNT; rs++) {
            uint64_t n = st->count[f][rs];
            if (n == 0)
                continue;
            if (!any) {
                fprintf(out, "\nproblems (field, reason, rows, first rows):\n");
                any = 1;
            }
            s_thousands(n, a, sizeof a);
            fprintf(out, "  %-14s %-20s %8s   rows", agent_issue_field(&ctx->map, f),
                    agent_issue_code(rs), a);
            for (uint64_t i = 0; i < n && i < AGENT_FIRST_ROWS; i++)
                fprintf(out, " %llu", (unsigned long long)st->first[f][rs][i]);
            fprintf(out, "%s\n", n > AGENT_FIRST_ROWS ? " ..." : "");
        }
    }
    if (any) {
        fprintf(out, "\nreasons:\n");
        for (int rs = 0; rs < AGENT_RR_COUNT; rs++) {
            for (int f = 0; f < AGENT_MAX_ISSUES; f++) {
                if (st->count[f][rs] != 0) {
                    fprintf(out, "  %-20s %s\n", agent_issue_code(rs), agent_issue_text(rs));
                    break;
                }
            }
        }
    }
    if (run->reject_path != NULL && any)
        fprintf(out,
                "\nrow-by-row list to fix from: %s (row = data row, line = line in the file)\n",
                run->reject_path);
}
