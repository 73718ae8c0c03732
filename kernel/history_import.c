/* The one-time import of history.jsonl, the format before SQLite: one record {"s": session,
 * "l": line, "i": input} per cell, and a second record for the same cell with "o" (its output)
 * when it had one. The file is untrusted: a line that is not such a record, or longer than
 * HISTORY_IMPORT_LINE, is skipped; inputs and outputs are capped as new ones are. It is read a
 * line at a time, in one transaction, so its size costs time, never memory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history_internal.h"

/* The old writer's records were at most 1 MiB of input and 1 MiB of output, escaped */
#define HISTORY_IMPORT_LINE (4u << 20)

static int store_record(sqlite3_stmt *cell, sqlite3_stmt *session, const char *line)
{
    json_t *record = json_loads(line, 0, NULL);
    json_t *s = json_object_get(record, "s"), *l = json_object_get(record, "l");
    const char *input = json_string_value(json_object_get(record, "i"));
    const char *output = json_string_value(json_object_get(record, "o"));
    int rc = SQLITE_DONE;
    if (input && json_is_integer(s) && json_is_integer(l) && json_integer_value(s) > 0 &&
        json_integer_value(s) < (1 << 30) && json_integer_value(l) > 0 &&
        json_integer_value(l) < (1 << 30)) {
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

static long import_lines(sqlite3 *db, FILE *file, char *err, size_t errlen)
{
    sqlite3_stmt *cell = NULL, *session = NULL;
    char *buf = malloc(HISTORY_IMPORT_LINE);
    long imported = -1;
    int rc = sqlite3_prepare_v2(
        db,
        "INSERT INTO history (session, line, source, output) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (session, line) DO UPDATE SET source = excluded.source, "
        "output = coalesce(excluded.output, output)",
        -1, &cell, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO sessions (session) VALUES (?1)", -1,
                                &session, NULL);
    if (rc != SQLITE_OK || !buf) {
        snprintf(err, errlen, "%s", buf ? sqlite3_errmsg(db) : "out of memory");
        goto out;
    }
    imported = 0;
    bool skipped;
    while (read_line(file, buf, HISTORY_IMPORT_LINE, &skipped)) {
        if (skipped)
            continue;
        rc = store_record(cell, session, buf);
        if (rc != SQLITE_DONE) {
            snprintf(err, errlen, "%s", sqlite3_errmsg(db));
            imported = -1;
            goto out;
        }
        imported++;
    }
out:
    sqlite3_finalize(cell);
    sqlite3_finalize(session);
    free(buf);
    return imported;
}

long history_import_jsonl(sqlite3 *db, const char *jsonl, char *err, size_t errlen)
{
    char done[PATH_MAX + 16];
    snprintf(done, sizeof done, "%s.imported", jsonl);
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        return -1;
    }
    /* Under the write lock: a kernel that started at the same time and imported it first has
     * renamed it already. */
    if (rename(jsonl, done) != 0) {
        int why = errno;
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        if (why == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot rename it: %s", strerror(why));
        return -1;
    }
    FILE *file = fopen(done, "r");
    long imported = file ? import_lines(db, file, err, errlen) : -1;
    if (!file)
        snprintf(err, errlen, "cannot read it: %s", strerror(errno));
    if (file)
        fclose(file);
    if (imported >= 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s", sqlite3_errmsg(db));
        imported = -1;
    }
    if (imported < 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        rename(done, jsonl); /* as it was: the next kernel tries again */
    }
    return imported;
}
