/* Child-side helpers (async-signal-safe: no malloc, no stdio, no locks) and small parent helpers. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jail_internal.h"

int jc_write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void put(const char *s) {
    if (s) jc_write_all(JC_FD_ERR, s, strlen(s));
}

void jc_fail2(const char *what, const char *path, int err) {
    put(what);
    if (path) {
        put(" ");
        put(path);
    }
    if (err) {
        put(": ");
        /* strerrordesc_np: no translation, no allocation */
        const char *desc = strerrordesc_np(err);
        put(desc ? desc : "unknown error");
    }
    _exit(127);
}

void jc_fail(const char *what, int err) { jc_fail2(what, NULL, err); }

void jail_format_size(uint64_t bytes, char *out, size_t len) {
    static const char *units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    uint64_t v = bytes;
    while (u < 4 && v >= 1024 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    if (u == 0 && bytes >= 1024) {
        /* not a whole number of KiB: show one decimal in the largest unit */
        double d = (double)bytes;
        int du = 0;
        while (du < 4 && d >= 1024) {
            d /= 1024;
            du++;
        }
        snprintf(out, len, "%.1f %s", d, units[du]);
        return;
    }
    snprintf(out, len, "%" PRIu64 " %s", v, units[u]);
}
