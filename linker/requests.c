#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "admission.h"
#include "auditquery.h"
#include "extract.h"
#include "requests.h"
#include "schedule.h"
#include "xl/err.h"
#include "xl/log.h"
#include "xl/wire.h"

/* Arenas larger than this are given back after the message that needed them. */
#define S_ARENA_KEEP (16u * 1024 * 1024)

#define S_ROLE(r) (1u << (r))

/* One message being answered. */
struct s_request {
    const xl_envelope *env;
    const void *rid; /* routing id of the peer */
    size_t rlen;
    int fd; /* its connection, for admission */
};

typedef void s_handler(struct linker_server *srv, const struct linker_actor *who,
                       const struct s_request *q, struct linker_answer *res);
/* The agency a request acts for, into agency: 0, or XL_ERR_NOTFOUND (the
 * submission it names does not exist) with res filled in. */
typedef int s_agency_of(struct linker_server *srv, const xl_envelope *env, char agency[XL_NAME_MAX],
                        struct linker_answer *res);

struct s_rule {
    Crosslink__Envelope__BodyCase body;
    unsigned roles;            /* S_ROLE(XL_ROLE_*) mask */
    s_agency_of *own_agency;   /* non-NULL: an agent only for its own agency */
    int runs_long;             /* answered off the request loop */
    const char *refused_event; /* audit event of a refusal */
    s_handler *handle;
};

/* ---- handlers ------------------------------------------------------------- */

static void
s_begin(struct linker_server *srv, const struct linker_actor *who, const struct s_request *q,
        struct linker_answer *res)
{
    linker_begin(&srv->ctx, who, q->env->submit_begin, res);
}

static void
s_chunk(struct linker_server *srv, const struct linker_actor *who, const struct s_request *q,
        struct linker_answer *res)
{
    const Crosslink__SubmitChunk *c = q->env->submit_chunk;
    static Crosslink__Record *const none[1];
    struct linker_records recs = {.records = c->records, .n = c->n_records};

    if (recs.records == NULL)
        recs.records = none; /* no records: refused as such, not read as packed data */
    linker_chunk(&srv->ctx, who, c->submission_id.data, c->submission_id.len, c->seq, &recs, res);
}

static void
s_commit(struct linker_server *srv, const struct linker_actor *who, const struct s_request *q,
         struct linker_answer *res)
{
    const Crosslink__SubmitCommit *c = q->env->submit_commit;

    linker_commit(&srv->ctx, who, c->submission_id.data, c->submission_id.len, c->record_count,
                  c->content_hash.data, c->content_hash.len, res);
    if (res->code == 0 && res->outcome == LINKER_DID_COMMIT)
        linker_schedule_owed(srv->sched);
}

static void
s_abort(struct linker_server *srv, const struct linker_actor *who, const struct s_request *q,
        struct linker_answer *res)
{
    const Crosslink__SubmitAbort *a = q->env->submit_abort;

    linker_abort(&srv->ctx, who, a->submission_id.data, a->submission_id.len, res);
}

static void
s_link(struct linker_server *srv, const struct linker_actor *who, const struct s_request *q,
       struct linker_answer *res)
{
    if (linker_schedule_request(srv->sched, q->rid, q->rlen, q->env->request_id,
                                q->env->link_request->report, q->fd, who->key_id) != 0) {
        linker_answer_fail(res, XL_ERR_UNAVAILABLE,
                           "too many link requests are waiting; try again later");
        return;
    }
    linker_admission_busy(srv->adm, q->fd, 1);
    res->kind = LINKER_REPLY_LATER;
}

static void
s_extract(struct linker_server *srv, const struct linker_actor *who, const struct s_request *q,
          struct linker_answer *res)
{
    linker_extract_request(srv->extracts, who, q->rid, q->rlen, q->env->request_id, q->fd,
                           q->env->extract_request, res);
}

static void
s_audit_query(struct linker_server *srv, const struct linker_actor *who, const struct s_request *q,
              struct linker_answer *res)
{
    linker_audit_query(srv->auditq, who, q->rid, q->rlen, q->env->request_id, q->fd,
                       q->env->audit_query, res);
}

/* ---- the agency a request acts for ------------------------------------------ */

static int
s_agency_begin(struct linker_server *srv, const xl_envelope *env, char agency[XL_NAME_MAX],
               struct linker_answer *res)
{
    const char *a = env->submit_begin->agency;

    snprintf(agency, XL_NAME_MAX, "%s", a != NULL && xl_name_valid(a) ? a : "(invalid)");
    return 0;
}

/* The agency of the submission a chunk, commit or abort names. */
static int
s_agency_submission(struct linker_server *srv, const xl_envelope *env, char agency[XL_NAME_MAX],
                    struct linker_answer *res)
{
    const ProtobufCBinaryData *id;

    switch (env->body_case) {
    case CROSSLINK__ENVELOPE__BODY_SUBMIT_CHUNK: id = &env->submit_chunk->submission_id; break;
    case CROSSLINK__ENVELOPE__BODY_SUBMIT_COMMIT: id = &env->submit_commit->submission_id; break;
    default: id = &env->submit_abort->submission_id; break;
    }
    if (linker_submission_agency(&srv->ctx, id->data, id->len, agency) == 0)
        return 0;
    return linker_answer_fail(res, XL_ERR_NOTFOUND, "unknown submission id");
}

/* ---- the table ---------------------------------------------------------------- */

static const struct s_rule s_rules[] = {
    {CROSSLINK__ENVELOPE__BODY_SUBMIT_BEGIN, S_ROLE(XL_ROLE_AGENT), s_agency_begin, 0,
     "submission.refused", s_begin},
    {CROSSLINK__ENVELOPE__BODY_SUBMIT_CHUNK, S_ROLE(XL_ROLE_AGENT), s_agency_submission, 0,
     "submission.refused", s_chunk},
    {CROSSLINK__ENVELOPE__BODY_SUBMIT_COMMIT, S_ROLE(XL_ROLE_AGENT), s_agency_submission, 0,
     "submission.refused", s_commit},
    {CROSSLINK__ENVELOPE__BODY_SUBMIT_ABORT, S_ROLE(XL_ROLE_AGENT), s_agency_submission, 0,
     "submission.refused", s_abort},
    {CROSSLINK__ENVELOPE__BODY_LINK_REQUEST, S_ROLE(XL_ROLE_ADMIN), NULL, 1, "link.refused",
     s_link},
    {CROSSLINK__ENVELOPE__BODY_EXTRACT_REQUEST, S_ROLE(XL_ROLE_ANALYST), NULL, 1, "extract.refused",
     s_extract},
    {CROSSLINK__ENVELOPE__BODY_AUDIT_QUERY, S_ROLE(XL_ROLE_AUDITOR), NULL, 1, "request.refused",
     s_audit_query},
};
#define S_NRULES (sizeof s_rules / sizeof s_rules[0])

static const struct s_rule *
s_rule_of(Crosslink__Envelope__BodyCase body)
{
    for (size_t i = 0; i < S_NRULES; i++) {
        if (s_rules[i].body == body)
            return &s_rules[i];
    }
    return NULL;
}

/* "agent keys", "admin keys", "agent or admin keys": who may send a body. */
static void
s_roles_text(unsigned roles, char *out, size_t len)
{
    size_t off = 0;
    int n = 0;

    out[0] = '\0';
    for (int r = 0; r < XL_ROLE_COUNT; r++) {
        if (!(roles & S_ROLE(r)))
            continue;
        off += (size_t)snprintf(out + off, off < len ? len - off : 0, "%s%s", n > 0 ? " or " : "",
                                xl_role_name((enum xl_role)r));
        n++;
    }
}

int
linker_request_rule(const char *body, unsigned *roles, int *own_agency, int *runs_long)
{
    for (size_t i = 0; i < S_NRULES; i++) {
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(
            &crosslink__envelope__descriptor, (unsigned)s_rules[i].body);
        if (f != NULL && strcmp(f->name, body) == 0) {
            *roles = s_rules[i].roles;
            *own_agency = s_rules[i].own_agency != NULL;
            *runs_long = s_rules[i].runs_long;
            return 0;
        }
    }
    return XL_ERR_NOTFOUND;
}

/* ---- one request ------------------------------------------------------------------ */

/* Audits the refusal in res (an error) as event, under the refusal limit. */
static void
s_refuse(struct linker_server *srv, const char *event, const char *key_id, const char *role,
         const char *request, struct linker_answer *res)
{
    cJSON *d = res->refusal != NULL ? res->refusal : cJSON_CreateObject();
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &crosslink__error__code__descriptor, (int)linker_error_code(res->code));
    const char *code = v != NULL ? v->name : "INTERNAL";
    char limit[64];

    res->refusal = NULL;
    srv->refused++;
    if (d != NULL) {
        cJSON_AddStringToObject(d, "key_id", key_id);
        cJSON_AddStringToObject(d, "request", request);
        if (cJSON_GetObjectItemCaseSensitive(d, "code") == NULL)
            cJSON_AddStringToObject(d, "code", code);
    }
    /* Limited per key and code: a key refused for two reasons leaves both,
     * one that repeats itself leaves a few entries a minute. */
    snprintf(limit, sizeof limit, "key %s (%s)", key_id, code);
    linker_refusal(srv->adm, event, limit, key_id, role, res->msg, d);
}

/* Authorises and answers a decoded request from the key whose entry is e. */
static void
s_dispatch(struct linker_server *srv, const struct xl_keyring_entry *e, const struct s_request *q,
           struct linker_answer *res)
{
    const struct s_rule *rule = s_rule_of(q->env->body_case);
    const char *name = xl_wire_body_name(q->env), *role = xl_role_name(e->role);
    struct linker_actor who;
    char agency[XL_NAME_MAX] = "", roles[64];

    if (rule == NULL) {
        linker_answer_fail(res, XL_ERR_FORMAT, "the linker does not serve %s messages", name);
        s_refuse(srv, "request.refused", e->key_id, role, name, res);
        return;
    }
    if (!(rule->roles & S_ROLE(e->role))) {
        s_roles_text(rule->roles, roles, sizeof roles);
        linker_answer_fail(res, XL_ERR_DENIED, "key %s has role %s: %s is for %s keys only",
                           e->key_id, role, name, roles);
        s_refuse(srv, rule->refused_event, e->key_id, role, name, res);
        return;
    }
    if (rule->own_agency != NULL) {
        if (rule->own_agency(srv, q->env, agency, res) != 0)
            return; /* the submission it names is unknown: answered, not a refusal */
        if (e->role == XL_ROLE_AGENT && strcmp(agency, e->agency) != 0) {
            linker_answer_fail(res, XL_ERR_DENIED, "key %s submits for agency %s only", e->key_id,
                               e->agency);
            res->refusal = cJSON_CreateObject();
            if (res->refusal != NULL)
                cJSON_AddStringToObject(res->refusal, "agency", agency);
            s_refuse(srv, rule->refused_event, e->key_id, role, name, res);
            return;
        }
    }
    memset(&who, 0, sizeof who);
    snprintf(who.key_id, sizeof who.key_id, "%s", e->key_id);
    who.role = e->role;
    snprintf(who.agency, sizeof who.agency, "%s", e->agency);
    who.audit_actor = who.key_id;
    who.audit_role = role;
    who.source = "network";
    rule->handle(srv, &who, q, res);
    if (res->kind == LINKER_REPLY_ERROR) {
        if (res->refusal != NULL)
            s_refuse(srv, rule->refused_event, e->key_id, role, name, res);
        else
            srv->refused++;
    }
}

/* Packs the reply to res into *out (malloc'd). */
static int
s_encode_reply(uint64_t request_id, const struct linker_answer *res, uint8_t **out, size_t *outlen)
{
    Crosslink__Envelope env = CROSSLINK__ENVELOPE__INIT;
    Crosslink__SubmitAck ack = CROSSLINK__SUBMIT_ACK__INIT;
    Crosslink__Error e = CROSSLINK__ERROR__INIT;
    Crosslink__LinkReport lr = CROSSLINK__LINK_REPORT__INIT;
    Crosslink__Receipt *rc = NULL;
    uint8_t id[LINKER_SUBID_BYTES];
    char msg[XL_ERRBUF];
    int r;

    env.request_id = request_id;
    switch (res->kind) {
    case LINKER_REPLY_ACK:
        memcpy(id, res->id, sizeof id);
        ack.submission_id.data = id;
        ack.submission_id.len = sizeof id;
        ack.next_seq = res->next_seq;
        ack.credit = res->credit;
        ack.records_stored = res->records_stored;
        ack.max_message = res->max_message;
        env.body_case = CROSSLINK__ENVELOPE__BODY_SUBMIT_ACK;
        env.submit_ack = &ack;
        break;
    case LINKER_REPLY_LINK:
        lr.run_id = res->link_run;
        lr.records = res->link_records;
        lr.links = res->link_links;
        lr.clusters = res->link_clusters;
        lr.conflicts = res->link_conflicts;
        lr.text = res->link_text;
        env.body_case = CROSSLINK__ENVELOPE__BODY_LINK_REPORT;
        env.link_report = &lr;
        break;
    case LINKER_REPLY_RECEIPT:
        rc = crosslink__receipt__unpack(NULL, res->receiptlen, res->receipt);
        if (rc != NULL) {
            env.body_case = CROSSLINK__ENVELOPE__BODY_RECEIPT;
            env.receipt = rc;
            break;
        }
        xl_error("a stored receipt does not parse");
        /* answer with an error rather than nothing */
        __attribute__((fallthrough));
    case LINKER_REPLY_ERROR:
    default:
        snprintf(msg, sizeof msg, "%s",
                 res->kind == LINKER_REPLY_ERROR ? res->msg : "internal error at the linker");
        e.code = res->kind == LINKER_REPLY_ERROR ? linker_error_code(res->code)
                                                 : CROSSLINK__ERROR__CODE__INTERNAL;
        e.message = msg;
        env.body_case = CROSSLINK__ENVELOPE__BODY_ERROR;
        env.error = &e;
        break;
    }
    r = xl_wire_encode(&env, out, outlen);
    if (rc != NULL)
        crosslink__receipt__free_unpacked(rc, NULL);
    return r;
}

void
linker_send(struct linker_server *srv, const void *rid, size_t rlen, const uint8_t *msg, size_t len)
{
    if (zmq_send(srv->router, rid, rlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(srv->router, msg, len, ZMQ_DONTWAIT) < 0) {
        /* The peer is gone or not reading: it resends after its timeout. */
        xl_debug("reply not sent: %s", zmq_strerror(errno));
    }
}

void
linker_reply(struct linker_server *srv, const void *rid, size_t rlen, uint64_t request_id,
             const struct linker_answer *res)
{
    uint8_t *out = NULL;
    size_t outlen = 0;

    if (s_encode_reply(request_id, res, &out, &outlen) != 0) {
        xl_error("out of memory encoding a reply");
        return;
    }
    linker_send(srv, rid, rlen, out, outlen);
    free(out);
}

/* The sender's keyring entry: its key authenticated at the handshake, still
 * active now, within its connection limit. 0, or the refusal in res. */
static int
s_sender(struct linker_server *srv, zmq_msg_t *body, int fd, struct xl_keyring_entry *e,
         struct linker_answer *res)
{
    const char *user = zmq_msg_gets(body, "User-Id"), *why = NULL;

    if (user == NULL || strlen(user) != XL_KEYID_HEX) {
        linker_answer_fail(res, XL_ERR_DENIED, "unauthenticated connection");
        s_refuse(srv, "request.refused", "-", "unknown", "any", res);
        return XL_ERR_DENIED;
    }
    if (linker_admission_key(srv->adm, user, e, &why) != 0) {
        linker_answer_fail(res, XL_ERR_DENIED, "%s", why);
        s_refuse(srv, "request.refused", user, "unknown", "any", res);
        return XL_ERR_DENIED;
    }
    if (fd >= 0 && linker_admission_seen(srv->adm, fd, user) != 0) {
        linker_answer_fail(res, XL_ERR_DENIED, "key %s already has %u connections to the linker",
                           user, srv->ctx.cfg.max_per_key);
        s_refuse(srv, "connection.refused", user, xl_role_name(e->role), "any", res);
        return XL_ERR_DENIED;
    }
    return 0;
}

int
linker_request_next(struct linker_server *srv)
{
    zmq_msg_t part[2];
    size_t n = 0, total = 0;
    struct linker_answer res;
    struct xl_keyring_entry e;
    struct s_request q;
    ProtobufCAllocator *alloc = xl_arena_allocator(srv->arena);
    xl_envelope *env = NULL;
    uint64_t request_id = 0;
    char err[XL_ERRBUF];
    int more = 1, r, fd;

    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, srv->router, total == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&m);
            if (total == 0)
                return 0;
            break;
        }
        more = zmq_msg_more(&m);
        total++;
        if (n < 2) {
            zmq_msg_init(&part[n]);
            zmq_msg_move(&part[n++], &m);
        }
        zmq_msg_close(&m);
    }
    if (total != 2 || zmq_msg_size(&part[0]) > LINKER_RID_MAX) {
        /* Routing id and one envelope, nothing else: there is no well-formed
         * address to answer. */
        srv->dropped++;
        xl_warn("dropped a message of %zu frames (expected one envelope)",
                total > 0 ? total - 1 : 0);
        goto out;
    }
    srv->requests++;
    memset(&res, 0, sizeof res);
    fd = zmq_msg_get(&part[1], ZMQ_SRCFD);
    /* Decoded first so that every answer, a refusal too, echoes its request id;
     * the decoder is bounded by max_message and trusts nothing. */
    xl_arena_reset(srv->arena, 4 * zmq_msg_size(&part[1]) + 4096);
    r = xl_wire_decode(zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), srv->ctx.cfg.max_message,
                       alloc, &env, err, sizeof err);
    if (r == 0)
        request_id = env->request_id;
    if (s_sender(srv, &part[1], fd, &e, &res) != 0) {
        /* refused: res holds the error */
    } else if (r != 0) {
        linker_answer_fail(&res, r, "%s", err);
        s_refuse(srv, "request.refused", e.key_id, xl_role_name(e.role), "malformed", &res);
    } else {
        q.env = env;
        q.rid = zmq_msg_data(&part[0]);
        q.rlen = zmq_msg_size(&part[0]);
        q.fd = fd;
        s_dispatch(srv, &e, &q, &res);
    }
    xl_wire_free(&env, alloc);
    xl_arena_trim(srv->arena, S_ARENA_KEEP);
    if (res.kind != LINKER_REPLY_LATER)
        linker_reply(srv, zmq_msg_data(&part[0]), zmq_msg_size(&part[0]), request_id, &res);
    linker_answer_clear(&res);
out:
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&part[i]);
    return 1;
}
