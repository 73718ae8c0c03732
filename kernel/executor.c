#include "executor.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/utf8.h"
#include "kernel/content.h"

struct input_slot {
    bool waiting, answered;
    char *value; /* NULL with answered = cancelled */
};

struct executor {
    struct engine *engine;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    /* Held while an interrupt is given to the engine and while a request ends: an interrupt is
     * for the request that runs or the next one, never for one that is over. */
    pthread_mutex_t interrupt_lock;
    pthread_cond_t jobs_ready;
    int input_fd; /* eventfd: the input slot was answered or cancelled */
    struct job *jobs_head, *jobs_tail;
    struct event *events_head, *events_tail;
    struct input_slot input;
    struct job *running;
    int unfinished; /* jobs submitted whose EVENT_DONE/ABORTED the main thread has not taken */
    /* An execute that failed with stop_on_error, until the main thread takes its EVENT_DONE:
     * executes received meanwhile (before its reply went out) are aborted too. */
    const struct job *aborting_after;
    int execution_count;
    int event_fd;
    bool stopped;
};

void job_free(struct job *job)
{
    if (!job)
        return;
    jmsg_free(job->request);
    free(job->history_output);
    free(job);
}

void event_free(struct event *event)
{
    if (!event)
        return;
    json_decref(event->content);
    json_decref(event->metadata);
    free(event);
}

static struct event *new_event(enum event_kind kind, struct job *job, const char *msg_type,
                               json_t *content)
{
    struct event *event = calloc(1, sizeof *event);
    if (!event) {
        json_decref(content);
        return NULL;
    }
    *event = (struct event){.kind = kind, .job = job, .content = content};
    snprintf(event->msg_type, sizeof event->msg_type, "%s", msg_type ? msg_type : "");
    return event;
}

static void append_event_locked(struct executor *ex, struct event *event)
{
    if (!event)
        return;
    if (ex->events_tail)
        ex->events_tail->next = event;
    else
        ex->events_head = event;
    ex->events_tail = event;
}

static void wake_main(struct executor *ex) { eventfd_write(ex->event_fd, 1); }

static void post_event(struct executor *ex, enum event_kind kind, struct job *job,
                       const char *msg_type, json_t *content)
{
    struct event *event = new_event(kind, job, msg_type, content);
    pthread_mutex_lock(&ex->lock);
    append_event_locked(ex, event);
    pthread_mutex_unlock(&ex->lock);
    wake_main(ex);
}

/* ---- the sink the engine writes a cell's outputs to: each call becomes an iopub message's
 * content (content.c), posted for the main thread to publish ---- */

static void post_output(struct executor *ex, const char *msg_type, json_t *content)
{
    if (content)
        post_event(ex, EVENT_OUTPUT, ex->running, msg_type, content);
    else
        log_error("out of memory: an output of the cell was dropped");
}

static void sink_stream(void *ctx, enum output_stream name, const char *text, size_t len)
{
    const char *msg_type;
    json_t *content = content_stream(name, text, len, &msg_type);
    post_output(ctx, msg_type, content);
}

static void sink_display(void *ctx, json_t *data, json_t *metadata, const char *display_id,
                         bool update)
{
    const char *msg_type;
    json_t *content = content_display(data, metadata, display_id, update, &msg_type);
    post_output(ctx, msg_type, content);
}

static void sink_clear(void *ctx, bool wait)
{
    const char *msg_type;
    json_t *content = content_clear(wait, &msg_type);
    post_output(ctx, msg_type, content);
}

static void sink_result(void *ctx, json_t *data, json_t *metadata)
{
    struct executor *ex = ctx;
    const char *msg_type;
    json_t *content = content_result(data, metadata, ex->running->execution_count, &msg_type);
    post_output(ex, msg_type, content);
}

static void sink_error(void *ctx, const struct cell_error *error)
{
    const char *msg_type;
    json_t *content = content_error(error, &msg_type);
    post_output(ctx, msg_type, content);
}

/* Takes the answer when there is one (the slot is then free again). */
static bool take_answer(struct executor *ex, char **value)
{
    pthread_mutex_lock(&ex->lock);
    bool answered = ex->input.answered;
    if (answered) {
        *value = ex->input.value;
        ex->input = (struct input_slot){0};
    }
    pthread_mutex_unlock(&ex->lock);
    return answered;
}

/* Nobody waits any more: an answer already given is dropped, a later one ignored. */
static void withdraw_input(struct executor *ex)
{
    pthread_mutex_lock(&ex->lock);
    free(ex->input.value);
    ex->input = (struct input_slot){0};
    pthread_mutex_unlock(&ex->lock);
}

/* Waits for executor_answer_input, or for abandon_fd to become readable (the worker died at its
 * prompt): then the request is withdrawn and a late answer is ignored. */
static char *wait_for_answer(struct executor *ex, int abandon_fd)
{
    char *value = NULL;
    while (!take_answer(ex, &value)) {
        struct pollfd fds[2] = {{.fd = ex->input_fd, .events = POLLIN},
                                {.fd = abandon_fd, .events = POLLIN}};
        bool failed = poll(fds, abandon_fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR;
        if (failed)
            log_error("waiting for input: %s", strerror(errno));
        eventfd_t count;
        if (fds[0].revents & POLLIN)
            eventfd_read(ex->input_fd, &count);
        if (failed || (abandon_fd >= 0 && fds[1].revents)) {
            withdraw_input(ex);
            return NULL;
        }
    }
    return value;
}

static char *sink_read_input(void *ctx, const char *prompt, bool password, int abandon_fd)
{
    struct executor *ex = ctx;
    if (!ex->running || !ex->running->allow_stdin)
        return NULL;
    pthread_mutex_lock(&ex->lock);
    ex->input = (struct input_slot){.waiting = true};
    pthread_mutex_unlock(&ex->lock);
    post_event(ex, EVENT_INPUT, ex->running, "input_request",
               content_input_request(prompt, password));
    return wait_for_answer(ex, abandon_fd);
}

void executor_answer_input(struct executor *ex, const char *value)
{
    pthread_mutex_lock(&ex->lock);
    bool woken = ex->input.waiting && !ex->input.answered;
    if (woken) {
        ex->input.value = value ? strdup(value) : NULL;
        ex->input.answered = true;
    }
    pthread_mutex_unlock(&ex->lock);
    if (woken)
        eventfd_write(ex->input_fd, 1);
}

/* ---- running jobs ---- */

static const char *string_field(const json_t *content, const char *key)
{
    return json_string_value(json_object_get(content, key));
}

/* -1 (not given) unless an integer an int holds: 2^32 + 3 is not position 3. */
static int int_field(const json_t *content, const char *key)
{
    const json_t *value = json_object_get(content, key);
    json_int_t n = json_is_integer(value) ? json_integer_value(value) : -1;
    return n >= INT_MIN && n <= INT_MAX ? (int)n : -1;
}

/* The engine is done with the running request: from here an interrupt is for the next one, and
 * what is left of one meant for this one is dropped, with no interrupt in between. */
static void end_request(struct executor *ex)
{
    pthread_mutex_lock(&ex->interrupt_lock);
    pthread_mutex_lock(&ex->lock);
    ex->running = NULL;
    pthread_mutex_unlock(&ex->lock);
    if (ex->engine->forget_interrupt)
        ex->engine->forget_interrupt(ex->engine->self);
    pthread_mutex_unlock(&ex->interrupt_lock);
}

static json_t *run_execute(struct executor *ex, struct job *job, json_t **metadata)
{
    const char *code = string_field(job->request->content, "code");
    if (!job->begun) {
        job->execution_count = ex->execution_count;
        post_event(ex, EVENT_BEGIN, job, NULL, NULL);
    }
    struct output_sink sink = {ex,          sink_stream, sink_display,   sink_clear,
                               sink_result, sink_error,  sink_read_input};
    struct cell_outcome outcome = {0};
    if (!code) {
        cell_fail(&sink, &outcome, CELL_ERROR, "InvalidRequest",
                  "execute_request needs a string \"code\"");
    } else {
        struct engine_request request = {code, job->execution_count, job->silent,
                                         job->store_history, job->allow_stdin};
        ex->engine->execute(ex->engine->self, &request, &sink, &outcome);
    }
    end_request(ex);
    if (job->store_history)
        ex->execution_count++;
    json_t *reply = content_execute_reply(&outcome, job->execution_count);
    *metadata = outcome.metadata ? json_incref(outcome.metadata) : NULL;
    cell_outcome_clear(&outcome);
    return reply;
}

static json_t *run_query(struct executor *ex, struct job *job)
{
    if (!job->begun)
        post_event(ex, EVENT_BEGIN, job, NULL, NULL);
    const json_t *content = job->request->content;
    const char *code = string_field(content, "code");
    if (!code)
        return content_error_reply_for("InvalidRequest", "the request needs a string \"code\"");
    /* In code points (protocol 5.2). Missing, not an int or past the end: the end, as
     * ipykernel takes a missing one. */
    int cursor = int_field(content, "cursor_pos");
    size_t end = utf8_codepoints(code, strlen(code));
    if (cursor < 0 || (size_t)cursor > end)
        cursor = end <= INT_MAX ? (int)end : INT_MAX;
    void *self = ex->engine->self;
    json_t *reply;
    if (job->kind == JOB_COMPLETE) {
        struct completion completion = {0};
        ex->engine->complete(self, code, cursor, &completion);
        reply = content_complete_reply(&completion);
        completion_clear(&completion);
    } else if (job->kind == JOB_INSPECT) {
        struct inspection inspection = {0};
        ex->engine->inspect(self, code, cursor, int_field(content, "detail_level") > 0,
                            &inspection);
        reply = content_inspect_reply(&inspection);
        inspection_clear(&inspection);
    } else {
        struct completeness completeness = {COMPLETENESS_UNKNOWN, ""};
        ex->engine->is_complete(self, code, &completeness);
        reply = content_is_complete_reply(&completeness);
    }
    return reply;
}

static struct job *next_job(struct executor *ex)
{
    pthread_mutex_lock(&ex->lock);
    while (!ex->jobs_head)
        pthread_cond_wait(&ex->jobs_ready, &ex->lock);
    struct job *job = ex->jobs_head;
    ex->jobs_head = job->next;
    if (!ex->jobs_head)
        ex->jobs_tail = NULL;
    job->next = NULL;
    ex->running = job;
    pthread_mutex_unlock(&ex->lock);
    return job;
}

static struct job *take_queued_executes_locked(struct executor *ex)
{
    struct job *taken = NULL, **taken_tail = &taken;
    struct job **link = &ex->jobs_head;
    ex->jobs_tail = NULL;
    while (*link) {
        struct job *job = *link;
        if (job->kind == JOB_EXECUTE) {
            *link = job->next;
            job->next = NULL;
            *taken_tail = job;
            taken_tail = &job->next;
        } else {
            ex->jobs_tail = job;
            link = &job->next;
        }
    }
    return taken;
}

/* A job's end. After an error with stop_on_error, executes already received are answered
 * "aborted": the queued ones are taken in the same locked step as the reply is posted, before
 * the next job is taken (none can start in between) and before the main thread can send the
 * reply (a cell sent after the client saw it is never aborted). */
static void post_done(struct executor *ex, struct job *job, json_t *reply, json_t *metadata,
                      bool abort_rest)
{
    struct event *done = new_event(EVENT_DONE, job, NULL, reply);
    if (done)
        done->metadata = metadata;
    else
        json_decref(metadata);
    pthread_mutex_lock(&ex->lock);
    ex->running = NULL;
    append_event_locked(ex, done);
    if (abort_rest && done) {
        ex->aborting_after = job;
        for (struct job *queued = take_queued_executes_locked(ex); queued;) {
            struct job *next = queued->next;
            queued->next = NULL;
            append_event_locked(ex, new_event(EVENT_ABORTED, queued, NULL, NULL));
            queued = next;
        }
    }
    pthread_mutex_unlock(&ex->lock);
    wake_main(ex);
}

static void *executor_main(void *arg)
{
    struct executor *ex = arg;
    ex->engine->start(ex->engine->self);
    for (;;) {
        struct job *job = next_job(ex);
        if (job->kind == JOB_STOP) {
            /* executor_stop interrupts after queueing this job: it must not find it running
             * once freed (ASan: a use after free at every shutdown that lost the race) */
            pthread_mutex_lock(&ex->lock);
            ex->running = NULL;
            pthread_mutex_unlock(&ex->lock);
            job_free(job);
            break;
        }
        json_t *metadata = NULL;
        json_t *reply =
            job->kind == JOB_EXECUTE ? run_execute(ex, job, &metadata) : run_query(ex, job);
        const char *status = json_string_value(json_object_get(reply, "status"));
        bool abort_rest = job->kind == JOB_EXECUTE && job->stop_on_error && status &&
                          strcmp(status, "error") == 0;
        post_done(ex, job, reply, metadata, abort_rest);
    }
    ex->engine->stop(ex->engine->self);
    pthread_mutex_lock(&ex->lock);
    ex->stopped = true;
    pthread_mutex_unlock(&ex->lock);
    return NULL;
}

struct executor *executor_start(struct engine *engine)
{
    struct executor *ex = calloc(1, sizeof *ex);
    if (!ex)
        return NULL;
    ex->engine = engine;
    ex->execution_count = 1;
    pthread_mutex_init(&ex->lock, NULL);
    pthread_mutex_init(&ex->interrupt_lock, NULL);
    pthread_cond_init(&ex->jobs_ready, NULL);
    ex->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ex->input_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ex->event_fd < 0 || ex->input_fd < 0 ||
        pthread_create(&ex->thread, NULL, executor_main, ex) != 0) {
        log_error("cannot start the executor thread");
        if (ex->event_fd >= 0)
            close(ex->event_fd);
        if (ex->input_fd >= 0)
            close(ex->input_fd);
        free(ex);
        return NULL;
    }
    ex->thread_started = true;
    return ex;
}

int executor_event_fd(const struct executor *ex) { return ex->event_fd; }

bool executor_submit(struct executor *ex, struct job *job)
{
    pthread_mutex_lock(&ex->lock);
    ex->unfinished++;
    if (ex->aborting_after && job->kind == JOB_EXECUTE) {
        append_event_locked(ex, new_event(EVENT_ABORTED, job, NULL, NULL));
        pthread_mutex_unlock(&ex->lock);
        wake_main(ex);
        return false;
    }
    /* Idle and every earlier job's end already taken by the main thread: nothing of theirs can
     * still be published, so this job's begin may go out now, from the caller. */
    job->begun = ex->unfinished == 1;
    if (job->begun)
        job->execution_count = ex->execution_count;
    if (ex->jobs_tail)
        ex->jobs_tail->next = job;
    else
        ex->jobs_head = job;
    ex->jobs_tail = job;
    bool begun = job->begun;
    pthread_mutex_unlock(&ex->lock);
    /* After the unlock: signalled under the lock, the woken thread would find the lock still
     * held and sleep again, a second wake-up on every cell's path. */
    pthread_cond_signal(&ex->jobs_ready);
    return begun;
}

struct event *executor_next_event(struct executor *ex)
{
    eventfd_t count;
    eventfd_read(ex->event_fd, &count);
    pthread_mutex_lock(&ex->lock);
    struct event *event = ex->events_head;
    if (event) {
        ex->events_head = event->next;
        if (!ex->events_head)
            ex->events_tail = NULL;
        event->next = NULL;
        if (event->kind == EVENT_DONE || event->kind == EVENT_ABORTED)
            ex->unfinished--;
        if (event->kind == EVENT_DONE && event->job == ex->aborting_after)
            ex->aborting_after = NULL;
    }
    pthread_mutex_unlock(&ex->lock);
    return event;
}

struct job *executor_take_queued_executes(struct executor *ex)
{
    pthread_mutex_lock(&ex->lock);
    struct job *taken = take_queued_executes_locked(ex);
    pthread_mutex_unlock(&ex->lock);
    return taken;
}

/* An interrupt is for the execute that runs, or the one about to (its busy may be out before
 * the executor thread takes it); with none, it does nothing, as in ipykernel. The engine keeps
 * it until that request ends, so one sent as a cell begins is not lost. */
void executor_interrupt(struct executor *ex)
{
    pthread_mutex_lock(&ex->interrupt_lock);
    pthread_mutex_lock(&ex->lock);
    const struct job *target = ex->running ? ex->running : ex->jobs_head;
    bool for_execute = target && target->kind == JOB_EXECUTE;
    pthread_mutex_unlock(&ex->lock);
    if (for_execute)
        ex->engine->interrupt(ex->engine->self);
    pthread_mutex_unlock(&ex->interrupt_lock);
    executor_answer_input(ex, NULL);
}

static bool join_within(struct executor *ex, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    return pthread_timedjoin_np(ex->thread, NULL, &deadline) == 0;
}

/* After the thread is joined: what the main thread did not take (events own their job once
 * done or aborted), then the executor itself. */
static void executor_free(struct executor *ex)
{
    for (struct event *event = ex->events_head; event;) {
        struct event *next = event->next;
        if (event->kind == EVENT_DONE || event->kind == EVENT_ABORTED)
            job_free(event->job);
        event_free(event);
        event = next;
    }
    for (struct job *job = ex->jobs_head; job;) {
        struct job *next = job->next;
        job_free(job);
        job = next;
    }
    free(ex->input.value);
    close(ex->event_fd);
    close(ex->input_fd);
    pthread_cond_destroy(&ex->jobs_ready);
    pthread_mutex_destroy(&ex->lock);
    pthread_mutex_destroy(&ex->interrupt_lock);
    free(ex);
}

bool executor_stop(struct executor *ex, int timeout_ms)
{
    if (!ex)
        return true;
    struct job *stop = calloc(1, sizeof *stop);
    if (!stop)
        return false;
    stop->kind = JOB_STOP;
    /* The stop job goes first: queued work is abandoned at shutdown. */
    for (struct job *job = executor_take_queued_executes(ex); job;) {
        struct job *next = job->next;
        job_free(job);
        job = next;
    }
    pthread_mutex_lock(&ex->lock);
    stop->next = ex->jobs_head;
    ex->jobs_head = stop;
    if (!ex->jobs_tail)
        ex->jobs_tail = stop;
    pthread_cond_signal(&ex->jobs_ready);
    pthread_mutex_unlock(&ex->lock);
    executor_interrupt(ex);
    if (!join_within(ex, timeout_ms)) {
        log_warn("the executor did not stop within %d ms", timeout_ms);
        return false; /* still the thread's: leave it */
    }
    executor_free(ex);
    return true;
}
