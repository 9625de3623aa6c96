/* libFuzzer target: wire decoding never crashes, and what decodes re-encodes. */
#include <stdint.h>
#include <stdlib.h>

#include "xl/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    xl_envelope *env = NULL;
    uint8_t *out = NULL;
    size_t outlen = 0;
    char err[256];

    if (xl_wire_decode(data, size, 1u << 20, NULL, &env, err, sizeof err) == 0) {
        if (xl_wire_encode(env, &out, &outlen) != 0)
            abort();
        (void)xl_wire_body_name(env);
        free(out);
        xl_wire_free(&env, NULL);
    }
    return 0;
}
