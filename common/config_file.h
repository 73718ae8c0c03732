/* The warden config file: where it is, and reading it within bounds. What its sections mean
 * belongs to the layers that own them (kernel/config.c, agent/config.c, sandbox/config.c), each
 * reading its own with config_fields.h; the composition root (kernel/main_config.c) reads the
 * file once and hands each layer its section. */
#ifndef WARDEN_CONFIG_FILE_H
#define WARDEN_CONFIG_FILE_H

#include <jansson.h>
#include <stddef.h>

#define CONFIG_FILE_MAX_BYTES (1 << 20)

/* `path` (--config FILE), else $WARDEN_CONFIG, else $XDG_CONFIG_HOME/warden/config.json, else
 * ~/.config/warden/config.json; only the default may be missing. 0 with *root the file's JSON
 * object, or NULL when there is no file; -1 with err naming the file and what is wrong with it.
 * `chosen` gets the path looked at ("" when there is none). */
int config_file_read(const char *path, json_t **root, char *chosen, size_t chosen_len, char *err,
                     size_t errlen);

#endif
