/* The kernel's configuration: the "kernel" section of the config file, owned and read here, and
 * the environment variables that override it. */
#ifndef WARDEN_KERNEL_CONFIG_H
#define WARDEN_KERNEL_CONFIG_H

#include <jansson.h>
#include <limits.h>
#include <stddef.h>

struct kernel_config {
    /* Where the execution history is kept: a file path, "off" (this kernel's memory only), or ""
     * for the default, ~/.local/share/warden/history.jsonl ($XDG_DATA_HOME/warden/...). */
    char history[PATH_MAX];
};

void kernel_config_defaults(struct kernel_config *cfg);
/* Apply the "kernel" section. Untrusted: on any bad field, -1 with a message naming it, and cfg
 * unchanged. */
int kernel_config_apply_json(struct kernel_config *cfg, const json_t *section, char *err,
                             size_t errlen);
/* The environment wins over the file: WARDEN_HISTORY=path|off. */
void kernel_config_apply_env(struct kernel_config *cfg);

#endif
