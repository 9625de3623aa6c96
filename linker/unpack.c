#include <stdlib.h>

#include "unpack.h"

/* Start with room for a record of a few kilobytes and all its parts. */
#define S_START (64 * 1024)
/* What protobuf-c's structures need: the alignment malloc gives. */
#define S_ALIGN 16

static void *
s_alloc(void *data, size_t size)
{
    struct linker_unpacker *u = data;
    size_t at = (u->used + S_ALIGN - 1) & ~(size_t)(S_ALIGN - 1);

    if (size > u->cap || at > u->cap - size) {
        u->short_of_room = 1;
        return NULL;
    }
    u->used = at + size;
    return u->buf + at;
}

static void
s_free(void *data, void *p)
{
    /* the whole buffer is reused by the next record */
    (void)data;
    (void)p;
}

void
linker_unpacker_init(struct linker_unpacker *u)
{
    *u = (struct linker_unpacker){.alloc = {s_alloc, s_free, u}};
}

Crosslink__Record *
linker_unpack_record(struct linker_unpacker *u, const uint8_t *data, size_t len)
{
    u->alloc.allocator_data = u; /* the struct may have been copied since init */
    for (;;) {
        Crosslink__Record *r;
        if (u->buf == NULL) {
            size_t cap = u->cap ? u->cap : S_START;
            u->buf = malloc(cap);
            if (u->buf == NULL)
                return NULL;
            u->cap = cap;
        }
        u->used = 0;
        u->short_of_room = 0;
        r = crosslink__record__unpack(&u->alloc, len, data);
        if (r != NULL || !u->short_of_room)
            return r;
        /* A record larger than any before: twice the room, and again. A
         * record unpacks into at most some tens of times its length (a
         * structure for each few bytes), so this ends. */
        free(u->buf);
        u->buf = NULL;
        if (u->cap > ((size_t)1 << 40) / 2)
            return NULL;
        u->cap *= 2;
    }
}

void
linker_unpacker_free(struct linker_unpacker *u)
{
    free(u->buf);
    *u = (struct linker_unpacker){0};
}
