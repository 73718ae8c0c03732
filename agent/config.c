#include "config.h"

#include <stddef.h>

#include "common/config_fields.h"

void agent_config_defaults(struct agent_config *cfg)
{
    *cfg = (struct agent_config){.wall_ms = 120000};
}

static const struct config_field agent_fields[] = {
    {.key = "wall_time",
     .kind = CONFIG_SECONDS,
     .offset = offsetof(struct agent_config, wall_ms),
     .min = 0.1,
     .max = 7 * 86400,
     .zero_ok = true},
};

int agent_config_apply_json(struct agent_config *cfg, const json_t *section, char *err,
                            size_t errlen)
{
    return config_apply_section("agent", agent_fields, sizeof agent_fields / sizeof *agent_fields,
                                section, cfg, sizeof *cfg, err, errlen);
}
