/* The sandbox: a jailed, persistent Python worker behind a blocking API, in the worker's own
 * vocabulary (common/output.h, common/outcome.h). Knows nothing of Jupyter or models.
 * All calls but sandbox_interrupt() and sandbox_python_version() come from one thread (the
 * kernel's executor thread), which must live as long as the sandbox: the jail's parent-death
 * signal follows the spawning thread. */
#ifndef WARDEN_SANDBOX_H
#define WARDEN_SANDBOX_H

#include <jansson.h>
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

/* The agent's queries between cells. */
enum syntax_status {
    SYNTAX_OK,      /* the code compiles */
    SYNTAX_ERROR,   /* it does not: the fields say where and why */
    SYNTAX_UNKNOWN, /* no answer in time: run the code, and the cell's own error will tell */
};
struct syntax_check {
    enum syntax_status status;
    char ename[64];     /* "SyntaxError", "IndentationError", "ValueError" (NUL bytes) ... */
    char evalue[1024];  /* the message, without the position */
    int lineno, offset; /* 1-based line and column in the code; 0 when unknown */
    char text[1024];    /* the offending line */
};
/* Compiles `code` as a %%python cell would (IPython syntax included) and runs nothing; nothing is
 * recorded in the history. Always fills `out`. */
void sandbox_check_syntax(struct sandbox *sb, const char *code, struct syntax_check *out);

struct describe_options {
    int budget;      /* characters for the variables (name, type and detail), 0..200000 */
    int sample_rows; /* first rows shown of each DataFrame, 0..20 */
    int max_files;   /* entries of the notebook directory listed, 0..1000 */
};
/* What the cell namespace, the worker's Python and the notebook directory hold, for a model.
 * Details are short and bounded, values of names that look like secrets are hidden and strings
 * that look like API keys masked. Release with sandbox_context_clear. */
struct sandbox_context {
    json_t *variables; /* [{name, type, detail}] (strings), newest first */
    int omitted;       /* variables left out (past the budget, or invalid) */
    json_t *libraries; /* [str]: importable top-level modules outside the standard library */
    json_t *files;     /* [{name, size, dir}]: the directory's entries, sorted, hidden ones out */
    int files_omitted; /* entries past max_files (or invalid) */
    char cwd[4096];    /* the notebook directory; "" when unknown */
};
/* Always fills `out` (empty arrays when the worker cannot answer in time). */
void sandbox_describe(struct sandbox *sb, const struct describe_options *opts,
                      struct sandbox_context *out);
void sandbox_context_clear(struct sandbox_context *ctx);
/* The version of the worker's Python: what the last worker to start reported ("3.11.2"), or
 * before any did, sandbox_interpreter_version's. Any thread. */
void sandbox_python_version(struct sandbox *sb, char *out, size_t len);
/* What the interpreter's file name says of its version, without running it: /usr/bin/python3 ->
 * python3.11 -> "3.11" ("3" when the name says nothing). */
void sandbox_interpreter_version(const char *python, char *out, size_t len);
/* Fresh worker (from the standby when there is one). */
void sandbox_reset(struct sandbox *sb);
/* Any thread, async-signal-safe in effect: asks the running cell, or the next one to start (an
 * interrupt may come before the cell reaches the sandbox), to stop. */
void sandbox_interrupt(struct sandbox *sb);
/* The interrupt asked for, if any, was for a request that is over: the next cell must not see
 * it. Called from the thread that runs cells, between requests. */
void sandbox_forget_interrupt(struct sandbox *sb);
/* Kills every worker and everything they spawned; frees sb. */
void sandbox_stop(struct sandbox *sb);

/* Command-line tools (warden jail -- CMD..., warden doctor): argv[0] is the tool's name. They
 * read their configuration through `load`. Return the process exit code. */
int sandbox_jail_main(int argc, char **argv, sandbox_config_loader load);
int sandbox_doctor_main(int argc, char **argv, sandbox_config_loader load);

#endif
