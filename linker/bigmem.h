/* Large arrays of a link run, in huge pages where the kernel has them.
 *
 * A link run reads its records' filters, popcounts and tokens at random, one
 * candidate pair after another: with 4 KiB pages nearly every read also
 * misses the TLB, and on a virtual machine a page walk costs as much as the
 * read. Transparent huge pages (madvise mode, Debian's default) cut the
 * misses some 500-fold; measured in docs/matching.md. */
#ifndef LINKER_BIGMEM_H
#define LINKER_BIGMEM_H

#include <stddef.h>

/* n bytes, aligned to 2 MiB when n is large, released with free(). NULL on
 * failure. */
void *linker_big_alloc(size_t n);

/* For a process that runs one link and exits (crosslink-linker link, which
 * the service starts for each run): memory freed is kept in the process's
 * heap for the next allocation, where by default each large array was
 * mapped afresh and unmapped when freed. A link run frees and allocates
 * arrays of hundreds of megabytes phase after phase, and the kernel clears
 * every page it maps anew: at 866k records that clearing was 1.2 to 4.2 s of
 * system time in a run of 6 to 9 s, 0.9 to 1.3 s with the memory kept
 * (docs/matching.md, "Cost"). The process returns it all when it exits.
 * Not for the service, whose heap would keep a run's peak for good. */
void linker_big_keep(void);

/* Makes the whole pages within [p, p + n) present and writable without
 * changing what they hold, so that the thread that writes there later finds
 * them ready: a first touch of fresh memory costs this machine 0.05 to 2.8 s a
 * gigabyte, as the host supplies the pages (docs/matching.md, "Cost"), and
 * another thread can pay it where a processor is idle. 0, or -1 where the
 * kernel has no such advice (before Linux 5.14) or the range is not mapped. */
int linker_big_populate(void *p, size_t n);

#endif
