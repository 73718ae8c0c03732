/* Turning the executor's events into messages: busy, execute_input, outputs, input requests,
 * the reply, idle — in that order, each with the request as parent. */
#include <stdlib.h>
#include <string.h>

#include "content.h"
#include "executor.h"
#include "history.h"
#include "kernel.h"

static bool is_execute(const struct job *job) { return job->kind == JOB_EXECUTE; }

/* A history file that failed (full, read-only, held by another kernel) is said on the stderr of
 * the cell it happened in, once; the cell runs as usual. */
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
        history_add(k->history, job->execution_count, code);
        say_history_trouble(k, job);
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
    if (job->history_output)
        history_set_output(k->history, job->execution_count, job->history_output);
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
