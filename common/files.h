/* Where warden keeps its files, and a growing byte buffer: small things more than one layer needs.
 */
#ifndef WARDEN_FILES_H
#define WARDEN_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* $XDG_DATA_HOME/warden/NAME, else ~/.local/share/warden/NAME, the directories made (0700: what
 * is kept there — history, the audit log — is the user's only). false (and out "") when there is
 * neither variable. */
bool warden_data_file(const char *name, char *out, size_t len);

/* Appends len bytes to *buf (NULL, or made by buffer_append, *used bytes long; *used may have been
 * made smaller since), keeping it NUL-terminated and growing it by doubling. false when out of
 * memory (the buffer is unchanged). */
bool buffer_append(char **buf, size_t *used, const char *bytes, size_t len);

/* Reads at most len - 1 bytes of a small file (/proc, cgroup files) into buf, NUL-terminated:
 * the bytes read, or -1 (errno set) when it cannot be opened or read. */
ssize_t read_small_file(const char *path, char *buf, size_t len);

#endif
