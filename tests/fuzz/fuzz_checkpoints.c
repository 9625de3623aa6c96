/* libFuzzer target: a file of signed checkpoints, as the linker reads its own
 * at every start and `crosslink-audit fetch` and `verify` read the ones an IG
 * lead kept (common/auditlog.c, xl_checkpoints_each), each note then opened as
 * the linker's checkpoint.
 *
 * Checked: the notes handed over lie one after another from the start of the
 * file, each non-empty and ending in a newline, and what is reported complete
 * is exactly their length. */
#include <string.h>

#include "fuzzlib.h"
#include "xl/auditlog.h"

struct s_walk {
    const uint8_t *data;
    size_t size, at;
};

static const uint8_t s_pk[XL_SIGN_PK_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};

static int
s_note(void *ctx, const char *note, size_t len, char *err, size_t errlen)
{
    struct s_walk *w = ctx;
    struct xl_checkpoint cp;

    if (len == 0 || w->at + len > w->size || memcmp(note, w->data + w->at, len) != 0 ||
        note[len - 1] != '\n')
        fuzz_fail("each note is the next part of the file, ending in a newline");
    w->at += len;
    (void)xl_audit_checkpoint_open(note, len, s_pk, &cp, err, errlen);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("audit.jsonl.checkpoints", data, size);
    struct s_walk w = {data, size, 0};
    char err[XL_ERRBUF];
    size_t complete = 0;
    int r = xl_checkpoints_each(path, s_note, &w, &complete, err, sizeof err);

    if (complete != w.at)
        fuzz_fail("what is complete is the notes handed over");
    if (r == 0 && w.at != size)
        fuzz_fail("a file read to its end without error was handed over whole");
    return 0;
}
