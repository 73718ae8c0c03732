#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/files.h"
#include "common/log.h"

void audit_init(struct audit *a, const char *where)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    if (where && strcmp(where, "off") == 0)
        return;
    if (where && *where)
        snprintf(a->path, sizeof a->path, "%s", where);
    else
        warden_data_file("audit.jsonl", a->path, sizeof a->path);
}

static void said_once(struct audit *a, const char *what)
{
    if (!a->failed)
        log_warn("audit log %s: %s: %s (requests run without it)", a->path, what, strerror(errno));
    a->failed = 1;
}

void audit_record(struct audit *a, json_t *record)
{
    if (!a->path[0] || a->failed)
        return;
    if (a->fd < 0) {
        a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (a->fd < 0) {
            said_once(a, "cannot open it");
            return;
        }
        fchmod(a->fd, 0600); /* an existing file too: what a model was asked is private */
    }
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    json_t *line = json_copy(record);
    json_object_set_new(line, "time", json_string(when));
    char *text = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(line);
    if (!text)
        return;
    size_t len = strlen(text);
    text[len] = '\n';
    /* one write of the whole line: O_APPEND makes it land whole after what is there */
    ssize_t n = write(a->fd, text, len + 1);
    free(text);
    if (n != (ssize_t)(len + 1))
        said_once(a, n < 0 ? "cannot write it" : "a short write");
}

void audit_close(struct audit *a)
{
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
}
