#include "format.h"

#include <inttypes.h>
#include <stdio.h>

void format_size(uint64_t bytes, char *out, size_t len)
{
    static const struct {
        uint64_t size;
        const char *name;
    } units[] = {{1024ull * 1024 * 1024, "GiB"}, {1024ull * 1024, "MiB"}, {1024, "KiB"}};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        uint64_t unit = units[i].size;
        if (bytes < unit)
            continue;
        if (bytes % unit == 0) {
            snprintf(out, len, "%" PRIu64 " %s", bytes / unit, units[i].name);
            return;
        }
        /* Not whole: a decimal reads better than a long byte count, but below a MiB the exact
         * count is short enough (and a KiB fraction would hide it). */
        if (unit > 1024) {
            snprintf(out, len, "%.1f %s", (double)bytes / (double)unit, units[i].name);
            return;
        }
    }
    snprintf(out, len, "%" PRIu64 " bytes", bytes);
}

void format_seconds(uint32_t ms, char *out, size_t len)
{
    if (ms % 1000 == 0)
        snprintf(out, len, "%u s", ms / 1000);
    else
        snprintf(out, len, "%.1f s", ms / 1000.0);
}
