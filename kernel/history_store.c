/* The history's store: the SQLite file (its place, mode 0600, schema, WAL so that several kernels
 * write at once), this kernel's session, the writes of cells and outputs, pruning to the limit,
 * and what happens when the file fails. A file that cannot be used at all gives way to a database
 * in memory (the cells' history still answers for this kernel); a write that fails (a full disk,
 * a read-only file, another kernel holding the lock past HISTORY_BUSY_MS) drops that one entry.
 * Either is said once on the cell's stderr (history_take_notice) and in the log, and never fails
 * a cell. A kill mid-write is SQLite's to survive: every write is one transaction. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/files.h"
#include "common/log.h"
#include "common/utf8.h"
#include "history_internal.h"

/* The page cache bounds what a kernel keeps of the file, whatever its size (KiB). */
#define HISTORY_CACHE_KIB 256

static const char schema[] =
    "BEGIN IMMEDIATE;"
    /* IPython's shape: a session per kernel run, numbered cells within it */
    "CREATE TABLE IF NOT EXISTS sessions (session INTEGER PRIMARY KEY AUTOINCREMENT,"
    " start TIMESTAMP, end TIMESTAMP, num_cmds INTEGER, remark TEXT);"
    /* id: the order cells were stored in, so pruning the oldest is a range delete */
    "CREATE TABLE IF NOT EXISTS history (id INTEGER PRIMARY KEY, session INTEGER NOT NULL,"
    " line INTEGER NOT NULL, source TEXT NOT NULL, output TEXT, UNIQUE (session, line));"
    "PRAGMA user_version = 1;"
    "COMMIT;";

char *history_capped(const char *text, size_t len, size_t max, size_t *out_len)
{
    char note[96] = "";
    size_t keep = len;
    if (len > max) {
        keep = utf8_cut(text, len, max);
        snprintf(note, sizeof note, "\n# [warden: cut at %zu KiB; %zu more bytes not stored]",
                 max >> 10, len - keep);
    }
    size_t note_len = strlen(note);
    char *copy = malloc(keep + note_len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, text, keep);
    memcpy(copy + keep, note, note_len + 1);
    *out_len = keep + note_len;
    return copy;
}

static void say(struct history *history, const char *text)
{
    log_warn("%s", text);
    size_t used = history->notice_pending ? strlen(history->notice) : 0;
    snprintf(history->notice + used, sizeof history->notice - used, "%s\n", text);
    history->notice_pending = true;
}

static bool is_busy(int rc) { return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED; }

void history_fail(struct history *history, int rc, const char *what)
{
    int primary = rc & 0xff;
    enum history_failure kind =
        primary == SQLITE_BUSY || primary == SQLITE_LOCKED ? HISTORY_FAIL_BUSY : HISTORY_FAIL_WRITE;
    if (history->said & kind)
        return;
    history->said |= kind;
    const char *reason = history->db ? sqlite3_errmsg(history->db) : sqlite3_errstr(rc);
    char text[PATH_MAX + 400];
    if (kind == HISTORY_FAIL_BUSY)
        snprintf(text, sizeof text,
                 "warden: history: another kernel held %s for over %d ms; %s not stored "
                 "(said once)",
                 history->path, HISTORY_BUSY_MS, what);
    else
        snprintf(text, sizeof text,
                 "warden: history: cannot write %s (%s); %s not stored (said once; cells run "
                 "as usual)",
                 history->path, reason, what);
    say(history, text);
}

const char *history_take_notice(struct history *history)
{
    if (!history || !history->notice_pending)
        return NULL;
    history->notice_pending = false;
    return history->notice;
}

/* `chosen` is kernel_config's history: a path, "off", or "" for the default place. A path to a
 * .jsonl (the format before SQLite, which kernel.history used to name) means the .sqlite beside
 * it, with the old file imported once; so does the default place. */
static void place_store(const char *chosen, char *db, size_t len, char *jsonl, size_t jsonl_len)
{
    db[0] = jsonl[0] = 0;
    if (strcmp(chosen, "off") == 0)
        return;
    if (!*chosen) {
        if (warden_data_file("history.sqlite", db, len))
            warden_data_file("history.jsonl", jsonl, jsonl_len);
        return;
    }
    size_t n = strlen(chosen);
    if (n > 6 && strcmp(chosen + n - 6, ".jsonl") == 0) {
        snprintf(jsonl, jsonl_len, "%s", chosen);
        snprintf(db, len, "%.*s.sqlite", (int)(n - 6), chosen);
    } else
        snprintf(db, len, "%s", chosen);
}

/* The file is made the user's only before SQLite opens it: its -wal and -shm files take the
 * database's mode, and what was typed into cells is private. Not a regular file (a device given
 * as the path): left alone. */
static void make_private(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return; /* read-only or missing directory: SQLite's open says what is wrong */
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        fchmod(fd, 0600);
    close(fd);
}

static int exec(sqlite3 *db, const char *sql) { return sqlite3_exec(db, sql, NULL, NULL, NULL); }

/* A file made by a newer or different program (IPython's own history.sqlite has no id column)
 * is refused rather than written into. */
static int prepare_schema(sqlite3 *db)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL);
    int version =
        rc == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    if (version < 0)
        return rc == SQLITE_OK ? sqlite3_errcode(db) : rc;
    if (version == 0 && (rc = exec(db, schema)) != SQLITE_OK) {
        exec(db, "ROLLBACK");
        return rc;
    }
    rc = sqlite3_prepare_v2(db, "SELECT id, session, line, source, output FROM history", -1, &stmt,
                            NULL);
    sqlite3_finalize(stmt);
    return rc;
}

static int start_session(struct history *history)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(
        history->db, "INSERT INTO sessions (start) VALUES (datetime('now'))", -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
        return rc == SQLITE_OK ? SQLITE_ERROR : rc;
    history->session = (int)sqlite3_last_insert_rowid(history->db);
    return SQLITE_OK;
}

/* The statement *slot, prepared the first time (NULL if it cannot be: the caller's step says
 * why), reset and its bindings cleared after each use by finish(). */
static sqlite3_stmt *statement(struct history *history, sqlite3_stmt **slot, const char *sql)
{
    if (!*slot && sqlite3_prepare_v2(history->db, sql, -1, slot, NULL) != SQLITE_OK) {
        sqlite3_finalize(*slot);
        *slot = NULL;
    }
    return *slot;
}

/* Steps a kept statement once, then readies it for the next use (the text bound to it is freed
 * now, not at the next cell). */
static int step_once(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return rc;
}

static void finalize_statements(struct history *history)
{
    sqlite3_stmt **kept[] = {&history->add_cell, &history->set_output, &history->prune};
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        sqlite3_finalize(*kept[i]);
        *kept[i] = NULL;
    }
}

/* Keeps the newest `limit` cells; ids grow with every cell stored, so this is a range delete. */
static void prune(struct history *history)
{
    history->unpruned = 0;
    sqlite3_stmt *stmt =
        statement(history, &history->prune,
                  "DELETE FROM history WHERE id <= (SELECT max(id) FROM history) - ?1");
    if (stmt) {
        sqlite3_bind_int64(stmt, 1, history->limit);
        step_once(stmt);
    }
}

static void import_old_file(struct history *history, const char *jsonl)
{
    char claimed[PATH_MAX + 16];
    snprintf(claimed, sizeof claimed, "%s.importing", jsonl);
    if (jsonl[0] && (access(jsonl, F_OK) == 0 || access(claimed, F_OK) == 0))
        history_import_start(history, jsonl);
}

/* One attempt at a database, file or memory: SQLITE_OK, or why not in `why` (db closed). */
static int open_database(struct history *history, const char *path, const char *jsonl, char *why,
                         size_t why_len)
{
    int rc = sqlite3_open_v2(
        path, &history->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(history->db, HISTORY_BUSY_MS);
        /* The last connection to close would checkpoint the log and delete it under an exclusive
         * lock, with fsyncs: on a loaded disk, long enough to make another kernel drop a cell.
         * The log stays instead (its size capped), checkpointed as it grows, beside writers. */
        sqlite3_db_config(history->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        char pragmas[200];
        snprintf(pragmas, sizeof pragmas,
                 "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                 "PRAGMA journal_size_limit = %d; PRAGMA cache_size = -%d;"
                 "PRAGMA temp_store = FILE;",
                 4 << 20, HISTORY_CACHE_KIB);
        rc = exec(history->db, pragmas);
    }
    if (rc == SQLITE_OK)
        rc = prepare_schema(history->db);
    if (rc == SQLITE_OK) {
        import_old_file(history, jsonl);
        prune(history);
        rc = start_session(history);
    }
    if (rc != SQLITE_OK) {
        snprintf(why, why_len, "%s",
                 history->db ? sqlite3_errmsg(history->db) : sqlite3_errstr(rc));
        finalize_statements(history);
        sqlite3_close_v2(history->db);
        history->db = NULL;
    }
    return rc;
}

static long ms_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Kernels that open the file at the same moment take each other's locks in ways SQLite's busy
 * handler does not wait out (two connections turning a new file to WAL deadlock, and one is told
 * "busy" at once), so opens take turns: an flock on the file's directory (not on the file, whose
 * POSIX locks are SQLite's and would be dropped by closing another descriptor of it), and a busy
 * open is tried again. Both within HISTORY_OPEN_MS; still busy (another kernel importing an old
 * file, say), this use is dropped and said, and the next use tries again, rather than giving up
 * the file for the kernel's life. */
static int open_file(struct history *history, const char *jsonl, char *why, size_t why_len)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", history->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    int dir_fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (dir_fd >= 0 && flock(dir_fd, LOCK_EX | LOCK_NB) != 0) {
        bool taken = errno == EWOULDBLOCK;
        if (!taken || ms_since(&start) >= HISTORY_OPEN_MS) {
            close(dir_fd);
            dir_fd = -1;
            if (taken) {
                snprintf(why, why_len, "another kernel is opening it");
                return SQLITE_BUSY;
            }
            break; /* no turns to take (no flock here): SQLite's own locks still hold */
        }
        sqlite3_sleep(10);
    }
    int rc;
    while (is_busy(rc = open_database(history, history->path, jsonl, why, why_len)) &&
           ms_since(&start) < HISTORY_OPEN_MS)
        sqlite3_sleep(20);
    if (dir_fd >= 0)
        close(dir_fd); /* the flock goes with it */
    return rc;
}

bool history_ensure_open(struct history *history, const char *what)
{
    if (history->opened)
        return history->db != NULL;
    char jsonl[PATH_MAX], why[256];
    place_store(history->where, history->path, sizeof history->path, jsonl, sizeof jsonl);
    if (history->path[0]) {
        make_private(history->path);
        int rc = open_file(history, jsonl, why, sizeof why);
        if (rc == SQLITE_OK)
            return history->opened = true;
        if (is_busy(rc)) {
            if (what)
                history_fail(history, rc, what);
            return false;
        }
        char text[PATH_MAX + 400];
        snprintf(text, sizeof text,
                 "warden: history: cannot use %s (%s); this kernel's history is kept in memory "
                 "only",
                 history->path, why);
        history->said |= HISTORY_FAIL_OPEN;
        say(history, text);
    }
    history->opened = true;
    history->path[0] = 0;
    return open_database(history, ":memory:", "", why, sizeof why) == SQLITE_OK;
}

void history_prepare(struct history *history)
{
    if (history)
        history_ensure_open(history, NULL);
}

struct history *history_open(const char *where, unsigned limit)
{
    struct history *history = calloc(1, sizeof *history);
    if (history) {
        snprintf(history->where, sizeof history->where, "%s", where ? where : "");
        history->limit = limit ? limit : 1;
    }
    return history;
}

void history_close(struct history *history)
{
    if (!history)
        return;
    history_import_wait(history, true);
    if (history->db) {
        sqlite3_stmt *stmt = NULL;
        if (sqlite3_prepare_v2(history->db,
                               "UPDATE sessions SET end = datetime('now'), num_cmds = ?1 "
                               "WHERE session = ?2",
                               -1, &stmt, NULL) == SQLITE_OK) {
            sqlite3_bind_int(stmt, 1, history->last_line);
            sqlite3_bind_int(stmt, 2, history->session);
            sqlite3_step(stmt);
        }
        sqlite3_finalize(stmt);
        finalize_statements(history);
        sqlite3_close_v2(history->db);
    }
    free(history);
}

/* One write through a kept statement: true when it was done; a failure is said (once per kind). */
static bool write_one(struct history *history, sqlite3_stmt *stmt, const char *what)
{
    int rc = stmt ? step_once(stmt) : sqlite3_errcode(history->db);
    if (rc == SQLITE_DONE)
        return true;
    history_fail(history, rc, what);
    return false;
}

void history_add(struct history *history, int line, const char *input)
{
    history_add_with_output(history, line, input, NULL);
}

void history_add_with_output(struct history *history, int line, const char *input,
                             const char *text_plain)
{
    char what[48];
    snprintf(what, sizeof what, "cell %d", line);
    if (!history_ensure_open(history, what))
        return;
    if (line > history->last_line)
        history->last_line = line;
    size_t len, output_len = 0;
    char *source = history_capped(input, strlen(input), HISTORY_MAX_INPUT, &len);
    char *output =
        text_plain ? history_capped(text_plain, strlen(text_plain), HISTORY_MAX_OUTPUT, &output_len)
                   : NULL;
    if (!source || (text_plain && !output)) {
        free(source);
        free(output);
        return;
    }
    sqlite3_stmt *stmt =
        statement(history, &history->add_cell,
                  "INSERT INTO history (session, line, source, output) VALUES (?1, ?2, ?3, ?4) "
                  "ON CONFLICT (session, line) DO UPDATE SET source = excluded.source, "
                  "output = excluded.output");
    if (!stmt) {
        free(source);
        free(output);
    } else {
        sqlite3_bind_int(stmt, 1, history->session);
        sqlite3_bind_int(stmt, 2, line);
        sqlite3_bind_text(stmt, 3, source, (int)len, free);
        if (output)
            sqlite3_bind_text(stmt, 4, output, (int)output_len, free);
        else
            sqlite3_bind_null(stmt, 4);
    }
    /* Pruned every hundredth of the limit (at most every 100 cells), not after every cell: a
     * prune is a write transaction of its own, six lock calls per cell for a delete that finds
     * nothing almost always. The file holds up to 1 % more cells than the limit meanwhile. */
    unsigned every = history->limit / 100 > 100 ? 100 : history->limit / 100;
    if (write_one(history, stmt, what) && ++history->unpruned >= (every ? every : 1))
        prune(history);
}

void history_set_output(struct history *history, int line, const char *text_plain)
{
    char what[48];
    snprintf(what, sizeof what, "the output of cell %d", line);
    if (!history_ensure_open(history, what))
        return;
    size_t len;
    char *output = history_capped(text_plain, strlen(text_plain), HISTORY_MAX_OUTPUT, &len);
    if (!output)
        return;
    sqlite3_stmt *stmt =
        statement(history, &history->set_output,
                  "UPDATE history SET output = ?1 WHERE session = ?2 AND line = ?3");
    if (!stmt)
        free(output);
    else {
        sqlite3_bind_text(stmt, 1, output, (int)len, free);
        sqlite3_bind_int(stmt, 2, history->session);
        sqlite3_bind_int(stmt, 3, line);
    }
    write_one(history, stmt, what);
}
