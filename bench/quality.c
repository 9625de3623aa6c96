/* Linkage quality against known truth, with the real agent and linker code:
 * each extract is validated and encoded by the agent pipeline into an .xle
 * file, the files are read back as the linker imports them, linked by the
 * matching engine, and the clusters compared with the truth.
 *
 *   quality SPEC OUTDIR NAME SCOPE  MAP CSV TRUTH [MAP CSV TRUTH ...]
 *
 * SCOPE: "cross" counts only pairs of records from different files (two-file
 * sets), "all" every pair. TRUTH says how a row's true identity is found:
 *   febrl       rec_id "rec-N-org" / "rec-N-dup-k" -> N
 *   div10       numeric rec_id, identity rec_id / 10 (febrl-dsgen)
 *   same        identity = source id (clkhash: equal rec_id across files)
 *   col:NAME    identity = the value of column NAME (splink "cluster")
 *   truth:AGENCY:PATH  the generator's truth file (agency,local_id,person_id),
 *               rows of AGENCY
 * Prints pairwise precision, recall and F1, and the share of true clusters
 * reproduced exactly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../agent/pipeline.h"
#include "../linker/dice.h"
#include "../linker/match.h"
#include "xl/crypto.h"
#include "xl/csv.h"
#include "xl/err.h"
#include "xl/mem.h"
#include "xl/xle.h"

struct q_truth {
    uint8_t ref[AGENT_REF_BYTES];
    uint64_t id;
    int file;
    char source[24]; /* the row's source id, for XL_QUALITY_DEBUG */
};

static struct q_truth *s_truth;
static size_t s_ntruth, s_captruth;

static int
q_truth_cmp(const void *a, const void *b)
{
    return memcmp(((const struct q_truth *)a)->ref, ((const struct q_truth *)b)->ref,
                  AGENT_REF_BYTES);
}

static uint64_t
q_hash_id(const char *s)
{
    uint8_t h[XL_HASH_BYTES];
    uint64_t v;

    xl_sha256(s, strlen(s), h);
    memcpy(&v, h, 8);
    return v;
}

/* local_ref exactly as the agent computes it, with the agency's local key. */
static void
q_ref(const struct xl_keyfile *local, const char *agency, const char *dataset, const char *id,
      uint8_t out[AGENT_REF_BYTES])
{
    struct xl_mac m;

    xl_mac_init(&m, local->secret, local->secretlen, NULL, 0);
    agent_local_ref(&m, agency, dataset, id, out);
    xl_mac_wipe(&m);
}

static int
q_find_col(struct xl_csv *c, size_t n, const char *name)
{
    size_t len;

    for (size_t i = 0; i < n; i++) {
        if (strcmp(xl_csv_field(c, i, &len), name) == 0)
            return (int)i;
    }
    return -1;
}

/* Reads the truth of one extract: for each row, its source id's local_ref and
 * its true identity. */
static int
q_load_truth(const struct agent_ctx *ctx, const char *csv_path, const char *rule, int file)
{
    char err[XL_ERRBUF], id[256], agency[64] = "";
    struct xl_csv *c = xl_csv_open(csv_path, err, sizeof err);
    size_t n, len;
    int src, col = -1, r;
    FILE *tf = NULL;

    if (c == NULL || xl_csv_next(c, &n, err, sizeof err) != 1) {
        fprintf(stderr, "quality: %s\n", err);
        return -1;
    }
    src = q_find_col(c, n, ctx->map.columns[AGENT_COL_SOURCE_ID]);
    if (strncmp(rule, "col:", 4) == 0)
        col = q_find_col(c, n, rule + 4);
    if (src < 0 || (strncmp(rule, "col:", 4) == 0 && col < 0)) {
        fprintf(stderr, "quality: %s: truth column not found\n", csv_path);
        return -1;
    }
    if (strncmp(rule, "truth:", 6) == 0) {
        const char *colon = strchr(rule + 6, ':');
        if (colon == NULL || (size_t)(colon - rule - 6) >= sizeof agency) {
            fprintf(stderr, "quality: truth rule is truth:AGENCY:PATH\n");
            return -1;
        }
        snprintf(agency, sizeof agency, "%.*s", (int)(colon - rule - 6), rule + 6);
        tf = fopen(colon + 1, "r");
        if (tf == NULL) {
            fprintf(stderr, "quality: cannot open %s\n", colon + 1);
            return -1;
        }
    }
    while ((r = xl_csv_next(c, &n, err, sizeof err)) == 1) {
        const char *sid = xl_csv_field(c, (size_t)src, &len);
        struct q_truth *t;
        if (s_ntruth == s_captruth) {
            s_captruth = s_captruth ? 2 * s_captruth : 4096;
            s_truth = realloc(s_truth, s_captruth * sizeof *s_truth);
            if (s_truth == NULL)
                return -1;
        }
        t = &s_truth[s_ntruth];
        snprintf(id, sizeof id, "%.*s", (int)len, sid);
        snprintf(t->source, sizeof t->source, "%.23s", id);
        q_ref(ctx->local, ctx->cfg.agency, ctx->map.dataset, id, t->ref);
        t->file = file;
        if (strcmp(rule, "febrl") == 0) {
            const char *p = strchr(id, '-');
            t->id = p != NULL ? strtoull(p + 1, NULL, 10) : q_hash_id(id);
        } else if (strcmp(rule, "div10") == 0) {
            t->id = strtoull(id, NULL, 10) / 10;
        } else if (strcmp(rule, "same") == 0) {
            t->id = q_hash_id(id);
        } else if (col >= 0) {
            const char *v = xl_csv_field(c, (size_t)col, &len);
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%.*s", (int)len, v);
            t->id = q_hash_id(tmp);
        } else {
            t->id = 0; /* filled from the truth file below */
        }
        s_ntruth++;
    }
    xl_csv_destroy(&c);
    if (tf != NULL) {
        /* agency,local_id,person_id: match this extract's rows by local id. */
        char line[512];
        size_t first = s_ntruth;
        struct q_truth key;
        while (first > 0 && s_truth[first - 1].file == file)
            first--;
        qsort(s_truth + first, s_ntruth - first, sizeof *s_truth, q_truth_cmp);
        while (fgets(line, sizeof line, tf) != NULL) {
            char *a = strtok(line, ","), *lid = strtok(NULL, ","), *pid = strtok(NULL, ",\r\n");
            struct q_truth *hit;
            if (a == NULL || lid == NULL || pid == NULL || strcmp(a, agency) != 0)
                continue;
            q_ref(ctx->local, ctx->cfg.agency, ctx->map.dataset, lid, key.ref);
            hit = bsearch(&key, s_truth + first, s_ntruth - first, sizeof *s_truth, q_truth_cmp);
            if (hit != NULL)
                hit->id = q_hash_id(pid);
        }
        fclose(tf);
    }
    return r < 0 ? -1 : 0;
}

/* Pair counts from a contingency of (cluster, truth) cells. */
struct q_cell {
    uint32_t cluster;
    uint64_t truth;
    int file;
};

static int
q_cell_cmp(const void *a, const void *b)
{
    const struct q_cell *x = a, *y = b;

    if (x->cluster != y->cluster)
        return x->cluster < y->cluster ? -1 : 1;
    if (x->truth != y->truth)
        return x->truth < y->truth ? -1 : 1;
    return x->file - y->file;
}

static int
q_cell_truth_cmp(const void *a, const void *b)
{
    const struct q_cell *x = a, *y = b;

    if (x->truth != y->truth)
        return x->truth < y->truth ? -1 : 1;
    if (x->cluster != y->cluster)
        return x->cluster < y->cluster ? -1 : 1;
    return x->file - y->file;
}

/* Pairs within a group of records: all pairs, or only pairs across files
 * (counts per file given for two files). */
static double
q_pairs(const uint64_t *per_file, int cross)
{
    uint64_t n = per_file[0] + per_file[1];

    return cross ? (double)per_file[0] * (double)per_file[1] : (double)n * (double)(n - 1) / 2;
}

static void
q_evaluate(const char *name, const struct q_cell *cells_in, size_t n, int cross)
{
    struct q_cell *c = malloc(n * sizeof *c);
    double tp = 0, pred = 0, truth = 0, exact = 0, entities = 0;

    memcpy(c, cells_in, n * sizeof *c);
    /* Predicted pairs and true positives: by cluster, then by (cluster, truth). */
    qsort(c, n, sizeof *c, q_cell_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint64_t f[2] = {0, 0};
        while (j < n && c[j].cluster == c[i].cluster) {
            size_t k = j;
            uint64_t g[2] = {0, 0};
            while (k < n && c[k].cluster == c[j].cluster && c[k].truth == c[j].truth)
                g[c[k++].file]++;
            tp += q_pairs(g, cross);
            f[0] += g[0];
            f[1] += g[1];
            j = k;
        }
        pred += q_pairs(f, cross);
        i = j;
    }
    /* True pairs, and true clusters reproduced exactly (same members, alone). */
    qsort(c, n, sizeof *c, q_cell_truth_cmp);
    {
        /* cluster sizes, to check a truth group is a whole cluster */
        uint32_t maxc = 0;
        uint32_t *size;
        for (size_t i = 0; i < n; i++)
            maxc = c[i].cluster > maxc ? c[i].cluster : maxc;
        size = calloc((size_t)maxc + 1, sizeof *size);
        for (size_t i = 0; i < n; i++)
            size[c[i].cluster]++;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            uint64_t f[2] = {0, 0};
            int whole = 1;
            while (j < n && c[j].truth == c[i].truth) {
                f[c[j].file]++;
                whole &= c[j].cluster == c[i].cluster;
                j++;
            }
            truth += q_pairs(f, cross);
            if (j - i > 1 || !cross) {
                entities++;
                exact += whole && size[c[i].cluster] == j - i;
            }
            i = j;
        }
        free(size);
    }
    {
        double p = pred > 0 ? tp / pred : 1, r = truth > 0 ? tp / truth : 1;
        printf("quality %-24s precision %.4f  recall %.4f  F1 %.4f  (true pairs %.0f, found %.0f, "
               "wrong %.0f; clusters exact %.4f)\n",
               name, p, r, p + r > 0 ? 2 * p * r / (p + r) : 0, truth, tp, pred - tp,
               entities > 0 ? exact / entities : 1);
    }
    free(c);
}

int
main(int argc, char **argv)
{
    char err[XL_ERRBUF], path[4096];
    struct xl_spec *spec = NULL;
    struct linker_input *in;
    struct linker_result res;
    struct q_cell *cells;
    uint8_t(*refs)[AGENT_REF_BYTES] = NULL;
    size_t nrefs = 0, caprefs = 0;
    struct xl_keyfile *secret, *local, *analysis;
    int nfiles = (argc - 5) / 3, cross;

    if (argc < 8 || (argc - 5) % 3 != 0 || xl_crypto_init() != 0) {
        fprintf(stderr, "usage: quality SPEC OUTDIR NAME cross|all MAP CSV TRUTH [...]\n");
        return 2;
    }
    cross = strcmp(argv[4], "cross") == 0;
    if (xl_spec_load(argv[1], &spec, err, sizeof err) != 0) {
        fprintf(stderr, "quality: %s\n", err);
        return 1;
    }
    /* One coalition's keys, made here: the bench plays every agency. */
    secret = xl_keyfile_new(XL_KEY_LINKAGE_SECRET);
    local = xl_keyfile_new(XL_KEY_LOCAL_SECRET);
    analysis = xl_keyfile_new(XL_KEY_ANALYSIS_SECRET);
    secret->epoch = 1;
    /* Fixed keys: CLK bit collisions depend on the key, so a run is repeatable
     * only with the same secret. */
    xl_sha256("crosslink quality bench secret", 30, secret->secret);
    xl_sha256("crosslink quality bench local", 29, local->secret);
    xl_keyfile_generate(analysis);
    in = linker_input_new(spec);
    for (int f = 0; f < nfiles; f++) {
        const char *map = argv[5 + 3 * f], *csv = argv[6 + 3 * f], *rule = argv[7 + 3 * f];
        struct agent_ctx ctx;
        struct agent_run run = {0};
        struct agent_stats *st = calloc(1, sizeof *st);
        const Crosslink__XleHeader *hdr;
        struct xl_xle_reader *rd;
        const uint8_t *rec;
        size_t len;
        int ds, rc;

        memset(&ctx, 0, sizeof ctx);
        snprintf(ctx.cfg.agency, sizeof ctx.cfg.agency, "agency%d", f + 1);
        ctx.cfg.max_reject_rate = 1.0;
        if (agent_mapping_load(map, &ctx.map, err, sizeof err) != 0) {
            fprintf(stderr, "quality: %s\n", err);
            return 1;
        }
        ctx.map.dob_rules.ref = (struct agent_date){2026, 11, 1};
        ctx.spec = spec;
        ctx.secret = secret;
        ctx.local = local;
        ctx.analysis = analysis;
        snprintf(path, sizeof path, "%s/%s-%d.xle", argv[2], argv[3], f + 1);
        unlink(path);
        run.csv_path = csv;
        run.xle_path = path;
        if (agent_process(&ctx, &run, st, err, sizeof err) != 0) {
            fprintf(stderr, "quality: %s\n", err);
            return 1;
        }
        if (q_load_truth(&ctx, csv, rule, f) != 0)
            return 1;
        /* The linker's side: read the file back as an import does. */
        rd = xl_xle_reader_open(path, &hdr, err, sizeof err);
        if (rd == NULL) {
            fprintf(stderr, "quality: %s\n", err);
            return 1;
        }
        ds = linker_input_dataset(in, hdr->agency, hdr->dataset, hdr->one_per_person);
        while ((rc = xl_xle_next(rd, &rec, &len, err, sizeof err)) == 1) {
            Crosslink__Record *r = crosslink__record__unpack(NULL, len, rec);
            if (r == NULL || linker_input_add(in, ds, r) != 0) {
                fprintf(stderr, "quality: bad record in %s\n", path);
                return 1;
            }
            if (nrefs == caprefs) {
                caprefs = caprefs ? 2 * caprefs : 4096;
                refs = realloc(refs, caprefs * sizeof *refs);
                if (refs == NULL)
                    return 1;
            }
            memcpy(refs[nrefs++], r->local_ref.data, AGENT_REF_BYTES);
            crosslink__record__free_unpacked(r, NULL);
        }
        if (rc != 0) {
            fprintf(stderr, "quality: %s\n", err);
            return 1;
        }
        xl_xle_reader_close(&rd);
        unlink(path);
        free(st);
    }
    if (linker_match_run(in, &res, err, sizeof err) != 0) {
        fprintf(stderr, "quality: %s\n", err);
        return 1;
    }
    /* Each record's truth, through its local_ref, as its agency would map it. */
    qsort(s_truth, s_ntruth, sizeof *s_truth, q_truth_cmp);
    cells = calloc(in->nrec ? in->nrec : 1, sizeof *cells);
    for (size_t i = 0; i < in->nrec; i++) {
        struct q_truth key, *hit;
        memcpy(key.ref, refs[i], AGENT_REF_BYTES);
        hit = bsearch(&key, s_truth, s_ntruth, sizeof *s_truth, q_truth_cmp);
        cells[i].cluster = res.cluster[i];
        cells[i].truth = hit != NULL ? hit->id : (uint64_t)i | (1ull << 63);
        cells[i].file = hit != NULL ? (hit->file > 0) : 0;
    }
    q_evaluate(argv[3], cells, in->nrec, cross);
    if (getenv("XL_QUALITY_DEBUG") != NULL) {
        /* Missed true pairs: their Dice score and whether they share a block. */
        size_t *bstart = calloc(in->nrec + 1, sizeof *bstart);
        uint64_t hist[2][11] = {{0}};
        linker_and_count_fn k = linker_dice_best(NULL);
        struct q_cell *byt = malloc(in->nrec * sizeof *byt);
        for (size_t i = 0; i < in->nblocks; i++)
            bstart[in->blocks[i].rec + 1]++;
        for (size_t i = 0; i < in->nrec; i++)
            bstart[i + 1] += bstart[i];
        for (size_t i = 0; i < in->nrec; i++) {
            byt[i] = cells[i];
            byt[i].cluster = (uint32_t)i; /* record index, for the pair loop */
        }
        qsort(byt, in->nrec, sizeof *byt, q_cell_truth_cmp);
        for (size_t i = 0; i < in->nrec;) {
            size_t j = i;
            while (j < in->nrec && byt[j].truth == byt[i].truth)
                j++;
            for (size_t a = i; a < j; a++) {
                for (size_t b = a + 1; b < j; b++) {
                    uint32_t x = byt[a].cluster, y = byt[b].cluster;
                    int share = 0, bin;
                    double d;
                    if (res.cluster[x] == res.cluster[y] || (cross && byt[a].file == byt[b].file))
                        continue;
                    for (size_t p = bstart[x]; p < bstart[x + 1]; p++)
                        for (size_t q = bstart[y]; q < bstart[y + 1]; q++)
                            share |= in->blocks[p].token == in->blocks[q].token;
                    d = 2.0 *
                        k(in->clk + x * in->clk_words, in->clk + y * in->clk_words, in->clk_words) /
                        (in->pop[x] + in->pop[y]);
                    bin = (int)(d * 10);
                    hist[share][bin > 10 ? 10 : bin]++;
                }
            }
            i = j;
        }
        for (size_t i = 0, shown = 0; i < res.nlinks && shown < 15; i++) {
            const struct linker_link *l = &res.links[i];
            struct q_truth key, *x, *y;
            if (l->level != 0 || cells[l->a].truth == cells[l->b].truth)
                continue;
            memcpy(key.ref, refs[l->a], AGENT_REF_BYTES);
            x = bsearch(&key, s_truth, s_ntruth, sizeof *s_truth, q_truth_cmp);
            memcpy(key.ref, refs[l->b], AGENT_REF_BYTES);
            y = bsearch(&key, s_truth, s_ntruth, sizeof *s_truth, q_truth_cmp);
            printf("        wrong fuzzy %.3f: %s %s\n", l->score, x ? x->source : "?",
                   y ? y->source : "?");
            shown++;
        }
        printf("        missed pairs by Dice decile, sharing a block / not:\n");
        for (int b = 0; b < 11; b++)
            printf("          %.1f  %6llu  %6llu\n", b / 10.0, (unsigned long long)hist[1][b],
                   (unsigned long long)hist[0][b]);
        free(byt);
        free(bstart);
    }
    {
        /* Which evidence made the wrong joins: where a threshold or level is weak. */
        uint64_t wrong[256] = {0}, all[256] = {0};
        char line[1024];
        size_t n = 0;
        for (size_t i = 0; i < res.nlinks; i++) {
            const struct linker_link *l = &res.links[i];
            all[l->level]++;
            wrong[l->level] += cells[l->a].truth != cells[l->b].truth;
        }
        for (int lv = 0; lv < 256; lv++) {
            if (all[lv] != 0 && n < sizeof line)
                n += (size_t)snprintf(line + n, sizeof line - n, " %s%d:%llu/%llu",
                                      lv ? "L" : "fuzzy", lv ? lv : 0,
                                      (unsigned long long)wrong[lv], (unsigned long long)all[lv]);
        }
        printf("        %-24s joins wrong/all by evidence:%s\n", argv[3], line);
    }
    printf("        %-24s records %zu, clusters %zu, links %zu (fuzzy %llu), possible %zu, "
           "conflicts %zu, comparisons %llu\n",
           argv[3], in->nrec, res.nclusters, res.nlinks, (unsigned long long)res.links_by_level[0],
           res.npossible, res.nconflicts, (unsigned long long)res.comparisons);
    free(cells);
    linker_result_free(&res);
    linker_input_free(&in);
    xl_keyfile_destroy(&secret);
    xl_keyfile_destroy(&local);
    xl_keyfile_destroy(&analysis);
    free(spec);
    free(refs);
    free(s_truth);
    return 0;
}
