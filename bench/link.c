/* Link-run performance on encoded files, with the real matching engine.
 *
 *   link [--threads N] [--store DIR [--store-only]] SPEC FILE.xle [FILE.xle ...]
 *
 * First stores the files' records in a linker database of its own, under
 * $TMPDIR, as ingest stores them (records and their link columns, chunk by
 * chunk), outside the link's time, and removes it after. With --store, the
 * database is DIR/linker.db, kept, and used as it is when a run stored it
 * whole before (the caller removes DIR); with --store-only too, the run only
 * stores. A link run is a process of its own, started after the records were
 * stored: a store built in the same process left its memory in pieces, and
 * loading took three times as long (0.71 s against 0.23 s at 866k records),
 * so make bench stores first and links in other processes.
 *
 * Then loads the records as a link run does (linker/load.c) and prints the
 * load, candidate, model, scoring and clustering times, pairs scored per
 * second beside a bare AND+popcount loop over the same filters in the same
 * process (on one thread), and peak memory per record. The run uses N threads
 * (by default every processor online, as the linker does); the total line
 * says how many, and the processor time they took. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "xl/clock.h"
#include "../linker/bigmem.h"
#include "../linker/dice.h"
#include "../linker/load.h"
#include "../linker/match.h"
#include "../linker/model.h"
#include "../linker/parallel.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/xle.h"

/* Records a chunk, as the agent sends them by default (agent.conf chunk_records). */
#define CHUNK_RECORDS 1000

static int
s_seal(void *ctx, const struct linker_submission *sub,
       const uint8_t (*superseded)[LINKER_SUBID_BYTES], size_t nsuperseded, uint8_t **receipt,
       size_t *receiptlen, char *err, size_t errlen)
{
    (void)ctx, (void)sub, (void)superseded, (void)nsuperseded, (void)err, (void)errlen;
    *receipt = malloc(1); /* no receipt is read here */
    if (*receipt == NULL)
        return XL_ERR_NOMEM;
    **receipt = 0;
    *receiptlen = 1;
    return 0;
}

/* Stores the records of .xle file path as one committed submission of epoch 1,
 * in chunks of CHUNK_RECORDS; adds the bytes of records and of columns. */
static int
s_store_file(struct linker_store *st, const char *path, uint64_t *nrec, uint64_t *rec_bytes,
             uint64_t *col_bytes)
{
    struct linker_commit_hooks hooks = {s_seal, NULL};
    struct linker_columns_buf cb = {0};
    struct linker_submission sub;
    const Crosslink__XleHeader *h;
    char err[XL_ERRBUF];
    struct xl_xle_reader *r = xl_xle_reader_open(path, &h, err, sizeof err);
    uint8_t *chunk = NULL;
    size_t len = 0, cap = 0, n = 0;
    uint64_t seq = 0;
    int rc;

    if (r == NULL) {
        fprintf(stderr, "link: %s\n", err);
        return -1;
    }
    memset(&sub, 0, sizeof sub);
    xl_random(sub.id, sizeof sub.id);
    snprintf(sub.agency, sizeof sub.agency, "%s", h->agency);
    snprintf(sub.dataset, sizeof sub.dataset, "%s", h->dataset);
    snprintf(sub.key_id, sizeof sub.key_id, "0000000000000000");
    snprintf(sub.source, sizeof sub.source, "import");
    sub.epoch = 1;
    sub.record_count = h->record_count;
    sub.chunk_records = CHUNK_RECORDS;
    sub.one_per_person = h->one_per_person;
    sub.created = (int64_t)time(NULL);
    if (linker_store_create(st, &sub, "[]", err, sizeof err) != 0)
        goto fail;
    while ((rc = xl_xle_next_chunk(r, CHUNK_RECORDS, &chunk, &cap, &len, &n, err, sizeof err)) ==
           1) {
        struct linker_chunk_result res;
        const uint8_t *cols;
        size_t colslen;
        if (linker_columns_from_packed(&cb, chunk, len, &cols, &colslen) != 0) {
            snprintf(err, sizeof err, "a record does not decode");
            goto fail;
        }
        if (linker_store_put_chunk(st, sub.id, seq++, n, chunk, len, cols, colslen, &res, err,
                                   sizeof err) != 0)
            goto fail;
        *nrec += n;
        *rec_bytes += len;
        *col_bytes += colslen;
    }
    if (rc != 0)
        goto fail;
    if (linker_store_commit(st, sub.id, sub.created, &hooks, err, sizeof err) != 0)
        goto fail;
    xl_xle_reader_close(&r);
    linker_columns_free(&cb);
    free(chunk);
    return 0;
fail:
    fprintf(stderr, "link: %s: %s\n", path, err);
    xl_xle_reader_close(&r);
    linker_columns_free(&cb);
    free(chunk);
    return -1;
}

/* The bench's database and its link columns, each with its WAL files, the
 * mark of a whole store (--store), then its directory. */
static void
s_remove(const char *dir, const char *db)
{
    static const char *const suffix[] = {"",         "-wal",         "-shm",
                                         "-columns", "-columns-wal", "-columns-shm"};
    char p[700];

    for (size_t i = 0; i < sizeof suffix / sizeof *suffix; i++) {
        snprintf(p, sizeof p, "%s%s", db, suffix[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/stored", dir);
    unlink(p);
    if (rmdir(dir) != 0)
        fprintf(stderr, "link: %s: not removed: %s\n", dir, strerror(errno));
}

int
main(int argc, char **argv)
{
    char err[XL_ERRBUF];
    struct xl_spec *spec = NULL;
    struct linker_input *in;
    struct linker_loaded loaded = {0};
    struct linker_store *st = NULL;
    const char *keep = NULL;
    char dir[512], db[600], mark[600];
    int stored = 0, store_only = 0;
    uint64_t nrec = 0, rec_bytes = 0, col_bytes = 0;
    struct linker_result res;
    struct rusage ru, used;
    const char *kname = NULL;
    unsigned threads = 0;
    linker_and_count_fn kernel;
    double t0, tstore = 0, tload, tbare;
    uint64_t sink = 0, npairs;

    for (;;) {
        if (argc > 2 && strcmp(argv[1], "--threads") == 0)
            threads = (unsigned)strtoul(argv[2], NULL, 10);
        else if (argc > 2 && strcmp(argv[1], "--store") == 0)
            keep = argv[2];
        else if (argc > 1 && strcmp(argv[1], "--store-only") == 0)
            store_only = 1, argv--, argc++; /* a flag: one argument, not two */
        else
            break;
        argv += 2;
        argc -= 2;
    }
    if (store_only && keep == NULL) {
        fprintf(stderr, "link: --store-only needs --store DIR\n");
        return 2;
    }
    if (argc < 3 || xl_crypto_init() != 0) {
        fprintf(stderr, "usage: link [--threads N] [--store DIR [--store-only]] SPEC FILE.xle "
                        "[FILE.xle ...]\n");
        return 2;
    }
    if (xl_spec_load(argv[1], &spec, err, sizeof err) != 0) {
        fprintf(stderr, "link: %s\n", err);
        return 1;
    }
    linker_big_keep(); /* as crosslink-linker link does: one run, then exit */
    if (keep != NULL) {
        snprintf(dir, sizeof dir, "%s", keep);
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "link: %s: %s\n", dir, strerror(errno));
            return 1;
        }
        snprintf(db, sizeof db, "%s/linker.db", dir);
        snprintf(mark, sizeof mark, "%s/stored", dir);
        stored = access(mark, F_OK) == 0; /* written whole by an earlier run */
        if (!stored) {
            /* what a run that did not finish left: begun again */
            s_remove(dir, db);
            if (mkdir(dir, 0700) != 0) {
                fprintf(stderr, "link: %s: %s\n", dir, strerror(errno));
                return 1;
            }
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/xl-linkbench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(dir) == NULL) {
            perror("link: mkdtemp");
            return 1;
        }
        snprintf(db, sizeof db, "%s/linker.db", dir);
    }
    if (stored && store_only) {
        printf("link store              %s/linker.db, stored by an earlier process\n", dir);
        return 0;
    }
    if (stored)
        goto load;
    t0 = xl_monotonic();
    if (linker_store_open(db, &st, err, sizeof err) != 0) {
        fprintf(stderr, "link: %s\n", err);
        s_remove(dir, db);
        return 1;
    }
    for (int i = 2; i < argc; i++)
        if (s_store_file(st, argv[i], &nrec, &rec_bytes, &col_bytes) != 0) {
            linker_store_close(&st);
            s_remove(dir, db);
            return 1;
        }
    /* As a link run finds the store: written to disk, the WAL folded into the
     * database, none of it in this process's memory. */
    if (linker_store_checkpoint(st, err, sizeof err) != 0) {
        fprintf(stderr, "link: %s\n", err);
        linker_store_close(&st);
        s_remove(dir, db);
        return 1;
    }
    linker_store_close(&st);
    sync();
    tstore = xl_monotonic() - t0;
    if (keep != NULL) {
        FILE *f = fopen(mark, "w");
        if (f == NULL || fclose(f) != 0) {
            fprintf(stderr, "link: %s: %s\n", mark, strerror(errno));
            s_remove(dir, db);
            return 1;
        }
    }
    if (store_only) {
        printf("link store              %.0f bytes a record of link columns beside %.0f of "
               "records, stored in %.2f s\n",
               (double)col_bytes / (double)(nrec ? nrec : 1),
               (double)rec_bytes / (double)(nrec ? nrec : 1), tstore);
        return 0;
    }
load:
    if (linker_store_open(db, &st, err, sizeof err) != 0) {
        fprintf(stderr, "link: %s\n", err);
        s_remove(dir, db);
        return 1;
    }

    t0 = xl_monotonic();
    if (linker_load(st, 1, spec, threads, &loaded, err, sizeof err) != 0) {
        fprintf(stderr, "link: %s\n", err);
        linker_store_close(&st);
        s_remove(dir, db);
        return 1;
    }
    tload = xl_monotonic() - t0;
    linker_store_close(&st);
    if (keep == NULL)
        s_remove(dir, db);
    in = loaded.in;

    if (linker_match_run(in, &res, err, sizeof err) != 0) {
        fprintf(stderr, "link: %s\n", err);
        return 1;
    }
    getrusage(RUSAGE_SELF, &used);

    /* The reference: AND+popcount over pairs of the same filters, no blocking,
     * no bound, no bookkeeping: as fast as the kernel goes on this machine. */
    kernel = linker_dice_best(&kname);
    npairs = res.comparisons > 20000000 ? res.comparisons : 20000000;
    /* All pairs within windows of 256 consecutive filters: from cache, as a
     * block's members are compared. */
    t0 = xl_monotonic();
    {
        uint64_t done = 0;
        size_t win = in->nrec < 256 ? in->nrec : 256;
        for (size_t base = 0; done < npairs && win > 1;
             base = (base + win) % (in->nrec - win + 1)) {
            for (size_t a = base; a < base + win; a++) {
                const uint64_t *fa = in->clk + a * in->clk_words;
                for (size_t b = base; b < base + win; b++)
                    sink += kernel(fa, in->clk + b * in->clk_words, in->clk_words);
            }
            done += (uint64_t)win * win;
        }
        npairs = done;
    }
    tbare = xl_monotonic() - t0;
    getrusage(RUSAGE_SELF, &ru);

    printf("link records            %zu in %zu datasets, loaded in %.2f s (%.2f us a record) from "
           "the store's link columns\n",
           in->nrec, in->ndatasets, tload, tload * 1e6 / (double)(in->nrec ? in->nrec : 1));
    if (stored)
        printf("link store              %s/linker.db, stored by an earlier process\n", dir);
    else
        printf("link store              %.0f bytes a record of link columns beside %.0f of "
               "records, stored in %.2f s before the link (not counted)\n",
               (double)col_bytes / (double)(in->nrec ? in->nrec : 1),
               (double)rec_bytes / (double)(in->nrec ? in->nrec : 1), tstore);
    printf("link candidates         %.2f s: %llu keys, %llu pairs (%llu before duplicates "
           "went), %.1f per record, at most %u\n",
           res.seconds_candidates, (unsigned long long)res.keys,
           (unsigned long long)res.comparisons, (unsigned long long)res.raw_pairs,
           res.mean_per_record, res.max_per_record);
    printf("link model              %.2f s: m and u estimated (EM %d iterations)\n",
           res.seconds_model, res.model ? res.model->em_iterations : 0);
    if (res.comparisons > 0 && res.seconds_score > 0)
        printf("link scoring            %.2f s: %.1f M pairs/s on %u threads, beside %.1f M/s bare "
               "AND+popcount on one (%s kernel)\n",
               res.seconds_score, (double)res.comparisons / res.seconds_score / 1e6,
               linker_threads(in->threads), (double)npairs / tbare / 1e6, kname);
    printf("link clusters           %zu clusters, %zu links (probabilistic only %llu), %zu "
           "possible, %zu conflicts, %llu joins refused, clustering %.2f s\n",
           res.nclusters, res.nlinks, (unsigned long long)res.links_by_level[0], res.npossible,
           res.nconflicts, (unsigned long long)res.joins_refused, res.seconds_cluster);
    {
        double total = tload + res.seconds_candidates + res.seconds_model + res.seconds_score +
                       res.seconds_cluster;
        double cpu = (double)used.ru_utime.tv_sec + used.ru_utime.tv_usec / 1e6 +
                     (double)used.ru_stime.tv_sec + used.ru_stime.tv_usec / 1e6;
        printf("link total              %.2f s: %.2f us per record (loading, candidates, model, "
               "scoring, clusters) on %u threads, %.2f s of processor time\n",
               total, total * 1e6 / (double)(in->nrec ? in->nrec : 1), linker_threads(in->threads),
               cpu);
    }
    printf("link peak memory        %ld MiB, %.0f bytes per record\n", ru.ru_maxrss / 1024,
           (double)ru.ru_maxrss * 1024.0 / (double)(in->nrec ? in->nrec : 1));
    if (sink == 42)
        printf("\n"); /* keeps the reference loop from being optimised away */
    linker_result_free(&res);
    linker_loaded_free(&loaded);
    free(spec);
    return 0;
}
