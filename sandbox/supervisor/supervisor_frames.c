/* Worker supervisor, the worker's frames during a cell: `done` ends it, `input` is answered through
 * the sink, outputs go to the output path (supervisor_output.c). The worker is hostile:
 * translate.c validates every frame, and one for another cell or of an unknown type is dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/format.h"
#include "common/utf8.h"
#include "supervisor.h"
#include "translate.h"

#define SUP_MAX_PAGES 4 /* pager texts kept per cell */

/* An exception: it becomes the outcome. When the wall-time limit sent the interrupt, the
 * KeyboardInterrupt is reported as what it is, for the user and for the agent. */
static void record_error(struct cell_run *r, struct cell_error *error)
{
    if (r->wall_fired && strcmp(error->ename, "KeyboardInterrupt") == 0) {
        char limit[32], evalue[96], line[128];
        format_seconds(r->wall_ms, limit, sizeof limit);
        snprintf(evalue, sizeof evalue, "wall-time limit of %s reached", limit);
        snprintf(line, sizeof line, "TimeoutError: %s", evalue);
        json_t *traceback = json_copy(error->traceback);
        json_array_append_new(traceback, json_string(line));
        cell_error_set(error, "TimeoutError", evalue, traceback);
        json_decref(traceback);
    }
    r->error_seen = true;
    cell_outcome_fail(r->out, CELL_ERROR, error->ename, error->evalue, error->traceback);
}

/* IPython's `name?` help: kept for the reply's pager (a few at most per cell). */
static void handle_page(struct cell_run *r, const json_t *frame)
{
    json_t *page = translate_page(frame, r->id);
    if (!page)
        return;
    if (!r->out->pages)
        r->out->pages = json_array();
    if (json_array_size(r->out->pages) < SUP_MAX_PAGES)
        json_array_append(r->out->pages, page);
    json_decref(page);
}

static void handle_input(struct cell_run *r, const json_t *frame)
{
    long long input_id;
    char *prompt = NULL;
    bool password = false;
    if (!translate_input(frame, r->id, &input_id, &prompt, &password))
        return;
    sup_pending_flush(r);
    /* Once the cell was interrupted, its input() is cancelled (KeyboardInterrupt in the worker),
     * never asked of the frontend: a SIGINT that reached the worker before its code ran is not
     * raised, and the wait for an answer, which may never come (the client is gone), would hold
     * the cell past its interrupt for good, since the grace period's timer cannot fire here. */
    bool ask = r->cell->allow_stdin && r->grace_deadline == 0;
    char *value = ask ? output_input(r->sink, prompt, password, r->w->proc.pidfd) : NULL;
    free(prompt);
    const char *typed = value ? value : "";
    json_t *answer = utf8_json_string(typed, strlen(typed));
    json_t *reply = json_pack("{s:s, s:I, s:I, s:o, s:b}", "t", "input_value", "id",
                              (json_int_t)r->id, "input_id", (json_int_t)input_id, "value",
                              answer ? answer : json_string(""), "cancelled", value == NULL);
    free(value);
    if (worker_send(r->w, reply, SUP_WRITE_TIMEOUT_MS) != 0)
        sup_send_failed(r, "an input reply");
}

/* An output frame: stream text is coalesced, a silent cell's result dropped, errors recorded. */
static void handle_output(struct cell_run *r, const json_t *frame)
{
    struct worker_output out;
    if (!translate_output(frame, r->id, &out))
        return;
    if (out.kind == WOUT_STREAM) {
        sup_add_stream(r, out.stream, json_string_value(out.text), json_string_length(out.text));
        worker_output_clear(&out);
        return;
    }
    if (out.kind == WOUT_RESULT && r->cell->silent) {
        worker_output_clear(&out);
        return;
    }
    if (out.kind == WOUT_ERROR)
        record_error(r, &out.error);
    sup_emit_output(r, &out);
}

/* IPython's set_next_input (%load): the last one wins, as in IPython. */
static void handle_next_input(struct cell_run *r, const json_t *frame)
{
    bool replace = false;
    char *text = translate_next_input(frame, r->id, &replace);
    if (!text)
        return;
    free(r->out->next_input);
    r->out->next_input = text;
    r->out->next_input_replaces = replace;
}

static void handle_exit(struct cell_run *r, const json_t *frame)
{
    bool keep_kernel = false;
    if (translate_exit(frame, r->id, &keep_kernel)) {
        r->out->exit_requested = true;
        r->out->keep_kernel = keep_kernel;
    }
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
    if (strcmp(t, "input") == 0) {
        handle_input(r, frame);
        return;
    }
    if (strcmp(t, "next_input") == 0) {
        handle_next_input(r, frame);
        return;
    }
    if (strcmp(t, "exit") == 0) {
        handle_exit(r, frame);
        return;
    }
    if (strcmp(t, "ready") == 0)
        return;
    handle_output(r, frame);
}
