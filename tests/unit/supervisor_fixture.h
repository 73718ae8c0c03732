/* Shared by the test_supervisor_*.c executables (supervisor_fixture.c is linked into each): the
 * real supervisor with a real worker, the runtime in sandbox/runtime/ when it is there, else (or
 * with WARDEN_TEST_FAKE_WORKER=1) the stand-in in tests/unit/fake_runtime/. A sink that records
 * every message, helpers to read what a cell produced, and the per-test runner that checks for fd
 * leaks. Include check.h before this header: RUN expands to CHECK in the test's own file.
 * Misbehaviour comes from cell code: signals, os._exit, floods, forged bytes on the channel. */
#ifndef WARDEN_SUPERVISOR_FIXTURE_H
#define WARDEN_SUPERVISOR_FIXTURE_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sandbox/sandbox.h"

extern char runtime_dir[PATH_MAX];
extern char workdir[PATH_MAX]; /* a directory of the test's own (the jail refuses /tmp itself) */
extern bool using_fake;        /* the stand-in worker, not the real runtime */
extern int cell_count;         /* execution count of the next cell run_full sends */

/* ---- a sink that records everything ---------------------------------------------------------- */

/* Each output.h call as {kind, content, at}: kind is stream, display, update (a display with
 * update set), clear, result or error; content holds the call's arguments. */
struct capture {
    json_t *msgs; /* [{kind, content, at}] */
    int input_calls;
    char prompt[256];
    bool password;
    const char *input_value; /* NULL: cancel */
};

struct output_sink capture_sink(struct capture *c);

struct result {
    struct capture cap;
    struct cell_outcome out;
    int64_t ms;
};

void run_full(struct sandbox *sb, const char *code, uint32_t wall_ms, bool allow_stdin,
              const char *input_value, struct result *res);
void run_cell(struct sandbox *sb, const char *code, struct result *res);
void result_free(struct result *res);

/* ---- reading a result -------------------------------------------------------------------------
 */

int count_type(const struct result *res, const char *kind);
json_t *first_of(const struct result *res, const char *kind);
/* Concatenated stream text of `name`; caller frees. */
char *stream_of(const struct result *res, const char *name);
bool stream_has(const struct result *res, const char *name, const char *needle);
const char *result_text(const struct result *res);
const char *error_field(const struct result *res, const char *field);
bool contains(const char *s, const char *needle);
void dump(const char *what, const struct result *res);
/* Runs `code` and checks it gives text/plain `expected` (sanity after a recovery). */
bool cell_gives(struct sandbox *sb, const char *code, const char *expected);

/* ---- interrupting from another thread ---------------------------------------------------------
 */

struct interrupter {
    struct sandbox *sb;
    int delay_ms;
    pthread_t thread;
};

/* sandbox_interrupt(sb) from a thread after delay_ms; join it->thread afterwards. */
void interrupt_after(struct interrupter *it, struct sandbox *sb, int delay_ms);

/* ---- configuration and processes --------------------------------------------------------------
 */

/* Unjailed, no standby, a 0.6 s interrupt grace, the fixture's runtime and workdir. */
struct sandbox_config base_config(void);
/* sandbox_start, exiting the test on failure. */
struct sandbox *start(const struct sandbox_config *cfg);
bool process_gone(int pid);
/* Waits (up to 5 s) until the process has exited (its pidfd is readable). */
bool wait_exit(int pid);
/* Waits (up to 5 s) until /proc says the process is in one of `states` ('Z' zombie, 'T' stopped)
 * or gone. */
bool wait_state(int pid, const char *states);

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

/* ---- running the tests ------------------------------------------------------------------------
 */

/* Logging, SIGPIPE, the runtime (real or stand-in) and a fresh workdir; prints which runtime the
 * `suite` runs against. 0, or -1 when the workdir cannot be made. */
int fixture_init(const char *suite);
/* Switches to the stand-in worker (which sends one frame per write, as a hostile worker can). */
void fixture_use_stand_in(void);
/* Removes the workdir. */
void fixture_cleanup(void);

/* WARDEN_TEST_ONLY=name[,name...] runs only those tests (for debugging). */
bool want(const char *name);
int count_fds(void);

/* Each test stops its sandboxes: every fd it opened must be closed again. */
#define RUN(test)                                                                                  \
    do {                                                                                           \
        if (want(#test)) {                                                                         \
            int fds_before = count_fds();                                                          \
            test_##test();                                                                         \
            int fds_after = count_fds();                                                           \
            CHECK(fds_after == fds_before);                                                        \
            if (fds_after != fds_before)                                                           \
                fprintf(stderr, "  %s leaked %d fds\n", #test, fds_after - fds_before);            \
        }                                                                                          \
    } while (0)

#endif
