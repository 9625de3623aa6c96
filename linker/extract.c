#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "admission.h"
#include "extract.h"
#include "projects.h"
#include "requests.h"
#include "schedule.h"
#include "xl/buckets.h"
#include "xl/clock.h"
#include "xl/err.h"
#include "xl/log.h"
#include "xl/mem.h"
#include "xl/payload.h"
#include "xl/wire.h"
#include "xl/order.h"

#define S_PSEUDONYM_BYTES 16
/* Rows per bucket the shuffle aims for, and the most buckets (open files). */
#define S_BUCKET_ROWS 16384
#define S_BUCKETS_MAX 512
/* The buckets' stdio buffers, all together: the default (4 KiB each) made a
 * system call for every 20 rows. */
#define S_BUCKET_BUFS (8u << 20)
/* Random words drawn at a time for the shuffle. */
#define S_RNG_WORDS 1024

enum s_state { S_FREE = 0, S_QUEUED, S_PREPARING, S_READY, S_FAILED };

struct s_extract {
    enum s_state state;
    uint8_t id[LINKER_EXTRACT_ID_BYTES];
    char key_id[XL_KEYID_HEX + 1];
    struct linker_project project; /* a copy: a reload does not change an extract under way */
    char (*only)[2 * XL_NAME_MAX]; /* the datasets asked for ("agency/dataset"); none = all */
    size_t nonly;
    /* the request waiting for ExtractReady */
    uint8_t rid[LINKER_RID_MAX];
    size_t rlen;
    uint64_t request_id;
    int fd;
    /* the prepared extract */
    int spool;
    uint64_t *page_off; /* [pages + 1] byte offsets of the pages in the spool */
    uint64_t *page_rows;
    uint64_t pages, rows, bytes;
    char *manifest;
    size_t manifestlen;
    uint8_t sig[XL_SIG_BYTES];
    int fail_code;
    char fail_msg[XL_ERRBUF];
    double last_used;
    int end_served, last_served; /* the manifest, the last page */
    int delivered;               /* both: audited; the slot may be reused */
};

struct linker_extracts {
    struct linker_server *srv;
    struct linker_projects *projects;
    struct xl_keyfile *pkey; /* the pseudonym key */
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    int stop;
    struct s_extract slot[LINKER_EXTRACTS_MAX];
};

/* ---- the worker: preparing one extract ------------------------------------ */

/* The shuffle's random numbers: a ChaCha20 stream under a key drawn from the
 * system for each extract, taken a block at a time. Drawing each number from
 * the system (two per row) cost more than reading the row. */
struct s_rng {
    uint8_t key[crypto_stream_chacha20_KEYBYTES];
    uint64_t block;
    uint32_t word[S_RNG_WORDS];
    size_t at;
};

static void
s_rng_init(struct s_rng *g)
{
    randombytes_buf(g->key, sizeof g->key);
    g->block = 0;
    g->at = S_RNG_WORDS;
}

/* A number in [0, upper), every one equally likely (as randombytes_uniform). */
static uint32_t
s_rng_uniform(struct s_rng *g, uint32_t upper)
{
    uint32_t min, v;

    if (upper < 2)
        return 0;
    min = (1u + ~upper) % upper; /* 2^32 mod upper: below it, v % upper is biased */
    do {
        if (g->at == S_RNG_WORDS) {
            uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
            for (size_t i = 0; i < sizeof nonce; i++)
                nonce[i] = (uint8_t)(g->block >> (8 * i));
            g->block++;
            crypto_stream_chacha20((uint8_t *)g->word, sizeof g->word, nonce, g->key);
            g->at = 0;
        }
        v = g->word[g->at++];
    } while (v < min);
    return v % upper;
}

/* What one preparation holds. */
struct s_prep {
    struct linker_extracts *x;
    struct s_extract *e;
    struct linker_store *st;
    struct linker_run_row run;
    enum linker_graph graph;
    struct xl_mac *mac; /* the project's pseudonym MAC (secret memory) */
    struct linker_submission *subs;
    size_t nsubs, capsubs;
    uint64_t *cohort; /* sorted entity ids of the cohort's children (population = cohort) */
    size_t ncohort, capcohort;
    /* per record of the submission being read */
    int16_t *level;
    uint64_t *entity;
    size_t nrec;
    const struct linker_submission *cur;
    uint64_t cur_rows;
    uint64_t *ds_rows; /* rows per selected submission */
    uint64_t bands[LINKER_NBANDS];
    struct xl_buckets buckets;
    struct s_rng rng; /* wiped after: it would replay the order */
    uint8_t *packbuf;
    size_t packcap;
    uint8_t *whole; /* a compact payload made whole (xl_payload_whole) */
    size_t wholecap;
    char *err;
    size_t errlen;
};

static int
s_stopping(struct linker_extracts *x)
{
    int stop;

    pthread_mutex_lock(&x->lock);
    stop = x->stop;
    pthread_mutex_unlock(&x->lock);
    return stop;
}

static int
s_write_fail(struct s_prep *p, const char *what)
{
    return xl_err_set(p->err, p->errlen, errno == ENOSPC ? XL_ERR_NOSPACE : XL_ERR_IO,
                      "extract: cannot write %s: %s", what, strerror(errno));
}

/* A base-128 varint at *off, moved past it. 0, or -1 past the end. */
static int
s_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*off >= len)
            return -1;
        *v |= (uint64_t)(p[*off] & 0x7f) << shift;
        if (!(p[(*off)++] & 0x80))
            return 0;
    }
    return -1;
}

/* The payload (Record field 5) of a packed Record, without unpacking the rest;
 * the record passed every check at ingest, so anything else is damage. */
static int
s_payload_of(const uint8_t *rec, size_t len, const uint8_t **out, size_t *outlen)
{
    size_t off = 0;

    *out = NULL;
    *outlen = 0;
    while (off < len) {
        uint64_t tag, n;
        if (s_varint(rec, len, &off, &tag) != 0)
            return XL_ERR_FORMAT;
        switch (tag & 7) {
        case 0:
            if (s_varint(rec, len, &off, &n) != 0)
                return XL_ERR_FORMAT;
            break;
        case 1: off += 8; break;
        case 5: off += 4; break;
        case 2:
            if (s_varint(rec, len, &off, &n) != 0 || n > len - off)
                return XL_ERR_FORMAT;
            if (tag >> 3 == 5) {
                *out = rec + off;
                *outlen = (size_t)n;
            }
            off += (size_t)n;
            break;
        default: return XL_ERR_FORMAT;
        }
    }
    return off == len ? 0 : XL_ERR_FORMAT;
}

static int
s_selected(const struct s_extract *e, const struct linker_submission *sub)
{
    char name[2 * XL_NAME_MAX];

    if (!linker_project_has_dataset(&e->project, sub->agency, sub->dataset))
        return 0;
    if (e->nonly == 0)
        return 1;
    snprintf(name, sizeof name, "%s/%s", sub->agency, sub->dataset);
    for (size_t i = 0; i < e->nonly; i++) {
        if (strcmp(e->only[i], name) == 0)
            return 1;
    }
    return 0;
}

static int
s_is_cohort(const struct s_extract *e, const struct linker_submission *sub)
{
    return e->project.cohort.agency[0] != '\0' &&
           strcmp(e->project.cohort.agency, sub->agency) == 0 &&
           strcmp(e->project.cohort.dataset, sub->dataset) == 0;
}

static int
s_sub_cb(void *ctx, const struct linker_submission *sub)
{
    struct s_prep *p = ctx;

    if (!s_selected(p->e, sub) && !s_is_cohort(p->e, sub))
        return 0;
    if (p->nsubs == p->capsubs) {
        size_t cap = p->capsubs ? 2 * p->capsubs : 16;
        void *n = realloc(p->subs, cap * sizeof *p->subs);
        if (n == NULL)
            return xl_err_set(p->err, p->errlen, XL_ERR_NOMEM, "extract: out of memory");
        p->subs = n;
        p->capsubs = cap;
    }
    p->subs[p->nsubs++] = *sub;
    return 0;
}

/* A record's level and entity in the project's grouping, by index. */
static int
s_rows_cb(void *ctx, uint64_t index, int level, const uint64_t entity[LINKER_GRAPHS])
{
    struct s_prep *p = ctx;

    if (index >= p->nrec)
        return xl_err_set(p->err, p->errlen, XL_ERR_FORMAT,
                          "extract: a link result names record %llu of a submission of %zu",
                          (unsigned long long)index, p->nrec);
    p->level[index] = (int16_t)level;
    p->entity[index] = entity[p->graph];
    return 0;
}

/* Loads the run's results for submission sub into p->level and p->entity. */
static int
s_load_rows(struct s_prep *p, const struct linker_submission *sub)
{
    size_t n = (size_t)sub->record_count;

    if (n > p->nrec || p->level == NULL) {
        void *a = realloc(p->level, (n ? n : 1) * sizeof *p->level);
        void *b = a ? realloc(p->entity, (n ? n : 1) * sizeof *p->entity) : NULL;
        if (a)
            p->level = a;
        if (b == NULL)
            return xl_err_set(p->err, p->errlen, XL_ERR_NOMEM, "extract: out of memory");
        p->entity = b;
    }
    p->nrec = n;
    for (size_t i = 0; i < n; i++) {
        p->level[i] = -2; /* not in the run: an error below */
        p->entity[i] = 0;
    }
    return linker_store_run_rows(p->st, p->run.run, sub->id, s_rows_cb, p, p->err, p->errlen);
}

static int
s_cohort_add(struct s_prep *p, uint64_t entity)
{
    if (p->ncohort == p->capcohort) {
        size_t cap = p->capcohort ? 2 * p->capcohort : 1024;
        void *n = realloc(p->cohort, cap * sizeof *p->cohort);
        if (n == NULL)
            return xl_err_set(p->err, p->errlen, XL_ERR_NOMEM, "extract: out of memory");
        p->cohort = n;
        p->capcohort = cap;
    }
    p->cohort[p->ncohort++] = entity;
    return 0;
}

static int
s_row_cb(void *ctx, uint64_t index, const uint8_t *rec, size_t len)
{
    struct s_prep *p = ctx;
    Crosslink__ExtractRow row = CROSSLINK__EXTRACT_ROW__INIT;
    uint8_t mac[XL_HASH_BYTES], be[8];
    struct xl_iov part = {be, sizeof be};
    enum linker_band band;
    const uint8_t *payload;
    size_t paylen, packed;
    FILE *f;

    if (index >= p->nrec || p->level[index] == -2)
        return xl_err_set(p->err, p->errlen, XL_ERR_FORMAT,
                          "extract: a record of %s/%s has no result in link run %lld",
                          p->cur->agency, p->cur->dataset, (long long)p->run.run);
    if (p->cohort != NULL &&
        bsearch(&p->entity[index], p->cohort, p->ncohort, sizeof *p->cohort, xl_u64_cmp) == NULL)
        return 0; /* population = cohort: a child outside it */
    if (s_payload_of(rec, len, &payload, &paylen) != 0)
        return xl_err_set(p->err, p->errlen, XL_ERR_FORMAT,
                          "extract: a stored record of %s/%s does not decode", p->cur->agency,
                          p->cur->dataset);
    /* A row goes out whole, readable on its own: a compact payload gets its
     * submission's key back (ingest took compact ones only with a key). */
    if (paylen > 0 && payload[0] == XL_PAYLOAD_COMPACT) {
        if (paylen + XL_PAYLOAD_KEY > p->wholecap) {
            void *n = realloc(p->whole, paylen + XL_PAYLOAD_KEY);
            if (n == NULL)
                return xl_err_set(p->err, p->errlen, XL_ERR_NOMEM, "extract: out of memory");
            p->whole = n;
            p->wholecap = paylen + XL_PAYLOAD_KEY;
        }
        if (!p->cur->has_payload_key ||
            xl_payload_whole(p->cur->payload_key, payload, paylen, p->whole) != 0)
            return xl_err_set(p->err, p->errlen, XL_ERR_FORMAT,
                              "extract: a stored payload of %s/%s has no key to go with it",
                              p->cur->agency, p->cur->dataset);
        payload = p->whole;
        paylen += XL_PAYLOAD_KEY;
    }
    band = linker_level_band(p->x->srv->ctx.spec, p->level[index]);
    if (band > p->e->project.min_evidence)
        band = LINKER_BAND_SINGLE;
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(p->entity[index] >> (56 - 8 * i));
    xl_mac_compute(p->mac, &part, 1, mac);
    row.pseudonym.data = mac;
    row.pseudonym.len = S_PSEUDONYM_BYTES;
    row.agency = (char *)p->cur->agency;
    row.dataset = (char *)p->cur->dataset;
    row.payload.data = (uint8_t *)payload;
    row.payload.len = paylen;
    row.evidence = (char *)linker_band_name(band);
    packed = crosslink__extract_row__get_packed_size(&row);
    if (packed + 4 > p->packcap) {
        void *n = realloc(p->packbuf, packed + 4);
        if (n == NULL)
            return xl_err_set(p->err, p->errlen, XL_ERR_NOMEM, "extract: out of memory");
        p->packbuf = n;
        p->packcap = packed + 4;
    }
    p->packbuf[0] = (uint8_t)(packed >> 24);
    p->packbuf[1] = (uint8_t)(packed >> 16);
    p->packbuf[2] = (uint8_t)(packed >> 8);
    p->packbuf[3] = (uint8_t)packed;
    crosslink__extract_row__pack(&row, p->packbuf + 4);
    sodium_memzero(mac, sizeof mac);
    /* Rows go to a bucket drawn at random: with each bucket shuffled after,
     * every order of the rows is equally likely. */
    f = p->buckets.f[s_rng_uniform(&p->rng, (uint32_t)p->buckets.n)];
    if (fwrite(p->packbuf, 1, packed + 4, f) != packed + 4)
        return s_write_fail(p, "a bucket of the shuffle");
    p->cur_rows++;
    p->bands[band]++;
    return 0;
}

/* Appends the rows of one bucket, shuffled, to the spool, cutting pages, and
 * adds them to the rows' hash h. */
static int
s_spill(struct s_prep *p, FILE *b, FILE *spool, EVP_MD_CTX *h, uint64_t *page_bytes,
        uint64_t *page_rows, size_t *cappages)
{
    struct s_extract *e = p->e;
    struct xl_bucket_rows rows;
    uint8_t *out = NULL;
    size_t outlen = 0;
    int r;

    r = xl_bucket_read(b, &rows, p->err, p->errlen);
    if (r != 0 || rows.n == 0)
        return r;
    out = malloc(rows.len);
    if (out == NULL) {
        r = xl_err_set(p->err, p->errlen, XL_ERR_NOMEM, "extract: out of memory");
        goto out;
    }
    /* Fisher-Yates. */
    for (size_t i = rows.n; i > 1; i--) {
        size_t j = s_rng_uniform(&p->rng, (uint32_t)i), t = rows.off[i - 1];
        rows.off[i - 1] = rows.off[j];
        rows.off[j] = t;
    }
    for (size_t i = 0; i < rows.n; i++) {
        const uint8_t *row = rows.data + rows.off[i];
        size_t len =
            4 + ((size_t)row[0] << 24 | (size_t)row[1] << 16 | (size_t)row[2] << 8 | row[3]);
        if (*page_rows > 0 && *page_bytes + len > LINKER_EXTRACT_PAGE) {
            if (e->pages + 2 > *cappages) {
                size_t nc = *cappages * 2;
                void *a = realloc(e->page_off, nc * sizeof *e->page_off);
                void *c = a ? realloc(e->page_rows, nc * sizeof *e->page_rows) : NULL;
                if (a)
                    e->page_off = a;
                if (c == NULL) {
                    r = xl_err_set(p->err, p->errlen, XL_ERR_NOMEM, "extract: out of memory");
                    goto out;
                }
                e->page_rows = c;
                *cappages = nc;
            }
            e->page_rows[e->pages] = *page_rows;
            e->pages++;
            e->page_off[e->pages] = e->bytes;
            *page_bytes = 0;
            *page_rows = 0;
        }
        memcpy(out + outlen, row, len);
        outlen += len;
        e->bytes += len;
        *page_bytes += len;
        (*page_rows)++;
        e->rows++;
    }
    if (EVP_DigestUpdate(h, out, outlen) != 1) {
        r = xl_err_set(p->err, p->errlen, XL_ERR_CRYPTO, "extract: SHA-256 failed");
        goto out;
    }
    if (fwrite(out, 1, outlen, spool) != outlen)
        r = s_write_fail(p, "the extract's spool");
out:
    xl_bucket_rows_free(&rows);
    free(out);
    return r;
}

/* The project secret and its pseudonym MAC for grouping g. */
static int
s_pseudonym_mac(struct s_prep *p)
{
    static const char label[] = "crosslink project secret";
    uint8_t *secret = xl_secret_alloc(XL_HASH_BYTES);
    struct xl_iov parts[2] = {{label, sizeof label}, {p->e->project.id, strlen(p->e->project.id)}};
    static const char name[] = "crosslink pseudonym"; /* with its NUL, then the grouping */
    uint8_t prefix[sizeof name + 1];
    int r;

    memcpy(prefix, name, sizeof name);
    prefix[sizeof name] = (uint8_t)p->graph;
    p->mac = xl_secret_alloc(sizeof *p->mac);
    if (secret == NULL || p->mac == NULL) {
        xl_secret_free(secret);
        return xl_err_set(p->err, p->errlen, XL_ERR_NOMEM, "extract: out of memory");
    }
    r = xl_hmac_sha256(p->x->pkey->secret, p->x->pkey->secretlen, parts, 2, secret);
    if (r == 0)
        r = xl_mac_init(p->mac, secret, XL_HASH_BYTES, prefix, sizeof prefix);
    xl_secret_free(secret);
    return r != 0 ? xl_err_set(p->err, p->errlen, XL_ERR_CRYPTO, "extract: key derivation failed")
                  : 0;
}

/* The manifest: what the analyst checks the rows against. */
static int
s_manifest(struct s_prep *p, const uint8_t rows_hash[XL_HASH_BYTES])
{
    struct s_extract *e = p->e;
    const struct linker_project *pr = &e->project;
    struct linker_ctx *ctx = &p->x->srv->ctx;
    char hex[2 * XL_HASH_BYTES + 1], when[21], cohort[2 * XL_NAME_MAX];
    cJSON *m = cJSON_CreateObject(), *ds, *sdc, *bands;
    char *text;

    if (m == NULL)
        return XL_ERR_NOMEM;
    cJSON_AddStringToObject(m, "format", "crosslink-extract/1");
    cJSON_AddStringToObject(m, "project", pr->id);
    cJSON_AddStringToObject(m, "purpose", pr->purpose);
    cJSON_AddStringToObject(m, "legal_basis", pr->legal_basis);
    cJSON_AddStringToObject(m, "expires", pr->expires);
    xl_hex(e->id, LINKER_EXTRACT_ID_BYTES, hex);
    cJSON_AddStringToObject(m, "extract_id", hex);
    cJSON_AddStringToObject(m, "analyst_key", e->key_id);
    linker_iso_time(time(NULL), when);
    cJSON_AddStringToObject(m, "created", when);
    cJSON_AddNumberToObject(m, "run", (double)p->run.run);
    linker_iso_time((time_t)p->run.finished, when);
    cJSON_AddStringToObject(m, "run_finished", when);
    cJSON_AddNumberToObject(m, "epoch", p->run.epoch);
    xl_hex(p->run.spec, XL_HASH_BYTES, hex);
    cJSON_AddStringToObject(m, "spec", hex);
    cJSON_AddStringToObject(m, "min_evidence", linker_band_name(pr->min_evidence));
    cJSON_AddStringToObject(m, "population", pr->cohort_only ? "cohort" : "all");
    if (pr->cohort.agency[0] != '\0') {
        snprintf(cohort, sizeof cohort, "%s/%s", pr->cohort.agency, pr->cohort.dataset);
        cJSON_AddStringToObject(m, "cohort", cohort);
    } else {
        cJSON_AddNullToObject(m, "cohort");
    }
    if (pr->index_date[0] != '\0')
        cJSON_AddStringToObject(m, "index_date", pr->index_date);
    else
        cJSON_AddNullToObject(m, "index_date");
    sdc = cJSON_AddObjectToObject(m, "sdc");
    cJSON_AddNumberToObject(sdc, "min_count", pr->sdc_min_count);
    cJSON_AddNumberToObject(sdc, "round_to", pr->sdc_round_to);
    ds = cJSON_AddArrayToObject(m, "datasets");
    for (size_t i = 0; i < p->nsubs; i++) {
        const struct linker_submission *s = &p->subs[i];
        cJSON *d, *attrs = NULL;
        char *json = NULL;
        if (!s_selected(e, s))
            continue;
        d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "agency", s->agency);
        cJSON_AddStringToObject(d, "dataset", s->dataset);
        cJSON_AddNumberToObject(d, "rows", (double)p->ds_rows[i]);
        if (linker_store_attributes(p->st, s->id, &json, p->err, p->errlen) == 0)
            attrs = cJSON_Parse(json);
        free(json);
        cJSON_AddItemToObject(d, "attributes", attrs != NULL ? attrs : cJSON_CreateArray());
        cJSON_AddItemToArray(ds, d);
    }
    bands = cJSON_AddObjectToObject(m, "bands");
    for (int b = 0; b < LINKER_NBANDS; b++)
        cJSON_AddNumberToObject(bands, linker_band_name((enum linker_band)b), (double)p->bands[b]);
    cJSON_AddNumberToObject(m, "rows", (double)e->rows);
    cJSON_AddNumberToObject(m, "pages", (double)e->pages);
    xl_hex(rows_hash, XL_HASH_BYTES, hex);
    cJSON_AddStringToObject(m, "rows_hash", hex);
    xl_hex(ctx->sign->pub, XL_SIGN_PK_BYTES, hex);
    cJSON_AddStringToObject(m, "linker_key", hex);
    text = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    if (text == NULL)
        return XL_ERR_NOMEM;
    e->manifest = text;
    e->manifestlen = strlen(text);
    return xl_sign(ctx->sign->secret, e->manifest, e->manifestlen, e->sig);
}

static void
s_audit_extract(struct s_prep *p)
{
    struct s_extract *e = p->e;
    uint8_t h[XL_HASH_BYTES];
    char hex[2 * XL_HASH_BYTES + 1];
    cJSON *d = cJSON_CreateObject(), *ds;

    if (d == NULL)
        return;
    cJSON_AddStringToObject(d, "project", e->project.id);
    xl_hex(e->id, LINKER_EXTRACT_ID_BYTES, hex);
    cJSON_AddStringToObject(d, "extract_id", hex);
    cJSON_AddStringToObject(d, "purpose", e->project.purpose);
    cJSON_AddNumberToObject(d, "run", (double)p->run.run);
    cJSON_AddNumberToObject(d, "rows", (double)e->rows);
    ds = cJSON_AddArrayToObject(d, "datasets");
    for (size_t i = 0; i < p->nsubs; i++) {
        cJSON *o;
        if (!s_selected(e, &p->subs[i]))
            continue;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "agency", p->subs[i].agency);
        cJSON_AddStringToObject(o, "dataset", p->subs[i].dataset);
        cJSON_AddNumberToObject(o, "rows", (double)p->ds_rows[i]);
        cJSON_AddItemToArray(ds, o);
    }
    xl_sha256(e->manifest, e->manifestlen, h);
    xl_hex(h, XL_HASH_BYTES, hex);
    cJSON_AddStringToObject(d, "manifest_sha256", hex);
    linker_audit_note(p->x->srv->ctx.audit, e->key_id, "analyst", "extract", d);
}

static int
s_prepare(struct linker_extracts *x, struct s_extract *e, char *err, size_t errlen)
{
    struct linker_ctx *ctx = &x->srv->ctx;
    struct s_prep p = {.x = x, .e = e, .err = err, .errlen = errlen};
    char dir[LINKER_PATH_MAX];
    EVP_MD_CTX *h = NULL;
    uint8_t rows_hash[XL_HASH_BYTES];
    uint64_t total = 0, page_bytes = 0, page_rows = 0;
    size_t cappages = 64;
    FILE *spool = NULL;
    int r, fd, snap = 0;

    snprintf(dir, sizeof dir, "%s", ctx->cfg.database_path);
    if (strrchr(dir, '/') != NULL)
        *strrchr(dir, '/') = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    p.graph = e->project.min_evidence == LINKER_BAND_IDENTIFIER ? LINKER_GRAPH_IDENTIFIER
              : e->project.min_evidence == LINKER_BAND_KEYS     ? LINKER_GRAPH_KEYS
                                                                : LINKER_GRAPH_ALL;
    r = linker_store_open_readonly(ctx->cfg.database_path, &p.st, err, errlen);
    if (r == 0)
        r = s_pseudonym_mac(&p);
    /* One read transaction: a link run saved meanwhile does not mix in. */
    if (r == 0 && (r = linker_store_snapshot(p.st, 1, err, errlen)) == 0)
        snap = 1;
    if (r == 0) {
        r = linker_store_run_last(p.st, &p.run, err, errlen);
        if (r == XL_ERR_NOTFOUND)
            xl_err_set(err, errlen, r, "no link run has been made yet");
    }
    if (r == 0)
        r = linker_store_run_submissions(p.st, p.run.run, s_sub_cb, &p, err, errlen);
    if (r != 0)
        goto out;
    p.ds_rows = calloc(p.nsubs ? p.nsubs : 1, sizeof *p.ds_rows);
    if (p.ds_rows == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "extract: out of memory");
        goto out;
    }
    /* population = cohort: the entities of the cohort dataset's records. */
    if (e->project.cohort_only) {
        for (size_t i = 0; i < p.nsubs && r == 0; i++) {
            if (!s_is_cohort(e, &p.subs[i]))
                continue;
            r = s_load_rows(&p, &p.subs[i]);
            for (size_t k = 0; r == 0 && k < p.nrec; k++)
                r = s_cohort_add(&p, p.entity[k]);
        }
        if (r == 0 && p.cohort == NULL)
            r = s_cohort_add(&p, 0); /* an empty cohort: no row passes (entity 0 is never given) */
        if (r != 0)
            goto out;
        qsort(p.cohort, p.ncohort, sizeof *p.cohort, xl_u64_cmp);
    }
    for (size_t i = 0; i < p.nsubs; i++)
        total += s_selected(e, &p.subs[i]) ? p.subs[i].record_count : 0;
    r = xl_buckets_open(&p.buckets, dir, total, S_BUCKET_ROWS, S_BUCKETS_MAX, S_BUCKET_BUFS, err,
                        errlen);
    if (r != 0)
        goto out;
    s_rng_init(&p.rng);
    /* Pass 1: every row, to a random bucket. */
    for (size_t i = 0; i < p.nsubs && r == 0; i++) {
        if (!s_selected(e, &p.subs[i]))
            continue;
        if (s_stopping(x)) {
            r = xl_err_set(err, errlen, XL_ERR_UNAVAILABLE, "the linker is stopping");
            break;
        }
        p.cur = &p.subs[i];
        p.cur_rows = 0;
        r = s_load_rows(&p, p.cur);
        if (r == 0)
            r = linker_store_submission_records(p.st, p.cur->id, s_row_cb, &p, err, errlen);
        p.ds_rows[i] = p.cur_rows;
    }
    if (snap) {
        int r2 = linker_store_snapshot(p.st, 0, err, errlen);
        snap = 0;
        if (r == 0)
            r = r2;
    }
    if (r != 0)
        goto out;
    /* Pass 2: each bucket shuffled into the spool, page by page. */
    fd = xl_tmpfile(dir, err, errlen);
    if (fd < 0) {
        r = fd;
        goto out;
    }
    e->spool = fd;
    spool = fdopen(dup(fd), "w");
    e->page_off = calloc(cappages, sizeof *e->page_off);
    e->page_rows = calloc(cappages, sizeof *e->page_rows);
    h = EVP_MD_CTX_new();
    if (spool == NULL || e->page_off == NULL || e->page_rows == NULL || h == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "extract: out of memory");
        goto out;
    }
    /* OpenSSL's SHA-256: several times libsodium's where the CPU has SHA
     * instructions, and the rows are hashed here and again at the analyst. */
    if (EVP_DigestInit_ex(h, EVP_sha256(), NULL) != 1) {
        r = xl_err_set(err, errlen, XL_ERR_CRYPTO, "extract: SHA-256 failed");
        goto out;
    }
    for (size_t b = 0; b < p.buckets.n && r == 0; b++) {
        r = s_spill(&p, p.buckets.f[b], spool, h, &page_bytes, &page_rows, &cappages);
        fclose(p.buckets.f[b]); /* its disk space back before the next is spooled */
        p.buckets.f[b] = NULL;
    }
    if (r == 0 && page_rows > 0) {
        e->page_rows[e->pages] = page_rows;
        e->pages++;
        e->page_off[e->pages] = e->bytes;
    }
    if (r == 0 && fflush(spool) != 0)
        r = s_write_fail(&p, "the extract's spool");
    if (r != 0)
        goto out;
    if (EVP_DigestFinal_ex(h, rows_hash, NULL) != 1) {
        r = xl_err_set(err, errlen, XL_ERR_CRYPTO, "extract: SHA-256 failed");
        goto out;
    }
    r = s_manifest(&p, rows_hash);
    if (r != 0) {
        r = xl_err_set(err, errlen, r, "extract: cannot write or sign the manifest");
        goto out;
    }
    s_audit_extract(&p);
out:
    if (snap)
        (void)linker_store_snapshot(p.st, 0, NULL, 0);
    if (spool != NULL)
        fclose(spool);
    xl_buckets_close(&p.buckets);
    EVP_MD_CTX_free(h);
    sodium_memzero(&p.rng, sizeof p.rng);
    linker_store_close(&p.st);
    if (p.mac != NULL) {
        xl_mac_wipe(p.mac);
        xl_secret_free(p.mac);
    }
    free(p.subs);
    free(p.cohort);
    free(p.level);
    free(p.entity);
    free(p.ds_rows);
    free(p.packbuf);
    free(p.whole);
    return r;
}

static void *
s_worker(void *arg)
{
    struct linker_extracts *x = arg;

    pthread_mutex_lock(&x->lock);
    while (!x->stop) {
        struct s_extract *e = NULL;
        char err[XL_ERRBUF] = "";
        double t0;
        int r;
        for (size_t i = 0; i < LINKER_EXTRACTS_MAX && e == NULL; i++) {
            if (x->slot[i].state == S_QUEUED)
                e = &x->slot[i];
        }
        if (e == NULL) {
            pthread_cond_wait(&x->wake, &x->lock);
            continue;
        }
        e->state = S_PREPARING;
        pthread_mutex_unlock(&x->lock);
        t0 = xl_monotonic();
        r = s_prepare(x, e, err, sizeof err);
        if (r != 0)
            xl_error("extract for project %s (key %s) failed: %s", e->project.id, e->key_id, err);
        else
            xl_info("extract of project %s for key %s prepared in %.1f s: %llu rows in %llu pages",
                    e->project.id, e->key_id, xl_monotonic() - t0, (unsigned long long)e->rows,
                    (unsigned long long)e->pages);
        pthread_mutex_lock(&x->lock);
        e->fail_code = r;
        snprintf(e->fail_msg, sizeof e->fail_msg, "%s", err);
        e->state = r == 0 ? S_READY : S_FAILED;
    }
    pthread_mutex_unlock(&x->lock);
    return NULL;
}

/* ---- the loop's side --------------------------------------------------------- */

static void
s_slot_free(struct s_extract *e)
{
    if (e->spool > 0)
        close(e->spool);
    free(e->page_off);
    free(e->page_rows);
    cJSON_free(e->manifest);
    free(e->only);
    memset(e, 0, sizeof *e);
    e->spool = -1;
}

static int
s_pseudonym_key(struct linker_extracts *x, char *err, size_t errlen)
{
    struct linker_ctx *ctx = &x->srv->ctx;
    const char *path = ctx->cfg.pseudonym_key_path;
    struct xl_keyfile *kf;
    cJSON *d;
    int r;

    r = xl_keyfile_load(path, XL_KEY_PSEUDONYM_SECRET, &x->pkey, err, errlen);
    if (r != XL_ERR_NOTFOUND)
        return r;
    /* First start: the linker makes its own, which never leaves it. */
    kf = xl_keyfile_new(XL_KEY_PSEUDONYM_SECRET);
    if (kf == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    snprintf(kf->name, sizeof kf->name, "linker-pseudonyms");
    snprintf(kf->role, sizeof kf->role, "linker");
    xl_today(kf->created);
    r = xl_keyfile_generate(kf);
    if (r == 0)
        r = xl_keyfile_write(path, kf, 0, err, errlen);
    if (r != 0) {
        xl_keyfile_destroy(&kf);
        return r;
    }
    x->pkey = kf;
    xl_info("created the pseudonym key %s (back it up with the database: without it every "
            "project's pseudonyms change)",
            path);
    d = cJSON_CreateObject();
    if (d != NULL)
        cJSON_AddStringToObject(d, "path", path);
    linker_audit_note(ctx->audit, "linker", "linker", "pseudonym_key.created", d);
    return 0;
}

struct linker_extracts *
linker_extracts_new(struct linker_server *srv, char *err, size_t errlen)
{
    struct linker_extracts *x = calloc(1, sizeof *x);

    if (x == NULL) {
        xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    x->srv = srv;
    pthread_mutex_init(&x->lock, NULL);
    pthread_cond_init(&x->wake, NULL);
    for (size_t i = 0; i < LINKER_EXTRACTS_MAX; i++)
        x->slot[i].spool = -1;
    if (linker_projects_load(srv->ctx.cfg.projects_path, &x->projects, err, errlen) != 0 ||
        s_pseudonym_key(x, err, errlen) != 0) {
        linker_extracts_destroy(&x);
        return NULL;
    }
    if (pthread_create(&x->thread, NULL, s_worker, x) != 0) {
        xl_err_set(err, errlen, XL_ERR_INTERNAL, "cannot start the extract thread");
        linker_extracts_destroy(&x);
        return NULL;
    }
    x->started = 1;
    if (!x->projects->present)
        xl_info("no projects file at %s: every extract will be refused",
                srv->ctx.cfg.projects_path);
    return x;
}

static void
s_answer_error(struct linker_extracts *x, struct s_extract *e, int code, const char *msg)
{
    struct linker_answer res;

    memset(&res, 0, sizeof res);
    linker_answer_set(&res, code, "%s", msg);
    linker_reply(x->srv, e->rid, e->rlen, e->request_id, &res);
    linker_answer_clear(&res);
}

void
linker_extracts_destroy(struct linker_extracts **xp)
{
    struct linker_extracts *x;

    if (xp == NULL || *xp == NULL)
        return;
    x = *xp;
    if (x->started) {
        pthread_mutex_lock(&x->lock);
        x->stop = 1;
        pthread_cond_signal(&x->wake);
        pthread_mutex_unlock(&x->lock);
        pthread_join(x->thread, NULL);
    }
    for (size_t i = 0; i < LINKER_EXTRACTS_MAX; i++) {
        struct s_extract *e = &x->slot[i];
        if (e->state == S_QUEUED || e->state == S_PREPARING ||
            (e->state == S_FAILED && e->rlen > 0) || (e->state == S_READY && e->rlen > 0))
            s_answer_error(x, e, XL_ERR_UNAVAILABLE, "the linker is stopping; ask again later");
        s_slot_free(e);
    }
    linker_projects_free(&x->projects);
    xl_keyfile_destroy(&x->pkey);
    pthread_mutex_destroy(&x->lock);
    pthread_cond_destroy(&x->wake);
    free(x);
    *xp = NULL;
}

void
linker_extracts_reload(struct linker_extracts *x)
{
    struct linker_projects *np = NULL;
    char err[XL_ERRBUF], hex[2 * XL_HASH_BYTES + 1];
    cJSON *d;

    if (linker_projects_load(x->srv->ctx.cfg.projects_path, &np, err, sizeof err) != 0) {
        xl_error("projects reload failed; keeping the projects in force: %s", err);
        d = cJSON_CreateObject();
        if (d != NULL) {
            cJSON_AddStringToObject(d, "result", "failed");
            cJSON_AddStringToObject(d, "reason", err);
        }
    } else {
        d = linker_projects_diff(x->projects, np);
        if (d != NULL) {
            cJSON_AddStringToObject(d, "result", "ok");
            cJSON_AddNumberToObject(d, "projects", (double)np->n);
            xl_hex(np->hash, XL_HASH_BYTES, hex);
            cJSON_AddStringToObject(d, "file_sha256", np->present ? hex : "none");
        }
        xl_info("projects reloaded: %zu approved projects", np->n);
        linker_projects_free(&x->projects);
        x->projects = np;
    }
    linker_audit_note(x->srv->ctx.audit, "linker", "linker", "projects.reload", d);
}

size_t
linker_extracts_projects(const struct linker_extracts *x, uint8_t hash[XL_HASH_BYTES])
{
    memcpy(hash, x->projects->hash, XL_HASH_BYTES);
    return x->projects->n;
}

/* Sends an encoded envelope of body `body` to the peer. */
static void
s_send(struct linker_extracts *x, const void *rid, size_t rlen, xl_envelope *env)
{
    uint8_t *out = NULL;
    size_t outlen = 0;

    if (xl_wire_encode(env, &out, &outlen) != 0) {
        xl_error("out of memory encoding an extract reply");
        return;
    }
    linker_send(x->srv, rid, rlen, out, outlen);
    free(out);
}

static void
s_send_ready(struct linker_extracts *x, struct s_extract *e)
{
    xl_envelope env = CROSSLINK__ENVELOPE__INIT;
    Crosslink__ExtractReady ready = CROSSLINK__EXTRACT_READY__INIT;

    env.request_id = e->request_id;
    env.body_case = CROSSLINK__ENVELOPE__BODY_EXTRACT_READY;
    env.extract_ready = &ready;
    ready.extract_id.data = e->id;
    ready.extract_id.len = LINKER_EXTRACT_ID_BYTES;
    ready.rows = e->rows;
    ready.pages = e->pages;
    ready.bytes = e->bytes;
    s_send(x, e->rid, e->rlen, &env);
}

void
linker_extracts_tick(struct linker_extracts *x)
{
    double now = xl_monotonic();

    pthread_mutex_lock(&x->lock);
    for (size_t i = 0; i < LINKER_EXTRACTS_MAX; i++) {
        struct s_extract *e = &x->slot[i];
        if ((e->state == S_READY || e->state == S_FAILED) && e->rlen > 0) {
            if (e->state == S_READY)
                s_send_ready(x, e);
            else
                s_answer_error(x, e,
                               e->fail_code == XL_ERR_NOSPACE ? XL_ERR_UNAVAILABLE
                               : e->fail_code == XL_ERR_UNAVAILABLE ||
                                       e->fail_code == XL_ERR_NOTFOUND
                                   ? e->fail_code
                                   : XL_ERR_INTERNAL,
                               e->fail_code == XL_ERR_NOTFOUND
                                   ? e->fail_msg
                                   : "the extract could not be prepared; the operator's log "
                                     "says why; try again later");
            linker_admission_busy(x->srv->adm, e->fd, 0);
            e->rlen = 0;
            e->last_used = now;
            if (e->state == S_FAILED)
                s_slot_free(e);
        } else if (e->state == S_READY && now - e->last_used > LINKER_EXTRACT_IDLE) {
            xl_info("extract of project %s for key %s dropped after %.0f s unasked", e->project.id,
                    e->key_id, LINKER_EXTRACT_IDLE);
            s_slot_free(e);
        }
    }
    pthread_mutex_unlock(&x->lock);
}

/* A refusal by one of the project's rules, for the table to audit. */
static void
s_refuse(struct linker_answer *res, int code, const char *project, const char *rule,
         const char *msg)
{
    linker_answer_set(res, code, "%s", msg);
    res->refusal = cJSON_CreateObject();
    if (res->refusal != NULL) {
        cJSON_AddStringToObject(res->refusal, "project", project);
        cJSON_AddStringToObject(res->refusal, "rule", rule);
    }
}

/* A slot for a new extract of key_id (under the lock): a free one, else the
 * least recently used delivered one (kept only for a repeated page). A key has
 * at most LINKER_EXTRACTS_PER_KEY extracts in preparation or not yet
 * delivered; at that limit its least recently used prepared one gives way
 * (its analyst stopped asking), and only when all are in preparation is the
 * request refused (*busy = 1). */
static struct s_extract *
s_slot_for(struct linker_extracts *x, const char *key_id, int *busy)
{
    struct s_extract *free_slot = NULL, *delivered = NULL, *ready = NULL;
    size_t mine = 0;

    for (size_t i = 0; i < LINKER_EXTRACTS_MAX; i++) {
        struct s_extract *s = &x->slot[i];
        if (s->state == S_FREE) {
            if (free_slot == NULL)
                free_slot = s;
        } else if (s->delivered) {
            if (delivered == NULL || s->last_used < delivered->last_used)
                delivered = s;
        } else if (strcmp(s->key_id, key_id) == 0) {
            mine++;
            if (s->state == S_READY && s->rlen == 0 &&
                (ready == NULL || s->last_used < ready->last_used))
                ready = s;
        }
    }
    if (mine >= LINKER_EXTRACTS_PER_KEY) {
        *busy = ready == NULL;
        if (ready != NULL)
            s_slot_free(ready);
        return ready;
    }
    if (free_slot == NULL && delivered != NULL) {
        s_slot_free(delivered);
        free_slot = delivered;
    }
    return free_slot;
}

/* A new extract: the project's rules, then a slot for the worker. */
static void
s_start(struct linker_extracts *x, const struct linker_actor *who, const void *rid, size_t rlen,
        uint64_t request_id, int fd, const Crosslink__ExtractRequest *q, struct linker_answer *res)
{
    struct linker_ctx *ctx = &x->srv->ctx;
    const struct linker_project *pr = NULL;
    struct linker_project_refusal why;
    struct s_extract *e = NULL;
    char today[11], err[XL_ERRBUF];
    int owed = 0, busy = 0, r;

    xl_today(today);
    r = linker_project_authorise(x->projects, q->project, who->key_id, today, q->datasets,
                                 q->n_datasets, &pr, &why);
    if (r != 0) {
        s_refuse(res, r, q->project, why.rule, why.msg);
        return;
    }
    if (linker_store_link_owed(ctx->store, &owed, err, sizeof err) != 0) {
        linker_answer_fail(res, XL_ERR_UNAVAILABLE, "the linker cannot read its store; try later");
        return;
    }
    if (owed) {
        linker_schedule_wanted(x->srv->sched); /* not held back by the analyst's own retries */
        linker_answer_fail(res, XL_ERR_UNAVAILABLE,
                           "a link run is due after recent submissions: the extract would miss "
                           "them; try again in a minute");
        return;
    }
    pthread_mutex_lock(&x->lock);
    e = s_slot_for(x, who->key_id, &busy);
    if (e == NULL) {
        pthread_mutex_unlock(&x->lock);
        linker_answer_fail(res, XL_ERR_UNAVAILABLE,
                           busy ? "key %s already has %d extracts in preparation; wait for them"
                                : "the linker is preparing as many extracts as it can; try again "
                                  "later",
                           who->key_id, LINKER_EXTRACTS_PER_KEY);
        return;
    }
    e->project = *pr;
    if (q->n_datasets > 0) {
        e->only = calloc(q->n_datasets, sizeof *e->only);
        if (e->only == NULL) {
            pthread_mutex_unlock(&x->lock);
            linker_answer_fail(res, XL_ERR_NOMEM, "out of memory");
            return;
        }
        for (size_t i = 0; i < q->n_datasets; i++)
            snprintf(e->only[i], sizeof e->only[i], "%s", q->datasets[i]);
        e->nonly = q->n_datasets;
    }
    xl_random(e->id, sizeof e->id);
    snprintf(e->key_id, sizeof e->key_id, "%s", who->key_id);
    memcpy(e->rid, rid, rlen);
    e->rlen = rlen;
    e->request_id = request_id;
    e->fd = fd;
    e->state = S_QUEUED;
    pthread_cond_signal(&x->wake);
    pthread_mutex_unlock(&x->lock);
    linker_admission_busy(x->srv->adm, fd, 1);
    res->kind = LINKER_REPLY_LATER;
}

/* A page, or the manifest after the last page, of a prepared extract. */
static void
s_page(struct linker_extracts *x, const struct linker_actor *who, const void *rid, size_t rlen,
       uint64_t request_id, const Crosslink__ExtractRequest *q, struct linker_answer *res)
{
    xl_envelope env = CROSSLINK__ENVELOPE__INIT;
    Crosslink__ExtractRows rows = CROSSLINK__EXTRACT_ROWS__INIT;
    Crosslink__ExtractEnd end = CROSSLINK__EXTRACT_END__INIT;
    struct s_extract *e = NULL;
    uint8_t *buf = NULL;

    pthread_mutex_lock(&x->lock);
    for (size_t i = 0; i < LINKER_EXTRACTS_MAX; i++) {
        if (x->slot[i].state == S_READY && q->extract_id.len == LINKER_EXTRACT_ID_BYTES &&
            memcmp(x->slot[i].id, q->extract_id.data, LINKER_EXTRACT_ID_BYTES) == 0)
            e = &x->slot[i];
    }
    if (e == NULL || strcmp(e->key_id, who->key_id) != 0 ||
        strcmp(e->project.id, q->project) != 0) {
        pthread_mutex_unlock(&x->lock);
        /* Another key's extract is answered as unknown: ids do not leak. */
        linker_answer_fail(res, XL_ERR_NOTFOUND,
                           "no extract of that id is ready for this key (extracts are dropped "
                           "after %.0f s unasked): ask for a new one",
                           LINKER_EXTRACT_IDLE);
        return;
    }
    e->last_used = xl_monotonic();
    env.request_id = request_id;
    if (q->page < e->pages) {
        uint64_t off = e->page_off[q->page], len = e->page_off[q->page + 1] - off;
        buf = malloc(len ? len : 1);
        if (buf == NULL || pread(e->spool, buf, len, (off_t)off) != (ssize_t)len) {
            pthread_mutex_unlock(&x->lock);
            free(buf);
            linker_answer_fail(res, XL_ERR_INTERNAL, "the extract's page could not be read");
            return;
        }
        env.body_case = CROSSLINK__ENVELOPE__BODY_EXTRACT_ROWS;
        env.extract_rows = &rows;
        rows.page = q->page;
        rows.extract_id.data = e->id;
        rows.extract_id.len = LINKER_EXTRACT_ID_BYTES;
        rows.rows.data = buf;
        rows.rows.len = len;
        rows.count = e->page_rows[q->page];
    } else if (q->page == e->pages) {
        env.body_case = CROSSLINK__ENVELOPE__BODY_EXTRACT_END;
        env.extract_end = &end;
        end.extract_id.data = e->id;
        end.extract_id.len = LINKER_EXTRACT_ID_BYTES;
        end.manifest.data = (uint8_t *)e->manifest;
        end.manifest.len = e->manifestlen;
        end.signature.data = e->sig;
        end.signature.len = XL_SIG_BYTES;
    } else {
        pthread_mutex_unlock(&x->lock);
        linker_answer_fail(res, XL_ERR_FORMAT,
                           "the extract has %llu pages; page %llu is past its end",
                           (unsigned long long)e->pages, (unsigned long long)q->page);
        return;
    }
    s_send(x, rid, rlen, &env);
    e->end_served |= q->page == e->pages;
    e->last_served |= q->page + 1 >= e->pages;
    if (e->end_served && e->last_served && !e->delivered) {
        cJSON *d = cJSON_CreateObject();
        char hex[2 * LINKER_EXTRACT_ID_BYTES + 1];
        xl_hex(e->id, LINKER_EXTRACT_ID_BYTES, hex);
        if (d != NULL) {
            cJSON_AddStringToObject(d, "project", e->project.id);
            cJSON_AddStringToObject(d, "extract_id", hex);
            cJSON_AddNumberToObject(d, "rows", (double)e->rows);
            cJSON_AddNumberToObject(d, "pages", (double)e->pages);
        }
        linker_audit_note(x->srv->ctx.audit, e->key_id, "analyst", "extract.delivered", d);
        e->delivered = 1;
    }
    pthread_mutex_unlock(&x->lock);
    free(buf);
    res->kind = LINKER_REPLY_LATER; /* answered */
}

void
linker_extract_request(struct linker_extracts *x, const struct linker_actor *who, const void *rid,
                       size_t rlen, uint64_t request_id, int fd, const Crosslink__ExtractRequest *q,
                       struct linker_answer *res)
{
    if (q->project == NULL || q->project[0] == '\0') {
        linker_answer_fail(res, XL_ERR_FORMAT, "an extract request names its project");
        return;
    }
    xl_debug("extract request from %s: project %s, page %llu%s", who->key_id, q->project,
             (unsigned long long)q->page, q->extract_id.len == 0 ? " (new)" : "");
    if (q->extract_id.len == 0)
        s_start(x, who, rid, rlen, request_id, fd, q, res);
    else
        s_page(x, who, rid, rlen, request_id, q, res);
}
