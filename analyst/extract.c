#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <zmq.h>

#include "config.h"
#include "extract.h"
#include "layout.h"
#include "people.h"
#include "xl/arena.h"
#include "xl/buckets.h"
#include "xl/client.h"
#include "xl/clock.h"
#include "xl/csv.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/log.h"
#include "xl/payload.h"
#include "xl/wire.h"

/* A page is at most 1 MiB of rows; a reply carries it and a little more. */
#define S_REPLY_MAX (2u * 1024 * 1024)
/* How long the linker may take to prepare an extract. */
#define S_PREPARE_WAIT 900.0
#define S_ID_BYTES     16
#define S_BUCKET_ROWS  32768
#define S_BUCKETS_MAX  256
/* The buckets' stdio buffers, all together. */
#define S_BUCKET_BUFS (4u << 20)
/* What a row and its payload unpack into: emptied for each row. */
#define S_ARENA_BYTES (64u << 10)

struct s_keys {
    struct xl_keyfile *me, *server, *sign, *analysis;
};

struct s_fetch {
    const struct analyst_extract_opts *o;
    struct analyst_config cfg;
    struct s_keys k;
    struct xl_client c;
    double deadline; /* of retrying */
    uint8_t id[S_ID_BYTES];
    uint64_t rows, pages;
    /* the verified manifest */
    char *manifest;
    size_t manifestlen;
    uint8_t sig[XL_SIG_BYTES];
    cJSON *m;
    struct analyst_layout l;
    /* staging */
    char out[4096]; /* the directory asked for, without a trailing '/' */
    char stage[4096 + 16];
    FILE *records;
    struct xl_buckets buckets; /* rows by pseudonym, for people.csv */
    struct xl_payload_opener *opener;
    EVP_MD_CTX *h; /* of the rows, as received */
    uint64_t seen, bands[4];
    uint8_t *plain;
    size_t plaincap;
    uint8_t *packed;
    size_t packedcap;
    char *line; /* a row of records.csv */
    size_t linecap;
    struct xl_arena *arena; /* a row and its payload unpack here; wiped after each */
};

static void
s_keys_free(struct s_keys *k)
{
    xl_keyfile_destroy(&k->me);
    xl_keyfile_destroy(&k->server);
    xl_keyfile_destroy(&k->sign);
    xl_keyfile_destroy(&k->analysis);
}

static int
s_keys_load(const struct analyst_config *cfg, struct s_keys *k, char *err, size_t errlen)
{
    int r = xl_keyfile_load(cfg->analyst_key_path, XL_KEY_CURVE_SECRET, &k->me, err, errlen);

    if (r == 0 && strcmp(k->me->role, "analyst") != 0)
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                       "%s: a key of role '%s'; extracts need an analyst key "
                       "('crosslink-keys new analyst NAME')",
                       cfg->analyst_key_path, k->me->role);
    if (r == 0)
        r = xl_keyfile_load_public(cfg->server_key_path, XL_KEY_CURVE_PUBLIC, &k->server, err,
                                   errlen);
    if (r == 0)
        r = xl_keyfile_load_public(cfg->sign_key_path, XL_KEY_SIGN_PUBLIC, &k->sign, err, errlen);
    if (r == 0)
        r = xl_keyfile_load(cfg->analysis_key_path, XL_KEY_ANALYSIS_SECRET, &k->analysis, err,
                            errlen);
    if (r != 0)
        s_keys_free(k);
    return r;
}

/* ---- talking to the linker ----------------------------------------------- */

static int
s_request(struct s_fetch *f, int start, uint64_t page, double wait, xl_envelope **rep, char *err,
          size_t errlen)
{
    xl_envelope env = CROSSLINK__ENVELOPE__INIT;
    Crosslink__ExtractRequest q = CROSSLINK__EXTRACT_REQUEST__INIT;

    env.body_case = CROSSLINK__ENVELOPE__BODY_EXTRACT_REQUEST;
    env.extract_request = &q;
    q.project = (char *)f->o->project;
    if (start) {
        q.datasets = f->o->datasets;
        q.n_datasets = f->o->ndatasets;
    } else {
        q.extract_id.data = f->id;
        q.extract_id.len = S_ID_BYTES;
        q.page = page;
    }
    return xl_client_call_retry(&f->c, &env, wait, f->deadline, rep, err, errlen);
}

/* ---- the manifest ------------------------------------------------------------ */

static int
s_manifest(struct s_fetch *f, const Crosslink__ExtractEnd *end, char *err, size_t errlen)
{
    const cJSON *v;
    char hex[2 * S_ID_BYTES + 1];

    if (end->signature.len != XL_SIG_BYTES || end->manifest.len == 0 ||
        xl_verify(f->k.sign->pub, end->manifest.data, end->manifest.len, end->signature.data) != 0)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO,
                          "the extract's manifest does not verify with the linker's signing key "
                          "(%s): nothing written",
                          f->cfg.sign_key_path);
    f->manifest = malloc(end->manifest.len + 1);
    if (f->manifest == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    memcpy(f->manifest, end->manifest.data, end->manifest.len);
    f->manifest[end->manifest.len] = '\0';
    f->manifestlen = end->manifest.len;
    memcpy(f->sig, end->signature.data, XL_SIG_BYTES);
    f->m = cJSON_ParseWithLength(f->manifest, f->manifestlen);
    if (f->m == NULL)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "the extract's manifest is not JSON");
    xl_hex(f->id, S_ID_BYTES, hex);
    v = cJSON_GetObjectItemCaseSensitive(f->m, "extract_id");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, hex) != 0)
        return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                          "the manifest is of another extract: nothing written");
    v = cJSON_GetObjectItemCaseSensitive(f->m, "project");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, f->o->project) != 0)
        return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                          "the manifest is of another project: nothing written");
    if (analyst_layout_from_manifest(f->m, &f->l, err, errlen) != 0)
        return XL_ERR_FORMAT;
    if (f->l.rows != f->rows || f->l.pages != f->pages)
        return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                          "the manifest counts %llu rows in %llu pages, the linker announced %llu "
                          "in %llu: nothing written",
                          (unsigned long long)f->l.rows, (unsigned long long)f->l.pages,
                          (unsigned long long)f->rows, (unsigned long long)f->pages);
    return 0;
}

/* ---- rows ----------------------------------------------------------------------- */

static int
s_grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    {
        void *p = realloc(*buf, need);
        if (p == NULL)
            return XL_ERR_NOMEM;
        *buf = p;
        *cap = need;
    }
    return 0;
}

/* One row: checked, opened, written to records.csv and to its bucket. */
static int
s_row(struct s_fetch *f, uint64_t page, uint64_t n, const uint8_t *p, size_t len, char *err,
      size_t errlen)
{
    Crosslink__ExtractRow *row =
        crosslink__extract_row__unpack(xl_arena_allocator(f->arena), len, p);
    Crosslink__Outcome *oc = NULL;
    char why[XL_ERRBUF];
    const struct analyst_dataset *d;
    size_t need = 4 + ANALYST_PSEUDONYM_BYTES + 4, at, before = 0, after = 0, linemax;
    int ds, band, r = 0;

    if (row == NULL || xl_wire_defined_only(&row->base, why, sizeof why) != 0 ||
        row->pseudonym.len != ANALYST_PSEUDONYM_BYTES || row->agency == NULL ||
        row->dataset == NULL || row->evidence == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "page %llu, row %llu: not a well-formed row",
                       (unsigned long long)page, (unsigned long long)n);
        goto out;
    }
    ds = analyst_layout_find(&f->l, row->agency, row->dataset);
    band = analyst_band_index(row->evidence);
    if (ds < 0 || band < 0) {
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                       "page %llu, row %llu: %s the manifest does not list",
                       (unsigned long long)page, (unsigned long long)n,
                       ds < 0 ? "a dataset" : "an evidence band");
        goto out;
    }
    d = &f->l.ds[ds];
    if (row->payload.len < XL_PAYLOAD_OVERHEAD ||
        s_grow(&f->plain, &f->plaincap, row->payload.len) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "page %llu, row %llu: no payload",
                       (unsigned long long)page, (unsigned long long)n);
        goto out;
    }
    if (xl_payload_open(f->opener, row->agency, row->payload.data, row->payload.len, f->plain) !=
        0) {
        r = xl_err_set(err, errlen, XL_ERR_CRYPTO,
                       "page %llu, row %llu (%s/%s): the payload does not open with the analysis "
                       "key (altered, of another agency, or sealed to another key)",
                       (unsigned long long)page, (unsigned long long)n, d->agency, d->dataset);
        goto out;
    }
    oc = crosslink__outcome__unpack(xl_arena_allocator(f->arena),
                                    row->payload.len - XL_PAYLOAD_OVERHEAD, f->plain);
    sodium_memzero(f->plain, row->payload.len - XL_PAYLOAD_OVERHEAD);
    if (oc == NULL || oc->n_values != d->nattr) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                       "page %llu, row %llu (%s/%s): the payload holds %zu values, the dataset "
                       "%zu attributes",
                       (unsigned long long)page, (unsigned long long)n, d->agency, d->dataset,
                       oc != NULL ? oc->n_values : 0, d->nattr);
        goto out;
    }
    /* records.csv: the other datasets' columns are empty */
    for (size_t e = 0; e < f->l.nds; e++) {
        if ((int)e < ds)
            before += f->l.ds[e].nattr;
        else if ((int)e > ds)
            after += f->l.ds[e].nattr;
    }
    linemax = 2 * ANALYST_PSEUDONYM_BYTES + 2 * strlen(d->agency) + 2 * strlen(d->dataset) +
              2 * strlen(analyst_bands[band]) + before + after + 16;
    for (size_t a = 0; a < d->nattr; a++) {
        size_t vl = strlen(oc->values[a]);
        if (vl > 0xffff) {
            r = xl_err_set(err, errlen, XL_ERR_TOOBIG, "page %llu, row %llu: a value too long",
                           (unsigned long long)page, (unsigned long long)n);
            goto out;
        }
        need += 2 + vl;
        linemax += 2 * vl + 3;
    }
    if (s_grow((uint8_t **)&f->line, &f->linecap, linemax) != 0 ||
        s_grow(&f->packed, &f->packedcap, need) != 0) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    xl_hex(row->pseudonym.data, ANALYST_PSEUDONYM_BYTES, f->line);
    at = 2 * ANALYST_PSEUDONYM_BYTES;
    f->line[at++] = ',';
    at = xl_csv_add(f->line, at, d->agency, strlen(d->agency));
    f->line[at++] = ',';
    at = xl_csv_add(f->line, at, d->dataset, strlen(d->dataset));
    f->line[at++] = ',';
    at = xl_csv_add(f->line, at, analyst_bands[band], strlen(analyst_bands[band]));
    memset(f->line + at, ',', before);
    at += before;
    for (size_t a = 0; a < d->nattr; a++) {
        f->line[at++] = ',';
        at = xl_csv_add(f->line, at, oc->values[a], strlen(oc->values[a]));
    }
    memset(f->line + at, ',', after);
    at += after;
    f->line[at++] = '\n';
    if (fwrite(f->line, 1, at, f->records) != at) {
        r = xl_err_set(err, errlen, errno == ENOSPC ? XL_ERR_NOSPACE : XL_ERR_IO,
                       "%s/records.csv: cannot write: %s", f->stage, strerror(errno));
        goto out;
    }
    /* its bucket, for people.csv */
    f->packed[0] = (uint8_t)((need - 4) >> 24);
    f->packed[1] = (uint8_t)((need - 4) >> 16);
    f->packed[2] = (uint8_t)((need - 4) >> 8);
    f->packed[3] = (uint8_t)(need - 4);
    memcpy(f->packed + 4, row->pseudonym.data, ANALYST_PSEUDONYM_BYTES);
    at = 4 + ANALYST_PSEUDONYM_BYTES;
    f->packed[at++] = (uint8_t)ds;
    f->packed[at++] = (uint8_t)band;
    f->packed[at++] = (uint8_t)(d->nattr >> 8);
    f->packed[at++] = (uint8_t)d->nattr;
    for (size_t a = 0; a < d->nattr; a++) {
        size_t vl = strlen(oc->values[a]);
        f->packed[at++] = (uint8_t)(vl >> 8);
        f->packed[at++] = (uint8_t)vl;
        memcpy(f->packed + at, oc->values[a], vl);
        at += vl;
    }
    if (fwrite(f->packed, 1, need, f->buckets.f[row->pseudonym.data[0] % f->buckets.n]) != need) {
        r = xl_err_set(err, errlen, errno == ENOSPC ? XL_ERR_NOSPACE : XL_ERR_IO,
                       "%s: cannot write: %s", f->stage, strerror(errno));
        goto out;
    }
    f->l.ds[ds].seen++;
    f->bands[band]++;
    f->seen++;
out:
    if (oc != NULL) {
        for (size_t a = 0; a < oc->n_values; a++)
            sodium_memzero(oc->values[a], strlen(oc->values[a]));
        crosslink__outcome__free_unpacked(oc, xl_arena_allocator(f->arena));
    }
    if (row != NULL)
        crosslink__extract_row__free_unpacked(row, xl_arena_allocator(f->arena));
    xl_arena_wipe(f->arena, S_ARENA_BYTES); /* the row's outcome values */
    return r;
}

static int
s_page(struct s_fetch *f, uint64_t page, const Crosslink__ExtractRows *rows, char *err,
       size_t errlen)
{
    const uint8_t *p = rows->rows.data;
    size_t len = rows->rows.len, at = 0;
    uint64_t n = 0;
    int r = 0;

    if (rows->page != page || rows->extract_id.len != S_ID_BYTES ||
        memcmp(rows->extract_id.data, f->id, S_ID_BYTES) != 0)
        return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                          "the linker answered with another page or extract than asked for");
    if (EVP_DigestUpdate(f->h, p, len) != 1)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO, "SHA-256 failed");
    while (at < len && r == 0) {
        size_t rl;
        if (len - at < 4)
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "page %llu: a row is cut short",
                              (unsigned long long)page);
        rl = (size_t)p[at] << 24 | (size_t)p[at + 1] << 16 | (size_t)p[at + 2] << 8 | p[at + 3];
        if (rl > len - at - 4)
            return xl_err_set(err, errlen, XL_ERR_FORMAT, "page %llu: a row is cut short",
                              (unsigned long long)page);
        r = s_row(f, page, n++, p + at + 4, rl, err, errlen);
        at += 4 + rl;
    }
    if (r == 0 && n != rows->count)
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH, "page %llu holds %llu rows, it says %llu",
                       (unsigned long long)page, (unsigned long long)n,
                       (unsigned long long)rows->count);
    return r;
}

/* The end: the rows received are exactly the rows the manifest signs. */
static int
s_check_totals(struct s_fetch *f, char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f->m, "rows_hash");
    uint8_t want[XL_HASH_BYTES], got[XL_HASH_BYTES];

    if (EVP_DigestFinal_ex(f->h, got, NULL) != 1)
        return xl_err_set(err, errlen, XL_ERR_CRYPTO, "SHA-256 failed");
    if (!cJSON_IsString(v) || strlen(v->valuestring) != 2 * XL_HASH_BYTES ||
        xl_unhex(v->valuestring, want, sizeof want) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "the manifest has no rows_hash");
    if (f->seen != f->l.rows)
        return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                          "received %llu rows, the manifest signs %llu: nothing written",
                          (unsigned long long)f->seen, (unsigned long long)f->l.rows);
    if (sodium_memcmp(want, got, XL_HASH_BYTES) != 0)
        return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                          "the rows received are not the rows the manifest signs (SHA-256 "
                          "differs): nothing written");
    for (size_t d = 0; d < f->l.nds; d++) {
        if (f->l.ds[d].seen != f->l.ds[d].rows)
            return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                              "%s/%s: received %llu rows, the manifest counts %llu: nothing "
                              "written",
                              f->l.ds[d].agency, f->l.ds[d].dataset,
                              (unsigned long long)f->l.ds[d].seen,
                              (unsigned long long)f->l.ds[d].rows);
    }
    for (int b = 0; b < 4; b++) {
        if (f->bands[b] != f->l.bands[b])
            return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                              "evidence %s: received %llu rows, the manifest counts %llu: "
                              "nothing written",
                              analyst_bands[b], (unsigned long long)f->bands[b],
                              (unsigned long long)f->l.bands[b]);
    }
    return 0;
}

/* ---- staging -------------------------------------------------------------------- */

static int
s_stage(struct s_fetch *f, char *err, size_t errlen)
{
    const char *out = f->out;
    struct stat st;

    if (stat(out, &st) == 0) {
        if (!S_ISDIR(st.st_mode) || rmdir(out) != 0)
            return xl_err_set(err, errlen, XL_ERR_EXISTS,
                              "%s exists and is not an empty directory: give a new one (an "
                              "extract never mixes with other files)",
                              out);
        if (mkdir(out, 0700) != 0) /* put back: the rename replaces it at the end */
            return xl_err_set(err, errlen, XL_ERR_IO, "%s: %s", out, strerror(errno));
    }
    snprintf(f->stage, sizeof f->stage, "%s.partial-XXXXXX", out);
    if (mkdtemp(f->stage) == NULL) {
        f->stage[0] = '\0';
        return xl_err_set(err, errlen, XL_ERR_IO, "%s.partial: cannot create: %s", out,
                          strerror(errno));
    }
    return 0;
}

static void
s_unstage(struct s_fetch *f)
{
    static const char *const names[] = {"records.csv",    "people.csv",    "people.dta",
                                        "dictionary.csv", "manifest.json", "manifest.sig"};
    char path[4200];

    if (f->stage[0] == '\0')
        return;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", f->stage, names[i]);
        (void)unlink(path);
    }
    if (rmdir(f->stage) != 0)
        xl_warn("%s: cannot remove: %s", f->stage, strerror(errno));
    f->stage[0] = '\0';
}

static int
s_write_file(const char *dir, const char *name, const void *data, size_t len, char *err,
             size_t errlen)
{
    char path[4200];
    FILE *f;
    int bad;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wx");
    if (f == NULL)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    bad = fwrite(data, 1, len, f) != len;
    bad |= fflush(f) != 0 || fsync(fileno(f)) != 0;
    if (fclose(f) != 0 || bad)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return 0;
}

static void
s_progress(struct s_fetch *f, uint64_t page, double t0, double *last)
{
    double now = xl_monotonic();

    if (f->o->quiet || (now - *last < 2 && page + 1 < f->pages))
        return;
    *last = now;
    xl_info("%llu of %llu rows received and opened (%.0f rows/s)", (unsigned long long)f->seen,
            (unsigned long long)f->rows, (double)f->seen / (now - t0 > 0 ? now - t0 : 1));
}

int
analyst_extract(const struct analyst_extract_opts *o, char *err, size_t errlen)
{
    struct s_fetch f;
    xl_envelope *rep = NULL;
    uint64_t people = 0;
    double start = xl_monotonic(), t0, last = 0;
    char path[4200], sighex[2 * XL_SIG_BYTES + 2];
    int r;

    memset(&f, 0, sizeof f);
    f.o = o;
    r = analyst_config_load(o->conf_path, &f.cfg, err, errlen);
    if (r == 0)
        r = s_keys_load(&f.cfg, &f.k, err, errlen);
    if (r != 0)
        return r;
    f.opener = xl_payload_opener_new(f.k.analysis->pub, f.k.analysis->secret);
    f.c.zctx = zmq_ctx_new();
    f.h = EVP_MD_CTX_new();
    f.arena = xl_arena_new();
    if (f.arena != NULL)
        xl_arena_reset(f.arena, S_ARENA_BYTES);
    if (f.opener == NULL || f.c.zctx == NULL || f.h == NULL || f.arena == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        goto out;
    }
    f.c.endpoint = f.cfg.endpoint;
    f.c.server_pk = f.k.server->pub;
    f.c.pk = f.k.me->pub;
    f.c.sk = f.k.me->secret;
    f.c.role = "analyst";
    f.c.timeout_ms = (int)(f.cfg.timeout * 1000);
    f.c.timeout = f.cfg.timeout;
    f.c.retry_for = o->retry_for;
    f.c.reply_max = S_REPLY_MAX;
    f.deadline = xl_monotonic() + o->retry_for;
    snprintf(f.out, sizeof f.out, "%s", o->out_dir);
    for (size_t n = strlen(f.out); n > 1 && f.out[n - 1] == '/'; n--)
        f.out[n - 1] = '\0';
    r = s_stage(&f, err, errlen);
    if (r != 0)
        goto out;

    /* 1. ask; the answer comes when the extract is prepared */
    t0 = xl_monotonic();
    if (!o->quiet)
        xl_info("asking %s for an extract of project %s", f.cfg.endpoint, o->project);
    r = s_request(&f, 1, 0, S_PREPARE_WAIT, &rep, err, errlen);
    if (r == 0 && (rep->body_case != CROSSLINK__ENVELOPE__BODY_EXTRACT_READY ||
                   rep->extract_ready->extract_id.len != S_ID_BYTES))
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "the linker answered with %s, not an extract",
                       xl_wire_body_name(rep));
    if (r != 0)
        goto out;
    memcpy(f.id, rep->extract_ready->extract_id.data, S_ID_BYTES);
    f.rows = rep->extract_ready->rows;
    f.pages = rep->extract_ready->pages;
    xl_wire_free(&rep, NULL);
    if (!o->quiet)
        xl_info("extract prepared in %.1f s: %llu rows in %llu pages", xl_monotonic() - t0,
                (unsigned long long)f.rows, (unsigned long long)f.pages);

    /* 2. the manifest, checked before any row is believed */
    r = s_request(&f, 0, f.pages, f.cfg.timeout, &rep, err, errlen);
    if (r == 0 && rep->body_case != CROSSLINK__ENVELOPE__BODY_EXTRACT_END)
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "the linker answered with %s, not a manifest",
                       xl_wire_body_name(rep));
    if (r == 0)
        r = s_manifest(&f, rep->extract_end, err, errlen);
    xl_wire_free(&rep, NULL);
    if (r != 0)
        goto out;

    /* 3. the pages */
    snprintf(path, sizeof path, "%s/records.csv", f.stage);
    f.records = fopen(path, "wx");
    if (f.records == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        goto out;
    }
    r = xl_buckets_open(&f.buckets, f.stage, f.rows, S_BUCKET_ROWS, S_BUCKETS_MAX, S_BUCKET_BUFS,
                        err, errlen);
    if (r != 0)
        goto out;
    analyst_records_header(&f.l, f.records);
    if (EVP_DigestInit_ex(f.h, EVP_sha256(), NULL) != 1) {
        r = xl_err_set(err, errlen, XL_ERR_CRYPTO, "SHA-256 failed");
        goto out;
    }
    t0 = xl_monotonic();
    for (uint64_t page = 0; page < f.pages && r == 0; page++) {
        r = s_request(&f, 0, page, f.cfg.timeout, &rep, err, errlen);
        if (r == 0 && rep->body_case != CROSSLINK__ENVELOPE__BODY_EXTRACT_ROWS)
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "the linker answered with %s, not rows",
                           xl_wire_body_name(rep));
        if (r == 0)
            r = s_page(&f, page, rep->extract_rows, err, errlen);
        xl_wire_free(&rep, NULL);
        if (r == 0)
            s_progress(&f, page, t0, &last);
    }
    if (r == 0)
        r = s_check_totals(&f, err, errlen);
    if (r == 0 && (fflush(f.records) != 0 || fsync(fileno(f.records)) != 0))
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s/records.csv: cannot write: %s", f.stage,
                       strerror(errno));
    if (r != 0)
        goto out;
    if (!o->quiet)
        xl_info("%llu rows received, opened and checked against the manifest in %.1f s",
                (unsigned long long)f.seen, xl_monotonic() - t0);
    t0 = xl_monotonic();

    /* 4. the person-level files, the manifest beside them, then the rename */
    r = analyst_people_write(&f.l, f.buckets.f, f.buckets.n, f.stage, &people, err, errlen);
    if (r == 0)
        r = s_write_file(f.stage, "manifest.json", f.manifest, f.manifestlen, err, errlen);
    if (r == 0) {
        xl_hex(f.sig, XL_SIG_BYTES, sighex);
        strcat(sighex, "\n");
        r = s_write_file(f.stage, "manifest.sig", sighex, strlen(sighex), err, errlen);
    }
    if (r == 0 && !o->quiet)
        xl_info("people.csv, people.dta and dictionary.csv written in %.1f s", xl_monotonic() - t0);
    if (r == 0 && rename(f.stage, f.out) != 0)
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot rename to %s: %s", f.stage, f.out,
                       strerror(errno));
    if (r == 0) {
        f.stage[0] = '\0';
        printf("extract of project %s verified: %llu records of %llu children from %zu datasets "
               "(link run %.0f) in %.1f s, written to %s/\n",
               f.l.project, (unsigned long long)f.seen, (unsigned long long)people, f.l.nds,
               cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f.m, "run")),
               xl_monotonic() - start, f.out);
        printf("  people.csv, people.dta (one row per child), records.csv (one per record), "
               "dictionary.csv, manifest.json\n");
    }
out:
    if (f.records != NULL)
        fclose(f.records);
    xl_buckets_close(&f.buckets);
    if (r != 0) {
        s_unstage(&f);
        /* an empty DIR given by the user was put back by s_stage: leave it */
    }
    xl_client_close(&f.c);
    if (f.c.zctx != NULL)
        zmq_ctx_term(f.c.zctx);
    xl_payload_opener_destroy(&f.opener);
    analyst_layout_free(&f.l);
    cJSON_Delete(f.m);
    free(f.manifest);
    free(f.plain);
    free(f.packed);
    free(f.line);
    xl_arena_destroy(&f.arena);
    EVP_MD_CTX_free(f.h);
    s_keys_free(&f.k);
    return r;
}
