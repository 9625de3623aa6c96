#include <stdint.h>
#include <stdlib.h>

#include <sodium.h>

#include "xl/arena.h"

/* GCC defines __SANITIZE_ADDRESS__ under -fsanitize=address; clang does not,
 * and answers __has_feature instead. */
#if defined(__SANITIZE_ADDRESS__)
#define S_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_ASAN 1
#endif
#endif

#ifdef S_ASAN
#include <sanitizer/asan_interface.h>
#define S_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define S_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
/* A poisoned gap after each allocation, so a write past its end is caught. */
#define S_REDZONE 16u
#else
#define S_POISON(p, n)   ((void)(p), (void)(n))
#define S_UNPOISON(p, n) ((void)(p), (void)(n))
#define S_REDZONE        0u
#endif

struct xl_arena {
    ProtobufCAllocator alloc;
    uint8_t *base;
    size_t cap, used;
};

static int
s_owns(const struct xl_arena *a, const void *p)
{
    uintptr_t u = (uintptr_t)p, b = (uintptr_t)a->base;

    return a->base != NULL && u >= b && u < b + a->cap;
}

static void *
s_alloc(void *arg, size_t n)
{
    struct xl_arena *a = arg;
    size_t need = ((n + 15) & ~(size_t)15) + S_REDZONE;

    if (need > n && a->base != NULL && need <= a->cap - a->used) {
        void *p = a->base + a->used;
        a->used += need;
        S_UNPOISON(p, n);
        return p;
    }
    return malloc(n);
}

static void
s_free(void *arg, void *p)
{
    struct xl_arena *a = arg;

    /* Arena memory is given back all at once, by the next reset. */
    if (p != NULL && !s_owns(a, p))
        free(p);
}

struct xl_arena *
xl_arena_new(void)
{
    struct xl_arena *a = calloc(1, sizeof *a);

    if (a == NULL)
        return NULL;
    a->alloc.alloc = s_alloc;
    a->alloc.free = s_free;
    a->alloc.allocator_data = a;
    return a;
}

void
xl_arena_destroy(struct xl_arena **a)
{
    if (a == NULL || *a == NULL)
        return;
    if ((*a)->base != NULL)
        S_UNPOISON((*a)->base, (*a)->cap);
    free((*a)->base);
    free(*a);
    *a = NULL;
}

void
xl_arena_reset(struct xl_arena *a, size_t want)
{
    a->used = 0;
    if (want > a->cap) {
        uint8_t *p = malloc(want);
        if (p != NULL) {
            if (a->base != NULL)
                S_UNPOISON(a->base, a->cap);
            free(a->base);
            a->base = p;
            a->cap = want;
        }
    }
    if (a->base != NULL)
        S_POISON(a->base, a->cap);
}

void
xl_arena_trim(struct xl_arena *a, size_t keep)
{
    a->used = 0;
    if (a->base == NULL)
        return;
    S_UNPOISON(a->base, a->cap);
    if (a->cap > keep) {
        free(a->base);
        a->base = NULL;
        a->cap = 0;
        return;
    }
    S_POISON(a->base, a->cap);
}

ProtobufCAllocator *
xl_arena_allocator(struct xl_arena *a)
{
    return &a->alloc;
}

void
xl_arena_wipe(struct xl_arena *a, size_t want)
{
    if (a->base != NULL) {
        S_UNPOISON(a->base, a->cap);
        sodium_memzero(a->base, a->used);
    }
    xl_arena_reset(a, want);
}
