/* The one place that starts processes: jailed (namespaces, pivot_root, limits, seccomp) or, only
 * when the configuration opts in explicitly, unjailed. Used by the worker supervisor and by
 * `warden jail`. */
#ifndef WARDEN_SPAWN_H
#define WARDEN_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox/config.h"

/* Where cfg->runtime_dir is bound (read-only) inside the jail. */
#define JAIL_RUNTIME_DIR "/opt/warden/runtime"
/* The user inside the jail. */
#define JAIL_USER        "warden"
#define JAIL_UID         1000
#define JAIL_GID         1000
#define JAIL_HOME        "/home/warden"

struct spawn_request {
    const struct sandbox_config *cfg;
    char *const *argv; /* command inside the jail; argv[0] an absolute path */
    char *const
        *extra_env;  /* NULL-terminated "K=V" added to the allowlisted environment, or NULL */
    int channel_fd;  /* becomes fd 3 in the command; -1 for none */
    bool keep_stdio; /* true: inherit fds 0-2 (warden jail); false: /dev/null */
    /* true: the command starts with SIGINT ignored (the worker, which installs its handler when
     * it can take an interrupt: a SIGINT aimed at a cell, which VS Code sends to every process of
     * the kernel's tree, must not kill a worker that is still starting) */
    bool ignore_sigint;
};

struct jailed {
    pid_t pid; /* the process the kernel started: the jail's init, or the command */
    int pidfd; /* readable when `pid` has exited; -1 if unsupported */
    bool jailed;
    char cgroup[256]; /* "" when rlimits are used instead of cgroups */
    uint64_t memory_limit;
    int status_fd;          /* jailed: init reports the command's raw wait status here; else -1 */
    int cgroup_version;     /* 0: rlimits, 1: cgroup v1 (memory+pids), 2: cgroup v2 */
    bool cpu_limited;       /* a CPU quota (sandbox.cpus) holds the jail */
    bool reaped;            /* spawn_reap/spawn_kill done */
    bool landlock;          /* the Landlock jail: `pid` is its init, with no pid namespace */
    char *scratch;          /* Landlock: the worker's scratch directory, removed by spawn_reap */
    uint64_t scratch_limit; /* Landlock: sandbox.tmpfs, what the scratch directory may hold */
    bool scratch_over;      /* spawn_check_scratch found it over and ended the jail */
};

/* The directory holding warden_worker.py as the command sees it: JAIL_RUNTIME_DIR in the namespace
 * jail, cfg->runtime_dir unjailed or in the Landlock jail (the host's paths). Use it to build
 * argv. */
const char *spawn_runtime_dir(const struct sandbox_config *cfg);

/* Can this machine build the jail cfg->jail asks for (auto: either), with these limits? Builds a
 * whole jail (no workdir, no runtime) and runs a no-op in it. 0 = yes; otherwise -1 and `why` says
 * exactly why and how to fix it. */
int jail_check(const struct sandbox_config *cfg, char *why, size_t len);

/* The jail workers get: cfg->jail, with "auto" decided (once per process, see jail_select.c). */
enum sandbox_jail spawn_jail_kind(const struct sandbox_config *cfg);
/* The sentence the first cell shows when the jail is the Landlock one, else NULL. */
const char *spawn_jail_notice(const struct sandbox_config *cfg);
/* Which jail and why, in words (warden doctor). */
void spawn_jail_choice(const struct sandbox_config *cfg, char *out, size_t len);

/* How the notebook directory is shown to the jail (see jail_idmap.c). */
enum jail_workdir_how {
    JW_IDMAPPED, /* an idmapped bind: its owner appears as the jail's user (root only) */
    JW_PLAIN,    /* a plain bind (unprivileged, or where idmapped mounts are unsupported) */
    JW_REFUSED,  /* cells would be refused: the detail says why and what to do */
};

/* How cfg->workdir would be shown to the jail, for `warden doctor`: the mount is really made (and
 * dropped). `how` gets the directory and the detail in words. */
enum jail_workdir_how jail_workdir_check(const struct sandbox_config *cfg, char *how, size_t len);

/* Start the command. 0 on success; -1 with err filled. */
int spawn_process(const struct spawn_request *req, struct jailed *out, char *err, size_t errlen);

/* Deliver SIGINT (or another catchable signal) to the command inside the jail. */
void spawn_signal(const struct jailed *proc, int sig);

/* Wait for exit (blocking) and describe it in words: "memory limit of 2 GiB reached",
 * "killed by signal 9 (SIGKILL)", "exited with code 3", "killed for a forbidden system call".
 * Returns the raw wait status. Also releases the cgroup. */
int spawn_reap(struct jailed *proc, char *cause, size_t len);

/* The Landlock jail's scratch directory is not a size-capped tmpfs: the supervisor measures it
 * (now and then, and after each cell). Over its limit, the jail is ended (its init kills every
 * process) and spawn_reap says "scratch space limit of 512 MiB reached"; true then. False, and
 * nothing done, for any other jail. */
bool spawn_check_scratch(struct jailed *proc);

/* SIGKILL the jail (everything in it dies) and reap it. Safe to call twice. */
void spawn_kill(struct jailed *proc);

/* Text report of what isolation is active ("cgroup v1 memory+pids", "rlimits", ...). */
void spawn_describe_isolation(const struct sandbox_config *cfg, char *out, size_t len);

#endif
