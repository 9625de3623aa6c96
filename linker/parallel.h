/* A link run's work shared among threads.
 *
 * The stages that cost most (the LSH bands, comparing the distinct candidate
 * pairs, sorting them, scoring) split into parts that read the same arrays
 * and write each to its own place, so each part runs on a thread of its own
 * with no lock. The result never depends on how many threads there were: a
 * stage's parts are fixed by the input, not by who ran them, and what they
 * gather is put in one order afterwards (docs/matching.md, "Threads"). */
#ifndef LINKER_PARALLEL_H
#define LINKER_PARALLEL_H

#include <stddef.h>

/* More threads than this help no link run: the stages are bound by memory. */
#define LINKER_MAX_THREADS 64

/* The threads a link run uses when asked for `want`: want itself (at most
 * LINKER_MAX_THREADS), or with 0 every processor online. */
unsigned linker_threads(unsigned want);

/* Runs fn(arg, t, n) once for each t in 0 .. n-1, each on a thread of its own
 * (t = 0 on the caller's), and returns when all have. Where a thread cannot be
 * started its share runs on the caller's, after the others: slower, the same
 * result. */
void linker_parallel(unsigned n, void (*fn)(void *arg, unsigned t, unsigned n), void *arg);

/* What n threads returned, each in rc[t]: the last that is not 0, or 0. */
int linker_parallel_rc(const int *rc, unsigned n);

/* Part t of n of the range [0, total): [*lo, *hi). */
void linker_share(size_t total, unsigned t, unsigned n, size_t *lo, size_t *hi);

#endif
