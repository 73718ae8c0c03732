/* The one logging facility: stderr, one line per event, never blocks on a full pipe for long.
 * Lowest layer: kernel/, agent/ and sandbox/ all use it. */
#ifndef WARDEN_LOG_H
#define WARDEN_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
/* error|warn|info|debug; false (and *level untouched) for anything else. */
bool log_level_parse(const char *name, enum log_level *level);
enum log_level log_level_from_env(void); /* WARDEN_LOG=error|warn|info|debug, default warn */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
