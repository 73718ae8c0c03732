/* The agent: the engine that runs a notebook's cells. A cell that starts with %%python goes
 * straight to the sandbox; any other cell is a request in plain language, turned into Python by
 * a model and run through the generate-execute-fix loop (not built yet: such cells get a clear
 * error). Knows nothing of ZeroMQ. */
#ifndef WARDEN_AGENT_H
#define WARDEN_AGENT_H

#include "../kernel/engine.h"
#include "../sandbox/sandbox.h"

/* `config_error`, when not NULL or empty, is reported by every cell (a broken config file must
 * not stop the kernel from starting and explaining itself). */
struct engine *agent_engine_new(const struct sandbox_config *sandbox_cfg, const char *config_error);
void agent_engine_free(struct engine *engine);

#endif
