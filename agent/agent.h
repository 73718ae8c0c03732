/* The agent: the engine that runs a notebook's cells (kernel/engine.h). A cell that starts with
 * %%python goes straight to the sandbox; any other cell is a request in plain language, turned
 * into Python by a model and run through the generate-execute-fix loop (not built yet: such cells
 * get a clear error). Knows nothing of ZeroMQ or Jupyter messages. */
#ifndef WARDEN_AGENT_H
#define WARDEN_AGENT_H

#include "agent/agent_sandbox.h"
#include "agent/config.h"
#include "kernel/engine.h"

/* The engine owns `sandbox` (it is stopped with the engine, or freed by agent_engine_free if the
 * engine never started). `config_error`, when not NULL or empty, is reported by every cell (a
 * broken config file must not stop the kernel from starting and explaining itself). */
struct engine *agent_engine_new(const struct agent_config *cfg, struct agent_sandbox *sandbox,
                                const char *config_error);
void agent_engine_free(struct engine *engine);

#endif
