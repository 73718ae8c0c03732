/* The warden config file: the one reader, for `warden kernel` and `warden jail` alike. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sandbox.h"

#define CONFIG_MAX_BYTES (1 << 20)

/* --config FILE, else $WARDEN_CONFIG, else $XDG_CONFIG_HOME/warden/config.json, else
 * ~/.config/warden/config.json. Only the default may be missing. */
static bool choose_path(const char *path, char *out, size_t len)
{
    const char *env = getenv("WARDEN_CONFIG"), *xdg = getenv("XDG_CONFIG_HOME"),
               *home = getenv("HOME");
    out[0] = '\0';
    if (path && *path)
        snprintf(out, len, "%s", path);
    else if (env && *env)
        snprintf(out, len, "%s", env);
    else {
        if (xdg && *xdg)
            snprintf(out, len, "%s/warden/config.json", xdg);
        else if (home && *home)
            snprintf(out, len, "%s/.config/warden/config.json", home);
        return false;
    }
    return true;
}

static json_t *read_root(const char *path, bool required, char *err, size_t err_len)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (required)
            snprintf(err, err_len, "warden config file %s: %s", path, strerror(errno));
        return NULL;
    }
    if (st.st_size > CONFIG_MAX_BYTES) {
        snprintf(err, err_len, "warden config file %s is larger than 1 MiB", path);
        return NULL;
    }
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    if (!json_is_object(root)) {
        snprintf(err, err_len, "warden config file %s is not a JSON object%s%s", path,
                 root ? "" : ": ", root ? "" : error.text);
        json_decref(root);
        return NULL;
    }
    return root;
}

int sandbox_config_load_file(struct sandbox_config *cfg, const char *path, char *err,
                             size_t err_len)
{
    char chosen[PATH_MAX];
    err[0] = '\0';
    bool required = choose_path(path, chosen, sizeof chosen);
    if (!chosen[0])
        return 0;
    json_t *root = read_root(chosen, required, err, err_len);
    if (!root)
        return err[0] ? -1 : 0;
    int rc = 0;
    const char *key;
    json_t *section;
    json_object_foreach(root, key, section)
    {
        char why[768];
        if (strcmp(key, "sandbox") == 0)
            rc = sandbox_config_apply_json(cfg, section, why, sizeof why);
        else {
            snprintf(why, sizeof why, "unknown section \"%s\" (known: \"sandbox\")", key);
            rc = -1;
        }
        if (rc != 0) {
            snprintf(err, err_len, "warden config file %s: %s", chosen, why);
            break;
        }
    }
    json_decref(root);
    return rc;
}
