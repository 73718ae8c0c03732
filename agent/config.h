/* The agent's configuration: the "agent" section of the config file, owned and read here. The
 * model settings (provider, model, attempts, ...) join it with the agent itself. */
#ifndef WARDEN_AGENT_CONFIG_H
#define WARDEN_AGENT_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct agent_config {
    uint32_t wall_ms; /* wall time of each run of generated code, default 120 s; 0 = none */
};

void agent_config_defaults(struct agent_config *cfg);
/* Apply the "agent" section. Untrusted: on any bad field, -1 with a message naming it
 * ("agent.wall_time: ..."), and cfg unchanged. */
int agent_config_apply_json(struct agent_config *cfg, const json_t *section, char *err,
                            size_t errlen);

#endif
