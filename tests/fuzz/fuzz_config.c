/* The config file (common/config_file.c, common/config_fields.c), as the kernel reads it
 * (kernel/main_config.c) and each layer applies its section (kernel/config.c, agent/config.c,
 * sandbox/config.c): a file anyone who can write the user's home may have written.
 *
 * Input: the file's bytes.
 *
 * Invariants: a file that is refused says why and leaves the configuration exactly as it was
 * (all or nothing); one that is taken leaves every value within its documented bounds and every
 * string terminated inside its buffer. */
#include <math.h>
#include <string.h>

#include "common/log.h"
#include "fuzz.h"
#include "kernel/main_config.h"

static struct warden_config defaults;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log_set_level(LOG_ERROR);   /* sandbox.agent_wall_time's deprecation warning, at every input */
    unsetenv("WARDEN_HISTORY"); /* the environment is applied over the file: keep it out */
    warden_config_defaults(&defaults);
    return 0;
}

#define TERMINATED(field) FUZZ_ASSERT(memchr((field), '\0', sizeof(field)) != NULL)

static void check_taken(const struct warden_config *cfg)
{
    const struct agent_config *a = &cfg->agent;
    const struct sandbox_config *s = &cfg->sandbox;
    TERMINATED(cfg->kernel.history);
    TERMINATED(a->provider);
    TERMINATED(a->base_url);
    TERMINATED(a->model);
    TERMINATED(a->audit_log);
    TERMINATED(a->key_file);
    TERMINATED(s->workdir);
    TERMINATED(s->python);
    TERMINATED(s->runtime_dir);
    FUZZ_ASSERT(!a->provider[0] || strcmp(a->provider, "openai") == 0 ||
                strcmp(a->provider, "anthropic") == 0);
    FUZZ_ASSERT(!a->base_url[0] || strncmp(a->base_url, "http://", 7) == 0 ||
                strncmp(a->base_url, "https://", 8) == 0);
    FUZZ_ASSERT(a->max_attempts >= 1 && a->max_attempts <= 10);
    FUZZ_ASSERT(a->max_retries <= 10 && a->sample_rows <= 20 && a->history_cells <= 50);
    FUZZ_ASSERT(a->max_reply_bytes >= 1024 && a->max_reply_bytes <= (1u << 30));
    FUZZ_ASSERT(isnan(a->temperature) || (a->temperature >= 0 && a->temperature <= 2));
    FUZZ_ASSERT(a->wall_ms <= 7u * 86400u * 1000u);
    FUZZ_ASSERT(s->limits.memory_bytes >= (64ull << 20) && s->limits.memory_bytes <= (1ull << 40));
    FUZZ_ASSERT(s->limits.max_tasks >= 8 && s->limits.max_tasks <= 65536);
    FUZZ_ASSERT(s->limits.open_files >= 64 && s->limits.open_files <= 1048576);
    FUZZ_ASSERT(s->limits.cpu_millis <= 4096u * 1000u);
    FUZZ_ASSERT(s->limits.interrupt_grace_ms >= 100 && s->limits.interrupt_grace_ms <= 60000);
    FUZZ_ASSERT(s->workdir[0] == '/' && s->python[0] == '/');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    struct warden_config cfg = defaults;
    char err[1024] = "";
    int rc = warden_config_load(&cfg, path, err, sizeof err);
    FUZZ_ASSERT(rc == 0 || rc == -1);
    FUZZ_ASSERT(memchr(err, '\0', sizeof err));
    if (rc != 0) {
        FUZZ_ASSERT(err[0] != '\0');
        FUZZ_ASSERT(memcmp(&cfg, &defaults, sizeof cfg) == 0);
    } else {
        check_taken(&cfg);
    }
    return 0;
}
