/* The generate-execute-fix loop of a request in plain language. The model writes Python (shown as
 * it is written, show.h); what it wrote is read (extract.h): prose only ends the cell, code is
 * checked in the worker first (a SyntaxError goes back to the model with nothing run), then run
 * as a cell of the worker, in the same namespace as %%python cells. An exception goes back with
 * the traceback's end and what the code printed, asking for a fix, up to `attempts` tries in all;
 * the same error twice asks for a different approach. An interrupt, a dead worker or a limit
 * (memory, time, output) ends the loop at once with the sandbox's own words. Giving up is the
 * cell's one error output: the last traceback, and a line saying so. */
#ifndef WARDEN_LOOP_H
#define WARDEN_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/agent_sandbox.h"
#include "agent/audit.h"
#include "agent/memory.h"
#include "agent/model.h"
#include "common/outcome.h"
#include "common/output.h"

/* The model as the loop uses it: model_call with the resolved settings, or a fake in tests. */
struct agent_model {
    void *self;
    bool (*ask)(void *self, const struct conversation *c, const struct model_watch *watch,
                struct model_reply *reply, struct cell_error *error);
    const char *name;     /* the model's name, for the notebook and the audit log */
    const char *provider; /* "openai" / "anthropic" */
};

struct loop_request {
    const char *request;
    int count;         /* the cell's execution count */
    unsigned attempts; /* tries in all (the first and the fixes) */
    bool review;       /* offer the code as the next cell instead of running it */
    bool allow_stdin;
    uint32_t wall_ms;     /* wall time of each run (agent.wall_time) */
    size_t context_chars; /* the prompt context's budget */
    unsigned sample_rows;
    unsigned history_cells;
};

struct loop_result {
    int attempts_used;
    long input_tokens, output_tokens; /* summed over the calls; -1 when never reported */
    char *final_code;                 /* malloc'd: the code that ran last, or NULL */
};
void loop_result_clear(struct loop_result *res);

void agent_loop(const struct agent_model *model, const struct agent_sandbox *sandbox,
                struct memory *memory, struct audit *audit, const struct loop_request *req,
                const struct output_sink *sink, struct cell_outcome *out, struct loop_result *res);

#endif
