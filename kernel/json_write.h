/* Compact, ASCII-only JSON text of a jansson value: what json_dumps(JSON_COMPACT |
 * JSON_ENSURE_ASCII) writes, at a few instructions a byte of plain text (json_write.c). */
#ifndef WARDEN_JSON_WRITE_H
#define WARDEN_JSON_WRITE_H

#include <jansson.h>
#include <stddef.h>

/* A malloc'd, NUL-terminated text and its length in *len; NULL when out of memory or when the
 * value holds what JSON cannot (NaN, infinity, a string that is not UTF-8). */
char *json_write_compact(const json_t *value, size_t *len);

#endif
