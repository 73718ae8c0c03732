/* The engine the kernel drives: routes each cell, and maps sandbox outcomes to replies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sandbox/log.h"
#include "agent.h"
#include "cell.h"

struct agent_engine {
    struct engine base;
    struct sandbox_config sandbox_cfg;
    struct sandbox *sandbox;
    char config_error[1024];
    char start_error[640];
};

static json_t *error_reply(const struct output_sink *sink, const char *ename, const char *evalue)
{
    json_t *traceback = json_pack("[s]", evalue);
    json_t *content = json_pack("{s:s, s:s, s:O}", "ename", ename, "evalue", evalue, "traceback",
                                traceback);
    sink_emit(sink, "error", json_incref(content));
    json_object_set_new(content, "status", json_string("error"));
    json_decref(traceback);
    return content;
}

static json_t *outcome_reply(const struct cell_outcome *outcome)
{
    if (outcome->status == CELL_OK)
        return json_pack("{s:s, s:O?}", "status", "ok", "payload", outcome->payload);
    return json_pack("{s:s, s:s, s:s, s:O?}", "status", "error", "ename",
                     outcome->ename ? outcome->ename : "Error", "evalue",
                     outcome->evalue ? outcome->evalue : "", "traceback",
                     outcome->traceback ? outcome->traceback : NULL);
}

static void start(void *self)
{
    struct agent_engine *engine = self;
    char err[512] = "";
    engine->sandbox = sandbox_start(&engine->sandbox_cfg, err, sizeof err);
    if (!engine->sandbox)
        snprintf(engine->start_error, sizeof engine->start_error,
                 "the Python sandbox could not start: %s", err);
}

static json_t *run_python(struct agent_engine *engine, const struct engine_request *req,
                          const char *body, const struct output_sink *sink)
{
    struct sandbox_cell cell = {body, req->execution_count, req->silent, req->allow_stdin,
                                engine->sandbox_cfg.limits.python_wall_ms};
    struct cell_outcome outcome = {0};
    sandbox_execute(engine->sandbox, &cell, sink, &outcome);
    json_t *reply = outcome_reply(&outcome);
    cell_outcome_clear(&outcome);
    return reply;
}

static json_t *execute(void *self, const struct engine_request *req, const struct output_sink *sink)
{
    struct agent_engine *engine = self;
    if (engine->config_error[0])
        return error_reply(sink, "ConfigError", engine->config_error);
    if (!engine->sandbox)
        return error_reply(sink, "SandboxError", engine->start_error);
    struct cell_view view = cell_parse(req->code);
    if (view.is_python)
        return run_python(engine, req, view.body, sink);
    if (cell_is_blank(req->code))
        return json_pack("{s:s}", "status", "ok");
    return error_reply(sink, "AgentUnavailable",
                       "This cell is a request in plain language, and the agent that turns "
                       "requests into Python is not available in this version of warden yet. "
                       "Start the cell with %%python to run it as Python.");
}

/* Completion and inspection see the body of a %%python cell; positions move by the magic line. */
static json_t *shift_cursors(json_t *reply, int offset)
{
    const char *keys[] = {"cursor_start", "cursor_end"};
    for (int i = 0; i < 2; i++) {
        json_t *value = json_object_get(reply, keys[i]);
        if (json_is_integer(value))
            json_object_set_new(reply, keys[i], json_integer(json_integer_value(value) + offset));
    }
    return reply;
}

static json_t *empty_completion(int cursor)
{
    return json_pack("{s:s, s:[], s:i, s:i, s:{}}", "status", "ok", "matches", "cursor_start",
                     cursor, "cursor_end", cursor, "metadata");
}

static json_t *complete(void *self, const char *code, int cursor)
{
    struct agent_engine *engine = self;
    struct cell_view view = cell_parse(code);
    if (!engine->sandbox || cursor < view.body_offset)
        return empty_completion(cursor < 0 ? 0 : cursor);
    json_t *reply = sandbox_complete(engine->sandbox, view.body, cursor - view.body_offset);
    return shift_cursors(reply, view.body_offset);
}

static json_t *inspect(void *self, const char *code, int cursor, int detail)
{
    struct agent_engine *engine = self;
    struct cell_view view = cell_parse(code);
    if (!engine->sandbox || cursor < view.body_offset)
        return json_pack("{s:s, s:b, s:{}, s:{}}", "status", "ok", "found", 0, "data",
                         "metadata");
    return sandbox_inspect(engine->sandbox, view.body, cursor - view.body_offset, detail);
}

/* A %%python cell is complete once the user ends it with a blank line (as with IPython's cell
 * magics, so a console user can type several lines) and Python agrees the body is complete:
 * "for i in x:" followed by an empty line still wants its block. Invalid Python is reported as
 * such. A plain-language request is complete as typed. */
static json_t *is_complete(void *self, const char *code)
{
    struct agent_engine *engine = self;
    struct cell_view view = cell_parse(code);
    if (!view.is_python)
        return json_pack("{s:s}", "status", "complete");
    if (cell_is_blank(view.body))
        return json_pack("{s:s, s:s}", "status", "incomplete", "indent", "");
    json_t *python = engine->sandbox ? sandbox_is_complete(engine->sandbox, view.body) : NULL;
    const char *status = json_string_value(json_object_get(python, "status"));
    const char *indent = json_string_value(json_object_get(python, "indent"));
    bool python_wants_more = status && strcmp(status, "incomplete") == 0;
    json_t *reply;
    if (status && strcmp(status, "invalid") == 0)
        reply = json_pack("{s:s}", "status", "invalid");
    else if (cell_ends_with_blank_line(code) && !python_wants_more)
        reply = json_pack("{s:s}", "status", "complete");
    else
        reply = json_pack("{s:s, s:s}", "status", "incomplete", "indent",
                          python_wants_more && indent ? indent : "");
    json_decref(python);
    return reply;
}

static void interrupt(void *self)
{
    struct agent_engine *engine = self;
    if (engine->sandbox)
        sandbox_interrupt(engine->sandbox);
}

static void stop(void *self)
{
    struct agent_engine *engine = self;
    if (engine->sandbox)
        sandbox_stop(engine->sandbox);
    engine->sandbox = NULL;
}

struct engine *agent_engine_new(const struct sandbox_config *sandbox_cfg, const char *config_error)
{
    struct agent_engine *engine = calloc(1, sizeof *engine);
    if (!engine)
        return NULL;
    engine->base = (struct engine){engine, start, execute, complete, inspect, is_complete,
                                   interrupt, stop};
    engine->sandbox_cfg = *sandbox_cfg;
    if (config_error)
        snprintf(engine->config_error, sizeof engine->config_error, "%s", config_error);
    return &engine->base;
}

void agent_engine_free(struct engine *engine)
{
    if (engine)
        free(engine->self);
}
