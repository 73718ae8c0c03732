/* The audit log: one JSON line per attempt of a request (time, execution count, request,
 * attempt, model, provider, code, status, ename/evalue, usage), in
 * ~/.local/share/warden/audit.jsonl ($XDG_DATA_HOME/warden/...) unless WARDEN_AUDIT or
 * agent.audit_log says where, or "off". The file is the user's only (0600); every record is one
 * write() to a file opened O_APPEND, so a kill mid-write never damages the records before it;
 * a key is never in it (nothing here has one). A log that cannot be written is said once, in
 * the kernel's log, and never fails a cell. */
#ifndef WARDEN_AUDIT_H
#define WARDEN_AUDIT_H

#include <jansson.h>
#include <limits.h>

struct audit {
    char path[PATH_MAX]; /* "" : off */
    int fd;              /* -1 until the first record */
    int failed;          /* the file could not be opened or written: said once */
};

/* `where`: a path, "off", or "" for the default place. */
void audit_init(struct audit *a, const char *where);
/* Writes one record (the object is not changed); time is added. */
void audit_record(struct audit *a, json_t *record);
void audit_close(struct audit *a);

#endif
