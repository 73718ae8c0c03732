/* The executor thread: runs shell jobs (execute, complete, inspect, is_complete) one at a time
 * through the engine, so the main thread stays free to answer control at once. It never touches
 * a socket: it posts events that the main thread turns into messages. */
#ifndef WARDEN_EXECUTOR_H
#define WARDEN_EXECUTOR_H

#include <stdbool.h>

#include "engine.h"
#include "wire.h"

enum job_kind { JOB_EXECUTE, JOB_COMPLETE, JOB_INSPECT, JOB_IS_COMPLETE, JOB_STOP };

struct job {
    enum job_kind kind;
    struct jmsg *request; /* owned */
    int execution_count;  /* set when an execute begins */
    bool silent, store_history, allow_stdin, stop_on_error;
    bool begun; /* the main thread published its begin (executor_submit said so) */
    /* The execute_result's text/plain, for the history: written once idle is out (events.c) */
    char *history_output;
    struct job *next;
};

enum event_kind {
    EVENT_BEGIN,   /* job started: publish busy (and execute_input) */
    EVENT_OUTPUT,  /* msg_type + content to publish */
    EVENT_INPUT,   /* ask the frontend for input: content = {prompt, password} */
    EVENT_DONE,    /* content = reply content; the main thread now owns and frees the job */
    EVENT_ABORTED, /* a queued execute dropped after an error (stop_on_error); main frees the job */
};

struct event {
    enum event_kind kind;
    struct job *job;
    char msg_type[32];
    json_t *content;
    json_t *metadata; /* EVENT_DONE: the reply's metadata, or NULL */
    struct event *next;
};

struct executor;

struct executor *executor_start(struct engine *engine);
int executor_event_fd(const struct executor *ex);
/* Takes ownership of job. true when the executor was idle with nothing left to report: the job
 * then counts as begun (execution_count set, no EVENT_BEGIN will come) and the caller publishes
 * its busy/execute_input at once, before handling any further event — one hop less before the
 * frontend hears back. */
bool executor_submit(struct executor *ex, struct job *job);
/* Next event, or NULL; caller frees with event_free (the job only on EVENT_DONE). */
struct event *executor_next_event(struct executor *ex);
void event_free(struct event *event);
/* Removes queued (not yet started) execute jobs and returns them as a list. */
struct job *executor_take_queued_executes(struct executor *ex);
/* Answer the pending input request (value NULL = cancelled). */
void executor_answer_input(struct executor *ex, const char *value);
/* Interrupt the running job: engine interrupt + cancel an input wait. Any thread. */
void executor_interrupt(struct executor *ex);
/* Stop: interrupt, let the engine kill its workers, join (bounded), free the executor. Returns
 * false on timeout, when the executor is left to its thread (the process is about to end). */
bool executor_stop(struct executor *ex, int timeout_ms);
void job_free(struct job *job);

#endif
