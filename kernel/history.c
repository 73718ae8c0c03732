#include "history.h"

#include <fnmatch.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/files.h"
#include "common/log.h"
#include "common/utf8.h"
#include "kernel/content.h"

#define HISTORY_MAX_ENTRIES 20000 /* older entries are forgotten (the file keeps them) */
#define HISTORY_MAX_INPUT   (1u << 20)
#define HISTORY_MAX_LINE    (2u << 20)

struct entry {
    int session, line;
    char *input;
    char *output; /* text/plain of the result, or NULL */
};

struct history {
    char where[PATH_MAX]; /* kernel_config's history setting */
    bool loaded;
    FILE *file; /* NULL when persistence is off or the file cannot be written */
    int session;
    struct entry *entries;
    size_t count, cap;
};

/* `chosen` is kernel_config's history: a path, "off", or "" for the default place. */
static void path_for_history(const char *chosen, char *out, size_t len)
{
    if (chosen && *chosen)
        snprintf(out, len, "%s", strcmp(chosen, "off") == 0 ? "" : chosen);
    else
        warden_data_file("history.jsonl", out, len);
}

static void drop_oldest(struct history *history)
{
    size_t drop = history->count / 4;
    for (size_t i = 0; i < drop; i++) {
        free(history->entries[i].input);
        free(history->entries[i].output);
    }
    memmove(history->entries, history->entries + drop,
            (history->count - drop) * sizeof *history->entries);
    history->count -= drop;
}

/* A copy cut to HISTORY_MAX_INPUT bytes at a character boundary: a cut inside a UTF-8 sequence
 * would leave a string that jansson refuses, and the entry would vanish from every answer. */
static char *bounded_copy(const char *text)
{
    return strndup(text, utf8_cut(text, strlen(text), HISTORY_MAX_INPUT));
}

static struct entry *append_entry(struct history *history, int session, int line, const char *input)
{
    if (history->count >= HISTORY_MAX_ENTRIES)
        drop_oldest(history);
    if (history->count == history->cap) {
        size_t cap = history->cap ? history->cap * 2 : 64;
        struct entry *grown = realloc(history->entries, cap * sizeof *grown);
        if (!grown)
            return NULL;
        history->entries = grown;
        history->cap = cap;
    }
    char *copy = bounded_copy(input);
    if (!copy)
        return NULL;
    struct entry *entry = &history->entries[history->count++];
    *entry = (struct entry){session, line, copy, NULL};
    return entry;
}

/* Lines of the file are untrusted: anything that is not {"s":int,"l":int,"i":str} is skipped. */
static void load_line(struct history *history, const char *text)
{
    json_t *record = json_loads(text, 0, NULL);
    int session = (int)json_integer_value(json_object_get(record, "s"));
    int line = (int)json_integer_value(json_object_get(record, "l"));
    const char *input = json_string_value(json_object_get(record, "i"));
    if (input && session > 0 && line > 0) {
        /* An output is written as a second record for the same line: it replaces the first. */
        struct entry *last = history->count ? &history->entries[history->count - 1] : NULL;
        struct entry *entry = last && last->session == session && last->line == line
                                  ? last
                                  : append_entry(history, session, line, input);
        const char *output = json_string_value(json_object_get(record, "o"));
        if (entry && output) {
            free(entry->output);
            entry->output = bounded_copy(output);
        }
        if (session > history->session)
            history->session = session;
    }
    json_decref(record);
}

static void load_file(struct history *history, const char *path)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, file)) > 0)
        if ((size_t)len < HISTORY_MAX_LINE)
            load_line(history, line);
    free(line);
    fclose(file);
}

/* Loading waits for the first use so that start-up (and kernel_info) never pays for it. */
static void ensure_loaded(struct history *history)
{
    if (history->loaded)
        return;
    history->loaded = true;
    char path[PATH_MAX];
    path_for_history(history->where, path, sizeof path);
    if (path[0]) {
        load_file(history, path);
        history->file = fopen(path, "a");
        if (!history->file)
            log_warn("history file %s is not writable; history kept in memory only", path);
    }
    history->session++;
}

struct history *history_open(const char *where)
{
    struct history *history = calloc(1, sizeof *history);
    if (history)
        snprintf(history->where, sizeof history->where, "%s", where ? where : "");
    return history;
}

void history_close(struct history *history)
{
    if (!history)
        return;
    for (size_t i = 0; i < history->count; i++) {
        free(history->entries[i].input);
        free(history->entries[i].output);
    }
    free(history->entries);
    if (history->file)
        fclose(history->file);
    free(history);
}

static void write_record(struct history *history, const struct entry *entry)
{
    if (!history->file)
        return;
    json_t *record =
        json_pack("{s:i, s:i, s:s}", "s", entry->session, "l", entry->line, "i", entry->input);
    if (entry->output)
        json_object_set_new(record, "o", json_string(entry->output));
    char *text = record ? json_dumps(record, JSON_COMPACT) : NULL;
    if (text) {
        fprintf(history->file, "%s\n", text);
        fflush(history->file);
    }
    free(text);
    json_decref(record);
}

void history_add(struct history *history, int line, const char *input)
{
    ensure_loaded(history);
    struct entry *entry = append_entry(history, history->session, line, input);
    if (entry)
        write_record(history, entry);
}

void history_set_output(struct history *history, int line, const char *text_plain)
{
    ensure_loaded(history);
    for (size_t i = history->count; i-- > 0;) {
        struct entry *entry = &history->entries[i];
        if (entry->session == history->session && entry->line == line) {
            free(entry->output);
            entry->output = bounded_copy(text_plain);
            write_record(history, entry);
            return;
        }
    }
}

/* ---- history_request ---- */

struct query {
    bool output, unique;
    int limit;
};

static json_t *entry_json(const struct entry *entry, const struct query *query)
{
    json_t *input = json_string(entry->input);
    if (query->output)
        input = json_pack("[o, s?]", input, entry->output);
    return json_pack("[i, i, o]", entry->session, entry->line, input);
}

/* Walks newest first and keeps at most `limit` matches (0 = all), then restores oldest-first
 * order, which is what IPython returns. With `unique`, the inputs kept so far are a hash set (a
 * jansson object keyed by them): a scan of the kept list for each entry took 7 s for a unique tail
 * of a full history, on the main thread that serves the control channel too. */
static json_t *collect(struct history *history, const struct query *query,
                       bool (*keep)(const struct entry *, const void *), const void *arg)
{
    json_t *newest_first = json_array();
    json_t *seen = query->unique ? json_object() : NULL;
    for (size_t i = history->count; i-- > 0;) {
        const struct entry *entry = &history->entries[i];
        if (!keep(entry, arg) || (seen && json_object_get(seen, entry->input)))
            continue;
        if (seen)
            json_object_set_new_nocheck(seen, entry->input, json_null());
        json_array_append_new(newest_first, entry_json(entry, query));
        if (query->limit > 0 && (int)json_array_size(newest_first) >= query->limit)
            break;
    }
    json_decref(seen);
    json_t *result = json_array();
    for (size_t i = json_array_size(newest_first); i-- > 0;)
        json_array_append(result, json_array_get(newest_first, i));
    json_decref(newest_first);
    return result;
}

static bool keep_any(const struct entry *entry, const void *arg)
{
    (void)entry;
    (void)arg;
    return true;
}

static bool keep_glob(const struct entry *entry, const void *pattern)
{
    return fnmatch(pattern, entry->input, 0) == 0;
}

struct range {
    int session, start, stop;
};

static bool keep_range(const struct entry *entry, const void *arg)
{
    const struct range *range = arg;
    return entry->session == range->session && entry->line >= range->start &&
           (range->stop <= 0 || entry->line < range->stop);
}

static int int_field(const json_t *request, const char *key, int fallback)
{
    const json_t *value = json_object_get(request, key);
    return json_is_integer(value) ? (int)json_integer_value(value) : fallback;
}

static json_t *error_reply(const char *why) { return content_error_reply_for("HistoryError", why); }

static json_t *range_entries(struct history *history, const json_t *request, struct query *query)
{
    struct range range = {int_field(request, "session", 0), int_field(request, "start", 0),
                          int_field(request, "stop", 0)};
    /* 0 is this session and negative counts back from it, as in IPython. */
    if (range.session <= 0)
        range.session += history->session;
    query->limit = 0;
    return collect(history, query, keep_range, &range);
}

json_t *history_reply(struct history *history, const json_t *request)
{
    ensure_loaded(history);
    const char *operation = json_string_value(json_object_get(request, "hist_access_type"));
    struct query query = {json_is_true(json_object_get(request, "output")),
                          json_is_true(json_object_get(request, "unique")),
                          int_field(request, "n", 10)};
    json_t *list;
    if (operation && strcmp(operation, "tail") == 0)
        list = collect(history, &query, keep_any, NULL);
    else if (operation && strcmp(operation, "range") == 0)
        list = range_entries(history, request, &query);
    else if (operation && strcmp(operation, "search") == 0) {
        const char *pattern = json_string_value(json_object_get(request, "pattern"));
        if (!pattern)
            return error_reply("history search needs a string \"pattern\"");
        list = collect(history, &query, keep_glob, pattern);
    } else
        return error_reply("hist_access_type must be \"tail\", \"range\" or \"search\"");
    return json_pack("{s:s, s:o}", "status", "ok", "history", list);
}
