/* libFuzzer target: a linkage-secret bundle opened with the agent's key, as
 * `crosslink-keys unbundle` does.
 *
 * Checked: what opens is a linkage secret of the bundle's epoch for the key's
 * own agency, and that secret bundled again for the same key opens to the
 * same secret and epoch. */
#include <string.h>
#include <unistd.h>

#include "fuzzlib.h"
#include "xl/bundle.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct xl_keyfile *agent = fuzz_agent_key();
    const char *path = fuzz_file("in.bundle", data, size), *copy;
    struct xl_keyfile *secret = NULL, *again = NULL;
    char err[XL_ERRBUF];

    if (xl_bundle_open(path, agent, &secret, err, sizeof err) != 0) {
        if (secret != NULL)
            fuzz_fail("a bundle that does not open leaves no secret");
        return 0;
    }
    if (secret->type != XL_KEY_LINKAGE_SECRET || secret->epoch == 0 ||
        strcmp(secret->agency, agent->agency) != 0 || secret->secretlen != XL_KEY_BYTES)
        fuzz_fail("an opened bundle is a linkage secret of an epoch for the key's agency");
    copy = fuzz_path("copy.bundle");
    (void)unlink(copy);
    if (xl_bundle_write(copy, secret, agent, err, sizeof err) != 0 ||
        xl_bundle_open(copy, agent, &again, err, sizeof err) != 0)
        fuzz_fail(err);
    if (again->epoch != secret->epoch || !xl_equal(again->secret, secret->secret, XL_KEY_BYTES))
        fuzz_fail("a secret bundled again opens to the same secret and epoch");
    (void)unlink(copy);
    xl_keyfile_destroy(&again);
    xl_keyfile_destroy(&secret);
    return 0;
}
