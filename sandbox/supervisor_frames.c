/* Worker supervisor, the worker's frames during a cell: `done` ends it, `input_request` is answered
 * through the sink, outputs go to the output path (supervisor_output.c). The worker is hostile:
 * translate.c validates every frame, and one for another cell or of an unknown type is dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "supervisor.h"
#include "translate.h"

static void record_error(struct cell_run *r, json_t *content)
{
    const char *ename = json_string_value(json_object_get(content, "ename"));
    if (r->wall_fired && ename && strcmp(ename, "KeyboardInterrupt") == 0) {
        /* The interrupt came from the wall-time limit: say so, for the user and the agent. */
        char limit[32], evalue[96];
        sup_format_seconds(r->cell->wall_ms, limit, sizeof limit);
        snprintf(evalue, sizeof evalue, "wall-time limit of %s reached", limit);
        json_object_set_new(content, "ename", json_string("TimeoutError"));
        json_object_set_new(content, "evalue", json_string(evalue));
        char line[128];
        snprintf(line, sizeof line, "TimeoutError: %s", evalue);
        json_t *tb = json_object_get(content, "traceback");
        if (json_is_array(tb))
            json_array_append_new(tb, json_string(line));
    }
    r->error_seen = true;
    sup_set_outcome_error(r, json_string_value(json_object_get(content, "ename")),
                          json_string_value(json_object_get(content, "evalue")),
                          json_object_get(content, "traceback"));
}

/* IPython's `name?` help: kept for the execute_reply's payload (a few at most per cell). */
static void handle_page(struct cell_run *r, const json_t *frame)
{
    json_t *payload = translate_page(frame, r->id);
    if (!payload)
        return;
    if (!r->out->payload)
        r->out->payload = json_array();
    if (json_array_size(r->out->payload) < 4)
        json_array_append(r->out->payload, payload);
    json_decref(payload);
}

static void handle_input_request(struct cell_run *r, const json_t *frame)
{
    long long input_id;
    char *prompt = NULL;
    bool password = false;
    if (!translate_input_request(frame, r->id, &input_id, &prompt, &password))
        return;
    sup_pending_flush(r);
    char *value = NULL;
    if (r->cell->allow_stdin && r->sink && r->sink->read_input)
        value = r->sink->read_input(r->sink->ctx, prompt, password, r->w->proc.pidfd);
    free(prompt);
    json_t *jvalue = value ? json_string(value) : json_string("");
    if (!jvalue && value) {
        size_t clean_len;
        char *clean = frame_sanitize(value, strlen(value), &clean_len);
        jvalue = clean ? json_stringn(clean, clean_len) : NULL;
        free(clean);
    }
    json_t *reply = json_pack("{s:s, s:I, s:I, s:o, s:b}", "t", "input_reply", "id",
                              (json_int_t)r->id, "input_id", (json_int_t)input_id, "value",
                              jvalue ? jvalue : json_string(""), "cancelled", value == NULL);
    free(value);
    if (worker_send(r->w, reply, SUP_WRITE_TIMEOUT_MS) != 0)
        sup_send_failed(r, "an input reply");
}

/* An output frame: stream text is coalesced, a silent cell's result dropped, errors recorded. */
static void handle_output(struct cell_run *r, const json_t *frame)
{
    const char *msg_type;
    json_t *content;
    if (!translate_output(frame, r->id, r->cell->count, &msg_type, &content))
        return;
    if (strcmp(msg_type, "stream") == 0) {
        json_t *text = json_object_get(content, "text");
        bool is_stderr = strcmp(json_string_value(json_object_get(content, "name")), "stderr") == 0;
        sup_add_stream(r, is_stderr, json_string_value(text), json_string_length(text));
        json_decref(content);
        return;
    }
    if (strcmp(msg_type, "execute_result") == 0 && r->cell->silent) {
        json_decref(content);
        return;
    }
    if (strcmp(msg_type, "error") == 0)
        record_error(r, content);
    sup_emit_output(r, msg_type, content);
}

void sup_handle_frame(struct cell_run *r, json_t *frame)
{
    const char *t = json_string_value(json_object_get(frame, "t"));
    if (strcmp(t, "done") == 0) {
        bool ok;
        if (translate_done(frame, r->id, &ok)) {
            r->done = true;
            r->done_ok = ok;
        }
        return;
    }
    if (strcmp(t, "page") == 0) {
        handle_page(r, frame);
        return;
    }
    if (strcmp(t, "input_request") == 0) {
        handle_input_request(r, frame);
        return;
    }
    if (strcmp(t, "ready") == 0)
        return;
    handle_output(r, frame);
}
