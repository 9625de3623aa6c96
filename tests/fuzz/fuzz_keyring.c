/* libFuzzer target: a whole keyring file, as the linker loads it at start and
 * on reload (xl_keyring_load); fuzz_keyfile covers one line on its own.
 *
 * Checked: every entry loaded formats as a line that parses back to the same
 * entry and can be found by its key, id and name; the keyring saved and
 * loaded again is the same keyring. */
#include <string.h>
#include <unistd.h>

#include "fuzzlib.h"
#include "xl/keyring.h"

static int
s_same(const struct xl_keyring_entry *a, const struct xl_keyring_entry *b)
{
    return strcmp(a->key_id, b->key_id) == 0 && a->role == b->role &&
           strcmp(a->agency, b->agency) == 0 && strcmp(a->name, b->name) == 0 &&
           a->active == b->active && strcmp(a->date, b->date) == 0 &&
           memcmp(a->pk, b->pk, sizeof a->pk) == 0;
}

static void
s_entries(const struct xl_keyring *kr)
{
    struct xl_keyring_entry e;
    char line[512], err[XL_ERRBUF];

    for (size_t i = 0; i < kr->count; i++) {
        const struct xl_keyring_entry *k = &kr->entries[i];
        if (xl_keyring_format_line(k, line, sizeof line) != 0 ||
            xl_keyring_parse_line(line, "again", &e, err, sizeof err) != 0 || !s_same(&e, k))
            fuzz_fail("an entry formats as a line that parses back to it");
        if (xl_keyring_find_pk(kr, k->pk) != k || xl_keyring_find(kr, k->key_id) != k ||
            xl_keyring_find(kr, k->name) != k)
            fuzz_fail("an entry is found by its key, key id and name");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file("keyring", data, size), *copy;
    struct xl_keyring *kr = NULL, *again = NULL;
    char err[XL_ERRBUF];

    if (xl_keyring_load(path, &kr, err, sizeof err) != 0)
        return 0;
    s_entries(kr);
    copy = fuzz_path("keyring.saved");
    if (xl_keyring_save(kr, copy, err, sizeof err) != 0 ||
        xl_keyring_load(copy, &again, err, sizeof err) != 0)
        fuzz_fail(err);
    if (again->count != kr->count)
        fuzz_fail("a keyring saved and loaded again has as many entries");
    for (size_t i = 0; i < kr->count; i++) {
        if (!s_same(&again->entries[i], &kr->entries[i]))
            fuzz_fail("a keyring saved and loaded again has the same entries");
    }
    (void)unlink(copy);
    xl_keyring_destroy(&again);
    xl_keyring_destroy(&kr);
    return 0;
}
