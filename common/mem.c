#include <stdlib.h>

#include <sodium.h>

#include "xl/err.h"
#include "xl/mem.h"

void
xl_wipe(void *p, size_t n)
{
    if (p != NULL && n > 0)
        sodium_memzero(p, n);
}

void
xl_freezero(void *p, size_t n)
{
    if (p == NULL)
        return;
    sodium_memzero(p, n);
    free(p);
}

void *
xl_secret_alloc(size_t n)
{
    void *p = sodium_malloc(n);

    if (p != NULL)
        sodium_memzero(p, n);
    return p;
}

void
xl_secret_free(void *p)
{
    sodium_free(p); /* wipes, and accepts NULL */
}

int
xl_secret_readonly(void *p)
{
    return sodium_mprotect_readonly(p) == 0 ? 0 : XL_ERR_INTERNAL;
}

int
xl_secret_readwrite(void *p)
{
    return sodium_mprotect_readwrite(p) == 0 ? 0 : XL_ERR_INTERNAL;
}
