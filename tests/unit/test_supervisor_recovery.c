/* The supervisor recovering from a worker that goes wrong (supervisor_fixture.h): death by signal
 * or exit (in a cell, between cells, during a request), protocol violations and forged frames on
 * the channel, the warm standby taking over, and workers that cannot start at all (no jail, no
 * runtime, dying during start-up). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/clock.h"
#include "sandbox/supervisor/frame.h"
#include "sandbox/supervisor/supervisor.h"
#include "supervisor_fixture.h"

static void test_death(void)
{
    struct sandbox_config cfg = base_config();
    struct sandbox *sb = start(&cfg);
    CHECK(cell_gives(sb, "x = 1\nx", "1"));

    struct result r;
    run_cell(sb,
             "import os, sys, time\nprint('last words', flush=True)\ntime.sleep(0.2)\n"
             "os.kill(os.getpid(), 9)",
             &r);
    CHECK(r.out.status == CELL_WORKER_LOST);
    CHECK(r.out.state_lost);
    CHECK(contains(r.out.error.ename, "WorkerDied"));
    CHECK(contains(r.out.error.evalue, "the Python worker died: killed by signal 9 (SIGKILL)"));
    CHECK(contains(r.out.error.evalue, "variables are lost"));
    CHECK(stream_has(&r, "stdout", "last words"));
    CHECK(count_type(&r, "error") == 1);
    if (!contains(r.out.error.evalue, "signal 9"))
        dump("death", &r);
    result_free(&r);
    run_cell(sb, "x", &r);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.error.ename, "NameError"));
    result_free(&r);

    run_cell(sb, "import os\nos._exit(3)", &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.error.evalue, "exited with code 3"));
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));

    /* Unjailed, what a dead worker started dies with it (its process group). */
    char code[PATH_MAX + 256];
    snprintf(code, sizeof code,
             "import os, time\npid = os.fork()\nif pid == 0:\n    time.sleep(60)\n    os._exit(0)\n"
             "open('%s/child.pid', 'w').write(str(pid))\nos._exit(5)",
             workdir);
    run_cell(sb, code, &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.error.evalue, "exited with code 5"));
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
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.error.evalue, "SIGSEGV"));
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));

    /* Death between cells (a thread kills the worker after the cell): told at the next cell. */
    run_cell(sb,
             "z = 3\nimport os, threading, time\n"
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
    run_cell(sb,
             "import os, threading, time\n"
             "threading.Thread(target=lambda: (time.sleep(0.2), os._exit(7))).start()",
             &r);
    result_free(&r);
    CHECK(wait_exit(sandbox_test_active_pid(sb)));
    struct completion reply;
    sandbox_complete(sb, "pri", 3, &reply);
    CHECK(json_is_array(reply.matches) && json_is_object(reply.metadata));
    completion_clear(&reply);
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
    CHECK(contains(r.out.error.ename, "ProtocolError"));
    CHECK(contains(r.out.error.evalue, "frame length 4294967295"));
    CHECK(r.ms < 3000);
    if (!contains(r.out.error.ename, "ProtocolError"))
        dump("huge header", &r);
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));

    /* Not JSON. */
    run_cell(sb, FORGE_PRELUDE "_forge(b'\\x00\\x00\\x00\\x05hello')\nimport time\ntime.sleep(5)",
             &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.error.evalue, "not valid JSON"));
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));

    /* A JSON array. */
    run_cell(sb, FORGE_PRELUDE "_forge(b'\\x00\\x00\\x00\\x02[]')\nimport time\ntime.sleep(5)", &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.error.evalue, "not an object"));
    result_free(&r);

    /* Random junk, under a length header that it fills: a random header would now and then
     * (about 1 run in 130) announce a frame under the limit but longer than the junk, and the
     * cell (no wall time here) would wait for the rest of it for ever. */
    run_cell(sb,
             FORGE_PRELUDE "_forge((99996).to_bytes(4, 'big') + os.urandom(99996))\n"
                           "import time\ntime.sleep(5)",
             &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.error.ename, "ProtocolError"));
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));

    /* Forged but well-formed frames for another id, unknown types, invalid fields: dropped, the
     * cell goes on. Invalid UTF-8 inside a frame is replaced, not fatal. */
    CHECK(cell_gives(sb, "kept = 'yes'\nkept", "'yes'"));
    run_cell(sb,
             FORGE_PRELUDE
             "_forge(_frame({'t': 'done', 'id': -5, 'status': 'ok'}))\n"
             "_forge(_frame({'t': 'stream', 'id': -5, 'name': 'stdout', 'text': 'FORGED'}))\n"
             "_forge(_frame({'t': 'exec_host', 'cmd': 'rm -rf /'}))\n"
             "_forge(_frame({'t': 'ready', 'python': 'x' * 1000}))\n"
             "b = b'{\"t\":\"stream\",\"id\":-5,\"name\":\"stdout\",\"text\":\"\\xff\\xfe\"}'\n"
             "_forge(len(b).to_bytes(4, 'big') + b)\n"
             "import time\ntime.sleep(0.1)\n"
             "print('after')\nkept",
             &r);
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
        run_cell(sb,
                 FORGE_PRELUDE
                 "me = _current['id']\n"
                 "burst = b''.join(_frame({'t': 'stream', 'id': me, 'name': 'stdout', 'text': 'b'})"
                 " for i in range(2000))\n"
                 "_raw(burst + _frame({'t': 'done', 'id': me, 'status': 'ok'}))\n"
                 "import time\ntime.sleep(10)",
                 &r);
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
    run_cell(sb,
             FORGE_PRELUDE "import socket\n"
                           "socket.socket(fileno=os.dup(_chan_fd())).shutdown(socket.SHUT_WR)\n"
                           "import time\ntime.sleep(30)",
             &r);
    CHECK(r.out.status == CELL_WORKER_LOST);
    CHECK(contains(r.out.error.ename, "WorkerDied"));
    CHECK(r.ms < 5000);
    printf("  worker closed its channel: cell ended after %lld ms (%s)\n", (long long)r.ms,
           r.out.error.evalue ? r.out.error.evalue : "-");
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
    int64_t t0 = monotonic_ms();
    CHECK(sandbox_test_standby_ready(sb, 30000));
    printf("  standby (WARDEN_PRELOAD=1) ready %lld ms after the first cell\n",
           (long long)(monotonic_ms() - t0));
    int old = sandbox_test_active_pid(sb);

    t0 = monotonic_ms();
    sandbox_reset(sb);
    int64_t reset_ms = monotonic_ms() - t0;
    bool promoted = false;
    int64_t replace_ms = sandbox_test_last_replace_ms(sb, &promoted);
    CHECK(promoted);
    CHECK(sandbox_test_active_pid(sb) == standby);
    CHECK(process_gone(old));
    struct result r;
    run_cell(sb, "x", &r);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.error.ename, "NameError"));
    printf("  reset with a ready standby: %lld ms (kill + promote %lld ms); first cell after it "
           "%lld ms\n",
           (long long)reset_ms, (long long)replace_ms, (long long)r.ms);
    result_free(&r);
    if (using_fake)
        CHECK(cell_gives(sb, "_preloaded", "True"));

    /* Death with a standby: the next cell runs on the promoted standby at once. */
    CHECK(sandbox_test_standby_ready(sb, 30000));
    standby = sandbox_test_standby_pid(sb);
    t0 = monotonic_ms();
    run_cell(sb, "import os\nos.kill(os.getpid(), 9)", &r);
    int64_t death_ms = monotonic_ms() - t0;
    CHECK(r.out.status == CELL_WORKER_LOST);
    result_free(&r);
    CHECK(sandbox_test_active_pid(sb) == standby);
    promoted = false;
    replace_ms = sandbox_test_last_replace_ms(sb, &promoted);
    CHECK(promoted);
    t0 = monotonic_ms();
    CHECK(cell_gives(sb, "1 + 1", "2"));
    printf("  death -> error in %lld ms (replacement %lld ms, promoted); next cell %lld ms\n",
           (long long)death_ms, (long long)replace_ms, (long long)(monotonic_ms() - t0));

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
    CHECK(contains(r.out.error.ename, "JailUnavailable"));
    CHECK(r.out.error.evalue && strcmp(r.out.error.evalue, why) == 0);
    CHECK(contains(error_field(&r, "evalue"), "sysctl -w"));
    CHECK(count_type(&r, "stream") == 0);
    result_free(&r);
    struct completion c;
    sandbox_complete(sb, "pri", 3, &c);
    CHECK(json_array_size(c.matches) == 0 && c.cursor_start == 3 && c.cursor_end == 3);
    completion_clear(&c);
    struct inspection in;
    sandbox_inspect(sb, "print", 3, 0, &in);
    CHECK(!in.found && json_object_size(in.data) == 0);
    inspection_clear(&in);
    struct completeness done;
    sandbox_is_complete(sb, "x", &done);
    CHECK(done.status == COMPLETENESS_UNKNOWN);
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
    CHECK(r.out.status == CELL_ERROR && contains(r.out.error.ename, "WorkerStartFailed"));
    CHECK(contains(r.out.error.evalue, "/nonexistent/warden-runtime/warden_worker.py"));
    result_free(&r);
    /* A worker that dies during start-up: the error names the cause. */
    snprintf(cfg.python, sizeof cfg.python, "/bin/false");
    snprintf(cfg.runtime_dir, sizeof cfg.runtime_dir, "%s", runtime_dir);
    struct sandbox *sb2 = start(&cfg);
    run_cell(sb2, "1", &r);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.error.ename, "WorkerDied"));
    CHECK(contains(r.out.error.evalue, "died while starting: exited with code 1"));
    if (!contains(r.out.error.evalue, "exited with code 1"))
        dump("start death", &r);
    CHECK(!r.out.state_lost);
    result_free(&r);
    /* Every cell says the same; none claims variables were lost (there never were any). */
    run_cell(sb2, "1", &r);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.error.evalue, "died while starting"));
    CHECK(!r.out.state_lost && count_type(&r, "stream") == 0);
    result_free(&r);
    sandbox_stop(sb);
    sandbox_stop(sb2);
}

int main(void)
{
    if (fixture_init("supervisor_recovery") != 0)
        return 1;
    RUN(death);
    RUN(protocol_violations);
    RUN(standby);
    RUN(refusing);
    RUN(missing_runtime);

    if (!using_fake) {
        /* The real runtime coalesces output itself; the stand-in sends one frame per write, which
         * is what a hostile worker can do: run the protocol_violations test against it too. */
        fixture_use_stand_in();
        printf("protocol tests again against the stand-in worker (no coalescing)\n");
        RUN(protocol_violations);
    }
    fixture_cleanup();
    return check_summary("supervisor_recovery");
}
