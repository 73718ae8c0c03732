/* A history_request (kernel/history.c), the one request whose content the kernel reads on its
 * main thread, against a history file read from the user's data directory (kernel.history):
 * both are outside bytes.
 *
 * Input: the request's content (JSON), then the line "--", then the history file (JSON lines,
 * {"s": session, "l": line, "i": input, "o": output}).
 *
 * Invariants: the reply is {"status": "ok", "history": [...]} or an error reply; every item is
 * [session, line, input] or, with output, [session, line, [input, output or null]], with
 * sessions and lines positive; a tail or search returns at most n items (n > 0); a unique one
 * never repeats an input. */
#include <jansson.h>
#include <string.h>

#include "common/log.h"
#include "fuzz.h"
#include "kernel/history.h"

#define SEPARATOR "\n--\n"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_ERROR);
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
    json_int_t limit = json_is_integer(n) ? json_integer_value(n) : 10;
    if (strcmp(type, "range") != 0 && limit > 0 && limit <= 1000000)
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
    struct history *history = history_open(fuzz_file(file, (size_t)(data + size - file)));
    FUZZ_ASSERT(history);
    json_t *reply = history_reply(history, request);
    FUZZ_ASSERT(json_is_object(reply));
    check_reply(request, reply);
    json_decref(reply);
    history_close(history);
    json_decref(request);
    return 0;
}
