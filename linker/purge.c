#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "audit.h"
#include "purge.h"
#include "store.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/log.h"

#define S_MAX_DUE 4096 /* purged per call; the rest at the next */

struct s_walk {
    struct linker_submission *due;
    size_t n;
};

static int
s_collect(void *arg, const struct linker_submission *sub)
{
    struct s_walk *w = arg;

    if (w->n == S_MAX_DUE)
        return 1;
    w->due[w->n++] = *sub;
    return 0;
}

static cJSON *
s_details(const struct linker_submission *sub, double retention, int64_t now)
{
    cJSON *d = cJSON_CreateObject();
    char hex[2 * LINKER_SUBID_BYTES + 1];

    if (d == NULL)
        return NULL;
    xl_hex(sub->id, LINKER_SUBID_BYTES, hex);
    cJSON_AddStringToObject(d, "submission", hex);
    cJSON_AddStringToObject(d, "agency", sub->agency);
    cJSON_AddStringToObject(d, "dataset", sub->dataset);
    cJSON_AddStringToObject(d, "state", sub->state == LINKER_OPEN ? "abandoned" : "superseded");
    cJSON_AddStringToObject(d, "reason",
                            sub->state == LINKER_OPEN
                                ? "abandoned (open, nothing stored) past the retention"
                                : "superseded past the retention");
    cJSON_AddNumberToObject(
        d, "records",
        (double)(sub->state == LINKER_OPEN ? sub->records_stored : sub->record_count));
    cJSON_AddNumberToObject(d, "epoch", sub->epoch);
    cJSON_AddNumberToObject(d, "retention_seconds", retention);
    cJSON_AddNumberToObject(
        d, "age_seconds",
        (double)(now - (sub->superseded_at > 0 ? sub->superseded_at : sub->created)));
    return d;
}

int
linker_purge(struct linker_ctx *ctx, int64_t now, const char *actor, const char *role, int dry_run,
             FILE *out, struct linker_purge_summary *sum, char *err, size_t errlen)
{
    struct s_walk w = {0};
    char hex[2 * LINKER_SUBID_BYTES + 1];
    int r;

    memset(sum, 0, sizeof *sum);
    if (ctx->cfg.retention <= 0)
        return 0;
    w.due = calloc(S_MAX_DUE, sizeof *w.due);
    if (w.due == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "purge: out of memory");
    r = linker_store_purge_due(ctx->store, now - (int64_t)ctx->cfg.retention, s_collect, &w, err,
                               errlen);
    if (r > 0)
        r = 0; /* more than S_MAX_DUE: the rest next time */
    for (size_t i = 0; r == 0 && i < w.n; i++) {
        const struct linker_submission *sub = &w.due[i];
        uint64_t records = sub->state == LINKER_OPEN ? sub->records_stored : sub->record_count;
        xl_hex(sub->id, LINKER_SUBID_BYTES, hex);
        if (out != NULL)
            fprintf(out, "%s %s/%s submission %.16s, %llu record%s (%s)\n",
                    dry_run ? "would purge" : "purged", sub->agency, sub->dataset, hex,
                    (unsigned long long)records, records == 1 ? "" : "s",
                    sub->state == LINKER_OPEN ? "abandoned" : "superseded");
        if (dry_run) {
            sum->submissions++;
            sum->records += records;
            continue;
        }
        /* Audited first: a purge the log cannot record does not happen. */
        r = linker_audit_append(ctx->audit, (time_t)now, actor, role, "submission.purged",
                                s_details(sub, ctx->cfg.retention, now), NULL, err, errlen);
        if (r == 0)
            r = linker_store_purge(ctx->store, sub, now, err, errlen);
        if (r == 0) {
            sum->submissions++;
            sum->records += records;
            xl_info("purged %s/%s submission %.16s (%s, %llu records)", sub->agency, sub->dataset,
                    hex, sub->state == LINKER_OPEN ? "abandoned" : "superseded",
                    (unsigned long long)records);
        }
    }
    free(w.due);
    if (r == 0 && sum->submissions > 0 && !dry_run)
        r = linker_store_reclaim(ctx->store, &sum->vacuumed, err, errlen);
    return r;
}
