/* The sandbox: a jailed, persistent Python worker behind a blocking API, in the worker's own
 * vocabulary (common/output.h, common/outcome.h). Knows nothing of Jupyter or models.
 * All calls but sandbox_interrupt() and sandbox_python_version() come from one thread (the
 * kernel's executor thread), which must live as long as the sandbox: the jail's parent-death
 * signal follows the spawning thread. */
#ifndef WARDEN_SANDBOX_H
#define WARDEN_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/outcome.h"
#include "common/output.h"
#include "sandbox/config.h"

/* A cell's wall time is the sandbox's own (sandbox.python_wall_time). */
#define SANDBOX_WALL_CONFIGURED UINT32_MAX

struct sandbox_cell {
    const char *code; /* Python source */
    int count;        /* execution count, names the cell in tracebacks ("Cell In[count]") */
    bool silent;      /* no result is shown */
    bool allow_stdin;
    uint32_t wall_ms; /* 0 = unlimited, SANDBOX_WALL_CONFIGURED = sandbox.python_wall_time */
};

struct sandbox;

/* Never fails for lack of a jail: a sandbox that cannot jail refuses every cell with the reason.
 * Returns NULL only on resource exhaustion (err says so). Starts the first worker in the
 * background and returns at once. */
struct sandbox *sandbox_start(const struct sandbox_config *cfg, char *err, size_t errlen);
/* Runs one cell; its outputs go to `sink` while it runs. Always fills `outcome`. */
void sandbox_execute(struct sandbox *sb, const struct sandbox_cell *cell,
                     const struct output_sink *sink, struct cell_outcome *outcome);
/* The editor's queries. Each always fills `out` (empty when the worker cannot answer in time). */
void sandbox_complete(struct sandbox *sb, const char *code, int cursor_pos, struct completion *out);
void sandbox_inspect(struct sandbox *sb, const char *code, int cursor_pos, int detail_level,
                     struct inspection *out);
void sandbox_is_complete(struct sandbox *sb, const char *code, struct completeness *out);
/* The version of the worker's Python: what the last worker to start reported ("3.11.2"), or
 * before any did, sandbox_interpreter_version's. Any thread. */
void sandbox_python_version(struct sandbox *sb, char *out, size_t len);
/* What the interpreter's file name says of its version, without running it: /usr/bin/python3 ->
 * python3.11 -> "3.11" ("3" when the name says nothing). */
void sandbox_interpreter_version(const char *python, char *out, size_t len);
/* Fresh worker (from the standby when there is one). */
void sandbox_reset(struct sandbox *sb);
/* Any thread, async-signal-safe in effect: asks the running cell to stop. */
void sandbox_interrupt(struct sandbox *sb);
/* Kills every worker and everything they spawned; frees sb. */
void sandbox_stop(struct sandbox *sb);

/* Command-line tools (warden jail -- CMD..., warden doctor): argv[0] is the tool's name. They
 * read their configuration through `load`. Return the process exit code. */
int sandbox_jail_main(int argc, char **argv, sandbox_config_loader load);
int sandbox_doctor_main(int argc, char **argv, sandbox_config_loader load);

#endif
