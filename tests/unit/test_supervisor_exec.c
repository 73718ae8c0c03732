/* The supervisor running cells on a real worker (supervisor_fixture.h): output, results, errors,
 * state across cells, silent cells, input through the sink, the completion / inspection /
 * is_complete requests and the agent's syntax check and description of the namespace (bounded
 * even against a worker that stopped answering). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/clock.h"
#include "sandbox/supervisor/frame.h"
#include "sandbox/supervisor/supervisor.h"
#include "supervisor_fixture.h"

static void test_basics(void)
{
    struct sandbox_config cfg = base_config();
    int64_t t0 = monotonic_ms();
    struct sandbox *sb = start(&cfg);
    int64_t start_ms = monotonic_ms() - t0;
    CHECK(start_ms < 2000); /* returns at once: no waiting for ready */

    struct result r;
    run_cell(sb, "print('hello')\nimport sys\nprint('oops', file=sys.stderr)\n40 + 2", &r);
    printf("  sandbox_start returned in %lld ms; first cell (incl. worker start) %lld ms; worker "
           "ready in %lld ms\n",
           (long long)start_ms, (long long)r.ms, (long long)sandbox_test_active_ready_ms(sb));
    CHECK(r.out.status == CELL_OK);
    CHECK(!r.out.state_lost);
    CHECK(stream_has(&r, "stdout", "hello\n"));
    CHECK(stream_has(&r, "stderr", "oops\n"));
    CHECK(result_text(&r) && strcmp(result_text(&r), "42") == 0);
    if (r.out.status != CELL_OK)
        dump("basics", &r);
    result_free(&r);

    /* State across cells. */
    run_cell(sb, "x = 41", &r);
    CHECK(r.out.status == CELL_OK && count_type(&r, "result") == 0);
    result_free(&r);
    CHECK(cell_gives(sb, "x + 1", "42"));
    int64_t t1 = monotonic_ms();
    CHECK(cell_gives(sb, "1 + 1", "2"));
    printf("  warm round trip of 1+1: %lld ms\n", (long long)(monotonic_ms() - t1));

    /* Error outcome. */
    run_cell(sb, "def f():\n    return 1 / 0\nf()", &r);
    CHECK(r.out.status == CELL_ERROR);
    CHECK(r.out.error.ename && strcmp(r.out.error.ename, "ZeroDivisionError") == 0);
    CHECK(contains(r.out.error.evalue, "division by zero"));
    CHECK(json_is_array(r.out.error.traceback) && json_array_size(r.out.error.traceback) > 0);
    if (!using_fake) {
        /* The cell's count names it in the traceback, as IPython does. */
        char name[32];
        snprintf(name, sizeof name, "Cell In[%d]", cell_count - 1);
        char *tb = json_dumps(r.out.error.traceback, 0);
        CHECK(contains(tb, name));
        free(tb);
    }
    CHECK(!r.out.state_lost);
    CHECK(count_type(&r, "error") == 1);
    CHECK(contains(error_field(&r, "ename"), "ZeroDivisionError"));
    result_free(&r);
    CHECK(cell_gives(sb, "x", "41")); /* an error keeps the state */

    /* Silent: no execute_result. */
    struct capture cap = {.msgs = json_array()};
    struct output_sink sink = capture_sink(&cap);
    struct sandbox_cell cell = {.code = "7 * 6", .count = 99, .silent = true};
    struct cell_outcome out;
    sandbox_execute(sb, &cell, &sink, &out);
    CHECK(out.status == CELL_OK && json_array_size(cap.msgs) == 0);
    cell_outcome_clear(&out);
    json_decref(cap.msgs);

    /* Code that is not valid UTF-8 still reaches the worker (replaced). */
    run_cell(sb, "s = 'a\xff' + 'b'\nlen(s)", &r);
    CHECK(r.out.status == CELL_OK && result_text(&r) && strcmp(result_text(&r), "3") == 0);
    result_free(&r);

    int pid = sandbox_test_active_pid(sb);
    CHECK(pid > 0);
    sandbox_stop(sb);
    CHECK(process_gone(pid));
}

static void test_input(void)
{
    struct sandbox_config cfg = base_config();
    struct sandbox *sb = start(&cfg);
    struct result r;
    run_full(sb, "print('before')\nname = input('Name: ')\nprint('hi', name)\nname", 0, true, "Ada",
             &r);
    CHECK(r.out.status == CELL_OK);
    CHECK(r.cap.input_calls == 1);
    CHECK(strcmp(r.cap.prompt, "Name: ") == 0);
    CHECK(!r.cap.password);
    CHECK(stream_has(&r, "stdout", "hi Ada"));
    CHECK(result_text(&r) && strcmp(result_text(&r), "'Ada'") == 0);
    /* Output written before the prompt was flushed before the input request. */
    CHECK(json_array_size(r.cap.msgs) >= 1 &&
          contains(json_string_value(json_object_get(
                       json_object_get(json_array_get(r.cap.msgs, 0), "content"), "text")),
                   "before"));
    if (r.out.status != CELL_OK)
        dump("input", &r);
    result_free(&r);

    /* Cancelled (the sink returns NULL): the cell fails, the worker survives. */
    run_full(sb, "input('? ')", 0, true, NULL, &r);
    CHECK(r.out.status == CELL_ERROR);
    CHECK(!r.out.state_lost);
    result_free(&r);
    /* Not allowed: the sink is never asked. */
    run_full(sb, "input('? ')", 0, false, "nope", &r);
    CHECK(r.out.status == CELL_ERROR);
    CHECK(r.cap.input_calls == 0);
    result_free(&r);
    CHECK(cell_gives(sb, "name", "'Ada'"));
    sandbox_stop(sb);
}

static const char *completeness_name(enum completeness_status status)
{
    static const char *const names[] = {"complete", "incomplete", "invalid", "unknown"};
    return names[status];
}

static void test_requests(void)
{
    struct sandbox_config cfg = base_config();
    struct sandbox *sb = start(&cfg);
    /* Before any cell: the worker is still starting; the request waits for it (bounded). */
    struct completeness ready;
    sandbox_is_complete(sb, "x = 1", &ready);
    CHECK(ready.status == COMPLETENESS_COMPLETE);
    CHECK(cell_gives(sb, "alpha_value = 5\nalpha_value", "5"));

    struct completion c;
    sandbox_complete(sb, "print(alpha_v", 13, &c);
    bool found = false;
    size_t i;
    json_t *m;
    json_array_foreach(c.matches, i, m)
        if (strcmp(json_string_value(m), "alpha_value") == 0)
            found = true;
    CHECK(found);
    CHECK(c.cursor_start == 6);
    CHECK(c.cursor_end == 13);
    CHECK(json_is_object(c.metadata));
    completion_clear(&c);

    /* Cursor in code points: "é = 1; alpha_v" has é as 2 bytes. */
    sandbox_complete(sb, "\xc3\xa9 = 1; alpha_v", 14, &c);
    CHECK(c.cursor_end == 14);
    CHECK(c.cursor_start == 7);
    completion_clear(&c);
    /* Out-of-range cursor is clamped. */
    sandbox_complete(sb, "alpha_v", 500, &c);
    CHECK(c.cursor_end <= 7);
    completion_clear(&c);

    struct inspection in;
    sandbox_inspect(sb, "alpha_value", 11, 0, &in);
    CHECK(in.found);
    CHECK(contains(json_string_value(json_object_get(in.data, "text/plain")), "5"));
    inspection_clear(&in);
    sandbox_inspect(sb, "no_such_name_here", 5, 0, &in);
    CHECK(!in.found);
    CHECK(json_object_size(in.data) == 0);
    inspection_clear(&in);

    static const struct {
        const char *code;
        enum completeness_status status;
    } samples[] = {{"x = 1", COMPLETENESS_COMPLETE},
                   {"for i in range(3):", COMPLETENESS_INCOMPLETE},
                   {"x = (", COMPLETENESS_INCOMPLETE},
                   {"1 +* 2", COMPLETENESS_INVALID}};
    for (size_t k = 0; k < sizeof samples / sizeof *samples; k++) {
        struct completeness got;
        sandbox_is_complete(sb, samples[k].code, &got);
        CHECK(got.status == samples[k].status);
        if (got.status != samples[k].status)
            fprintf(stderr, "  is_complete(%s) = %s\n", samples[k].code,
                    completeness_name(got.status));
        if (got.status == COMPLETENESS_INCOMPLETE)
            CHECK(strspn(got.indent, " \t") == strlen(got.indent));
    }

    /* A worker that stops answering (SIGSTOP): empty replies after the timeout, never a hang. */
    struct result r;
    run_cell(sb,
             "import os, signal, threading, time\n"
             "threading.Thread(target=lambda: (time.sleep(0.2), os.kill(os.getpid(), "
             "signal.SIGSTOP))).start()",
             &r);
    result_free(&r);
    CHECK(wait_state(sandbox_test_active_pid(sb), "Tt"));
    int64_t t0 = monotonic_ms();
    sandbox_complete(sb, "alpha_v", 7, &c);
    int64_t took = monotonic_ms() - t0;
    CHECK(json_array_size(c.matches) == 0);
    CHECK(c.cursor_start == 7);
    CHECK(took >= SUP_REQUEST_TIMEOUT_MS - 100 && took < SUP_REQUEST_TIMEOUT_MS + 1500);
    printf("  completion against a stopped worker: empty reply after %lld ms\n", (long long)took);
    completion_clear(&c);
    struct completeness stopped;
    sandbox_is_complete(sb, "x = (", &stopped);
    CHECK(stopped.status == COMPLETENESS_UNKNOWN);
    /* The stopped worker cannot take the interrupt either: escalation kills it. */
    struct interrupter it;
    interrupt_after(&it, sb, 200);
    run_cell(sb, "1", &r);
    pthread_join(it.thread, NULL);
    CHECK(r.out.status == CELL_WORKER_LOST && r.out.state_lost);
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));
    sandbox_stop(sb);
}

/* What IPython's shell hands the frontend reaches the outcome: exit's request to leave, %load's
 * next cell. (IPython syntax needs the real runtime.) */
static void test_handed_to_the_frontend(void)
{
    if (using_fake)
        return;
    struct sandbox_config cfg = base_config();
    struct sandbox *sb = start(&cfg);
    struct result r;
    run_cell(sb, "exit(keep_kernel=True)", &r);
    CHECK(r.out.status == CELL_OK && r.out.exit_requested && r.out.keep_kernel);
    result_free(&r);
    run_cell(sb, "quit", &r);
    CHECK(r.out.status == CELL_OK && r.out.exit_requested && !r.out.keep_kernel);
    result_free(&r);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/snippet.py", workdir);
    FILE *f = fopen(path, "w");
    fputs("x = 41\n", f);
    fclose(f);
    run_cell(sb, "%load snippet.py", &r);
    CHECK(r.out.status == CELL_OK && contains(r.out.next_input, "x = 41"));
    CHECK(contains(r.out.next_input, "# %load snippet.py") && r.out.next_input_replaces);
    CHECK(!r.out.exit_requested);
    if (!contains(r.out.next_input, "x = 41"))
        dump("%load", &r);
    result_free(&r);
    unlink(path);
    sandbox_stop(sb);
}

static json_t *variable_named(const struct sandbox_context *ctx, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(ctx->variables, i, v)
        if (strcmp(json_string_value(json_object_get(v, "name")), name) == 0)
            return v;
    return NULL;
}

static const char *detail_of(const struct sandbox_context *ctx, const char *name)
{
    return json_string_value(json_object_get(variable_named(ctx, name), "detail"));
}

static bool has_string(const json_t *array, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(array, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return true;
    return false;
}

/* The agent's syntax check on a real worker: errors with their place, IPython syntax accepted,
 * nothing run. */
static void check_syntax_samples(struct sandbox *sb)
{
    struct syntax_check sc;
    sandbox_check_syntax(sb, "x = 1\nif x:\nprint(x)", &sc);
    CHECK(sc.status == SYNTAX_ERROR && strcmp(sc.ename, "IndentationError") == 0);
    CHECK(sc.lineno == 3 && sc.offset == 1 && strcmp(sc.text, "print(x)") == 0);
    CHECK(contains(sc.evalue, "expected an indented block"));
    sandbox_check_syntax(sb, "y = (1,", &sc);
    CHECK(sc.status == SYNTAX_ERROR && strcmp(sc.ename, "SyntaxError") == 0 && sc.lineno == 1);
    sandbox_check_syntax(sb, "files = !ls\n%time 1 + 1", &sc);
    CHECK(sc.status == SYNTAX_OK);
    sandbox_check_syntax(sb, "s = '\xff'", &sc); /* repaired, as a cell's code is */
    CHECK(sc.status == SYNTAX_OK);
    char path[PATH_MAX + 16], code[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/checked.txt", workdir);
    snprintf(code, sizeof code, "open('%s', 'w').write('ran')", path);
    sandbox_check_syntax(sb, code, &sc);
    CHECK(sc.status == SYNTAX_OK && access(path, F_OK) != 0);
}

/* The agent's description of what the cells made, on a real worker. */
static void describe_samples(struct sandbox *sb)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/sales.csv", workdir);
    FILE *f = fopen(path, "w");
    fputs("a,b\n1,x\n", f);
    fclose(f);
    struct result r;
    run_cell(sb,
             "import pandas as pd\n"
             "df = pd.DataFrame({'a': [1, 2, 3], 'b': ['x', 'y', 'z']})\n"
             "openai_key = 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z'\n"
             "note = 'sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z'\n"
             "count = 3",
             &r);
    CHECK(r.out.status == CELL_OK);
    result_free(&r);
    struct describe_options opts = {4000, 2, 50};
    struct sandbox_context ctx;
    sandbox_describe(sb, &opts, &ctx);
    CHECK(json_array_size(ctx.variables) == 4 && ctx.omitted == 0);
    CHECK(json_is(json_array_get(ctx.variables, 0),
                  "{\"name\":\"count\",\"type\":\"int\",\"detail\":\"3\"}")); /* newest first */
    const char *df = detail_of(&ctx, "df");
    CHECK(df && strncmp(df, "DataFrame, 3 rows \xc3\x97 2 columns: a int64, b object\n", 50) == 0);
    CHECK(contains(df, "y") && !contains(df, "z")); /* two sample rows */
    CHECK(contains(detail_of(&ctx, "openai_key"), "value hidden"));
    CHECK(contains(detail_of(&ctx, "note"), "[masked]") &&
          !contains(detail_of(&ctx, "note"), "sk-"));
    CHECK(has_string(ctx.libraries, "numpy") && has_string(ctx.libraries, "pandas"));
    CHECK(json_is(ctx.files, "[{\"name\":\"sales.csv\",\"size\":8,\"dir\":false}]"));
    CHECK(ctx.files_omitted == 0 && strcmp(ctx.cwd, workdir) == 0);
    sandbox_context_clear(&ctx);
    opts = (struct describe_options){0, 0, 0}; /* nothing fits */
    sandbox_describe(sb, &opts, &ctx);
    CHECK(json_array_size(ctx.variables) == 0 && ctx.omitted == 4);
    CHECK(json_array_size(ctx.files) == 0 && ctx.files_omitted == 1);
    sandbox_context_clear(&ctx);
    unlink(path);
}

/* The agent's queries (check, describe) against a real worker, and against one that stopped
 * answering: UNKNOWN and an empty context after the timeouts, never a hang. (The stand-in worker
 * knows neither frame.) */
static void test_context(void)
{
    if (using_fake)
        return;
    struct sandbox_config cfg = base_config();
    struct sandbox *sb = start(&cfg);
    struct syntax_check sc;
    sandbox_check_syntax(sb, "x = 1", &sc); /* before any cell: waits for the worker */
    CHECK(sc.status == SYNTAX_OK);
    check_syntax_samples(sb);
    describe_samples(sb);

    struct result r;
    run_cell(sb,
             "import os, signal, threading, time\n"
             "threading.Thread(target=lambda: (time.sleep(0.2), os.kill(os.getpid(), "
             "signal.SIGSTOP))).start()",
             &r);
    result_free(&r);
    CHECK(wait_state(sandbox_test_active_pid(sb), "Tt"));
    int64_t t0 = monotonic_ms();
    sandbox_check_syntax(sb, "x = (", &sc);
    int64_t took = monotonic_ms() - t0;
    CHECK(sc.status == SYNTAX_UNKNOWN);
    CHECK(took >= SUP_REQUEST_TIMEOUT_MS - 100 && took < SUP_REQUEST_TIMEOUT_MS + 1500);
    struct describe_options opts = {4000, 2, 50};
    struct sandbox_context ctx;
    t0 = monotonic_ms();
    sandbox_describe(sb, &opts, &ctx);
    took = monotonic_ms() - t0;
    CHECK(json_is(ctx.variables, "[]") && json_is(ctx.libraries, "[]") &&
          json_is(ctx.files, "[]") && ctx.cwd[0] == 0);
    CHECK(took >= SUP_DESCRIBE_TIMEOUT_MS - 100 && took < SUP_DESCRIBE_TIMEOUT_MS + 1500);
    printf("  check / describe against a stopped worker: no answer after %d / %lld ms\n",
           SUP_REQUEST_TIMEOUT_MS, (long long)took);
    sandbox_context_clear(&ctx);
    struct interrupter it;
    interrupt_after(&it, sb, 200);
    run_cell(sb, "1", &r);
    pthread_join(it.thread, NULL);
    CHECK(r.out.status == CELL_WORKER_LOST);
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));
    sandbox_stop(sb);
}

int main(void)
{
    if (fixture_init("supervisor_exec") != 0)
        return 1;
    RUN(basics);
    RUN(input);
    RUN(requests);
    RUN(handed_to_the_frontend);
    RUN(context);
    fixture_cleanup();
    return check_summary("supervisor_exec");
}
