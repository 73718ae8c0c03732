/* The agent's audit log (agent/audit.c): whole JSON lines, the user's only; several writers at
 * once; a torn last line cut back at open; a write the disk has no room for cut back to the
 * record before; a log that cannot be opened or written said once on the cell's stderr. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/audit.h"
#include "check.h"

static char dir[] = "/tmp/warden-test-audit-XXXXXX";

static const char *in_dir(const char *name)
{
    static char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* What the cell's stderr got. */
struct said {
    char text[8192];
    int calls;
};

static void on_stream(void *ctx, enum output_stream name, const char *text, size_t len)
{
    struct said *said = ctx;
    if (name != OUTPUT_STDERR)
        return;
    said->calls++;
    size_t used = strlen(said->text);
    snprintf(said->text + used, sizeof said->text - used, "%.*s", (int)len, text);
}

static struct output_sink sink_for(struct said *said)
{
    memset(said, 0, sizeof *said);
    return (struct output_sink){.ctx = said, .stream = on_stream};
}

static void record(struct audit *a, const char *request, const struct output_sink *sink)
{
    json_t *rec = json_pack("{s:s, s:i}", "request", request, "attempt", 1);
    audit_record(a, rec, sink);
    json_decref(rec);
}

/* Every line of the file is a JSON object with a request; how many (-1: a line is not). */
static int whole_records(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int count = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        json_t *rec = json_loads(line, 0, NULL);
        bool good = line[len - 1] == '\n' && json_string_value(json_object_get(rec, "request")) &&
                    json_string_value(json_object_get(rec, "time"));
        json_decref(rec);
        if (!good) {
            count = -1;
            break;
        }
        count++;
    }
    free(line);
    fclose(f);
    return count;
}

static off_t size_of(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void test_records(void)
{
    struct said said;
    struct output_sink sink = sink_for(&said);
    struct audit a;
    audit_init(&a, in_dir("plain.jsonl"));
    record(&a, "first", &sink);
    record(&a, "second", &sink);
    audit_close(&a);
    CHECK(whole_records(in_dir("plain.jsonl")) == 2);
    struct stat st;
    CHECK(stat(in_dir("plain.jsonl"), &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(said.calls == 0);
    audit_init(&a, "off");
    record(&a, "nowhere", &sink);
    CHECK(a.fd < 0 && said.calls == 0);
}

static void test_torn_line_cut_at_open(void)
{
    const char *path = in_dir("torn.jsonl");
    FILE *f = fopen(path, "w");
    fputs("{\"request\":\"whole\",\"time\":\"t\"}\n{\"request\":\"killed mid-wr", f);
    fclose(f);
    struct said said;
    struct output_sink sink = sink_for(&said);
    struct audit a;
    audit_init(&a, path);
    record(&a, "after", &sink);
    audit_close(&a);
    CHECK(whole_records(path) == 2);
    /* a file with no newline at all is one torn line */
    f = fopen(path, "w");
    fputs("{\"request\":\"torn", f);
    fclose(f);
    audit_init(&a, path);
    record(&a, "alone", &sink);
    audit_close(&a);
    CHECK(whole_records(path) == 1);
}

static void test_full_device(void)
{
    struct stat before, after;
    CHECK(stat("/dev/full", &before) == 0);
    struct said said;
    struct output_sink sink = sink_for(&said);
    struct audit a;
    audit_init(&a, "/dev/full");
    record(&a, "no room", &sink);
    CHECK(said.calls == 1 && strstr(said.text, "/dev/full") &&
          strstr(said.text, "No space left on device") && strstr(said.text, "said once"));
    record(&a, "still no room", &sink);
    CHECK(said.calls == 1);
    audit_close(&a);
    /* a device given as the log is written to, never changed */
    CHECK(stat("/dev/full", &after) == 0 && after.st_mode == before.st_mode);
}

static void test_cannot_open(void)
{
    struct said said;
    struct output_sink sink = sink_for(&said);
    struct audit a;
    audit_init(&a, "/dev/null/not-a-dir/audit.jsonl");
    record(&a, "one", &sink);
    record(&a, "two", &sink);
    CHECK(said.calls == 1 && strstr(said.text, "cannot open it") &&
          strstr(said.text, "Not a directory"));
    record(&a, "no sink", NULL); /* never crashes without one */
}

/* A disk with room for part of a record (a file size limit stands for it): the part is cut back,
 * and once there is room again the next record starts on a line of its own. */
static void test_partial_write_cut_back(void)
{
    const char *path = in_dir("partial.jsonl");
    pid_t child = fork();
    if (child == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct said said;
        struct output_sink sink = sink_for(&said);
        struct audit a;
        audit_init(&a, path);
        record(&a, "fits", &sink);
        off_t size = size_of(path);
        struct rlimit limit = {(rlim_t)size + 20, RLIM_INFINITY};
        setrlimit(RLIMIT_FSIZE, &limit);
        char big[400];
        memset(big, 'x', sizeof big - 1);
        big[sizeof big - 1] = 0;
        record(&a, big, &sink);
        bool cut = size_of(path) == size && said.calls == 1 && strstr(said.text, "cannot write");
        limit.rlim_cur = RLIM_INFINITY;
        setrlimit(RLIMIT_FSIZE, &limit);
        record(&a, "room again", &sink);
        audit_close(&a);
        exit(cut && said.calls == 1 ? 0 : 1);
    }
    int status = -1;
    waitpid(child, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(whole_records(path) == 2);
}

static void test_two_writers(void)
{
    const char *path = in_dir("shared.jsonl");
    pid_t children[2];
    for (int c = 0; c < 2; c++) {
        children[c] = fork();
        if (children[c] == 0) {
            char request[6000];
            memset(request, c ? 'q' : 'p', sizeof request - 1);
            request[sizeof request - 1] = 0;
            struct audit a;
            audit_init(&a, path);
            for (int i = 0; i < 200; i++)
                record(&a, request, NULL);
            audit_close(&a);
            exit(0);
        }
    }
    for (int c = 0; c < 2; c++)
        waitpid(children[c], NULL, 0);
    CHECK(whole_records(path) == 400);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 2;
    test_records();
    test_torn_line_cut_at_open();
    test_full_device();
    test_cannot_open();
    test_partial_write_cut_back();
    test_two_writers();
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_summary("audit");
}
