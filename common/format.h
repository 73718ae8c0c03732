/* Quantities in words, the same way everywhere a person reads them: error messages, the log,
 * `warden doctor`, config errors. */
#ifndef WARDEN_FORMAT_H
#define WARDEN_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "2 GiB", "1.5 GiB", "512 MiB", "64 KiB", "1500 bytes": whole binary units where the value is
 * one, else one decimal from 1 MiB up, else bytes. */
void format_size(uint64_t bytes, char *out, size_t len);
/* "30 s", "1.5 s". */
void format_seconds(uint32_t ms, char *out, size_t len);

#endif
