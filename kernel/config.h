/* The kernel's configuration: the "kernel" section of the config file, owned and read here, and
 * the environment variables that override it. */
#ifndef WARDEN_KERNEL_CONFIG_H
#define WARDEN_KERNEL_CONFIG_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

struct kernel_config {
    /* Where the execution history is kept: a file path, "off" (this kernel's memory only), or ""
     * for the default, ~/.local/share/warden/history.sqlite ($XDG_DATA_HOME/warden/...). */
    char history[PATH_MAX];
    /* Cells kept in it, all sessions together: the oldest are pruned past this. */
    uint32_t history_limit;
};

void kernel_config_defaults(struct kernel_config *cfg);
/* Apply the "kernel" section. Untrusted: on any bad field, -1 with a message naming it, and cfg
 * unchanged. */
int kernel_config_apply_json(struct kernel_config *cfg, const json_t *section, char *err,
                             size_t errlen);
/* The environment wins over the file: WARDEN_HISTORY=path|off. */
void kernel_config_apply_env(struct kernel_config *cfg);

#endif
