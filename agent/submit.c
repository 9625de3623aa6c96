/* crosslink-agent submit: the client side of the submission protocol
 * (docs/protocol.md). One DEALER socket per attempt; an attempt that times out
 * or is told UNAVAILABLE or SEQUENCE closes its socket and begins again, and the
 * linker's answer to the repeated begin says where to continue. Records are
 * read from the .xle file for every attempt, so nothing but the file has to
 * survive an interruption. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "xl/client.h"
#include "xl/clock.h"
#include "pipeline.h"
#include "submit.h"
#include "xl/err.h"
#include "xl/keyfile.h"
#include "xl/log.h"
#include "xl/monitor.h"
#include "xl/wire.h"
#include "xl/xle.h"

/* Replies are small (acks, errors, receipts); anything larger is not the linker. */
#define S_REPLY_MAX   (1u << 20)
#define S_BACKOFF_MIN 0.5
#define S_BACKOFF_MAX 30.0
/* Fresh starts after the linker discarded a submission, before giving up. */
#define S_RESTARTS_MAX 2

/* ---- state folder --------------------------------------------------------- */

static int
s_mkdir_private(const char *path, char *err, size_t errlen)
{
    struct stat st;

    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot create folder: %s", path,
                          strerror(errno));
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: not a folder", path);
    if ((st.st_mode & 077) != 0)
        return xl_err_set(err, errlen, XL_ERR_PERM,
                          "%s: other users can open this folder (mode %03o); fix with: chmod 700 "
                          "%s",
                          path, (unsigned)(st.st_mode & 0777), path);
    return 0;
}

int
agent_state_dir(const struct agent_config *cfg, const char *sub, char *out, size_t len, char *err,
                size_t errlen)
{
    int n, r;

    if (cfg->state_dir[0] == '\0')
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: [linker] state_dir is required",
                          cfg->path);
    r = s_mkdir_private(cfg->state_dir, err, errlen);
    if (r != 0)
        return r;
    n = sub != NULL ? snprintf(out, len, "%s/%s", cfg->state_dir, sub)
                    : snprintf(out, len, "%s", cfg->state_dir);
    if (n < 0 || (size_t)n >= len)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", cfg->state_dir);
    return sub != NULL ? s_mkdir_private(out, err, errlen) : 0;
}

int
agent_outbox_path(const char *outbox, const char *dataset, const char *csv_path, char *out,
                  size_t len, char *err, size_t errlen)
{
    char abs[PATH_MAX], id[2 * 6 + 1], *text = NULL;
    uint8_t h[XL_HASH_BYTES];
    struct stat st;
    int n;

    if (!xl_name_valid(dataset))
        return xl_err_set(err, errlen, XL_ERR_INVALID, "dataset name is not valid");
    if (stat(csv_path, &st) != 0)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot open: %s", csv_path, strerror(errno));
    if (realpath(csv_path, abs) == NULL)
        snprintf(abs, sizeof abs, "%s", csv_path);
    n = asprintf(&text, "%s\n%lld\n%lld.%09ld", abs, (long long)st.st_size,
                 (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
    if (n < 0)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    xl_sha256(text, (size_t)n, h);
    free(text);
    xl_hex(h, 6, id);
    n = snprintf(out, len, "%s/%s-%s.xle", outbox, dataset, id);
    if (n < 0 || (size_t)n >= len)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", outbox);
    return 0;
}

/* An outbox holds at most one file per dataset: a new extract of a dataset
 * supersedes an unfinished earlier one (the linker would supersede it too). */
static void
s_outbox_prune(const char *outbox, const char *dataset, const char *keep)
{
    char prefix[80], path[AGENT_PATH_MAX + 300];
    size_t plen;
    struct dirent *e;
    DIR *d = opendir(outbox);

    if (d == NULL)
        return;
    plen = (size_t)snprintf(prefix, sizeof prefix, "%s-", dataset);
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        size_t n = strlen(name);
        /* exactly <dataset>-<12 hex>.xle, so dataset "a" never matches "a-b-..." */
        if (n != plen + 12 + 4 || strncmp(name, prefix, plen) != 0 ||
            strcmp(name + n - 4, ".xle") != 0 || strspn(name + plen, "0123456789abcdef") != 12 ||
            strcmp(name, keep) == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", outbox, name);
        if (unlink(path) == 0)
            xl_info("removed %s: an unfinished submission of an earlier extract of %s", path,
                    dataset);
    }
    closedir(d);
}

/* One submit at a time per state folder: a second run (an overlapping cron
 * job) would encode into, prune or delete the first one's outbox file. The lock
 * goes with the process, however it ends. Returns the descriptor to keep open. */
static int
s_lock_state(const char *state_dir, char *err, size_t errlen)
{
    char path[AGENT_PATH_MAX + 16];
    int fd;

    snprintf(path, sizeof path, "%s/lock", state_dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return xl_err_set(err, errlen, XL_ERR_UNAVAILABLE,
                          "another submit is running with the same state_dir (%s is locked)", path);
    }
    return fd;
}

/* ---- encoded files -------------------------------------------------------- */

int
agent_xle_scan(const char *path, struct agent_xle_info *info, char *err, size_t errlen)
{
    const Crosslink__XleHeader *hdr = NULL;
    struct xl_xle_reader *r;
    uint8_t *packed = NULL;
    size_t len = 0;
    int rc;

    memset(info, 0, sizeof *info);
    r = xl_xle_reader_open(path, &hdr, err, errlen);
    if (r == NULL)
        return XL_ERR_FORMAT;
    /* Count and hash from the trailer: the records are checked against them as
     * the chunks are read, and a file that does not match is never committed. */
    rc = xl_xle_read_trailer(path, &info->count, info->hash, err, errlen);
    if (rc == 0 && info->count != hdr->record_count)
        rc = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                        "%s: header and trailer disagree on the record count", path);
    if (rc == 0) {
        /* A private copy of the header, which the reader frees on close. */
        len = crosslink__xle_header__get_packed_size(hdr);
        packed = malloc(len > 0 ? len : 1);
        if (packed == NULL)
            rc = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    }
    if (rc == 0) {
        crosslink__xle_header__pack(hdr, packed);
        info->hdr = crosslink__xle_header__unpack(NULL, len, packed);
        if (info->hdr == NULL)
            rc = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    }
    if (rc == 0 && (info->hdr->spec_fingerprint.len != XL_HASH_BYTES ||
                    !xl_name_valid(info->hdr->agency) || !xl_name_valid(info->hdr->dataset)))
        rc = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: malformed header", path);
    free(packed);
    xl_xle_reader_close(&r);
    if (rc != 0)
        agent_xle_info_free(info);
    return rc;
}

void
agent_xle_info_free(struct agent_xle_info *info)
{
    if (info->hdr != NULL)
        crosslink__xle_header__free_unpacked(info->hdr, NULL);
    memset(info, 0, sizeof *info);
}

struct agent_chunker {
    struct xl_xle_reader *r;
    const Crosslink__XleHeader *hdr;
    unsigned chunk_records;
    uint64_t seq;  /* of the next chunk */
    uint64_t read; /* records read so far */
    size_t cap;    /* allocation size of the last chunk: the next is much the same */
    int done;
};

/* Room in front of a chunk's body for the envelope's own fields, which can only
 * be written once the body's length is known: version (2 bytes), request_id
 * (at most 11), the body's tag and length (at most 11). */
#define S_HEADROOM 32

static size_t
s_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;

    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

struct agent_chunker *
agent_chunker_open(const char *path, unsigned chunk_records, uint64_t first_seq, char *err,
                   size_t errlen)
{
    struct agent_chunker *c;
    const uint8_t *rec;
    size_t len;
    uint64_t skip;

    if (chunk_records == 0) {
        xl_err_set(err, errlen, XL_ERR_INVALID, "chunk_records must be at least 1");
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    c->chunk_records = chunk_records;
    c->r = xl_xle_reader_open(path, &c->hdr, err, errlen);
    if (c->r == NULL)
        goto fail;
    if (first_seq > c->hdr->record_count / chunk_records + 1 ||
        first_seq * chunk_records > c->hdr->record_count + chunk_records - 1) {
        xl_err_set(err, errlen, XL_ERR_INVALID,
                   "%s: chunk %llu does not exist (%llu records in chunks of %u)", path,
                   (unsigned long long)first_seq, (unsigned long long)c->hdr->record_count,
                   chunk_records);
        goto fail;
    }
    skip = first_seq * chunk_records;
    if (skip > c->hdr->record_count)
        skip = c->hdr->record_count;
    for (; c->read < skip; c->read++) {
        int rc = xl_xle_next(c->r, &rec, &len, err, errlen);
        if (rc != 1) {
            if (rc == 0)
                xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: fewer records than its header says",
                           path);
            goto fail;
        }
    }
    c->seq = first_seq;
    c->cap = 4096;
    return c;
fail:
    agent_chunker_close(&c);
    return NULL;
}

int
agent_chunker_next(struct agent_chunker *c, const uint8_t *submission_id, size_t idlen,
                   uint64_t request_id, struct agent_chunk *out, char *err, size_t errlen)
{
    uint8_t pre[S_HEADROOM], *buf;
    size_t pos = S_HEADROOM, plen = 0, body;
    const uint8_t *rec;
    size_t len, n;
    int rc;

    memset(out, 0, sizeof *out);
    if (c->done || c->read >= c->hdr->record_count)
        return 0;
    buf = malloc(c->cap);
    if (buf == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    /* SubmitChunk, fields in number order and zero values left out, as
     * protobuf-c packs it: 1 submission_id, 2 seq, 3 records. */
    buf[pos++] = 0x0a;
    pos += s_varint(buf + pos, idlen);
    memcpy(buf + pos, submission_id, idlen);
    pos += idlen;
    if (c->seq != 0) {
        buf[pos++] = 0x10;
        pos += s_varint(buf + pos, c->seq);
    }
    for (n = 0; n < c->chunk_records && c->read < c->hdr->record_count; n++) {
        rc = xl_xle_next(c->r, &rec, &len, err, errlen);
        if (rc != 1) {
            free(buf);
            return rc == 0 ? xl_err_set(err, errlen, XL_ERR_FORMAT,
                                        "fewer records than the header says")
                           : rc;
        }
        c->read++;
        if (pos + 1 + 10 + len > c->cap) {
            size_t ncap = c->cap * 2 > pos + 11 + len ? c->cap * 2 : pos + 11 + len + 4096;
            uint8_t *nb = realloc(buf, ncap);
            if (nb == NULL) {
                free(buf);
                return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
            }
            buf = nb;
            c->cap = ncap;
        }
        buf[pos++] = 0x1a;
        pos += s_varint(buf + pos, len);
        memcpy(buf + pos, rec, len);
        pos += len;
    }
    if (c->read == c->hdr->record_count) {
        /* The last chunk: the trailer must check out before it goes. */
        rc = xl_xle_next(c->r, &rec, &len, err, errlen);
        if (rc != 0) {
            free(buf);
            return rc < 0 ? rc : xl_err_set(err, errlen, XL_ERR_FORMAT, "records after the count");
        }
        c->done = 1;
    }
    body = pos - S_HEADROOM;
    /* Envelope: 1 version, 2 request_id, 11 submit_chunk (length-delimited). */
    pre[plen++] = 0x08;
    pre[plen++] = XL_WIRE_VERSION;
    if (request_id != 0) {
        pre[plen++] = 0x10;
        plen += s_varint(pre + plen, request_id);
    }
    pre[plen++] = (uint8_t)(CROSSLINK__ENVELOPE__BODY_SUBMIT_CHUNK << 3 | 2);
    plen += s_varint(pre + plen, body);
    memcpy(buf + S_HEADROOM - plen, pre, plen);
    out->base = buf;
    out->data = buf + S_HEADROOM - plen;
    out->len = plen + body;
    out->seq = c->seq++;
    out->records = n;
    return 1;
}

void
agent_chunker_close(struct agent_chunker **c)
{
    if (c == NULL || *c == NULL)
        return;
    xl_xle_reader_close(&(*c)->r);
    free(*c);
    *c = NULL;
}

/* ---- progress --------------------------------------------------------------- */

struct s_progress {
    int tty;       /* one updating line; otherwise a line per tenth */
    int line_open; /* the updating line needs a newline before anything else */
    uint64_t total;
    uint64_t start; /* records already stored when this run first heard */
    int started;
    double t0, last;
    int tenth;
};

static void
s_progress_break(struct s_progress *p)
{
    if (p->line_open) {
        fputc('\n', stderr);
        p->line_open = 0;
    }
}

static void
s_progress(struct s_progress *p, uint64_t done, int final)
{
    double now = xl_monotonic(), rate;
    int tenth;

    if (!p->started) {
        p->started = 1;
        p->start = done;
        p->t0 = now;
        p->last = now;
        p->tenth = p->total > 0 ? (int)(10 * done / p->total) : 10;
    }
    /* a linker that started the submission afresh moves done backwards */
    rate = now > p->t0 && done > p->start ? (double)(done - p->start) / (now - p->t0) : 0;
    if (p->tty) {
        if (!final && now - p->last < 0.2)
            return;
        p->last = now;
        fprintf(stderr, "\r  %llu / %llu records stored  %.0f records/s", (unsigned long long)done,
                (unsigned long long)p->total, rate);
        if (rate > 0 && done < p->total) {
            double eta = (double)(p->total - done) / rate;
            fprintf(stderr, "  ETA %d:%02d   ", (int)(eta / 60), (int)eta % 60);
        } else {
            fputs("             ", stderr);
        }
        p->line_open = 1;
        if (final)
            s_progress_break(p);
        return;
    }
    /* a line per tenth, but not more than one in 5 s: a short run says only "100%" */
    tenth = p->total > 0 ? (int)(10 * done / p->total) : 10;
    if (tenth > p->tenth && (now - p->last >= 5 || done >= p->total)) {
        p->tenth = tenth;
        p->last = now;
        xl_info("%d%% stored: %llu of %llu records, %.0f records/s", 10 * tenth,
                (unsigned long long)done, (unsigned long long)p->total, rate);
    }
}

/* ---- connection ------------------------------------------------------------- */

struct s_keys {
    struct xl_keyfile *agent;  /* CURVE key pair of this agent */
    struct xl_keyfile *server; /* the linker's CURVE public key */
    struct xl_keyfile *sign;   /* the linker's signing public key */
};

static void
s_keys_free(struct s_keys *k)
{
    xl_keyfile_destroy(&k->agent);
    xl_keyfile_destroy(&k->server);
    xl_keyfile_destroy(&k->sign);
}

static int
s_keys_load(const struct agent_config *cfg, struct s_keys *k, char *err, size_t errlen)
{
    int r;

    memset(k, 0, sizeof *k);
    if (cfg->endpoint[0] == '\0' || cfg->server_key_path[0] == '\0' ||
        cfg->sign_key_path[0] == '\0' || cfg->agent_key_path[0] == '\0')
        return xl_err_set(err, errlen, XL_ERR_FORMAT,
                          "%s: submitting needs endpoint, server_public, sign_public and "
                          "agent_key in [linker]",
                          cfg->path);
    r = xl_keyfile_load(cfg->agent_key_path, XL_KEY_CURVE_SECRET, &k->agent, err, errlen);
    if (r == 0 && strcmp(k->agent->role, "agent") != 0)
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                       "%s: a key of role '%s'; submitting needs an agent key", cfg->agent_key_path,
                       k->agent->role);
    if (r == 0 && strcmp(k->agent->agency, cfg->agency) != 0)
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH, "%s: agent key of agency '%s', not '%s'",
                       cfg->agent_key_path, k->agent->agency, cfg->agency);
    if (r == 0)
        r = xl_keyfile_load_public(cfg->server_key_path, XL_KEY_CURVE_PUBLIC, &k->server, err,
                                   errlen);
    if (r == 0)
        r = xl_keyfile_load_public(cfg->sign_key_path, XL_KEY_SIGN_PUBLIC, &k->sign, err, errlen);
    if (r != 0)
        s_keys_free(k);
    return r;
}

/* ---- the submission ----------------------------------------------------------- */

struct s_sub {
    struct xl_client link;
    const struct s_keys *keys;
    const struct agent_xle_info *info;
    const char *xle_path;
    unsigned chunk_records;
    uint64_t nchunks;
    uint64_t reqid;
    uint8_t sid[AGENT_SUBMISSION_ID_MAX];
    size_t sidlen;
    uint64_t acked;       /* chunks the linker has stored, as last told */
    uint64_t max_message; /* the largest message the linker reads (0: not told) */
    unsigned restarts;    /* times the linker discarded the submission */
    int progressed;       /* this attempt moved acked forward */
    xl_envelope *receipt; /* the envelope holding the verified receipt */
    int already;          /* the first begin was answered with a receipt */
    int force;            /* --force: an input a newer submission superseded */
    struct s_progress prog;
};

static uint64_t
s_records_of(const struct s_sub *s, uint64_t chunks)
{
    uint64_t n = chunks * s->chunk_records;

    return n < s->info->count ? n : s->info->count;
}

/* The linker's Error as a message, with the hint for a chunk too big. */
static int
s_linker_error(const Crosslink__Error *e, char *err, size_t errlen)
{
    int code = xl_client_error(e, err, errlen);

    if (code == XL_ERR_TOOBIG && strlen(err) + 50 < errlen)
        strcat(err, " (a smaller chunk_records in agent.conf helps)");
    return code;
}

int
agent_reply_read(const Crosslink__Envelope *env, const uint8_t sign_pk[XL_SIGN_PK_BYTES],
                 const struct agent_xle_info *sent, const uint8_t *submission_id, size_t idlen,
                 char *err, size_t errlen)
{
    const Crosslink__SubmitAck *a = env->submit_ack;
    int r;

    switch (env->body_case) {
    case CROSSLINK__ENVELOPE__BODY_SUBMIT_ACK:
        if (a->submission_id.len == 0 || a->submission_id.len > AGENT_SUBMISSION_ID_MAX)
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "the linker's acknowledgement is malformed (a submission id of "
                              "%zu bytes)",
                              a->submission_id.len);
        return AGENT_REPLY_ACK;
    case CROSSLINK__ENVELOPE__BODY_RECEIPT:
        r = agent_receipt_check(env->receipt, sign_pk, sent, submission_id, idlen, err, errlen);
        return r != 0 ? r : AGENT_REPLY_RECEIPT;
    case CROSSLINK__ENVELOPE__BODY_ERROR: return s_linker_error(env->error, err, errlen);
    default:
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "the linker answered with %s",
                          xl_wire_body_name(env));
    }
}

static int
s_reply(const struct s_sub *s, const xl_envelope *env, char *err, size_t errlen)
{
    return agent_reply_read(env, s->keys->sign->pub, s->info, s->sidlen > 0 ? s->sid : NULL,
                            s->sidlen, err, errlen);
}

static int
s_send_begin(struct s_sub *s, uint64_t *reqid, char *err, size_t errlen)
{
    const Crosslink__XleHeader *h = s->info->hdr;
    Crosslink__SubmitBegin b = CROSSLINK__SUBMIT_BEGIN__INIT;
    xl_envelope env = CROSSLINK__ENVELOPE__INIT;

    b.agency = h->agency;
    b.dataset = h->dataset;
    b.spec_fingerprint = h->spec_fingerprint;
    b.epoch = h->epoch;
    b.record_count = s->info->count;
    b.content_hash.data = (uint8_t *)s->info->hash;
    b.content_hash.len = XL_HASH_BYTES;
    b.chunk_records = s->chunk_records;
    b.secret_check = h->secret_check;
    b.one_per_person = h->one_per_person;
    b.payload_key = h->payload_key;
    b.n_attributes = h->n_attributes;
    b.attributes = h->attributes;
    if (s->info->has_input) {
        b.input_id.data = (uint8_t *)s->info->input_id;
        b.input_id.len = XL_HASH_BYTES;
    }
    b.force = s->force;
    env.request_id = *reqid = ++s->reqid;
    env.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_BEGIN;
    env.submit_begin = &b;
    return xl_client_send_env(&s->link, &env, err, errlen);
}

static int
s_send_commit(struct s_sub *s, char *err, size_t errlen)
{
    Crosslink__SubmitCommit c = CROSSLINK__SUBMIT_COMMIT__INIT;
    xl_envelope env = CROSSLINK__ENVELOPE__INIT;

    c.submission_id.data = s->sid;
    c.submission_id.len = s->sidlen;
    c.record_count = s->info->count;
    c.content_hash.data = (uint8_t *)s->info->hash;
    c.content_hash.len = XL_HASH_BYTES;
    env.request_id = ++s->reqid;
    env.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_COMMIT;
    env.submit_commit = &c;
    return xl_client_send_env(&s->link, &env, err, errlen);
}

/* The next reply of this attempt (replies to requests of an earlier socket
 * cannot arrive, but a reply is matched by request id all the same). */
static int
s_next_reply(struct s_sub *s, uint64_t first_reqid, xl_envelope **env, char *err, size_t errlen)
{
    int r;

    for (;;) {
        r = xl_client_recv(&s->link, env, err, errlen);
        if (r != 0)
            return r;
        if ((*env)->request_id >= first_reqid)
            return 0;
        xl_wire_free(env, NULL);
    }
}

/* An ack: moves acked forward; returns the credit it grants. */
static unsigned
s_on_ack(struct s_sub *s, const Crosslink__SubmitAck *a, uint64_t sent, unsigned credit)
{
    if (a->submission_id.len != s->sidlen || !xl_equal(a->submission_id.data, s->sid, s->sidlen) ||
        a->next_seq > sent)
        return credit;
    if (a->next_seq > s->acked) {
        s->acked = a->next_seq;
        s->progressed = 1;
        s_progress(&s->prog, s_records_of(s, s->acked), 0);
    }
    return a->credit > 0 ? a->credit : 1;
}

/* Tells the linker to discard the open submission: this agent's own file
 * turned out damaged while sending, so what is stored can never commit. Best
 * effort: the linker also discards it when the commit does not match. */
static void
s_send_abort(struct s_sub *s)
{
    Crosslink__SubmitAbort a = CROSSLINK__SUBMIT_ABORT__INIT;
    xl_envelope env = CROSSLINK__ENVELOPE__INIT, *reply = NULL;
    char err[XL_ERRBUF];
    uint64_t id = ++s->reqid;

    a.submission_id.data = s->sid;
    a.submission_id.len = s->sidlen;
    env.request_id = id;
    env.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_ABORT;
    env.submit_abort = &a;
    if (xl_client_send_env(&s->link, &env, err, sizeof err) == 0 &&
        s_next_reply(s, id, &reply, err, sizeof err) == 0 &&
        reply->body_case == CROSSLINK__ENVELOPE__BODY_SUBMIT_ACK)
        xl_info("the linker discarded the incomplete submission");
    xl_wire_free(&reply, NULL);
}

/* A chunk the linker would not read: refused here, with the fix. */
static int
s_chunk_too_big(const struct s_sub *s, const struct agent_chunk *c, char *err, size_t errlen)
{
    /* From this chunk's bytes per record, with a tenth to spare for larger ones. */
    unsigned fits = (unsigned)((double)c->records * (double)s->max_message / (double)c->len * 0.9);

    return xl_err_set(err, errlen, XL_ERR_TOOBIG,
                      "chunk %llu is %zu bytes; the linker reads messages of at most %llu: set "
                      "chunk_records in agent.conf to %u or fewer and submit again",
                      (unsigned long long)c->seq, c->len, (unsigned long long)s->max_message,
                      fits > 0 ? fits : 1);
}

/* One connection: begin, chunks from where the linker stands, commit. */
static int
s_attempt(struct s_sub *s, char *err, size_t errlen)
{
    struct agent_chunker *ch = NULL;
    struct agent_chunk chunk;
    xl_envelope *env = NULL;
    uint64_t begin_id, sent;
    unsigned credit;
    int r;

    r = xl_client_open(&s->link, err, errlen);
    if (r != 0)
        return r;
    r = s_send_begin(s, &begin_id, err, errlen);
    if (r == 0)
        r = s_next_reply(s, begin_id, &env, err, errlen);
    if (r == 0)
        r = s_reply(s, env, err, errlen);
    if (r == AGENT_REPLY_RECEIPT) {
        /* Already committed: the linker returns the receipt it stored. */
        s->already = begin_id == 1;
        s->receipt = env;
        env = NULL;
        r = 0;
        goto out;
    }
    if (r < 0)
        goto out;
    if (env->submit_ack->next_seq > s->nchunks) {
        r = xl_err_set(err, errlen, XL_ERR_FORMAT, "the linker's answer to the begin is malformed");
        goto out;
    }
    s->sidlen = env->submit_ack->submission_id.len;
    memcpy(s->sid, env->submit_ack->submission_id.data, s->sidlen);
    if (begin_id == 1 && env->submit_ack->next_seq > 0)
        xl_info("resuming: the linker already holds %llu of %llu records",
                (unsigned long long)s_records_of(s, env->submit_ack->next_seq),
                (unsigned long long)s->info->count);
    if (env->submit_ack->next_seq > s->acked)
        s->progressed = 1;
    s->acked = env->submit_ack->next_seq;
    s->max_message = env->submit_ack->max_message;
    credit = env->submit_ack->credit > 0 ? env->submit_ack->credit : 1;
    s_progress(&s->prog, s_records_of(s, s->acked), 0);
    xl_wire_free(&env, NULL);

    sent = s->acked;
    if (sent < s->nchunks) {
        ch = agent_chunker_open(s->xle_path, s->chunk_records, sent, err, errlen);
        if (ch == NULL) {
            r = XL_ERR_FORMAT;
            goto out;
        }
    }
    while (s->acked < s->nchunks) {
        while (sent < s->nchunks && sent - s->acked < credit) {
            r = agent_chunker_next(ch, s->sid, s->sidlen, ++s->reqid, &chunk, err, errlen);
            if (r == 0)
                r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: fewer records than expected",
                               s->xle_path);
            if (r < 0) {
                if (r != XL_ERR_NOMEM)
                    s_send_abort(s);
                goto out;
            }
            if (s->max_message > 0 && chunk.len > s->max_message) {
                r = s_chunk_too_big(s, &chunk, err, errlen);
                free(chunk.base);
                goto out;
            }
            r = xl_client_send(&s->link, chunk.base, chunk.data, chunk.len, err, errlen);
            if (r != 0)
                goto out;
            sent++;
        }
        r = s_next_reply(s, begin_id, &env, err, errlen);
        if (r == 0)
            r = s_reply(s, env, err, errlen);
        if (r == AGENT_REPLY_RECEIPT)
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "the linker answered a chunk with a receipt");
        if (r < 0)
            goto out;
        credit = s_on_ack(s, env->submit_ack, sent, credit);
        xl_wire_free(&env, NULL);
    }
    s_progress(&s->prog, s->info->count, 1);
    r = s_send_commit(s, err, errlen);
    while (r == 0) {
        r = s_next_reply(s, begin_id, &env, err, errlen);
        if (r == 0)
            r = s_reply(s, env, err, errlen);
        if (r == AGENT_REPLY_RECEIPT) {
            s->receipt = env;
            env = NULL;
            r = 0;
            break;
        }
        if (r == AGENT_REPLY_ACK)
            r = 0; /* a late ack of a resent chunk */
        xl_wire_free(&env, NULL);
    }
out:
    xl_wire_free(&env, NULL);
    agent_chunker_close(&ch);
    xl_client_close(&s->link);
    return r;
}

static void
s_duration(double seconds, char *out, size_t len)
{
    if (seconds >= 120)
        snprintf(out, len, "%.0f min", seconds / 60);
    else
        snprintf(out, len, "%.0f s", seconds);
}

/* Attempts until a receipt, a refusal, or retry_for seconds without progress.
 * The clock starts when the first attempt that makes no progress began, and
 * no attempt waits for a handshake beyond it, so a linker that is down ends
 * the run after retry_for, not retry_for plus a timeout. */
static int
s_run(struct s_sub *s, double retry_for, char *err, size_t errlen)
{
    char why[XL_ERRBUF], d[32];
    double fail_since = xl_monotonic(), backoff = S_BACKOFF_MIN, delay, now, began;
    int r;

    for (;;) {
        began = xl_monotonic();
        s->progressed = 0;
        s->link.connect_wait = retry_for - (began - fail_since);
        if (s->link.connect_wait < 1)
            s->link.connect_wait = 1;
        r = s_attempt(s, why, sizeof why);
        if (r == 0)
            return 0;
        s_progress_break(&s->prog);
        if (r == XL_ERR_DISCARDED && s->restarts < S_RESTARTS_MAX) {
            /* What the linker stored did not match: it threw the submission
             * away, and a new begin starts it afresh from the first chunk. */
            s->restarts++;
            s->acked = 0;
            s->sidlen = 0;
            xl_warn("%s; sending it again from the start", why);
            continue;
        }
        if (r == XL_ERR_DISCARDED)
            return xl_err_set(err, errlen, r,
                              "%s. It was sent %u times and never matched: encode the extract "
                              "again (crosslink-agent encode) and submit",
                              why, s->restarts + 1);
        if (r != XL_ERR_UNAVAILABLE && r != XL_ERR_SEQUENCE)
            return xl_err_set(err, errlen, r, "%s", why);
        now = xl_monotonic();
        if (s->progressed) {
            fail_since = now;
            backoff = S_BACKOFF_MIN;
        }
        if (now - fail_since >= retry_for) {
            s_duration(retry_for, d, sizeof d);
            return xl_err_set(err, errlen, XL_ERR_UNAVAILABLE,
                              "gave up after %s without progress: %s. Run the same command "
                              "again to resume the submission; nothing the linker stored is lost",
                              d, why);
        }
        /* A linker that stored more before failing is worth asking again at once. */
        delay = s->progressed ? 0 : backoff;
        if (delay > retry_for - (now - fail_since))
            delay = retry_for - (now - fail_since);
        if (delay > 0) {
            xl_warn("%s; trying again in %.1f s", why, delay);
            xl_sleep(delay);
        } else {
            xl_warn("%s; continuing on a new connection", why);
        }
        backoff = backoff * 2 < S_BACKOFF_MAX ? backoff * 2 : S_BACKOFF_MAX;
    }
}

/* ---- putting it together -------------------------------------------------------- */

/* 1 if path is an .xle file (by its magic), 0 for anything else (a CSV). */
static int
s_is_xle(const char *path, char *err, size_t errlen)
{
    char magic[4];
    FILE *f = fopen(path, "re");
    int is;

    if (f == NULL)
        return xl_err_set(err, errlen, errno == ENOENT ? XL_ERR_NOTFOUND : XL_ERR_IO,
                          "%s: cannot open: %s", path, strerror(errno));
    is = fread(magic, 1, 4, f) == 4 && memcmp(magic, XL_XLE_MAGIC, 4) == 0;
    fclose(f);
    return is;
}

/* Whether an outbox file was encoded with what agent.conf holds now: an earlier
 * run with another linkage secret, specification or mapping is not resumed. */
static int
s_header_current(const struct agent_ctx *ctx, const Crosslink__XleHeader *h)
{
    uint8_t check[XL_CHECK_BYTES];

    if (strcmp(h->agency, ctx->cfg.agency) != 0 || strcmp(h->dataset, ctx->map.dataset) != 0 ||
        h->epoch != ctx->secret->epoch || !h->one_per_person != !ctx->map.one_per_person ||
        !xl_equal(h->spec_fingerprint.data, ctx->spec->fingerprint, XL_HASH_BYTES) ||
        xl_secret_check(ctx->secret->secret, ctx->secret->epoch, check) != 0 ||
        h->secret_check.len != XL_CHECK_BYTES ||
        !xl_equal(h->secret_check.data, check, XL_CHECK_BYTES) ||
        h->n_attributes != ctx->map.noutcomes)
        return 0;
    for (size_t i = 0; i < h->n_attributes; i++) {
        if (strcmp(h->attributes[i]->name, ctx->map.outcomes[i].name) != 0 ||
            strcmp(h->attributes[i]->type, agent_outcome_type_name(ctx->map.outcomes[i].type)) != 0)
            return 0;
    }
    return 1;
}

/* FILE.csv -> FILE.rejects.csv */
static void
s_rejects_path(const char *csv, char *out, size_t len)
{
    size_t n = strlen(csv);

    if (n > 4 && strcasecmp(csv + n - 4, ".csv") == 0)
        n -= 4;
    snprintf(out, len, "%.*s.rejects.csv", (int)n, csv);
}

/* Encodes the CSV into the outbox, or finds it there from an interrupted run. */
static int
s_prepare_csv(const struct agent_ctx *ctx, const struct agent_submit_opts *o, const char *outbox,
              char *xle, size_t xlelen, struct agent_xle_info *info, char *err, size_t errlen)
{
    char rejects[PATH_MAX], why[XL_ERRBUF];
    struct agent_run run = {0};
    struct agent_stats *st;
    const char *base;
    uint8_t input_id[XL_HASH_BYTES];
    int r;

    r = agent_outbox_path(outbox, ctx->map.dataset, o->input, xle, xlelen, err, errlen);
    if (r == 0)
        r = agent_input_id(ctx, o->input, input_id, err, errlen);
    if (r != 0)
        return r;
    if (access(xle, F_OK) == 0) {
        r = agent_xle_scan(xle, info, why, sizeof why);
        if (r == 0 && s_header_current(ctx, info->hdr)) {
            xl_info("resuming with %s, encoded from this extract by an earlier run", xle);
            info->has_input = 1;
            memcpy(info->input_id, input_id, sizeof input_id);
            return 0;
        }
        if (r == 0)
            xl_warn("%s was encoded with other keys, specification or mapping; encoding again",
                    xle);
        else
            xl_warn("%s; encoding again", why);
        agent_xle_info_free(info);
        if (unlink(xle) != 0)
            return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot remove: %s", xle,
                              strerror(errno));
    }
    s_rejects_path(o->input, rejects, sizeof rejects);
    run.csv_path = o->input;
    run.xle_path = xle;
    run.reject_path = o->reject_path != NULL ? o->reject_path : rejects;
    run.progress = !o->quiet && isatty(STDERR_FILENO);
    st = calloc(1, sizeof *st);
    if (st == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    r = agent_process(ctx, &run, st, err, errlen);
    if ((r == 0 || r == XL_ERR_INVALID) && !o->quiet) {
        agent_report(ctx, &run, st, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    free(st);
    if (r != 0)
        return r;
    /* only now: a broken new export leaves an unfinished earlier one in place */
    base = strrchr(xle, '/');
    s_outbox_prune(outbox, ctx->map.dataset, base != NULL ? base + 1 : xle);
    r = agent_xle_scan(xle, info, err, errlen);
    if (r == 0) {
        info->has_input = 1;
        memcpy(info->input_id, input_id, sizeof input_id);
    }
    return r;
}

int
agent_submit(const struct agent_submit_opts *o, char *err, size_t errlen)
{
    struct agent_ctx ctx;
    struct s_keys keys = {0};
    struct agent_xle_info info = {0};
    struct s_sub s;
    char outbox[AGENT_PATH_MAX + 16], receipts[AGENT_PATH_MAX + 16], xle[AGENT_PATH_MAX + 128];
    char stored[AGENT_PATH_MAX + 256];
    const char *xle_path = o->input;
    int is_xle, lock = -1, r;

    memset(&s, 0, sizeof s);
    is_xle = s_is_xle(o->input, err, errlen);
    if (is_xle < 0)
        return is_xle;
    r = agent_ctx_load(&ctx, o->conf_path, !is_xle, err, errlen);
    if (r == 0)
        r = s_keys_load(&ctx.cfg, &keys, err, errlen);
    if (r == 0)
        r = agent_state_dir(&ctx.cfg, "outbox", outbox, sizeof outbox, err, errlen);
    if (r == 0 && (lock = s_lock_state(ctx.cfg.state_dir, err, errlen)) < 0)
        r = lock;
    if (r == 0)
        r = agent_state_dir(&ctx.cfg, "receipts", receipts, sizeof receipts, err, errlen);
    if (r != 0)
        goto out;
    if (is_xle) {
        r = agent_xle_scan(o->input, &info, err, errlen);
        if (r == 0 && strcmp(info.hdr->agency, ctx.cfg.agency) != 0)
            r = xl_err_set(err, errlen, XL_ERR_MISMATCH, "%s: encoded for agency '%s', not '%s'",
                           o->input, info.hdr->agency, ctx.cfg.agency);
    } else {
        r = s_prepare_csv(&ctx, o, outbox, xle, sizeof xle, &info, err, errlen);
        xle_path = xle;
    }
    if (r == 0 && info.count == 0)
        r = xl_err_set(err, errlen, XL_ERR_INVALID, "%s: no records to submit", xle_path);
    if (r != 0)
        goto out;

    s.info = &info;
    s.xle_path = xle_path;
    s.chunk_records = ctx.cfg.chunk_records;
    s.nchunks = (info.count + s.chunk_records - 1) / s.chunk_records;
    s.link.endpoint = ctx.cfg.endpoint;
    s.link.server_pk = keys.server->pub;
    s.link.pk = keys.agent->pub;
    s.link.sk = keys.agent->secret;
    s.link.role = "agent";
    s.link.reply_max = S_REPLY_MAX;
    s.keys = &keys;
    s.link.timeout_ms = (int)(o->timeout * 1000);
    s.force = o->force;
    s.prog.tty = !o->quiet && isatty(STDERR_FILENO);
    s.prog.total = info.count;
    s.link.zctx = zmq_ctx_new();
    if (s.link.zctx == NULL) {
        r = xl_err_set(err, errlen, XL_ERR_INTERNAL, "cannot start ZeroMQ");
        goto out;
    }
    xl_info("submitting %s/%s: %llu record%s in %llu chunk%s to %s", info.hdr->agency,
            info.hdr->dataset, (unsigned long long)info.count, info.count == 1 ? "" : "s",
            (unsigned long long)s.nchunks, s.nchunks == 1 ? "" : "s", ctx.cfg.endpoint);
    r = s_run(&s, o->retry_for, err, errlen);
    s_progress_break(&s.prog);
    if (r != 0)
        goto out;
    r = agent_receipt_store(receipts, s.receipt->receipt, stored, sizeof stored, err, errlen);
    if (r != 0)
        goto out;
    if (!is_xle && unlink(xle_path) != 0)
        xl_warn("%s: cannot remove: %s", xle_path, strerror(errno));
    if (s.already)
        printf("already submitted: the linker holds this %s and returned its receipt; nothing "
               "was stored again\n",
               is_xle ? "content"
                      : "extract, unchanged (same file, mapping, specification and "
                        "epoch)");
    agent_receipt_print(s.receipt->receipt, stored, stdout);
    fflush(stdout);
out:
    xl_wire_free(&s.receipt, NULL);
    if (s.link.zctx != NULL)
        zmq_ctx_term(s.link.zctx);
    agent_xle_info_free(&info);
    s_keys_free(&keys);
    agent_ctx_free(&ctx);
    if (lock >= 0)
        close(lock);
    return r;
}
