/* Link-run performance on encoded files, with the real matching engine.
 *
 *   link [--threads N] SPEC FILE.xle [FILE.xle ...]
 *
 * Prints the load, candidate, model, scoring and clustering times, pairs scored
 * per second beside a bare AND+popcount loop over the same filters in the same
 * process (on one thread), and peak memory per record. The run uses N threads (by
 * default every processor online, as the linker does); the total line says
 * how many, and the processor time they took. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "xl/clock.h"
#include "../linker/dice.h"
#include "../linker/match.h"
#include "../linker/model.h"
#include "../linker/parallel.h"
#include "../linker/unpack.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/xle.h"

int
main(int argc, char **argv)
{
    char err[XL_ERRBUF];
    struct xl_spec *spec = NULL;
    struct linker_input *in;
    struct linker_unpacker unpacker;
    struct linker_result res;
    struct rusage ru, used;
    const char *kname = NULL;
    unsigned threads = 0;
    linker_and_count_fn kernel;
    double t0, tload, tbare;
    uint64_t sink = 0, npairs;

    if (argc > 2 && strcmp(argv[1], "--threads") == 0) {
        threads = (unsigned)strtoul(argv[2], NULL, 10);
        argv += 2;
        argc -= 2;
    }
    if (argc < 3 || xl_crypto_init() != 0) {
        fprintf(stderr, "usage: link [--threads N] SPEC FILE.xle [FILE.xle ...]\n");
        return 2;
    }
    if (xl_spec_load(argv[1], &spec, err, sizeof err) != 0) {
        fprintf(stderr, "link: %s\n", err);
        return 1;
    }
    in = linker_input_new(spec);
    in->threads = threads;
    linker_unpacker_init(&unpacker);
    t0 = xl_monotonic();
    {
        /* The headers give the record counts: reserve once (about 8 keys and
         * 5 blocking keys a record). */
        size_t total = 0;
        for (int i = 2; i < argc; i++) {
            const Crosslink__XleHeader *h;
            struct xl_xle_reader *r = xl_xle_reader_open(argv[i], &h, err, sizeof err);
            if (r != NULL) {
                total += h->record_count;
                xl_xle_reader_close(&r);
            }
        }
        if (linker_input_reserve(in, total, total * 8, total * 6) != 0) {
            fprintf(stderr, "link: out of memory\n");
            return 1;
        }
    }
    for (int i = 2; i < argc; i++) {
        const Crosslink__XleHeader *h;
        struct xl_xle_reader *r = xl_xle_reader_open(argv[i], &h, err, sizeof err);
        const uint8_t *rec;
        size_t len;
        int ds, rc;
        if (r == NULL) {
            fprintf(stderr, "link: %s\n", err);
            return 1;
        }
        ds = linker_input_dataset(in, h->agency, h->dataset, h->one_per_person);
        while ((rc = xl_xle_next(r, &rec, &len, err, sizeof err)) == 1) {
            Crosslink__Record *p = linker_unpack_record(&unpacker, rec, len);
            if (p == NULL || linker_input_add(in, ds, p) != 0) {
                fprintf(stderr, "link: %s: bad record\n", argv[i]);
                return 1;
            }
        }
        if (rc != 0) {
            fprintf(stderr, "link: %s\n", err);
            return 1;
        }
        xl_xle_reader_close(&r);
    }
    linker_unpacker_free(&unpacker);
    tload = xl_monotonic() - t0;

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

    printf("link records            %zu in %zu datasets, loaded in %.2f s\n", in->nrec,
           in->ndatasets, tload);
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
    linker_input_free(&in);
    free(spec);
    return 0;
}
