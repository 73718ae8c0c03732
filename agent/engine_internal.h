/* Internal to the agent engine (engine.c routes cells and answers queries; requests.c runs the
 * requests in plain language and the warden commands). */
#ifndef WARDEN_ENGINE_INTERNAL_H
#define WARDEN_ENGINE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>

#include "agent/agent.h"
#include "agent/audit.h"
#include "agent/commands.h"
#include "agent/http.h"
#include "agent/memory.h"
#include "agent/settings.h"

struct agent_engine {
    struct engine base;
    struct agent_config cfg; /* the file's agent section, then the environment */
    struct agent_sandbox *sandbox;
    /* The model calls (cancelled by interrupt from the main thread): made at the first request,
     * so that a kernel that never asks a model never sets libcurl up. */
    _Atomic(struct http_client *) http;
    struct agent_overrides overrides; /* %model, %provider, %attempts */
    struct memory memory;             /* the last cells, for the prompt */
    struct audit audit;
    char discovered_model[256]; /* the one model the server serves (GET /models) ... */
    char discovered_for[700];   /* ... for this provider and base URL */
    atomic_bool started;        /* the sandbox runs cells (kernel_info may look) */
    bool stopped;
    char config_error[1024]; /* the config file is bad: every cell says so */
    char env_error[600];     /* an agent variable of the environment is bad: requests say so */
    char start_error[640];
};

/* The HTTP client, made on first use (executor thread); NULL when libcurl cannot start. */
struct http_client *agent_http(struct agent_engine *e);

/* A request in plain language (or %%ask). */
void agent_run_request(struct agent_engine *e, const struct engine_request *req,
                       const struct command *ask, const struct output_sink *sink,
                       struct cell_outcome *out);
/* A warden command (commands.h). */
void agent_run_command(struct agent_engine *e, const struct engine_request *req,
                       const struct command *cmd, const struct output_sink *sink,
                       struct cell_outcome *out);

#endif
