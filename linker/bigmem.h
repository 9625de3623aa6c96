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

#endif
