/* The agent's configuration: the "agent" section of the config file, owned and read here, then
 * the environment over it (defaults → file → environment; the notebook's warden commands come
 * last, settings.c). Keys are never in the file: they come from the environment, or from a file
 * the config names (key_file). */
#ifndef WARDEN_AGENT_CONFIG_H
#define WARDEN_AGENT_CONFIG_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_config {
    uint32_t wall_ms;            /* wall time of each run of generated code, default 120 s */
    char provider[16];           /* "openai", "anthropic", or "" to choose from the keys */
    char base_url[512];          /* "" : the provider's own, or $OPENAI_BASE_URL / ... */
    char model[256];             /* "" : ask the server which it serves */
    uint32_t max_attempts;       /* the first try and the fixes, default 3 */
    uint32_t max_tokens;         /* 0: not sent (OpenAI-compatible) / 4096 (Anthropic) */
    double temperature;          /* NaN: not sent */
    char audit_log[PATH_MAX];    /* "" : next to the history; "off" */
    bool review;                 /* show the code as the next cell instead of running it */
    uint32_t connect_timeout_ms; /* default 10 s */
    uint32_t idle_timeout_ms;    /* no byte from the model server for this long, default 120 s */
    uint32_t max_retries;        /* after the first try, on 429/5xx/connection errors, default 2 */
    uint64_t max_reply_bytes;    /* default 8 MiB */
    uint32_t context_chars;      /* what the prompt's context may take, default 12000 */
    uint32_t sample_rows;        /* DataFrame rows shown to the model, default 3 (0: none) */
    uint32_t history_cells;      /* earlier cells in the prompt, default 4 */
    char key_file[PATH_MAX];     /* a file holding the key, or "" */
};

void agent_config_defaults(struct agent_config *cfg);
/* Apply the "agent" section. Untrusted: on any bad field, -1 with a message naming it
 * ("agent.wall_time: ..."), and cfg unchanged. */
int agent_config_apply_json(struct agent_config *cfg, const json_t *section, char *err,
                            size_t errlen);
/* The environment over the file: WARDEN_PROVIDER, WARDEN_MODEL, OPENAI_BASE_URL /
 * ANTHROPIC_BASE_URL (by the provider chosen later), WARDEN_MAX_ATTEMPTS, WARDEN_AUDIT. An empty
 * variable counts as unset; a bad one is an error naming it. */
int agent_config_apply_env(struct agent_config *cfg, char *err, size_t errlen);

#endif
