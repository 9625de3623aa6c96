/* libFuzzer target: the agent's configuration and column-mapping parsers, the
 * linker's and the auditor's configuration parsers never crash on any file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../agent/config.h"
#include "../../audit/config.h"
#include "../../linker/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    static struct agent_config ac;
    static struct agent_mapping am;
    static struct linker_config lc;
    static struct audit_config uc;
    char err[512];
    FILE *f;

    if (path[0] == '\0')
        snprintf(path, sizeof path, "/tmp/xl-fuzz-conf.%ld", (long)getpid());
    f = fopen(path, "w");
    if (f == NULL)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    (void)agent_config_load(path, &ac, err, sizeof err);
    (void)agent_mapping_load(path, &am, err, sizeof err);
    (void)linker_config_load(path, &lc, err, sizeof err);
    (void)audit_config_load(path, &uc, err, sizeof err);
    return 0;
}
