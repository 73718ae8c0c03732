/* What the kernel does with each request. Control and the quick shell requests are answered
 * here on the main thread; cell work is queued for the executor thread. */
#include <string.h>

#include "common/log.h"
#include "executor.h"
#include "history.h"
#include "kernel.h"
#include "kernel/content.h"

static bool type_is(const struct jmsg *msg, const char *type)
{
    return strcmp(jmsg_type(msg), type) == 0;
}

static bool bool_field(const json_t *content, const char *key, bool fallback)
{
    const json_t *value = json_object_get(content, key);
    return json_is_boolean(value) ? json_is_true(value) : fallback;
}

/* busy → reply → idle, for requests answered on the spot. */
static void answer(struct kernel *k, void *socket, struct jmsg *request, json_t *content)
{
    kernel_publish_status(k, request, "busy");
    kernel_reply(k, socket, request, content);
    kernel_publish_status(k, request, "idle");
}

/* What the engine says of its language, as the reply (the engine answers at once: this is the
 * main thread, and kernel_info is how clients learn the kernel is alive). */
static json_t *kernel_info(struct kernel *k)
{
    struct language_info language = {0};
    k->engine->kernel_info(k->engine->self, &language);
    return content_kernel_info_reply(&language);
}

static void shutdown_kernel(struct kernel *k, void *socket, struct jmsg *request)
{
    bool restart = bool_field(request->content, "restart", false);
    json_t *content = json_pack("{s:s, s:b}", "status", "ok", "restart", restart);
    kernel_publish_status(k, request, "busy");
    kernel_reply(k, socket, request, json_incref(content));
    /* ipykernel also broadcasts the reply, so every client learns of the shutdown. */
    kernel_publish(k, "shutdown_reply", request, content);
    kernel_publish_status(k, request, "idle");
    k->shutting_down = true;
}

static void interrupt(struct kernel *k, void *socket, struct jmsg *request)
{
    kernel_interrupt(k);
    answer(k, socket, request, json_pack("{s:s}", "status", "ok"));
}

/* Requests every channel answers at once. Returns false when `msg` is not one of them. */
static bool handle_immediate(struct kernel *k, void *socket, struct jmsg *msg)
{
    if (type_is(msg, "kernel_info_request"))
        answer(k, socket, msg, kernel_info(k));
    else if (type_is(msg, "shutdown_request"))
        shutdown_kernel(k, socket, msg);
    else if (type_is(msg, "interrupt_request"))
        interrupt(k, socket, msg);
    else
        return false;
    return true;
}

void dispatch_control(struct kernel *k, struct jmsg *msg)
{
    if (!handle_immediate(k, k->control, msg)) {
        log_warn("unsupported control request %s", jmsg_type(msg));
        answer(k, k->control, msg,
               content_error_reply_for("NotImplemented", "unsupported request"));
    }
    jmsg_free(msg);
}

static void queue_job(struct kernel *k, struct jmsg *msg, enum job_kind kind)
{
    struct job *job = calloc(1, sizeof *job);
    if (!job) {
        jmsg_free(msg);
        return;
    }
    const json_t *content = msg->content;
    job->kind = kind;
    job->request = msg;
    job->silent = bool_field(content, "silent", false);
    job->store_history = !job->silent && bool_field(content, "store_history", true);
    job->allow_stdin = bool_field(content, "allow_stdin", true);
    job->stop_on_error = bool_field(content, "stop_on_error", true);
    if (executor_submit(k->executor, job))
        publish_begin(k, job);
}

void dispatch_shell(struct kernel *k, struct jmsg *msg)
{
    if (handle_immediate(k, k->shell, msg)) {
        jmsg_free(msg);
        return;
    }
    if (type_is(msg, "execute_request"))
        queue_job(k, msg, JOB_EXECUTE);
    else if (type_is(msg, "complete_request"))
        queue_job(k, msg, JOB_COMPLETE);
    else if (type_is(msg, "inspect_request"))
        queue_job(k, msg, JOB_INSPECT);
    else if (type_is(msg, "is_complete_request"))
        queue_job(k, msg, JOB_IS_COMPLETE);
    else {
        if (type_is(msg, "history_request")) {
            kernel_save_unsaved_input(k); /* the running cell is in the answer, as in IPython */
            answer(k, k->shell, msg, history_reply(k->history, msg->content));
        } else if (type_is(msg, "comm_info_request"))
            answer(k, k->shell, msg, json_pack("{s:s, s:{}}", "status", "ok", "comms"));
        else if (strncmp(jmsg_type(msg), "comm_", 5) == 0)
            log_debug("ignoring %s: this kernel has no comm targets", jmsg_type(msg));
        else
            log_warn("unsupported shell request %s", jmsg_type(msg));
        jmsg_free(msg);
    }
}

void dispatch_stdin(struct kernel *k, struct jmsg *msg)
{
    if (type_is(msg, "input_reply")) {
        const char *value = json_string_value(json_object_get(msg->content, "value"));
        if (k->input_asked && jmsg_same_ids(msg, k->input_asked))
            executor_answer_input(k->executor, value ? value : "");
        else
            log_warn("input_reply from a client that was not asked for input: ignored");
    }
    jmsg_free(msg);
}
