/* The engine the kernel drives: routes each cell (cell.h) — %%python to the sandbox, a frontend's
 * own code as Python too, warden commands and requests in plain language to requests.c — and
 * answers the editor's queries for the Python body of a %%python cell (agent_sandbox.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cell.h"
#include "agent/engine_internal.h"
#include "agent/recorder.h"
#include "common/log.h"

static void start(void *self)
{
    struct agent_engine *engine = self;
    char err[512] = "";
    if (engine->sandbox->start(engine->sandbox->self, err, sizeof err))
        atomic_store(&engine->started, true);
    else
        snprintf(engine->start_error, sizeof engine->start_error,
                 "the Python sandbox could not start: %s", err);
}

/* Python as it is: what ran and how it ended is remembered for the requests that follow ("fix
 * the error above"), unless it was a frontend's own. */
static void run_python(struct agent_engine *engine, const struct engine_request *req,
                       const char *body, const struct output_sink *sink,
                       struct cell_outcome *outcome)
{
    struct sandbox_cell cell = {body, req->execution_count, req->silent, req->allow_stdin,
                                SANDBOX_WALL_CONFIGURED};
    struct recorder rec;
    recorder_init(&rec, sink, false);
    engine->sandbox->execute(engine->sandbox->self, &cell, recorder_sink(&rec), outcome);
    if (req->store_history && !req->silent)
        memory_remember(&engine->memory, req->execution_count, NULL, body, &rec);
    recorder_clear(&rec);
}

static void route(struct agent_engine *engine, const struct engine_request *req,
                  const struct output_sink *sink, struct cell_outcome *outcome)
{
    if (engine->config_error[0]) {
        cell_fail(sink, outcome, CELL_ERROR, "ConfigError", engine->config_error);
        return;
    }
    if (!atomic_load(&engine->started)) {
        cell_fail(sink, outcome, CELL_ERROR, "SandboxError", engine->start_error);
        return;
    }
    struct cell_view view;
    enum cell_route route = cell_route(req->code, &view);
    if (route == ROUTE_PYTHON) {
        run_python(engine, req, view.body, sink, outcome);
        return;
    }
    if (route == ROUTE_BLANK) {
        outcome->status = CELL_OK;
        return;
    }
    if (req->silent || !req->store_history) {
        /* A frontend's own code (VS Code's start-up cells), not a person's request. */
        run_python(engine, req, req->code, sink, outcome);
        return;
    }
    struct command cmd = command_parse(req->code);
    if (cmd.kind == COMMAND_NONE || cmd.kind == COMMAND_ASK)
        agent_run_request(engine, req, cmd.kind == COMMAND_ASK ? &cmd : NULL, sink, outcome);
    else
        agent_run_command(engine, req, &cmd, sink, outcome);
}

/* An interrupt counts from the moment the kernel took the request (it may come before the
 * sandbox or the model is asked anything) to its end: what is left of it then is forgotten. */
static void execute(void *self, const struct engine_request *req, const struct output_sink *sink,
                    struct cell_outcome *outcome)
{
    struct agent_engine *engine = self;
    route(engine, req, sink, outcome);
    engine->sandbox->forget_interrupt(engine->sandbox->self);
    struct http_client *http = atomic_load(&engine->http);
    if (http)
        http_client_reset(http);
}

/* Completion and inspection see the body of a %%python cell; positions move by the magic line. */
static void complete(void *self, const char *code, int cursor, struct completion *out)
{
    struct agent_engine *engine = self;
    struct cell_view view = cell_parse(code);
    if (!atomic_load(&engine->started) || cursor < view.body_offset) {
        completion_empty(out, cursor);
        return;
    }
    engine->sandbox->complete(engine->sandbox->self, view.body, cursor - view.body_offset, out);
    out->cursor_start += view.body_offset;
    out->cursor_end += view.body_offset;
}

static void inspect(void *self, const char *code, int cursor, int detail, struct inspection *out)
{
    struct agent_engine *engine = self;
    struct cell_view view = cell_parse(code);
    if (!atomic_load(&engine->started) || cursor < view.body_offset) {
        inspection_empty(out);
        return;
    }
    engine->sandbox->inspect(engine->sandbox->self, view.body, cursor - view.body_offset, detail,
                             out);
}

/* A %%python cell is complete once the user ends it with a blank line (as with IPython's cell
 * magics, so a console user can type several lines) and Python agrees the body is complete:
 * "for i in x:" followed by an empty line still wants its block. Invalid Python is reported as
 * such. A plain-language request is complete as typed. */
static void is_complete(void *self, const char *code, struct completeness *out)
{
    struct agent_engine *engine = self;
    struct cell_view view = cell_parse(code);
    *out = (struct completeness){COMPLETENESS_COMPLETE, ""};
    if (!view.is_python)
        return;
    if (cell_is_blank(view.body)) {
        out->status = COMPLETENESS_INCOMPLETE;
        return;
    }
    struct completeness python = {COMPLETENESS_UNKNOWN, ""};
    if (atomic_load(&engine->started))
        engine->sandbox->is_complete(engine->sandbox->self, view.body, &python);
    bool python_wants_more = python.status == COMPLETENESS_INCOMPLETE;
    if (python.status == COMPLETENESS_INVALID)
        out->status = COMPLETENESS_INVALID;
    else if (!cell_ends_with_blank_line(code) || python_wants_more) {
        out->status = COMPLETENESS_INCOMPLETE;
        if (python_wants_more)
            snprintf(out->indent, sizeof out->indent, "%s", python.indent);
    }
}

/* Cells run Python in IPython's dialect (ipython3 highlighting, .py files), whatever the cell
 * kind: requests in plain language become Python too. */
static void kernel_info(void *self, struct language_info *out)
{
    struct agent_engine *engine = self;
    *out = (struct language_info){"python",  "", "text/x-python", ".py", "ipython3",
                                  "ipython", 3,  "python",        ""};
    engine->sandbox->python_version(engine->sandbox->self, out->version, sizeof out->version);
    snprintf(out->banner, sizeof out->banner,
             "warden %s (Python %s) - a cell starting with %%%%python runs as Python in a jailed "
             "worker; any other cell is a request in plain language.",
             WARDEN_VERSION, out->version);
}

static void interrupt(void *self)
{
    struct agent_engine *engine = self;
    struct http_client *http = atomic_load(&engine->http);
    if (http)
        http_client_cancel(http); /* a model call or a retry wait ends at once */
    engine->sandbox->interrupt(engine->sandbox->self);
}

static void stop(void *self)
{
    struct agent_engine *engine = self;
    atomic_store(&engine->started, false);
    engine->sandbox->stop(engine->sandbox->self);
    engine->stopped = true;
}

struct engine *agent_engine_new(const struct agent_config *cfg, struct agent_sandbox *sandbox,
                                const char *config_error)
{
    struct agent_engine *engine = sandbox ? calloc(1, sizeof *engine) : NULL;
    if (!engine) {
        if (sandbox)
            sandbox->stop(sandbox->self);
        return NULL;
    }
    atomic_init(&engine->http, NULL);
    engine->base = (struct engine){engine,      start,       execute,   complete, inspect,
                                   is_complete, kernel_info, interrupt, stop};
    engine->cfg = *cfg;
    if (agent_config_apply_env(&engine->cfg, engine->env_error, sizeof engine->env_error) != 0)
        log_error("%s", engine->env_error);
    audit_init(&engine->audit, engine->cfg.audit_log);
    engine->sandbox = sandbox;
    atomic_init(&engine->started, false);
    if (config_error)
        snprintf(engine->config_error, sizeof engine->config_error, "%s", config_error);
    return &engine->base;
}

void agent_engine_free(struct engine *engine)
{
    if (!engine)
        return;
    struct agent_engine *agent = engine->self;
    if (!agent->stopped)
        agent->sandbox->stop(agent->sandbox->self);
    http_client_free(atomic_load(&agent->http));
    memory_clear(&agent->memory);
    audit_close(&agent->audit);
    free(agent);
}
