/* The executor thread with a fake engine: begin published by the caller when idle, stop_on_error
 * aborts exactly the executes received before the failed cell's reply was taken, and an input
 * wait ends when its abandon descriptor fires. */
#include "kernel/executor.h"

#include <poll.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "check.h"

/* ---- a fake engine: "block" waits for the test, "fail" too and then errors, "ask" reads
 * input ---- */

struct fake {
    sem_t release;    /* posted by the test to let a "block" cell finish */
    int abandon_fd;   /* what "ask" passes as its abandon descriptor */
    char ran[16][16]; /* the cells executed, in order */
    int n_ran;
    char answer[32];  /* what "ask" got ("<none>" for NULL) */
    bool interrupted; /* an interrupt the engine holds (set by interrupt, cleared by forget) */
    bool began_interrupted; /* what "record" found as it began */
};

static void fake_start(void *self) { (void)self; }
static void fake_stop(void *self) { (void)self; }
static void fake_interrupt(void *self) { ((struct fake *)self)->interrupted = true; }
static void fake_forget(void *self) { ((struct fake *)self)->interrupted = false; }

static void fake_execute(void *self, const struct engine_request *req,
                         const struct output_sink *sink, struct cell_outcome *outcome)
{
    struct fake *f = self;
    if (f->n_ran < 16)
        snprintf(f->ran[f->n_ran++], sizeof f->ran[0], "%s", req->code);
    if (strcmp(req->code, "record") == 0)
        f->began_interrupted = f->interrupted;
    if (strcmp(req->code, "block") == 0 || strcmp(req->code, "fail") == 0)
        sem_wait(&f->release);
    if (strcmp(req->code, "fail") == 0)
        cell_outcome_fail(outcome, CELL_ERROR, "E", "x", NULL);
    if (strcmp(req->code, "raise") == 0)
        cell_fail(sink, outcome, CELL_ERROR, "E", "x");
    if (strcmp(req->code, "ask") == 0) {
        char *value = output_input(sink, "? ", false, f->abandon_fd);
        snprintf(f->answer, sizeof f->answer, "%s", value ? value : "<none>");
        free(value);
    }
    if (strcmp(req->code, "show") == 0) {
        /* one call of each kind, for the messages they become */
        json_t *data = J("{\"text/plain\":\"1\"}"), *md = J("{}");
        output_stream(sink, OUTPUT_STDERR, "warn\n", 5);
        output_display(sink, data, md, NULL, false);
        output_display(sink, data, md, "d1", true);
        output_clear(sink, true);
        output_result(sink, data, md);
        outcome->pages = J("[{\"text/plain\":\"Docstring\"}]");
        json_decref(data);
        json_decref(md);
    }
}

static void fake_complete(void *self, const char *code, int cursor, struct completion *out)
{
    (void)self, (void)code;
    completion_empty(out, cursor);
}

static void fake_inspect(void *self, const char *code, int cursor, int detail,
                         struct inspection *out)
{
    (void)self, (void)code, (void)cursor, (void)detail;
    inspection_empty(out);
}

static void fake_is_complete(void *self, const char *code, struct completeness *out)
{
    (void)self, (void)code;
    *out = (struct completeness){COMPLETENESS_COMPLETE, ""};
}

static void fake_kernel_info(void *self, struct language_info *out)
{
    (void)self;
    *out = (struct language_info){.name = "fake"};
}

/* ---- helpers ---- */

static struct job *execute_job(const char *code)
{
    struct job *job = calloc(1, sizeof *job);
    job->kind = JOB_EXECUTE;
    job->request = jmsg_build("test", "execute_request", NULL, json_pack("{s:s}", "code", code));
    job->store_history = job->stop_on_error = job->allow_stdin = true;
    return job;
}

static const char *code_of(const struct job *job)
{
    return json_string_value(json_object_get(job->request->content, "code"));
}

/* The next event, waiting for it up to 5 s (NULL on timeout). */
static struct event *next_event(struct executor *ex)
{
    for (int tries = 0; tries < 50; tries++) {
        struct event *event = executor_next_event(ex);
        if (event)
            return event;
        struct pollfd pfd = {.fd = executor_event_fd(ex), .events = POLLIN};
        poll(&pfd, 1, 100);
    }
    return NULL;
}

/* Takes the next event and checks its kind and cell; frees it (and the job once it ended). */
static void expect(struct executor *ex, enum event_kind kind, const char *code, const char *status)
{
    struct event *event = next_event(ex);
    CHECK(event != NULL);
    if (!event)
        return;
    CHECK(event->kind == kind);
    CHECK(strcmp(code_of(event->job), code) == 0);
    if (status)
        CHECK(strcmp(json_string_value(json_object_get(event->content, "status")), status) == 0);
    if (event->kind == EVENT_DONE || event->kind == EVENT_ABORTED)
        job_free(event->job);
    event_free(event);
}

/* Waits until an event is posted, without taking it. */
static void wait_posted(struct executor *ex)
{
    struct pollfd pfd = {.fd = executor_event_fd(ex), .events = POLLIN};
    CHECK(poll(&pfd, 1, 5000) == 1);
}

/* ---- tests ---- */

static void test_begin_is_published_by_the_caller_only_when_idle(struct executor *ex,
                                                                 struct fake *f)
{
    struct job *first = execute_job("block"), *second = execute_job("second");
    CHECK(executor_submit(ex, first));
    CHECK(first->execution_count == 1);
    CHECK(!executor_submit(ex, second)); /* the first is still running: begin comes as an event */
    sem_post(&f->release);
    expect(ex, EVENT_DONE, "block", "ok");
    struct event *begin = next_event(ex);
    CHECK(begin && begin->kind == EVENT_BEGIN && begin->job == second);
    CHECK(begin && begin->job->execution_count == 2);
    event_free(begin);
    expect(ex, EVENT_DONE, "second", "ok");
}

static void test_stop_on_error_aborts_what_came_before_the_reply(struct executor *ex,
                                                                 struct fake *f)
{
    int before = f->n_ran;
    struct job *blocker = execute_job("block");
    CHECK(executor_submit(ex, blocker));
    CHECK(!executor_submit(ex, execute_job("fail")));
    CHECK(!executor_submit(ex, execute_job("queued")));
    sem_post(&f->release);
    expect(ex, EVENT_DONE, "block", "ok");
    expect(ex, EVENT_BEGIN, "fail", NULL);
    sem_post(&f->release);
    wait_posted(ex); /* the failed cell's end is posted, not yet taken: its reply is not out */
    CHECK(!executor_submit(ex, execute_job("meanwhile")));
    expect(ex, EVENT_DONE, "fail", "error");
    expect(ex, EVENT_ABORTED, "queued", NULL);
    expect(ex, EVENT_ABORTED, "meanwhile", NULL);
    /* Sent after the client saw the error: runs, and begins at once. */
    CHECK(executor_submit(ex, execute_job("after")));
    expect(ex, EVENT_DONE, "after", "ok");
    CHECK(f->n_ran == before + 3);
    CHECK(strcmp(f->ran[f->n_ran - 1], "after") == 0);
    CHECK(strcmp(f->ran[f->n_ran - 2], "fail") == 0);
}

/* A cell's typed outputs, as the messages the main thread publishes (content.c), in order; the
 * reply carries the pager's page. */
static void test_outputs_become_messages(struct executor *ex)
{
    CHECK(executor_submit(ex, execute_job("show")));
    static const struct {
        const char *msg_type, *content;
    } want[] = {
        {"stream", "{\"name\":\"stderr\",\"text\":\"warn\\n\"}"},
        {"display_data", "{\"data\":{\"text/plain\":\"1\"},\"metadata\":{},\"transient\":{}}"},
        {"update_display_data", "{\"data\":{\"text/plain\":\"1\"},\"metadata\":{},"
                                "\"transient\":{\"display_id\":\"d1\"}}"},
        {"clear_output", "{\"wait\":true}"},
        {"execute_result", "{\"data\":{\"text/plain\":\"1\"},\"metadata\":{},"
                           "\"execution_count\":0}"},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        struct event *event = next_event(ex);
        CHECK(event && event->kind == EVENT_OUTPUT);
        if (!event)
            return;
        json_t *expected = J(want[i].content);
        if (json_object_get(expected, "execution_count")) /* the job's count, given at begin */
            json_object_set_new(expected, "execution_count",
                                json_integer(event->job->execution_count));
        CHECK(strcmp(event->msg_type, want[i].msg_type) == 0);
        CHECK(json_equal(event->content, expected));
        if (!json_equal(event->content, expected)) {
            char *got = json_dumps(event->content, JSON_SORT_KEYS);
            fprintf(stderr, "  %s: got %s\n", want[i].msg_type, got);
            free(got);
        }
        json_decref(expected);
        event_free(event);
    }
    struct event *done = next_event(ex);
    CHECK(done && done->kind == EVENT_DONE);
    if (!done)
        return;
    json_t *expected =
        J("{\"status\":\"ok\",\"execution_count\":0,\"user_expressions\":{},"
          "\"payload\":[{\"source\":\"page\",\"data\":{\"text/plain\":\"Docstring\"},"
          "\"start\":0}]}");
    json_object_set_new(expected, "execution_count", json_integer(done->job->execution_count));
    CHECK(json_equal(done->content, expected));
    json_decref(expected);
    job_free(done->job);
    event_free(done);
}

/* A failed cell's error output and its reply have the one shape (common/outcome.h). */
static void test_error_shape(struct executor *ex)
{
    CHECK(executor_submit(ex, execute_job("raise")));
    struct event *error = next_event(ex);
    CHECK(error && error->kind == EVENT_OUTPUT && strcmp(error->msg_type, "error") == 0);
    json_t *want = J("{\"ename\":\"E\",\"evalue\":\"x\",\"traceback\":[\"E: x\"]}");
    CHECK(error && json_equal(error->content, want));
    event_free(error);
    json_decref(want);
    struct event *done = next_event(ex);
    CHECK(done && done->kind == EVENT_DONE);
    if (!done)
        return;
    want = J("{\"status\":\"error\",\"ename\":\"E\",\"evalue\":\"x\",\"traceback\":[\"E: x\"],"
             "\"execution_count\":0}");
    json_object_set_new(want, "execution_count", json_integer(done->job->execution_count));
    CHECK(json_equal(done->content, want));
    json_decref(want);
    job_free(done->job);
    event_free(done);
}

static void test_input_answered(struct executor *ex, struct fake *f)
{
    CHECK(executor_submit(ex, execute_job("ask")));
    struct event *input = next_event(ex);
    CHECK(input && input->kind == EVENT_INPUT);
    event_free(input);
    executor_answer_input(ex, "hello");
    expect(ex, EVENT_DONE, "ask", "ok");
    CHECK(strcmp(f->answer, "hello") == 0);
}

static void test_input_abandoned(struct executor *ex, struct fake *f)
{
    CHECK(executor_submit(ex, execute_job("ask")));
    struct event *input = next_event(ex);
    CHECK(input && input->kind == EVENT_INPUT);
    event_free(input);
    uint64_t one = 1;
    CHECK(write(f->abandon_fd, &one, sizeof one) == sizeof one); /* "the worker died" */
    expect(ex, EVENT_DONE, "ask", "ok");
    CHECK(strcmp(f->answer, "<none>") == 0);
    executor_answer_input(ex, "too late"); /* ignored: nobody waits */
    uint64_t drained;
    CHECK(read(f->abandon_fd, &drained, sizeof drained) == sizeof drained);
    CHECK(executor_submit(ex, execute_job("ask")));
    input = next_event(ex);
    CHECK(input && input->kind == EVENT_INPUT);
    event_free(input);
    executor_answer_input(ex, "fresh");
    expect(ex, EVENT_DONE, "ask", "ok");
    CHECK(strcmp(f->answer, "fresh") == 0);
}

/* An interrupt that comes as a cell ends (VS Code's SIGINT to the kernel, once the worker got
 * its own copy and the cell is over) is that cell's: the next one does not begin interrupted. */
static void test_an_interrupt_as_a_cell_ends_is_not_the_next_ones(struct executor *ex,
                                                                  struct fake *f)
{
    int before = f->n_ran;
    CHECK(executor_submit(ex, execute_job("block")));
    while (f->n_ran == before) /* the cell runs */
        usleep(1000);
    executor_interrupt(ex); /* the engine is done with the cell any moment now */
    CHECK(f->interrupted);
    sem_post(&f->release);
    expect(ex, EVENT_DONE, "block", "ok");
    CHECK(executor_submit(ex, execute_job("record")));
    expect(ex, EVENT_DONE, "record", "ok");
    CHECK(!f->began_interrupted);
}

int main(void)
{
    struct fake f = {0};
    sem_init(&f.release, 0, 0);
    f.abandon_fd = eventfd(0, EFD_CLOEXEC);
    struct engine engine = {&f,           fake_start,       fake_execute,     fake_complete,
                            fake_inspect, fake_is_complete, fake_kernel_info, fake_interrupt,
                            fake_stop,    fake_forget};
    struct executor *ex = executor_start(&engine);
    CHECK(ex != NULL);
    if (!ex)
        return check_summary("executor");
    test_begin_is_published_by_the_caller_only_when_idle(ex, &f);
    test_stop_on_error_aborts_what_came_before_the_reply(ex, &f);
    test_input_answered(ex, &f);
    test_input_abandoned(ex, &f);
    test_outputs_become_messages(ex);
    test_error_shape(ex);
    test_an_interrupt_as_a_cell_ends_is_not_the_next_ones(ex, &f);
    CHECK(executor_stop(ex, 2000));
    close(f.abandon_fd);
    return check_summary("executor");
}
