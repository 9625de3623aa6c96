/* libFuzzer target: a whole audit log, as the linker opens it (and checks all
 * of it) before it appends; fuzz_audit covers one entry on its own.
 *
 * Each input is tried twice: as it is, and with its chain repaired (every line
 * shaped like an entry gets the previous entry's hash as prev and its own
 * correct hash), so the checks behind the hashes are reached too.
 *
 * Checked: a log that opens can be extended, and the extended log opens again
 * with the next sequence number one further on. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../linker/audit.h"
#include "fuzzlib.h"

#define S_PREV      "\"prev\":\""
#define S_HASH      ",\"hash\":\""
#define S_HASH_TAIL (sizeof S_HASH - 1 + 2 * XL_HASH_BYTES + 2)

/* Sets the prev and hash members of the entry line[0..len) that follows prev,
 * when it has both, and puts its hash in prev. */
static void
s_rehash(char *line, size_t len, uint8_t prev[XL_HASH_BYTES])
{
    char hex[2 * XL_HASH_BYTES + 1], *p, *buf;
    size_t clen;

    if (len < S_HASH_TAIL + 2 || memcmp(line + len - S_HASH_TAIL, S_HASH, sizeof S_HASH - 1) != 0)
        return;
    p = memmem(line, len - S_HASH_TAIL, S_PREV, sizeof S_PREV - 1);
    if (p == NULL || (size_t)(line + len - S_HASH_TAIL - p) < sizeof S_PREV - 1 + 2 * XL_HASH_BYTES)
        return;
    xl_hex(prev, XL_HASH_BYTES, hex);
    memcpy(p + sizeof S_PREV - 1, hex, 2 * XL_HASH_BYTES);
    /* hash = SHA-256(prev || the line without its hash member, closed again) */
    clen = len - S_HASH_TAIL + 1;
    buf = malloc(XL_HASH_BYTES + clen);
    if (buf == NULL)
        fuzz_fail("memory for an entry");
    memcpy(buf, prev, XL_HASH_BYTES);
    memcpy(buf + XL_HASH_BYTES, line, clen - 1);
    buf[XL_HASH_BYTES + clen - 1] = '}';
    xl_sha256(buf, XL_HASH_BYTES + clen, prev);
    free(buf);
    xl_hex(prev, XL_HASH_BYTES, hex);
    memcpy(line + len - S_HASH_TAIL + sizeof S_HASH - 1, hex, 2 * XL_HASH_BYTES);
}

static void
s_try(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("audit.jsonl", data, size);
    struct linker_audit *a = NULL;
    char err[XL_ERRBUF];
    uint64_t next, seq = 0;

    if (linker_audit_open(path, NULL, NULL, &a, err, sizeof err) != 0) {
        if (a != NULL)
            fuzz_fail("a log that does not open gives no handle");
        return;
    }
    next = linker_audit_next_seq(a);
    if (linker_audit_append(a, 1795331537, "linker", "linker", "fuzz.check", NULL, &seq, err,
                            sizeof err) != 0 ||
        seq != next)
        fuzz_fail("a log that opens takes the next entry");
    linker_audit_close(&a);
    if (linker_audit_open(path, NULL, NULL, &a, err, sizeof err) != 0)
        fuzz_fail("a log extended by the linker opens again");
    if (linker_audit_next_seq(a) != next + 1)
        fuzz_fail("the extended log continues one entry further on");
    linker_audit_close(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t prev[XL_HASH_BYTES] = {0};
    char *copy;
    size_t start = 0;

    s_try(data, size);
    copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    for (size_t i = 0; i <= size; i++) {
        if (i == size || copy[i] == '\n') {
            s_rehash(copy + start, i - start, prev);
            start = i + 1;
        }
    }
    if (memcmp(copy, data, size) != 0)
        s_try((const uint8_t *)copy, size);
    free(copy);
    return 0;
}
