#include <stdint.h>
#include <stdlib.h>

#include "xl/err.h"
#include "xl/wire.h"

/* The first field in m (or a message inside it) that the protocol does not
 * define, as "Type field N"; NULL when there is none. protobuf-c keeps such
 * fields and packs them again, so a peer could otherwise have anything stored
 * and passed on beside the fields that are checked. */
static const ProtobufCMessage *
s_undefined(const ProtobufCMessage *m, uint32_t *field)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const uint8_t *base = (const uint8_t *)m;

    if (m->n_unknown_fields > 0) {
        *field = m->unknown_fields[0].tag;
        return m;
    }
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const ProtobufCMessage *found;
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *v = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t j = 0; j < n; j++) {
                if (v[j] != NULL && (found = s_undefined(v[j], field)) != NULL)
                    return found;
            }
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        {
            const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + f->offset);
            if (sub != NULL && (found = s_undefined(sub, field)) != NULL)
                return found;
        }
    }
    return NULL;
}

int
xl_wire_defined_only(const ProtobufCMessage *m, char *err, size_t errlen)
{
    const ProtobufCMessage *bad;
    uint32_t field = 0;

    bad = s_undefined(m, &field);
    if (bad == NULL)
        return 0;
    return xl_err_set(err, errlen, XL_ERR_FORMAT, "field %u of %s is not defined by the protocol",
                      (unsigned)field, bad->descriptor->short_name);
}

int
xl_wire_decode(const uint8_t *buf, size_t len, size_t max, ProtobufCAllocator *alloc,
               xl_envelope **out, char *err, size_t errlen)
{
    xl_envelope *env;
    char why[160];

    *out = NULL;
    if (len > max)
        return xl_err_set(err, errlen, XL_ERR_TOOBIG,
                          "message of %zu bytes exceeds the limit of %zu", len, max);
    /* protobuf-c returns NULL for truncated or malformed input; it bounds every
     * length field by the buffer it was given. */
    env = crosslink__envelope__unpack(alloc, len, buf);
    if (env == NULL)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "malformed message (%zu bytes)", len);
    if (env->version != XL_WIRE_VERSION) {
        unsigned v = env->version;
        crosslink__envelope__free_unpacked(env, alloc);
        return xl_err_set(err, errlen, XL_ERR_VERSION,
                          "unsupported protocol version %u (this side speaks %d)", v,
                          XL_WIRE_VERSION);
    }
    if (env->body_case == CROSSLINK__ENVELOPE__BODY__NOT_SET) {
        crosslink__envelope__free_unpacked(env, alloc);
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "message has no body");
    }
    if (xl_wire_defined_only(&env->base, why, sizeof why) != 0) {
        crosslink__envelope__free_unpacked(env, alloc);
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "malformed message: %s", why);
    }
    *out = env;
    return 0;
}

void
xl_wire_free(xl_envelope **env, ProtobufCAllocator *alloc)
{
    if (env == NULL || *env == NULL)
        return;
    crosslink__envelope__free_unpacked(*env, alloc);
    *env = NULL;
}

int
xl_wire_encode(xl_envelope *env, uint8_t **out, size_t *outlen)
{
    size_t n;
    uint8_t *buf;

    *out = NULL;
    *outlen = 0;
    env->version = XL_WIRE_VERSION;
    n = crosslink__envelope__get_packed_size(env);
    buf = malloc(n > 0 ? n : 1);
    if (buf == NULL)
        return XL_ERR_NOMEM;
    *outlen = crosslink__envelope__pack(env, buf);
    *out = buf;
    return 0;
}

const char *
xl_wire_body_name(const xl_envelope *env)
{
    const ProtobufCFieldDescriptor *f;

    if (env == NULL || env->body_case == CROSSLINK__ENVELOPE__BODY__NOT_SET)
        return "none";
    f = protobuf_c_message_descriptor_get_field(&crosslink__envelope__descriptor,
                                                (unsigned)env->body_case);
    return f != NULL ? f->name : "unknown";
}
