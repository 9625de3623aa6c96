/* libFuzzer target: key-file and keyring-line parsing never crash. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xl/crypto.h"
#include "xl/keyfile.h"
#include "xl/keyring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    static const enum xl_key_type types[] = {XL_KEY_CURVE_SECRET, XL_KEY_CURVE_PUBLIC,
                                             XL_KEY_SIGN_SECRET, XL_KEY_LINKAGE_SECRET};
    struct xl_keyfile *kf = NULL;
    struct xl_keyring_entry e;
    char err[512], *line;
    FILE *f;

    if (path[0] == '\0') {
        if (xl_crypto_init() != 0)
            abort();
        snprintf(path, sizeof path, "/tmp/xl-fuzz-key.%ld", (long)getpid());
    }
    f = fopen(path, "w");
    if (f == NULL)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    chmod(path, 0600);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (xl_keyfile_load(path, types[i], &kf, err, sizeof err) == 0)
            xl_keyfile_destroy(&kf);
    }
    line = malloc(size + 1);
    if (line != NULL) {
        memcpy(line, data, size);
        line[size] = '\0';
        (void)xl_keyring_parse_line(line, "fuzz", &e, err, sizeof err);
        free(line);
    }
    return 0;
}
