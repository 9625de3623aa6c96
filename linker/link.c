#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "xl/clock.h"
#include "audit.h"
#include "entities.h"
#include "evidence.h"
#include "link.h"
#include "load.h"
#include "match.h"
#include "model.h"
#include "store.h"
#include "xl/err.h"
#include "xl/order.h"

/* Progress of a long run on stderr (linker_link_progress). */
static int s_progress_mode; /* 0 none, 1 a line kept up to date (a terminal), 2 lines */

void
linker_link_progress(int mode)
{
    s_progress_mode = mode;
}

/* "loading records: 120000 of 600000 (20%), 4 s" at most every half second
 * on a terminal, every 10 s otherwise; done ends the line. */
static void
s_progress(const char *phase, uint64_t n, uint64_t total, double t0, int done)
{
    static double last;
    double now = xl_monotonic();

    if (s_progress_mode == 0 || (!done && now - last < (s_progress_mode == 1 ? 0.5 : 10)))
        return;
    last = now;
    if (total > 0)
        fprintf(stderr, "%s%s: %llu of %llu (%.0f%%), %.0f s%s", s_progress_mode == 1 ? "\r" : "",
                phase, (unsigned long long)n, (unsigned long long)total,
                100.0 * (double)n / (double)total, now - t0,
                s_progress_mode == 1 && !done ? "   " : "\n");
    else
        fprintf(stderr, "%s%s, %.0f s\n", s_progress_mode == 1 ? "\r" : "", phase, now - t0);
    fflush(stderr);
}

const char *
linker_key_level_name(const struct xl_spec *spec, unsigned level)
{
    const struct xl_spec_level *l =
        level > 0 && level < 256 ? xl_spec_level(spec, (uint8_t)level) : NULL;

    return level == 0 ? "fuzzy" : l != NULL ? l->name : "?";
}
#define s_level_name linker_key_level_name

/* Conflicts in the order that puts each pair's together, its strongest
 * evidence first: a match-key level (lower is stronger) before the fuzzy
 * score alone (level 0), then the higher score. */
static int
s_conflict_cmp(const void *x, const void *y)
{
    const struct linker_conflict *a = x, *b = y;
    unsigned la = a->level ? a->level : 256, lb = b->level ? b->level : 256;

    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    if (a->b != b->b)
        return a->b < b->b ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (la != lb)
        return la < lb ? -1 : 1;
    return (a->score < b->score) - (a->score > b->score);
}

void
linker_conflicts_unique(struct linker_result *res)
{
    /* The matcher counts the conflicts past those it keeps: they stay counted. */
    size_t kept = res->nconflicts < LINKER_CONFLICTS_KEPT ? res->nconflicts : LINKER_CONFLICTS_KEPT;
    size_t n = 0;

    for (size_t i = 0; i < kept; i++) {
        struct linker_conflict *c = &res->conflicts[i];
        if (c->a > c->b) {
            uint32_t t = c->a;
            c->a = c->b;
            c->b = t;
        }
    }
    if (kept > 1)
        qsort(res->conflicts, kept, sizeof *res->conflicts, s_conflict_cmp);
    for (size_t i = 0; i < kept; i++) {
        const struct linker_conflict *c = &res->conflicts[i];
        if (n > 0 && res->conflicts[n - 1].a == c->a && res->conflicts[n - 1].b == c->b &&
            res->conflicts[n - 1].kind == c->kind)
            continue;
        res->conflicts[n++] = *c;
    }
    res->nconflicts = n + (res->nconflicts - kept);
}

/* The operator's report: evidence per agency pair, match rates, scores. */
static void
s_report(FILE *out, const struct linker_input *in, const struct linker_result *res,
         const struct linker_link_summary *sum)
{
    const struct xl_spec *spec = in->spec;
    size_t nd = in->ndatasets;
    uint64_t *pair = calloc(nd * nd * 256, sizeof *pair);
    uint64_t *dsmask = calloc(in->nrec ? in->nrec : 1, sizeof *dsmask);
    uint64_t *rate = calloc(nd * nd, sizeof *rate), *count = calloc(nd, sizeof *count);
    uint64_t dup[LINKER_MAX_DATASETS] = {0};

    if (pair == NULL || dsmask == NULL || rate == NULL || count == NULL)
        goto out;
    fprintf(out,
            "link run %lld: %llu records, %llu clusters, %llu links, %llu possible pairs, "
            "%llu conflicts, %.1f s\n",
            (long long)sum->run, (unsigned long long)sum->records,
            (unsigned long long)sum->clusters, (unsigned long long)sum->links,
            (unsigned long long)sum->possible, (unsigned long long)sum->conflicts, sum->seconds);
    fprintf(out,
            "thresholds: accept %.4g, possible %.4g (match probability, [thresholds] of the "
            "spec)\n\n",
            spec->accept, spec->possible);

    /* Links by agency pair and evidence. */
    for (size_t i = 0; i < res->nlinks; i++) {
        const struct linker_link *k = &res->links[i];
        size_t a = in->rec_dataset[k->a], b = in->rec_dataset[k->b];
        if (a > b) {
            size_t t = a;
            a = b;
            b = t;
        }
        pair[(a * nd + b) * 256 + k->level]++;
    }
    fprintf(out, "links by datasets and evidence (level name: links):\n");
    for (size_t a = 0; a < nd; a++) {
        for (size_t b = a; b < nd; b++) {
            uint64_t t = 0;
            for (int lv = 0; lv < 256; lv++)
                t += pair[(a * nd + b) * 256 + lv];
            if (t == 0)
                continue;
            fprintf(out, "  %s/%s - %s/%s: %llu:", in->datasets[a].agency, in->datasets[a].dataset,
                    in->datasets[b].agency, in->datasets[b].dataset, (unsigned long long)t);
            for (int lv = 1; lv < 256; lv++) {
                if (pair[(a * nd + b) * 256 + lv])
                    fprintf(out, " %s %llu", s_level_name(spec, (uint8_t)lv),
                            (unsigned long long)pair[(a * nd + b) * 256 + lv]);
            }
            if (pair[(a * nd + b) * 256])
                fprintf(out, " probabilistic %llu", (unsigned long long)pair[(a * nd + b) * 256]);
            fputc('\n', out);
        }
    }

    /* Match rates: the share of each dataset's records whose cluster holds a
     * record of the other dataset. */
    for (size_t i = 0; i < in->nrec; i++)
        dsmask[res->cluster[i]] |= 1ull << in->rec_dataset[i];
    for (size_t i = 0; i < in->nrec; i++) {
        uint64_t m = dsmask[res->cluster[i]];
        size_t a = in->rec_dataset[i];
        count[a]++;
        for (size_t b = 0; b < nd; b++)
            rate[a * nd + b] += (m >> b) & 1;
    }
    {
        /* Records whose cluster holds another record of their own dataset:
         * sort (cluster, dataset) pairs and count the runs longer than one. */
        uint64_t *cd = malloc((in->nrec ? in->nrec : 1) * sizeof *cd);
        if (cd != NULL) {
            for (size_t i = 0; i < in->nrec; i++)
                cd[i] = (uint64_t)res->cluster[i] << 8 | in->rec_dataset[i];
            qsort(cd, in->nrec, sizeof *cd, xl_u64_cmp);
            for (size_t i = 0; i < in->nrec;) {
                size_t j = i;
                while (j < in->nrec && cd[j] == cd[i])
                    j++;
                if (j - i > 1)
                    dup[cd[i] & 0xff] += j - i;
                i = j;
            }
            free(cd);
        }
    }
    fprintf(out,
            "\nmatch rates (row: share of its records linked to a record of the column):\n  "
            "%-28s",
            "");
    for (size_t b = 0; b < nd; b++)
        fprintf(out, " %10.10s", in->datasets[b].agency);
    fputc('\n', out);
    for (size_t a = 0; a < nd; a++) {
        char name[130];
        snprintf(name, sizeof name, "%s/%s", in->datasets[a].agency, in->datasets[a].dataset);
        fprintf(out, "  %-28.28s", name);
        for (size_t b = 0; b < nd; b++) {
            /* Within one dataset: records sharing a cluster with another of it. */
            uint64_t hits = a == b ? dup[a] : rate[a * nd + b];
            fprintf(out, " %9.1f%%", count[a] ? 100.0 * (double)hits / (double)count[a] : 0.0);
        }
        fputc('\n', out);
    }

    linker_model_report(out, res);
    {
        uint64_t strong = 0, opp = 0;
        for (size_t i = 0; i < res->nconflicts && i < LINKER_CONFLICTS_KEPT; i++) {
            if (res->conflicts[i].kind == LINKER_CONFLICT_STRONG_ID)
                strong++;
            else
                opp++;
        }
        fprintf(out,
                "\nconflicts: %llu kept apart by different NHS numbers or UPNs, %llu by a "
                "one-record-per-person dataset (crosslink-linker conflicts lists them by "
                "local_ref for the agencies)\n",
                (unsigned long long)strong, (unsigned long long)opp);
    }
out:
    free(pair);
    free(dsmask);
    free(rate);
    free(count);
}

/* ---- entity ids carried from the run before (entities.h) ------------------- */

struct s_prev {
    uint8_t ds;
    uint8_t ref[XL_REF_BYTES];
    uint64_t entity[LINKER_GRAPHS];
};

struct s_prevs {
    const struct linker_input *in;
    struct s_prev *p;
    size_t n, cap;
};

static int
s_prev_cmp(const void *a, const void *b)
{
    const struct s_prev *x = a, *y = b;

    if (x->ds != y->ds)
        return x->ds < y->ds ? -1 : 1;
    return memcmp(x->ref, y->ref, XL_REF_BYTES);
}

static int
s_prev_cb(void *ctx, const char *agency, const char *dataset, const uint8_t *ref,
          const uint64_t entity[LINKER_GRAPHS])
{
    struct s_prevs *pv = ctx;
    size_t ds;

    for (ds = 0; ds < pv->in->ndatasets; ds++) {
        if (strcmp(pv->in->datasets[ds].agency, agency) == 0 &&
            strcmp(pv->in->datasets[ds].dataset, dataset) == 0)
            break;
    }
    if (ds == pv->in->ndatasets)
        return 0; /* a dataset no longer linked */
    if (pv->n == pv->cap) {
        size_t cap = pv->cap ? 2 * pv->cap : 4096;
        void *p = realloc(pv->p, cap * sizeof *pv->p);
        if (p == NULL)
            return XL_ERR_NOMEM;
        pv->p = p;
        pv->cap = cap;
    }
    pv->p[pv->n].ds = (uint8_t)ds;
    memcpy(pv->p[pv->n].ref, ref, XL_REF_BYTES);
    memcpy(pv->p[pv->n].entity, entity, sizeof pv->p[pv->n].entity);
    pv->n++;
    return 0;
}

static uint32_t
s_find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

/* Each record's entity id in the three groupings: the components of the run's
 * links of identifier evidence, of exact evidence, and all its links (the
 * clusters), each numbered by overlap with the run before. */
static int
s_entities(struct linker_ctx *ctx, const struct linker_loaded *l, const struct linker_result *res,
           struct linker_run_record *recs, uint64_t *next_entity, char *err, size_t errlen)
{
    size_t n = l->in->nrec;
    struct s_prevs pv = {.in = l->in};
    int32_t *at = malloc((n ? n : 1) * sizeof *at);
    uint32_t *comp = malloc((n ? n : 1) * sizeof *comp);
    uint64_t *prev = malloc((n ? n : 1) * sizeof *prev), *out = malloc((n ? n : 1) * sizeof *out);
    int r;

    r = at && comp && prev && out ? 0 : XL_ERR_NOMEM;
    if (r == 0)
        r = linker_store_next_entity(ctx->store, next_entity, err, errlen);
    if (r == 0)
        r = linker_store_run_entities(ctx->store, s_prev_cb, &pv, err, errlen);
    if (r == 0) {
        if (pv.n > 0)
            qsort(pv.p, pv.n, sizeof *pv.p, s_prev_cmp);
        for (size_t i = 0; i < n; i++) {
            struct s_prev key = {.ds = l->in->rec_dataset[i]};
            const struct s_prev *hit;
            memcpy(key.ref, l->refs[i], XL_REF_BYTES);
            hit = pv.n ? bsearch(&key, pv.p, pv.n, sizeof *pv.p, s_prev_cmp) : NULL;
            at[i] = hit != NULL ? (int32_t)(hit - pv.p) : -1;
        }
    }
    for (int g = 0; r == 0 && g < LINKER_GRAPHS; g++) {
        if (g == LINKER_GRAPH_ALL) {
            memcpy(comp, res->cluster, n * sizeof *comp);
        } else {
            for (size_t i = 0; i < n; i++)
                comp[i] = (uint32_t)i;
            for (size_t i = 0; i < res->nlinks; i++) {
                enum linker_band b = linker_level_band(ctx->spec, res->links[i].level);
                if ((g == LINKER_GRAPH_IDENTIFIER && b == LINKER_BAND_IDENTIFIER) ||
                    (g == LINKER_GRAPH_KEYS && b <= LINKER_BAND_KEYS)) {
                    uint32_t a = s_find(comp, res->links[i].a), c = s_find(comp, res->links[i].b);
                    comp[a > c ? a : c] = a < c ? a : c;
                }
            }
            for (size_t i = 0; i < n; i++)
                comp[i] = s_find(comp, (uint32_t)i);
        }
        for (size_t i = 0; i < n; i++)
            prev[i] = at[i] >= 0 ? pv.p[at[i]].entity[g] : 0;
        r = linker_entities_assign(comp, prev, n, next_entity, out);
        for (size_t i = 0; r == 0 && i < n; i++)
            recs[i].entity[g] = out[i];
    }
    if (r == XL_ERR_NOMEM)
        xl_err_set(err, errlen, r, "link run: out of memory");
    free(pv.p);
    free(at);
    free(comp);
    free(prev);
    free(out);
    return r;
}

int
linker_link(struct linker_ctx *ctx, const char *actor, const char *role, FILE *report,
            struct linker_link_summary *sum, char *err, size_t errlen)
{
    struct linker_loaded l = {0};
    struct linker_result res;
    struct linker_run_record *recs = NULL;
    struct linker_run_conflict *conf = NULL;
    struct linker_run_row row;
    size_t nconf;
    double t0, t1;
    cJSON *d = NULL;
    char *params = NULL, hex[2 * XL_HASH_BYTES + 1];
    int r, have_res = 0;

    memset(sum, 0, sizeof *sum);
    memset(&row, 0, sizeof row);
    t0 = xl_monotonic();
    row.started = (int64_t)time(NULL);
    /* Read before the records: a commit landing meanwhile leaves a run owed. */
    r = linker_store_commits(ctx->store, &row.commits, err, errlen);
    if (r != 0)
        return r;
    s_progress("loading records", 0, 0, t0, 1);
    r = linker_load(ctx->store, ctx->cfg.epoch, ctx->spec, ctx->cfg.link_threads, &l, err, errlen);
    if (r != 0)
        goto out;
    s_progress("loading records", l.in->nrec, l.in->nrec, t0, 1);
    s_progress("matching and clustering (no progress is shown inside this step)", 0, 0, t0, 1);
    r = linker_match_run(l.in, &res, err, errlen);
    if (r != 0)
        goto out;
    have_res = 1;
    s_progress("storing the results", 0, 0, t0, 1);
    linker_conflicts_unique(&res);

    /* Each record's cluster and best evidence (a match-key level beats the
     * model's evidence alone; a lower level number is stronger; between links
     * of the model alone, the match probability). */
    recs = calloc(l.in->nrec ? l.in->nrec : 1, sizeof *recs);
    nconf = res.nconflicts < LINKER_CONFLICTS_KEPT ? res.nconflicts : LINKER_CONFLICTS_KEPT;
    conf = calloc(nconf ? nconf : 1, sizeof *conf);
    if (recs == NULL || conf == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "link run: out of memory");
        goto out;
    }
    for (size_t i = 0; i < l.in->nrec; i++) {
        recs[i].submission = l.subs[l.rec_sub[i]];
        recs[i].index = l.rec_index[i];
        recs[i].cluster = res.cluster[i];
        recs[i].ref = l.refs[i];
    }
    for (size_t i = 0; i < res.nlinks; i++) {
        const struct linker_link *k = &res.links[i];
        uint32_t ends[2] = {k->a, k->b};
        for (int e = 0; e < 2; e++) {
            struct linker_run_record *x = &recs[ends[e]];
            int better = !x->linked || (k->level != 0 && (x->level == 0 || k->level < x->level)) ||
                         (k->level == 0 && x->level == 0 && k->score > x->score);
            if (better) {
                x->linked = 1;
                x->level = k->level;
                x->score = k->score;
            }
        }
    }
    for (size_t i = 0; i < nconf; i++) {
        const struct linker_conflict *c = &res.conflicts[i];
        conf[i] = (struct linker_run_conflict){
            l.subs[l.rec_sub[c->a]],
            l.subs[l.rec_sub[c->b]],
            l.rec_index[c->a],
            l.rec_index[c->b],
            l.refs[c->a],
            l.refs[c->b],
            c->kind == LINKER_CONFLICT_STRONG_ID ? "strong_id" : "one_per_person",
            c->level,
            c->score};
    }
    {
        /* The clusters' fingerprint: equal runs over equal data give equal hashes. */
        struct xl_iov part;
        uint8_t *buf = malloc(4 * (l.in->nrec ? l.in->nrec : 1));
        if (buf == NULL) {
            r = xl_err_set(err, errlen, XL_ERR_NOMEM, "link run: out of memory");
            goto out;
        }
        for (size_t i = 0; i < l.in->nrec; i++) {
            buf[4 * i] = (uint8_t)(res.cluster[i] >> 24);
            buf[4 * i + 1] = (uint8_t)(res.cluster[i] >> 16);
            buf[4 * i + 2] = (uint8_t)(res.cluster[i] >> 8);
            buf[4 * i + 3] = (uint8_t)res.cluster[i];
        }
        part.p = buf;
        part.n = 4 * l.in->nrec;
        xl_sha256(part.p, part.n, row.cluster_hash);
        free(buf);
    }
    r = s_entities(ctx, &l, &res, recs, &row.next_entity, err, errlen);
    if (r != 0)
        goto out;
    row.epoch = ctx->cfg.epoch;
    memcpy(row.spec, ctx->spec->fingerprint, XL_HASH_BYTES);
    row.records = l.in->nrec;
    row.links = res.nlinks;
    row.clusters = res.nclusters;
    row.possible = res.npossible;
    row.conflicts = res.nconflicts;
    t1 = xl_monotonic();
    row.finished = (int64_t)time(NULL);

    d = cJSON_CreateObject();
    if (d == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "link run: out of memory");
        goto out;
    }
    cJSON_AddNumberToObject(d, "epoch", ctx->cfg.epoch);
    xl_hex(ctx->spec->fingerprint, XL_HASH_BYTES, hex);
    cJSON_AddStringToObject(d, "spec", hex);
    cJSON_AddNumberToObject(d, "accept_threshold", ctx->spec->accept);
    cJSON_AddNumberToObject(d, "possible_threshold", ctx->spec->possible);
    if (res.model != NULL) {
        cJSON_AddNumberToObject(d, "prior", res.model->lambda);
        cJSON_AddNumberToObject(d, "em_iterations", res.model->em_iterations);
    }
    params = cJSON_PrintUnformatted(d);
    if (params == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "link run: out of memory");
        goto out;
    }
    r = linker_store_run_save(ctx->store, &row, params, recs, l.in->nrec, conf, nconf, &sum->run,
                              err, errlen);
    if (r != 0)
        goto out;
    sum->records = row.records;
    sum->links = row.links;
    sum->clusters = row.clusters;
    sum->conflicts = row.conflicts;
    sum->possible = row.possible;
    memcpy(sum->cluster_hash, row.cluster_hash, XL_HASH_BYTES);
    sum->seconds = t1 - t0;

    /* The audit entry: parameters and counts, never record content. */
    cJSON_AddNumberToObject(d, "run", (double)sum->run);
    cJSON_AddNumberToObject(d, "records", (double)row.records);
    cJSON_AddNumberToObject(d, "datasets", (double)l.in->ndatasets);
    cJSON_AddNumberToObject(d, "links", (double)row.links);
    cJSON_AddNumberToObject(d, "links_probabilistic", (double)res.links_by_level[0]);
    cJSON_AddNumberToObject(d, "joins_refused", (double)res.joins_refused);
    cJSON_AddNumberToObject(d, "clusters", (double)row.clusters);
    cJSON_AddNumberToObject(d, "possible_pairs", (double)row.possible);
    cJSON_AddNumberToObject(d, "conflicts", (double)row.conflicts);
    cJSON_AddNumberToObject(d, "comparisons", (double)res.comparisons);
    xl_hex(row.cluster_hash, XL_HASH_BYTES, hex);
    cJSON_AddStringToObject(d, "cluster_hash", hex);
    r = linker_audit_append(ctx->audit, 0, actor, role, "link.run", d, NULL, err, errlen);
    d = NULL; /* owned by the audit call */
    if (r != 0)
        goto out;
    if (report != NULL)
        s_report(report, l.in, &res, sum);
out:
    if (d != NULL)
        cJSON_Delete(d);
    cJSON_free(params);
    free(recs);
    free(conf);
    if (have_res)
        linker_result_free(&res);
    linker_loaded_free(&l);
    return r;
}
