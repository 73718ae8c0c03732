/* Reading one section of the config file: a table of the section's keys, each with its kind,
 * bounds and place in the layer's config struct, applied all or nothing. The file is untrusted
 * input: every value is type-checked and bounded, and every error names "section.key", says what
 * is accepted, and leaves the config as it was. An unknown key is an error that lists the keys. */
#ifndef WARDEN_CONFIG_FIELDS_H
#define WARDEN_CONFIG_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum config_kind {
    CONFIG_SIZE,    /* uint64_t bytes: an integer, or "512M", "2G", "1.5GiB" (binary units) */
    CONFIG_COUNT,   /* uint32_t: an integer */
    CONFIG_SECONDS, /* uint32_t milliseconds: a number of seconds */
    CONFIG_CPUS,    /* uint32_t thousandths of a CPU: a number of CPUs, fractions allowed */
    CONFIG_BOOL,    /* bool */
    CONFIG_PATH,    /* char[capacity]: an absolute path */
    CONFIG_DIR,     /* char[capacity]: an absolute path to an existing directory */
    CONFIG_STRING,  /* char[capacity]: printable text; with `word`, one of its |-separated words */
    CONFIG_URL,     /* char[capacity]: an http:// or https:// URL (a trailing / is dropped) */
    CONFIG_DECIMAL, /* double: a number within [min, max] */
};

struct config_field {
    const char *key;
    enum config_kind kind;
    size_t offset;    /* of the value in the layer's config struct (offsetof) */
    double min, max;  /* SIZE, COUNT: the range; SECONDS, CPUS: the range, in seconds or CPUs */
    bool zero_ok;     /* SECONDS, CPUS: 0 is accepted too, meaning "no limit" */
    size_t capacity;  /* PATH, DIR: the size of the char array */
    const char *word; /* PATH: a word accepted instead of a path (e.g. "off"), or NULL */
};

/* Applies `object` (the section; NULL or null for none) to `config` (`size` bytes, the struct the
 * offsets refer to): all of it, or on the first bad key nothing, with -1 and err
 * "section.key: what is wrong". */
int config_apply_section(const char *section, const struct config_field *fields, size_t nfields,
                         const json_t *object, void *config, size_t size, char *err, size_t errlen);

#endif
