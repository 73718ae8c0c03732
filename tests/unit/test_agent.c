/* The agent with a fake sandbox (agent_sandbox.h): how a cell is read and routed, what reaches the
 * sandbox for a %%python cell, the errors a cell gets when there is nothing to run it, the editor's
 * queries shifted past the magic line, and what the engine says of its language. */
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "agent/cell.h"
#include "check.h"

/* ---- reading and routing ---- */

static void test_cell_parse(void)
{
    struct cell_view v = cell_parse("%%python\nprint(1)");
    CHECK(v.is_python && strcmp(v.body, "print(1)") == 0 && v.body_offset == 9);
    v = cell_parse("%%python  \t\r\nx");
    CHECK(v.is_python && strcmp(v.body, "x") == 0);
    v = cell_parse("%%python");
    CHECK(v.is_python && strcmp(v.body, "") == 0 && v.body_offset == 8);
    v = cell_parse("%%pythonic\nx");
    CHECK(!v.is_python && v.body_offset == 0);
    v = cell_parse(" %%python\nx");
    CHECK(!v.is_python);
    v = cell_parse("%%python\n\xc3\xa9 = 1"); /* body offset counts code points */
    CHECK(v.body_offset == 9);

    CHECK(cell_is_blank("") && cell_is_blank(" \n\t ") && !cell_is_blank(" x "));
    CHECK(cell_ends_with_blank_line("%%python\nx = 1\n"));
    CHECK(cell_ends_with_blank_line("%%python\nx = 1\n   "));
    CHECK(!cell_ends_with_blank_line("%%python\nx = 1"));
    CHECK(!cell_ends_with_blank_line("no newline"));
}

static void test_cell_route(void)
{
    struct cell_view v;
    CHECK(cell_route("%%python\n1 + 1", &v) == ROUTE_PYTHON && strcmp(v.body, "1 + 1") == 0);
    CHECK(cell_route("", NULL) == ROUTE_BLANK);
    CHECK(cell_route("  \n\n", NULL) == ROUTE_BLANK);
    CHECK(cell_route("plot the sales by month", NULL) == ROUTE_REQUEST);
    CHECK(cell_route("print(1)", NULL) ==
          ROUTE_REQUEST); /* Python without the magic is a request */
    CHECK(cell_route("%%pythonx\n1", NULL) == ROUTE_REQUEST);
}

/* ---- a fake sandbox that records what it was asked ---- */

struct fake_sandbox {
    struct agent_sandbox port;
    bool start_fails;
    int executes, completes, inspects, is_completes, interrupts, forgets, stops;
    char code[128];
    int count, cursor;
    uint32_t wall_ms;
    bool silent, allow_stdin;
    enum completeness_status python_says;
};

static bool fake_start(void *self, char *err, size_t len)
{
    struct fake_sandbox *f = self;
    if (f->start_fails)
        snprintf(err, len, "no jail here");
    return !f->start_fails;
}

static void fake_execute(void *self, const struct sandbox_cell *cell,
                         const struct output_sink *sink, struct cell_outcome *out)
{
    struct fake_sandbox *f = self;
    f->executes++;
    snprintf(f->code, sizeof f->code, "%s", cell->code);
    f->count = cell->count;
    f->wall_ms = cell->wall_ms;
    f->silent = cell->silent;
    f->allow_stdin = cell->allow_stdin;
    output_stream(sink, OUTPUT_STDOUT, "ran\n", 4);
    out->status = CELL_OK;
}

static void fake_complete(void *self, const char *code, int cursor, struct completion *out)
{
    struct fake_sandbox *f = self;
    f->completes++;
    snprintf(f->code, sizeof f->code, "%s", code);
    f->cursor = cursor;
    completion_empty(out, cursor);
    out->cursor_start = cursor - 2;
    json_array_append_new(out->matches, json_string("print"));
}

static void fake_inspect(void *self, const char *code, int cursor, int detail,
                         struct inspection *out)
{
    struct fake_sandbox *f = self;
    (void)detail;
    f->inspects++;
    snprintf(f->code, sizeof f->code, "%s", code);
    f->cursor = cursor;
    inspection_empty(out);
    out->found = true;
}

static void fake_is_complete(void *self, const char *code, struct completeness *out)
{
    struct fake_sandbox *f = self;
    f->is_completes++;
    snprintf(f->code, sizeof f->code, "%s", code);
    *out = (struct completeness){f->python_says, ""};
    if (f->python_says == COMPLETENESS_INCOMPLETE)
        snprintf(out->indent, sizeof out->indent, "    ");
}

static void fake_check_syntax(void *self, const char *code, struct syntax_check *out)
{
    (void)self, (void)code;
    *out = (struct syntax_check){.status = SYNTAX_OK};
}

static void fake_describe(void *self, const struct describe_options *opts,
                          struct sandbox_context *out)
{
    (void)self, (void)opts;
    *out = (struct sandbox_context){
        .variables = json_array(), .libraries = json_array(), .files = json_array()};
}

static void fake_version(void *self, char *out, size_t len)
{
    (void)self;
    snprintf(out, len, "3.99.1");
}

static void fake_interrupt(void *self) { ((struct fake_sandbox *)self)->interrupts++; }
static void fake_forget(void *self) { ((struct fake_sandbox *)self)->forgets++; }
static void fake_stop(void *self) { ((struct fake_sandbox *)self)->stops++; }

static struct fake_sandbox new_fake(void)
{
    struct fake_sandbox f = {0};
    f.port =
        (struct agent_sandbox){NULL,         fake_start,       fake_execute,      fake_complete,
                               fake_inspect, fake_is_complete, fake_check_syntax, fake_describe,
                               fake_version, fake_interrupt,   fake_forget,       fake_stop};
    return f;
}

/* An engine over `f` (started), with an optional config error. */
static struct engine *engine_over(struct fake_sandbox *f, const char *config_error)
{
    f->port.self = f;
    struct agent_config cfg;
    agent_config_defaults(&cfg);
    struct engine *e = agent_engine_new(&cfg, &f->port, config_error);
    e->start(e->self);
    return e;
}

/* ---- what a cell becomes ---- */

struct seen {
    int errors, streams;
    char ename[64], evalue[512], tb0[600];
};

static void seen_stream(void *ctx, enum output_stream n, const char *t, size_t l)
{
    (void)n, (void)t, (void)l;
    ((struct seen *)ctx)->streams++;
}

static void seen_error(void *ctx, const struct cell_error *e)
{
    struct seen *s = ctx;
    s->errors++;
    snprintf(s->ename, sizeof s->ename, "%s", e->ename);
    snprintf(s->evalue, sizeof s->evalue, "%s", e->evalue);
    snprintf(s->tb0, sizeof s->tb0, "%s", json_string_value(json_array_get(e->traceback, 0)));
}

static void run(struct engine *e, const char *code, struct seen *s, struct cell_outcome *out)
{
    memset(s, 0, sizeof *s);
    memset(out, 0, sizeof *out);
    struct output_sink sink = {.ctx = s, .stream = seen_stream, .error = seen_error};
    struct engine_request req = {code, 12, false, true, true};
    e->execute(e->self, &req, &sink, out);
}

static void test_routing(void)
{
    struct fake_sandbox f = new_fake();
    struct engine *e = engine_over(&f, NULL);
    struct seen s;
    struct cell_outcome out;

    run(e, "%%python\nx = 1\nx", &s, &out);
    CHECK(out.status == CELL_OK && f.executes == 1 && s.streams == 1 && s.errors == 0);
    CHECK(strcmp(f.code, "x = 1\nx") == 0); /* the magic line is not Python */
    CHECK(f.count == 12 && !f.silent && f.allow_stdin);
    CHECK(f.wall_ms == SANDBOX_WALL_CONFIGURED); /* sandbox.python_wall_time applies */
    cell_outcome_clear(&out);

    run(e, "   \n", &s, &out);
    CHECK(out.status == CELL_OK && f.executes == 1 && s.errors == 0);
    cell_outcome_clear(&out);

    /* A request in plain language with no model configured: nothing runs, and the one error
     * says how to configure one. */
    run(e, "load sales.csv and plot revenue", &s, &out);
    CHECK(out.status == CELL_ERROR && f.executes == 1 && s.errors == 1);
    CHECK(strcmp(out.error.ename, "AgentNotConfigured") == 0 &&
          strcmp(s.ename, "AgentNotConfigured") == 0);
    CHECK(strstr(out.error.evalue, "OPENAI_API_KEY") &&
          strstr(out.error.evalue, "ANTHROPIC_API_KEY"));
    CHECK(strstr(out.error.evalue, "OPENAI_BASE_URL") && strstr(out.error.evalue, "%%python"));
    CHECK(strncmp(s.tb0, "AgentNotConfigured: ", 20) == 0); /* the one shape */
    cell_outcome_clear(&out);

    /* A frontend's own code (store_history false) is Python, never a request. */
    struct engine_request hidden = {"__vsc_ipynb_file__ = 'x.ipynb'", 12, false, false, true};
    struct output_sink quiet = {0};
    memset(&out, 0, sizeof out);
    e->execute(e->self, &hidden, &quiet, &out);
    CHECK(out.status == CELL_OK && f.executes == 2 && strcmp(f.code, hidden.code) == 0);
    cell_outcome_clear(&out);

    /* Warden commands are the agent's own: nothing runs, no model is asked. */
    run(e, "%model some-model", &s, &out);
    CHECK(out.status == CELL_OK && s.streams == 1 && f.executes == 2);
    cell_outcome_clear(&out);
    run(e, "%timeit 1", &s, &out);
    CHECK(out.status == CELL_ERROR && strcmp(out.error.ename, "UsageError") == 0);
    CHECK(strstr(out.error.evalue, "%%python") && strstr(out.error.evalue, "%agent"));
    cell_outcome_clear(&out);
    run(e, "exit", &s, &out);
    CHECK(out.status == CELL_OK && out.exit_requested && !out.keep_kernel && f.executes == 2);
    cell_outcome_clear(&out);

    /* Every request ends by forgetting what is left of an interrupt meant for it. */
    CHECK(f.forgets == 7);
    e->interrupt(e->self);
    CHECK(f.interrupts == 1);
    e->stop(e->self);
    CHECK(f.stops == 1);
    agent_engine_free(e);
    CHECK(f.stops == 1); /* not twice */
}

static void test_nothing_to_run_cells(void)
{
    /* A bad config file: every cell says so, nothing runs. */
    struct fake_sandbox f = new_fake();
    struct engine *e = engine_over(&f, "warden config file /x.json: sandbox.tasks: must be ...");
    struct seen s;
    struct cell_outcome out;
    run(e, "%%python\n1", &s, &out);
    CHECK(out.status == CELL_ERROR && strcmp(out.error.ename, "ConfigError") == 0 && s.errors == 1);
    CHECK(strstr(out.error.evalue, "sandbox.tasks") && f.executes == 0);
    CHECK(strncmp(s.tb0, "ConfigError: warden config file", 31) == 0);
    cell_outcome_clear(&out);
    e->stop(e->self);
    agent_engine_free(e);

    /* No sandbox: every cell says why. */
    f = new_fake();
    f.start_fails = true;
    e = engine_over(&f, NULL);
    run(e, "%%python\n1", &s, &out);
    CHECK(out.status == CELL_ERROR && strcmp(out.error.ename, "SandboxError") == 0);
    CHECK(strstr(out.error.evalue, "no jail here") && f.executes == 0);
    cell_outcome_clear(&out);
    /* Queries get empty answers without asking it. */
    struct completion c = {0};
    e->complete(e->self, "%%python\npri", 12, &c);
    CHECK(f.completes == 0 && json_array_size(c.matches) == 0 && c.cursor_start == 12);
    completion_clear(&c);
    agent_engine_free(e); /* never stopped: the sandbox is stopped here */
    CHECK(f.stops == 1);
}

static void test_queries(void)
{
    struct fake_sandbox f = new_fake();
    struct engine *e = engine_over(&f, NULL);
    /* Completion sees the body; positions move by the magic line (9 code points). */
    struct completion c = {0};
    e->complete(e->self, "%%python\npri", 12, &c);
    CHECK(f.completes == 1 && strcmp(f.code, "pri") == 0 && f.cursor == 3);
    CHECK(c.cursor_start == 10 && c.cursor_end == 12);
    completion_clear(&c);
    /* A cursor on the magic line: nothing to complete. */
    e->complete(e->self, "%%python\npri", 4, &c);
    CHECK(f.completes == 1 && c.cursor_start == 4 && c.cursor_end == 4);
    completion_clear(&c);
    struct inspection in = {0};
    e->inspect(e->self, "%%python\nprint", 12, 0, &in);
    CHECK(f.inspects == 1 && f.cursor == 3 && in.found);
    inspection_clear(&in);

    /* is_complete: a %%python cell ends with a blank line once Python agrees. */
    struct completeness k;
    f.python_says = COMPLETENESS_COMPLETE;
    e->is_complete(e->self, "%%python\nx = 1", &k);
    CHECK(k.status == COMPLETENESS_INCOMPLETE && k.indent[0] == 0);
    e->is_complete(e->self, "%%python\nx = 1\n", &k);
    CHECK(k.status == COMPLETENESS_COMPLETE);
    f.python_says = COMPLETENESS_INCOMPLETE;
    e->is_complete(e->self, "%%python\nfor i in x:\n", &k);
    CHECK(k.status == COMPLETENESS_INCOMPLETE && strcmp(k.indent, "    ") == 0);
    f.python_says = COMPLETENESS_INVALID;
    e->is_complete(e->self, "%%python\n1 +* 2\n", &k);
    CHECK(k.status == COMPLETENESS_INVALID);
    int asked = f.is_completes;
    e->is_complete(e->self, "%%python\n", &k);
    CHECK(k.status == COMPLETENESS_INCOMPLETE && f.is_completes == asked); /* empty body */
    e->is_complete(e->self, "make a plot", &k);
    CHECK(k.status == COMPLETENESS_COMPLETE && f.is_completes == asked); /* a request */

    struct language_info info;
    e->kernel_info(e->self, &info);
    CHECK(strcmp(info.name, "python") == 0 && strcmp(info.version, "3.99.1") == 0);
    CHECK(strcmp(info.pygments_lexer, "ipython3") == 0 && info.codemirror_version == 3);
    CHECK(strstr(info.banner, "Python 3.99.1") && strstr(info.banner, "%%python"));
    e->stop(e->self);
    agent_engine_free(e);
}

int main(void)
{
    /* The tests decide the configuration: nothing from the environment. */
    static const char *const vars[] = {
        "OPENAI_API_KEY",  "OPENAI_BASE_URL", "ANTHROPIC_API_KEY",   "ANTHROPIC_BASE_URL",
        "WARDEN_PROVIDER", "WARDEN_MODEL",    "WARDEN_MAX_ATTEMPTS", "WARDEN_AUDIT"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
    setenv("WARDEN_AUDIT", "off", 1);
    test_cell_parse();
    test_cell_route();
    test_routing();
    test_nothing_to_run_cells();
    test_queries();
    return check_summary("agent");
}
