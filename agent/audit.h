/* The audit log: one JSON line per attempt of a request (time, execution count, request,
 * attempt, model, provider, code, status, ename/evalue, usage), in
 * ~/.local/share/warden/audit.jsonl ($XDG_DATA_HOME/warden/...) unless WARDEN_AUDIT or
 * agent.audit_log says where, or "off". The file is the user's only (0600); a key is never in it
 * (nothing here has one). Several kernels append to it at once, so every record is one write()
 * of the whole line, under an exclusive lock, to a file opened O_APPEND: records never mix, a
 * write the disk had no room for is cut back to the record before it, and a torn last line (a
 * writer killed mid-write) is cut back when the file is next opened. A log that cannot be
 * written (read-only, full) is said once, on the stderr of the cell it happened in and in the
 * kernel's log, and never fails a cell. */
#ifndef WARDEN_AUDIT_H
#define WARDEN_AUDIT_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>

#include "common/output.h"

struct audit {
    char path[PATH_MAX]; /* "" : off */
    int fd;              /* -1 until the first record */
    bool said;           /* a failure was said: the next ones are silent */
};

/* `where`: a path, "off", or "" for the default place. */
void audit_init(struct audit *a, const char *where);
/* Writes one record (the object is not changed); time is added. A failure is said on `sink`'s
 * stderr (the running cell's) the first time. */
void audit_record(struct audit *a, json_t *record, const struct output_sink *sink);
void audit_close(struct audit *a);

#endif
