/* The composition root's reading of the config file (used by main.c): the file is read once and
 * each layer gets its own section — "kernel", "agent", "sandbox" — checked by the layer that owns
 * it. Anything else at the top level is an error that names it. */
#ifndef WARDEN_MAIN_CONFIG_H
#define WARDEN_MAIN_CONFIG_H

#include <stddef.h>

#include "agent/config.h"
#include "kernel/config.h"
#include "sandbox/config.h"

struct warden_config {
    struct kernel_config kernel;
    struct agent_config agent;
    struct sandbox_config sandbox;
};

void warden_config_defaults(struct warden_config *cfg);
/* Reads `path` (or the default file, common/config_file.h) into cfg, all or nothing: 0, or -1
 * with err naming the file, the section and the field (cfg then keeps its defaults). The
 * environment's settings (WARDEN_HISTORY) are applied on top either way.
 * sandbox.agent_wall_time, the old place of agent.wall_time, still works (with a warning in the
 * log); agent.wall_time wins when both are set. */
int warden_config_load(struct warden_config *cfg, const char *path, char *err, size_t errlen);

/* A sandbox_config_loader (sandbox/config.h) for `warden jail` and `warden doctor`: the whole
 * file is checked, as the kernel would, and cfg gets its sandbox section. */
int warden_config_load_sandbox(const char *path, struct sandbox_config *cfg, char *err,
                               size_t errlen);

#endif
