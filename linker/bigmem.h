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

#endif
