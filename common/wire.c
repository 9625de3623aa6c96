#include <stdlib.h>

#include "xl/err.h"
#include "xl/wire.h"

int
xl_wire_decode(const uint8_t *buf, size_t len, size_t max, xl_envelope **out, char *err,
               size_t errlen)
{
    xl_envelope *env;

    *out = NULL;
    if (len > max)
        return xl_err_set(err, errlen, XL_ERR_TOOBIG,
                          "message of %zu bytes exceeds the limit of %zu", len, max);
    /* protobuf-c returns NULL for truncated or malformed input; it bounds every
     * length field by the buffer it was given. */
    env = crosslink__envelope__unpack(NULL, len, buf);
    if (env == NULL)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "malformed message (%zu bytes)", len);
    if (env->version != XL_WIRE_VERSION) {
        unsigned v = env->version;
        crosslink__envelope__free_unpacked(env, NULL);
        return xl_err_set(err, errlen, XL_ERR_VERSION,
                          "unsupported protocol version %u (this side speaks %d)", v,
                          XL_WIRE_VERSION);
    }
    if (env->body_case == CROSSLINK__ENVELOPE__BODY__NOT_SET) {
        crosslink__envelope__free_unpacked(env, NULL);
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "message has no body");
    }
    *out = env;
    return 0;
}

void
xl_wire_free(xl_envelope **env)
{
    if (env == NULL || *env == NULL)
        return;
    crosslink__envelope__free_unpacked(*env, NULL);
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
