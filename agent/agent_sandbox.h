/* The sandbox as the agent uses it: sandbox.h's calls as a table, so that the agent's tests can
 * hand it a fake sandbox (as the kernel's tests hand the executor a fake engine) and the real one
 * is one implementation among others. Thread rules are sandbox.h's: every call but
 * python_version and interrupt comes from the executor thread. */
#ifndef WARDEN_AGENT_SANDBOX_H
#define WARDEN_AGENT_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "common/outcome.h"
#include "common/output.h"
#include "sandbox/sandbox.h"

struct agent_sandbox {
    void *self;
    /* Once, before any cell. false with err when there is no sandbox to run cells in. */
    bool (*start)(void *self, char *err, size_t errlen);
    void (*execute)(void *self, const struct sandbox_cell *cell, const struct output_sink *sink,
                    struct cell_outcome *outcome);
    void (*complete)(void *self, const char *code, int cursor_pos, struct completion *out);
    void (*inspect)(void *self, const char *code, int cursor_pos, int detail_level,
                    struct inspection *out);
    void (*is_complete)(void *self, const char *code, struct completeness *out);
    /* The agent's queries between cells (sandbox.h): does code compile, what does the namespace
     * hold. Each always fills `out`. */
    void (*check_syntax)(void *self, const char *code, struct syntax_check *out);
    void (*describe)(void *self, const struct describe_options *opts, struct sandbox_context *out);
    /* Any thread, at once. */
    void (*python_version)(void *self, char *out, size_t len);
    void (*interrupt)(void *self);
    /* The thread that runs cells, at the end of each request: an interrupt not consumed was for
     * that request, not the next (sandbox_forget_interrupt). */
    void (*forget_interrupt)(void *self);
    /* Kills the workers and frees self (also when start was never called). */
    void (*stop)(void *self);
};

/* The real sandbox (sandbox.h) with this configuration; started by `start`. NULL when out of
 * memory. */
struct agent_sandbox *agent_sandbox_new(const struct sandbox_config *cfg);

#endif
