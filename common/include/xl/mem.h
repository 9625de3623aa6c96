/* Secret memory.
 *
 * Every buffer that held a secret (keys, the linkage secret, plaintext
 * identifiers) is cleared with xl_wipe or released with xl_freezero; raw
 * memset/free on secrets is not used. Long-lived keys live in guarded,
 * mlocked pages from xl_secret_alloc. */
#ifndef XL_MEM_H
#define XL_MEM_H

#include <stddef.h>

/* Clears n bytes in a way the compiler does not elide. p may be NULL if n is 0. */
void xl_wipe(void *p, size_t n);
/* Wipes n bytes then frees p (from malloc). Accepts NULL. */
void xl_freezero(void *p, size_t n);

/* Guarded, mlocked allocation for long-lived secrets (sodium_malloc). Returns NULL
 * on failure. Release with xl_secret_free, which wipes. Needs xl_crypto_init. */
void *xl_secret_alloc(size_t n);
/* Wipes and releases memory from xl_secret_alloc. Accepts NULL. */
void xl_secret_free(void *p);
/* Makes a secret buffer read-only / read-write again; 0 or XL_ERR_INTERNAL. */
int xl_secret_readonly(void *p);
int xl_secret_readwrite(void *p);

#endif
