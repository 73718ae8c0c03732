#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The size of the allocation behind a buffer of `used` bytes: the least power of two above it (at
 * least 64). The buffer keeps no capacity of its own: it is this function of its length, and only
 * grows, so a buffer that holds fewer bytes than it did still has room for them. */
static size_t buffer_capacity(size_t used)
{
    size_t cap = 64;
    while (cap <= used)
        cap *= 2;
    return cap;
}

bool buffer_append(char **buf, size_t *used, const char *bytes, size_t len)
{
    if (len >= SIZE_MAX / 4 - *used)
        return false;
    /* Doubling, not the exact size: a model's answer comes in thousands of small pieces, and with
     * an allocator that moves every grown block (ASan's, musl's) exact growth is quadratic. */
    size_t cap = *buf ? buffer_capacity(*used) : 0;
    if (*used + len + 1 > cap) {
        char *grown = realloc(*buf, buffer_capacity(*used + len));
        if (!grown)
            return false;
        *buf = grown;
    }
    memcpy(*buf + *used, bytes, len);
    *used += len;
    (*buf)[*used] = '\0';
    return true;
}

ssize_t read_small_file(const char *path, char *buf, size_t len)
{
    if (len == 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    int e = errno;
    close(fd);
    if (n < 0) {
        errno = e;
        return -1;
    }
    buf[n] = '\0';
    return n;
}
