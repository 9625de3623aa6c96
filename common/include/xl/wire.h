/* Wire framing: one protobuf Envelope per ZeroMQ message.
 *
 * Decoding never trusts the peer: input over the size cap, bytes that do not
 * parse, an unknown version or an envelope without a body give an error code
 * and a message, never a crash. */
#ifndef XL_WIRE_H
#define XL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "crosslink.pb-c.h"

#define XL_WIRE_VERSION 1
/* Default cap on one message; configurable at the linker. */
#define XL_WIRE_MAX_DEFAULT (16u * 1024 * 1024)

typedef Crosslink__Envelope xl_envelope; /* generated type; a typedef to keep lines short */

/* Decodes buf into *out with alloc (NULL: malloc), which the caller frees
 * with xl_wire_free and the same alloc. Errors: XL_ERR_TOOBIG when len > max,
 * XL_ERR_FORMAT for bytes that do not parse, an envelope without a body or one
 * carrying a field the protocol does not define (anywhere inside it),
 * XL_ERR_VERSION for a version other than XL_WIRE_VERSION. On error *out is
 * NULL. */
int xl_wire_decode(const uint8_t *buf, size_t len, size_t max, ProtobufCAllocator *alloc,
                   xl_envelope **out, char *err, size_t errlen);
/* Frees *env (decoded with alloc) and sets it to NULL; accepts NULL. */
void xl_wire_free(xl_envelope **env, ProtobufCAllocator *alloc);

/* 0 when m and every message inside it hold only fields the protocol defines;
 * XL_ERR_FORMAT naming the message type and field number otherwise. Decoding
 * checks envelopes; a record read from a file is checked with this. */
int xl_wire_defined_only(const ProtobufCMessage *m, char *err, size_t errlen);

/* Packs env (its version is set to XL_WIRE_VERSION) into a new buffer (*out,
 * *outlen; caller frees with free()). XL_ERR_NOMEM on allocation failure. */
int xl_wire_encode(xl_envelope *env, uint8_t **out, size_t *outlen);

/* Name of the body case, for logs ("submit_begin"); "none" when unset. */
const char *xl_wire_body_name(const xl_envelope *env);

#endif
