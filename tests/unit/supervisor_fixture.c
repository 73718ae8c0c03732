/* The supervisor tests' shared fixture (see supervisor_fixture.h). */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "sandbox/supervisor/frame.h"
#include "supervisor_fixture.h"

char runtime_dir[PATH_MAX];
char workdir[PATH_MAX];
bool using_fake;
int cell_count = 1;

/* ---- a sink that records everything, each call as {kind, content, at} ---------------------- */

static void record(struct capture *c, const char *kind, json_t *content)
{
    json_array_append_new(c->msgs, json_pack("{s:s, s:o, s:I}", "kind", kind, "content", content,
                                             "at", (json_int_t)monotonic_ms()));
}

static void cap_stream(void *ctx, enum output_stream name, const char *text, size_t len)
{
    record(ctx, "stream",
           json_pack("{s:s, s:s%}", "name", name == OUTPUT_STDERR ? "stderr" : "stdout", "text",
                     text, len));
}

static void cap_display(void *ctx, json_t *data, json_t *metadata, const char *display_id,
                        bool update)
{
    json_t *content = json_pack("{s:O, s:O}", "data", data, "metadata", metadata);
    if (display_id)
        json_object_set_new(content, "display_id", json_string(display_id));
    record(ctx, update ? "update" : "display", content);
}

static void cap_clear(void *ctx, bool wait)
{
    record(ctx, "clear", json_pack("{s:b}", "wait", wait));
}

static void cap_result(void *ctx, json_t *data, json_t *metadata)
{
    record(ctx, "result", json_pack("{s:O, s:O}", "data", data, "metadata", metadata));
}

static void cap_error(void *ctx, const struct cell_error *error)
{
    record(ctx, "error",
           json_pack("{s:s, s:s, s:O}", "ename", error->ename, "evalue", error->evalue, "traceback",
                     error->traceback));
}

static char *cap_read_input(void *ctx, const char *prompt, bool password, int abandon_fd)
{
    struct capture *c = ctx;
    (void)abandon_fd;
    c->input_calls++;
    snprintf(c->prompt, sizeof c->prompt, "%s", prompt);
    c->password = password;
    return c->input_value ? strdup(c->input_value) : NULL;
}

struct output_sink capture_sink(struct capture *c)
{
    return (struct output_sink){c,          cap_stream, cap_display,   cap_clear,
                                cap_result, cap_error,  cap_read_input};
}

void run_full(struct sandbox *sb, const char *code, uint32_t wall_ms, bool allow_stdin,
              const char *input_value, struct result *res)
{
    memset(res, 0, sizeof *res);
    res->cap.msgs = json_array();
    res->cap.input_value = input_value;
    struct output_sink sink = capture_sink(&res->cap);
    struct sandbox_cell cell = {.code = code,
                                .count = cell_count++,
                                .silent = false,
                                .allow_stdin = allow_stdin,
                                .wall_ms = wall_ms};
    int64_t t0 = monotonic_ms();
    sandbox_execute(sb, &cell, &sink, &res->out);
    res->ms = monotonic_ms() - t0;
}

void run_cell(struct sandbox *sb, const char *code, struct result *res)
{
    run_full(sb, code, 0, false, NULL, res);
}

void result_free(struct result *res)
{
    json_decref(res->cap.msgs);
    cell_outcome_clear(&res->out);
}

int count_type(const struct result *res, const char *kind)
{
    int n = 0;
    size_t i;
    json_t *m;
    json_array_foreach(res->cap.msgs, i, m)
        if (strcmp(json_string_value(json_object_get(m, "kind")), kind) == 0)
            n++;
    return n;
}

json_t *first_of(const struct result *res, const char *kind)
{
    size_t i;
    json_t *m;
    json_array_foreach(res->cap.msgs, i, m)
        if (strcmp(json_string_value(json_object_get(m, "kind")), kind) == 0)
            return json_object_get(m, "content");
    return NULL;
}

char *stream_of(const struct result *res, const char *name)
{
    size_t len = 0, i;
    json_t *m;
    json_array_foreach(res->cap.msgs, i, m) {
        json_t *c = json_object_get(m, "content");
        if (strcmp(json_string_value(json_object_get(m, "kind")), "stream") == 0 &&
            strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
            len += json_string_length(json_object_get(c, "text"));
    }
    char *out = malloc(len + 1), *p = out;
    json_array_foreach(res->cap.msgs, i, m) {
        json_t *c = json_object_get(m, "content");
        if (strcmp(json_string_value(json_object_get(m, "kind")), "stream") == 0 &&
            strcmp(json_string_value(json_object_get(c, "name")), name) == 0) {
            json_t *t = json_object_get(c, "text");
            memcpy(p, json_string_value(t), json_string_length(t));
            p += json_string_length(t);
        }
    }
    *p = 0;
    return out;
}

bool stream_has(const struct result *res, const char *name, const char *needle)
{
    char *s = stream_of(res, name);
    bool found = strstr(s, needle) != NULL;
    free(s);
    return found;
}

const char *result_text(const struct result *res)
{
    json_t *c = first_of(res, "result");
    return c ? json_string_value(json_object_get(json_object_get(c, "data"), "text/plain")) : NULL;
}

const char *error_field(const struct result *res, const char *field)
{
    json_t *c = first_of(res, "error");
    return c ? json_string_value(json_object_get(c, field)) : NULL;
}

bool contains(const char *s, const char *needle) { return s && strstr(s, needle); }

void dump(const char *what, const struct result *res)
{
    char *s = json_dumps(res->cap.msgs, JSON_COMPACT);
    fprintf(stderr, "  [%s] status %d ename %s evalue %s\n  msgs: %.2000s\n", what, res->out.status,
            res->out.error.ename ? res->out.error.ename : "-",
            res->out.error.evalue ? res->out.error.evalue : "-", s);
    free(s);
}

bool cell_gives(struct sandbox *sb, const char *code, const char *expected)
{
    struct result r;
    run_cell(sb, code, &r);
    bool ok = r.out.status == CELL_OK && result_text(&r) && strcmp(result_text(&r), expected) == 0;
    if (!ok)
        dump(code, &r);
    result_free(&r);
    return ok;
}

/* ---- interrupting from another thread ---------------------------------------------------------
 */

static void *interrupt_later(void *arg)
{
    struct interrupter *it = arg;
    struct timespec ts = {it->delay_ms / 1000, (long)(it->delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    sandbox_interrupt(it->sb);
    return NULL;
}

void interrupt_after(struct interrupter *it, struct sandbox *sb, int delay_ms)
{
    it->sb = sb;
    it->delay_ms = delay_ms;
    pthread_create(&it->thread, NULL, interrupt_later, it);
}

/* ---- configuration and processes --------------------------------------------------------------
 */

struct sandbox_config base_config(void)
{
    struct sandbox_config cfg;
    sandbox_config_defaults(&cfg);
    cfg.unjailed = true;
    cfg.standby = false;
    cfg.limits.interrupt_grace_ms = 600;
    snprintf(cfg.runtime_dir, sizeof cfg.runtime_dir, "%s", runtime_dir);
    snprintf(cfg.workdir, sizeof cfg.workdir, "%s", workdir);
    return cfg;
}

struct sandbox *start(const struct sandbox_config *cfg)
{
    char err[256];
    struct sandbox *sb = sandbox_start(cfg, err, sizeof err);
    if (!sb) {
        fprintf(stderr, "sandbox_start: %s\n", err);
        exit(1);
    }
    return sb;
}

bool process_gone(int pid)
{
    for (int i = 0; i < 100; i++) {
        if (kill(pid, 0) != 0 && errno == ESRCH)
            return true;
        usleep(10000);
    }
    return false;
}

bool wait_exit(int pid)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return errno == ESRCH;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, 5000);
    close(fd);
    return n == 1;
}

bool wait_state(int pid, const char *states)
{
    for (int i = 0; i < 500; i++) {
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            return true;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        const char *paren = strrchr(buf, ')');
        if (paren && paren[1] == ' ' && strchr(states, paren[2]))
            return true;
        usleep(10000);
    }
    return false;
}

/* ---- running the tests ------------------------------------------------------------------------
 */

void fixture_use_stand_in(void)
{
    using_fake = true;
    snprintf(runtime_dir, sizeof runtime_dir, "%s/../../tests/unit/fake_runtime",
             WARDEN_SOURCE_RUNTIME_DIR);
}

int fixture_init(const char *suite)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    log_set_level(log_level_from_env());
    signal(SIGPIPE, SIG_IGN);
    char real[PATH_MAX + 32];
    snprintf(real, sizeof real, "%s/warden_worker.py", WARDEN_SOURCE_RUNTIME_DIR);
    const char *force_fake = getenv("WARDEN_TEST_FAKE_WORKER");
    if (access(real, R_OK) == 0 && !(force_fake && strcmp(force_fake, "1") == 0))
        snprintf(runtime_dir, sizeof runtime_dir, "%s", WARDEN_SOURCE_RUNTIME_DIR);
    else
        fixture_use_stand_in();
    snprintf(workdir, sizeof workdir, "/tmp/warden-test-supervisor-XXXXXX");
    if (!mkdtemp(workdir) || chmod(workdir, 0755) != 0) {
        perror("mkdtemp");
        return -1;
    }
    printf("%s tests against %s (%s)\n", suite, runtime_dir,
           using_fake ? "stand-in worker" : "real runtime");
    fflush(stdout);
    return 0;
}

void fixture_cleanup(void) { rmdir(workdir); }

bool want(const char *name)
{
    const char *only = getenv("WARDEN_TEST_ONLY");
    if (!only || !*only)
        return true;
    size_t len = strlen(name);
    for (const char *p = only; (p = strstr(p, name)) != NULL; p += len)
        if ((p == only || p[-1] == ',') && (p[len] == 0 || p[len] == ','))
            return true;
    return false;
}

int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}
