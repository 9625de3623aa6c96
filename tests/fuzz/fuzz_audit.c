/* libFuzzer target: checking an audit-log entry never crashes, whatever the
 * line holds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "xl/auditlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xl_audit_entry e;
    cJSON *obj = NULL;
    char err[512], *line = malloc(size + 1);

    if (line == NULL)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';
    if (xl_audit_entry_check(line, size, &e, &obj, err, sizeof err) == 0 && obj == NULL)
        abort(); /* an entry that checks comes with its object */
    cJSON_Delete(obj);
    free(line);
    return 0;
}
