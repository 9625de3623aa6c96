/* Receipts at the agency: checked against what was sent, filed one per file in
 * state_dir/receipts/, and listed with their signatures verified again, so the
 * agency can show what it sent and when with nothing but the linker's public
 * signing key. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "submit.h"
#include "xl/crypto.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/receipt.h"

static int
s_mismatch(char *err, size_t errlen, const char *what)
{
    return xl_err_set(err, errlen, XL_ERR_MISMATCH,
                      "the linker's receipt does not match what was sent: %s differs", what);
}

/* Whether the receipt's commit entry (already proven) names this input. */
static int
s_entry_names_input(const Crosslink__Receipt *r, const uint8_t input[XL_HASH_BYTES])
{
    char want[2 * XL_HASH_BYTES + 1];
    cJSON *e = cJSON_ParseWithLength((const char *)r->audit_entry.data, r->audit_entry.len);
    const cJSON *got =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "details"), "input");
    int same;

    xl_hex(input, XL_HASH_BYTES, want);
    same = cJSON_IsString(got) && strcmp(got->valuestring, want) == 0;
    cJSON_Delete(e);
    return same;
}

int
agent_receipt_check(const Crosslink__Receipt *r, const uint8_t sign_pk[XL_SIGN_PK_BYTES],
                    const struct agent_xle_info *sent, const uint8_t *submission_id, size_t idlen,
                    char *err, size_t errlen)
{
    const Crosslink__XleHeader *h = sent->hdr;
    int rc = xl_receipt_verify(r, sign_pk, err, errlen), earlier = 0;

    if (rc == XL_ERR_CRYPTO && strlen(err) + 120 < errlen)
        strcat(err, " (is sign_public in agent.conf the linker's linker-sign.pub? a receipt "
                    "signed by another key does not verify)");
    if (rc != 0)
        return rc;
    /* xl_receipt_verify checked the lengths of the hashes and the names. */
    if (strcmp(r->agency, h->agency) != 0)
        return s_mismatch(err, errlen, "agency");
    if (strcmp(r->dataset, h->dataset) != 0)
        return s_mismatch(err, errlen, "dataset");
    if (r->record_count != sent->count)
        return s_mismatch(err, errlen, "record count");
    if (!xl_equal(r->content_hash.data, sent->hash, XL_HASH_BYTES)) {
        if (!sent->has_input)
            return s_mismatch(err, errlen, "content hash");
        earlier = 1; /* decided below, once the commit entry is proven */
    }
    if (r->epoch != h->epoch)
        return s_mismatch(err, errlen, "epoch");
    if (h->spec_fingerprint.len != XL_HASH_BYTES ||
        !xl_equal(r->spec_fingerprint.data, h->spec_fingerprint.data, XL_HASH_BYTES))
        return s_mismatch(err, errlen, "specification fingerprint");
    if (submission_id != NULL &&
        (r->submission_id.len != idlen || !xl_equal(r->submission_id.data, submission_id, idlen)))
        return s_mismatch(err, errlen, "submission id");
    /* The commit entry is in a checkpoint the linker signed: the agency can
     * later show an IG lead that its submission was logged. */
    rc = xl_receipt_verify_audit(r, sign_pk, NULL, NULL, err, errlen);
    if (rc == 0 && earlier && !s_entry_names_input(r, sent->input_id))
        return s_mismatch(err, errlen, "content hash");
    return rc;
}

/* A receipt's time in UTC: for a file name (compact) or for a person. */
static void
s_utc(int64_t t, int compact, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    size_t n = 0;

    if (gmtime_r(&tt, &tm) != NULL)
        n = compact ? strftime(out, len, "%Y%m%dT%H%M%SZ", &tm)
                    : strftime(out, len, "%Y-%m-%d %H:%M:%S", &tm);
    if (n == 0)
        snprintf(out, len, "%lld", (long long)t);
}

static int
s_write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int
agent_receipt_load(const char *path, Crosslink__Receipt **out, char *err, size_t errlen)
{
    char msg[XL_ERRBUF];
    int r = xl_receipt_load(path, out, msg, sizeof msg);

    return r == 0 ? 0 : xl_err_set(err, errlen, r, "%s: %s", path, msg);
}

/* An existing file of the same name is the same receipt when its signed text is
 * the same: the unsigned extras (an audit proof) may have been refreshed. */
static int
s_same_receipt(const char *path, const Crosslink__Receipt *r)
{
    char a[XL_RECEIPT_TEXT_MAX], b[XL_RECEIPT_TEXT_MAX];
    Crosslink__Receipt *old = NULL;
    int na, nb, same;

    if (agent_receipt_load(path, &old, NULL, 0) != 0)
        return 0;
    na = xl_receipt_canonical(old, a, sizeof a);
    nb = xl_receipt_canonical(r, b, sizeof b);
    same = na > 0 && na == nb && memcmp(a, b, (size_t)na) == 0;
    crosslink__receipt__free_unpacked(old, NULL);
    return same;
}

int
agent_receipt_store(const char *dir, const Crosslink__Receipt *r, char *path, size_t pathlen,
                    char *err, size_t errlen)
{
    char when[32], id[9], final[AGENT_PATH_MAX + 128], tmp[AGENT_PATH_MAX + 160];
    uint8_t *buf = NULL;
    size_t len;
    int fd = -1, rc;

    if (path != NULL && pathlen > 0)
        path[0] = '\0';
    if (!xl_name_valid(r->dataset) || r->submission_id.len < 4)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "receipt is malformed");
    s_utc(r->time, 1, when, sizeof when);
    xl_hex(r->submission_id.data, 4, id);
    snprintf(final, sizeof final, "%s/%s-%s-%s.receipt", dir, when, r->dataset, id);
    snprintf(tmp, sizeof tmp, "%s/.%s-%s-%s.receipt.tmp", dir, when, r->dataset, id);
    len = crosslink__receipt__get_packed_size(r);
    buf = malloc(len > 0 ? len : 1);
    if (buf == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    crosslink__receipt__pack(r, buf);
    (void)unlink(tmp); /* left by a run that stopped between create and rename */
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        rc = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    if (s_write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        rc = xl_err_set(err, errlen, XL_ERR_IO, "%s: write failed: %s", tmp, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    /* link() never replaces an existing file, unlike rename(). */
    if (link(tmp, final) != 0) {
        if (errno != EEXIST || !s_same_receipt(final, r)) {
            rc =
                xl_err_set(err, errlen, errno == EEXIST ? XL_ERR_EXISTS : XL_ERR_IO,
                           "%s: cannot store receipt: %s", final,
                           errno == EEXIST ? "a different receipt has this name" : strerror(errno));
            goto out;
        }
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        (void)fsync(fd); /* the new name survives a power cut */
    if (path != NULL)
        snprintf(path, pathlen, "%s", final);
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    (void)unlink(tmp);
    free(buf);
    return rc;
}

/* 1234567 -> "1,234,567" */
static void
s_thousands(uint64_t n, char *out, size_t len)
{
    char tmp[32];
    int digits = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)n);
    size_t j = 0;

    for (int i = 0; i < digits && j + 2 < len; i++) {
        if (i > 0 && (digits - i) % 3 == 0)
            out[j++] = ',';
        out[j++] = tmp[i];
    }
    out[j] = '\0';
}

/* A name from a receipt file as shown: a tampered one may hold anything. */
static const char *
s_shown(const char *name)
{
    return xl_name_valid(name) ? name : "?";
}

void
agent_receipt_print(const Crosslink__Receipt *r, const char *path, FILE *out)
{
    char id[2 * 32 + 1], hash[2 * XL_HASH_BYTES + 1], when[32], n[32], kid[XL_KEYID_HEX + 1];

    xl_hex(r->submission_id.data, r->submission_id.len <= 32 ? r->submission_id.len : 32, id);
    xl_hex(r->content_hash.data, XL_HASH_BYTES, hash);
    s_utc(r->time, 0, when, sizeof when);
    s_thousands(r->record_count, n, sizeof n);
    fprintf(out, "receipt     %s\n", path != NULL ? path : "(not stored)");
    fprintf(out, "dataset     %s (agency %s): %s records, epoch %u\n", s_shown(r->dataset),
            s_shown(r->agency), n, (unsigned)r->epoch);
    fprintf(out, "content     %s\n", hash);
    fprintf(out, "submission  %s\n", id);
    fprintf(out, "committed   %s UTC, audit entry %llu\n", when, (unsigned long long)r->audit_seq);
    if (r->linker_key.len == XL_SIGN_PK_BYTES) {
        xl_key_id(r->linker_key.data, XL_SIGN_PK_BYTES, kid);
        fprintf(out, "signature   valid (linker signing key %s)\n", kid);
    }
}

static int
s_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
s_is_receipt_name(const char *name)
{
    size_t n = strlen(name);

    return name[0] != '.' && n > 8 && strcmp(name + n - 8, ".receipt") == 0;
}

/* The names of dir's receipts, sorted (so oldest first: names start with the
 * time). Caller frees each and the array. */
static int
s_receipt_names(const char *dir, char ***names, size_t *count, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **v = NULL;
    size_t n = 0, cap = 0;

    *names = NULL;
    *count = 0;
    if (d == NULL)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot read: %s", dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        if (!s_is_receipt_name(e->d_name))
            continue;
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            char **nv = realloc(v, ncap * sizeof *nv);
            if (nv == NULL)
                goto nomem;
            v = nv;
            cap = ncap;
        }
        v[n] = strdup(e->d_name);
        if (v[n] == NULL)
            goto nomem;
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(v, n, sizeof *v, s_cmp_names);
    *names = v;
    *count = n;
    return 0;
nomem:
    closedir(d);
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
    return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
}

static void
s_list_one(const char *dir, const char *name, const uint8_t sign_pk[XL_SIGN_PK_BYTES], int verbose,
           FILE *out, size_t *nbad)
{
    char path[AGENT_PATH_MAX + 300], why[XL_ERRBUF], text[XL_RECEIPT_TEXT_MAX];
    char when[32], n[32], id[2 * 32 + 1], hash[2 * XL_HASH_BYTES + 1], kid[XL_KEYID_HEX + 1];
    Crosslink__Receipt *r = NULL;
    int rc;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    rc = agent_receipt_load(path, &r, why, sizeof why);
    struct xl_checkpoint cp = {.size = 0};
    int logged = 0;

    if (rc == 0)
        rc = xl_receipt_verify(r, sign_pk, why, sizeof why);
    if (rc == 0) {
        /* A receipt from before checkpoints carries no proof; one that does
         * must prove its entry. */
        rc = xl_receipt_verify_audit(r, sign_pk, &cp, NULL, why, sizeof why);
        logged = rc == 0;
        if (rc == XL_ERR_NOTFOUND)
            rc = 0;
    }
    if (rc != 0)
        (*nbad)++;
    if (verbose) {
        fprintf(out, "%s\n", path);
        if (r != NULL && xl_receipt_canonical(r, text, sizeof text) > 0) {
            for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
                /* a tampered file may hold anything: no terminal controls */
                for (char *c = line; *c != '\0'; c++)
                    if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        *c = '?';
                fprintf(out, "    %s\n", line);
            }
        }
        if (rc == 0) {
            xl_key_id(sign_pk, XL_SIGN_PK_BYTES, kid);
            fprintf(out, "    signature valid (linker signing key %s)\n", kid);
            if (logged)
                fprintf(out,
                        "    logged as audit entry %llu, proved in the linker's signed checkpoint "
                        "of %llu entries\n\n",
                        (unsigned long long)r->audit_seq, (unsigned long long)cp.size);
            else
                fprintf(out, "    no audit proof (a receipt from before signed checkpoints)\n\n");
        } else {
            fprintf(out, "    signature INVALID: %s\n\n", why);
        }
    } else if (r == NULL || xl_receipt_canonical(r, text, sizeof text) < 0) {
        fprintf(out, "%-20s  BAD: %s\n", "?", rc != 0 ? why : "malformed");
    } else {
        s_utc(r->time, 0, when, sizeof when);
        s_thousands(r->record_count, n, sizeof n);
        xl_hex(r->submission_id.data, r->submission_id.len, id);
        xl_hex(r->content_hash.data, 6, hash);
        fprintf(out, "%-20s  %-16s %12s  %-12s  %-32s %8llu  %s\n", when, s_shown(r->dataset), n,
                hash, id, (unsigned long long)r->audit_seq, rc == 0 ? "ok" : "BAD");
        if (rc != 0)
            fprintf(out, "  ^ %s: %s\n", name, why);
    }
    if (r != NULL)
        crosslink__receipt__free_unpacked(r, NULL);
}

int
agent_receipt_list(const char *dir, const uint8_t sign_pk[XL_SIGN_PK_BYTES], int verbose, FILE *out,
                   size_t *nbad, char *err, size_t errlen)
{
    char **names = NULL;
    size_t count = 0;
    int r;

    *nbad = 0;
    r = s_receipt_names(dir, &names, &count, err, errlen);
    if (r != 0)
        return r;
    if (count == 0)
        fprintf(out, "no receipts in %s\n", dir);
    else if (!verbose)
        fprintf(out, "%-20s  %-16s %12s  %-12s  %-32s %8s  %s\n", "committed (UTC)", "dataset",
                "records", "content", "submission", "audit", "signature");
    for (size_t i = 0; i < count; i++) {
        s_list_one(dir, names[i], sign_pk, verbose, out, nbad);
        free(names[i]);
    }
    free(names);
    if (count > 0)
        fprintf(out, "%s%zu receipt%s, %zu failed verification\n", verbose ? "" : "\n", count,
                count == 1 ? "" : "s", *nbad);
    if (*nbad > 0)
        fprintf(out, "a receipt that does not verify was altered, or signed by another key: check "
                     "that sign_public in agent.conf is the linker's linker-sign.pub\n");
    return 0;
}
