/* The sandbox's configuration: the "sandbox" section of the config file, owned and read here.
 * Shared by the sandbox's three parts (jail/, supervisor/, and the tools beside them). */
#ifndef WARDEN_SANDBOX_CONFIG_H
#define WARDEN_SANDBOX_CONFIG_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
    uint32_t python_wall_ms;     /* wall time per cell unless its caller sets one (%%python
                                  * cells), 0 = unlimited (default) */
    uint32_t interrupt_grace_ms; /* SIGINT, then kill after this long, default 2000 */
};

/* Which jail: "auto" (the namespace jail where the machine allows it, else the Landlock jail),
 * "namespaces" (refuse rather than degrade), "landlock" (forced: tests, or by choice). */
enum sandbox_jail { SANDBOX_JAIL_AUTO, SANDBOX_JAIL_NAMESPACES, SANDBOX_JAIL_LANDLOCK };

struct sandbox_config {
    struct sandbox_limits limits;
    char workdir[PATH_MAX];     /* notebook directory, bound at its own path; default cwd */
    bool workdir_writable;      /* default false: bound read-only */
    bool unjailed;              /* explicit, loudly warned opt-in: run the worker without a jail */
    char jail[16];              /* "auto" (default), "namespaces" or "landlock" */
    bool standby;               /* keep a warm standby worker, default true */
    char python[PATH_MAX];      /* default /usr/bin/python3 */
    char runtime_dir[PATH_MAX]; /* host directory holding warden_worker.py */
};

/* cfg->jail as an enum (an unknown word, which the config reader refuses, reads as auto). Inline:
 * the jail, which reads it, does not link the config reader. */
static inline enum sandbox_jail sandbox_jail_kind(const struct sandbox_config *cfg)
{
    if (strcmp(cfg->jail, "namespaces") == 0)
        return SANDBOX_JAIL_NAMESPACES;
    if (strcmp(cfg->jail, "landlock") == 0)
        return SANDBOX_JAIL_LANDLOCK;
    return SANDBOX_JAIL_AUTO;
}

/* Fill defaults (workdir = current directory, runtime_dir = found next to the binary). */
void sandbox_config_defaults(struct sandbox_config *cfg);
/* Apply the "sandbox" section of the config file. Untrusted: on any bad field, returns -1 with a
 * message naming the field and the accepted values; cfg is left unchanged on error. */
int sandbox_config_apply_json(struct sandbox_config *cfg, const json_t *section, char *err,
                              size_t errlen);

/* How `warden jail` and `warden doctor` get their configuration: the composition root reads the
 * config file (`path`, or the default one) the way the kernel does, checks every section, and
 * fills cfg from the sandbox's. 0, or -1 with err naming the file and the field. */
typedef int (*sandbox_config_loader)(const char *path, struct sandbox_config *cfg, char *err,
                                     size_t errlen);

#endif
