#include "config_file.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* True when the path was asked for (so it must exist), false for the default location. */
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

int config_file_read(const char *path, json_t **root, char *chosen, size_t chosen_len, char *err,
                     size_t errlen)
{
    *root = NULL;
    err[0] = '\0';
    bool required = choose_path(path, chosen, chosen_len);
    if (!chosen[0])
        return 0;
    struct stat st;
    if (stat(chosen, &st) != 0) {
        if (!required)
            return 0;
        snprintf(err, errlen, "warden config file %s: %s", chosen, strerror(errno));
        return -1;
    }
    /* A FIFO or a device would make the read below block or never end. */
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "warden config file %s is not a regular file", chosen);
        return -1;
    }
    if (st.st_size > CONFIG_FILE_MAX_BYTES) {
        snprintf(err, errlen, "warden config file %s is larger than 1 MiB", chosen);
        return -1;
    }
    json_error_t error;
    json_t *value = json_load_file(chosen, 0, &error);
    if (!json_is_object(value)) {
        snprintf(err, errlen, "warden config file %s is not a JSON object%s%s", chosen,
                 value ? "" : ": ", value ? "" : error.text);
        json_decref(value);
        return -1;
    }
    *root = value;
    return 0;
}
