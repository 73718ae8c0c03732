/* The sandbox's configuration: defaults, and the config file's "sandbox" section (untrusted
 * input, read through common/config_fields.h). */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config_fields.h"
#include "sandbox/config.h"

#define KiB ((uint64_t)1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define TiB (1024 * GiB)

#ifndef WARDEN_SOURCE_RUNTIME_DIR
#define WARDEN_SOURCE_RUNTIME_DIR "/usr/share/warden/runtime"
#endif

static bool file_exists(const char *dir, const char *name)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, R_OK) == 0;
}

static void find_runtime_dir(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            char candidate[PATH_MAX + 32];
            snprintf(candidate, sizeof candidate, "%s/../share/warden/runtime", exe);
            char resolved[PATH_MAX];
            if (realpath(candidate, resolved) && file_exists(resolved, "warden_worker.py") &&
                strlen(resolved) < len) {
                snprintf(out, len, "%s", resolved);
                return;
            }
        }
    }
    snprintf(out, len, "%s", WARDEN_SOURCE_RUNTIME_DIR);
}

void sandbox_config_defaults(struct sandbox_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->limits.memory_bytes = 2 * GiB;
    cfg->limits.max_tasks = 256;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->limits.cpu_millis = cpus >= 2 && cpus <= 4096 ? (uint32_t)(cpus * 1000 - 500) : 0;
    cfg->limits.file_size_bytes = 1 * GiB;
    cfg->limits.open_files = 1024;
    cfg->limits.tmpfs_bytes = 512 * MiB;
    cfg->limits.output_bytes = 32 * MiB;
    cfg->limits.python_wall_ms = 0;
    cfg->limits.interrupt_grace_ms = 2000;
    if (!getcwd(cfg->workdir, sizeof cfg->workdir))
        snprintf(cfg->workdir, sizeof cfg->workdir, "/");
    cfg->workdir_writable = false;
    cfg->unjailed = false;
    snprintf(cfg->jail, sizeof cfg->jail, "auto");
    cfg->standby = true;
    snprintf(cfg->python, sizeof cfg->python, "/usr/bin/python3");
    find_runtime_dir(cfg->runtime_dir, sizeof cfg->runtime_dir);
}

/* ---- the section ------------------------------------------------------------------------------
 */

#define FIELD(name, type, member, ...)                                                             \
    {                                                                                              \
        .key = name, .kind = type, .offset = offsetof(struct sandbox_config, member), __VA_ARGS__  \
    }

static const struct config_field sandbox_fields[] = {
    FIELD("memory", CONFIG_SIZE, limits.memory_bytes, .min = 64 * MiB, .max = TiB),
    FIELD("file_size", CONFIG_SIZE, limits.file_size_bytes, .min = MiB, .max = TiB),
    FIELD("tmpfs", CONFIG_SIZE, limits.tmpfs_bytes, .min = MiB, .max = 64 * GiB),
    FIELD("output", CONFIG_SIZE, limits.output_bytes, .min = KiB, .max = GiB),
    FIELD("tasks", CONFIG_COUNT, limits.max_tasks, .min = 8, .max = 65536),
    FIELD("cpus", CONFIG_CPUS, limits.cpu_millis, .min = 0.1, .max = 4096, .zero_ok = true),
    FIELD("open_files", CONFIG_COUNT, limits.open_files, .min = 64, .max = 1048576),
    FIELD("python_wall_time", CONFIG_SECONDS, limits.python_wall_ms, .min = 0.1, .max = 7 * 86400,
          .zero_ok = true),
    FIELD("interrupt_grace", CONFIG_SECONDS, limits.interrupt_grace_ms, .min = 0.1, .max = 60),
    FIELD("workdir", CONFIG_DIR, workdir, .capacity = PATH_MAX),
    FIELD("workdir_writable", CONFIG_BOOL, workdir_writable),
    FIELD("unjailed", CONFIG_BOOL, unjailed),
    FIELD("jail", CONFIG_STRING, jail, .capacity = sizeof(((struct sandbox_config *)0)->jail),
          .word = "auto|namespaces|landlock"),
    FIELD("standby", CONFIG_BOOL, standby),
    FIELD("python", CONFIG_PATH, python, .capacity = PATH_MAX),
};

int sandbox_config_apply_json(struct sandbox_config *cfg, const json_t *section, char *err,
                              size_t errlen)
{
    return config_apply_section("sandbox", sandbox_fields,
                                sizeof sandbox_fields / sizeof *sandbox_fields, section, cfg,
                                sizeof *cfg, err, errlen);
}
