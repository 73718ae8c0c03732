#include "config_fields.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/format.h"

#define KiB ((uint64_t)1024)
#define TiB (KiB * KiB * KiB * KiB)

struct reader {
    const char *section;
    char *err;
    size_t errlen;
};

static int fail(const struct reader *r, const char *key, const char *what)
{
    snprintf(r->err, r->errlen, "%s.%.64s: %s", r->section, key, what);
    return -1;
}

/* "512M", "2G", "1.5GiB", "4096", "64 KiB": binary units, case-insensitive. */
static int parse_size_string(const char *s, uint64_t *out)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    double value = strtod(s, &end);
    if (errno || end == s || !isfinite(value) || value < 0)
        return -1;
    while (isspace((unsigned char)*end))
        end++;
    static const char units[] = "KMGT";
    const char *unit_char = *end ? strchr(units, toupper((unsigned char)*end)) : NULL;
    uint64_t unit = 1;
    if (unit_char) {
        for (const char *u = units; u <= unit_char; u++)
            unit *= KiB;
        end++;
        if (toupper((unsigned char)*end) == 'I')
            end++;
    }
    if (toupper((unsigned char)*end) == 'B')
        end++;
    if (*end)
        return -1;
    double bytes = value * (double)unit;
    if (bytes > 16.0 * (double)TiB)
        return -1;
    *out = (uint64_t)bytes;
    return 0;
}

static int read_size(const struct reader *r, const struct config_field *f, const json_t *v,
                     uint64_t *out)
{
    char lo[32], hi[32], msg[256];
    uint64_t bytes = 0;
    bool representable =
        true; /* a negative integer is no size, but it is a number: a range error */
    if (json_is_integer(v)) {
        representable = json_integer_value(v) >= 0;
        bytes = representable ? (uint64_t)json_integer_value(v) : 0;
    } else if (json_is_string(v)) {
        if (parse_size_string(json_string_value(v), &bytes) != 0) {
            snprintf(msg, sizeof msg,
                     "\"%.40s\" is not a size; use bytes (an integer) or a string like \"512M\" or "
                     "\"2G\"",
                     json_string_value(v));
            return fail(r, f->key, msg);
        }
    } else {
        return fail(r, f->key,
                    "must be a size: bytes (an integer) or a string like \"512M\" or \"2G\"");
    }
    if (representable && bytes >= (uint64_t)f->min && bytes <= (uint64_t)f->max) {
        *out = bytes;
        return 0;
    }
    format_size((uint64_t)f->min, lo, sizeof lo);
    format_size((uint64_t)f->max, hi, sizeof hi);
    snprintf(msg, sizeof msg, "must be between %s and %s", lo, hi);
    return fail(r, f->key, msg);
}

static int read_count(const struct reader *r, const struct config_field *f, const json_t *v,
                      uint32_t *out)
{
    char msg[160];
    snprintf(msg, sizeof msg, "must be an integer between %.0f and %.0f", f->min, f->max);
    if (!json_is_integer(v) || json_integer_value(v) < (json_int_t)f->min ||
        json_integer_value(v) > (json_int_t)f->max)
        return fail(r, f->key, msg);
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* A number within [min, max] (or 0 when zero_ok), in thousandths: seconds to milliseconds, CPUs
 * to thousandths of a CPU. */
static int read_thousandths(const struct reader *r, const struct config_field *f, const json_t *v,
                            uint32_t *out)
{
    char msg[200];
    if (f->kind == CONFIG_SECONDS)
        snprintf(msg, sizeof msg, "must be a number of seconds between %g and %g%s", f->min, f->max,
                 f->zero_ok ? " (0 = no limit)" : "");
    else
        snprintf(msg, sizeof msg, "must be a number of CPUs between %g and %g (e.g. 1.5)%s", f->min,
                 f->max, f->zero_ok ? ", or 0 for no limit" : "");
    if (!json_is_number(v))
        return fail(r, f->key, msg);
    double n = json_number_value(v);
    if (!isfinite(n) || !((f->zero_ok && n == 0) || (n >= f->min && n <= f->max)))
        return fail(r, f->key, msg);
    *out = (uint32_t)(n * 1000.0 + 0.5);
    return 0;
}

static int read_bool(const struct reader *r, const struct config_field *f, const json_t *v,
                     bool *out)
{
    if (!json_is_boolean(v))
        return fail(r, f->key, "must be true or false");
    *out = json_is_true(v);
    return 0;
}

static int read_path(const struct reader *r, const struct config_field *f, const json_t *v,
                     char *out)
{
    const char *s = json_string_value(v);
    bool is_word = s && f->word && strcmp(s, f->word) == 0;
    char msg[160];
    if (!is_word && (!s || s[0] != '/' || json_string_length(v) != strlen(s))) {
        snprintf(msg, sizeof msg, "must be an absolute path (a string starting with /)%s%s%s",
                 f->word ? ", or \"" : "", f->word ? f->word : "", f->word ? "\"" : "");
        return fail(r, f->key, msg);
    }
    if (strlen(s) >= f->capacity)
        return fail(r, f->key, "is too long for a path");
    struct stat st;
    if (f->kind == CONFIG_DIR && (stat(s, &st) != 0 || !S_ISDIR(st.st_mode)))
        return fail(r, f->key, "must be an existing directory");
    snprintf(out, f->capacity, "%s", s);
    return 0;
}

static bool is_one_of(const char *s, const char *words)
{
    size_t len = strlen(s);
    for (const char *w = words; *w;) {
        const char *end = strchr(w, '|');
        size_t wlen = end ? (size_t)(end - w) : strlen(w);
        if (wlen == len && strncmp(w, s, len) == 0)
            return true;
        w += wlen + (end ? 1 : 0);
    }
    return false;
}

static int read_string(const struct reader *r, const struct config_field *f, const json_t *v,
                       char *out)
{
    const char *s = json_string_value(v);
    char msg[300];
    if (!s || json_string_length(v) != strlen(s))
        return fail(r, f->key, "must be a string");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return fail(r, f->key, "must be printable text (no control characters)");
    if (strlen(s) >= f->capacity)
        return fail(r, f->key, "is too long");
    if (f->word && !is_one_of(s, f->word)) {
        snprintf(msg, sizeof msg, "must be one of: %s", f->word);
        return fail(r, f->key, msg);
    }
    if (f->kind == CONFIG_URL && strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
        return fail(r, f->key, "must be a URL starting with http:// or https://");
    snprintf(out, f->capacity, "%s", s);
    size_t len = strlen(out);
    while (f->kind == CONFIG_URL && len > 8 && out[len - 1] == '/')
        out[--len] = '\0'; /* {base}/chat/completions must not become //chat */
    return 0;
}

static int read_decimal(const struct reader *r, const struct config_field *f, const json_t *v,
                        double *out)
{
    char msg[160];
    snprintf(msg, sizeof msg, "must be a number between %g and %g", f->min, f->max);
    if (!json_is_number(v))
        return fail(r, f->key, msg);
    double n = json_number_value(v);
    if (!isfinite(n) || n < f->min || n > f->max)
        return fail(r, f->key, msg);
    *out = n;
    return 0;
}

static int read_field(const struct reader *r, const struct config_field *f, const json_t *v,
                      char *target)
{
    void *at = target + f->offset;
    switch (f->kind) {
    case CONFIG_SIZE:
        return read_size(r, f, v, at);
    case CONFIG_COUNT:
        return read_count(r, f, v, at);
    case CONFIG_SECONDS:
    case CONFIG_CPUS:
        return read_thousandths(r, f, v, at);
    case CONFIG_BOOL:
        return read_bool(r, f, v, at);
    case CONFIG_PATH:
    case CONFIG_DIR:
        return read_path(r, f, v, at);
    case CONFIG_STRING:
    case CONFIG_URL:
        return read_string(r, f, v, at);
    case CONFIG_DECIMAL:
        return read_decimal(r, f, v, at);
    }
    return fail(r, f->key, "has a kind this version does not know");
}

static int unknown_key(const struct reader *r, const char *key, const struct config_field *fields,
                       size_t nfields)
{
    char list[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < nfields && used < sizeof list; i++)
        used +=
            (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", fields[i].key);
    char msg[600];
    snprintf(msg, sizeof msg, "unknown key; accepted keys are %s", list);
    return fail(r, key, msg);
}

int config_apply_section(const char *section, const struct config_field *fields, size_t nfields,
                         const json_t *object, void *config, size_t size, char *err, size_t errlen)
{
    struct reader r = {section, err, errlen};
    if (errlen)
        err[0] = '\0';
    if (!object || json_is_null(object))
        return 0;
    if (!json_is_object(object)) {
        snprintf(err, errlen, "%s: must be an object", section);
        return -1;
    }
    /* All or nothing: the keys are applied to a copy, which replaces the config at the end. */
    char *next = malloc(size);
    if (!next) {
        snprintf(err, errlen, "%s: out of memory", section);
        return -1;
    }
    memcpy(next, config, size);
    int rc = 0;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)object, key, value) {
        const struct config_field *field = NULL;
        for (size_t i = 0; i < nfields && !field; i++)
            if (strcmp(fields[i].key, key) == 0)
                field = &fields[i];
        rc = field ? read_field(&r, field, value, next) : unknown_key(&r, key, fields, nfields);
        if (rc != 0)
            break;
    }
    if (rc == 0)
        memcpy(config, next, size);
    free(next);
    return rc;
}
