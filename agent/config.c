#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/config_fields.h"

void agent_config_defaults(struct agent_config *cfg)
{
    *cfg = (struct agent_config){.wall_ms = 120000,
                                 .max_attempts = 3,
                                 .temperature = NAN,
                                 .connect_timeout_ms = 10000,
                                 .idle_timeout_ms = 120000,
                                 .max_retries = 2,
                                 .max_reply_bytes = 8u << 20,
                                 .context_chars = 12000,
                                 .sample_rows = 3,
                                 .history_cells = 4};
}

#define FIELD(name, type, member, ...)                                                             \
    {                                                                                              \
        .key = name, .kind = type, .offset = offsetof(struct agent_config, member), __VA_ARGS__    \
    }

static const struct config_field agent_fields[] = {
    FIELD("provider", CONFIG_STRING, provider, .capacity = 16, .word = "openai|anthropic"),
    FIELD("base_url", CONFIG_URL, base_url, .capacity = 512),
    FIELD("model", CONFIG_STRING, model, .capacity = 256),
    FIELD("max_attempts", CONFIG_COUNT, max_attempts, .min = 1, .max = 10),
    FIELD("max_tokens", CONFIG_COUNT, max_tokens, .min = 0, .max = 1000000),
    FIELD("temperature", CONFIG_DECIMAL, temperature, .min = 0, .max = 2),
    FIELD("wall_time", CONFIG_SECONDS, wall_ms, .min = 0.1, .max = 7 * 86400, .zero_ok = true),
    FIELD("audit_log", CONFIG_PATH, audit_log, .capacity = PATH_MAX, .word = "off"),
    FIELD("review", CONFIG_BOOL, review),
    FIELD("connect_timeout", CONFIG_SECONDS, connect_timeout_ms, .min = 0.1, .max = 600),
    FIELD("idle_timeout", CONFIG_SECONDS, idle_timeout_ms, .min = 0.1, .max = 3600),
    FIELD("max_retries", CONFIG_COUNT, max_retries, .min = 0, .max = 10),
    FIELD("max_reply_size", CONFIG_SIZE, max_reply_bytes, .min = 1024, .max = 1u << 30),
    FIELD("context_chars", CONFIG_COUNT, context_chars, .min = 1000, .max = 1000000),
    FIELD("sample_rows", CONFIG_COUNT, sample_rows, .min = 0, .max = 20),
    FIELD("history_cells", CONFIG_COUNT, history_cells, .min = 0, .max = 50),
    FIELD("key_file", CONFIG_PATH, key_file, .capacity = PATH_MAX),
};

int agent_config_apply_json(struct agent_config *cfg, const json_t *section, char *err,
                            size_t errlen)
{
    return config_apply_section("agent", agent_fields, sizeof agent_fields / sizeof *agent_fields,
                                section, cfg, sizeof *cfg, err, errlen);
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* The environment, read through the same field table as the file: {"key": value}. */
static int apply_env_value(struct agent_config *cfg, const char *var, const char *key,
                           json_t *value, char *err, size_t errlen)
{
    json_t *section = json_pack("{s:o}", key, value);
    char why[512];
    int rc = agent_config_apply_json(cfg, section, why, sizeof why);
    json_decref(section);
    if (rc != 0)
        snprintf(err, errlen, "environment variable %s: %s", var, why);
    return rc;
}

int agent_config_apply_env(struct agent_config *cfg, char *err, size_t errlen)
{
    static const struct {
        const char *var, *key;
        bool number;
    } vars[] = {{"WARDEN_PROVIDER", "provider", false},
                {"WARDEN_MODEL", "model", false},
                {"WARDEN_MAX_ATTEMPTS", "max_attempts", true},
                {"WARDEN_AUDIT", "audit_log", false}};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = env(vars[i].var);
        if (!v)
            continue;
        char *end;
        long long n = vars[i].number ? strtoll(v, &end, 10) : 0;
        json_t *value = vars[i].number ? (*end ? json_string(v) : json_integer(n)) : json_string(v);
        if (apply_env_value(cfg, vars[i].var, vars[i].key, value, err, errlen) != 0)
            return -1;
    }
    return 0;
}
