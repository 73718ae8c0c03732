/* Turning the executor's events into messages: busy, execute_input, outputs, input requests,
 * the reply, idle — in that order, each with the request as parent. */
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "content.h"
#include "executor.h"
#include "history.h"
#include "kernel.h"

static bool is_execute(const struct job *job) { return job->kind == JOB_EXECUTE; }

/* ---- a cell's input in the history ----
 * It goes in with the cell's output, in one write after the cell's idle. Written as the cell
 * began, it held the main thread in a transaction (six lock calls and four writes, strace) just
 * when a short cell's result came back: on the path of every round trip. A cell still running
 * after HISTORY_INPUT_DELAY_MS has its input written then, so a kernel that dies in a long cell
 * still has it, as IPython's history has it from the cell's start. */
#define HISTORY_INPUT_DELAY_MS 200

/* The kept input into the history, with its output (NULL: none yet), and forgotten. */
static void write_unsaved_input(struct kernel *k, const char *output)
{
    history_add_with_output(k->history, k->unsaved_line, k->unsaved_input, output);
    free(k->unsaved_input);
    k->unsaved_input = NULL;
}

void kernel_save_unsaved_input(struct kernel *k)
{
    if (k->unsaved_input)
        write_unsaved_input(k, NULL);
}

int kernel_unsaved_input_wait_ms(const struct kernel *k)
{
    if (!k->unsaved_input)
        return -1;
    int64_t left = k->unsaved_due_ms - monotonic_ms();
    return left <= 0 ? 0 : left > HISTORY_INPUT_DELAY_MS ? HISTORY_INPUT_DELAY_MS : (int)left;
}

static void keep_input_for_history(struct kernel *k, int line, const char *code)
{
    kernel_save_unsaved_input(k); /* none is left at a cell's start; if one were, it goes now */
    history_prepare(k->history);
    k->unsaved_input = strdup(code);
    k->unsaved_line = line;
    k->unsaved_due_ms = monotonic_ms() + HISTORY_INPUT_DELAY_MS;
    if (!k->unsaved_input)
        history_add(k->history, line, code);
}

/* After the idle: the input kept at the start with the output, or the output alone when the
 * input was already written (the cell ran long). */
static void save_history(struct kernel *k, const struct job *job)
{
    if (k->unsaved_input && k->unsaved_line == job->execution_count) {
        write_unsaved_input(k, job->history_output);
    } else if (job->history_output) {
        history_set_output(k->history, job->execution_count, job->history_output);
    }
}

/* A history file that failed (full, read-only, held by another kernel) is said on the stderr of
 * a cell, once: the cell it happened in when the file cannot be opened, else the next one (a cell
 * is written after its idle, when nothing of it may follow); the cell runs as usual. */
static void say_history_trouble(struct kernel *k, const struct job *job)
{
    const char *notice = history_take_notice(k->history);
    if (!notice)
        return;
    const char *msg_type;
    json_t *content = content_stream(OUTPUT_STDERR, notice, strlen(notice), &msg_type);
    if (content)
        kernel_publish(k, msg_type, job->request, content);
}

void publish_begin(struct kernel *k, const struct job *job)
{
    const struct jmsg *parent = job->request;
    kernel_publish_status(k, parent, "busy");
    if (!is_execute(job))
        return;
    const char *code = json_string_value(json_object_get(job->request->content, "code"));
    if (!code)
        return;
    if (!job->silent)
        kernel_publish(
            k, "execute_input", parent,
            json_pack("{s:s, s:i}", "code", code, "execution_count", job->execution_count));
    if (job->store_history) {
        keep_input_for_history(k, job->execution_count, code);
        say_history_trouble(k, job); /* the store cannot be opened, or an earlier write failed */
    }
}

/* An output of the running cell (its content built by content.c on the executor thread). An
 * execute_result's text is kept for the history, written after the cell's idle: the result and
 * the reply do not wait for a database transaction (a failure to write it is said with the next
 * cell's input, as nothing of this cell may follow its idle). */
static void output(struct kernel *k, struct job *job, const char *msg_type, json_t *content)
{
    if (strcmp(msg_type, "execute_result") == 0) {
        if (job->silent)
            return;
        const char *text =
            json_string_value(json_object_get(json_object_get(content, "data"), "text/plain"));
        if (job->store_history && text) {
            free(job->history_output);
            job->history_output = strdup(text);
        }
    }
    kernel_publish(k, msg_type, job->request, json_incref(content));
}

static void request_input(struct kernel *k, struct job *job, json_t *content)
{
    struct jmsg *msg = jmsg_build(k->session, "input_request", job->request, json_incref(content));
    if (!msg || jmsg_copy_ids(msg, job->request) != 0) {
        jmsg_free(msg);
        return;
    }
    wire_send(k->stdin_socket, k->signer, msg);
    kernel_socket_used(k, k->stdin_socket);
    jmsg_free(k->input_asked);
    k->input_asked = msg;
}

static void send_aborted(struct kernel *k, struct job *job)
{
    const struct jmsg *parent = job->request;
    kernel_publish_status(k, parent, "busy");
    kernel_reply(k, k->shell, job->request, json_pack("{s:s}", "status", "aborted"));
    kernel_publish_status(k, parent, "idle");
}

static void done(struct kernel *k, struct job *job, json_t *reply, json_t *metadata)
{
    kernel_reply_with_metadata(k, k->shell, job->request, json_incref(reply),
                               metadata ? json_incref(metadata) : NULL);
    kernel_publish_status(k, job->request, "idle");
    if (is_execute(job) && job->store_history)
        save_history(k, job);
    job_free(job);
}

void dispatch_executor_events(struct kernel *k)
{
    struct event *event;
    while ((event = executor_next_event(k->executor)) != NULL) {
        switch (event->kind) {
        case EVENT_BEGIN:
            publish_begin(k, event->job);
            break;
        case EVENT_OUTPUT:
            output(k, event->job, event->msg_type, event->content);
            break;
        case EVENT_INPUT:
            request_input(k, event->job, event->content);
            break;
        case EVENT_DONE:
            done(k, event->job, event->content, event->metadata);
            break;
        case EVENT_ABORTED:
            send_aborted(k, event->job);
            job_free(event->job);
            break;
        }
        event_free(event);
    }
}
