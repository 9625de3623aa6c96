/* Records unpacked one after another into one buffer of the caller's, reused
 * from record to record. protobuf-c's default allocator made a malloc and a
 * free for the record and for each of its keys and blocking keys: about half
 * of loading a link run (docs/matching.md, "Cost"). */
#ifndef LINKER_UNPACK_H
#define LINKER_UNPACK_H

#include <stddef.h>
#include <stdint.h>

#include "crosslink.pb-c.h"

struct linker_unpacker {
    ProtobufCAllocator alloc;
    unsigned char *buf;
    size_t cap, used;
    int short_of_room; /* the last unpack ran out of buf, not into bad data */
};

void linker_unpacker_init(struct linker_unpacker *u);
/* The record in data, valid until the next call or linker_unpacker_free;
 * never freed by the caller. NULL when it does not decode (or out of
 * memory). */
Crosslink__Record *linker_unpack_record(struct linker_unpacker *u, const uint8_t *data, size_t len);
void linker_unpacker_free(struct linker_unpacker *u);

#endif
