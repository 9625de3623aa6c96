/* libFuzzer target: checking an audit-log entry never crashes, whatever the
 * line holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../linker/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t prev[32], hash[32];
    uint64_t seq;
    char err[512], *line = malloc(size + 1);

    if (line == NULL)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    (void)linker_audit_entry_check(line, size, &seq, prev, hash, err, sizeof err);
    free(line);
    return 0;
}
