/* Requests in plain language and the warden commands, for the engine (engine_internal.h): the
 * model is resolved at every request (settings.h, and GET /models when none is configured), the
 * loop runs it (loop.h), and the reply's metadata says what it cost. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/engine_internal.h"
#include "agent/loop.h"
#include "common/utf8.h"

/* ---- the model ---- */

struct http_client *agent_http(struct agent_engine *e)
{
    struct http_client *http = atomic_load(&e->http);
    if (!http) {
        http = http_client_new();
        atomic_store(&e->http, http);
    }
    return http;
}

struct real_model {
    struct http_client *http;
    const struct model_settings *settings;
};

static bool real_ask(void *self, const struct conversation *c, const struct model_watch *watch,
                     struct model_reply *reply, struct cell_error *error)
{
    struct real_model *m = self;
    return model_call(m->http, m->settings, c, watch, reply, error);
}

/* No model configured: the server says which it serves; one is the one. */
static bool discover_model(struct agent_engine *e, struct model_settings *s,
                           struct cell_error *error)
{
    char key[sizeof e->discovered_for];
    snprintf(key, sizeof key, "%s %s", provider_name(s->provider), s->base_url);
    if (e->discovered_model[0] && strcmp(key, e->discovered_for) == 0) {
        snprintf(s->model, sizeof s->model, "%s", e->discovered_model);
        return true;
    }
    json_t *ids = NULL;
    bool ok = model_list(agent_http(e), s, &ids, error);
    size_t n = json_array_size(ids);
    if (ok && n == 1) {
        snprintf(s->model, sizeof s->model, "%s", json_string_value(json_array_get(ids, 0)));
        snprintf(e->discovered_model, sizeof e->discovered_model, "%s", s->model);
        snprintf(e->discovered_for, sizeof e->discovered_for, "%s", key);
    } else if (ok) {
        char list[900] = "";
        size_t used = 0, i;
        json_t *id;
        json_array_foreach(ids, i, id) {
            if (used + json_string_length(id) + 3 >= sizeof list - 8) {
                snprintf(list + used, sizeof list - used, ", ...");
                break;
            }
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     json_string_value(id));
        }
        char evalue[1400];
        snprintf(evalue, sizeof evalue,
                 n ? "no model is configured, and %s serves several: %s. Choose one with %%model "
                     "NAME, WARDEN_MODEL or agent.model in the config file"
                   : "no model is configured, and %s lists none%s: choose one with %%model NAME",
                 s->base_url, list);
        char *inert = utf8_inert(evalue, strlen(evalue)); /* the names are the server's */
        cell_error_set(error, "AgentNotConfigured", inert ? inert : "no model is configured", NULL);
        free(inert);
        ok = false;
    }
    json_decref(ids);
    return ok;
}

/* ---- a request ---- */

static json_t *cost_metadata(const char *model, const struct loop_result *res)
{
    json_t *usage = json_pack(
        "{s:I, s:I}", "input_tokens", (json_int_t)(res->input_tokens < 0 ? 0 : res->input_tokens),
        "output_tokens", (json_int_t)(res->output_tokens < 0 ? 0 : res->output_tokens));
    return json_pack("{s:{s:s, s:i, s:o}}", "warden", "model", model, "attempts",
                     res->attempts_used, "usage", usage);
}

static bool request_settings(struct agent_engine *e, const struct command *ask,
                             struct model_settings *s, unsigned *attempts, struct cell_error *error)
{
    if (e->env_error[0]) {
        cell_error_set(error, "AgentConfigError", e->env_error, NULL);
        return false;
    }
    struct agent_overrides o = e->overrides;
    if (ask && ask->model[0])
        snprintf(o.model, sizeof o.model, "%s", ask->model);
    if (ask && ask->number)
        o.attempts = ask->number;
    if (!settings_resolve(&e->cfg, &o, s, attempts, error))
        return false;
    return s->model[0] || discover_model(e, s, error);
}

void agent_run_request(struct agent_engine *e, const struct engine_request *req,
                       const struct command *ask, const struct output_sink *sink,
                       struct cell_outcome *out)
{
    const char *request = ask ? ask->request : req->code;
    struct http_client *http = agent_http(e);
    if (!http) {
        cell_fail(sink, out, CELL_ERROR, "ModelUnavailable", "libcurl could not be set up");
        return;
    }
    struct model_settings s;
    unsigned attempts = 0;
    struct cell_error error = {0};
    if (!request_settings(e, ask, &s, &attempts, &error)) {
        cell_outcome_fail(out, CELL_ERROR, error.ename, error.evalue, error.traceback);
        output_error(sink, &out->error);
        cell_error_clear(&error);
        return;
    }
    struct real_model real = {http, &s};
    struct agent_model model = {&real, real_ask, s.model, provider_name(s.provider)};
    struct loop_request lr = {request,
                              req->execution_count,
                              attempts,
                              e->cfg.review || (ask && ask->review),
                              req->allow_stdin,
                              e->cfg.wall_ms,
                              e->cfg.context_chars,
                              e->cfg.sample_rows,
                              e->cfg.history_cells};
    struct loop_result res;
    agent_loop(&model, e->sandbox, &e->memory, &e->audit, &lr, sink, out, &res);
    if (res.final_code)
        memory_set_last_code(&e->memory, res.final_code);
    out->metadata = cost_metadata(s.model, &res);
    loop_result_clear(&res);
}

/* ---- the commands ---- */

static void say(const struct output_sink *sink, const char *text)
{
    output_stream(sink, OUTPUT_STDOUT, text, strlen(text));
}

static void show_agent(struct agent_engine *e, const struct output_sink *sink)
{
    struct model_settings s;
    unsigned attempts = 0;
    struct cell_error error = {0};
    char text[8192];
    if (!settings_resolve(&e->cfg, &e->overrides, &s, &attempts, &error)) {
        snprintf(text, sizeof text, "provider: none\n%s\n", error.evalue);
        say(sink, text);
        cell_error_clear(&error);
        return;
    }
    char key[64];
    settings_masked_key(s.key, key, sizeof key);
    const char *model = s.model[0]               ? s.model
                        : e->discovered_model[0] ? e->discovered_model
                                                 : "(asked of the server at the next "
                                                   "request)";
    snprintf(text, sizeof text,
             "provider: %s\nbase URL: %s\nmodel: %s\nattempts: %u\nkey: %s%s%s%s\naudit log: %s\n"
             "review: %s\n",
             provider_name(s.provider), s.base_url, model, attempts, key,
             s.key[0] ? " (from " : " (a local server: no key is sent)", s.key[0] ? s.key_name : "",
             s.key[0] ? ")" : "", e->audit.path[0] ? e->audit.path : "off",
             e->cfg.review ? "on" : "off");
    say(sink, text);
}

void agent_run_command(struct agent_engine *e, const struct engine_request *req,
                       const struct command *cmd, const struct output_sink *sink,
                       struct cell_outcome *out)
{
    (void)req;
    char text[1400];
    out->status = CELL_OK;
    switch (cmd->kind) {
    case COMMAND_EXIT:
        out->exit_requested = true;
        break;
    case COMMAND_MODEL:
        snprintf(e->overrides.model, sizeof e->overrides.model, "%.*s",
                 (int)sizeof e->overrides.model - 1, cmd->arg);
        snprintf(text, sizeof text, "model: %s (for the requests that follow)\n", cmd->arg);
        say(sink, text);
        break;
    case COMMAND_PROVIDER:
        snprintf(e->overrides.provider, sizeof e->overrides.provider, "%.*s",
                 (int)sizeof e->overrides.provider - 1, cmd->arg);
        snprintf(e->overrides.base_url, sizeof e->overrides.base_url, "%.*s",
                 (int)sizeof e->overrides.base_url - 1, cmd->url);
        snprintf(text, sizeof text, "provider: %s%s%s (for the requests that follow)\n", cmd->arg,
                 cmd->url[0] ? " at " : "", cmd->url);
        say(sink, text);
        break;
    case COMMAND_ATTEMPTS:
        e->overrides.attempts = cmd->number;
        snprintf(text, sizeof text, "attempts: %u (for the requests that follow)\n", cmd->number);
        say(sink, text);
        break;
    case COMMAND_AGENT:
        show_agent(e, sink);
        break;
    case COMMAND_LAST:
        if (!e->memory.last_request_code) {
            cell_fail(sink, out, CELL_ERROR, "UsageError",
                      "no request has made code yet in this kernel");
            break;
        }
        size_t len = strlen(e->memory.last_request_code) + 16;
        out->next_input = malloc(len);
        if (out->next_input)
            snprintf(out->next_input, len, "%%%%python\n%s", e->memory.last_request_code);
        break;
    case COMMAND_HELP:
        say(sink, command_help);
        break;
    case COMMAND_BAD:
        cell_fail(sink, out, CELL_ERROR, "UsageError", cmd->error);
        break;
    case COMMAND_NONE:
    case COMMAND_ASK:
        break;
    }
}
