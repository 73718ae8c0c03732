#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/config_fields.h"

void kernel_config_defaults(struct kernel_config *cfg)
{
    *cfg = (struct kernel_config){.history = "", .history_limit = 100000};
}

static const struct config_field kernel_fields[] = {
    {.key = "history",
     .kind = CONFIG_PATH,
     .offset = offsetof(struct kernel_config, history),
     .capacity = PATH_MAX,
     .word = "off"},
    {.key = "history_limit",
     .kind = CONFIG_COUNT,
     .offset = offsetof(struct kernel_config, history_limit),
     .min = 1,
     .max = 1000000000},
};

int kernel_config_apply_json(struct kernel_config *cfg, const json_t *section, char *err,
                             size_t errlen)
{
    return config_apply_section("kernel", kernel_fields,
                                sizeof kernel_fields / sizeof *kernel_fields, section, cfg,
                                sizeof *cfg, err, errlen);
}

void kernel_config_apply_env(struct kernel_config *cfg)
{
    const char *history = getenv("WARDEN_HISTORY");
    if (history && *history)
        snprintf(cfg->history, sizeof cfg->history, "%s", history);
}
