#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "columns.h"
#include "store.h"
#include "xl/err.h"
#include "xl/log.h"
#include "xl/payload.h"
#include "xl/xle.h"

/* 2: link_records keeps each record's local_ref and entity ids. */
#define S_SCHEMA_VERSION 4

static const char s_schema[] =
    "CREATE TABLE IF NOT EXISTS submissions ("
    " id BLOB PRIMARY KEY CHECK (length(id) = 16),"
    " agency TEXT NOT NULL,"
    " dataset TEXT NOT NULL,"
    " key_id TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " spec BLOB NOT NULL,"
    " epoch INTEGER NOT NULL,"
    " record_count INTEGER NOT NULL,"
    " content_hash BLOB NOT NULL,"
    " chunk_records INTEGER NOT NULL,"
    " one_per_person INTEGER NOT NULL,"
    " attributes TEXT NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('open', 'committed', 'superseded')),"
    " next_seq INTEGER NOT NULL DEFAULT 0,"
    " records_stored INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL,"
    " committed INTEGER,"
    " receipt BLOB,"
    /* version 3: the input's identity (agent_input_id), when a submission
     * was superseded or last stored a chunk, and when retention purged its
     * chunks (the row stays: it is the audit trail's, and remembers the
     * input so that an older file is not taken back silently) */
    " input_id BLOB,"
    " superseded_at INTEGER,"
    " touched INTEGER,"
    " purged INTEGER,"
    /* version 4: the batch's payload key, sent once (xl/payload.h); NULL
     * when each record's payload carries it */
    " payload_key BLOB);"
    "CREATE INDEX IF NOT EXISTS submissions_by_dataset ON submissions (agency, dataset, state);"
    "CREATE TABLE IF NOT EXISTS chunks ("
    " submission BLOB NOT NULL REFERENCES submissions (id),"
    " seq INTEGER NOT NULL,"
    " records INTEGER NOT NULL,"
    " data BLOB NOT NULL,"
    " PRIMARY KEY (submission, seq));"
    /* Link runs: one row a run; the clusters of the latest run only. */
    "CREATE TABLE IF NOT EXISTS link_runs ("
    " run INTEGER PRIMARY KEY AUTOINCREMENT,"
    " started INTEGER NOT NULL,"
    " finished INTEGER NOT NULL,"
    " epoch INTEGER NOT NULL,"
    " spec BLOB NOT NULL,"
    " records INTEGER NOT NULL,"
    " links INTEGER NOT NULL,"
    " clusters INTEGER NOT NULL,"
    " possible INTEGER NOT NULL,"
    " conflicts INTEGER NOT NULL,"
    " cluster_hash BLOB NOT NULL,"
    " params TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS link_records ("
    " run INTEGER NOT NULL,"
    " submission BLOB NOT NULL,"
    " idx INTEGER NOT NULL,"
    " cluster INTEGER NOT NULL,"
    " level INTEGER,"
    " score REAL,"
    " ref BLOB,"
    " entity_identifier INTEGER,"
    " entity_keys INTEGER,"
    " entity INTEGER,"
    " PRIMARY KEY (run, submission, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS link_conflicts ("
    " run INTEGER NOT NULL,"
    " submission_a BLOB NOT NULL, idx_a INTEGER NOT NULL, ref_a BLOB NOT NULL,"
    " submission_b BLOB NOT NULL, idx_b INTEGER NOT NULL, ref_b BLOB NOT NULL,"
    " kind TEXT NOT NULL, level INTEGER NOT NULL, score REAL NOT NULL);"
    /* Counters that must survive a restart: commits made, and how many of them
     * the latest link run saw (a run is owed while they differ). */
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

/* The schema's history: what each version lacked, added when an older
 * database is opened. */
static const struct {
    int from;
    const char *sql;
} s_upgrades[] = {
    /* Version 1 kept no local_ref or entity ids with a run's results: the
     * next link run fills them (every child then gets a new entity id, once). */
    {1, "BEGIN IMMEDIATE;"
        "ALTER TABLE link_records ADD COLUMN ref BLOB;"
        "ALTER TABLE link_records ADD COLUMN entity_identifier INTEGER;"
        "ALTER TABLE link_records ADD COLUMN entity_keys INTEGER;"
        "ALTER TABLE link_records ADD COLUMN entity INTEGER;"
        "PRAGMA user_version = 2;"
        "COMMIT;"},
    /* Version 2 kept no input identity and no retention times. */
    {2, "BEGIN IMMEDIATE;"
        "ALTER TABLE submissions ADD COLUMN input_id BLOB;"
        "ALTER TABLE submissions ADD COLUMN superseded_at INTEGER;"
        "ALTER TABLE submissions ADD COLUMN touched INTEGER;"
        "ALTER TABLE submissions ADD COLUMN purged INTEGER;"
        "PRAGMA user_version = 3;"
        "COMMIT;"},
    /* Version 3 kept no payload key: its submissions' payloads each carry
     * theirs. */
    {3, "BEGIN IMMEDIATE;"
        "ALTER TABLE submissions ADD COLUMN payload_key BLOB;"
        "PRAGMA user_version = 4;"
        "COMMIT;"},
};

#define S_COLS                                                                                     \
    "id, agency, dataset, key_id, source, spec, epoch, record_count, content_hash, "               \
    "chunk_records, one_per_person, state, next_seq, records_stored, created, "                    \
    "coalesce(committed, 0), receipt IS NOT NULL, input_id, coalesce(purged, 0), "                 \
    "coalesce(superseded_at, 0), payload_key"
#define S_NCOLS 21

enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_GET,
    S_FIND,
    S_INSERT,
    S_CHUNK_INSERT,
    S_PROGRESS,
    S_CHUNKS,
    S_CURRENT,
    S_SUPERSEDE,
    S_MARK_COMMITTED,
    S_SET_RECEIPT,
    S_RECEIPT,
    S_ATTRIBUTES,
    S_ALL,
    S_COLUMNS_INSERT,
    S_COLUMNS_DISCARD,
    S_COLUMNS,
    S_RUN_INSERT,
    S_RUN_RECORD,
    S_RUN_CONFLICT,
    S_RUN_PRUNE,
    S_RUN_PRUNE_CONFLICTS,
    S_RUN_LAST,
    S_RUN_CONFLICTS,
    S_COUNT_COMMIT,
    S_META,
    S_META_SET,
    S_DISCARD_CHUNKS,
    S_DISCARD,
    S_RUN_ENTITIES,
    S_RUN_SUBMISSIONS,
    S_RUN_ROWS,
    S_FIND_INPUT,
    S_PURGE_DUE,
    S_PURGE_MARK,
    S_STORAGE,
    S_NSTMT
};

static const char *s_sql[S_NSTMT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_GET] = "SELECT " S_COLS " FROM submissions WHERE id = ?1",
    [S_FIND] = "SELECT " S_COLS " FROM submissions WHERE agency = ?1 AND dataset = ?2"
               " AND content_hash = ?3 AND record_count = ?4 AND chunk_records = ?5"
               " AND epoch = ?6 AND spec = ?7 AND state IN ('open', 'committed')"
               " ORDER BY created DESC LIMIT 1",
    [S_INSERT] =
        "INSERT INTO submissions (id, agency, dataset, key_id, source, spec, epoch,"
        " record_count, content_hash, chunk_records, one_per_person, attributes, state,"
        " created, touched, input_id, payload_key)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'open', ?13, ?13, ?14, ?15)",
    [S_CHUNK_INSERT] =
        "INSERT INTO chunks (submission, seq, records, data) VALUES (?1, ?2, ?3, ?4)",
    [S_PROGRESS] = "UPDATE submissions SET next_seq = ?2, records_stored = ?3,"
                   " touched = CAST(strftime('%s', 'now') AS INTEGER) WHERE id = ?1",
    [S_CHUNKS] = "SELECT seq, records, data FROM chunks WHERE submission = ?1 ORDER BY seq",
    [S_CURRENT] = "SELECT id FROM submissions WHERE agency = ?1 AND dataset = ?2"
                  " AND state = 'committed' AND id != ?3",
    [S_SUPERSEDE] = "UPDATE submissions SET state = 'superseded',"
                    " superseded_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE id = ?1",
    [S_MARK_COMMITTED] = "UPDATE submissions SET state = 'committed', committed = ?2"
                         " WHERE id = ?1 AND state = 'open'",
    [S_SET_RECEIPT] = "UPDATE submissions SET receipt = ?2 WHERE id = ?1",
    [S_RECEIPT] = "SELECT receipt FROM submissions WHERE id = ?1",
    [S_ATTRIBUTES] = "SELECT attributes FROM submissions WHERE id = ?1",
    [S_ALL] = "SELECT " S_COLS " FROM submissions ORDER BY agency, dataset, created, id",
    [S_COLUMNS_INSERT] =
        "INSERT OR REPLACE INTO cols.chunk_columns (submission, seq, data) VALUES (?1, ?2, ?3)",
    [S_COLUMNS_DISCARD] = "DELETE FROM cols.chunk_columns WHERE submission = ?1",
    /* chunks' records column is read from the row's first page: the join
     * does not walk the chunk data's overflow pages. The columns themselves
     * are read by rowid (linker_store_foreach_columns). */
    [S_COLUMNS] = "SELECT " S_COLS ", c.seq, c.records, k.rowid, c.rowid FROM submissions s"
                  " JOIN chunks c ON c.submission = s.id"
                  " LEFT JOIN cols.chunk_columns k ON k.submission = c.submission AND k.seq = c.seq"
                  " WHERE s.state = 'committed' AND s.epoch = ?1"
                  " ORDER BY s.agency, s.dataset, s.id, c.seq",
    [S_RUN_INSERT] = "INSERT INTO link_runs (started, finished, epoch, spec, records, links,"
                     " clusters, possible, conflicts, cluster_hash, params)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [S_RUN_RECORD] = "INSERT INTO link_records (run, submission, idx, cluster, level, score,"
                     " ref, entity_identifier, entity_keys, entity)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_RUN_CONFLICT] = "INSERT INTO link_conflicts (run, submission_a, idx_a, ref_a,"
                       " submission_b, idx_b, ref_b, kind, level, score)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [S_RUN_PRUNE] = "DELETE FROM link_records WHERE run < ?1",
    [S_RUN_PRUNE_CONFLICTS] = "DELETE FROM link_conflicts WHERE run < ?1",
    [S_RUN_LAST] = "SELECT run, started, finished, epoch, records, links, clusters, possible,"
                   " conflicts, cluster_hash, spec FROM link_runs ORDER BY run DESC LIMIT 1",
    [S_RUN_CONFLICTS] = "SELECT a.agency, a.dataset, c.ref_a, b.agency, b.dataset, c.ref_b,"
                        " c.kind, c.level, c.score FROM link_conflicts c"
                        " JOIN submissions a ON a.id = c.submission_a"
                        " JOIN submissions b ON b.id = c.submission_b"
                        " WHERE c.run = (SELECT max(run) FROM link_runs)"
                        " ORDER BY a.agency, a.dataset, c.idx_a, c.idx_b",
    [S_COUNT_COMMIT] = "INSERT INTO meta (name, value) VALUES ('commits', 1)"
                       " ON CONFLICT (name) DO UPDATE SET value = value + 1",
    [S_META] = "SELECT value FROM meta WHERE name = ?1",
    [S_META_SET] = "INSERT INTO meta (name, value) VALUES (?1, ?2)"
                   " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    [S_DISCARD_CHUNKS] = "DELETE FROM chunks WHERE submission = ?1",
    [S_DISCARD] = "DELETE FROM submissions WHERE id = ?1 AND state = 'open'",
    [S_RUN_ENTITIES] = "SELECT s.agency, s.dataset, r.ref, r.entity_identifier, r.entity_keys,"
                       " r.entity FROM link_records r JOIN submissions s ON s.id = r.submission"
                       " WHERE r.run = (SELECT max(run) FROM link_runs) AND r.entity IS NOT NULL",
    [S_RUN_SUBMISSIONS] = "SELECT " S_COLS " FROM submissions WHERE id IN"
                          " (SELECT DISTINCT submission FROM link_records WHERE run = ?1)"
                          " ORDER BY agency, dataset, id",
    [S_RUN_ROWS] = "SELECT idx, level, entity_identifier, entity_keys, entity FROM link_records"
                   " WHERE run = ?1 AND submission = ?2 ORDER BY idx",
    [S_FIND_INPUT] = "SELECT " S_COLS " FROM submissions WHERE agency = ?1 AND dataset = ?2"
                     " AND input_id = ?3 AND state IN ('committed', 'superseded')"
                     " ORDER BY created DESC LIMIT 1",
    /* Superseded before ?1, or open with no chunk stored since ?1 (given up). */
    [S_PURGE_DUE] = "SELECT " S_COLS " FROM submissions WHERE purged IS NULL AND"
                    " ((state = 'superseded' AND coalesce(superseded_at, created) < ?1) OR"
                    " (state = 'open' AND coalesce(touched, created) < ?1))"
                    " ORDER BY agency, dataset, created",
    [S_PURGE_MARK] = "UPDATE submissions SET purged = ?2 WHERE id = ?1 AND state = 'superseded'",
    /* The records' bytes: the link columns beside them are a cache, and a
     * read-only store (status) does not open their file. */
    [S_STORAGE] = "SELECT s.agency, s.state, count(DISTINCT s.id), coalesce(sum(length(c.data)), 0)"
                  " FROM submissions s LEFT JOIN chunks c ON c.submission = s.id"
                  " WHERE s.purged IS NULL GROUP BY s.agency, s.state ORDER BY s.agency",
};

struct linker_store {
    sqlite3 *db;
    char path[1024];
    int columns_kept; /* link columns are stored (in the columns file) */
    sqlite3_stmt *stmt[S_NSTMT];
};

const char *
linker_state_name(enum linker_state s)
{
    switch (s) {
    case LINKER_OPEN: return "open";
    case LINKER_COMMITTED: return "committed";
    case LINKER_SUPERSEDED: return "superseded";
    }
    return "unknown";
}

static int
s_state_parse(const char *s, enum linker_state *out)
{
    if (s == NULL)
        return -1;
    if (strcmp(s, "open") == 0)
        *out = LINKER_OPEN;
    else if (strcmp(s, "committed") == 0)
        *out = LINKER_COMMITTED;
    else if (strcmp(s, "superseded") == 0)
        *out = LINKER_SUPERSEDED;
    else
        return -1;
    return 0;
}

/* An XL_ERR_* for an SQLite result code, with the database's message. A full
 * disk (SQLITE_FULL: SQLite's name for ENOSPC and EDQUOT, and for a short
 * write) is XL_ERR_NOSPACE, so the caller can tell the operator what to free;
 * SQLite has rolled the statement or transaction back by then. */
static int
s_dberr(struct linker_store *st, int rc, const char *what, char *err, size_t errlen)
{
    int code;

    switch (rc) {
    case SQLITE_NOMEM: code = XL_ERR_NOMEM; break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = XL_ERR_UNAVAILABLE; break;
    case SQLITE_FULL: code = XL_ERR_NOSPACE; break;
    default: code = XL_ERR_IO; break;
    }
    return xl_err_set(err, errlen, code, "%s: %s: %s", st->path, what, sqlite3_errmsg(st->db));
}

static sqlite3_stmt *
s_stmt(struct linker_store *st, int which)
{
    sqlite3_stmt *s = st->stmt[which];

    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return s;
}

/* Runs a statement that returns no rows. */
static int
s_run(struct linker_store *st, int which, const char *what, char *err, size_t errlen)
{
    sqlite3_stmt *s = st->stmt[which];
    int rc = sqlite3_step(s);

    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, what, err, errlen);
    return 0;
}

static int
s_tx_begin(struct linker_store *st, char *err, size_t errlen)
{
    s_stmt(st, S_BEGIN);
    return s_run(st, S_BEGIN, "begin transaction", err, errlen);
}

/* Commits; what names the transaction for the message ("store chunk 3"): in
 * WAL mode the commit is where the pages are written, so it is where a full
 * disk shows. */
static int
s_tx_commit(struct linker_store *st, const char *what, char *err, size_t errlen)
{
    int r;

    s_stmt(st, S_COMMIT);
    r = s_run(st, S_COMMIT, what, err, errlen);
    if (r != 0 && !sqlite3_get_autocommit(st->db)) {
        s_stmt(st, S_ROLLBACK);
        (void)s_run(st, S_ROLLBACK, "rollback", NULL, 0);
    }
    return r;
}

static void
s_tx_rollback(struct linker_store *st)
{
    if (sqlite3_get_autocommit(st->db))
        return; /* SQLite already rolled back (an I/O error or full disk does) */
    s_stmt(st, S_ROLLBACK);
    (void)s_run(st, S_ROLLBACK, "rollback", NULL, 0);
}

static void
s_copy_text(char *dst, size_t cap, const unsigned char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? (const char *)src : "");
}

static int
s_copy_blob(sqlite3_stmt *s, int col, uint8_t *dst, size_t want)
{
    const void *p = sqlite3_column_blob(s, col);

    if (p == NULL || (size_t)sqlite3_column_bytes(s, col) != want)
        return -1;
    memcpy(dst, p, want);
    return 0;
}

/* Reads the S_COLS columns of the current row into *out. */
static int
s_row(struct linker_store *st, sqlite3_stmt *s, struct linker_submission *out, char *err,
      size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (s_copy_blob(s, 0, out->id, LINKER_SUBID_BYTES) != 0 ||
        s_copy_blob(s, 5, out->spec, XL_HASH_BYTES) != 0 ||
        s_copy_blob(s, 8, out->content_hash, XL_HASH_BYTES) != 0 ||
        s_state_parse((const char *)sqlite3_column_text(s, 11), &out->state) != 0)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: a submission row is malformed",
                          st->path);
    s_copy_text(out->agency, sizeof out->agency, sqlite3_column_text(s, 1));
    s_copy_text(out->dataset, sizeof out->dataset, sqlite3_column_text(s, 2));
    s_copy_text(out->key_id, sizeof out->key_id, sqlite3_column_text(s, 3));
    s_copy_text(out->source, sizeof out->source, sqlite3_column_text(s, 4));
    out->epoch = (uint32_t)sqlite3_column_int64(s, 6);
    out->record_count = (uint64_t)sqlite3_column_int64(s, 7);
    out->chunk_records = (uint32_t)sqlite3_column_int64(s, 9);
    out->one_per_person = sqlite3_column_int(s, 10) != 0;
    out->next_seq = (uint64_t)sqlite3_column_int64(s, 12);
    out->records_stored = (uint64_t)sqlite3_column_int64(s, 13);
    out->created = sqlite3_column_int64(s, 14);
    out->committed = sqlite3_column_int64(s, 15);
    out->has_receipt = sqlite3_column_int(s, 16) != 0;
    out->has_input = s_copy_blob(s, 17, out->input_id, XL_HASH_BYTES) == 0;
    out->purged = sqlite3_column_int64(s, 18);
    out->superseded_at = sqlite3_column_int64(s, 19);
    if (sqlite3_column_type(s, 20) != SQLITE_NULL) {
        if (s_copy_blob(s, 20, out->payload_key, XL_PAYLOAD_KEY) != 0)
            return xl_err_set(err, errlen, XL_ERR_FORMAT,
                              "%s: a submission's payload key is malformed", st->path);
        out->has_payload_key = 1;
    }
    return 0;
}

/* The link columns' table (columns.h), in the file attached as cols. */
#define S_COLUMNS_TABLE                                                                            \
    "CREATE TABLE IF NOT EXISTS cols.chunk_columns ("                                              \
    " submission BLOB NOT NULL,"                                                                   \
    " seq INTEGER NOT NULL,"                                                                       \
    " data BLOB NOT NULL,"                                                                         \
    " PRIMARY KEY (submission, seq));"

/* Columns for every stored chunk that has none (the file is new, or a crash
 * lost the last ones written), and none for a chunk that is gone (purged while
 * the file was elsewhere), in one transaction. A chunk whose records do not
 * unpack gets none: a link run then derives them itself, and stops there and
 * names it. */
static int
s_columns_sync(struct linker_store *st, char *err, size_t errlen)
{
    struct linker_columns_buf b = {0};
    sqlite3_stmt *q = NULL, *ins = NULL;
    int rc, r = 0;

    rc = sqlite3_exec(
        st->db,
        "BEGIN IMMEDIATE;"
        "DELETE FROM cols.chunk_columns WHERE NOT EXISTS (SELECT 1 FROM main.chunks c"
        " WHERE c.submission = chunk_columns.submission AND c.seq = chunk_columns.seq)",
        NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(st->db,
                                "SELECT submission, seq, data FROM main.chunks c WHERE NOT EXISTS"
                                " (SELECT 1 FROM cols.chunk_columns k"
                                " WHERE k.submission = c.submission AND k.seq = c.seq)",
                                -1, &q, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(st->db,
                                "INSERT INTO cols.chunk_columns (submission, seq, data)"
                                " VALUES (?1, ?2, ?3)",
                                -1, &ins, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        const uint8_t *cols;
        size_t len;
        int c = linker_columns_from_packed(&b, sqlite3_column_blob(q, 2),
                                           (size_t)sqlite3_column_bytes(q, 2), &cols, &len);
        rc = SQLITE_OK;
        if (c == XL_ERR_NOMEM) {
            r = xl_err_set(err, errlen, c, "%s: out of memory building link columns", st->path);
            break;
        }
        if (c != 0)
            continue;
        sqlite3_bind_value(ins, 1, sqlite3_column_value(q, 0));
        sqlite3_bind_value(ins, 2, sqlite3_column_value(q, 1));
        sqlite3_bind_blob(ins, 3, cols, (int)len, SQLITE_STATIC);
        rc = sqlite3_step(ins);
        sqlite3_reset(ins);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    sqlite3_finalize(q);
    sqlite3_finalize(ins);
    linker_columns_free(&b);
    if (r == 0 && rc == SQLITE_OK)
        rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (r == 0 && rc != SQLITE_OK)
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s-columns: cannot build link columns: %s",
                       st->path, sqlite3_errmsg(st->db));
    if (r != 0)
        (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

/* Link columns (columns.h) live in a file of their own beside the database,
 * PATH-columns, attached as cols. They are derived from the chunks, so they
 * are written without an fsync of their own (synchronous=NORMAL: a crash may
 * lose the last ones written, never damage the file) and made again from the
 * chunks when missing. A read-only store attaches an empty table in memory:
 * its walks make every chunk's. */
static int
s_attach_file(struct linker_store *st, const char *path, char *err, size_t errlen)
{
    char *emsg = NULL;
    sqlite3_stmt *a = NULL;
    int fd, rc;

    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    close(fd);
    rc = sqlite3_prepare_v2(st->db, "ATTACH ?1 AS cols", -1, &a, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(a, 1, path, -1, SQLITE_STATIC);
        rc = sqlite3_step(a);
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    sqlite3_finalize(a);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(st->db,
                          "PRAGMA cols.page_size = 65536;"
                          "PRAGMA cols.auto_vacuum = INCREMENTAL;"
                          "PRAGMA cols.journal_mode = WAL;"
                          "PRAGMA cols.synchronous = NORMAL;"
                          "PRAGMA cols.secure_delete = ON;" S_COLUMNS_TABLE,
                          NULL, NULL, &emsg);
    if (rc != SQLITE_OK) {
        int r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot set up: %s", path,
                           emsg != NULL ? emsg : sqlite3_errmsg(st->db));
        sqlite3_free(emsg);
        return r;
    }
    return s_columns_sync(st, err, errlen);
}

/* The columns file, or (read-only, or a file that cannot be set up: a full
 * disk) an empty table in memory and none kept: link runs then make each
 * chunk's columns from its records, as before the file, until a later start
 * sets it up and makes them all. */
static int
s_attach_columns(struct linker_store *st, int readonly, char *err, size_t errlen)
{
    char path[sizeof st->path + 16], why[XL_ERRBUF];

    snprintf(path, sizeof path, "%s-columns", st->path);
    if (!readonly) {
        if (s_attach_file(st, path, why, sizeof why) == 0) {
            st->columns_kept = 1;
            return 0;
        }
        xl_warn("%s; link runs make the link columns from the records until a start can set it "
                "up (free disk space)",
                why);
        (void)sqlite3_exec(st->db, "DETACH cols", NULL, NULL, NULL);
    }
    if (sqlite3_exec(st->db, "ATTACH ':memory:' AS cols;" S_COLUMNS_TABLE, NULL, NULL, NULL) !=
        SQLITE_OK)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "%s: cannot set up the link columns: %s",
                          st->path, sqlite3_errmsg(st->db));
    return 0;
}

static int
s_open(const char *path, int readonly, struct linker_store **out, char *err, size_t errlen)
{
    struct linker_store *st;
    char *emsg = NULL;
    int rc, r, flags;

    *out = NULL;
    st = calloc(1, sizeof *st);
    if (st == NULL)
        return xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
    if (strlen(path) >= sizeof st->path) {
        free(st);
        return xl_err_set(err, errlen, XL_ERR_INVALID, "%s: path too long", path);
    }
    snprintf(st->path, sizeof st->path, "%s", path);
    if (!readonly) {
        /* Create the file owner-only before SQLite does (it would use 0644
         * under the umask); its -wal and -shm files take the same mode. */
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0) {
            r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot open the database: %s", path,
                           strerror(errno));
            free(st);
            return r;
        }
        close(fd);
        flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW;
    } else {
        if (access(path, F_OK) != 0) {
            if (errno == ENOENT)
                r = xl_err_set(err, errlen, XL_ERR_NOTFOUND, "%s: " LINKER_STORE_NONE_YET, path);
            else
                r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot open the database: %s", path,
                               strerror(errno));
            free(st);
            return r;
        }
        /* Read-write open without writes: a read-only connection cannot read a
         * WAL database whose -shm it may not create. */
        flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW;
    }
    rc = sqlite3_open_v2(path, &st->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        r = xl_err_set(err, errlen, XL_ERR_IO, "%s: cannot open the database: %s", path,
                       st->db != NULL ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(st->db, 0);
    sqlite3_busy_timeout(st->db, 10000);
    if (!readonly) {
        /* A new database gives the pages of purged chunks back to the
         * filesystem (linker_store_reclaim). Set only while it is empty:
         * on an existing one the setting would wait for a VACUUM. Before
         * journal_mode, which writes the first page. */
        sqlite3_stmt *pc = NULL;
        int64_t pages = -1;
        if (sqlite3_prepare_v2(st->db, "PRAGMA page_count", -1, &pc, NULL) == SQLITE_OK &&
            sqlite3_step(pc) == SQLITE_ROW)
            pages = sqlite3_column_int64(pc, 0);
        sqlite3_finalize(pc);
        if (pages == 0)
            (void)sqlite3_exec(st->db, "PRAGMA auto_vacuum = INCREMENTAL", NULL, NULL, NULL);
    }
    /* Chunks are blobs of hundreds of kilobytes: 64 KiB pages (taken by a new
     * database only) cut the overflow-page chains and the bytes written per
     * chunk, roughly doubling ingest speed over the 4 KiB default. */
    rc = sqlite3_exec(st->db,
                      "PRAGMA page_size = 65536;"
                      "PRAGMA journal_mode = WAL;"
                      "PRAGMA synchronous = FULL;"
                      "PRAGMA foreign_keys = ON;"
                      "PRAGMA secure_delete = ON;"
                      /* Checkpoints copy every page a second time: let the WAL grow to
                       * 1 GiB during ingest and checkpoint when the service is idle
                       * (linker_store_checkpoint) instead of every 64 MiB. */
                      "PRAGMA wal_autocheckpoint = 16384;",
                      NULL, NULL, &emsg);
    if (rc == SQLITE_OK && !readonly)
        rc = sqlite3_exec(st->db, s_schema, NULL, NULL, &emsg);
    if (rc != SQLITE_OK) {
        r = xl_err_set(err, errlen, rc == SQLITE_NOTADB ? XL_ERR_FORMAT : XL_ERR_IO,
                       "%s: cannot set up the database: %s", path,
                       emsg != NULL ? emsg : sqlite3_errstr(rc));
        sqlite3_free(emsg);
        goto fail;
    }
    {
        sqlite3_stmt *v = NULL;
        int version = -1;
        if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &v, NULL) == SQLITE_OK &&
            sqlite3_step(v) == SQLITE_ROW)
            version = sqlite3_column_int(v, 0);
        sqlite3_finalize(v);
        if (version == 0 && !readonly) {
            rc = sqlite3_exec(st->db, "PRAGMA user_version = 4", NULL, NULL, NULL);
            version = rc == SQLITE_OK ? S_SCHEMA_VERSION : -1;
        }
        /* Each older version upgraded one step at a time, each step in a
         * transaction of its own. */
        for (size_t i = 0; !readonly && i < sizeof s_upgrades / sizeof s_upgrades[0]; i++) {
            if (version != s_upgrades[i].from)
                continue;
            rc = sqlite3_exec(st->db, s_upgrades[i].sql, NULL, NULL, NULL);
            if (rc != SQLITE_OK)
                (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            version = rc == SQLITE_OK ? s_upgrades[i].from + 1 : -1;
        }
        if (version != S_SCHEMA_VERSION) {
            r = xl_err_set(err, errlen, XL_ERR_VERSION,
                           "%s: database schema version %d (this linker uses %d)", path, version,
                           S_SCHEMA_VERSION);
            goto fail;
        }
    }
    r = s_attach_columns(st, readonly, err, errlen);
    if (r != 0)
        goto fail;
    for (int i = 0; i < S_NSTMT; i++) {
        rc =
            sqlite3_prepare_v3(st->db, s_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL);
        if (rc != SQLITE_OK) {
            r = s_dberr(st, rc, "prepare", err, errlen);
            goto fail;
        }
    }
    *out = st;
    return 0;
fail:
    linker_store_close(&st);
    return r;
}

int
linker_store_open(const char *path, struct linker_store **out, char *err, size_t errlen)
{
    return s_open(path, 0, out, err, errlen);
}

int
linker_store_open_readonly(const char *path, struct linker_store **out, char *err, size_t errlen)
{
    return s_open(path, 1, out, err, errlen);
}

void
linker_store_close(struct linker_store **stp)
{
    struct linker_store *st;

    if (stp == NULL || *stp == NULL)
        return;
    st = *stp;
    for (int i = 0; i < S_NSTMT; i++)
        sqlite3_finalize(st->stmt[i]);
    if (st->db != NULL)
        sqlite3_close(st->db);
    free(st);
    *stp = NULL;
}

/* Steps a query expected to return at most one submission row. */
static int
s_one(struct linker_store *st, sqlite3_stmt *s, struct linker_submission *out, char *err,
      size_t errlen)
{
    int rc = sqlite3_step(s), r;

    if (rc == SQLITE_DONE)
        r = XL_ERR_NOTFOUND;
    else if (rc == SQLITE_ROW)
        r = s_row(st, s, out, err, errlen);
    else
        r = s_dberr(st, rc, "query", err, errlen);
    sqlite3_reset(s);
    return r;
}

int
linker_store_get(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES],
                 struct linker_submission *out, char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, S_GET);

    sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    return s_one(st, s, out, err, errlen);
}

int
linker_store_find(struct linker_store *st, const struct linker_submission *w,
                  struct linker_submission *out, char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, S_FIND);

    if (w->record_count > INT64_MAX)
        return XL_ERR_NOTFOUND;
    sqlite3_bind_text(s, 1, w->agency, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, w->dataset, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, w->content_hash, XL_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (sqlite3_int64)w->record_count);
    sqlite3_bind_int64(s, 5, w->chunk_records);
    sqlite3_bind_int64(s, 6, w->epoch);
    sqlite3_bind_blob(s, 7, w->spec, XL_HASH_BYTES, SQLITE_STATIC);
    return s_one(st, s, out, err, errlen);
}

int
linker_store_find_input(struct linker_store *st, const char *agency, const char *dataset,
                        const uint8_t input_id[XL_HASH_BYTES], struct linker_submission *out,
                        char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, S_FIND_INPUT);

    sqlite3_bind_text(s, 1, agency, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, dataset, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, input_id, XL_HASH_BYTES, SQLITE_STATIC);
    return s_one(st, s, out, err, errlen);
}

int
linker_store_create(struct linker_store *st, const struct linker_submission *sub,
                    const char *attributes, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    int rc;

    if (sub->record_count == 0 || sub->record_count > INT64_MAX || sub->chunk_records == 0)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "invalid record or chunk count");
    s = s_stmt(st, S_INSERT);
    sqlite3_bind_blob(s, 1, sub->id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, sub->agency, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, sub->dataset, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, sub->key_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, sub->source[0] != '\0' ? sub->source : "network", -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 6, sub->spec, XL_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, sub->epoch);
    sqlite3_bind_int64(s, 8, (sqlite3_int64)sub->record_count);
    sqlite3_bind_blob(s, 9, sub->content_hash, XL_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 10, sub->chunk_records);
    sqlite3_bind_int(s, 11, sub->one_per_person ? 1 : 0);
    sqlite3_bind_text(s, 12, attributes != NULL ? attributes : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 13, sub->created);
    if (sub->has_input)
        sqlite3_bind_blob(s, 14, sub->input_id, XL_HASH_BYTES, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 14);
    if (sub->has_payload_key)
        sqlite3_bind_blob(s, 15, sub->payload_key, XL_PAYLOAD_KEY, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 15);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc == SQLITE_CONSTRAINT)
        return xl_err_set(err, errlen, XL_ERR_EXISTS, "%s: submission id already in use", st->path);
    if (rc != SQLITE_DONE)
        return s_dberr(st, rc, "insert submission", err, errlen);
    return 0;
}

int
linker_store_put_chunk(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES], uint64_t seq,
                       uint64_t nrecords, const uint8_t *data, size_t len, const uint8_t *cols,
                       size_t colslen, struct linker_chunk_result *res, char *err, size_t errlen)
{
    struct linker_submission sub;
    char what[64];
    sqlite3_stmt *s;
    int r;

    memset(res, 0, sizeof *res);
    if (len > INT32_MAX || colslen > INT32_MAX)
        return xl_err_set(err, errlen, XL_ERR_TOOBIG, "chunk of %zu bytes is too big",
                          len > colslen ? len : colslen);
    r = s_tx_begin(st, err, errlen);
    if (r != 0)
        return r;
    r = linker_store_get(st, id, &sub, err, errlen);
    if (r != 0) {
        if (r == XL_ERR_NOTFOUND)
            xl_err_set(err, errlen, r, "no such submission");
        goto fail;
    }
    res->next_seq = sub.next_seq;
    res->records_stored = sub.records_stored;
    if (seq < sub.next_seq) {
        /* A resend after a lost ack: already durable. */
        res->duplicate = 1;
        s_tx_rollback(st);
        return 0;
    }
    if (sub.state != LINKER_OPEN) {
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH, "submission is %s, not open",
                       linker_state_name(sub.state));
        goto fail;
    }
    if (seq > sub.next_seq) {
        r = xl_err_set(err, errlen, XL_ERR_SEQUENCE, "chunk %llu out of sequence: expected %llu",
                       (unsigned long long)seq, (unsigned long long)sub.next_seq);
        goto fail;
    }
    if (nrecords == 0) {
        r = xl_err_set(err, errlen, XL_ERR_INVALID, "chunk %llu has no records",
                       (unsigned long long)seq);
        goto fail;
    }
    if (nrecords > sub.chunk_records) {
        r = xl_err_set(err, errlen, XL_ERR_TOOBIG,
                       "chunk %llu has %llu records, more than the %u agreed at begin",
                       (unsigned long long)seq, (unsigned long long)nrecords, sub.chunk_records);
        goto fail;
    }
    if (nrecords > sub.record_count - sub.records_stored) {
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                       "chunk %llu would bring the submission to %llu records, more than the "
                       "%llu begun",
                       (unsigned long long)seq, (unsigned long long)(sub.records_stored + nrecords),
                       (unsigned long long)sub.record_count);
        goto fail;
    }
    s = s_stmt(st, S_CHUNK_INSERT);
    sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)seq);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)nrecords);
    sqlite3_bind_blob(s, 4, data, (int)len, SQLITE_STATIC);
    r = s_run(st, S_CHUNK_INSERT, "insert chunk", err, errlen);
    if (r != 0)
        goto fail;
    if (st->columns_kept) {
        s = s_stmt(st, S_COLUMNS_INSERT);
        sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)seq);
        sqlite3_bind_blob(s, 3, cols, (int)colslen, SQLITE_STATIC);
        r = s_run(st, S_COLUMNS_INSERT, "insert chunk columns", err, errlen);
        if (r != 0)
            goto fail;
    }
    s = s_stmt(st, S_PROGRESS);
    sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)(seq + 1));
    sqlite3_bind_int64(s, 3, (sqlite3_int64)(sub.records_stored + nrecords));
    r = s_run(st, S_PROGRESS, "update progress", err, errlen);
    if (r != 0)
        goto fail;
    snprintf(what, sizeof what, "store chunk %llu", (unsigned long long)seq);
    r = s_tx_commit(st, what, err, errlen);
    if (r != 0)
        return r;
    res->next_seq = seq + 1;
    res->records_stored = sub.records_stored + nrecords;
    return 0;
fail:
    s_tx_rollback(st);
    return r;
}

/* Counts the length-prefixed records in data; -1 when they do not fill it exactly. */
static int64_t
s_count_records(const uint8_t *data, size_t len)
{
    const uint8_t *rec;
    size_t off = 0, rl;
    int64_t n = 0;
    int more;

    while ((more = xl_stored_next(data, len, &off, &rec, &rl)) == 1)
        n++;
    return more < 0 ? -1 : n;
}

/* Calls each for every record of one chunk's data, which must hold want of
 * them, numbering them on from *index. */
static int
s_chunk_each(struct linker_store *st, const uint8_t *data, size_t len, int64_t want,
             uint64_t *index,
             int (*each)(void *ctx, uint64_t index, const uint8_t *rec, size_t len), void *ctx,
             char *err, size_t errlen)
{
    const uint8_t *rec;
    size_t off = 0, rl;
    int r;

    if (s_count_records(data, len) != want)
        return xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: a chunk of a submission is damaged",
                          st->path);
    while (xl_stored_next(data, len, &off, &rec, &rl) == 1) {
        r = each(ctx, (*index)++, rec, rl);
        if (r != 0)
            return r;
    }
    return 0;
}

int
linker_store_content_hash(struct linker_store *st, const struct linker_submission *sub,
                          uint8_t hash[XL_HASH_BYTES], uint64_t *chunks, uint64_t *records,
                          char *err, size_t errlen)
{
    struct xl_content_hash h;
    sqlite3_stmt *s;
    uint64_t nc = 0, nr = 0;
    int rc, r = 0;

    *chunks = 0;
    *records = 0;
    memset(hash, 0, XL_HASH_BYTES);
    xl_content_hash_init(&h, sub->payload_key, sub->has_payload_key ? XL_PAYLOAD_KEY : 0);
    s = s_stmt(st, S_CHUNKS);
    sqlite3_bind_blob(s, 1, sub->id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const uint8_t *data = sqlite3_column_blob(s, 2);
        size_t len = (size_t)sqlite3_column_bytes(s, 2);
        int64_t want = sqlite3_column_int64(s, 1);
        if ((uint64_t)sqlite3_column_int64(s, 0) != nc || s_count_records(data, len) != want) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT,
                           "%s: chunk %llu of a submission is damaged (sequence or records)",
                           st->path, (unsigned long long)nc);
            break;
        }
        if (len > 0)
            xl_content_hash_add_stored(&h, data, len);
        nc++;
        nr += (uint64_t)want;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = s_dberr(st, rc, "read chunks", err, errlen);
    sqlite3_reset(s);
    xl_content_hash_final(&h, hash);
    if (r != 0) {
        memset(hash, 0, XL_HASH_BYTES);
        return r;
    }
    *chunks = nc;
    *records = nr;
    return 0;
}

int
linker_store_commit(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES], int64_t when,
                    const struct linker_commit_hooks *hooks, char *err, size_t errlen)
{
    uint8_t(*old)[LINKER_SUBID_BYTES] = NULL;
    size_t nold = 0, capold = 0;
    struct linker_submission sub;
    uint8_t *receipt = NULL;
    size_t receiptlen = 0;
    sqlite3_stmt *s;
    int r, rc;

    r = s_tx_begin(st, err, errlen);
    if (r != 0)
        return r;
    r = linker_store_get(st, id, &sub, err, errlen);
    if (r != 0) {
        if (r == XL_ERR_NOTFOUND)
            xl_err_set(err, errlen, r, "no such submission");
        goto fail;
    }
    if (sub.state != LINKER_OPEN) {
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH, "submission is %s, not open",
                       linker_state_name(sub.state));
        goto fail;
    }
    if (sub.records_stored != sub.record_count) {
        r = xl_err_set(err, errlen, XL_ERR_MISMATCH,
                       "%llu of %llu records stored: the submission is not complete",
                       (unsigned long long)sub.records_stored,
                       (unsigned long long)sub.record_count);
        goto fail;
    }
    /* Earlier snapshots of the same dataset, to supersede. */
    s = s_stmt(st, S_CURRENT);
    sqlite3_bind_text(s, 1, sub.agency, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, sub.dataset, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (nold == capold) {
            size_t ncap = capold == 0 ? 4 : 2 * capold;
            void *p = realloc(old, ncap * sizeof *old);
            if (p == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            old = p;
            capold = ncap;
        }
        if (s_copy_blob(s, 0, old[nold], LINKER_SUBID_BYTES) == 0)
            nold++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) {
        r = rc == SQLITE_NOMEM ? xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory")
                               : s_dberr(st, rc, "find current submissions", err, errlen);
        goto fail;
    }
    for (size_t i = 0; i < nold; i++) {
        s = s_stmt(st, S_SUPERSEDE);
        sqlite3_bind_blob(s, 1, old[i], LINKER_SUBID_BYTES, SQLITE_STATIC);
        r = s_run(st, S_SUPERSEDE, "supersede", err, errlen);
        if (r != 0)
            goto fail;
    }
    s = s_stmt(st, S_MARK_COMMITTED);
    sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, when);
    r = s_run(st, S_MARK_COMMITTED, "mark committed", err, errlen);
    if (r == 0) {
        s_stmt(st, S_COUNT_COMMIT);
        r = s_run(st, S_COUNT_COMMIT, "count the commit", err, errlen);
    }
    if (r != 0)
        goto fail;
    sub.state = LINKER_COMMITTED;
    sub.committed = when;
    r = hooks->seal(hooks->ctx, &sub, (const uint8_t(*)[LINKER_SUBID_BYTES])old, nold, &receipt,
                    &receiptlen, err, errlen);
    if (r != 0)
        goto fail;
    if (receipt == NULL || receiptlen == 0 || receiptlen > INT32_MAX) {
        r = xl_err_set(err, errlen, XL_ERR_INTERNAL, "no receipt to store");
        goto fail;
    }
    s = s_stmt(st, S_SET_RECEIPT);
    sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, receipt, (int)receiptlen, SQLITE_STATIC);
    r = s_run(st, S_SET_RECEIPT, "store receipt", err, errlen);
    if (r != 0)
        goto fail;
    r = s_tx_commit(st, "commit the submission", err, errlen);
    free(receipt);
    free(old);
    return r;
fail:
    s_tx_rollback(st);
    free(receipt);
    free(old);
    return r;
}

/* A single blob or text column of the row of id, copied into *out (malloc'd,
 * NUL-terminated beyond *outlen). */
static int
s_column(struct linker_store *st, int which, const uint8_t id[LINKER_SUBID_BYTES], uint8_t **out,
         size_t *outlen, const char *what, char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, which);
    int rc, r = 0;

    *out = NULL;
    *outlen = 0;
    sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        const void *p = sqlite3_column_blob(s, 0);
        size_t n = (size_t)sqlite3_column_bytes(s, 0);
        uint8_t *buf = malloc(n + 1);
        if (buf == NULL) {
            r = xl_err_set(err, errlen, XL_ERR_NOMEM, "out of memory");
        } else {
            if (n > 0)
                memcpy(buf, p, n);
            buf[n] = '\0';
            *out = buf;
            *outlen = n;
        }
    } else if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        r = xl_err_set(err, errlen, XL_ERR_NOTFOUND, "submission has no %s", what);
    } else {
        r = s_dberr(st, rc, what, err, errlen);
    }
    sqlite3_reset(s);
    return r;
}

int
linker_store_receipt(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES], uint8_t **out,
                     size_t *outlen, char *err, size_t errlen)
{
    return s_column(st, S_RECEIPT, id, out, outlen, "receipt", err, errlen);
}

int
linker_store_attributes(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES], char **out,
                        char *err, size_t errlen)
{
    size_t n;

    return s_column(st, S_ATTRIBUTES, id, (uint8_t **)out, &n, "attributes", err, errlen);
}

/* fn for each submission the prepared (and bound) statement s yields; what
 * names the reading in an error. */
static int
s_each_submission(struct linker_store *st, sqlite3_stmt *s,
                  int (*fn)(void *ctx, const struct linker_submission *sub), void *ctx,
                  const char *what, char *err, size_t errlen)
{
    struct linker_submission sub;
    int rc, r = 0;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        r = s_row(st, s, &sub, err, errlen);
        if (r == 0)
            r = fn(ctx, &sub);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = s_dberr(st, rc, what, err, errlen);
    sqlite3_reset(s);
    return r;
}

int
linker_store_foreach_submission(struct linker_store *st,
                                int (*fn)(void *ctx, const struct linker_submission *sub),
                                void *ctx, char *err, size_t errlen)
{
    return s_each_submission(st, s_stmt(st, S_ALL), fn, ctx, "list submissions", err, errlen);
}

/* Reads the whole blob of table.column at rowid into *buf (grown as needed),
 * through one handle reused from row to row: a blob fetched with its row comes
 * in memory fresh each time, cleared page by page by the kernel, which cost
 * more than the reading. */
static int
s_blob_read(struct linker_store *st, sqlite3_blob **h, const char *db, const char *table,
            const char *column, sqlite3_int64 rowid, uint8_t **buf, size_t *cap, size_t *len)
{
    int rc = *h == NULL ? sqlite3_blob_open(st->db, db, table, column, rowid, 0, h)
                        : sqlite3_blob_reopen(*h, rowid);

    if (rc != SQLITE_OK)
        return rc;
    *len = (size_t)sqlite3_blob_bytes(*h);
    if (*len > *cap) {
        uint8_t *p = realloc(*buf, *len);
        if (p == NULL)
            return SQLITE_NOMEM;
        *buf = p;
        *cap = *len;
    }
    return *len > 0 ? sqlite3_blob_read(*h, *buf, (int)*len, 0) : SQLITE_OK;
}

int
linker_store_foreach_columns(struct linker_store *st, uint32_t epoch,
                             int (*fn)(void *ctx, const struct linker_submission *sub,
                                       uint64_t first, uint64_t n, const uint8_t *cols, size_t len),
                             void *ctx, char *err, size_t errlen)
{
    struct linker_submission sub;
    struct linker_columns_buf made = {0};
    sqlite3_stmt *s = s_stmt(st, S_COLUMNS);
    sqlite3_blob *colh = NULL, *chunkh = NULL;
    uint8_t *buf = NULL;
    size_t cap = 0;
    uint64_t first = 0;
    int rc, r = 0, have = 0;

    memset(&sub, 0, sizeof sub);
    sqlite3_bind_int64(s, 1, epoch);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const uint8_t *id = sqlite3_column_blob(s, 0), *data;
        int64_t seq = sqlite3_column_int64(s, S_NCOLS);
        int64_t n = sqlite3_column_int64(s, S_NCOLS + 1);
        int cached = sqlite3_column_type(s, S_NCOLS + 2) != SQLITE_NULL;
        sqlite3_int64 colrow = sqlite3_column_int64(s, S_NCOLS + 2);
        sqlite3_int64 chunkrow = sqlite3_column_int64(s, S_NCOLS + 3);
        size_t len;

        if (!have || id == NULL || sqlite3_column_bytes(s, 0) != LINKER_SUBID_BYTES ||
            memcmp(id, sub.id, LINKER_SUBID_BYTES) != 0) {
            r = s_row(st, s, &sub, err, errlen);
            if (r != 0)
                break;
            have = 1;
            first = 0;
        }
        if (cached) {
            rc = s_blob_read(st, &colh, "cols", "chunk_columns", "data", colrow, &buf, &cap, &len);
            data = buf;
        } else {
            /* None kept (a crash lost them, or a read-only store): made from
             * the chunk's records, as ingest makes them. */
            rc = s_blob_read(st, &chunkh, "main", "chunks", "data", chunkrow, &buf, &cap, &len);
            if (rc == SQLITE_OK) {
                int c = linker_columns_from_packed(&made, buf, len, &data, &len);
                if (c != 0) {
                    r = xl_err_set(err, errlen, c == XL_ERR_NOMEM ? c : XL_ERR_FORMAT,
                                   "%s: chunk %lld of %s/%s: %s", st->path, (long long)seq,
                                   sub.agency, sub.dataset,
                                   c == XL_ERR_NOMEM ? "out of memory"
                                                     : "its records do not unpack (damaged)");
                    break;
                }
            }
        }
        if (rc != SQLITE_OK) {
            r = s_dberr(st, rc, "read link columns", err, errlen);
            break;
        }
        r = fn(ctx, &sub, first, n > 0 ? (uint64_t)n : 0, data, len);
        if (r != 0)
            break;
        first += n > 0 ? (uint64_t)n : 0;
        rc = SQLITE_ROW;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = s_dberr(st, rc, "read link columns", err, errlen);
    sqlite3_blob_close(colh);
    sqlite3_blob_close(chunkh);
    sqlite3_reset(s);
    linker_columns_free(&made);
    free(buf);
    return r;
}

int
linker_store_run_save(struct linker_store *st, const struct linker_run_row *run, const char *params,
                      const struct linker_run_record *recs, size_t nrecs,
                      const struct linker_run_conflict *conf, size_t nconf, int64_t *run_id,
                      char *err, size_t errlen)
{
    sqlite3_stmt *s;
    int64_t id;
    int r, rc;

    r = s_tx_begin(st, err, errlen);
    if (r != 0)
        return r;
    s = s_stmt(st, S_RUN_INSERT);
    sqlite3_bind_int64(s, 1, run->started);
    sqlite3_bind_int64(s, 2, run->finished);
    sqlite3_bind_int64(s, 3, run->epoch);
    sqlite3_bind_blob(s, 4, run->spec, XL_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, (int64_t)run->records);
    sqlite3_bind_int64(s, 6, (int64_t)run->links);
    sqlite3_bind_int64(s, 7, (int64_t)run->clusters);
    sqlite3_bind_int64(s, 8, (int64_t)run->possible);
    sqlite3_bind_int64(s, 9, (int64_t)run->conflicts);
    sqlite3_bind_blob(s, 10, run->cluster_hash, XL_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(s, 11, params, -1, SQLITE_STATIC);
    r = s_run(st, S_RUN_INSERT, "record the link run", err, errlen);
    if (r != 0)
        goto fail;
    id = sqlite3_last_insert_rowid(st->db);
    s = s_stmt(st, S_META_SET);
    sqlite3_bind_text(s, 1, "commits_linked", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)run->commits);
    r = s_run(st, S_META_SET, "record what the run linked", err, errlen);
    if (r == 0) {
        s = s_stmt(st, S_META_SET);
        sqlite3_bind_text(s, 1, "next_entity", -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, (int64_t)run->next_entity);
        r = s_run(st, S_META_SET, "record the next entity id", err, errlen);
    }
    if (r != 0)
        goto fail;
    /* Only the latest run's clusters are kept: older ones are superseded. */
    s = s_stmt(st, S_RUN_PRUNE);
    sqlite3_bind_int64(s, 1, id);
    r = s_run(st, S_RUN_PRUNE, "prune old link results", err, errlen);
    if (r == 0) {
        s = s_stmt(st, S_RUN_PRUNE_CONFLICTS);
        sqlite3_bind_int64(s, 1, id);
        r = s_run(st, S_RUN_PRUNE_CONFLICTS, "prune old conflicts", err, errlen);
    }
    if (r != 0)
        goto fail;
    for (size_t i = 0; i < nrecs; i++) {
        const struct linker_run_record *x = &recs[i];
        s = s_stmt(st, S_RUN_RECORD);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_blob(s, 2, x->submission, LINKER_SUBID_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, (int64_t)x->index);
        sqlite3_bind_int64(s, 4, (int64_t)x->cluster);
        if (x->linked) {
            sqlite3_bind_int(s, 5, x->level);
            sqlite3_bind_double(s, 6, x->score);
        }
        sqlite3_bind_blob(s, 7, x->ref, XL_REF_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(s, 8, (int64_t)x->entity[LINKER_GRAPH_IDENTIFIER]);
        sqlite3_bind_int64(s, 9, (int64_t)x->entity[LINKER_GRAPH_KEYS]);
        sqlite3_bind_int64(s, 10, (int64_t)x->entity[LINKER_GRAPH_ALL]);
        rc = sqlite3_step(s);
        if (rc != SQLITE_DONE) {
            r = s_dberr(st, rc, "store a link result", err, errlen);
            goto fail;
        }
    }
    for (size_t i = 0; i < nconf; i++) {
        const struct linker_run_conflict *c = &conf[i];
        s = s_stmt(st, S_RUN_CONFLICT);
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_blob(s, 2, c->submission_a, LINKER_SUBID_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, (int64_t)c->index_a);
        sqlite3_bind_blob(s, 4, c->ref_a, XL_REF_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(s, 5, c->submission_b, LINKER_SUBID_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, (int64_t)c->index_b);
        sqlite3_bind_blob(s, 7, c->ref_b, XL_REF_BYTES, SQLITE_STATIC);
        sqlite3_bind_text(s, 8, c->kind, -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 9, c->level);
        sqlite3_bind_double(s, 10, c->score);
        rc = sqlite3_step(s);
        if (rc != SQLITE_DONE) {
            r = s_dberr(st, rc, "store a conflict", err, errlen);
            goto fail;
        }
    }
    r = s_tx_commit(st, "store the link run", err, errlen);
    if (r == 0 && run_id != NULL)
        *run_id = id;
    return r;
fail:
    s_tx_rollback(st);
    return r;
}

int
linker_store_run_last(struct linker_store *st, struct linker_run_row *out, char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, S_RUN_LAST);
    int rc = sqlite3_step(s), r = 0;

    memset(out, 0, sizeof *out);
    if (rc == SQLITE_ROW) {
        out->run = sqlite3_column_int64(s, 0);
        out->started = sqlite3_column_int64(s, 1);
        out->finished = sqlite3_column_int64(s, 2);
        out->epoch = (uint32_t)sqlite3_column_int64(s, 3);
        out->records = (uint64_t)sqlite3_column_int64(s, 4);
        out->links = (uint64_t)sqlite3_column_int64(s, 5);
        out->clusters = (uint64_t)sqlite3_column_int64(s, 6);
        out->possible = (uint64_t)sqlite3_column_int64(s, 7);
        out->conflicts = (uint64_t)sqlite3_column_int64(s, 8);
        (void)s_copy_blob(s, 9, out->cluster_hash, XL_HASH_BYTES);
        (void)s_copy_blob(s, 10, out->spec, XL_HASH_BYTES);
    } else if (rc == SQLITE_DONE) {
        r = XL_ERR_NOTFOUND;
    } else {
        r = s_dberr(st, rc, "read the last link run", err, errlen);
    }
    sqlite3_reset(s);
    return r;
}

int
linker_store_run_conflicts(struct linker_store *st,
                           int (*fn)(void *ctx, const struct linker_conflict_row *row), void *ctx,
                           char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, S_RUN_CONFLICTS);
    struct linker_conflict_row row;
    int rc, r = 0;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&row, 0, sizeof row);
        s_copy_text(row.agency_a, sizeof row.agency_a, sqlite3_column_text(s, 0));
        s_copy_text(row.dataset_a, sizeof row.dataset_a, sqlite3_column_text(s, 1));
        s_copy_text(row.agency_b, sizeof row.agency_b, sqlite3_column_text(s, 3));
        s_copy_text(row.dataset_b, sizeof row.dataset_b, sqlite3_column_text(s, 4));
        s_copy_text(row.kind, sizeof row.kind, sqlite3_column_text(s, 6));
        if (s_copy_blob(s, 2, row.ref_a, XL_REF_BYTES) != 0 ||
            s_copy_blob(s, 5, row.ref_b, XL_REF_BYTES) != 0) {
            r = xl_err_set(err, errlen, XL_ERR_FORMAT, "%s: a conflict row is malformed", st->path);
            break;
        }
        row.level = sqlite3_column_int(s, 7);
        row.score = sqlite3_column_double(s, 8);
        r = fn(ctx, &row);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = s_dberr(st, rc, "read conflicts", err, errlen);
    sqlite3_reset(s);
    return r;
}

int
linker_store_checkpoint(struct linker_store *st, char *err, size_t errlen)
{
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);

    /* BUSY: a reader (a link run, status) holds the WAL; the next idle moment
     * or the automatic checkpoint will do it. */
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return s_dberr(st, rc, "checkpoint", err, errlen);
    return 0;
}

/* A counter of the meta table (0 when never set). */
static int
s_meta(struct linker_store *st, const char *name, uint64_t *out, char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, S_META);
    int rc;

    *out = 0;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return s_dberr(st, rc, "read a counter", err, errlen);
    return 0;
}

int
linker_store_commits(struct linker_store *st, uint64_t *commits, char *err, size_t errlen)
{
    return s_meta(st, "commits", commits, err, errlen);
}

int
linker_store_link_owed(struct linker_store *st, int *owed, char *err, size_t errlen)
{
    uint64_t commits, linked;
    int r;

    *owed = 0;
    r = s_meta(st, "commits", &commits, err, errlen);
    if (r == 0)
        r = s_meta(st, "commits_linked", &linked, err, errlen);
    if (r == 0)
        *owed = commits > linked;
    return r;
}

int
linker_store_discard(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES], char *err,
                     size_t errlen)
{
    sqlite3_stmt *s;
    int r;

    r = s_tx_begin(st, err, errlen);
    if (r != 0)
        return r;
    s = s_stmt(st, S_COLUMNS_DISCARD);
    sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    r = s_run(st, S_COLUMNS_DISCARD, "discard link columns", err, errlen);
    s = s_stmt(st, S_DISCARD_CHUNKS);
    sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    if (r == 0)
        r = s_run(st, S_DISCARD_CHUNKS, "discard chunks", err, errlen);
    if (r == 0) {
        s = s_stmt(st, S_DISCARD);
        sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
        r = s_run(st, S_DISCARD, "discard a submission", err, errlen);
    }
    if (r == 0 && sqlite3_changes(st->db) != 1)
        r = xl_err_set(err, errlen, XL_ERR_NOTFOUND, "no open submission to discard");
    if (r != 0) {
        s_tx_rollback(st);
        return r;
    }
    return s_tx_commit(st, "discard a submission", err, errlen);
}

int
linker_store_next_entity(struct linker_store *st, uint64_t *next, char *err, size_t errlen)
{
    int r = s_meta(st, "next_entity", next, err, errlen);

    if (r == 0 && *next == 0)
        *next = 1; /* 0 means "none" */
    return r;
}

int
linker_store_run_entities(struct linker_store *st,
                          int (*fn)(void *ctx, const char *agency, const char *dataset,
                                    const uint8_t *ref, const uint64_t entity[LINKER_GRAPHS]),
                          void *ctx, char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, S_RUN_ENTITIES);
    int rc, r = 0;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *agency = (const char *)sqlite3_column_text(s, 0);
        const char *dataset = (const char *)sqlite3_column_text(s, 1);
        const uint8_t *ref = sqlite3_column_blob(s, 2);
        uint64_t e[LINKER_GRAPHS];
        if (agency == NULL || dataset == NULL || ref == NULL ||
            sqlite3_column_bytes(s, 2) != XL_REF_BYTES)
            continue; /* a result of another version: no entity to carry */
        for (int g = 0; g < LINKER_GRAPHS; g++)
            e[g] = (uint64_t)sqlite3_column_int64(s, 3 + g);
        r = fn(ctx, agency, dataset, ref, e);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = s_dberr(st, rc, "read the entities of the latest run", err, errlen);
    sqlite3_reset(s);
    return r;
}

int
linker_store_run_submissions(struct linker_store *st, int64_t run,
                             int (*fn)(void *ctx, const struct linker_submission *sub), void *ctx,
                             char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, S_RUN_SUBMISSIONS);

    sqlite3_bind_int64(s, 1, run);
    return s_each_submission(st, s, fn, ctx, "read the submissions of a link run", err, errlen);
}

int
linker_store_run_rows(struct linker_store *st, int64_t run, const uint8_t id[LINKER_SUBID_BYTES],
                      int (*fn)(void *ctx, uint64_t index, int level,
                                const uint64_t entity[LINKER_GRAPHS]),
                      void *ctx, char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, S_RUN_ROWS);
    int rc, r = 0;

    sqlite3_bind_int64(s, 1, run);
    sqlite3_bind_blob(s, 2, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        uint64_t e[LINKER_GRAPHS];
        int level = sqlite3_column_type(s, 1) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 1);
        for (int g = 0; g < LINKER_GRAPHS; g++)
            e[g] = (uint64_t)sqlite3_column_int64(s, 2 + g);
        r = fn(ctx, (uint64_t)sqlite3_column_int64(s, 0), level, e);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = s_dberr(st, rc, "read the results of a link run", err, errlen);
    sqlite3_reset(s);
    return r;
}

int
linker_store_submission_records(struct linker_store *st, const uint8_t id[LINKER_SUBID_BYTES],
                                int (*fn)(void *ctx, uint64_t index, const uint8_t *rec,
                                          size_t len),
                                void *ctx, char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, S_CHUNKS);
    uint64_t index = 0;
    int rc, r = 0;

    sqlite3_bind_blob(s, 1, id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        r = s_chunk_each(st, sqlite3_column_blob(s, 2), (size_t)sqlite3_column_bytes(s, 2),
                         sqlite3_column_int64(s, 1), &index, fn, ctx, err, errlen);
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = s_dberr(st, rc, "read records", err, errlen);
    sqlite3_reset(s);
    return r;
}

int
linker_store_snapshot(struct linker_store *st, int begin, char *err, size_t errlen)
{
    int rc = sqlite3_exec(st->db, begin ? "BEGIN DEFERRED" : "COMMIT", NULL, NULL, NULL);

    if (rc == SQLITE_OK && begin) {
        /* A deferred transaction takes its snapshot at the first read. */
        sqlite3_stmt *s = s_stmt(st, S_META);
        sqlite3_bind_text(s, 1, "commits", -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    return rc == SQLITE_OK ? 0
                           : s_dberr(st, rc, begin ? "begin reading" : "end reading", err, errlen);
}

int
linker_store_purge_due(struct linker_store *st, int64_t before,
                       int (*fn)(void *ctx, const struct linker_submission *sub), void *ctx,
                       char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, S_PURGE_DUE);

    sqlite3_bind_int64(s, 1, before);
    return s_each_submission(st, s, fn, ctx, "list submissions to purge", err, errlen);
}

int
linker_store_purge(struct linker_store *st, const struct linker_submission *sub, int64_t when,
                   char *err, size_t errlen)
{
    sqlite3_stmt *s;
    int r;

    if (sub->state == LINKER_OPEN)
        return linker_store_discard(st, sub->id, err, errlen);
    if (sub->state != LINKER_SUPERSEDED)
        return xl_err_set(err, errlen, XL_ERR_INVALID, "only superseded submissions are purged");
    r = s_tx_begin(st, err, errlen);
    if (r != 0)
        return r;
    s = s_stmt(st, S_COLUMNS_DISCARD);
    sqlite3_bind_blob(s, 1, sub->id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    r = s_run(st, S_COLUMNS_DISCARD, "purge link columns", err, errlen);
    s = s_stmt(st, S_DISCARD_CHUNKS);
    sqlite3_bind_blob(s, 1, sub->id, LINKER_SUBID_BYTES, SQLITE_STATIC);
    if (r == 0)
        r = s_run(st, S_DISCARD_CHUNKS, "purge chunks", err, errlen);
    if (r == 0) {
        s = s_stmt(st, S_PURGE_MARK);
        sqlite3_bind_blob(s, 1, sub->id, LINKER_SUBID_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, when);
        r = s_run(st, S_PURGE_MARK, "mark a submission purged", err, errlen);
    }
    if (r != 0) {
        s_tx_rollback(st);
        return r;
    }
    return s_tx_commit(st, "purge a submission", err, errlen);
}

/* The database's free pages (0 when it cannot tell). */
static int64_t
s_freelist(struct linker_store *st)
{
    sqlite3_stmt *v = NULL;
    int64_t n = 0;

    if (sqlite3_prepare_v2(st->db, "PRAGMA freelist_count", -1, &v, NULL) == SQLITE_OK &&
        sqlite3_step(v) == SQLITE_ROW)
        n = sqlite3_column_int64(v, 0);
    sqlite3_finalize(v);
    return n;
}

int
linker_store_reclaim(struct linker_store *st, int *vacuumed, char *err, size_t errlen)
{
    int rc;

    *vacuumed = 0;
    /* With auto_vacuum (a database this linker created) the free pages go
     * back at once. A database made before that keeps them: VACUUM it once,
     * which also turns auto_vacuum on (set when it was opened); it needs
     * free disk space for a copy of the database. */
    rc = sqlite3_exec(st->db, "PRAGMA incremental_vacuum; PRAGMA cols.incremental_vacuum", NULL,
                      NULL, NULL);
    if (rc == SQLITE_OK && s_freelist(st) > 0) {
        rc = sqlite3_exec(st->db, "PRAGMA auto_vacuum = INCREMENTAL; VACUUM", NULL, NULL, NULL);
        *vacuumed = rc == SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        return s_dberr(st, rc, "give the purged space back", err, errlen);
    /* The file's new size is what the filesystem sees once the WAL is emptied. */
    return linker_store_checkpoint(st, err, errlen);
}

int
linker_store_storage(struct linker_store *st,
                     int (*fn)(void *ctx, const char *agency, enum linker_state state,
                               uint64_t submissions, uint64_t bytes),
                     void *ctx, char *err, size_t errlen)
{
    sqlite3_stmt *s = s_stmt(st, S_STORAGE);
    enum linker_state state;
    int rc, r = 0;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (s_state_parse((const char *)sqlite3_column_text(s, 1), &state) != 0)
            continue;
        r = fn(ctx, (const char *)sqlite3_column_text(s, 0), state,
               (uint64_t)sqlite3_column_int64(s, 2), (uint64_t)sqlite3_column_int64(s, 3));
        if (r != 0)
            break;
    }
    if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
        r = s_dberr(st, rc, "sum the storage", err, errlen);
    sqlite3_reset(s);
    return r;
}
