/* The curious hub's frequency attack, measured: what share of first names and
 * surnames a linker that keeps everything it is sent can recover by aligning
 * the values it stores with public name frequencies.
 *
 *   attack [--years N] SPEC [SPEC ...] -- CONF CSV [CONF CSV ...]
 *
 * Each extract is encoded by the real agent pipeline (agent_process) into an
 * .xle file under each SPEC, with the agency's keys from CONF, and read back as
 * the linker imports it: the attacker sees only those records (CLK bytes,
 * match-key tokens with their level, blocking-key tokens). The plaintext is read
 * a second time only to score the attack, matched to the records by local_ref.
 *
 * The attacker's public knowledge is the specification and the name tables the
 * generator draws from (tests/lib/gen.h), normalised as every agent normalises.
 * A year of birth in a value or a salt is modelled as N equally likely years
 * (--years, default 9: the coalition's children are 10-18).
 *
 * Attacks, each scored as the share of records whose name (or phonetic code)
 * the attack assigns correctly, the distinct names (codes) assigned correctly
 * to most of the records that carry them, and what a perfect ranking would
 * reach on the same groups (how much the alignment loses only to public
 * frequencies too close to tell apart):
 *   - exact groups: records grouped by an identical stored value (the whole
 *     CLK, each name segment of it, a match-key level or blocking key built
 *     from names alone, or with the year of birth), groups ranked by size and
 *     aligned with the ranking of the public frequencies;
 *   - similarity clusters: the name segments clustered by Dice similarity
 *     (leader clustering over bit-sampling LSH, then majority-vote centres),
 *     clusters aligned by size the same way. Flip noise makes every segment
 *     unique, so only this attack tells what the noise buys.
 * "Whole CLK" is today's exposure (a CLK compared only as a whole); a segment
 * attack at or below it leaks nothing new. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "../agent/pipeline.h"
#include "../linker/dice.h"
#include "gen.h"
#include "xl/clock.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/mem.h"
#include "xl/xle.h"

#define S_NONE UINT32_MAX

static void *
s_alloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);

    if (p == NULL) {
        fprintf(stderr, "attack: out of memory\n");
        exit(1);
    }
    return p;
}

static void *
s_grow(void *p, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap;

    if (need <= c)
        return p;
    while (c < need)
        c = c ? 2 * c : 1024;
    p = realloc(p, c * size);
    if (p == NULL) {
        fprintf(stderr, "attack: out of memory\n");
        exit(1);
    }
    memset((char *)p + *cap * size, 0, (c - *cap) * size);
    *cap = c;
    return p;
}

/* ---- interned strings: names, codes, initials ---------------------------- */

struct s_dict {
    char **s;
    size_t n, cap;
    uint32_t *slot; /* id + 1, 0 empty; open addressing */
    size_t nslot;
};

static uint64_t
s_hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;

    while (*s != '\0')
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static uint32_t
s_intern(struct s_dict *d, const char *s)
{
    size_t i;

    if (2 * (d->n + 1) > d->nslot) {
        size_t ns = d->nslot ? 2 * d->nslot : 4096;
        uint32_t *slot = s_alloc(ns * sizeof *slot);
        for (size_t k = 0; k < d->n; k++) {
            i = s_hash_str(d->s[k]) & (ns - 1);
            while (slot[i] != 0)
                i = (i + 1) & (ns - 1);
            slot[i] = (uint32_t)k + 1;
        }
        free(d->slot);
        d->slot = slot;
        d->nslot = ns;
    }
    i = s_hash_str(s) & (d->nslot - 1);
    while (d->slot[i] != 0) {
        if (strcmp(d->s[d->slot[i] - 1], s) == 0)
            return d->slot[i] - 1;
        i = (i + 1) & (d->nslot - 1);
    }
    d->s = s_grow(d->s, &d->cap, d->n + 1, sizeof *d->s);
    d->s[d->n] = strdup(s);
    if (d->s[d->n] == NULL) {
        fprintf(stderr, "attack: out of memory\n");
        exit(1);
    }
    d->slot[i] = (uint32_t)d->n + 1;
    return (uint32_t)d->n++;
}

static void
s_dict_free(struct s_dict *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->s[i]);
    free(d->s);
    free(d->slot);
}

/* ---- name fields ----------------------------------------------------------- */

/* The fields an attack can recover, and the base name each derives from. */
static const enum xl_field s_name_fields[] = {
    XL_F_FIRST_NAME, XL_F_FIRST_INITIAL, XL_F_FIRST_PHONETIC, XL_F_SURNAME, XL_F_SURNAME_PHONETIC};
#define S_NNAME (sizeof s_name_fields / sizeof s_name_fields[0])

static int
s_name_slot(enum xl_field f)
{
    for (size_t i = 0; i < S_NNAME; i++) {
        if (s_name_fields[i] == f)
            return (int)i;
    }
    return -1;
}

/* 0: derived from the first name, 1: from the surname. */
static int
s_side(enum xl_field f)
{
    return f == XL_F_SURNAME || f == XL_F_SURNAME_PHONETIC;
}

static const char *
s_unit(enum xl_field f)
{
    if (f == XL_F_FIRST_PHONETIC || f == XL_F_SURNAME_PHONETIC)
        return "codes";
    return f == XL_F_FIRST_INITIAL ? "initials" : "names";
}

/* The value of field f for a compact normalised base name, as the agent derives it. */
static uint32_t
s_derive(struct s_dict *d, uint32_t name, enum xl_field f)
{
    const char *s = d->s[name];
    char out[8];
    size_t n = 1;

    if (f == XL_F_FIRST_NAME || f == XL_F_SURNAME)
        return name;
    if (f == XL_F_FIRST_INITIAL) {
        while (s[n] != '\0' && ((unsigned char)s[n] & 0xC0) == 0x80 && n < sizeof out - 1)
            n++;
        memcpy(out, s, n);
        out[n] = '\0';
        return s_intern(d, out);
    }
    if (agent_soundex(s, out) != AGENT_OK)
        return S_NONE;
    return s_intern(d, out);
}

/* ---- the public model ------------------------------------------------------ */

struct s_wlist {
    uint32_t *id;
    double *w;
    size_t n, cap;
};

static void
s_wlist_add(struct s_wlist *l, uint32_t id, double w)
{
    size_t cap = l->cap;

    l->id = s_grow(l->id, &cap, l->n + 1, sizeof *l->id);
    l->w = s_grow(l->w, &l->cap, l->n + 1, sizeof *l->w);
    l->id[l->n] = id;
    l->w[l->n++] = w;
}

/* Name distributions per family origin and sex, as gen.c draws them. */
struct s_public {
    size_t n; /* origins * 2 */
    double *p;
    struct s_wlist *first, *sur;
};

static uint32_t
s_public_name(struct s_dict *d, const char *written)
{
    char norm[AGENT_NAME_MAX], compact[AGENT_NAME_MAX];

    if (agent_norm_name(written, strlen(written), norm, sizeof norm) != AGENT_OK ||
        agent_name_compact(norm, compact, sizeof compact) != AGENT_OK || compact[0] == '\0')
        return S_NONE;
    return s_intern(d, compact);
}

static double
s_list_total(const struct xl_gen_name *v, size_t n)
{
    double t = 0;

    for (size_t i = 0; i < n; i++)
        t += v[i].weight;
    return t;
}

/* Boys 51.2%; a prefix name ("Muhammad Hamza") for some boys; girls' surnames
 * in their female form, or from the girls' list. Compound surnames are left
 * out: each is a rare value of its own and never near the head of a ranking. */
static void
s_public_build(struct s_dict *d, struct s_public *pub)
{
    double wsum = 0;

    pub->n = 2 * xl_gen_n_origins;
    pub->p = s_alloc(pub->n * sizeof *pub->p);
    pub->first = s_alloc(pub->n * sizeof *pub->first);
    pub->sur = s_alloc(pub->n * sizeof *pub->sur);
    for (size_t o = 0; o < xl_gen_n_origins; o++)
        wsum += xl_gen_origins[o].weight;
    for (size_t o = 0; o < xl_gen_n_origins; o++) {
        const struct xl_gen_origin *og = &xl_gen_origins[o];
        for (int female = 0; female < 2; female++) {
            size_t k = 2 * o + (size_t)female;
            const struct xl_gen_name *fv = female ? og->female : og->male;
            size_t fn = female ? og->n_female : og->n_male;
            double ft = s_list_total(fv, fn), st = s_list_total(og->surname, og->n_surname);
            double girl = female && og->n_girl_surname > 0 ? og->girl_surname_pct / 100.0 : 0;
            double prefix = !female && og->male_prefix != NULL ? og->male_prefix_pct / 100.0 : 0;

            pub->p[k] = og->weight / wsum * (female ? 0.488 : 0.512);
            for (size_t i = 0; i < fn; i++) {
                double w = fv[i].weight / ft;
                uint32_t id = s_public_name(d, fv[i].name);
                if (prefix > 0 && strcmp(fv[i].name, og->male_prefix) != 0) {
                    char both[2 * AGENT_NAME_MAX];
                    snprintf(both, sizeof both, "%s %s", og->male_prefix, fv[i].name);
                    s_wlist_add(&pub->first[k], s_public_name(d, both), w * prefix);
                    w *= 1 - prefix;
                }
                s_wlist_add(&pub->first[k], id, w);
            }
            for (size_t i = 0; i < og->n_surname; i++) {
                const char *nm = female && og->surname[i].female != NULL ? og->surname[i].female
                                                                         : og->surname[i].name;
                s_wlist_add(&pub->sur[k], s_public_name(d, nm),
                            og->surname[i].weight / st * (1 - girl));
            }
            if (girl > 0) {
                double gt = s_list_total(og->girl_surname, og->n_girl_surname);
                for (size_t i = 0; i < og->n_girl_surname; i++)
                    s_wlist_add(&pub->sur[k], s_public_name(d, og->girl_surname[i].name),
                                og->girl_surname[i].weight / gt * girl);
            }
        }
    }
}

static void
s_public_free(struct s_public *pub)
{
    for (size_t k = 0; k < pub->n; k++) {
        free(pub->first[k].id);
        free(pub->first[k].w);
        free(pub->sur[k].id);
        free(pub->sur[k].w);
    }
    free(pub->first);
    free(pub->sur);
    free(pub->p);
}

/* The attacker's ranking of the values of one or two name fields. Each entry
 * stands for `repeat` equally likely stored values (a name with each year of
 * birth), so it is aligned with that many groups in a row. */
struct s_entry {
    uint32_t v[2];
    double w;
};

struct s_model {
    enum xl_field f[2];
    size_t nf;
    unsigned repeat;
    struct s_entry *e;
    size_t n;
};

static int
s_entry_by_value(const void *a, const void *b)
{
    const struct s_entry *x = a, *y = b;

    if (x->v[0] != y->v[0])
        return x->v[0] < y->v[0] ? -1 : 1;
    if (x->v[1] != y->v[1])
        return x->v[1] < y->v[1] ? -1 : 1;
    return 0;
}

static int
s_entry_by_weight(const void *a, const void *b)
{
    const struct s_entry *x = a, *y = b;

    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return s_entry_by_value(a, b);
}

/* Sums entries of equal value; returns the new count. */
static size_t
s_entries_merge(struct s_entry *e, size_t n)
{
    size_t m = 0;

    qsort(e, n, sizeof *e, s_entry_by_value);
    for (size_t i = 0; i < n; i++) {
        if (m > 0 && s_entry_by_value(&e[m - 1], &e[i]) == 0)
            e[m - 1].w += e[i].w;
        else
            e[m++] = e[i];
    }
    return m;
}

/* One origin and sex's distribution of field f. */
static size_t
s_marginal(struct s_dict *d, const struct s_wlist *l, enum xl_field f, struct s_entry **out)
{
    struct s_entry *e = s_alloc(l->n * sizeof *e);
    size_t n = 0;

    for (size_t i = 0; i < l->n; i++) {
        uint32_t v = l->id[i] == S_NONE ? S_NONE : s_derive(d, l->id[i], f);
        if (v != S_NONE)
            e[n++] = (struct s_entry){{v, S_NONE}, l->w[i]};
    }
    *out = e;
    return s_entries_merge(e, n);
}

/* Two fields are modelled only from different names (a first name's code with
 * a surname's code), jointly through origin and sex. */
static void
s_model_build(struct s_dict *d, const struct s_public *pub, const enum xl_field *f, size_t nf,
              unsigned repeat, struct s_model *m)
{
    struct s_entry *all = NULL;
    size_t n = 0, cap = 0;

    memset(m, 0, sizeof *m);
    m->nf = nf;
    m->f[0] = f[0];
    m->f[1] = nf > 1 ? f[1] : f[0];
    m->repeat = repeat;
    for (size_t k = 0; k < pub->n; k++) {
        struct s_entry *a, *b = NULL;
        size_t na = s_marginal(d, s_side(f[0]) ? &pub->sur[k] : &pub->first[k], f[0], &a), nb = 0;
        if (nf > 1)
            nb = s_marginal(d, s_side(f[1]) ? &pub->sur[k] : &pub->first[k], f[1], &b);
        all = s_grow(all, &cap, n + (nf > 1 ? na * nb : na), sizeof *all);
        for (size_t i = 0; i < na; i++) {
            if (nf == 1) {
                all[n++] = (struct s_entry){{a[i].v[0], S_NONE}, pub->p[k] * a[i].w};
                continue;
            }
            for (size_t j = 0; j < nb; j++)
                all[n++] = (struct s_entry){{a[i].v[0], b[j].v[0]}, pub->p[k] * a[i].w * b[j].w};
        }
        free(a);
        free(b);
    }
    n = s_entries_merge(all, n);
    qsort(all, n, sizeof *all, s_entry_by_weight);
    m->e = all;
    m->n = n;
}

/* ---- ground truth: the plaintext, for scoring only ------------------------- */

struct s_truth {
    uint8_t ref[AGENT_REF_BYTES];
    uint32_t v[2][S_NNAME]; /* [nicknames applied][name field]: dict id or S_NONE */
};

struct s_truths {
    struct s_truth *t;
    size_t n, cap;
};

static int
s_truth_cmp(const void *a, const void *b)
{
    return memcmp(a, b, AGENT_REF_BYTES);
}

/* Every accepted row of an extract: its local_ref, as the agency computes it,
 * and its name values as the agent encodes them. */
static int
s_truth_load(const struct agent_ctx *ctx, const char *csv_path, struct s_dict *d,
             struct s_truths *tt, char *err, size_t errlen)
{
    struct xl_csv *csv = xl_csv_open(csv_path, err, errlen);
    struct agent_layout layout;
    struct agent_row *row = s_alloc(sizeof *row);
    struct xl_mac local;
    size_t nfields;
    int r;

    if (csv == NULL) {
        free(row);
        return XL_ERR_IO;
    }
    r = xl_csv_next(csv, &nfields, err, errlen);
    if (r == 1)
        r = agent_layout_from_header(&ctx->map, csv, nfields, &layout, err, errlen);
    else if (r == 0)
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: empty file", csv_path);
    if (r == 0)
        r = xl_mac_init(&local, ctx->local->secret, ctx->local->secretlen, NULL, 0);
    if (r != 0) {
        xl_csv_destroy(&csv);
        free(row);
        return r;
    }
    while ((r = xl_csv_next(csv, &nfields, err, errlen)) == 1) {
        struct s_truth *t;
        agent_validate_row(&ctx->map, &layout, csv, nfields, row);
        if (row->rejected)
            continue;
        tt->t = s_grow(tt->t, &tt->cap, tt->n + 1, sizeof *tt->t);
        t = &tt->t[tt->n++];
        agent_local_ref(&local, ctx->cfg.agency, ctx->map.dataset, row->person.source_id, t->ref);
        for (int nick = 0; nick < 2; nick++) {
            for (size_t i = 0; i < S_NNAME; i++) {
                char v[AGENT_NAME_MAX];
                t->v[nick][i] =
                    agent_field_value(&row->person, s_name_fields[i], nick, v, sizeof v) == 0
                        ? s_intern(d, v)
                        : S_NONE;
            }
        }
    }
    xl_mac_wipe(&local);
    agent_row_wipe(row);
    free(row);
    xl_csv_destroy(&csv);
    return r < 0 ? r : 0;
}

/* ---- what the hub stores ----------------------------------------------------- */

struct s_store {
    size_t n, cap, clk_bytes;
    uint8_t *clk;
    uint32_t *truth; /* index into s_truths: the evaluation's side, never the attacker's */
    size_t nblocks;  /* the spec's: at most this many per record */
    uint64_t *blk;   /* nblocks per record, in the order sent */
    uint8_t *nblk;
    /* First token of each attacked match-key level (the level is sent in clear). */
    uint8_t lev[XL_SPEC_MAX_LEVELS];
    size_t nlev;
    uint64_t *tok; /* nlev per record; 0 when the record has none */
};

static void
s_store_free(struct s_store *st)
{
    free(st->clk);
    free(st->truth);
    free(st->blk);
    free(st->nblk);
    free(st->tok);
    memset(st, 0, sizeof *st);
}

static uint64_t
s_le64(const uint8_t *b)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static void *
s_realloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (p == NULL) {
        fprintf(stderr, "attack: out of memory\n");
        exit(1);
    }
    return p;
}

static int
s_store_add(struct s_store *st, const Crosslink__Record *rec, const struct s_truths *tt)
{
    struct s_truth *hit;
    size_t i = st->n;

    if (rec->local_ref.len != AGENT_REF_BYTES || rec->clk.len != st->clk_bytes ||
        rec->n_blocks > st->nblocks)
        return XL_ERR_FORMAT;
    hit = bsearch(rec->local_ref.data, tt->t, tt->n, sizeof *tt->t, s_truth_cmp);
    if (hit == NULL)
        return XL_ERR_NOTFOUND;
    if (i == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 65536;
        st->clk = s_realloc(st->clk, st->cap * st->clk_bytes);
        st->truth = s_realloc(st->truth, st->cap * sizeof *st->truth);
        st->blk = s_realloc(st->blk, st->cap * (st->nblocks + 1) * sizeof *st->blk);
        st->nblk = s_realloc(st->nblk, st->cap);
        st->tok = s_realloc(st->tok, st->cap * (st->nlev + 1) * sizeof *st->tok);
    }
    memcpy(st->clk + i * st->clk_bytes, rec->clk.data, st->clk_bytes);
    st->truth[i] = (uint32_t)(hit - tt->t);
    st->nblk[i] = (uint8_t)rec->n_blocks;
    for (size_t b = 0; b < rec->n_blocks; b++) {
        if (rec->blocks[b].len != XL_BLOCK_BYTES)
            return XL_ERR_FORMAT;
        st->blk[i * st->nblocks + b] = s_le64(rec->blocks[b].data);
    }
    for (size_t l = 0; l < st->nlev; l++) {
        st->tok[i * st->nlev + l] = 0;
        for (size_t k = 0; k < rec->n_keys; k++) {
            if (rec->keys[k]->level == st->lev[l] && rec->keys[k]->token.len == XL_TOKEN_BYTES) {
                st->tok[i * st->nlev + l] = s_le64(rec->keys[k]->token.data) | 1;
                break;
            }
        }
    }
    st->n++;
    return 0;
}

/* ---- groups and their alignment ------------------------------------------------ */

struct s_groups {
    size_t n;
    uint32_t *start; /* n + 1 */
    uint32_t *member;
};

static void
s_groups_free(struct s_groups *g)
{
    free(g->start);
    free(g->member);
    memset(g, 0, sizeof *g);
}

struct s_item {
    uint64_t key;
    uint32_t rec;
    uint32_t aux;
};

static int
s_item_cmp(const void *a, const void *b)
{
    const struct s_item *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->rec < y->rec ? -1 : x->rec > y->rec;
}

/* Group index by size, largest first; equal sizes by index. */
static const uint32_t *s_sort_start;

static int
s_group_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    uint32_t sx = s_sort_start[x + 1] - s_sort_start[x], sy = s_sort_start[y + 1] - s_sort_start[y];

    if (sx != sy)
        return sx > sy ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Groups from a label per member (label[i] for member rec[i]), as CSR ranked by size. */
static void
s_groups_from_labels(const uint32_t *label, const uint32_t *rec, size_t n, size_t nlabels,
                     struct s_groups *g)
{
    uint32_t *start = s_alloc((nlabels + 1) * sizeof *start), *fill, *order;
    uint32_t *member = s_alloc(n * sizeof *member);

    for (size_t i = 0; i < n; i++)
        start[label[i] + 1]++;
    for (size_t k = 0; k < nlabels; k++)
        start[k + 1] += start[k];
    fill = s_alloc((nlabels + 1) * sizeof *fill);
    memcpy(fill, start, (nlabels + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++)
        member[fill[label[i]]++] = rec[i];
    order = s_alloc((nlabels ? nlabels : 1) * sizeof *order);
    for (size_t k = 0; k < nlabels; k++)
        order[k] = (uint32_t)k;
    s_sort_start = start;
    qsort(order, nlabels, sizeof *order, s_group_cmp);
    g->start = s_alloc((nlabels + 1) * sizeof *g->start);
    g->member = s_alloc((n ? n : 1) * sizeof *g->member);
    g->n = 0;
    for (size_t k = 0; k < nlabels; k++) {
        uint32_t a = start[order[k]], b = start[order[k] + 1];
        if (a == b)
            continue;
        g->start[g->n + 1] = g->start[g->n] + (b - a);
        memcpy(g->member + g->start[g->n], member + a, (b - a) * sizeof *member);
        g->n++;
    }
    free(order);
    free(fill);
    free(member);
    free(start);
}

/* Exact groups: items sorted by key; equal keys are one group. */
static void
s_groups_exact(struct s_item *it, size_t n, struct s_groups *g)
{
    uint32_t *label = s_alloc((n ? n : 1) * sizeof *label), *rec = s_alloc((n ? n : 1) * 4);
    size_t nl = 0;

    qsort(it, n, sizeof *it, s_item_cmp);
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && it[i].key != it[i - 1].key)
            nl++;
        label[i] = (uint32_t)nl;
        rec[i] = it[i].rec;
    }
    s_groups_from_labels(label, rec, n, n ? nl + 1 : 0, g);
    free(label);
    free(rec);
}

struct s_score {
    uint64_t right[2], total[2], ceiling[2];
    size_t names[2];
};

static int
s_u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

struct s_mode {
    uint32_t v, count;
};

static int
s_mode_cmp(const void *a, const void *b)
{
    const struct s_mode *x = a, *y = b;

    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return x->count > y->count ? -1 : x->count < y->count;
}

/* What a perfect ranking would recover from the same groups: each group given
 * its most common true value, if that value is in the public model, each value
 * given to at most `repeat` groups (its largest). The rank alignment's result
 * against this shows how much is lost only to near-equal public frequencies. */
static uint64_t
s_ceiling(const struct s_groups *g, const struct s_model *m, size_t k, const struct s_store *st,
          const struct s_truths *tt, int nick, int slot, size_t ndict)
{
    uint8_t *known = s_alloc(ndict);
    uint32_t *v = s_alloc((g->n ? g->start[g->n] : 1) * sizeof *v + 1);
    struct s_mode *mode = s_alloc((g->n ? g->n : 1) * sizeof *mode);
    size_t nm = 0;
    uint64_t sum = 0;

    for (size_t e = 0; e < m->n; e++) {
        if (m->e[e].v[k] != S_NONE)
            known[m->e[e].v[k]] = 1;
    }
    for (size_t i = 0; i < g->n; i++) {
        uint32_t a = g->start[i], b = g->start[i + 1], best = S_NONE, bestn = 0;
        for (uint32_t j = a; j < b; j++)
            v[j] = tt->t[st->truth[g->member[j]]].v[nick][slot];
        qsort(v + a, b - a, sizeof *v, s_u32_cmp);
        for (uint32_t j = a; j < b;) {
            uint32_t e = j;
            while (e < b && v[e] == v[j])
                e++;
            if (v[j] != S_NONE && known[v[j]] && e - j > bestn) {
                best = v[j];
                bestn = e - j;
            }
            j = e;
        }
        if (best != S_NONE)
            mode[nm++] = (struct s_mode){best, bestn};
    }
    qsort(mode, nm, sizeof *mode, s_mode_cmp);
    for (size_t i = 0, run = 0; i < nm; i++) {
        run = i > 0 && mode[i].v == mode[i - 1].v ? run + 1 : 0;
        if (run < m->repeat)
            sum += mode[i].count;
    }
    free(mode);
    free(v);
    free(known);
    return sum;
}

/* Group g (ranked) gets the model's entry g / repeat; a record counts when the
 * entry's value of a field is the record's own. A name counts as recovered when
 * most of the records that carry it are given it (not when a chance hit on a
 * group of one or two gets it right). */
static void
s_align(const struct s_groups *g, const struct s_model *m, const struct s_store *st,
        const struct s_truths *tt, int nick, size_t ndict, struct s_score *sc)
{
    uint32_t *carry = s_alloc(ndict * sizeof *carry), *given = s_alloc(ndict * sizeof *given);
    int slot[2] = {s_name_slot(m->f[0]), s_name_slot(m->f[1])};

    memset(sc, 0, sizeof *sc);
    for (size_t k = 0; k < m->nf; k++) {
        memset(carry, 0, ndict * sizeof *carry);
        memset(given, 0, ndict * sizeof *given);
        for (size_t r = 0; r < st->n; r++) {
            uint32_t v = tt->t[st->truth[r]].v[nick][slot[k]];
            if (v != S_NONE) {
                sc->total[k]++;
                carry[v]++;
            }
        }
        sc->ceiling[k] = s_ceiling(g, m, k, st, tt, nick, slot[k], ndict);
        for (size_t i = 0; i < g->n && i / m->repeat < m->n; i++) {
            uint32_t want = m->e[i / m->repeat].v[k];
            for (uint32_t j = g->start[i]; j < g->start[i + 1]; j++) {
                if (tt->t[st->truth[g->member[j]]].v[nick][slot[k]] == want) {
                    sc->right[k]++;
                    given[want]++;
                }
            }
        }
        for (size_t v = 0; v < ndict; v++)
            sc->names[k] += given[v] > 0 && 2 * given[v] > carry[v];
    }
    free(given);
    free(carry);
}

/* ---- similarity clusters ------------------------------------------------------- */

/* Bit-sampling LSH over fixed-length bit vectors: each band hashes S_LSH_R
 * sampled bits, so vectors at a small Hamming distance share a band often and
 * unrelated ones rarely. */
#define S_LSH_BANDS 32
#define S_LSH_R     20
#define S_LSH_SLOTS 14 /* log2 of the buckets per band the sampled bits hash into */
/* Candidates scored per query at most (and four times as many visited). Sparse vectors (short
 * names) share mostly-zero samples with many others; a true match shares many bands and turns up
 * early, so the cap costs little and bounds the worst case (values that never repeat, such as
 * segments salted with the whole date of birth). */
#define S_LSH_MAX_SCORED 32

struct s_lsh {
    uint16_t pos[S_LSH_BANDS][S_LSH_R];
    uint32_t *head; /* S_LSH_BANDS << S_LSH_SLOTS; id + 1 */
    uint32_t *next; /* S_LSH_BANDS per id */
    size_t cap;
};

static void
s_lsh_init(struct s_lsh *l, unsigned nbits)
{
    uint64_t x = 0x243F6A8885A308D3ull; /* the attacker's own fixed choice of bits */

    memset(l, 0, sizeof *l);
    for (int b = 0; b < S_LSH_BANDS; b++) {
        for (int r = 0; r < S_LSH_R; r++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            l->pos[b][r] = (uint16_t)((x >> 33) % nbits);
        }
    }
    l->head = s_alloc(((size_t)S_LSH_BANDS << S_LSH_SLOTS) * sizeof *l->head);
}

static void
s_lsh_free(struct s_lsh *l)
{
    free(l->head);
    free(l->next);
}

static void
s_lsh_keys(const struct s_lsh *l, const uint64_t *v, uint32_t keys[S_LSH_BANDS])
{
    for (int b = 0; b < S_LSH_BANDS; b++) {
        uint32_t k = 0;
        for (int r = 0; r < S_LSH_R; r++) {
            unsigned p = l->pos[b][r];
            k = k << 1 | (uint32_t)(v[p >> 6] >> (p & 63) & 1);
        }
        keys[b] = (uint32_t)b << S_LSH_SLOTS | (k * 2654435761u) >> (32 - S_LSH_SLOTS);
    }
}

static void
s_lsh_add(struct s_lsh *l, uint32_t id, const uint32_t keys[S_LSH_BANDS])
{
    l->next = s_grow(l->next, &l->cap, ((size_t)id + 1) * S_LSH_BANDS, sizeof *l->next);
    for (int b = 0; b < S_LSH_BANDS; b++) {
        l->next[(size_t)id * S_LSH_BANDS + (size_t)b] = l->head[keys[b]];
        l->head[keys[b]] = id + 1;
    }
}

struct s_vecs {
    uint64_t *w; /* `words` per vector, zero-padded to the kernels' multiple of 8 */
    uint32_t *pop;
    size_t n, cap, words;
};

static void
s_vecs_push(struct s_vecs *v, const uint64_t *src, size_t nwords)
{
    size_t cap = v->cap;

    v->w = s_grow(v->w, &cap, v->n + 1, v->words * sizeof *v->w);
    v->pop = s_grow(v->pop, &v->cap, v->n + 1, sizeof *v->pop);
    memcpy(v->w + v->n * v->words, src, nwords * sizeof *src);
    v->pop[v->n] = linker_popcount(src, nwords);
    v->n++;
}

/* The most similar indexed vector to q with Dice >= t, or S_NONE. stamp avoids
 * scoring one candidate twice. */
static uint32_t
s_lsh_best(const struct s_lsh *l, const struct s_vecs *idx, const uint64_t *q, uint32_t qpop,
           const uint32_t keys[S_LSH_BANDS], double t, uint32_t *stamp, uint32_t now,
           linker_and_count_fn and_count)
{
    uint32_t best = S_NONE, scored = 0, visited = 0;
    double bestd = t;

    for (int b = 0; b < S_LSH_BANDS && scored < S_LSH_MAX_SCORED; b++) {
        for (uint32_t c = l->head[keys[b]]; c != 0 && visited < 4 * S_LSH_MAX_SCORED;
             c = l->next[(size_t)(c - 1) * S_LSH_BANDS + (size_t)b]) {
            uint32_t id = c - 1;
            double dice;
            visited++;
            if (stamp[id] == now)
                continue;
            stamp[id] = now;
            if (++scored > S_LSH_MAX_SCORED)
                break;
            dice = 2.0 * and_count(q, idx->w + id * idx->words, idx->words) /
                   (double)(qpop + idx->pop[id]);
            if (dice >= bestd) {
                bestd = dice;
                best = id;
            }
        }
    }
    return best;
}

/* The attacker's thresholds, from the public parameters alone: a little below
 * the Dice a 3-letter name's noisy segment scores against another noisy copy
 * (t1) and against a clean centre (t2), and at most 0.85 so that a name's
 * misspellings join it. */
static void
s_thresholds(const struct xl_spec *s, const struct xl_spec_clk_field *cf, double *t1, double *t2)
{
    double n = cf->bits, g = 3 + s->clk_q - 1, p = s->clk_flip;
    double d = 1 - pow(1 - 1 / n, g * cf->k), m, pop;

    if (s->clk_xor_fold) {
        d = 2 * d * (1 - d);
        n /= 2;
        p = 2 * p * (1 - p);
    }
    m = n * d;
    pop = m * (1 - p) + (n - m) * p;
    *t1 = fmin(0.85, (m * (1 - p) * (1 - p) + (n - m) * p * p) / pop - 0.07);
    *t2 = fmin(0.85, 2 * m * (1 - p) / (m + pop) - 0.07);
}

/* Leader clustering (each vector joins its most similar leader at >= t1, or
 * leads a new cluster), then the clusters' majority-vote centres merged at
 * >= t2 and every vector reassigned to its most similar centre at >= t2. The
 * centres are nearly free of the flip noise, which two noisy leaders are not. */
static void
s_cluster(const struct s_vecs *v, const uint32_t *rec, unsigned nbits, double t1, double t2,
          struct s_groups *g)
{
    linker_and_count_fn and_count = linker_dice_best(NULL);
    size_t n = v->n ? v->n : 1, ncl, nbig = 0, nl;
    uint32_t *lab = s_alloc(n * sizeof *lab), *stamp = s_alloc(n * sizeof *stamp);
    uint32_t *keys = s_alloc(n * S_LSH_BANDS * sizeof *keys), now = 0;
    uint32_t *size, *cid, *cnt, *order, *start;
    uint64_t *buf = s_alloc(v->words * sizeof *buf);
    struct s_vecs lead = {.words = v->words}, cen = {.words = v->words};
    struct s_lsh l;

    s_lsh_init(&l, nbits);
    for (size_t i = 0; i < v->n; i++) {
        const uint64_t *q = v->w + i * v->words;
        uint32_t *k = keys + i * S_LSH_BANDS, best;
        s_lsh_keys(&l, q, k);
        best = s_lsh_best(&l, &lead, q, v->pop[i], k, t1, stamp, ++now, and_count);
        if (best == S_NONE) {
            best = (uint32_t)lead.n;
            s_vecs_push(&lead, q, v->words);
            s_lsh_add(&l, best, k);
        }
        lab[i] = best;
    }
    ncl = lead.n;
    s_lsh_free(&l);

    /* Majority-vote centres of the clusters of two or more, largest first so a
     * name split in two keeps the larger centre. */
    size = s_alloc((ncl + 1) * sizeof *size);
    cid = s_alloc((ncl + 1) * sizeof *cid);
    for (size_t i = 0; i < v->n; i++)
        size[lab[i]]++;
    for (size_t c = 0; c < ncl; c++)
        cid[c] = size[c] >= 2 ? (uint32_t)nbig++ : S_NONE;
    cnt = s_alloc((nbig + 1) * nbits * sizeof *cnt);
    for (size_t i = 0; i < v->n; i++) {
        const uint64_t *q = v->w + i * v->words;
        if (cid[lab[i]] == S_NONE)
            continue;
        for (unsigned w = 0; w < nbits / 64; w++) {
            for (uint64_t x = q[w]; x != 0; x &= x - 1)
                cnt[(size_t)cid[lab[i]] * nbits + 64 * w + (unsigned)__builtin_ctzll(x)]++;
        }
    }
    order = s_alloc((nbig + 1) * sizeof *order);
    for (size_t c = 0, k = 0; c < ncl; c++) {
        if (cid[c] != S_NONE)
            order[k++] = (uint32_t)c;
    }
    start = s_alloc((ncl + 1) * sizeof *start);
    for (size_t c = 0; c < ncl; c++)
        start[c + 1] = start[c] + size[c];
    s_sort_start = start;
    qsort(order, nbig, sizeof *order, s_group_cmp);
    s_lsh_init(&l, nbits); /* the same bits: the records' keys stay valid */
    for (size_t k = 0; k < nbig; k++) {
        uint32_t c = order[k], ck[S_LSH_BANDS], pop;
        memset(buf, 0, v->words * sizeof *buf);
        for (unsigned b = 0; b < nbits; b++) {
            if (2 * cnt[(size_t)cid[c] * nbits + b] > size[c])
                buf[b / 64] |= 1ull << (b % 64);
        }
        pop = linker_popcount(buf, v->words);
        if (pop == 0)
            continue;
        s_lsh_keys(&l, buf, ck);
        if (s_lsh_best(&l, &cen, buf, pop, ck, t2, stamp, ++now, and_count) == S_NONE) {
            s_vecs_push(&cen, buf, v->words);
            s_lsh_add(&l, (uint32_t)(cen.n - 1), ck);
        }
    }
    /* Every vector to its most similar centre, or a group of its own. */
    nl = cen.n;
    for (size_t i = 0; i < v->n; i++) {
        uint32_t best = s_lsh_best(&l, &cen, v->w + i * v->words, v->pop[i], keys + i * S_LSH_BANDS,
                                   t2, stamp, ++now, and_count);
        lab[i] = best != S_NONE ? best : (uint32_t)nl++;
    }
    s_groups_from_labels(lab, rec, v->n, nl, g);
    s_lsh_free(&l);
    free(start);
    free(order);
    free(cnt);
    free(cid);
    free(size);
    free(buf);
    free(lead.w);
    free(lead.pop);
    free(cen.w);
    free(cen.pop);
    free(keys);
    free(stamp);
    free(lab);
}

/* ---- the attacks ------------------------------------------------------------------ */

struct s_run {
    const struct xl_spec *spec;
    const struct s_store *st;
    const struct s_truths *tt;
    struct s_dict *d;
    const struct s_public *pub;
    unsigned years;
    char setting[96];
    /* For the summary, first name and surname: whole CLK, segment exact, segment
     * clusters, and the clusters under a perfect ranking. */
    double share[4][2];
};

/* How a stored value built from parts can be aligned: its name fields (one or
 * two, from different names) and the repeat its year of birth adds. 0 when it
 * holds no name, -1 when another part would need a joint frequency. */
static int
s_parts_model(const enum xl_field *parts, size_t n, unsigned years, enum xl_field f[2], size_t *nf,
              unsigned *repeat)
{
    *nf = 0;
    *repeat = 1;
    for (size_t i = 0; i < n; i++) {
        if (s_name_slot(parts[i]) >= 0) {
            if (*nf == 2 || (*nf == 1 && s_side(f[0]) == s_side(parts[i])))
                return -1;
            f[(*nf)++] = parts[i];
        } else if (parts[i] == XL_F_YOB) {
            *repeat *= years;
        }
    }
    if (*nf == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (s_name_slot(parts[i]) < 0 && parts[i] != XL_F_YOB)
            return -1;
    }
    return 1;
}

static void
s_parts_text(const enum xl_field *parts, size_t n, char *out, size_t len)
{
    size_t k = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n && k < len; i++)
        k += (size_t)snprintf(out + k, len - k, "%s%s", i ? "+" : "", xl_field_name(parts[i]));
}

static double
s_pct(uint64_t a, uint64_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void
s_print(const struct s_run *run, enum xl_field f, const char *what, const char *method,
        const struct s_score *sc, size_t k)
{
    char label[96];

    snprintf(label, sizeof label, "%s %s, %s", xl_field_name(f), what, method);
    printf("attack: %-52s %s: %5.1f%% of records, %4zu %-8s (perfect ranking %5.1f%%)\n", label,
           run->setting, s_pct(sc->right[k], sc->total[k]), sc->names[k], s_unit(f),
           s_pct(sc->ceiling[k], sc->total[k]));
}

/* The stored segment of CLK field i as a vector, or all zero. */
static void
s_segment(const struct s_store *st, const struct xl_spec *s, size_t rec, size_t i, uint64_t *out,
          size_t words)
{
    unsigned first, nbits;

    xl_spec_clk_segment(s, i, &first, &nbits);
    memset(out, 0, words * sizeof *out);
    for (unsigned w = 0; w < nbits / 64; w++)
        out[w] = s_le64(st->clk + rec * st->clk_bytes + first / 8 + 8 * w);
}

static uint64_t
s_hash_bytes(const void *p, size_t n)
{
    static const uint8_t key[crypto_shorthash_siphash24_KEYBYTES];
    uint8_t h[8];

    crypto_shorthash_siphash24(h, p, n, key);
    return s_le64(h);
}

static void
s_attack_whole(struct s_run *run)
{
    const struct s_store *st = run->st;
    struct s_item *it = s_alloc(st->n * sizeof *it);
    struct s_groups g;

    for (size_t r = 0; r < st->n; r++)
        it[r] = (struct s_item){s_hash_bytes(st->clk + r * st->clk_bytes, st->clk_bytes),
                                (uint32_t)r, 0};
    s_groups_exact(it, st->n, &g);
    for (int k = 0; k < 2; k++) {
        enum xl_field f = k ? XL_F_SURNAME : XL_F_FIRST_NAME;
        struct s_model m;
        struct s_score sc;
        /* A name to one group, salted or not: a group of whole CLKs is the
         * records of one person's values, which a salt does not split. */
        s_model_build(run->d, run->pub, &f, 1, 1, &m);
        s_align(&g, &m, st, run->tt, 0, run->d->n, &sc);
        s_print(run, f, "whole CLK (today)", "exact groups", &sc, 0);
        run->share[0][k] = sc.total[0] ? (double)sc.right[0] / (double)sc.total[0] : 0;
        free(m.e);
    }
    s_groups_free(&g);
    free(it);
}

static void
s_attack_segments(struct s_run *run)
{
    const struct xl_spec *s = run->spec;
    const struct s_store *st = run->st;
    /* A salt of the year of birth splits each name's segments by year. */
    unsigned repeat = s->clk_salt == XL_F_YOB ? run->years : 1;

    for (size_t i = 0; i < s->nclk_fields; i++) {
        const struct xl_spec_clk_field *cf = &s->clk_fields[i];
        enum xl_field f = cf->field;
        unsigned first, nbits;
        struct s_vecs v = {0};
        struct s_item *it;
        uint32_t *rec;
        uint64_t *buf;
        struct s_groups g;
        struct s_model m;
        struct s_score sc;
        double t1, t2;
        size_t n = 0;
        char method[64];
        int code = f == XL_F_FIRST_PHONETIC || f == XL_F_SURNAME_PHONETIC;
        if (f != XL_F_FIRST_NAME && f != XL_F_SURNAME && !code)
            continue;
        /* A phonetic code in a segment of its own is attacked like a name; one
         * mixed with another field is not (its groups are of pairs of codes,
         * as the blocking key of both codes shows). */
        if (code && (cf->shared || (i + 1 < s->nclk_fields && s->clk_fields[i + 1].shared)))
            continue;
        xl_spec_clk_segment(s, i, &first, &nbits);
        v.words = linker_dice_words(nbits / 8);
        buf = s_alloc(v.words * sizeof *buf);
        it = s_alloc(st->n * sizeof *it);
        rec = s_alloc(st->n * sizeof *rec);
        for (size_t r = 0; r < st->n; r++) {
            s_segment(st, s, r, i, buf, v.words);
            /* An empty segment is a missing name, not a value. */
            if (linker_popcount(buf, v.words) == 0)
                continue;
            it[n] = (struct s_item){s_hash_bytes(buf, nbits / 8), (uint32_t)r, 0};
            rec[n++] = (uint32_t)r;
            s_vecs_push(&v, buf, v.words);
        }
        s_model_build(run->d, run->pub, &f, 1, repeat, &m);

        s_groups_exact(it, n, &g);
        s_align(&g, &m, st, run->tt, 0, run->d->n, &sc);
        s_print(run, f, "segment", "exact groups", &sc, 0);
        if (!code)
            run->share[1][s_side(f)] = sc.total[0] ? (double)sc.right[0] / (double)sc.total[0] : 0;
        s_groups_free(&g);

        s_thresholds(s, cf, &t1, &t2);
        s_cluster(&v, rec, nbits, t1, t2, &g);
        s_align(&g, &m, st, run->tt, 0, run->d->n, &sc);
        snprintf(method, sizeof method, "clusters %.2f/%.2f", t1, t2);
        s_print(run, f, "segment", method, &sc, 0);
        if (!code) {
            run->share[2][s_side(f)] = sc.total[0] ? (double)sc.right[0] / (double)sc.total[0] : 0;
            run->share[3][s_side(f)] =
                sc.total[0] ? (double)sc.ceiling[0] / (double)sc.total[0] : 0;
        }
        s_groups_free(&g);

        free(m.e);
        free(v.w);
        free(v.pop);
        free(rec);
        free(it);
        free(buf);
    }
}

/* Match-key levels built from names alone (with the year of birth at most):
 * the level travels in clear with each token. */
static void
s_attack_levels(struct s_run *run)
{
    const struct xl_spec *s = run->spec;
    const struct s_store *st = run->st;

    if (st->nlev == 0) {
        printf("attack: match-key levels: none is built from names alone (or with yob): not "
               "attacked\n");
        return;
    }
    for (size_t l = 0; l < st->nlev; l++) {
        const struct xl_spec_level *lv = xl_spec_level(s, st->lev[l]);
        struct s_item *it = s_alloc(st->n * sizeof *it);
        enum xl_field f[2];
        size_t nf, n = 0;
        unsigned repeat;
        struct s_groups g;
        struct s_model m;
        struct s_score sc;
        char what[128];
        s_parts_model(lv->parts, lv->nparts, run->years, f, &nf, &repeat);
        for (size_t r = 0; r < st->n; r++) {
            if (st->tok[r * st->nlev + l] != 0)
                it[n++] = (struct s_item){st->tok[r * st->nlev + l], (uint32_t)r, 0};
        }
        s_groups_exact(it, n, &g);
        s_model_build(run->d, run->pub, f, nf, repeat, &m);
        s_align(&g, &m, st, run->tt, s->nicknames, run->d->n, &sc);
        snprintf(what, sizeof what, "match-key level %u (%s)", lv->number, lv->name);
        for (size_t k = 0; k < nf; k++)
            s_print(run, f[k], what, "exact groups", &sc, k);
        free(m.e);
        s_groups_free(&g);
        free(it);
    }
}

/* Blocking keys built from names (codes, initials) alone or with the year of
 * birth. The hub cannot tell which key a token is from its bytes, but a record
 * with every key sends them in the spec's order: a token seen in such a record
 * is placed by its position there. */
static void
s_attack_blocks(struct s_run *run)
{
    const struct xl_spec *s = run->spec;
    const struct s_store *st = run->st;
    size_t total = 0, n = 0;
    struct s_item *it;
    int8_t *keyof;

    for (size_t r = 0; r < st->n; r++)
        total += st->nblk[r];
    it = s_alloc(total * sizeof *it);
    for (size_t r = 0; r < st->n; r++) {
        for (size_t b = 0; b < st->nblk[r]; b++)
            it[n++] = (struct s_item){st->blk[r * st->nblocks + b], (uint32_t)r,
                                      st->nblk[r] == s->nblocks ? (uint32_t)b : S_NONE};
    }
    qsort(it, n, sizeof *it, s_item_cmp);
    keyof = s_alloc(n);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        int8_t k = -1;
        while (j < n && it[j].key == it[i].key) {
            if (it[j].aux != S_NONE)
                k = (int8_t)it[j].aux;
            j++;
        }
        memset(keyof + i, k, j - i);
        i = j;
    }
    for (size_t b = 0; b < s->nblocks; b++) {
        const struct xl_spec_block *bk = &s->blocks[b];
        enum xl_field f[2];
        size_t nf, m_n = 0;
        unsigned repeat;
        char what[128], parts[96];
        int how = s_parts_model(bk->parts, bk->nparts, run->years, f, &nf, &repeat);
        struct s_item *sub;
        struct s_groups g;
        struct s_model m;
        struct s_score sc;
        s_parts_text(bk->parts, bk->nparts, parts, sizeof parts);
        if (how == 0)
            continue;
        if (how < 0) {
            printf("attack: block %s: joins a name with a field whose joint frequency is not "
                   "modelled: not attacked\n",
                   parts);
            continue;
        }
        sub = s_alloc((n ? n : 1) * sizeof *sub);
        for (size_t i = 0; i < n; i++) {
            if (keyof[i] == (int8_t)b)
                sub[m_n++] = it[i];
        }
        s_groups_exact(sub, m_n, &g);
        s_model_build(run->d, run->pub, f, nf, repeat, &m);
        s_align(&g, &m, st, run->tt, s->nicknames, run->d->n, &sc);
        snprintf(what, sizeof what, "block %s", parts);
        for (size_t k = 0; k < nf; k++)
            s_print(run, f[k], what, "exact groups", &sc, k);
        free(m.e);
        s_groups_free(&g);
        free(sub);
    }
    free(keyof);
    free(it);
}

/* ---- encoding under one spec ----------------------------------------------------- */

/* Every extract encoded under spec with its agency's keys, and read back. */
static int
s_encode(const struct xl_spec *spec, struct agent_ctx *ctx, char *const *csv, size_t nfiles,
         const struct s_truths *tt, struct s_store *st, char *err, size_t errlen)
{
    char path[4096];

    st->clk_bytes = xl_spec_clk_bytes(spec);
    st->nblocks = spec->nblocks;
    for (size_t l = 0; l < spec->nlevels; l++) {
        enum xl_field f[2];
        size_t nf;
        unsigned repeat;
        if (spec->levels[l].variant == XL_VARIANT_NONE &&
            s_parts_model(spec->levels[l].parts, spec->levels[l].nparts, 1, f, &nf, &repeat) > 0)
            st->lev[st->nlev++] = spec->levels[l].number;
    }
    for (size_t i = 0; i < nfiles; i++) {
        struct agent_stats *stats = s_alloc(sizeof *stats);
        struct agent_run run = {.csv_path = csv[i], .xle_path = path};
        struct xl_spec *own = ctx[i].spec;
        const Crosslink__XleHeader *hdr;
        struct xl_xle_reader *rd;
        const uint8_t *rec;
        size_t len;
        int r;

        snprintf(path, sizeof path, "%s.attack.xle", csv[i]);
        unlink(path);
        ctx[i].spec = (struct xl_spec *)spec;
        r = agent_process(&ctx[i], &run, stats, err, errlen);
        ctx[i].spec = own;
        free(stats);
        if (r != 0)
            return r;
        /* The linker's side: the file read back as an import reads it. */
        rd = xl_xle_reader_open(path, &hdr, err, errlen);
        if (rd == NULL)
            return XL_ERR_IO;
        while ((r = xl_xle_next(rd, &rec, &len, err, errlen)) == 1) {
            Crosslink__Record *pr = crosslink__record__unpack(NULL, len, rec);
            r = pr == NULL ? XL_ERR_FORMAT : s_store_add(st, pr, tt);
            if (pr != NULL)
                crosslink__record__free_unpacked(pr, NULL);
            if (r != 0) {
                xl_err_set(err, errlen, r, "%s: a record the plaintext does not account for", path);
                break;
            }
        }
        xl_xle_reader_close(&rd);
        unlink(path);
        if (r != 0)
            return r;
    }
    return 0;
}

static void
s_usage(void)
{
    fprintf(stderr, "usage: attack [--years N] SPEC [SPEC ...] -- CONF CSV [CONF CSV ...]\n");
}

int
main(int argc, char **argv)
{
    char err[XL_ERRBUF];
    unsigned years = 9;
    int a = 1, sep, nspecs, nfiles;
    struct agent_ctx *ctx;
    struct s_dict d = {0};
    struct s_public pub;
    struct s_truths tt = {0};
    struct s_run *runs;
    char **csvs;
    double t0 = xl_monotonic(), t;

    if (xl_crypto_init() != 0)
        return 1;
    if (a + 1 < argc && strcmp(argv[a], "--years") == 0) {
        years = (unsigned)atoi(argv[a + 1]);
        a += 2;
    }
    for (sep = a; sep < argc && strcmp(argv[sep], "--") != 0; sep++)
        ;
    nspecs = sep - a;
    nfiles = (argc - sep - 1) / 2;
    if (years < 1 || nspecs < 1 || sep >= argc || nfiles < 1 || (argc - sep - 1) % 2 != 0) {
        s_usage();
        return 2;
    }
    /* Every spec first, so a bad one fails before the long part. */
    runs = s_alloc((size_t)nspecs * sizeof *runs);
    for (int k = 0; k < nspecs; k++) {
        struct xl_spec *spec = NULL;
        if (xl_spec_load(argv[a + k], &spec, err, sizeof err) != 0) {
            fprintf(stderr, "attack: %s\n", err);
            return 1;
        }
        runs[k].spec = spec;
        {
            /* The names' own salt, when their lines carry one. */
            const char *names = "-";
            for (size_t i = 0; i < spec->nclk_fields; i++) {
                const struct xl_spec_clk_field *cf = &spec->clk_fields[i];
                if (cf->field == XL_F_FIRST_NAME || cf->field == XL_F_SURNAME)
                    names = cf->salt >= 0 ? xl_field_name((enum xl_field)cf->salt) : "none";
            }
            snprintf(runs[k].setting, sizeof runs[k].setting,
                     "flip=%-4g salt=%-4s names=%-4s fold=%s", spec->clk_flip,
                     spec->clk_salt >= 0 ? xl_field_name((enum xl_field)spec->clk_salt) : "none",
                     names, spec->clk_xor_fold ? "yes" : "no");
        }
    }
    s_public_build(&d, &pub);
    ctx = s_alloc((size_t)nfiles * sizeof *ctx);
    csvs = s_alloc((size_t)nfiles * sizeof *csvs);
    for (int i = 0; i < nfiles; i++) {
        csvs[i] = argv[sep + 2 + 2 * i];
        if (agent_ctx_load(&ctx[i], argv[sep + 1 + 2 * i], 1, err, sizeof err) != 0 ||
            s_truth_load(&ctx[i], csvs[i], &d, &tt, err, sizeof err) != 0) {
            fprintf(stderr, "attack: %s\n", err);
            return 1;
        }
    }
    qsort(tt.t, tt.n, sizeof *tt.t, s_truth_cmp);
    printf("attack: %zu records of %d extracts, read for scoring in %.1f s\n", tt.n, nfiles,
           xl_monotonic() - t0);

    for (int k = 0; k < nspecs; k++) {
        struct s_run *run = &runs[k];
        struct s_store st = {0};
        double te;

        t = xl_monotonic();
        if (s_encode(run->spec, ctx, csvs, (size_t)nfiles, &tt, &st, err, sizeof err) != 0) {
            fprintf(stderr, "attack: %s\n", err);
            return 1;
        }
        te = xl_monotonic() - t;
        run->st = &st;
        run->tt = &tt;
        run->d = &d;
        run->pub = &pub;
        run->years = years;
        printf("-- %s (%s): %zu records stored by the hub\n", argv[a + k], run->setting, st.n);
        t = xl_monotonic();
        s_attack_whole(run);
        s_attack_segments(run);
        s_attack_levels(run);
        s_attack_blocks(run);
        printf("attack: encoded and read back in %.1f s, attacked in %.1f s\n", te,
               xl_monotonic() - t);
        run->st = NULL;
        s_store_free(&st);
    }

    /* Today a CLK is compared only as a whole: a segment attack at or below the
     * whole CLK's figure tells the hub nothing new about names. */
    printf("== today vs after: records whose name the hub recovers, first name / surname\n");
    printf("   %-41s %-15s  %-15s  %-15s  %-15s  %s\n", "setting", "whole CLK", "segment exact",
           "segment cluster", "(perfect rank)", "cluster <= whole CLK");
    for (int k = 0; k < nspecs; k++) {
        struct s_run *run = &runs[k];
        /* Compared as printed: differences below 0.1 point are chance. */
        int ok = round(1000 * run->share[2][0]) <= round(1000 * run->share[0][0]) &&
                 round(1000 * run->share[2][1]) <= round(1000 * run->share[0][1]);
        printf("   %-41s", run->setting);
        for (int c = 0; c < 4; c++)
            printf(" %5.1f%% / %5.1f%% ", 100 * run->share[c][0], 100 * run->share[c][1]);
        printf(" %s\n", ok ? "yes" : "no");
        free((void *)run->spec);
    }
    printf("attack: total %.1f s\n", xl_monotonic() - t0);
    free(runs);
    free(csvs);
    for (int i = 0; i < nfiles; i++)
        agent_ctx_free(&ctx[i]);
    free(ctx);
    free(tt.t);
    s_public_free(&pub);
    s_dict_free(&d);
    return 0;
}
