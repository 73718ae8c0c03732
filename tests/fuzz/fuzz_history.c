/* A history_request (kernel/history_query.c), the one request whose content the kernel reads on
 * its main thread, against a history imported from an old history.jsonl (kernel/history_import.c,
 * read once from the user's data directory): both are outside bytes.
 *
 * Input: the request's content (JSON), then the line "--", then the history file (JSON lines,
 * {"s": session, "l": line, "i": input, "o": output}).
 *
 * Invariants: the reply is {"status": "ok", "history": [...]} or an error reply; every item is
 * [session, line, input] or, with output, [session, line, [input, output or null]], with
 * sessions and lines positive; a tail or search returns at most n items (n > 0, a tail's 10 by
 * default); a unique one never repeats an input. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "fuzz.h"
#include "kernel/history_internal.h"

#define SEPARATOR "\n--\n"

static char dir[64], jsonl[96], db[96], db_wal[104], db_shm[104], done[104], claimed[112];

/* One directory for the run; the store's files are removed after every input, so each input
 * is a first import. */
static void make_paths(void)
{
    snprintf(dir, sizeof dir, "/tmp/warden-fuzz-history.XXXXXX");
    FUZZ_ASSERT(mkdtemp(dir));
    snprintf(jsonl, sizeof jsonl, "%s/h.jsonl", dir);
    snprintf(db, sizeof db, "%s/h.sqlite", dir);
    snprintf(db_wal, sizeof db_wal, "%s-wal", db);
    snprintf(db_shm, sizeof db_shm, "%s-shm", db);
    snprintf(done, sizeof done, "%s.imported", jsonl);
    snprintf(claimed, sizeof claimed, "%s.importing", jsonl);
}

static void write_old_file(const uint8_t *data, size_t size)
{
    FILE *f = fopen(jsonl, "wb");
    FUZZ_ASSERT(f);
    FUZZ_ASSERT(fwrite(data, 1, size, f) == size);
    FUZZ_ASSERT(fclose(f) == 0);
}

static void remove_store(void)
{
    const char *files[] = {jsonl, done, claimed, db, db_wal, db_shm};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(files[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_ERROR);
    make_paths();
    return 0;
}

static const char *item_input(const json_t *item, bool with_output)
{
    FUZZ_ASSERT(json_is_array(item) && json_array_size(item) == 3);
    FUZZ_ASSERT(json_integer_value(json_array_get(item, 0)) > 0);
    FUZZ_ASSERT(json_integer_value(json_array_get(item, 1)) > 0);
    const json_t *input = json_array_get(item, 2);
    if (with_output) {
        FUZZ_ASSERT(json_is_array(input) && json_array_size(input) == 2);
        const json_t *output = json_array_get(input, 1);
        FUZZ_ASSERT(json_is_string(output) || json_is_null(output));
        input = json_array_get(input, 0);
    }
    FUZZ_ASSERT(json_is_string(input));
    return json_string_value(input);
}

static void check_reply(const json_t *request, const json_t *reply)
{
    const char *status = json_string_value(json_object_get(reply, "status"));
    FUZZ_ASSERT(status);
    if (strcmp(status, "error") == 0) {
        FUZZ_ASSERT(json_is_string(json_object_get(reply, "ename")));
        return;
    }
    FUZZ_ASSERT(strcmp(status, "ok") == 0);
    const json_t *list = json_object_get(reply, "history");
    FUZZ_ASSERT(json_is_array(list));
    const char *type = json_string_value(json_object_get(request, "hist_access_type"));
    const json_t *n = json_object_get(request, "n");
    /* n: a tail's defaults to 10; a search without one is unlimited, as IPython's */
    bool tail = type && strcmp(type, "tail") == 0;
    json_int_t limit = json_is_integer(n) ? json_integer_value(n) : tail ? 10 : 0;
    if (type && strcmp(type, "range") != 0 && limit > 0 && limit <= 1000000)
        FUZZ_ASSERT((json_int_t)json_array_size(list) <= limit);
    bool with_output = json_is_true(json_object_get(request, "output"));
    bool unique = json_is_true(json_object_get(request, "unique"));
    size_t i, j;
    json_t *item;
    json_array_foreach(list, i, item) {
        const char *input = item_input(item, with_output);
        for (j = 0; unique && j < i; j++)
            FUZZ_ASSERT(strcmp(input, item_input(json_array_get(list, j), with_output)) != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *sep = memmem(data, size, SEPARATOR, strlen(SEPARATOR));
    size_t request_len = sep ? (size_t)(sep - data) : size;
    const uint8_t *file = sep ? sep + strlen(SEPARATOR) : data + size;
    json_t *request = json_loadb((const char *)data, request_len, 0, NULL);
    if (!json_is_object(request)) {
        json_decref(request);
        return 0; /* wire_decode gives only objects */
    }
    write_old_file(file, (size_t)(data + size - file));
    struct history *history = history_open(jsonl, 1000);
    FUZZ_ASSERT(history);
    /* the import runs on its own thread: the request is asked of the whole old file */
    history_ensure_open(history, NULL);
    history_import_wait(history, false);
    json_t *reply = history_reply(history, request);
    FUZZ_ASSERT(json_is_object(reply));
    check_reply(request, reply);
    json_decref(reply);
    history_close(history);
    remove_store();
    json_decref(request);
    return 0;
}
