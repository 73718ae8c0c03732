#include "settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPENAI_DEFAULT_BASE    "https://api.openai.com/v1"
#define ANTHROPIC_DEFAULT_BASE "https://api.anthropic.com"
#define KEY_FILE_MAX           4096

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static enum provider_kind parse_provider(const char *name)
{
    if (strcmp(name, "openai") == 0)
        return PROVIDER_OPENAI;
    if (strcmp(name, "anthropic") == 0)
        return PROVIDER_ANTHROPIC;
    return PROVIDER_NONE;
}

static enum provider_kind choose_provider(const struct agent_config *cfg,
                                          const struct agent_overrides *o)
{
    if (o->provider[0])
        return parse_provider(o->provider);
    if (cfg->provider[0])
        return parse_provider(cfg->provider);
    bool openai = env("OPENAI_API_KEY") || env("OPENAI_BASE_URL");
    if (env("ANTHROPIC_API_KEY") && !openai)
        return PROVIDER_ANTHROPIC;
    if (openai || cfg->base_url[0])
        return PROVIDER_OPENAI;
    if (env("ANTHROPIC_BASE_URL"))
        return PROVIDER_ANTHROPIC;
    return PROVIDER_NONE;
}

/* A key from a file the config names: its first line, whitespace trimmed. */
static bool read_key_file(const char *path, char *out, size_t len, struct cell_error *error)
{
    FILE *f = fopen(path, "re");
    char buf[KEY_FILE_MAX + 1];
    size_t n = f ? fread(buf, 1, KEY_FILE_MAX, f) : 0;
    int saved = errno;
    if (f)
        fclose(f);
    if (!f) {
        char why[PATH_MAX + 128];
        snprintf(why, sizeof why, "agent.key_file %s: %s", path, strerror(saved));
        cell_error_set(error, "AgentConfigError", why, NULL);
        return false;
    }
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    char *start = buf;
    while (*start == ' ' || *start == '\t')
        start++;
    size_t klen = strlen(start);
    while (klen && (start[klen - 1] == ' ' || start[klen - 1] == '\t'))
        start[--klen] = '\0';
    snprintf(out, len, "%s", start);
    return true;
}

static bool choose_key(const struct agent_config *cfg, struct model_settings *out,
                       struct cell_error *error)
{
    const char *var = out->provider == PROVIDER_ANTHROPIC ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
    const char *key = env(var);
    if (key && strlen(key) < sizeof out->key) {
        snprintf(out->key, sizeof out->key, "%s", key);
        snprintf(out->key_name, sizeof out->key_name, "%s", var);
        return true;
    }
    if (cfg->key_file[0]) {
        snprintf(out->key_name, sizeof out->key_name, "agent.key_file");
        return read_key_file(cfg->key_file, out->key, sizeof out->key, error);
    }
    return true; /* no key: a local server */
}

static void choose_base_url(const struct agent_config *cfg, const struct agent_overrides *o,
                            struct model_settings *out)
{
    const char *base = o->base_url[0] ? o->base_url : NULL;
    if (!base)
        base = env(out->provider == PROVIDER_ANTHROPIC ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL");
    if (!base && cfg->base_url[0])
        base = cfg->base_url;
    if (!base)
        base = out->provider == PROVIDER_ANTHROPIC ? ANTHROPIC_DEFAULT_BASE : OPENAI_DEFAULT_BASE;
    snprintf(out->base_url, sizeof out->base_url, "%s", base);
    size_t len = strlen(out->base_url);
    while (len > 8 && out->base_url[len - 1] == '/')
        out->base_url[--len] = '\0';
}

static const char not_configured[] =
    "no model is configured for requests in plain language. Set OPENAI_API_KEY (OpenAI), "
    "ANTHROPIC_API_KEY (Anthropic), or OPENAI_BASE_URL for Ollama and other local servers "
    "(e.g. http://localhost:11434/v1), in the environment Jupyter starts the kernel with; or "
    "write an \"agent\" section (provider, base_url, model) in ~/.config/warden/config.json. "
    "%%python cells work without a model.";

bool settings_resolve(const struct agent_config *cfg, const struct agent_overrides *o,
                      struct model_settings *out, unsigned *attempts, struct cell_error *error)
{
    memset(out, 0, sizeof *out);
    out->provider = choose_provider(cfg, o);
    if (out->provider == PROVIDER_NONE) {
        cell_error_set(error, "AgentNotConfigured", not_configured, NULL);
        return false;
    }
    choose_base_url(cfg, o, out);
    if (!choose_key(cfg, out, error))
        return false;
    const char *model = o->model[0] ? o->model : cfg->model;
    snprintf(out->model, sizeof out->model, "%s", model);
    out->max_tokens = cfg->max_tokens;
    out->temperature = cfg->temperature;
    out->connect_timeout_ms = cfg->connect_timeout_ms;
    out->idle_timeout_ms = cfg->idle_timeout_ms;
    out->max_reply_bytes = cfg->max_reply_bytes;
    out->max_retries = cfg->max_retries;
    *attempts = o->attempts ? o->attempts : cfg->max_attempts;
    return true;
}

void settings_masked_key(const char *key, char *out, size_t len)
{
    size_t klen = strlen(key);
    if (!klen)
        snprintf(out, len, "none");
    else if (klen <= 8)
        snprintf(out, len, "set (%zu characters)", klen); /* too short to show any of it */
    else
        snprintf(out, len, "\xe2\x80\xa6%s", key + klen - 4);
}
