#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level current_level = LOG_WARN;

void log_set_level(enum log_level level) { current_level = level; }

enum log_level log_level_from_env(void)
{
    const char *value = getenv("WARDEN_LOG");
    if (!value)
        return LOG_WARN;
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(value, names[i]) == 0)
            return (enum log_level)i;
    return LOG_WARN;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level > current_level)
        return;
    static const char *const tags[] = {"error", "warn", "info", "debug"};
    char line[2048];
    int used = snprintf(line, sizeof line, "[warden %d %s] ", (int)getpid(), tags[level]);
    va_list args;
    va_start(args, fmt);
    int more = vsnprintf(line + used, sizeof line - (size_t)used - 1, fmt, args);
    va_end(args);
    size_t len = (size_t)used + (more < 0 ? 0 : (size_t)more);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    /* One write per line so lines from threads do not interleave. */
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
}
