/* The real supervisor with a real worker: the runtime in sandbox/runtime/ when it is there, else
 * (or with WARDEN_TEST_FAKE_WORKER=1) the stand-in in tests/unit/fake_runtime/. Most tests run
 * unjailed so they do not depend on the machine; one runs jailed when jail_check() passes.
 * Misbehaviour comes from cell code: signals, os._exit, floods, forged bytes on the channel. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "sandbox/frame.h"
#include "sandbox/log.h"
#include "sandbox/sandbox.h"
#include "sandbox/spawn.h"
#include "sandbox/supervisor.h"

static char runtime_dir[PATH_MAX];
static char workdir[PATH_MAX]; /* a directory of the test's own (the jail refuses /tmp itself) */
static bool using_fake;

/* ---- a sink that records everything ---------------------------------------------------------- */

struct capture {
    json_t *msgs; /* [{msg_type, content, at}] */
    int input_calls;
    char prompt[256];
    bool password;
    const char *input_value; /* NULL: cancel */
};

static void cap_emit(void *ctx, const char *msg_type, json_t *content)
{
    struct capture *c = ctx;
    json_array_append_new(c->msgs, json_pack("{s:s, s:o, s:I}", "msg_type", msg_type, "content",
                                             content, "at", (json_int_t)frame_now_ms()));
}

static char *cap_read_input(void *ctx, const char *prompt, bool password)
{
    struct capture *c = ctx;
    c->input_calls++;
    snprintf(c->prompt, sizeof c->prompt, "%s", prompt);
    c->password = password;
    return c->input_value ? strdup(c->input_value) : NULL;
}

struct result {
    struct capture cap;
    struct cell_outcome out;
    int64_t ms;
};

static int cell_count = 1;

static void run_full(struct sandbox *sb, const char *code, uint32_t wall_ms, bool allow_stdin,
                     const char *input_value, struct result *res)
{
    memset(res, 0, sizeof *res);
    res->cap.msgs = json_array();
    res->cap.input_value = input_value;
    struct output_sink sink = {.ctx = &res->cap, .emit = cap_emit, .read_input = cap_read_input};
    struct sandbox_cell cell = {.code = code, .count = cell_count++, .silent = false,
                                .allow_stdin = allow_stdin, .wall_ms = wall_ms};
    int64_t t0 = frame_now_ms();
    sandbox_execute(sb, &cell, &sink, &res->out);
    res->ms = frame_now_ms() - t0;
}

static void run_cell(struct sandbox *sb, const char *code, struct result *res)
{
    run_full(sb, code, 0, false, NULL, res);
}

static void result_free(struct result *res)
{
    json_decref(res->cap.msgs);
    cell_outcome_clear(&res->out);
}

static int count_type(const struct result *res, const char *msg_type)
{
    int n = 0;
    size_t i;
    json_t *m;
    json_array_foreach(res->cap.msgs, i, m)
        if (strcmp(json_string_value(json_object_get(m, "msg_type")), msg_type) == 0)
            n++;
    return n;
}

static json_t *first_of(const struct result *res, const char *msg_type)
{
    size_t i;
    json_t *m;
    json_array_foreach(res->cap.msgs, i, m)
        if (strcmp(json_string_value(json_object_get(m, "msg_type")), msg_type) == 0)
            return json_object_get(m, "content");
    return NULL;
}

/* Concatenated stream text of `name`; caller frees. */
static char *stream_of(const struct result *res, const char *name)
{
    size_t len = 0, i;
    json_t *m;
    json_array_foreach(res->cap.msgs, i, m) {
        json_t *c = json_object_get(m, "content");
        if (strcmp(json_string_value(json_object_get(m, "msg_type")), "stream") == 0 &&
            strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
            len += json_string_length(json_object_get(c, "text"));
    }
    char *out = malloc(len + 1), *p = out;
    json_array_foreach(res->cap.msgs, i, m) {
        json_t *c = json_object_get(m, "content");
        if (strcmp(json_string_value(json_object_get(m, "msg_type")), "stream") == 0 &&
            strcmp(json_string_value(json_object_get(c, "name")), name) == 0) {
            json_t *t = json_object_get(c, "text");
            memcpy(p, json_string_value(t), json_string_length(t));
            p += json_string_length(t);
        }
    }
    *p = 0;
    return out;
}

static bool stream_has(const struct result *res, const char *name, const char *needle)
{
    char *s = stream_of(res, name);
    bool found = strstr(s, needle) != NULL;
    free(s);
    return found;
}

static const char *result_text(const struct result *res)
{
    json_t *c = first_of(res, "execute_result");
    return c ? json_string_value(json_object_get(json_object_get(c, "data"), "text/plain")) : NULL;
}

static const char *error_field(const struct result *res, const char *field)
{
    json_t *c = first_of(res, "error");
    return c ? json_string_value(json_object_get(c, field)) : NULL;
}

static bool contains(const char *s, const char *needle) { return s && strstr(s, needle); }

static void dump(const char *what, const struct result *res)
{
    char *s = json_dumps(res->cap.msgs, JSON_COMPACT);
    fprintf(stderr, "  [%s] status %d ename %s evalue %s\n  msgs: %.2000s\n", what,
            res->out.status, res->out.ename ? res->out.ename : "-",
            res->out.evalue ? res->out.evalue : "-", s);
    free(s);
}

/* Runs `code` and checks it gives text/plain `want` (sanity after a recovery). */
static bool cell_gives(struct sandbox *sb, const char *code, const char *want)
{
    struct result r;
    run_cell(sb, code, &r);
    bool ok = r.out.status == CELL_OK && result_text(&r) && strcmp(result_text(&r), want) == 0;
    if (!ok)
        dump(code, &r);
    result_free(&r);
    return ok;
}

/* ---- interrupting from another thread --------------------------------------------------------- */

struct interrupter {
    struct sandbox *sb;
    int delay_ms;
    pthread_t thread;
};

static void *interrupt_later(void *arg)
{
    struct interrupter *it = arg;
    struct timespec ts = {it->delay_ms / 1000, (long)(it->delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    sandbox_interrupt(it->sb);
    return NULL;
}

static void interrupt_after(struct interrupter *it, struct sandbox *sb, int delay_ms)
{
    it->sb = sb;
    it->delay_ms = delay_ms;
    pthread_create(&it->thread, NULL, interrupt_later, it);
}

/* ---- configuration ---------------------------------------------------------------------------- */

static struct sandbox_config base_config(void)
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

static struct sandbox *start(const struct sandbox_config *cfg)
{
    char err[256];
    struct sandbox *sb = sandbox_start(cfg, err, sizeof err);
    if (!sb) {
        fprintf(stderr, "sandbox_start: %s\n", err);
        exit(1);
    }
    return sb;
}

static bool process_gone(int pid)
{
    for (int i = 0; i < 100; i++) {
        if (kill(pid, 0) != 0 && errno == ESRCH)
            return true;
        usleep(10000);
    }
    return false;
}

/* Waits (up to 5 s) until the process has exited (its pidfd is readable). */
static bool wait_exit(int pid)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return errno == ESRCH;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n = poll(&p, 1, 5000);
    close(fd);
    return n == 1;
}

/* Waits (up to 5 s) until /proc says the process is in one of `states` ('Z' zombie, 'T' stopped)
 * or gone. */
static bool wait_state(int pid, const char *states)
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

/* Python helpers for forging bytes on the channel: the socket among the worker's fds. */
#define FORGE_PRELUDE                                                                              \
    "import os, json\n"                                                                            \
    "def _chan_fd():\n"                                                                            \
    "    for fd in sorted(int(x) for x in os.listdir('/proc/self/fd')):\n"                         \
    "        try:\n"                                                                               \
    "            if os.readlink('/proc/self/fd/%d' % fd).startswith('socket:'):\n"                 \
    "                return fd\n"                                                                  \
    "        except OSError:\n"                                                                    \
    "            pass\n"                                                                           \
    "def _frame(obj):\n"                                                                           \
    "    b = json.dumps(obj).encode()\n"                                                           \
    "    return len(b).to_bytes(4, 'big') + b\n"                                                   \
    "def _forge(b):\n"                                                                             \
    "    os.write(_chan_fd(), b)\n"

/* ---- tests ------------------------------------------------------------------------------------ */

static void test_basics(void)
{
    struct sandbox_config cfg = base_config();
    int64_t t0 = frame_now_ms();
    struct sandbox *sb = start(&cfg);
    int64_t start_ms = frame_now_ms() - t0;
    CHECK(start_ms < 2000); /* returns at once: no waiting for ready */

    struct result r;
    run_cell(sb, "print('hello')\nimport sys\nprint('oops', file=sys.stderr)\n40 + 2", &r);
    printf("  sandbox_start returned in %lld ms; first cell (incl. worker start) %lld ms; worker "
           "ready in %lld ms\n",
           (long long)start_ms, (long long)r.ms, (long long)sandbox_test_active_ready_ms(sb));
    CHECK(r.out.status == CELL_OK);
    CHECK(!r.out.state_lost);
    CHECK(stream_has(&r, "stdout", "hello\n"));
    CHECK(stream_has(&r, "stderr", "oops\n"));
    CHECK(result_text(&r) && strcmp(result_text(&r), "42") == 0);
    json_t *er = first_of(&r, "execute_result");
    CHECK(json_integer_value(json_object_get(er, "execution_count")) == cell_count - 1);
    if (r.out.status != CELL_OK)
        dump("basics", &r);
    result_free(&r);

    /* State across cells. */
    run_cell(sb, "x = 41", &r);
    CHECK(r.out.status == CELL_OK && count_type(&r, "execute_result") == 0);
    result_free(&r);
    CHECK(cell_gives(sb, "x + 1", "42"));
    int64_t t1 = frame_now_ms();
    CHECK(cell_gives(sb, "1 + 1", "2"));
    printf("  warm round trip of 1+1: %lld ms\n", (long long)(frame_now_ms() - t1));

    /* Error outcome. */
    run_cell(sb, "def f():\n    return 1 / 0\nf()", &r);
    CHECK(r.out.status == CELL_ERROR);
    CHECK(r.out.ename && strcmp(r.out.ename, "ZeroDivisionError") == 0);
    CHECK(contains(r.out.evalue, "division by zero"));
    CHECK(json_is_array(r.out.traceback) && json_array_size(r.out.traceback) > 0);
    CHECK(!r.out.state_lost);
    CHECK(count_type(&r, "error") == 1);
    CHECK(contains(error_field(&r, "ename"), "ZeroDivisionError"));
    result_free(&r);
    CHECK(cell_gives(sb, "x", "41")); /* an error keeps the state */

    /* Silent: no execute_result. */
    struct capture cap = {.msgs = json_array()};
    struct output_sink sink = {.ctx = &cap, .emit = cap_emit};
    struct sandbox_cell cell = {.code = "7 * 6", .count = 99, .silent = true};
    struct cell_outcome out;
    sandbox_execute(sb, &cell, &sink, &out);
    CHECK(out.status == CELL_OK && json_array_size(cap.msgs) == 0);
    cell_outcome_clear(&out);
    json_decref(cap.msgs);

    /* Code that is not valid UTF-8 still reaches the worker (replaced). */
    run_cell(sb, "s = 'a\xff' + 'b'\nlen(s)", &r);
    CHECK(r.out.status == CELL_OK && result_text(&r) && strcmp(result_text(&r), "3") == 0);
    result_free(&r);

    int pid = sandbox_test_active_pid(sb);
    CHECK(pid > 0);
    sandbox_stop(sb);
    CHECK(process_gone(pid));
}

static void test_interrupts(void)
{
    struct sandbox_config cfg = base_config();
    struct sandbox *sb = start(&cfg);
    CHECK(cell_gives(sb, "x = 41\nx", "41"));

    /* Interrupt: KeyboardInterrupt, state kept. */
    struct interrupter it;
    struct result r;
    interrupt_after(&it, sb, 300);
    run_cell(sb, "import time\nwhile True:\n    time.sleep(0.01)", &r);
    pthread_join(it.thread, NULL);
    CHECK(r.out.status == CELL_ERROR);
    CHECK(r.out.ename && strcmp(r.out.ename, "KeyboardInterrupt") == 0);
    CHECK(!r.out.state_lost);
    CHECK(r.ms >= 250 && r.ms < 3000);
    printf("  interrupt of a sleeping loop: cell ended %lld ms after start (interrupt at 300)\n",
           (long long)r.ms);
    if (r.out.status != CELL_ERROR)
        dump("interrupt", &r);
    result_free(&r);
    CHECK(cell_gives(sb, "x", "41"));

    /* A busy loop too. */
    interrupt_after(&it, sb, 200);
    run_cell(sb, "while True:\n    pass", &r);
    pthread_join(it.thread, NULL);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.ename, "KeyboardInterrupt"));
    result_free(&r);

    /* An interrupt while idle is forgotten: the next cell runs normally. */
    sandbox_interrupt(sb);
    CHECK(cell_gives(sb, "import time\ntime.sleep(0.2)\nx", "41"));

    /* Escalation: SIGINT ignored -> killed after the grace period, replaced, state lost. */
    interrupt_after(&it, sb, 300);
    run_cell(sb, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('ignoring', flush=True)\nwhile True:\n    pass", &r);
    pthread_join(it.thread, NULL);
    CHECK(r.out.status == CELL_WORKER_LOST);
    CHECK(r.out.state_lost);
    CHECK(contains(r.out.ename, "WorkerRestarted"));
    CHECK(contains(r.out.evalue, "ignored the interrupt"));
    CHECK(contains(r.out.evalue, "variables are lost"));
    CHECK(contains(error_field(&r, "evalue"), "0.6 s"));
    CHECK(stream_has(&r, "stdout", "ignoring"));
    CHECK(r.ms >= 850 && r.ms < 4000);
    printf("  interrupt escalation (SIGINT ignored, grace 0.6 s): cell ended after %lld ms\n",
           (long long)r.ms);
    result_free(&r);
    run_cell(sb, "x", &r);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.ename, "NameError"));
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));

    /* Wall time: interrupt first (the cell stops), the error names the limit. */
    CHECK(cell_gives(sb, "y = 5\ny", "5"));
    run_full(sb, "while True:\n    pass", 500, false, NULL, &r);
    CHECK(r.out.status == CELL_ERROR);
    CHECK(!r.out.state_lost);
    CHECK(contains(r.out.ename, "TimeoutError"));
    CHECK(contains(r.out.evalue, "wall-time limit of 0.5 s reached"));
    CHECK(stream_has(&r, "stderr", "wall-time limit of 0.5 s reached"));
    CHECK(r.ms >= 450 && r.ms < 3000);
    if (!contains(r.out.ename, "TimeoutError"))
        dump("wall", &r);
    result_free(&r);
    CHECK(cell_gives(sb, "y", "5"));

    /* Wall time with SIGINT ignored: killed, replaced, the message names the limit. */
    run_full(sb, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
             1000, false, NULL, &r);
    CHECK(r.out.status == CELL_WORKER_LOST && r.out.state_lost);
    CHECK(contains(r.out.ename, "TimeoutError"));
    CHECK(contains(r.out.evalue, "wall-time limit of 1 s reached"));
    CHECK(contains(r.out.evalue, "variables are lost"));
    CHECK(r.ms >= 1500 && r.ms < 5000);
    result_free(&r);
    CHECK(cell_gives(sb, "2 + 2", "4"));

    /* A flood that never ends is a running cell: interruptible. */
    interrupt_after(&it, sb, 400);
    run_cell(sb, "while True:\n    print('z' * 50)", &r);
    pthread_join(it.thread, NULL);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.ename, "KeyboardInterrupt"));
    int streams = count_type(&r, "stream");
    printf("  endless print loop interrupted after %lld ms: %d stream messages (%.0f/s)\n",
           (long long)r.ms, streams, streams * 1000.0 / (double)(r.ms ? r.ms : 1));
    CHECK(streams <= 2 + (int)(r.ms / 40));
    result_free(&r);
    sandbox_stop(sb);
}

static void test_death(void)
{
    struct sandbox_config cfg = base_config();
    struct sandbox *sb = start(&cfg);
    CHECK(cell_gives(sb, "x = 1\nx", "1"));

    struct result r;
    run_cell(sb, "import os, sys, time\nprint('last words', flush=True)\ntime.sleep(0.2)\n"
                 "os.kill(os.getpid(), 9)", &r);
    CHECK(r.out.status == CELL_WORKER_LOST);
    CHECK(r.out.state_lost);
    CHECK(contains(r.out.ename, "WorkerDied"));
    CHECK(contains(r.out.evalue, "the Python worker died: killed by signal 9 (SIGKILL)"));
    CHECK(contains(r.out.evalue, "variables are lost"));
    CHECK(stream_has(&r, "stdout", "last words"));
    CHECK(count_type(&r, "error") == 1);
    if (!contains(r.out.evalue, "signal 9"))
        dump("death", &r);
    result_free(&r);
    run_cell(sb, "x", &r);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.ename, "NameError"));
    result_free(&r);

    run_cell(sb, "import os\nos._exit(3)", &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.evalue, "exited with code 3"));
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));

    /* Unjailed, what a dead worker started dies with it (its process group). */
    char code[PATH_MAX + 256];
    snprintf(code, sizeof code,
             "import os, time\npid = os.fork()\nif pid == 0:\n    time.sleep(60)\n    os._exit(0)\n"
             "open('%s/child.pid', 'w').write(str(pid))\nos._exit(5)", workdir);
    run_cell(sb, code, &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.evalue, "exited with code 5"));
    result_free(&r);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/child.pid", workdir);
    FILE *f = fopen(path, "r");
    int child = 0;
    CHECK(f && fscanf(f, "%d", &child) == 1 && child > 0);
    if (f)
        fclose(f);
    unlink(path);
    if (child > 0)
        CHECK(wait_state(child, "Z"));

    run_cell(sb, "import ctypes\nctypes.string_at(0)", &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.evalue, "SIGSEGV"));
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));

    /* Death between cells (a thread kills the worker after the cell): told at the next cell. */
    run_cell(sb, "z = 3\nimport os, threading, time\n"
                 "threading.Thread(target=lambda: (time.sleep(0.2), os.kill(os.getpid(), 9))).start()",
             &r);
    CHECK(r.out.status == CELL_OK);
    result_free(&r);
    CHECK(wait_exit(sandbox_test_active_pid(sb)));
    run_cell(sb, "1 + 2", &r);
    CHECK(r.out.status == CELL_OK && r.out.state_lost);
    CHECK(stream_has(&r, "stderr", "died since the previous cell (killed by signal 9"));
    CHECK(result_text(&r) && strcmp(result_text(&r), "3") == 0);
    result_free(&r);

    /* A worker that exits on its own while idle, then a completion request: empty reply, and the
     * next cell is told. */
    run_cell(sb, "import os, threading, time\n"
                 "threading.Thread(target=lambda: (time.sleep(0.2), os._exit(7))).start()", &r);
    result_free(&r);
    CHECK(wait_exit(sandbox_test_active_pid(sb)));
    json_t *reply = sandbox_complete(sb, "pri", 3);
    CHECK(reply && json_is_array(json_object_get(reply, "matches")));
    CHECK(strcmp(json_string_value(json_object_get(reply, "status")), "ok") == 0);
    json_decref(reply);
    run_cell(sb, "5", &r);
    CHECK(r.out.status == CELL_OK && r.out.state_lost);
    CHECK(stream_has(&r, "stderr", "exited with code 7"));
    result_free(&r);
    sandbox_stop(sb);
}

static void test_protocol_violations(void)
{
    struct sandbox_config cfg = base_config();
    struct sandbox *sb = start(&cfg);
    CHECK(cell_gives(sb, "1", "1"));
    struct result r;

    /* Oversized length header. */
    run_cell(sb, FORGE_PRELUDE "_forge(b'\\xff\\xff\\xff\\xff')\nimport time\ntime.sleep(5)", &r);
    CHECK(r.out.status == CELL_WORKER_LOST && r.out.state_lost);
    CHECK(contains(r.out.ename, "ProtocolError"));
    CHECK(contains(r.out.evalue, "frame length 4294967295"));
    CHECK(r.ms < 3000);
    if (!contains(r.out.ename, "ProtocolError"))
        dump("huge header", &r);
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));

    /* Not JSON. */
    run_cell(sb, FORGE_PRELUDE "_forge(b'\\x00\\x00\\x00\\x05hello')\nimport time\ntime.sleep(5)", &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.evalue, "not valid JSON"));
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));

    /* A JSON array. */
    run_cell(sb, FORGE_PRELUDE "_forge(b'\\x00\\x00\\x00\\x02[]')\nimport time\ntime.sleep(5)", &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.evalue, "not an object"));
    result_free(&r);

    /* Random junk. */
    run_cell(sb, FORGE_PRELUDE "_forge(os.urandom(100000))\nimport time\ntime.sleep(5)", &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.ename, "ProtocolError"));
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));

    /* Forged but well-formed frames for another id, unknown types, invalid fields: dropped, the
     * cell goes on. Invalid UTF-8 inside a frame is replaced, not fatal. */
    CHECK(cell_gives(sb, "kept = 'yes'\nkept", "'yes'"));
    run_cell(sb, FORGE_PRELUDE
             "_forge(_frame({'t': 'done', 'id': -5, 'status': 'ok'}))\n"
             "_forge(_frame({'t': 'stream', 'id': -5, 'name': 'stdout', 'text': 'FORGED'}))\n"
             "_forge(_frame({'t': 'exec_host', 'cmd': 'rm -rf /'}))\n"
             "_forge(_frame({'t': 'ready', 'python': 'x' * 1000}))\n"
             "b = b'{\"t\":\"stream\",\"id\":-5,\"name\":\"stdout\",\"text\":\"\\xff\\xfe\"}'\n"
             "_forge(len(b).to_bytes(4, 'big') + b)\n"
             "import time\ntime.sleep(0.1)\n"
             "print('after')\nkept", &r);
    CHECK(r.out.status == CELL_OK);
    CHECK(!r.out.state_lost);
    CHECK(stream_has(&r, "stdout", "after"));
    CHECK(!stream_has(&r, "stdout", "FORGED"));
    CHECK(result_text(&r) && strcmp(result_text(&r), "'yes'") == 0);
    if (r.out.status != CELL_OK)
        dump("forged", &r);
    result_free(&r);

    /* Many frames and `done` in one write: the kernel reads them in one go and must not wait on
     * the fd for frames it already holds (regression: a hang until the worker wrote again). */
    if (using_fake) {
        run_cell(sb, FORGE_PRELUDE "me = _current['id']\n"
                     "burst = b''.join(_frame({'t': 'stream', 'id': me, 'name': 'stdout', 'text': 'b'})"
                     " for i in range(2000))\n"
                     "_raw(burst + _frame({'t': 'done', 'id': me, 'status': 'ok'}))\n"
                     "import time\ntime.sleep(10)", &r);
        CHECK(r.out.status == CELL_OK);
        CHECK(r.ms < 5000);
        char *o = stream_of(&r, "stdout");
        CHECK(strlen(o) == 2000);
        free(o);
        printf("  2000 frames + done in one write: cell ended after %lld ms\n", (long long)r.ms);
        result_free(&r);
        /* That worker is still sleeping in the cell: start afresh. */
        sandbox_reset(sb);
        CHECK(cell_gives(sb, "2 + 3", "5"));
    }

    /* The worker closing its channel: the cell ends with an error, the next cell is fresh. */
    run_cell(sb, FORGE_PRELUDE "import socket\n"
                 "socket.socket(fileno=os.dup(_chan_fd())).shutdown(socket.SHUT_WR)\n"
                 "import time\ntime.sleep(30)", &r);
    CHECK(r.out.status == CELL_WORKER_LOST);
    CHECK(contains(r.out.ename, "WorkerDied"));
    CHECK(r.ms < 5000);
    printf("  worker closed its channel: cell ended after %lld ms (%s)\n", (long long)r.ms,
           r.out.evalue ? r.out.evalue : "-");
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));
    sandbox_stop(sb);
}

static void test_flood(void)
{
    struct sandbox_config cfg = base_config();
    cfg.limits.output_bytes = 1024 * 1024;
    struct sandbox *sb = start(&cfg);
    CHECK(cell_gives(sb, "1", "1"));
    struct result r;

    /* 100k small writes: coalesced into a few messages, nothing lost under the limit. */
    run_cell(sb, "import sys\nfor i in range(100000):\n    sys.stdout.write('%d\\n' % (i % 10))\n"
                 "    if i % 1000 == 0: sys.stdout.flush()", &r);
    CHECK(r.out.status == CELL_OK);
    char *out = stream_of(&r, "stdout");
    CHECK(strlen(out) == 200000);
    free(out);
    int streams = count_type(&r, "stream");
    printf("  100000 writes (200 kB) in %lld ms -> %d stream messages\n", (long long)r.ms, streams);
    CHECK(streams <= 2 + (int)(r.ms / 40));
    result_free(&r);

    /* 6 MB against a 1 MiB limit: exactly one notice, at most 1 MiB shown, the cell completes. */
    run_cell(sb, "import sys\nfor i in range(300000):\n    print('y' * 20)\n"
                 "    if i % 500 == 0: sys.stdout.flush()\n"
                 "print('tail')\n'finished'", &r);
    CHECK(r.out.status == CELL_OK);
    out = stream_of(&r, "stdout");
    CHECK(strlen(out) <= 1024 * 1024);
    CHECK(strlen(out) >= 1000 * 1000);
    CHECK(strstr(out, "tail") == NULL);
    free(out);
    char *err = stream_of(&r, "stderr");
    CHECK(strstr(err, "output truncated: this cell exceeded 1 MiB of output") != NULL);
    char *second = strstr(err, "output truncated");
    CHECK(second && strstr(second + 1, "output truncated") == NULL);
    free(err);
    CHECK(count_type(&r, "execute_result") == 0); /* dropped after truncation */
    streams = count_type(&r, "stream");
    printf("  6 MB flood against a 1 MiB limit in %lld ms -> %d stream messages\n",
           (long long)r.ms, streams);
    CHECK(streams <= 3 + (int)(r.ms / 40));
    result_free(&r);

    /* Errors still get through after truncation, and the next cell starts with a fresh budget. */
    run_cell(sb, "for i in range(60000):\n    print('w' * 20)\nraise ValueError('after the flood')", &r);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.evalue, "after the flood"));
    CHECK(count_type(&r, "error") == 1);
    result_free(&r);
    run_cell(sb, "print('small')", &r);
    CHECK(stream_has(&r, "stdout", "small"));
    CHECK(!stream_has(&r, "stderr", "truncated"));
    result_free(&r);

    /* 3000 updates of one display: only the latest per flush interval is sent, the last one
     * always. The display itself comes first. (The real runtime needs IPython for this.) */
    bool have_ipython = using_fake;
    if (!using_fake) {
        run_cell(sb, "import IPython.display", &r);
        have_ipython = r.out.status == CELL_OK;
        result_free(&r);
        if (!have_ipython)
            printf("  display update test skipped: no IPython for the worker's Python\n");
    }
    if (have_ipython && using_fake)
        run_cell(sb, "_send({'t': 'display', 'id': _current['id'], 'data': {'text/plain': 'start'},"
                     " 'transient': {'display_id': 'p'}})\n"
                     "for i in range(3000):\n"
                     "    _send({'t': 'display', 'id': _current['id'], 'data': {'text/plain': str(i)},"
                     " 'transient': {'display_id': 'p'}, 'update': True})\n"
                     "    print('.', end='')", &r);
    else if (have_ipython)
        run_cell(sb, "from IPython.display import display, update_display\n"
                     "display('start', display_id='p')\n"
                     "for i in range(3000):\n"
                     "    update_display(i, display_id='p')\n"
                     "    print('.', end='')", &r);
    if (have_ipython) {
        CHECK(r.out.status == CELL_OK);
        int updates = count_type(&r, "update_display_data");
        CHECK(updates >= 1 && updates <= 2 + (int)(r.ms / 40));
        CHECK(count_type(&r, "stream") <= 2 + (int)(r.ms / 40));
        json_t *first_msg = json_array_get(r.cap.msgs, 0);
        CHECK(first_msg && strcmp(json_string_value(json_object_get(first_msg, "msg_type")), "display_data") == 0);
        json_t *last_update = NULL;
        size_t k;
        json_t *msg;
        json_array_foreach(r.cap.msgs, k, msg)
            if (strcmp(json_string_value(json_object_get(msg, "msg_type")), "update_display_data") == 0)
                last_update = json_object_get(msg, "content");
        const char *last_text = json_string_value(
            json_object_get(json_object_get(last_update, "data"), "text/plain"));
        CHECK(last_text && strcmp(last_text, "2999") == 0);
        if (!last_text || strcmp(last_text, "2999") != 0)
            dump("updates", &r);
        printf("  3000 display updates + prints in %lld ms -> %d update_display_data, %d stream\n",
               (long long)r.ms, updates, count_type(&r, "stream"));
        result_free(&r);
    }

    /* Interleaved stdout/stderr keeps its order when it is not a flood. */
    run_cell(sb, "import sys, time\nprint('one')\nsys.stdout.flush()\ntime.sleep(0.1)\n"
                 "print('two', file=sys.stderr)\nsys.stderr.flush()\ntime.sleep(0.1)\nprint('three')", &r);
    /* Merge consecutive same-name messages: the sequence must be stdout, stderr, stdout. */
    char seq[64] = "";
    const char *prev = "";
    size_t i;
    json_t *m;
    json_array_foreach(r.cap.msgs, i, m) {
        const char *name = json_string_value(json_object_get(json_object_get(m, "content"), "name"));
        if (name && strcmp(name, prev) != 0 && strlen(seq) < 50) {
            strcat(seq, name[3] == 'o' ? "O" : "E");
            prev = name;
        }
    }
    CHECK(strcmp(seq, "OEO") == 0);
    char *o = stream_of(&r, "stdout"), *e = stream_of(&r, "stderr");
    CHECK(strcmp(o, "one\nthree\n") == 0 && strcmp(e, "two\n") == 0);
    if (strcmp(seq, "OEO") != 0)
        dump("order", &r);
    free(o);
    free(e);
    result_free(&r);
    sandbox_stop(sb);
}

static void test_input(void)
{
    struct sandbox_config cfg = base_config();
    struct sandbox *sb = start(&cfg);
    struct result r;
    run_full(sb, "print('before')\nname = input('Name: ')\nprint('hi', name)\nname", 0, true, "Ada", &r);
    CHECK(r.out.status == CELL_OK);
    CHECK(r.cap.input_calls == 1);
    CHECK(strcmp(r.cap.prompt, "Name: ") == 0);
    CHECK(!r.cap.password);
    CHECK(stream_has(&r, "stdout", "hi Ada"));
    CHECK(result_text(&r) && strcmp(result_text(&r), "'Ada'") == 0);
    /* Output written before the prompt was flushed before the input request. */
    CHECK(json_array_size(r.cap.msgs) >= 1 &&
          contains(json_string_value(json_object_get(json_object_get(json_array_get(r.cap.msgs, 0), "content"), "text")), "before"));
    if (r.out.status != CELL_OK)
        dump("input", &r);
    result_free(&r);

    /* Cancelled (the sink returns NULL): the cell fails, the worker survives. */
    run_full(sb, "input('? ')", 0, true, NULL, &r);
    CHECK(r.out.status == CELL_ERROR);
    CHECK(!r.out.state_lost);
    result_free(&r);
    /* Not allowed: the sink is never asked. */
    run_full(sb, "input('? ')", 0, false, "nope", &r);
    CHECK(r.out.status == CELL_ERROR);
    CHECK(r.cap.input_calls == 0);
    result_free(&r);
    CHECK(cell_gives(sb, "name", "'Ada'"));
    sandbox_stop(sb);
}

static void test_requests(void)
{
    struct sandbox_config cfg = base_config();
    struct sandbox *sb = start(&cfg);
    /* Before any cell: the worker is still starting; the request waits for it (bounded). */
    json_t *c = sandbox_is_complete(sb, "x = 1");
    CHECK(strcmp(json_string_value(json_object_get(c, "status")), "complete") == 0);
    json_decref(c);
    CHECK(cell_gives(sb, "alpha_value = 5\nalpha_value", "5"));

    c = sandbox_complete(sb, "print(alpha_v", 13);
    CHECK(strcmp(json_string_value(json_object_get(c, "status")), "ok") == 0);
    json_t *matches = json_object_get(c, "matches");
    bool found = false;
    size_t i;
    json_t *m;
    json_array_foreach(matches, i, m)
        if (strcmp(json_string_value(m), "alpha_value") == 0)
            found = true;
    CHECK(found);
    CHECK(json_integer_value(json_object_get(c, "cursor_start")) == 6);
    CHECK(json_integer_value(json_object_get(c, "cursor_end")) == 13);
    CHECK(json_is_object(json_object_get(c, "metadata")));
    json_decref(c);

    /* Cursor in code points: "é = 1; alpha_v" has é as 2 bytes. */
    c = sandbox_complete(sb, "\xc3\xa9 = 1; alpha_v", 14);
    CHECK(json_integer_value(json_object_get(c, "cursor_end")) == 14);
    CHECK(json_integer_value(json_object_get(c, "cursor_start")) == 7);
    json_decref(c);
    /* Out-of-range cursor is clamped. */
    c = sandbox_complete(sb, "alpha_v", 500);
    CHECK(json_integer_value(json_object_get(c, "cursor_end")) <= 7);
    json_decref(c);

    c = sandbox_inspect(sb, "alpha_value", 11, 0);
    CHECK(strcmp(json_string_value(json_object_get(c, "status")), "ok") == 0);
    CHECK(json_is_true(json_object_get(c, "found")));
    CHECK(contains(json_string_value(json_object_get(json_object_get(c, "data"), "text/plain")), "5"));
    json_decref(c);
    c = sandbox_inspect(sb, "no_such_name_here", 5, 0);
    CHECK(json_is_false(json_object_get(c, "found")));
    CHECK(json_object_size(json_object_get(c, "data")) == 0);
    json_decref(c);

    static const struct {
        const char *code, *status;
    } samples[] = {{"x = 1", "complete"},
                   {"for i in range(3):", "incomplete"},
                   {"x = (", "incomplete"},
                   {"1 +* 2", "invalid"}};
    for (size_t k = 0; k < sizeof samples / sizeof *samples; k++) {
        c = sandbox_is_complete(sb, samples[k].code);
        const char *st = json_string_value(json_object_get(c, "status"));
        CHECK(st && strcmp(st, samples[k].status) == 0);
        if (!st || strcmp(st, samples[k].status) != 0)
            fprintf(stderr, "  is_complete(%s) = %s\n", samples[k].code, st ? st : "NULL");
        if (st && strcmp(st, "incomplete") == 0)
            CHECK(json_is_string(json_object_get(c, "indent")));
        json_decref(c);
    }

    /* A worker that stops answering (SIGSTOP): empty replies after the timeout, never a hang. */
    struct result r;
    run_cell(sb, "import os, signal, threading, time\n"
                 "threading.Thread(target=lambda: (time.sleep(0.2), os.kill(os.getpid(), signal.SIGSTOP))).start()", &r);
    result_free(&r);
    CHECK(wait_state(sandbox_test_active_pid(sb), "Tt"));
    int64_t t0 = frame_now_ms();
    c = sandbox_complete(sb, "alpha_v", 7);
    int64_t took = frame_now_ms() - t0;
    CHECK(json_array_size(json_object_get(c, "matches")) == 0);
    CHECK(json_integer_value(json_object_get(c, "cursor_start")) == 7);
    CHECK(took >= SUP_REQUEST_TIMEOUT_MS - 100 && took < SUP_REQUEST_TIMEOUT_MS + 1500);
    printf("  completion against a stopped worker: empty reply after %lld ms\n", (long long)took);
    json_decref(c);
    c = sandbox_is_complete(sb, "x = (");
    CHECK(strcmp(json_string_value(json_object_get(c, "status")), "unknown") == 0);
    json_decref(c);
    /* The stopped worker cannot take the interrupt either: escalation kills it. */
    struct interrupter it;
    interrupt_after(&it, sb, 200);
    run_cell(sb, "1", &r);
    pthread_join(it.thread, NULL);
    CHECK(r.out.status == CELL_WORKER_LOST && r.out.state_lost);
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));
    sandbox_stop(sb);
}

static void test_standby(void)
{
    struct sandbox_config cfg = base_config();
    cfg.standby = true;
    struct sandbox *sb = start(&cfg);
    CHECK(sandbox_test_standby_pid(sb) == -1); /* not before the active worker is ready */
    CHECK(cell_gives(sb, "x = 1\nx", "1"));
    int standby = sandbox_test_standby_pid(sb);
    CHECK(standby > 0);
    int64_t t0 = frame_now_ms();
    CHECK(sandbox_test_standby_ready(sb, 30000));
    printf("  standby (WARDEN_PRELOAD=1) ready %lld ms after the first cell\n",
           (long long)(frame_now_ms() - t0));
    int old = sandbox_test_active_pid(sb);

    t0 = frame_now_ms();
    sandbox_reset(sb);
    int64_t reset_ms = frame_now_ms() - t0;
    bool promoted = false;
    int64_t replace_ms = sandbox_test_last_replace_ms(sb, &promoted);
    CHECK(promoted);
    CHECK(sandbox_test_active_pid(sb) == standby);
    CHECK(process_gone(old));
    struct result r;
    run_cell(sb, "x", &r);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.ename, "NameError"));
    printf("  reset with a ready standby: %lld ms (kill + promote %lld ms); first cell after it "
           "%lld ms\n", (long long)reset_ms, (long long)replace_ms, (long long)r.ms);
    result_free(&r);
    if (using_fake)
        CHECK(cell_gives(sb, "_preloaded", "True"));

    /* Death with a standby: the next cell runs on the promoted standby at once. */
    CHECK(sandbox_test_standby_ready(sb, 30000));
    standby = sandbox_test_standby_pid(sb);
    t0 = frame_now_ms();
    run_cell(sb, "import os\nos.kill(os.getpid(), 9)", &r);
    int64_t death_ms = frame_now_ms() - t0;
    CHECK(r.out.status == CELL_WORKER_LOST);
    result_free(&r);
    CHECK(sandbox_test_active_pid(sb) == standby);
    promoted = false;
    replace_ms = sandbox_test_last_replace_ms(sb, &promoted);
    CHECK(promoted);
    t0 = frame_now_ms();
    CHECK(cell_gives(sb, "1 + 1", "2"));
    printf("  death -> error in %lld ms (replacement %lld ms, promoted); next cell %lld ms\n",
           (long long)death_ms, (long long)replace_ms, (long long)(frame_now_ms() - t0));

    /* A standby that died while waiting is noticed and replaced by a fresh worker. */
    CHECK(sandbox_test_standby_ready(sb, 30000));
    standby = sandbox_test_standby_pid(sb);
    kill(standby, SIGKILL);
    CHECK(wait_exit(standby));
    sandbox_reset(sb);
    replace_ms = sandbox_test_last_replace_ms(sb, &promoted);
    CHECK(!promoted);
    CHECK(sandbox_test_active_pid(sb) != standby);
    CHECK(cell_gives(sb, "3 * 3", "9"));
    printf("  reset without a usable standby: %lld ms, then a cell waits for the fresh worker\n",
           (long long)replace_ms);

    int a = sandbox_test_active_pid(sb), s = sandbox_test_standby_pid(sb);
    sandbox_stop(sb);
    CHECK(process_gone(a));
    if (s > 0)
        CHECK(process_gone(s));
}

static void test_refusing(void)
{
    struct sandbox_config cfg = base_config();
    cfg.unjailed = false;
    const char *why = "user namespaces are disabled (kernel.unprivileged_userns_clone = 0); fix: "
                      "sysctl -w kernel.unprivileged_userns_clone=1";
    sandbox_test_force_jail_failure(why);
    struct sandbox *sb = start(&cfg);
    sandbox_test_force_jail_failure(NULL);
    CHECK(sandbox_test_active_pid(sb) == -1); /* nothing ran */
    struct result r;
    run_cell(sb, "print('should never run')", &r);
    CHECK(r.out.status == CELL_ERROR);
    CHECK(contains(r.out.ename, "JailUnavailable"));
    CHECK(r.out.evalue && strcmp(r.out.evalue, why) == 0);
    CHECK(contains(error_field(&r, "evalue"), "sysctl -w"));
    CHECK(count_type(&r, "stream") == 0);
    result_free(&r);
    json_t *c = sandbox_complete(sb, "pri", 3);
    CHECK(c && json_array_size(json_object_get(c, "matches")) == 0);
    json_decref(c);
    c = sandbox_inspect(sb, "print", 3, 0);
    CHECK(c && json_is_false(json_object_get(c, "found")));
    json_decref(c);
    c = sandbox_is_complete(sb, "x");
    CHECK(c && strcmp(json_string_value(json_object_get(c, "status")), "unknown") == 0);
    json_decref(c);
    sandbox_reset(sb);
    CHECK(sandbox_test_active_pid(sb) == -1);
    sandbox_stop(sb);
}

static void test_missing_runtime(void)
{
    struct sandbox_config cfg = base_config();
    snprintf(cfg.runtime_dir, sizeof cfg.runtime_dir, "/nonexistent/warden-runtime");
    struct sandbox *sb = start(&cfg);
    struct result r;
    run_cell(sb, "1", &r);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.ename, "WorkerStartFailed"));
    CHECK(contains(r.out.evalue, "/nonexistent/warden-runtime/warden_worker.py"));
    result_free(&r);
    /* A worker that dies during start-up: the error names the cause. */
    snprintf(cfg.python, sizeof cfg.python, "/bin/false");
    snprintf(cfg.runtime_dir, sizeof cfg.runtime_dir, "%s", runtime_dir);
    struct sandbox *sb2 = start(&cfg);
    run_cell(sb2, "1", &r);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.ename, "WorkerDied"));
    CHECK(contains(r.out.evalue, "died while starting: exited with code 1"));
    if (!contains(r.out.evalue, "exited with code 1"))
        dump("start death", &r);
    CHECK(!r.out.state_lost);
    result_free(&r);
    /* Every cell says the same; none claims variables were lost (there never were any). */
    run_cell(sb2, "1", &r);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.evalue, "died while starting"));
    CHECK(!r.out.state_lost && count_type(&r, "stream") == 0);
    result_free(&r);
    sandbox_stop(sb);
    sandbox_stop(sb2);
}

static void test_jailed(void)
{
    char why[1024];
    if (jail_check(why, sizeof why) != 0) {
        printf("  jailed test skipped: %s\n", why);
        return;
    }
    struct sandbox_config cfg = base_config();
    cfg.unjailed = false;
    cfg.standby = true;
    int64_t t0 = frame_now_ms();
    struct sandbox *sb = start(&cfg);
    int64_t start_ms = frame_now_ms() - t0;
    struct result r;
    run_cell(sb, "import os\nprint('jailed', os.getuid())\n6 * 7", &r);
    printf("  jailed: sandbox_start %lld ms (jail check included); first cell %lld ms; worker "
           "ready in %lld ms\n",
           (long long)start_ms, (long long)r.ms, (long long)sandbox_test_active_ready_ms(sb));
    CHECK(r.out.status == CELL_OK);
    CHECK(stream_has(&r, "stdout", "jailed 1000"));
    CHECK(result_text(&r) && strcmp(result_text(&r), "42") == 0);
    if (r.out.status != CELL_OK)
        dump("jailed", &r);
    result_free(&r);
    int64_t t1 = frame_now_ms();
    CHECK(cell_gives(sb, "1 + 1", "2"));
    printf("  jailed warm round trip of 1+1: %lld ms\n", (long long)(frame_now_ms() - t1));

    CHECK(sandbox_test_standby_ready(sb, 30000));
    run_cell(sb, "import os\nos.kill(os.getpid(), 9)", &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.evalue, "signal 9"));
    bool promoted = false;
    int64_t replace_ms = sandbox_test_last_replace_ms(sb, &promoted);
    printf("  jailed death: \"%s\"; replacement %lld ms (%s)\n", r.out.evalue ? r.out.evalue : "-",
           (long long)replace_ms, promoted ? "standby promoted" : "fresh");
    CHECK(promoted);
    result_free(&r);
    t1 = frame_now_ms();
    CHECK(cell_gives(sb, "2 + 2", "4"));
    printf("  jailed first cell after the replacement: %lld ms\n", (long long)(frame_now_ms() - t1));

    struct interrupter it;
    interrupt_after(&it, sb, 300);
    run_cell(sb, "while True:\n    pass", &r);
    pthread_join(it.thread, NULL);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.ename, "KeyboardInterrupt"));
    result_free(&r);
    sandbox_stop(sb);

    /* Memory limit: with a memory cgroup the worker is killed and the cause is named; with
     * rlimits only (RLIMIT_AS) Python raises MemoryError instead. */
    cfg.standby = false;
    cfg.limits.memory_bytes = 300ull * 1024 * 1024;
    sb = start(&cfg);
    run_cell(sb, "b = bytearray(1 << 30)", &r);
    printf("  jailed 1 GiB allocation under a 300 MiB limit: %s: %s\n",
           r.out.ename ? r.out.ename : "-", r.out.evalue ? r.out.evalue : "-");
    if (r.out.status == CELL_WORKER_LOST)
        CHECK(contains(r.out.evalue, "memory limit of 300 MiB reached"));
    else
        CHECK(r.out.status == CELL_ERROR && contains(r.out.ename, "MemoryError"));
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));
    sandbox_stop(sb);
}

/* WARDEN_TEST_ONLY=name[,name...] runs only those tests (for debugging). */
static bool want(const char *name)
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

static int count_fds(void)
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

/* Each test stops its sandboxes: every fd it opened must be closed again. */
#define RUN(test)                                                                                  \
    do {                                                                                           \
        if (want(#test)) {                                                                         \
            int fds_before = count_fds();                                                          \
            test_##test();                                                                         \
            int fds_after = count_fds();                                                           \
            CHECK(fds_after == fds_before);                                                        \
            if (fds_after != fds_before)                                                           \
                fprintf(stderr, "  %s leaked %d fds\n", #test, fds_after - fds_before);           \
        }                                                                                          \
    } while (0)

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    log_set_level(log_level_from_env());
    signal(SIGPIPE, SIG_IGN);
    char real[PATH_MAX + 32];
    snprintf(real, sizeof real, "%s/warden_worker.py", WARDEN_SOURCE_RUNTIME_DIR);
    const char *force_fake = getenv("WARDEN_TEST_FAKE_WORKER");
    if (access(real, R_OK) == 0 && !(force_fake && strcmp(force_fake, "1") == 0)) {
        snprintf(runtime_dir, sizeof runtime_dir, "%s", WARDEN_SOURCE_RUNTIME_DIR);
    } else {
        using_fake = true;
        snprintf(runtime_dir, sizeof runtime_dir, "%s/../../tests/unit/fake_runtime",
                 WARDEN_SOURCE_RUNTIME_DIR);
    }
    snprintf(workdir, sizeof workdir, "/tmp/warden-test-supervisor-XXXXXX");
    if (!mkdtemp(workdir) || chmod(workdir, 0755) != 0) {
        perror("mkdtemp");
        return 1;
    }
    printf("supervisor tests against %s (%s)\n", runtime_dir,
           using_fake ? "stand-in worker" : "real runtime");
    fflush(stdout);

    RUN(basics);
    RUN(interrupts);
    RUN(death);
    RUN(protocol_violations);
    RUN(flood);
    RUN(input);
    RUN(requests);
    RUN(standby);
    RUN(refusing);
    RUN(missing_runtime);
    RUN(jailed);

    if (!using_fake) {
        /* The real runtime coalesces output itself; the stand-in sends one frame per write, which
         * is what a hostile worker can do: run the flood and protocol tests against it too. */
        using_fake = true;
        snprintf(runtime_dir, sizeof runtime_dir, "%s/../../tests/unit/fake_runtime",
                 WARDEN_SOURCE_RUNTIME_DIR);
        printf("flood and protocol tests again against the stand-in worker (no coalescing)\n");
        RUN(flood);
        RUN(protocol_violations);
    }
    rmdir(workdir);
    return check_summary("supervisor");
}
