/* Sandbox configuration: defaults and the config file's "sandbox" object (untrusted input). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"

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
    cfg->limits.agent_wall_ms = 120000;
    cfg->limits.interrupt_grace_ms = 2000;
    if (!getcwd(cfg->workdir, sizeof cfg->workdir))
        snprintf(cfg->workdir, sizeof cfg->workdir, "/");
    cfg->workdir_writable = false;
    cfg->unjailed = false;
    cfg->standby = true;
    snprintf(cfg->python, sizeof cfg->python, "/usr/bin/python3");
    find_runtime_dir(cfg->runtime_dir, sizeof cfg->runtime_dir);
}

/* ---- parsing ---------------------------------------------------------------------------------- */

static void size_words(uint64_t bytes, char *out, size_t len)
{
    if (bytes >= GiB && bytes % GiB == 0)
        snprintf(out, len, "%" PRIu64 " GiB", bytes / GiB);
    else if (bytes >= MiB && bytes % MiB == 0)
        snprintf(out, len, "%" PRIu64 " MiB", bytes / MiB);
    else if (bytes >= KiB && bytes % KiB == 0)
        snprintf(out, len, "%" PRIu64 " KiB", bytes / KiB);
    else
        snprintf(out, len, "%" PRIu64 " bytes", bytes);
}

/* "512M", "2G", "1.5GiB", "4096", "64 KiB": binary units, case-insensitive. */
static int parse_size_string(const char *s, uint64_t *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    double value = strtod(s, &end);
    if (errno || end == s || !isfinite(value) || value < 0)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    uint64_t unit = 1;
    switch (toupper((unsigned char)*end)) {
    case 'K': unit = KiB; end++; break;
    case 'M': unit = MiB; end++; break;
    case 'G': unit = GiB; end++; break;
    case 'T': unit = TiB; end++; break;
    case 'B': break;
    case 0: break;
    default: return -1;
    }
    if (unit > 1 && toupper((unsigned char)*end) == 'I')
        end++;
    if (toupper((unsigned char)*end) == 'B')
        end++;
    if (*end)
        return -1;
    double bytes = value * (double)unit;
    if (bytes > 16.0 * (double)TiB)
        return -1;
    *out = (uint64_t)bytes;
    return 0;
}

struct parse_ctx {
    char *err;
    size_t errlen;
};

static int fail(struct parse_ctx *ctx, const char *key, const char *what)
{
    snprintf(ctx->err, ctx->errlen, "sandbox.%s: %s", key, what);
    return -1;
}

static int get_size(struct parse_ctx *ctx, const char *key, const json_t *v, uint64_t min,
                    uint64_t max, uint64_t *out)
{
    char lo[32], hi[32], msg[256];
    size_words(min, lo, sizeof lo);
    size_words(max, hi, sizeof hi);
    uint64_t bytes;
    if (json_is_integer(v)) {
        if (json_integer_value(v) < 0)
            goto bad_range;
        bytes = (uint64_t)json_integer_value(v);
    } else if (json_is_string(v)) {
        if (parse_size_string(json_string_value(v), &bytes) != 0) {
            snprintf(msg, sizeof msg,
                     "\"%.40s\" is not a size; use bytes (an integer) or a string like \"512M\" or "
                     "\"2G\"",
                     json_string_value(v));
            return fail(ctx, key, msg);
        }
    } else {
        return fail(ctx, key,
                    "must be a size: bytes (an integer) or a string like \"512M\" or \"2G\"");
    }
    if (bytes < min || bytes > max)
        goto bad_range;
    *out = bytes;
    return 0;
bad_range:
    snprintf(msg, sizeof msg, "must be between %s and %s", lo, hi);
    return fail(ctx, key, msg);
}

static int get_count(struct parse_ctx *ctx, const char *key, const json_t *v, uint32_t min,
                     uint32_t max, uint32_t *out)
{
    char msg[160];
    snprintf(msg, sizeof msg, "must be an integer between %" PRIu32 " and %" PRIu32, min, max);
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)min ||
        json_integer_value(v) > (json_int_t)max)
        return fail(ctx, key, msg);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* Seconds (integer or real) -> milliseconds, within [min_s, max_s]; zero allowed when zero_ok. */
static int get_seconds(struct parse_ctx *ctx, const char *key, const json_t *v, double min_s,
                       double max_s, bool zero_ok, uint32_t *out_ms)
{
    char msg[200];
    snprintf(msg, sizeof msg, "must be a number of seconds between %g and %g%s", min_s, max_s,
             zero_ok ? " (0 = no limit)" : "");
    if (!json_is_number(v))
        return fail(ctx, key, msg);
    double s = json_number_value(v);
    if (!isfinite(s) || !((zero_ok && s == 0) || (s >= min_s && s <= max_s)))
        return fail(ctx, key, msg);
    *out_ms = (uint32_t)(s * 1000.0 + 0.5);
    return 0;
}

/* A number of CPUs (0.1 to 4096, fractions allowed) -> thousandths; 0 = no limit. */
static int get_cpus(struct parse_ctx *ctx, const char *key, const json_t *v, uint32_t *out_millis)
{
    const char *msg = "must be a number of CPUs between 0.1 and 4096 (e.g. 1.5), or 0 for no limit";
    if (!json_is_number(v))
        return fail(ctx, key, msg);
    double n = json_number_value(v);
    if (!isfinite(n) || !(n == 0 || (n >= 0.1 && n <= 4096)))
        return fail(ctx, key, msg);
    *out_millis = (uint32_t)(n * 1000.0 + 0.5);
    return 0;
}

static int get_bool(struct parse_ctx *ctx, const char *key, const json_t *v, bool *out)
{
    if (!json_is_boolean(v))
        return fail(ctx, key, "must be true or false");
    *out = json_is_true(v);
    return 0;
}

static int get_path(struct parse_ctx *ctx, const char *key, const json_t *v, bool want_dir,
                    char *out, size_t len)
{
    const char *s = json_string_value(v);
    if (!s || s[0] != '/' || json_string_length(v) != strlen(s))
        return fail(ctx, key, "must be an absolute path (a string starting with /)");
    if (strlen(s) >= len)
        return fail(ctx, key, "is too long for a path");
    if (want_dir) {
        struct stat st;
        if (stat(s, &st) != 0 || !S_ISDIR(st.st_mode))
            return fail(ctx, key, "must be an existing directory");
    }
    snprintf(out, len, "%s", s);
    return 0;
}

int sandbox_config_apply_json(struct sandbox_config *cfg, const json_t *section, char *err,
                              size_t errlen)
{
    struct parse_ctx ctx = {err, errlen};
    if (err && errlen)
        err[0] = 0;
    if (!section || json_is_null(section))
        return 0;
    if (!json_is_object(section)) {
        snprintf(err, errlen, "sandbox: must be an object");
        return -1;
    }
    struct sandbox_config next = *cfg;
    struct sandbox_limits *l = &next.limits;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)section, key, v) {
        int rc;
        if (strcmp(key, "memory") == 0)
            rc = get_size(&ctx, key, v, 64 * MiB, 1 * TiB, &l->memory_bytes);
        else if (strcmp(key, "file_size") == 0)
            rc = get_size(&ctx, key, v, 1 * MiB, 1 * TiB, &l->file_size_bytes);
        else if (strcmp(key, "tmpfs") == 0)
            rc = get_size(&ctx, key, v, 1 * MiB, 64 * GiB, &l->tmpfs_bytes);
        else if (strcmp(key, "output") == 0)
            rc = get_size(&ctx, key, v, 1 * KiB, 1 * GiB, &l->output_bytes);
        else if (strcmp(key, "tasks") == 0)
            rc = get_count(&ctx, key, v, 8, 65536, &l->max_tasks);
        else if (strcmp(key, "cpus") == 0)
            rc = get_cpus(&ctx, key, v, &l->cpu_millis);
        else if (strcmp(key, "open_files") == 0)
            rc = get_count(&ctx, key, v, 64, 1048576, &l->open_files);
        else if (strcmp(key, "python_wall_time") == 0)
            rc = get_seconds(&ctx, key, v, 0.1, 7 * 86400, true, &l->python_wall_ms);
        else if (strcmp(key, "agent_wall_time") == 0)
            rc = get_seconds(&ctx, key, v, 0.1, 7 * 86400, true, &l->agent_wall_ms);
        else if (strcmp(key, "interrupt_grace") == 0)
            rc = get_seconds(&ctx, key, v, 0.1, 60, false, &l->interrupt_grace_ms);
        else if (strcmp(key, "workdir") == 0)
            rc = get_path(&ctx, key, v, true, next.workdir, sizeof next.workdir);
        else if (strcmp(key, "python") == 0)
            rc = get_path(&ctx, key, v, false, next.python, sizeof next.python);
        else if (strcmp(key, "workdir_writable") == 0)
            rc = get_bool(&ctx, key, v, &next.workdir_writable);
        else if (strcmp(key, "unjailed") == 0)
            rc = get_bool(&ctx, key, v, &next.unjailed);
        else if (strcmp(key, "standby") == 0)
            rc = get_bool(&ctx, key, v, &next.standby);
        else {
            snprintf(err, errlen,
                     "sandbox.%.64s: unknown key; accepted keys are memory, file_size, tmpfs, "
                     "output, tasks, cpus, open_files, python_wall_time, agent_wall_time, "
                     "interrupt_grace, workdir, workdir_writable, unjailed, standby, python",
                     key);
            rc = -1;
        }
        if (rc != 0)
            return -1;
    }
    *cfg = next;
    return 0;
}
