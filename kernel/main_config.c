/* The config file, composed (main_config.h). */
#include "main_config.h"

#include <stdio.h>
#include <string.h>

#include "common/config_file.h"
#include "common/log.h"

void warden_config_defaults(struct warden_config *cfg)
{
    kernel_config_defaults(&cfg->kernel);
    agent_config_defaults(&cfg->agent);
    sandbox_config_defaults(&cfg->sandbox);
}

/* The deprecated sandbox.agent_wall_time, applied as agent.wall_time. */
static int apply_agent_wall_alias(struct warden_config *cfg, const json_t *value, char *err,
                                  size_t errlen)
{
    log_warn("config: sandbox.agent_wall_time is deprecated; write it as agent.wall_time");
    json_t *section = json_pack("{s:O}", "wall_time", (json_t *)value);
    char why[512];
    int rc = agent_config_apply_json(&cfg->agent, section, why, sizeof why);
    json_decref(section);
    if (rc != 0) {
        const char *what = strchr(why, ' ');
        snprintf(err, errlen,
                 "sandbox.agent_wall_time: %s (it is deprecated: agent.wall_time is "
                 "its place now)",
                 what ? what + 1 : why);
    }
    return rc;
}

/* The sandbox's section, less the key that moved to the agent's. */
static int apply_sandbox(struct warden_config *cfg, const json_t *section, char *err, size_t errlen)
{
    const json_t *alias = json_object_get(section, "agent_wall_time");
    if (!alias)
        return sandbox_config_apply_json(&cfg->sandbox, section, err, errlen);
    if (apply_agent_wall_alias(cfg, alias, err, errlen) != 0)
        return -1;
    json_t *rest = json_copy((json_t *)section);
    json_object_del(rest, "agent_wall_time");
    int rc = sandbox_config_apply_json(&cfg->sandbox, rest, err, errlen);
    json_decref(rest);
    return rc;
}

static int apply_agent(struct warden_config *cfg, const json_t *section, char *err, size_t len)
{
    return agent_config_apply_json(&cfg->agent, section, err, len);
}

static int apply_kernel(struct warden_config *cfg, const json_t *section, char *err, size_t len)
{
    return kernel_config_apply_json(&cfg->kernel, section, err, len);
}

/* In this order, so that agent.wall_time wins over the sandbox's deprecated alias. */
static const struct {
    const char *name;
    int (*apply)(struct warden_config *cfg, const json_t *section, char *err, size_t errlen);
} sections[] = {{"sandbox", apply_sandbox}, {"agent", apply_agent}, {"kernel", apply_kernel}};

#define NSECTIONS (sizeof sections / sizeof *sections)

static int unknown_section(const json_t *root, char *err, size_t errlen)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)root, key, value) {
        bool known = false;
        for (size_t i = 0; i < NSECTIONS; i++)
            known = known || strcmp(key, sections[i].name) == 0;
        if (!known) {
            snprintf(err, errlen,
                     "unknown section \"%.64s\" (known: \"kernel\", \"agent\", \"sandbox\")", key);
            return -1;
        }
    }
    return 0;
}

static int apply_root(struct warden_config *cfg, const json_t *root, char *err, size_t errlen)
{
    if (unknown_section(root, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < NSECTIONS; i++) {
        const json_t *section = json_object_get(root, sections[i].name);
        if (section && sections[i].apply(cfg, section, err, errlen) != 0)
            return -1;
    }
    return 0;
}

int warden_config_load(struct warden_config *cfg, const char *path, char *err, size_t errlen)
{
    char chosen[PATH_MAX];
    json_t *root = NULL;
    int rc = config_file_read(path, &root, chosen, sizeof chosen, err, errlen);
    if (rc == 0 && root) {
        struct warden_config next = *cfg;
        char why[900];
        rc = apply_root(&next, root, why, sizeof why);
        if (rc == 0)
            *cfg = next;
        else
            snprintf(err, errlen, "warden config file %s: %s", chosen, why);
    }
    json_decref(root);
    kernel_config_apply_env(&cfg->kernel);
    return rc;
}

int warden_config_load_sandbox(const char *path, struct sandbox_config *cfg, char *err,
                               size_t errlen)
{
    struct warden_config all;
    warden_config_defaults(&all);
    all.sandbox = *cfg;
    int rc = warden_config_load(&all, path, err, errlen);
    *cfg = all.sandbox;
    return rc;
}
