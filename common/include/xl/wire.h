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

/* Decodes buf into *out (caller frees with xl_wire_free). Errors:
 * XL_ERR_TOOBIG when len > max, XL_ERR_FORMAT for bytes that do not parse or an
 * envelope without a body, XL_ERR_VERSION for a version other than
 * XL_WIRE_VERSION. On error *out is NULL. */
int xl_wire_decode(const uint8_t *buf, size_t len, size_t max, xl_envelope **out, char *err,
                   size_t errlen);
void xl_wire_free(xl_envelope **env);

/* Packs env (its version is set to XL_WIRE_VERSION) into a new buffer (*out,
 * *outlen; caller frees with free()). XL_ERR_NOMEM on allocation failure. */
int xl_wire_encode(xl_envelope *env, uint8_t **out, size_t *outlen);

/* Name of the body case, for logs ("submit_begin"); "none" when unset. */
const char *xl_wire_body_name(const xl_envelope *env);

#endif
