/* The one-time import of history.jsonl, the format before SQLite: one record {"s": session,
 * "l": line, "i": input} per cell, and a second record for the same cell with "o" (its output)
 * when it had one. The file is untrusted: a line that is not such a record, or longer than
 * HISTORY_IMPORT_LINE, is skipped; inputs and outputs are capped as new ones are.
 *
 * An old file can be large (the was 138 MB: about 9 s to import at full speed), and the
 * kernel's main thread must keep answering, so the import runs on a thread of its own with its
 * own connection, in short transactions (HISTORY_IMPORT_BATCH bytes each), leaving the lock free
 * between them (give_way) for this kernel's cells and other kernels'. Before it starts, the main
 * thread claims the file, in one write transaction: renamed *.importing and locked (flock) while
 * it is read, its highest session number reserved, so this kernel's session comes after every
 * old one (records of a higher session are not the old file's, and are skipped). Done, it is
 * renamed *.imported. A kernel killed mid-import leaves the claim unlocked: the next one imports
 * it again from the start, which changes nothing that is there already (every record is keyed
 * by session and line). A line at a time, so the file's size costs time, never memory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "history_internal.h"

/* The old writer's records were at most 1 MiB of input and 1 MiB of output, escaped */
#define HISTORY_IMPORT_LINE    (4u << 20)
#define HISTORY_IMPORT_BATCH   (64u << 10)
/* The import thread's own wait for the main thread's writes (short: one cell each) */
#define HISTORY_IMPORT_BUSY_MS 5000

struct history_import {
    pthread_t thread;
    bool running;
    atomic_bool stop; /* the kernel is closing: the claim stays, for the next kernel */
    int fd;           /* the claimed file, flocked while it is imported */
    long long last_session;
    unsigned limit;
    char db[PATH_MAX], claimed[PATH_MAX + 16], done[PATH_MAX + 16];
};

static bool valid_number(const json_t *n, long long max)
{
    return json_is_integer(n) && json_integer_value(n) > 0 && json_integer_value(n) <= max;
}

static int store_record(sqlite3_stmt *cell, sqlite3_stmt *session, const char *line,
                        long long last_session)
{
    json_t *record = json_loads(line, 0, NULL);
    json_t *s = json_object_get(record, "s"), *l = json_object_get(record, "l");
    const char *input = json_string_value(json_object_get(record, "i"));
    const char *output = json_string_value(json_object_get(record, "o"));
    int rc = SQLITE_DONE;
    if (input && valid_number(s, last_session) && valid_number(l, 1 << 30)) {
        size_t in_len, out_len = 0;
        char *in = history_capped(input, strlen(input), HISTORY_MAX_INPUT, &in_len);
        char *out =
            output ? history_capped(output, strlen(output), HISTORY_MAX_OUTPUT, &out_len) : NULL;
        sqlite3_bind_int64(session, 1, json_integer_value(s));
        rc = sqlite3_step(session);
        sqlite3_reset(session);
        sqlite3_bind_int64(cell, 1, json_integer_value(s));
        sqlite3_bind_int64(cell, 2, json_integer_value(l));
        sqlite3_bind_text(cell, 3, in, in ? (int)in_len : 0, free);
        if (out)
            sqlite3_bind_text(cell, 4, out, (int)out_len, free);
        else
            sqlite3_bind_null(cell, 4);
        if (rc == SQLITE_DONE && in)
            rc = sqlite3_step(cell);
        sqlite3_reset(cell);
    }
    json_decref(record);
    return rc;
}

/* Reads one line of at most `cap` - 1 bytes into buf; a longer one is skipped whole (*skipped).
 * false at the end of the file. */
static bool read_line(FILE *file, char *buf, size_t cap, bool *skipped)
{
    *skipped = false;
    if (!fgets(buf, (int)cap, file))
        return false;
    size_t len = strlen(buf);
    if (len == cap - 1 && buf[len - 1] != '\n') {
        *skipped = true;
        int c;
        while ((c = getc(file)) != EOF && c != '\n')
            ;
    }
    return true;
}

static int exec(sqlite3 *db, const char *sql) { return sqlite3_exec(db, sql, NULL, NULL, NULL); }

/* Between two batches the lock is left free for twice as long as the batch held it (10 to 200
 * ms): a writer waiting for it (this kernel's main thread, another kernel) polls with SQLite's
 * busy handler, and a lock taken again at once would starve it past its HISTORY_BUSY_MS. false
 * when the import is to stop. */
static bool give_way(struct history_import *im, struct timespec *held_since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long held_ms =
        (now.tv_sec - held_since->tv_sec) * 1000 + (now.tv_nsec - held_since->tv_nsec) / 1000000;
    long pause = 2 * held_ms < 10 ? 10 : 2 * held_ms > 200 ? 200 : 2 * held_ms;
    sqlite3_sleep((int)pause);
    clock_gettime(CLOCK_MONOTONIC, held_since);
    return !atomic_load(&im->stop);
}

/* The old file's records into `db`, HISTORY_IMPORT_BATCH at a time: SQLITE_DONE at its end. */
static int import_lines(struct history_import *im, sqlite3 *db, FILE *file, long *imported)
{
    sqlite3_stmt *cell = NULL, *session = NULL;
    char *buf = malloc(HISTORY_IMPORT_LINE);
    int rc = sqlite3_prepare_v2(
        db,
        "INSERT INTO history (session, line, source, output) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (session, line) DO UPDATE SET source = excluded.source, "
        "output = coalesce(excluded.output, output)",
        -1, &cell, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO sessions (session) VALUES (?1)", -1,
                                &session, NULL);
    if (rc == SQLITE_OK && !buf)
        rc = SQLITE_NOMEM;
    size_t batch = 0;
    bool skipped;
    struct timespec held_since;
    clock_gettime(CLOCK_MONOTONIC, &held_since);
    if (rc == SQLITE_OK)
        rc = exec(db, "BEGIN IMMEDIATE");
    while (rc == SQLITE_OK) {
        if (!read_line(file, buf, HISTORY_IMPORT_LINE, &skipped)) {
            rc = SQLITE_DONE;
            break;
        }
        if (skipped)
            continue;
        if ((rc = store_record(cell, session, buf, im->last_session)) != SQLITE_DONE)
            break;
        rc = SQLITE_OK;
        ++*imported;
        if ((batch += strlen(buf)) >= HISTORY_IMPORT_BATCH) {
            batch = 0;
            if ((rc = exec(db, "COMMIT")) == SQLITE_OK)
                rc = give_way(im, &held_since) ? exec(db, "BEGIN IMMEDIATE") : SQLITE_INTERRUPT;
        }
    }
    if (rc == SQLITE_DONE && exec(db, "COMMIT") != SQLITE_OK)
        rc = sqlite3_errcode(db);
    if (rc != SQLITE_DONE)
        exec(db, "ROLLBACK");
    sqlite3_finalize(cell);
    sqlite3_finalize(session);
    free(buf);
    return rc;
}

/* The newest `limit` cells by session and line: the imported ones came in with ids after this
 * kernel's first cells, so the pruning by id that follows every cell is put right once. */
static void prune_in_order(sqlite3 *db, unsigned limit)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(db,
                           "DELETE FROM history WHERE id IN (SELECT id FROM history ORDER BY "
                           "session DESC, line DESC LIMIT -1 OFFSET ?1)",
                           -1, &stmt, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(stmt, 1, limit);
        sqlite3_step(stmt);
    }
    sqlite3_finalize(stmt);
}

static void *import_main(void *arg)
{
    struct history_import *im = arg;
    sqlite3 *db = NULL;
    long imported = 0;
    /* a copy shares the offset, which the scan of claim() left at the end */
    int fd = fcntl(im->fd, F_DUPFD_CLOEXEC, 0);
    FILE *file = fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 ? fdopen(fd, "r") : NULL;
    int rc = file ? sqlite3_open_v2(im->db, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL)
                  : SQLITE_CANTOPEN;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, HISTORY_IMPORT_BUSY_MS);
        /* as the kernel's own connection: no fsync per commit (WAL keeps it whole through a
         * kill), else a loaded disk makes each batch hold the lock for its fsync */
        exec(db, "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -256");
        rc = import_lines(im, db, file, &imported);
    }
    if (rc == SQLITE_DONE) {
        prune_in_order(db, im->limit);
        if (rename(im->claimed, im->done) != 0)
            log_warn("history: %s imported, but cannot be renamed: %s", im->claimed,
                     strerror(errno));
        log_info("history: %ld records imported from %s", imported, im->done);
    } else if (rc != SQLITE_INTERRUPT)
        log_warn("history: %s not imported (the next kernel tries again): %s", im->claimed,
                 db ? sqlite3_errmsg(db) : strerror(errno));
    if (file)
        fclose(file);
    else if (fd >= 0)
        close(fd);
    sqlite3_close_v2(db);
    return NULL;
}

/* The session of a record: the old writer's start {"s":N, read as it is, on the main thread
 * (a 138 MB file in a fraction of a second); any other line parsed whole. */
static long long session_of(const char *line)
{
    if (strncmp(line, "{\"s\":", 5) == 0) {
        char *end;
        long long s = strtoll(line + 5, &end, 10);
        if (*end == ',')
            return s > 0 && s <= (1 << 30) ? s : 0;
    }
    json_t *record = json_loads(line, 0, NULL);
    json_t *s = json_object_get(record, "s");
    long long session = valid_number(s, 1 << 30) ? json_integer_value(s) : 0;
    json_decref(record);
    return session;
}

/* The highest session number of the old file; its records are scanned, not stored. */
static long long last_session_of(int fd)
{
    long long last = 0;
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    FILE *file = copy >= 0 ? fdopen(copy, "r") : NULL;
    char *buf = malloc(HISTORY_IMPORT_LINE);
    bool skipped;
    while (file && buf && read_line(file, buf, HISTORY_IMPORT_LINE, &skipped)) {
        long long session = skipped ? 0 : session_of(buf);
        if (session > last)
            last = session;
    }
    free(buf);
    if (file)
        fclose(file);
    else if (copy >= 0)
        close(copy);
    return last;
}

static bool reserve_sessions(sqlite3 *db, long long last)
{
    sqlite3_stmt *stmt = NULL;
    bool done = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO sessions (session) VALUES (?1)", -1,
                                   &stmt, NULL) == SQLITE_OK;
    if (done) {
        sqlite3_bind_int64(stmt, 1, last);
        done = last == 0 || sqlite3_step(stmt) == SQLITE_DONE;
    }
    sqlite3_finalize(stmt);
    return done;
}

/* Under the write lock: renamed (or a dead kernel's claim taken over) and locked, the last session
 * reserved. -1: nothing to import (or a live kernel imports it); else the claimed file. */
static int claim(struct history_import *im, sqlite3 *db, const char *jsonl)
{
    bool resumed = access(im->claimed, F_OK) == 0;
    if (!resumed && rename(jsonl, im->claimed) != 0) {
        if (errno != ENOENT)
            log_warn("history: %s not imported: cannot rename it: %s", jsonl, strerror(errno));
        return -1;
    }
    int fd = open(im->claimed, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd); /* another kernel is importing it */
        return -1;
    }
    if (fd < 0 || !reserve_sessions(db, im->last_session = last_session_of(fd))) {
        log_warn("history: %s not imported: %s", im->claimed,
                 fd < 0 ? strerror(errno) : sqlite3_errmsg(db));
        if (fd >= 0)
            close(fd);
        if (!resumed)
            rename(im->claimed, jsonl);
        return -1;
    }
    return fd;
}

void history_import_start(struct history *history, const char *jsonl)
{
    if (history->import)
        return; /* an open tried again: this kernel imports it already */
    struct history_import *im = calloc(1, sizeof *im);
    if (!im || exec(history->db, "BEGIN IMMEDIATE") != SQLITE_OK) {
        free(im);
        return; /* busy: the next kernel imports it */
    }
    snprintf(im->db, sizeof im->db, "%s", history->path);
    snprintf(im->claimed, sizeof im->claimed, "%s.importing", jsonl);
    snprintf(im->done, sizeof im->done, "%s.imported", jsonl);
    im->limit = history->limit;
    im->fd = claim(im, history->db, jsonl);
    if (exec(history->db, "COMMIT") != SQLITE_OK) {
        exec(history->db, "ROLLBACK");
        if (im->fd >= 0)
            close(im->fd);
        im->fd = -1;
    }
    if (im->fd < 0) {
        free(im);
        return;
    }
    im->running = pthread_create(&im->thread, NULL, import_main, im) == 0;
    if (!im->running)
        import_main(im); /* no thread to be had: the import waits for itself */
    history->import = im;
}

void history_import_wait(struct history *history, bool stop)
{
    struct history_import *im = history->import;
    if (!im)
        return;
    atomic_store(&im->stop, stop);
    if (im->running)
        pthread_join(im->thread, NULL);
    close(im->fd); /* the flock goes with it */
    free(im);
    history->import = NULL;
}
