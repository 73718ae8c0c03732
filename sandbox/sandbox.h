/* The sandbox: a jailed, persistent Python worker behind a blocking API.
 * All calls but sandbox_interrupt() come from one thread (the kernel's executor thread), which
 * must live as long as the sandbox: the jail's parent-death signal follows the spawning thread. */
#ifndef WARDEN_SANDBOX_H
#define WARDEN_SANDBOX_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "sink.h"

struct sandbox_limits {
    uint64_t memory_bytes;       /* address space / cgroup memory, default 2 GiB */
    uint32_t max_tasks;          /* processes + threads in the jail, default 256 */
    uint32_t cpu_millis;         /* CPUs the jail may keep busy together, in thousandths (cgroup
                                  * quota); 0 = no limit. Default: all but half a CPU, so a fork
                                  * bomb cannot starve the kernel (no limit on a 1-CPU machine) */
    uint64_t file_size_bytes;    /* RLIMIT_FSIZE, default 1 GiB */
    uint32_t open_files;         /* RLIMIT_NOFILE, default 1024 */
    uint64_t tmpfs_bytes;        /* size of /tmp and of the home tmpfs, each, default 512 MiB */
    uint64_t output_bytes;       /* output per cell before truncation, default 32 MiB */
    uint32_t python_wall_ms;     /* wall time per %%python cell, 0 = unlimited (default) */
    uint32_t agent_wall_ms;      /* wall time per agent-run cell, default 120000 */
    uint32_t interrupt_grace_ms; /* SIGINT, then kill after this long, default 2000 */
};

struct sandbox_config {
    struct sandbox_limits limits;
    char workdir[PATH_MAX];      /* notebook directory, bound at its own path; default cwd */
    bool workdir_writable;       /* default false: bound read-only */
    bool unjailed;               /* explicit, loudly warned opt-in: run the worker without a jail */
    bool standby;                /* keep a warm standby worker, default true */
    char python[PATH_MAX];       /* default /usr/bin/python3 */
    char runtime_dir[PATH_MAX];  /* host directory holding warden_worker.py */
};

/* Fill defaults (workdir = current directory, runtime_dir = found next to the binary). */
void sandbox_config_defaults(struct sandbox_config *cfg);
/* Apply the "sandbox" object of the config file. Untrusted: on any bad field, returns -1 with a
 * message naming the field and the accepted values; cfg is left unchanged on error. */
int sandbox_config_apply_json(struct sandbox_config *cfg, const json_t *section, char *err,
                              size_t errlen);

/* Read the config file (`path`, else $WARDEN_CONFIG, else ~/.config/warden/config.json; only the
 * default may be missing) and apply its sections. -1 with err naming the file and field. */
int sandbox_config_load_file(struct sandbox_config *cfg, const char *path, char *err,
                             size_t errlen);

struct sandbox_cell {
    const char *code;   /* Python source */
    int count;          /* execution_count, names the cell in tracebacks */
    bool silent;
    bool allow_stdin;
    uint32_t wall_ms;   /* 0 = unlimited */
};

enum cell_status { CELL_OK = 0, CELL_ERROR = 1, CELL_WORKER_LOST = 2 };

struct cell_outcome {
    enum cell_status status;
    char *ename;          /* malloc'd; set on error */
    char *evalue;         /* malloc'd; set on error */
    json_t *traceback;    /* array of strings; set on error */
    bool state_lost;      /* the worker was replaced: variables are gone */
    json_t *payload;      /* execute_reply payloads (the pager's {"source":"page",...}), or NULL */
};
void cell_outcome_clear(struct cell_outcome *outcome);

struct sandbox;

/* Never fails for lack of a jail: a sandbox that cannot jail refuses every cell with the reason.
 * Returns NULL only on resource exhaustion (err says so). Starts the first worker in the
 * background and returns at once. */
struct sandbox *sandbox_start(const struct sandbox_config *cfg, char *err, size_t errlen);
/* Runs one cell; outputs go to `sink` while it runs. Always fills `outcome`. */
void sandbox_execute(struct sandbox *sb, const struct sandbox_cell *cell,
                     const struct output_sink *sink, struct cell_outcome *outcome);
/* Each returns Jupyter reply content (status ok), or a status:error reply on failure. */
json_t *sandbox_complete(struct sandbox *sb, const char *code, int cursor_pos);
json_t *sandbox_inspect(struct sandbox *sb, const char *code, int cursor_pos, int detail_level);
json_t *sandbox_is_complete(struct sandbox *sb, const char *code);
/* Fresh worker (from the standby when there is one). */
void sandbox_reset(struct sandbox *sb);
/* Any thread, async-signal-safe in effect: asks the running cell to stop. */
void sandbox_interrupt(struct sandbox *sb);
/* Kills every worker and everything they spawned; frees sb. */
void sandbox_stop(struct sandbox *sb);

/* Command-line tools (warden jail -- CMD..., warden doctor). Return the process exit code. */
int sandbox_jail_main(int argc, char **argv);
int sandbox_doctor_main(int argc, char **argv);

#endif
