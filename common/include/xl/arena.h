/* A bump allocator for decoding peers' messages.
 *
 * A chunk of a thousand records unpacks into some fifteen thousand small
 * allocations, which malloc and free would spend more time on than the rest of
 * the chunk's handling. The arena hands out memory from one block, reset before
 * each message; what does not fit goes to malloc (and is freed through the
 * allocator as usual). Under AddressSanitizer the arena stays in use, with the
 * memory no allocation owns poisoned, so overflows and use after a reset are
 * still caught. */
#ifndef XL_ARENA_H
#define XL_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

struct xl_arena;

/* NULL when out of memory. Caller frees with xl_arena_destroy. */
struct xl_arena *xl_arena_new(void);
/* Frees *a and sets it to NULL; accepts NULL. Nothing it handed out may be
 * used afterwards. */
void xl_arena_destroy(struct xl_arena **a);

/* Forgets every allocation and makes room for about want bytes (a failed
 * growth keeps the smaller block: allocations then fall back to malloc). */
void xl_arena_reset(struct xl_arena *a, size_t want);
/* xl_arena_reset, after zeroing what the allocations used (decrypted values). */
void xl_arena_wipe(struct xl_arena *a, size_t want);
/* Forgets every allocation, and gives back a block larger than keep bytes. */
void xl_arena_trim(struct xl_arena *a, size_t keep);

/* The allocator protobuf-c's unpack and free_unpacked take, drawing on a;
 * valid while a lives. */
ProtobufCAllocator *xl_arena_allocator(struct xl_arena *a);

#endif
