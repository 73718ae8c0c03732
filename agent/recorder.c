#include "recorder.h"

#include <string.h>

static void keep_tail(struct recorder *r, const char *text, size_t len)
{
    if (len >= RECORDER_TAIL) {
        text += len - RECORDER_TAIL;
        len = RECORDER_TAIL;
    }
    size_t keep = r->tail_len + len > RECORDER_TAIL ? RECORDER_TAIL - len : r->tail_len;
    memmove(r->tail, r->tail + r->tail_len - keep, keep);
    memcpy(r->tail + keep, text, len);
    r->tail_len = keep + len;
    /* the cut may have split a character: drop its leftover continuation bytes */
    size_t skip = 0;
    while (skip < r->tail_len && ((unsigned char)r->tail[skip] & 0xC0) == 0x80)
        skip++;
    memmove(r->tail, r->tail + skip, r->tail_len - skip);
    r->tail_len -= skip;
    r->tail[r->tail_len] = '\0';
}

static void on_stream(void *ctx, enum output_stream name, const char *text, size_t len)
{
    struct recorder *r = ctx;
    keep_tail(r, text, len);
    if (name == OUTPUT_STDERR && memmem(text, len, "[warden] output truncated", 25))
        r->truncated_output = true;
    output_stream(r->relay.next, name, text, len);
}

static void on_display(void *ctx, json_t *data, json_t *md, const char *id, bool update)
{
    struct recorder *r = ctx;
    if (!update)
        r->displays++;
    output_display(r->relay.next, data, md, id, update);
}

static void on_result(void *ctx, json_t *data, json_t *md)
{
    struct recorder *r = ctx;
    const char *text = json_string_value(json_object_get(data, "text/plain"));
    if (text) { /* what the cell's value looked like is output too */
        keep_tail(r, "Out: ", 5);
        keep_tail(r, text, strlen(text));
        keep_tail(r, "\n", 1);
    }
    output_result(r->relay.next, data, md);
}

static void on_error(void *ctx, const struct cell_error *error)
{
    struct recorder *r = ctx;
    r->had_error = true;
    cell_error_set(&r->error, error->ename, error->evalue, error->traceback);
    if (!r->hold_errors)
        output_error(r->relay.next, error);
}

void recorder_init(struct recorder *r, const struct output_sink *next, bool hold_errors)
{
    memset(r, 0, sizeof *r);
    output_relay_init(&r->relay, next);
    r->relay.sink.stream = on_stream;
    r->relay.sink.display = on_display;
    r->relay.sink.result = on_result;
    r->relay.sink.error = on_error;
    r->hold_errors = hold_errors;
}

void recorder_clear(struct recorder *r) { cell_error_clear(&r->error); }
