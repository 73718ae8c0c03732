/* history_request as queries, answering as ipykernel does (its do_history over IPython's
 * HistoryManager):
 *   tail    the last n cells of all sessions (n defaults to 10), oldest first; unique unused;
 *   range   one session's cells [start, stop): session 0 or less counts back from this one
 *           (0: this session), start defaults to 1, a stop of 0 or none means to the end; for
 *           this session, as IPython does from its in-memory list, a start or stop below 0
 *           counts back from the end. Rows name their real session (ipykernel's name this one
 *           0, which jupyter_kernel_test's range check refuses);
 *   search  the cells whose input matches the glob `pattern` (SQLite's GLOB, IPython's), with
 *           unique the newest cell of each distinct input, with n the newest n, oldest first.
 * With output, each input is [input, output or null]. Whatever is asked, a reply holds at most
 * HISTORY_REPLY_ROWS rows and about HISTORY_REPLY_BYTES of text (the newest kept for tail and
 * limited searches), so a request cannot make the kernel build an unbounded message. The
 * request is untrusted: a field of the wrong type is an error reply naming it. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/utf8.h"
#include "history_internal.h"
#include "kernel/content.h"

#define HISTORY_REPLY_ROWS  100000
#define HISTORY_REPLY_BYTES (16u << 20)

struct rows {
    bool output;       /* each input as [input, output] */
    bool newest_first; /* the query's order: reversed before replying */
};

static json_t *column_string(sqlite3_stmt *stmt, int column)
{
    if (sqlite3_column_type(stmt, column) == SQLITE_NULL)
        return json_null();
    const char *text = (const char *)sqlite3_column_text(stmt, column);
    /* the file is another process's to write: text that is not UTF-8 is repaired, not trusted */
    return utf8_json_string(text ? text : "", (size_t)sqlite3_column_bytes(stmt, column));
}

static json_t *row_json(sqlite3_stmt *stmt, const struct rows *shape)
{
    json_t *input = column_string(stmt, 2);
    if (shape->output)
        input = json_pack("[o, o]", input, column_string(stmt, 3));
    return json_pack("[i, i, o]", sqlite3_column_int(stmt, 0), sqlite3_column_int(stmt, 1), input);
}

static void reverse(json_t *list)
{
    for (size_t i = 0, j = json_array_size(list); j-- > i + 1; i++) {
        json_t *a = json_incref(json_array_get(list, i));
        json_array_set(list, i, json_array_get(list, j));
        json_array_set_new(list, j, a);
    }
}

/* Steps `stmt` (finalized here) into `list`; NULL with *err when the query failed. */
static json_t *collect(struct history *history, sqlite3_stmt *stmt, const struct rows *shape,
                       json_t *list, const char **err)
{
    size_t bytes = 0;
    int rc = SQLITE_DONE;
    while (json_array_size(list) < HISTORY_REPLY_ROWS && bytes < HISTORY_REPLY_BYTES &&
           (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        bytes += (size_t)sqlite3_column_bytes(stmt, 2) + (size_t)sqlite3_column_bytes(stmt, 3);
        json_array_append_new(list, row_json(stmt, shape));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        *err = sqlite3_errmsg(history->db);
        json_decref(list);
        list = NULL;
    } else if (shape->newest_first)
        reverse(list);
    sqlite3_finalize(stmt);
    return list;
}

/* An optional integer field: absent or null leaves *value as it is (and *given false). */
static bool int_field(const json_t *request, const char *key, long long *value, bool *given)
{
    const json_t *field = json_object_get(request, key);
    if (given)
        *given = json_is_integer(field);
    if (!field || json_is_null(field))
        return true;
    if (!json_is_integer(field) || json_integer_value(field) < INT_MIN ||
        json_integer_value(field) > INT_MAX)
        return false;
    *value = json_integer_value(field);
    return true;
}

static json_t *prepare(struct history *history, const char *sql, sqlite3_stmt **stmt,
                       const char **err)
{
    if (sqlite3_prepare_v2(history->db, sql, -1, stmt, NULL) != SQLITE_OK) {
        *err = sqlite3_errmsg(history->db);
        return NULL;
    }
    return json_array();
}

#define SELECT_ROWS "SELECT session, line, source, output"

static json_t *tail(struct history *history, long long n, bool output, const char **err)
{
    sqlite3_stmt *stmt = NULL;
    json_t *list = prepare(
        history, SELECT_ROWS " FROM history ORDER BY session DESC, line DESC LIMIT ?1", &stmt, err);
    if (!list)
        return NULL;
    sqlite3_bind_int64(stmt, 1, n);
    return collect(history, stmt, &(struct rows){output, true}, list, err);
}

static json_t *search(struct history *history, const char *pattern, bool unique, bool limited,
                      long long n, bool output, const char **err)
{
    char sql[320];
    /* IPython's unique: per distinct input, the row of its latest (session, line) */
    snprintf(sql, sizeof sql, SELECT_ROWS "%s FROM history WHERE source GLOB ?1%s%s",
             unique ? ", max(session * 131072 + line)" : "", unique ? " GROUP BY source" : "",
             limited ? " ORDER BY session DESC, line DESC LIMIT ?2" : " ORDER BY session, line");
    sqlite3_stmt *stmt = NULL;
    json_t *list = prepare(history, sql, &stmt, err);
    if (!list)
        return NULL;
    sqlite3_bind_text(stmt, 1, pattern, -1, SQLITE_TRANSIENT);
    if (limited)
        sqlite3_bind_int64(stmt, 2, n);
    return collect(history, stmt, &(struct rows){output, limited}, list, err);
}

static json_t *range(struct history *history, long long session, long long start, long long stop,
                     bool output, const char **err)
{
    if (session <= 0)
        session += history->session;
    bool current = session == history->session;
    if (current) {
        long long n = history->last_line + 1; /* the length of IPython's list, with its empty 0 */
        if (start < 0)
            start = start + n < 0 ? 0 : start + n;
        if (!stop || stop > n)
            stop = n;
        else if (stop < 0)
            stop += n;
    }
    sqlite3_stmt *stmt = NULL;
    json_t *list = prepare(history,
                           SELECT_ROWS " FROM history WHERE session = ?1 AND line >= ?2 AND "
                                       "(?3 = 0 OR line < ?3) ORDER BY line",
                           &stmt, err);
    if (!list)
        return NULL;
    sqlite3_bind_int64(stmt, 1, session);
    sqlite3_bind_int64(stmt, 2, start);
    /* this session's stop is never 0 here unless there is nothing: then nothing matches */
    sqlite3_bind_int64(stmt, 3, current && stop <= 0 ? INT_MIN : stop);
    return collect(history, stmt, &(struct rows){output, false}, list, err);
}

static json_t *bad_field(const char *key)
{
    char why[96];
    snprintf(why, sizeof why, "history_request: \"%s\" must be an integer", key);
    return content_error_reply_for("HistoryError", why);
}

json_t *history_reply(struct history *history, const json_t *request)
{
    if (!history_ensure_open(history, NULL))
        return content_error_reply_for("HistoryError",
                                       "the history file is busy (another kernel holds it)");
    const char *operation = json_string_value(json_object_get(request, "hist_access_type"));
    bool output = json_is_true(json_object_get(request, "output"));
    long long n = 10, session = 0, start = 1, stop = 0;
    bool n_given;
    const char *fields[] = {"n", "session", "start", "stop"};
    long long *values[] = {&n, &session, &start, &stop};
    for (size_t i = 0; i < 4; i++)
        if (!int_field(request, fields[i], values[i], i == 0 ? &n_given : NULL))
            return bad_field(fields[i]);
    const char *err = NULL;
    json_t *list;
    if (operation && strcmp(operation, "tail") == 0)
        list = tail(history, n, output, &err);
    else if (operation && strcmp(operation, "range") == 0)
        list = range(history, session, start, stop, output, &err);
    else if (operation && strcmp(operation, "search") == 0) {
        const json_t *pattern = json_object_get(request, "pattern");
        if (pattern && !json_is_string(pattern) && !json_is_null(pattern))
            return content_error_reply_for("HistoryError",
                                           "history_request: \"pattern\" must be a string");
        /* no pattern matches nothing, as IPython's GLOB NULL */
        list = !json_is_string(pattern) ? json_array()
                                        : search(history, json_string_value(pattern),
                                                 json_is_true(json_object_get(request, "unique")),
                                                 n_given, n, output, &err);
    } else
        list = json_array(); /* ipykernel answers an unknown access type with no history */
    if (!list)
        return content_error_reply_for("HistoryError", err ? err : "out of memory");
    return json_pack("{s:s, s:o}", "status", "ok", "history", list);
}
