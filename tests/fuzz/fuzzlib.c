#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "fuzzlib.h"

static char s_dir[64];

static void
s_cleanup(void)
{
    char path[sizeof s_dir + 300];
    struct dirent *e;
    DIR *d = opendir(s_dir);

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", s_dir, e->d_name);
        if (unlink(path) != 0)
            (void)rmdir(path); /* a target's own folder, emptied as it goes */
    }
    closedir(d);
    (void)rmdir(s_dir);
}

void
fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz: property does not hold: %s\n", what);
    abort();
}

const char *
fuzz_dir(void)
{
    if (s_dir[0] == '\0') {
        if (xl_crypto_init() != 0)
            fuzz_fail("libsodium initialises");
        snprintf(s_dir, sizeof s_dir, "/tmp/xl-fuzz.XXXXXX");
        if (mkdtemp(s_dir) == NULL)
            fuzz_fail("a temporary folder can be made");
        atexit(s_cleanup);
    }
    return s_dir;
}

const char *
fuzz_path(const char *name)
{
    /* A few slots, so a target can hold the paths of its input and its copy. */
    static char paths[4][sizeof s_dir + 64];
    static unsigned next;
    char *p = paths[next++ % 4];

    snprintf(p, sizeof paths[0], "%s/%s", fuzz_dir(), name);
    return p;
}

const char *
fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(name);
    int fd;

    (void)unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) || close(fd) != 0)
        fuzz_fail("the input can be written to a temporary file");
    return path;
}

const uint8_t *
fuzz_sign_public(void)
{
    static uint8_t pk[XL_SIGN_PK_BYTES];
    static int loaded;

    if (!loaded) {
        if (xl_z85_decode(FIXTURE_SIGN_PUBLIC, pk, sizeof pk) != 0)
            fuzz_fail("the fixture's signing key decodes");
        loaded = 1;
    }
    return pk;
}

const struct xl_keyfile *
fuzz_agent_key(void)
{
    static const char text[] = FIXTURE_AGENT_KEY;
    static struct xl_keyfile *kf;
    char err[512];

    if (kf == NULL) {
        const char *path = fuzz_file("agent.key", (const uint8_t *)text, sizeof text - 1);
        if (xl_keyfile_load(path, XL_KEY_CURVE_SECRET, &kf, err, sizeof err) != 0)
            fuzz_fail(err);
        (void)unlink(path);
    }
    return kf;
}

const struct xl_spec *
fuzz_spec(void)
{
    static struct xl_spec *spec;
    char err[512];

    uint8_t fp[XL_HASH_BYTES];

    if (spec == NULL) {
        if (xl_spec_parse(FIXTURE_SPEC_TEXT, "fixture.spec", &spec, err, sizeof err) != 0)
            fuzz_fail(err);
        if (xl_unhex(FIXTURE_SPEC, fp, sizeof fp) != 0 ||
            !xl_equal(fp, spec->fingerprint, sizeof fp))
            fuzz_fail("the fixture's specification has the fixture's fingerprint");
    }
    return spec;
}

const uint8_t *
fuzz_submission_id(size_t *len)
{
    static uint8_t id[(sizeof FIXTURE_SUBMISSION - 1) / 2];
    static int loaded;

    if (!loaded) {
        if (xl_unhex(FIXTURE_SUBMISSION, id, sizeof id) != 0)
            fuzz_fail("the fixture's submission id decodes");
        loaded = 1;
    }
    *len = sizeof id;
    return id;
}

const struct agent_xle_info *
fuzz_sent(void)
{
    static Crosslink__XleHeader hdr = CROSSLINK__XLE_HEADER__INIT;
    static uint8_t spec_fp[XL_HASH_BYTES];
    static struct agent_xle_info info;

    if (info.hdr == NULL) {
        if (xl_unhex(FIXTURE_SPEC, spec_fp, sizeof spec_fp) != 0 ||
            xl_unhex(FIXTURE_CONTENT, info.hash, sizeof info.hash) != 0)
            fuzz_fail("the fixture's hashes decode");
        hdr.version = 1;
        hdr.agency = (char *)FIXTURE_AGENCY;
        hdr.dataset = (char *)FIXTURE_DATASET;
        hdr.epoch = FIXTURE_EPOCH;
        hdr.record_count = FIXTURE_RECORDS;
        hdr.spec_fingerprint.data = spec_fp;
        hdr.spec_fingerprint.len = sizeof spec_fp;
        info.count = FIXTURE_RECORDS;
        info.hdr = &hdr;
    }
    return &info;
}
