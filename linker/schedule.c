#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "admission.h"
#include "requests.h"
#include "schedule.h"
#include "xl/clock.h"
#include "xl/err.h"
#include "xl/log.h"

/* The longest report an answer carries (the rest is cut, with a note). */
#define S_REPORT_MAX (512u * 1024)

struct s_waiting {
    uint8_t rid[LINKER_RID_MAX];
    size_t rlen;
    uint64_t request_id;
    int report;
    int fd;
    int in_run; /* served by the run in progress */
    char key_id[XL_KEYID_HEX + 1];
};

/* A run that failed (a full disk, say) is tried again after this long,
 * doubling up to S_RETRY_MAX, while commits stay unlinked. */
#define S_RETRY_MIN 60.0
#define S_RETRY_MAX 3600.0

struct linker_schedule {
    struct linker_server *srv;
    int owed;
    int wanted; /* someone waits for the owed run: start it without waiting for quiet */
    double retry_at, retry_wait; /* after a failed run */
    pid_t child;
    int report_fd; /* the running child's stdout, when a report was asked for */
    int64_t last_run;
    struct s_waiting waiting[LINKER_LINK_WAITING];
    size_t nwaiting;
};

struct linker_schedule *
linker_schedule_new(struct linker_server *srv, char *err, size_t errlen)
{
    struct linker_schedule *s = calloc(1, sizeof *s);

    if (s == NULL) {
        xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->srv = srv;
    s->report_fd = -1;
    if (linker_store_link_owed(srv->ctx.store, &s->owed, err, errlen) != 0) {
        free(s);
        return NULL;
    }
    if (s->owed)
        xl_info("a link run is owed for commits made before the service last stopped");
    return s;
}

void
linker_schedule_owed(struct linker_schedule *s)
{
    s->owed = 1;
}

void
linker_schedule_wanted(struct linker_schedule *s)
{
    s->owed = 1;
    s->wanted = 1;
}

int
linker_schedule_running(const struct linker_schedule *s)
{
    return s->child > 0;
}

int
linker_schedule_request(struct linker_schedule *s, const void *rid, size_t rlen,
                        uint64_t request_id, int report, int fd, const char *key_id)
{
    struct s_waiting *w;

    if (s->nwaiting >= LINKER_LINK_WAITING || rlen > LINKER_RID_MAX)
        return XL_ERR_UNAVAILABLE;
    w = &s->waiting[s->nwaiting++];
    memset(w, 0, sizeof *w);
    memcpy(w->rid, rid, rlen);
    w->rlen = rlen;
    w->request_id = request_id;
    w->report = report;
    w->fd = fd;
    snprintf(w->key_id, sizeof w->key_id, "%s", key_id);
    xl_info("link run requested by admin key %s%s", key_id,
            s->child > 0 ? " (after the run in progress)" : "");
    return 0;
}

/* The report the child wrote (malloc'd, NUL-terminated), or NULL. */
static char *
s_read_report(int fd)
{
    char *text;
    ssize_t n;
    size_t len = 0;

    if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0)
        return NULL;
    text = malloc(S_REPORT_MAX + 1);
    if (text == NULL)
        return NULL;
    while (len < S_REPORT_MAX && (n = read(fd, text + len, S_REPORT_MAX - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        len += (size_t)n;
    }
    text[len] = '\0';
    return text;
}

/* Answers the requests the finished run served. ok: it exited 0; otherwise
 * they get code and why. */
static void
s_answer(struct linker_schedule *s, int ok, int code, const char *why)
{
    struct linker_server *srv = s->srv;
    struct linker_run_row run;
    struct linker_answer res;
    char *report = ok ? s_read_report(s->report_fd) : NULL;
    int have =
        ok && linker_store_run_last(srv->ctx.store, &run, NULL, 0) == 0 && run.run > s->last_run;
    size_t kept = 0;

    for (size_t i = 0; i < s->nwaiting; i++) {
        struct s_waiting *w = &s->waiting[i];
        if (!w->in_run) {
            s->waiting[kept++] = *w;
            continue;
        }
        memset(&res, 0, sizeof res);
        if (have) {
            res.kind = LINKER_REPLY_LINK;
            res.link_run = (uint64_t)run.run;
            res.link_records = run.records;
            res.link_links = run.links;
            res.link_clusters = run.clusters;
            res.link_conflicts = run.conflicts;
            res.link_text = w->report ? report : NULL;
        } else {
            linker_answer_fail(&res, code, "%s", why);
        }
        linker_reply(srv, w->rid, w->rlen, w->request_id, &res);
        linker_admission_busy(srv->adm, w->fd, 0);
    }
    s->nwaiting = kept;
    free(report);
}

static void
s_reap(struct linker_schedule *s, int wait)
{
    char err[XL_ERRBUF];
    int status;
    pid_t p;

    if (s->child <= 0)
        return;
    do
        p = waitpid(s->child, &status, wait ? 0 : WNOHANG);
    while (p < 0 && errno == EINTR);
    if (p != s->child)
        return;
    s->child = 0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* What it was to link is still owed (the store says so too). */
        s->retry_wait = s->retry_wait == 0                ? S_RETRY_MIN
                        : 2 * s->retry_wait < S_RETRY_MAX ? 2 * s->retry_wait
                                                          : S_RETRY_MAX;
        s->retry_at = xl_monotonic() + s->retry_wait;
        s->owed = 1;
        xl_error("the link run failed (see its message above); trying again in %.0f s",
                 s->retry_wait);
    } else {
        s->retry_wait = 0;
        s->retry_at = 0;
    }
    s_answer(s, WIFEXITED(status) && WEXITSTATUS(status) == 0, XL_ERR_INTERNAL,
             "the link run failed; see the linker's log");
    if (s->report_fd >= 0)
        close(s->report_fd);
    s->report_fd = -1;
    /* The run read the database: now the log can be copied in and truncated. */
    if (linker_store_checkpoint(s->srv->ctx.store, err, sizeof err) != 0)
        xl_warn("%s", err);
}

/* Starts `crosslink-linker link` for what is owed and the requests waiting. */
static void
s_start(struct linker_schedule *s)
{
    struct linker_run_row last;
    posix_spawn_file_actions_t fa;
    char *argv[8], err[XL_ERRBUF];
    const char *by = NULL;
    int argc = 0, report = 0;
    pid_t pid;

    /* Idle or asked: the moment to copy the WAL into the database. */
    if (linker_store_checkpoint(s->srv->ctx.store, err, sizeof err) != 0)
        xl_warn("%s", err);
    s->last_run = linker_store_run_last(s->srv->ctx.store, &last, NULL, 0) == 0 ? last.run : 0;
    for (size_t i = 0; i < s->nwaiting; i++) {
        s->waiting[i].in_run = 1;
        report |= s->waiting[i].report;
        if (by == NULL)
            by = s->waiting[i].key_id;
    }
    argv[argc++] = "crosslink-linker";
    argv[argc++] = "link";
    argv[argc++] = "-c";
    argv[argc++] = (char *)s->srv->conf_path;
    if (by != NULL) {
        argv[argc++] = "--requested-by";
        argv[argc++] = (char *)by;
    }
    if (report)
        argv[argc++] = "--report";
    argv[argc] = NULL;
    posix_spawn_file_actions_init(&fa);
    if (report) {
        /* The report comes back through a file in memory: no path to clean up. */
        s->report_fd = memfd_create("crosslink-link-report", MFD_CLOEXEC);
        if (s->report_fd >= 0)
            posix_spawn_file_actions_adddup2(&fa, s->report_fd, STDOUT_FILENO);
    }
    if (posix_spawn(&pid, "/proc/self/exe", &fa, NULL, argv, environ) != 0) {
        xl_error("cannot start a link run: %s", strerror(errno));
        posix_spawn_file_actions_destroy(&fa);
        s_answer(s, 0, XL_ERR_INTERNAL, "the link run could not start; see the linker's log");
        if (s->report_fd >= 0)
            close(s->report_fd);
        s->report_fd = -1;
        return;
    }
    posix_spawn_file_actions_destroy(&fa);
    s->child = pid;
    s->owed = 0;
    s->wanted = 0;
    xl_info("link run started (process %ld)%s", (long)pid,
            by != NULL ? " at an admin's request" : " after commits");
}

void
linker_schedule_tick(struct linker_schedule *s, double last_request)
{
    int due;

    s_reap(s, 0);
    if (s->child > 0)
        return;
    due = s->owed && (s->wanted || xl_monotonic() - last_request >= LINKER_LINK_IDLE) &&
          xl_monotonic() >= s->retry_at;
    if (s->nwaiting == 0 && due) {
        /* A run made meanwhile by `crosslink-linker link` leaves nothing owed. */
        char err[XL_ERRBUF];
        int owed = 1;
        if (linker_store_link_owed(s->srv->ctx.store, &owed, err, sizeof err) == 0 && !owed) {
            s->owed = 0;
            s->wanted = 0;
            return;
        }
    }
    if (s->nwaiting > 0 || due)
        s_start(s);
}

void
linker_schedule_destroy(struct linker_schedule **sp)
{
    struct linker_schedule *s;

    if (sp == NULL || *sp == NULL)
        return;
    s = *sp;
    if (s->child > 0)
        xl_warn("stopping: waiting for the link run in progress (process %ld) to finish; it is "
                "not interrupted, so its results are kept",
                (long)s->child);
    s_reap(s, 1); /* a run in progress finishes */
    for (size_t i = 0; i < s->nwaiting; i++)
        s->waiting[i].in_run = 1;
    s_answer(s, 0, XL_ERR_UNAVAILABLE, "the linker is stopping; ask again when it is back");
    free(s);
    *sp = NULL;
}
