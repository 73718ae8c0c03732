#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/files.h"
#include "common/log.h"

#define AUDIT_TAIL_CHUNK 4096 /* the torn last line is looked for backwards, this much at once */

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

static void say_once(struct audit *a, const struct output_sink *sink, const char *what, int why)
{
    if (a->said)
        return;
    a->said = true;
    char text[PATH_MAX + 200];
    snprintf(text, sizeof text, "warden: audit log %s: %s: %s (requests run without it; said once)",
             a->path, what, strerror(why));
    log_warn("%s", text);
    strcat(text, "\n");
    output_stream(sink, OUTPUT_STDERR, text, strlen(text));
}

/* The offset just after the last newline of the file's first `size` bytes (0: none). */
static off_t after_last_newline(int fd, off_t size)
{
    char chunk[AUDIT_TAIL_CHUNK];
    while (size > 0) {
        off_t from = size > AUDIT_TAIL_CHUNK ? size - AUDIT_TAIL_CHUNK : 0;
        ssize_t n = pread(fd, chunk, (size_t)(size - from), from);
        if (n <= 0)
            return -1;
        for (ssize_t i = n; i-- > 0;)
            if (chunk[i] == '\n')
                return from + i + 1;
        size = from;
    }
    return 0;
}

/* A writer killed mid-line (or a full disk in an older warden) left a last line without its
 * newline: cut back to the last whole record, so the next one starts on a line of its own.
 * Under the lock, so no other kernel is half-way through its own record. */
static void cut_torn_line(int fd)
{
    struct stat st;
    char last;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0 ||
        pread(fd, &last, 1, st.st_size - 1) != 1 || last == '\n')
        return;
    off_t keep = after_last_newline(fd, st.st_size);
    if (keep >= 0 && ftruncate(fd, keep) == 0)
        log_warn("audit log: a torn last record (%lld bytes) was cut off",
                 (long long)(st.st_size - keep));
}

static bool open_log(struct audit *a, const struct output_sink *sink)
{
    a->fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (a->fd < 0) {
        say_once(a, sink, "cannot open it", errno);
        return false;
    }
    struct stat st;
    /* an existing file too: what a model was asked is private (a device given as the path, such
     * as /dev/full, is left alone) */
    if (fstat(a->fd, &st) == 0 && S_ISREG(st.st_mode))
        fchmod(a->fd, 0600);
    if (flock(a->fd, LOCK_EX) == 0) {
        cut_torn_line(a->fd);
        flock(a->fd, LOCK_UN);
    }
    return true;
}

static char *record_line(json_t *record, size_t *len)
{
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    json_t *line = json_copy(record);
    json_object_set_new(line, "time", json_string(when));
    char *text = json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(line);
    if (!text)
        return NULL;
    *len = strlen(text);
    text[(*len)++] = '\n'; /* over the NUL: the line is written by its length */
    return text;
}

/* One write of the whole line, under the lock: O_APPEND puts it after what is there, and a
 * short write (the disk had room for part of it) is cut back, leaving only whole records. */
static int append_line(int fd, const char *text, size_t len)
{
    bool locked = flock(fd, LOCK_EX) == 0;
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    ssize_t n = write(fd, text, len);
    int why = n < 0 ? errno : ENOSPC; /* a short write is a full disk (or a file size limit) */
    if (n >= 0 && (size_t)n == len)
        why = 0;
    else if (n > 0 && regular && locked && ftruncate(fd, st.st_size) != 0)
        log_warn("audit log: cannot cut back a partial record: %s", strerror(errno));
    if (locked)
        flock(fd, LOCK_UN);
    return why;
}

void audit_record(struct audit *a, json_t *record, const struct output_sink *sink)
{
    if (!a->path[0])
        return;
    /* after a failure every record is tried again (a disk that was full may have room now), but
     * it is said only once */
    if (a->fd < 0 && !open_log(a, sink))
        return;
    size_t len;
    char *text = record_line(record, &len);
    if (!text)
        return;
    int why = append_line(a->fd, text, len);
    free(text);
    if (why)
        say_once(a, sink, "cannot write it", why);
}

void audit_close(struct audit *a)
{
    if (a->fd >= 0)
        close(a->fd);
    a->fd = -1;
}
