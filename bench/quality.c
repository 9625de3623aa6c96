/* Linkage quality against known truth, with the real agent and linker code:
 * each extract is validated and encoded by the agent pipeline into an .xle
 * file, the files are read back as the linker imports them, linked by the
 * matching engine, and the clusters compared with the truth.
 *
 *   quality [--aim-f1 F] [--aim-precision F] [--aim-pc F]
 *           SPEC OUTDIR NAME SCOPE  MAP CSV TRUTH [MAP CSV TRUTH ...]
 *   quality --tsv-header
 *
 * SCOPE: "cross" counts only pairs of rows from different files, "all" every
 * pair. TRUTH says how a row's true identity is found:
 *   febrl       rec_id "rec-N-org" / "rec-N-dup-k" -> N
 *   div10       numeric rec_id, identity rec_id / 10 (febrl-dsgen)
 *   same        identity = source id (clkhash: equal rec_id across files)
 *   col:NAME    identity = the value of column NAME (splink "cluster")
 *   truth:AGENCY:PATH  the generator's truth file (agency,local_id,person_id),
 *               rows of AGENCY
 *
 * Every row of every file counts, whether the agent encoded it or not: the true
 * pairs of a rejected row are pairs the service misses, so rejection lowers
 * recall and PC as it would for an agency.
 *
 * Pair figures (in SCOPE): precision, recall and F1; PC (pairs completeness),
 * the share of true pairs the engine scored at all (linker_result.candidates),
 * "n/a" while the engine lists none, and beside it the share that scored pairs
 * of the same person connect (what clustering could still join: the recall
 * blocking leaves possible); candidates per record, mean and max.
 * Cluster figures (every row, whatever SCOPE): true clusters (people with a
 * row), found clusters, the share of people reproduced exactly (every row
 * encoded, all in one cluster that holds no one else), clusters merging several
 * people (and the most people in one), people split over several clusters.
 * Cost: the agent pipeline's wall time per row read, the engine's run per record.
 *
 * Prints two lines to read and one tab-separated line, "quality-tsv" then
 * the columns --tsv-header names. Aims: precision >= 0.99 and PC >= 0.99 unless
 * changed, F1 only when --aim-f1 is given; each is marked ok or BELOW, and
 * nothing fails on them.
 *
 * XL_QUALITY_DEBUG (any value) adds the wrong joins by evidence, the engine's
 * counts, missed pairs by Dice decile and a sample of wrong joins made on the
 * score alone (level 0: no match-key token in common).
 * XL_QUALITY_DUMP=DIR writes every missed true pair and every wrong join, with
 * the rows' source ids, to DIR/NAME-pairs.tsv. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../agent/pipeline.h"
#include "../linker/dice.h"
#include "../linker/match.h"
#include "../linker/model.h"
#include "xl/clock.h"
#include "xl/crypto.h"
#include "xl/csv.h"
#include "xl/err.h"
#include "xl/mem.h"
#include "xl/xle.h"

#define Q_REJECTED UINT32_MAX
#define Q_NO_ID    UINT64_MAX
/* A truth group this large is a broken truth rule, not a person: its pairs are
 * counted but not listed one by one. */
#define Q_BIG_GROUP 1000

/* One row of an input file, encoded or not. */
struct q_row {
    uint8_t ref[AGENT_REF_BYTES];
    uint64_t id;   /* true identity */
    uint32_t rec;  /* record index in the link, Q_REJECTED when not encoded */
    uint32_t file; /* 0-based, in argument order */
    char source[48];
};

static struct q_row *s_rows;
static size_t s_nrows, s_caprows;

static const char s_tsv_columns[] =
    "name\tscope\tfiles\trows\tencoded\trejected\ttrue_pairs\tfound_pairs\twrong_pairs\t"
    "precision\trecall\tf1\tpc\tpc_connected\tcandidates\tcandidates_per_record\tcandidates_max\t"
    "true_clusters\tfound_clusters\texact\tmerged\tmerged_max_people\tsplit\t"
    "encode_us_per_row\tlink_us_per_record\tencode_s\tlink_s\taims";

static uint64_t
q_hash_id(const char *s)
{
    uint8_t h[XL_HASH_BYTES];
    uint64_t v;

    xl_sha256(s, strlen(s), h);
    memcpy(&v, h, 8);
    return v & ~(1ull << 63); /* the top bit marks identities made up here */
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

/* Row indices ordered by (ref, file, row): duplicates of a source id stay in
 * file order, so records, which come in file order, take them in turn. */
static int
q_idx_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int c = memcmp(s_rows[x].ref, s_rows[y].ref, AGENT_REF_BYTES);

    if (c != 0)
        return c;
    if (s_rows[x].file != s_rows[y].file)
        return s_rows[x].file < s_rows[y].file ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* The first position in idx whose row has this ref and file, or n. */
static size_t
q_lower(const uint32_t *idx, size_t n, const uint8_t *ref, uint32_t file)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct q_row *r = &s_rows[idx[mid]];
        int c = memcmp(r->ref, ref, AGENT_REF_BYTES);
        if (c < 0 || (c == 0 && r->file < file))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int
q_same_ref(const uint32_t *idx, size_t n, size_t at, const uint8_t *ref, uint32_t file)
{
    return at < n && s_rows[idx[at]].file == file &&
           memcmp(s_rows[idx[at]].ref, ref, AGENT_REF_BYTES) == 0;
}

static struct q_row *
q_new_row(void)
{
    if (s_nrows == s_caprows) {
        size_t cap = s_caprows ? 2 * s_caprows : 4096;
        struct q_row *p = realloc(s_rows, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        s_rows = p;
        s_caprows = cap;
    }
    memset(&s_rows[s_nrows], 0, sizeof *s_rows);
    s_rows[s_nrows].rec = Q_REJECTED;
    s_rows[s_nrows].id = Q_NO_ID;
    return &s_rows[s_nrows++];
}

/* Gives the rows of one file, from first on, their identities from a truth file
 * (agency,local_id,person_id; the lines of AGENCY). */
static int
q_truth_file(const struct agent_ctx *ctx, const char *rule, size_t first, uint32_t file)
{
    char agency[64], line[512];
    const char *colon = strchr(rule + 6, ':');
    size_t n = s_nrows - first;
    uint32_t *idx;
    uint8_t ref[AGENT_REF_BYTES];
    FILE *tf;

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
    idx = malloc((n ? n : 1) * sizeof *idx);
    if (idx == NULL) {
        fclose(tf);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint32_t)(first + i);
    qsort(idx, n, sizeof *idx, q_idx_cmp);
    while (fgets(line, sizeof line, tf) != NULL) {
        char *save = NULL, *a = strtok_r(line, ",", &save), *lid = strtok_r(NULL, ",", &save),
             *pid = strtok_r(NULL, ",\r\n", &save);
        if (a == NULL || lid == NULL || pid == NULL || strcmp(a, agency) != 0)
            continue;
        q_ref(ctx->local, ctx->cfg.agency, ctx->map.dataset, lid, ref);
        for (size_t at = q_lower(idx, n, ref, file); q_same_ref(idx, n, at, ref, file); at++)
            s_rows[idx[at]].id = q_hash_id(pid);
    }
    fclose(tf);
    free(idx);
    return 0;
}

/* Reads every row of one extract: its source id's local_ref and its true
 * identity. */
static int
q_load_truth(const struct agent_ctx *ctx, const char *csv_path, const char *rule, uint32_t file)
{
    char err[XL_ERRBUF], id[256];
    struct xl_csv *c = xl_csv_open(csv_path, err, sizeof err);
    size_t n, len, first = s_nrows;
    int src, col = -1, r;

    if (c == NULL || xl_csv_next(c, &n, err, sizeof err) != 1) {
        fprintf(stderr, "quality: %s\n", err);
        xl_csv_destroy(&c);
        return -1;
    }
    if (strcmp(rule, "febrl") != 0 && strcmp(rule, "div10") != 0 && strcmp(rule, "same") != 0 &&
        strncmp(rule, "col:", 4) != 0 && strncmp(rule, "truth:", 6) != 0) {
        fprintf(stderr, "quality: unknown truth rule %s\n", rule);
        xl_csv_destroy(&c);
        return -1;
    }
    src = q_find_col(c, n, ctx->map.columns[AGENT_COL_SOURCE_ID]);
    if (strncmp(rule, "col:", 4) == 0)
        col = q_find_col(c, n, rule + 4);
    if (src < 0 || (strncmp(rule, "col:", 4) == 0 && col < 0)) {
        fprintf(stderr, "quality: %s: truth column not found\n", csv_path);
        xl_csv_destroy(&c);
        return -1;
    }
    while ((r = xl_csv_next(c, &n, err, sizeof err)) == 1) {
        const char *sid = (size_t)src < n ? xl_csv_field(c, (size_t)src, &len) : "";
        struct q_row *t = q_new_row();
        if (t == NULL) {
            xl_csv_destroy(&c);
            return -1;
        }
        if ((size_t)src >= n)
            len = 0;
        snprintf(id, sizeof id, "%.*s", (int)len, sid);
        snprintf(t->source, sizeof t->source, "%.47s", id);
        q_ref(ctx->local, ctx->cfg.agency, ctx->map.dataset, id, t->ref);
        t->file = file;
        if (strcmp(rule, "febrl") == 0) {
            const char *p = strchr(id, '-');
            t->id = p != NULL ? strtoull(p + 1, NULL, 10) : q_hash_id(id);
        } else if (strcmp(rule, "div10") == 0) {
            t->id = strtoull(id, NULL, 10) / 10;
        } else if (strcmp(rule, "same") == 0) {
            t->id = q_hash_id(id);
        } else if (col >= 0 && (size_t)col < n) {
            /* an empty value names no one: the row stays without truth */
            const char *v = xl_csv_field(c, (size_t)col, &len);
            char tmp[256];
            snprintf(tmp, sizeof tmp, "%.*s", (int)len, v);
            if (len > 0)
                t->id = q_hash_id(tmp);
        }
    }
    xl_csv_destroy(&c);
    if (r < 0) {
        fprintf(stderr, "quality: %s\n", err);
        return -1;
    }
    if (strncmp(rule, "truth:", 6) == 0 && q_truth_file(ctx, rule, first, file) != 0)
        return -1;
    return 0;
}

/* Groups of rows sharing (k1, k2), with the file each row came from. */
struct q_key {
    uint64_t k1, k2;
    uint32_t file;
};

static int
q_key_cmp(const void *a, const void *b)
{
    const struct q_key *x = a, *y = b;

    if (x->k1 != y->k1)
        return x->k1 < y->k1 ? -1 : 1;
    if (x->k2 != y->k2)
        return x->k2 < y->k2 ? -1 : 1;
    return x->file < y->file ? -1 : x->file > y->file;
}

/* Pairs within the groups of equal (k1, k2): every pair, or with cross only
 * pairs of rows from different files. Sorts k. */
static uint64_t
q_group_pairs(struct q_key *k, size_t n, int cross)
{
    uint64_t pairs = 0;

    qsort(k, n, sizeof *k, q_key_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint64_t all, same = 0; /* same: pairs within one file */
        while (j < n && k[j].k1 == k[i].k1 && k[j].k2 == k[i].k2) {
            size_t f = j;
            while (j < n && k[j].k1 == k[f].k1 && k[j].k2 == k[f].k2 && k[j].file == k[f].file)
                j++;
            same += (uint64_t)(j - f) * (j - f - 1) / 2;
        }
        all = (uint64_t)(j - i) * (j - i - 1) / 2;
        pairs += cross ? all - same : all;
        i = j;
    }
    return pairs;
}

struct q_figures {
    size_t rows, encoded, rejected, nfiles;
    uint64_t true_pairs, linked_pairs, tp; /* linked: pairs put in one cluster */
    double precision, recall, f1;
    int have_pc;
    uint64_t candidates, candidates_true, candidates_max;
    double pc, pc_connected, candidates_mean;
    size_t true_clusters, found_clusters, exact, merged, merged_max, split;
    double encode_s, link_s;
};

static int
q_link_cmp(const void *a, const void *b)
{
    const struct linker_link *x = a, *y = b;

    if (x->a != y->a)
        return x->a < y->a ? -1 : 1;
    return x->b < y->b ? -1 : x->b > y->b;
}

/* The engine's candidate pairs, checked and sorted by (a, b) so a pair can be
 * looked up. NULL with *n = 0 when the engine listed none. */
static struct linker_link *
q_candidates(const struct linker_result *res, size_t nrec, size_t *n)
{
    struct linker_link *c;
    size_t m = 0, dup = 0, bad = 0;

    *n = 0;
    if (res->ncandidates == 0)
        return NULL;
    c = malloc(res->ncandidates * sizeof *c);
    if (c == NULL)
        return NULL;
    for (size_t i = 0; i < res->ncandidates; i++) {
        const struct linker_link *l = &res->candidates[i];
        if (l->a >= l->b || l->b >= nrec) {
            bad++;
            continue;
        }
        c[m++] = *l;
    }
    qsort(c, m, sizeof *c, q_link_cmp);
    if (m > 1) {
        size_t w = 1;
        for (size_t i = 1; i < m; i++) {
            if (c[i].a == c[w - 1].a && c[i].b == c[w - 1].b)
                dup++;
            else
                c[w++] = c[i];
        }
        m = w;
    }
    if (bad != 0 || dup != 0)
        fprintf(stderr,
                "quality: the engine's candidate list has %zu pairs out of order or range "
                "(left out) and %zu listed twice (counted once)\n",
                bad, dup);
    *n = m;
    return c;
}

static const struct linker_link *
q_candidate_find(const struct linker_link *c, size_t n, uint32_t a, uint32_t b)
{
    struct linker_link key = {.a = a < b ? a : b, .b = a < b ? b : a};

    return c != NULL ? bsearch(&key, c, n, sizeof *c, q_link_cmp) : NULL;
}

/* Union-find over rows, for the true pairs candidates connect. */
static uint32_t
q_root(uint32_t *up, uint32_t x)
{
    while (up[x] != x) {
        up[x] = up[up[x]];
        x = up[x];
    }
    return x;
}

/* Every figure but the times. rec_row maps a record to its row. */
static int
q_measure(const struct linker_result *res, size_t nrec, const uint32_t *rec_row,
          const struct linker_link *cand, size_t ncand, int cross, struct q_figures *f)
{
    struct q_key *k = malloc((s_nrows ? s_nrows : 1) * sizeof *k);
    uint32_t *size = calloc(nrec ? nrec : 1, sizeof *size);
    uint32_t *deg = calloc(nrec ? nrec : 1, sizeof *deg);
    uint32_t *up = malloc((s_nrows ? s_nrows : 1) * sizeof *up);
    int r = -1;

    if (k == NULL || size == NULL || deg == NULL || up == NULL)
        goto out;
    for (size_t i = 0; i < nrec; i++) {
        if (res->cluster[i] >= nrec) {
            fprintf(stderr,
                    "quality: the engine put record %zu in cluster %u, past the last "
                    "record\n",
                    i, res->cluster[i]);
            goto out;
        }
    }
    f->rows = s_nrows;
    f->encoded = nrec;
    f->rejected = s_nrows - nrec;
    f->found_clusters = res->nclusters;
    /* True pairs over every row; linked pairs and true positives over records. */
    for (size_t i = 0; i < s_nrows; i++)
        k[i] = (struct q_key){s_rows[i].id, 0, s_rows[i].file};
    f->true_pairs = q_group_pairs(k, s_nrows, cross);
    for (size_t i = 0; i < nrec; i++)
        k[i] = (struct q_key){res->cluster[i], 0, s_rows[rec_row[i]].file};
    f->linked_pairs = q_group_pairs(k, nrec, cross);
    for (size_t i = 0; i < nrec; i++)
        k[i] = (struct q_key){res->cluster[i], s_rows[rec_row[i]].id, s_rows[rec_row[i]].file};
    f->tp = q_group_pairs(k, nrec, cross);
    f->precision = f->linked_pairs > 0 ? (double)f->tp / (double)f->linked_pairs : 1;
    f->recall = f->true_pairs > 0 ? (double)f->tp / (double)f->true_pairs : 1;
    f->f1 = f->precision + f->recall > 0 ? 2 * f->precision * f->recall / (f->precision + f->recall)
                                         : 0;
    /* Clusters holding several people: k is sorted by (cluster, person). */
    for (size_t i = 0; i < nrec;) {
        size_t j = i, people = 0;
        while (j < nrec && k[j].k1 == k[i].k1) {
            size_t p = j;
            while (j < nrec && k[j].k1 == k[p].k1 && k[j].k2 == k[p].k2)
                j++;
            people++;
        }
        size[k[i].k1] = (uint32_t)(j - i);
        f->merged += people > 1;
        f->merged_max = people > f->merged_max ? people : f->merged_max;
        i = j;
    }
    /* People: over every row, rejected rows last in their person's group. */
    for (size_t i = 0; i < s_nrows; i++)
        k[i] = (struct q_key){
            s_rows[i].id, s_rows[i].rec == Q_REJECTED ? UINT64_MAX : res->cluster[s_rows[i].rec],
            0};
    qsort(k, s_nrows, sizeof *k, q_key_cmp);
    for (size_t i = 0; i < s_nrows;) {
        size_t j = i, clusters = 0;
        int rejected = 0;
        while (j < s_nrows && k[j].k1 == k[i].k1) {
            size_t p = j;
            while (j < s_nrows && k[j].k1 == k[p].k1 && k[j].k2 == k[p].k2)
                j++;
            if (k[p].k2 == UINT64_MAX)
                rejected = 1;
            else
                clusters++;
        }
        f->true_clusters++;
        f->split += clusters > 1;
        f->exact += !rejected && clusters == 1 && size[k[i].k2] == j - i;
        i = j;
    }
    /* Blocking: the true pairs the engine scored at all (PC), and those that
     * scored pairs of the same person connect, which clustering can still
     * join (the most recall blocking leaves possible). */
    f->have_pc = ncand > 0;
    f->candidates = ncand;
    for (size_t i = 0; i < s_nrows; i++)
        up[i] = (uint32_t)i;
    for (size_t i = 0; i < ncand; i++) {
        uint32_t ra = rec_row[cand[i].a], rb = rec_row[cand[i].b];
        deg[cand[i].a]++;
        deg[cand[i].b]++;
        if (s_rows[ra].id != s_rows[rb].id)
            continue;
        f->candidates_true += !cross || s_rows[ra].file != s_rows[rb].file;
        up[q_root(up, ra)] = q_root(up, rb);
    }
    for (size_t i = 0; i < s_nrows; i++)
        k[i] = (struct q_key){s_rows[i].id, q_root(up, (uint32_t)i), s_rows[i].file};
    f->pc_connected =
        f->true_pairs > 0 ? (double)q_group_pairs(k, s_nrows, cross) / (double)f->true_pairs : 1;
    for (size_t i = 0; i < nrec; i++)
        f->candidates_max = deg[i] > f->candidates_max ? deg[i] : f->candidates_max;
    f->candidates_mean = nrec > 0 ? 2.0 * (double)ncand / (double)nrec : 0;
    f->pc = f->true_pairs > 0 ? (double)f->candidates_true / (double)f->true_pairs : 1;
    r = 0;
out:
    free(k);
    free(size);
    free(deg);
    free(up);
    return r;
}

struct q_aims {
    double precision, f1, pc; /* < 0: no aim */
};

/* A figure beside its aim: "ok", "BELOW", or "n/a" when not measured. */
struct q_mark {
    const char *label, *key;
    double value, aim;
    int measured;
};

static const char *
q_mark_word(const struct q_mark *m)
{
    return !m->measured ? "n/a" : m->value >= m->aim ? "ok" : "BELOW";
}

static void
q_print(const char *name, const char *scope, const struct q_figures *f, const struct q_aims *aim)
{
    const struct q_mark marks[3] = {
        {"precision", "precision", f->precision, aim->precision, 1},
        {"F1", "f1", f->f1, aim->f1, 1},
        {"PC", "pc", f->pc, aim->pc, f->have_pc},
    };
    char human[256] = "", tsv[128] = "", pc[48], pct[16], pcc[16], cm[16], cx[16];
    size_t nh = 0, nt = 0;
    double exact = f->true_clusters ? (double)f->exact / (double)f->true_clusters : 1;
    double enc_us = f->rows ? 1e6 * f->encode_s / (double)f->rows : 0;
    double link_us = f->encoded ? 1e6 * f->link_s / (double)f->encoded : 0;

    for (int i = 0; i < 3; i++) {
        if (marks[i].aim < 0)
            continue;
        nh += (size_t)snprintf(human + nh, sizeof human - nh, "%s%s >= %g %s", nh ? ", " : "",
                               marks[i].label, marks[i].aim, q_mark_word(&marks[i]));
        nt += (size_t)snprintf(tsv + nt, sizeof tsv - nt, "%s%s=%s", nt ? "," : "", marks[i].key,
                               q_mark_word(&marks[i]));
    }
    if (f->have_pc) {
        snprintf(pc, sizeof pc, "%.4f (connected %.4f)", f->pc, f->pc_connected);
        snprintf(pct, sizeof pct, "%.6f", f->pc);
        snprintf(pcc, sizeof pcc, "%.6f", f->pc_connected);
        snprintf(cm, sizeof cm, "%.1f", f->candidates_mean);
        snprintf(cx, sizeof cx, "%llu", (unsigned long long)f->candidates_max);
    } else {
        snprintf(pc, sizeof pc, "n/a");
        snprintf(pct, sizeof pct, "n/a");
        snprintf(pcc, sizeof pcc, "n/a");
        snprintf(cm, sizeof cm, "n/a");
        snprintf(cx, sizeof cx, "n/a");
    }
    printf("quality %-22s precision %.4f  recall %.4f  F1 %.4f  PC %s   aim %s\n", name,
           f->precision, f->recall, f->f1, pc, nh ? human : "none");
    printf(
        "        rows %zu (encoded %zu, rejected %zu), true pairs %llu (found %llu, wrong %llu), "
        "candidates/record %s (max %s); clusters true %zu, found %zu, exact %.4f, merged %zu "
        "(max %zu people), split %zu; encode %.1f us/row, link %.1f us/record\n",
        f->rows, f->encoded, f->rejected, (unsigned long long)f->true_pairs,
        (unsigned long long)f->tp, (unsigned long long)(f->linked_pairs - f->tp), cm, cx,
        f->true_clusters, f->found_clusters, exact, f->merged, f->merged_max, f->split, enc_us,
        link_us);
    printf("quality-tsv\t%s\t%s\t%zu\t%zu\t%zu\t%zu\t%llu\t%llu\t%llu\t%.6f\t%.6f\t%.6f\t%s\t%s\t"
           "%llu\t%s\t%s\t%zu\t%zu\t%.6f\t%zu\t%zu\t%zu\t%.3f\t%.3f\t%.3f\t%.3f\t%s\n",
           name, scope, f->nfiles, f->rows, f->encoded, f->rejected,
           (unsigned long long)f->true_pairs, (unsigned long long)f->tp,
           (unsigned long long)(f->linked_pairs - f->tp), f->precision, f->recall, f->f1, pct, pcc,
           (unsigned long long)f->candidates, cm, cx, f->true_clusters, f->found_clusters, exact,
           f->merged, f->merged_max, f->split, enc_us, link_us, f->encode_s, f->link_s,
           nt ? tsv : "none");
}

static double
q_dice(const struct linker_input *in, linker_and_count_fn kernel, uint32_t x, uint32_t y)
{
    unsigned pop = (unsigned)in->pop[x] + in->pop[y];

    return pop ? 2.0 *
                     kernel(in->clk + (size_t)x * in->clk_words,
                            in->clk + (size_t)y * in->clk_words, in->clk_words) /
                     pop
               : 0;
}

static int
q_share_block(const struct linker_input *in, const size_t *bstart, uint32_t x, uint32_t y)
{
    for (size_t p = bstart[x]; p < bstart[x + 1]; p++)
        for (size_t q = bstart[y]; q < bstart[y + 1]; q++)
            if (in->blocks[p] >> (64 - LINKER_BLOCK_BITS) ==
                in->blocks[q] >> (64 - LINKER_BLOCK_BITS))
                return 1;
    return 0;
}

/* For XL_QUALITY_DEBUG and XL_QUALITY_DUMP: the missed true pairs, by Dice
 * decile and whether they share a blocking key, and one line each in dump;
 * the wrong joins, a sample on stdout and every one in dump. */
static int
q_debug(const char *name, const struct linker_input *in, const struct linker_result *res,
        const uint32_t *rec_row, const struct linker_link *cand, size_t ncand, int cross,
        int verbose, FILE *dump)
{
    size_t *bstart = calloc(in->nrec + 1, sizeof *bstart);
    struct q_key *k = malloc((s_nrows ? s_nrows : 1) * sizeof *k);
    uint64_t hist[2][11] = {{0}}, rejected = 0, big = 0;
    linker_and_count_fn kernel = linker_dice_best(NULL);
    int r = -1;

    if (bstart == NULL || k == NULL)
        goto out;
    /* The blocking keys come in record order: where each record's keys begin. */
    for (size_t i = 0; i < in->nblocks; i++)
        bstart[linker_block_rec(in->blocks[i]) + 1]++;
    for (size_t i = 0; i < in->nrec; i++)
        bstart[i + 1] += bstart[i];
    for (size_t i = 0; i < s_nrows; i++)
        k[i] = (struct q_key){s_rows[i].id, i, 0};
    qsort(k, s_nrows, sizeof *k, q_key_cmp);
    if (dump != NULL)
        fprintf(dump, "kind\tfile_a\tsource_a\tfile_b\tsource_b\tstate\tdice\tshared_block\t"
                      "candidate_score\tevidence\n");
    for (size_t i = 0; i < s_nrows;) {
        size_t j = i;
        while (j < s_nrows && k[j].k1 == k[i].k1)
            j++;
        if (j - i > Q_BIG_GROUP) {
            big++;
            i = j;
            continue;
        }
        for (size_t a = i; a < j; a++) {
            for (size_t b = a + 1; b < j; b++) {
                const struct q_row *x = &s_rows[k[a].k2], *y = &s_rows[k[b].k2];
                const struct linker_link *c;
                const char *state;
                double d = -1;
                int share = -1;
                if (cross && x->file == y->file)
                    continue;
                if (x->rec != Q_REJECTED && y->rec != Q_REJECTED &&
                    res->cluster[x->rec] == res->cluster[y->rec])
                    continue;
                if (x->rec == Q_REJECTED || y->rec == Q_REJECTED) {
                    state = x->rec == y->rec       ? "both_rejected"
                            : x->rec == Q_REJECTED ? "a_rejected"
                                                   : "b_rejected";
                    rejected++;
                } else {
                    int bin;
                    state = "apart";
                    share = q_share_block(in, bstart, x->rec, y->rec);
                    d = q_dice(in, kernel, x->rec, y->rec);
                    bin = (int)(d * 10);
                    hist[share][bin > 10 ? 10 : bin]++;
                }
                if (dump == NULL)
                    continue;
                c = x->rec != Q_REJECTED && y->rec != Q_REJECTED
                        ? q_candidate_find(cand, ncand, x->rec, y->rec)
                        : NULL;
                fprintf(dump, "missed\t%u\t%s\t%u\t%s\t%s\t", x->file + 1, x->source, y->file + 1,
                        y->source, state);
                if (d >= 0)
                    fprintf(dump, "%.3f\t%s\t", d, share ? "yes" : "no");
                else
                    fprintf(dump, "\t\t");
                if (c != NULL)
                    fprintf(dump, "%.3f\t\n", c->score);
                else
                    fprintf(dump, "%s\t\n", ncand == 0 || d < 0 ? "" : "not_scored");
            }
        }
        i = j;
    }
    for (size_t i = 0, shown = 0; i < res->nlinks; i++) {
        const struct linker_link *l = &res->links[i];
        const struct q_row *x = &s_rows[rec_row[l->a]], *y = &s_rows[rec_row[l->b]];
        const struct linker_link *c;
        if (x->id == y->id)
            continue;
        if (verbose && l->level == 0 && shown < 15) {
            printf("        wrong join, score %.3f: %s %s\n", l->score, x->source, y->source);
            shown++;
        }
        if (dump == NULL)
            continue;
        c = q_candidate_find(cand, ncand, l->a, l->b);
        fprintf(dump, "wrong\t%u\t%s\t%u\t%s\tjoined\t%.3f\t%s\t", x->file + 1, x->source,
                y->file + 1, y->source, q_dice(in, kernel, l->a, l->b),
                q_share_block(in, bstart, l->a, l->b) ? "yes" : "no");
        if (c != NULL)
            fprintf(dump, "%.3f\t", c->score);
        else
            fprintf(dump, "\t");
        if (l->level == 0)
            fprintf(dump, "score %.3f\n", l->score);
        else
            fprintf(dump, "L%d\n", l->level);
    }
    if (verbose) {
        printf("        %s: missed pairs with a row rejected %llu; the others by Dice decile, "
               "sharing a blocking key / not:\n",
               name, (unsigned long long)rejected);
        for (int b = 0; b < 11; b++)
            printf("          %.1f  %6llu  %6llu\n", b / 10.0, (unsigned long long)hist[1][b],
                   (unsigned long long)hist[0][b]);
    }
    if (big != 0)
        printf("        %s: %llu true groups over %d rows not listed (a truth rule gone wrong?)\n",
               name, (unsigned long long)big, Q_BIG_GROUP);
    r = 0;
out:
    free(bstart);
    free(k);
    return r;
}

/* Which evidence made the wrong joins (where a threshold or level is weak), and
 * the engine's own counts. */
static void
q_engine_lines(const char *name, const struct linker_input *in, const struct linker_result *res,
               const uint32_t *rec_row)
{
    uint64_t wrong[256] = {0}, all[256] = {0};
    char line[1024];
    size_t n = 0;

    line[0] = '\0';
    for (size_t i = 0; i < res->nlinks; i++) {
        const struct linker_link *l = &res->links[i];
        all[l->level]++;
        wrong[l->level] += s_rows[rec_row[l->a]].id != s_rows[rec_row[l->b]].id;
    }
    for (int lv = 0; lv < 256; lv++) {
        if (all[lv] != 0 && n < sizeof line)
            n += (size_t)snprintf(line + n, sizeof line - n, " L%d:%llu/%llu", lv,
                                  (unsigned long long)wrong[lv], (unsigned long long)all[lv]);
    }
    printf("        %s: joins wrong/all by evidence (L0: the score alone):%s\n", name, line);
    printf("        %s: records %zu, clusters %zu, links %zu, possible %zu, conflicts %zu, "
           "comparisons %llu, candidates %zu\n",
           name, in->nrec, res->nclusters, res->nlinks, res->npossible, res->nconflicts,
           (unsigned long long)res->comparisons, res->ncandidates);
}

/* Encodes one extract with the agent pipeline, reads its rows' truth, and adds
 * its records to the link, each mapped to its row in *rec_row. */
static int
q_add_file(struct linker_input *in, uint32_t **rec_row, size_t *caprr, const char *map,
           const char *csv, const char *rule, uint32_t file, const char *outdir, const char *name,
           struct xl_spec *spec, struct xl_keyfile *const keys[3], struct q_figures *f)
{
    char err[XL_ERRBUF], path[4096];
    struct agent_ctx ctx;
    struct agent_run run = {0};
    struct agent_stats *st = calloc(1, sizeof *st);
    const Crosslink__XleHeader *hdr;
    struct xl_xle_reader *rd = NULL;
    const uint8_t *rec;
    uint32_t *idx = NULL;
    size_t len, first = s_nrows, nidx;
    double t0;
    int ds, rc, r = -1;

    memset(&ctx, 0, sizeof ctx);
    if (st == NULL)
        return -1;
    snprintf(ctx.cfg.agency, sizeof ctx.cfg.agency, "agency%u", file + 1);
    ctx.cfg.max_reject_rate = 1.0;
    if (agent_mapping_load(map, &ctx.map, err, sizeof err) != 0) {
        fprintf(stderr, "quality: %s\n", err);
        goto out;
    }
    ctx.map.dob_rules.ref = (struct agent_date){2026, 11, 1};
    ctx.spec = spec;
    ctx.secret = keys[0];
    ctx.local = keys[1];
    ctx.analysis = keys[2];
    snprintf(path, sizeof path, "%s/%s-%u.xle", outdir, name, file + 1);
    unlink(path);
    run.csv_path = csv;
    run.xle_path = path;
    t0 = xl_monotonic();
    if (agent_process(&ctx, &run, st, err, sizeof err) != 0) {
        fprintf(stderr, "quality: %s\n", err);
        goto out;
    }
    f->encode_s += xl_monotonic() - t0;
    if (q_load_truth(&ctx, csv, rule, file) != 0)
        goto out;
    if (s_nrows - first != st->rows)
        fprintf(stderr, "quality: %s: the agent read %llu rows, the truth %zu\n", csv,
                (unsigned long long)st->rows, s_nrows - first);
    nidx = s_nrows - first;
    idx = malloc((nidx ? nidx : 1) * sizeof *idx);
    if (idx == NULL)
        goto out;
    for (size_t i = 0; i < nidx; i++)
        idx[i] = (uint32_t)(first + i);
    qsort(idx, nidx, sizeof *idx, q_idx_cmp);
    /* The linker's side: read the file back as an import does. */
    rd = xl_xle_reader_open(path, &hdr, err, sizeof err);
    if (rd == NULL) {
        fprintf(stderr, "quality: %s\n", err);
        goto out;
    }
    ds = linker_input_dataset(in, hdr->agency, hdr->dataset, hdr->one_per_person);
    while ((rc = xl_xle_next(rd, &rec, &len, err, sizeof err)) == 1) {
        Crosslink__Record *cr = crosslink__record__unpack(NULL, len, rec);
        uint32_t row = Q_REJECTED;
        if (cr == NULL || linker_input_add(in, ds, cr) != 0) {
            fprintf(stderr, "quality: bad record in %s\n", path);
            crosslink__record__free_unpacked(cr, NULL);
            goto out;
        }
        if (cr->local_ref.len == AGENT_REF_BYTES) {
            /* the first row of this source id not yet taken by a record */
            size_t at = q_lower(idx, nidx, cr->local_ref.data, file);
            while (q_same_ref(idx, nidx, at, cr->local_ref.data, file) &&
                   s_rows[idx[at]].rec != Q_REJECTED)
                at++;
            if (q_same_ref(idx, nidx, at, cr->local_ref.data, file))
                row = idx[at];
        }
        crosslink__record__free_unpacked(cr, NULL);
        if (row == Q_REJECTED) {
            /* A record no row accounts for: someone of its own. */
            struct q_row *t = q_new_row();
            if (t == NULL)
                goto out;
            t->file = file;
            snprintf(t->source, sizeof t->source, "?record-%zu", in->nrec - 1);
            row = (uint32_t)(s_nrows - 1);
            fprintf(stderr, "quality: %s: a record matches no row of the extract\n", csv);
        }
        if (in->nrec > *caprr) {
            size_t cap = *caprr ? 2 * *caprr : 4096;
            uint32_t *p = realloc(*rec_row, cap * sizeof *p);
            if (p == NULL)
                goto out;
            *rec_row = p;
            *caprr = cap;
        }
        (*rec_row)[in->nrec - 1] = row;
        s_rows[row].rec = (uint32_t)(in->nrec - 1);
    }
    if (rc != 0) {
        fprintf(stderr, "quality: %s\n", err);
        goto out;
    }
    r = 0;
out:
    xl_xle_reader_close(&rd);
    unlink(path);
    free(idx);
    free(st);
    return r;
}

static int
q_parse_aim(const char *v, double *out)
{
    char *end;

    if (v == NULL)
        return -1;
    *out = strtod(v, &end);
    return end == v || *end != '\0' || *out > 1 ? -1 : 0;
}

int
main(int argc, char **argv)
{
    char err[XL_ERRBUF];
    struct xl_spec *spec = NULL;
    struct linker_input *in = NULL;
    struct linker_result res;
    struct q_figures fig;
    struct q_aims aim = {0.99, -1, 0.99};
    struct linker_link *cand = NULL;
    struct xl_keyfile *keys[3] = {NULL, NULL, NULL};
    uint32_t *rec_row = NULL;
    const char *name, *dumpdir = getenv("XL_QUALITY_DUMP");
    size_t caprr = 0, ncand = 0;
    int a = 1, nfiles, cross, rc = 1, have_res = 0, debug = getenv("XL_QUALITY_DEBUG") != NULL;
    double t0;

    memset(&fig, 0, sizeof fig);
    memset(&res, 0, sizeof res);
    if (argc == 2 && strcmp(argv[1], "--tsv-header") == 0) {
        printf("quality-tsv-columns\t%s\n", s_tsv_columns);
        return 0;
    }
    for (; a + 1 < argc && strncmp(argv[a], "--aim-", 6) == 0; a += 2) {
        double *to = strcmp(argv[a], "--aim-f1") == 0          ? &aim.f1
                     : strcmp(argv[a], "--aim-precision") == 0 ? &aim.precision
                     : strcmp(argv[a], "--aim-pc") == 0        ? &aim.pc
                                                               : NULL;
        if (to == NULL || q_parse_aim(argv[a + 1], to) != 0)
            break;
    }
    nfiles = (argc - a - 4) / 3;
    if (argc - a < 7 || (argc - a - 4) % 3 != 0 || strncmp(argv[a], "--", 2) == 0 ||
        (strcmp(argv[a + 3], "cross") != 0 && strcmp(argv[a + 3], "all") != 0) ||
        xl_crypto_init() != 0) {
        fprintf(stderr, "usage: quality [--aim-f1 F] [--aim-precision F] [--aim-pc F] "
                        "SPEC OUTDIR NAME cross|all MAP CSV TRUTH [...]\n"
                        "       quality --tsv-header\n");
        return 2;
    }
    name = argv[a + 2];
    cross = strcmp(argv[a + 3], "cross") == 0;
    fig.nfiles = (size_t)nfiles;
    if (xl_spec_load(argv[a], &spec, err, sizeof err) != 0) {
        fprintf(stderr, "quality: %s\n", err);
        return 1;
    }
    /* One coalition's keys, made here: the bench plays every agency. */
    keys[0] = xl_keyfile_new(XL_KEY_LINKAGE_SECRET);
    keys[1] = xl_keyfile_new(XL_KEY_LOCAL_SECRET);
    keys[2] = xl_keyfile_new(XL_KEY_ANALYSIS_SECRET);
    in = linker_input_new(spec);
    if (keys[0] == NULL || keys[1] == NULL || keys[2] == NULL || in == NULL)
        goto out;
    keys[0]->epoch = 1;
    /* Fixed keys: CLK bit collisions depend on the key, so a run is repeatable
     * only with the same secret. */
    xl_sha256("crosslink quality bench secret", 30, keys[0]->secret);
    xl_sha256("crosslink quality bench local", 29, keys[1]->secret);
    xl_keyfile_generate(keys[2]);
    for (int f = 0; f < nfiles; f++) {
        const char *const *p = (const char *const *)argv + a + 4 + 3 * f;
        if (q_add_file(in, &rec_row, &caprr, p[0], p[1], p[2], (uint32_t)f, argv[a + 1], name, spec,
                       keys, &fig) != 0)
            goto out;
    }
    /* Rows whose truth file does not name them: each someone of their own. */
    {
        size_t missing = 0;
        for (size_t i = 0; i < s_nrows; i++) {
            if (s_rows[i].id == Q_NO_ID) {
                s_rows[i].id = (1ull << 63) | i;
                missing++;
            }
        }
        if (missing != 0)
            fprintf(stderr, "quality: %s: %zu rows have no truth; each counts as a person alone\n",
                    name, missing);
    }
    in->keep_candidates = 1;
    t0 = xl_monotonic();
    if (linker_match_run(in, &res, err, sizeof err) != 0) {
        fprintf(stderr, "quality: %s\n", err);
        goto out;
    }
    fig.link_s = xl_monotonic() - t0;
    have_res = 1;
    cand = q_candidates(&res, in->nrec, &ncand);
    if (res.ncandidates != 0 && cand == NULL)
        goto out;
    if (q_measure(&res, in->nrec, rec_row, cand, ncand, cross, &fig) != 0)
        goto out;
    q_print(name, argv[a + 3], &fig, &aim);
    if (debug) {
        q_engine_lines(name, in, &res, rec_row);
        linker_model_report(stdout, &res);
    }
    if (debug || dumpdir != NULL) {
        char path[4096];
        FILE *dump = NULL;
        int dr;
        if (dumpdir != NULL) {
            snprintf(path, sizeof path, "%s/%s-pairs.tsv", dumpdir, name);
            dump = fopen(path, "w");
            if (dump == NULL) {
                fprintf(stderr, "quality: cannot write %s\n", path);
                goto out;
            }
        }
        dr = q_debug(name, in, &res, rec_row, cand, ncand, cross, debug, dump);
        if (dump != NULL && (fclose(dump) != 0 || dr != 0)) {
            fprintf(stderr, "quality: cannot write %s\n", path);
            goto out;
        }
        if (dr != 0)
            goto out;
        if (dump != NULL)
            printf("        %s: missed pairs and wrong joins in %s\n", name, path);
    }
    fflush(stdout);
    rc = 0;
out:
    if (have_res)
        linker_result_free(&res);
    linker_input_free(&in);
    for (int i = 0; i < 3; i++)
        xl_keyfile_destroy(&keys[i]);
    free(spec);
    free(cand);
    free(rec_row);
    free(s_rows);
    return rc;
}
