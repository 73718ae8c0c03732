/* Which model a request goes to, resolved at every request: the config (file, then environment:
 * config.h), then the notebook's warden commands (%provider, %model, %attempts), later wins. The
 * provider: an explicit one wins; else an Anthropic key alone means Anthropic; else an OpenAI key
 * or OPENAI_BASE_URL means OpenAI-compatible (a base URL without a key is a local server: no
 * Authorization is sent). Nothing configured is an error that says how to configure. */
#ifndef WARDEN_SETTINGS_H
#define WARDEN_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/config.h"
#include "agent/model.h"
#include "common/outcome.h"

/* What the warden commands set ("" / 0: not set). */
struct agent_overrides {
    char provider[16];
    char base_url[512];
    char model[256];
    uint32_t attempts;
};

/* true with *out and *attempts, or false with *error (AgentNotConfigured, AgentConfigError). */
bool settings_resolve(const struct agent_config *cfg, const struct agent_overrides *o,
                      struct model_settings *out, unsigned *attempts, struct cell_error *error);

/* The key shown to a person: its last 4 characters at most ("…wxyz"), or "none". */
void settings_masked_key(const char *key, char *out, size_t len);

#endif
