#include "files.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

bool warden_data_file(const char *name, char *out, size_t len)
{
    const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    char dir[PATH_MAX - 64]; /* room for "/" and the file's name */
    out[0] = '\0';
    if (data && *data)
        snprintf(dir, sizeof dir, "%s/warden", data);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/share/warden", home);
    else
        return false;
    for (char *slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(dir, 0700);
        *slash = '/';
    }
    mkdir(dir, 0700);
    snprintf(out, len, "%s/%.60s", dir, name);
    return true;
}

bool buffer_append(char **buf, size_t *used, const char *bytes, size_t len)
{
    char *grown = realloc(*buf, *used + len + 1);
    if (!grown)
        return false;
    memcpy(grown + *used, bytes, len);
    *buf = grown;
    *used += len;
    grown[*used] = '\0';
    return true;
}
