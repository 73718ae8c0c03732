/* The supervisor with the jail, when jail_check() passes on this machine (supervisor_fixture.h):
 * a cell, death and promotion of the standby, an interrupt, and the memory limit. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "common/clock.h"
#include "sandbox/supervisor/frame.h"
#include "sandbox/supervisor/supervisor.h"
#include "supervisor_fixture.h"

static void test_jailed(void)
{
    char why[1024];
    struct sandbox_config cfg = base_config();
    if (jail_check(&cfg, why, sizeof why) != 0) {
        printf("  jailed test skipped: %s\n", why);
        return;
    }
    cfg.unjailed = false;
    cfg.standby = true;
    int64_t t0 = monotonic_ms();
    struct sandbox *sb = start(&cfg);
    int64_t start_ms = monotonic_ms() - t0;
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
    int64_t t1 = monotonic_ms();
    CHECK(cell_gives(sb, "1 + 1", "2"));
    printf("  jailed warm round trip of 1+1: %lld ms\n", (long long)(monotonic_ms() - t1));

    CHECK(sandbox_test_standby_ready(sb, 30000));
    run_cell(sb, "import os\nos.kill(os.getpid(), 9)", &r);
    CHECK(r.out.status == CELL_WORKER_LOST && contains(r.out.error.evalue, "signal 9"));
    bool promoted = false;
    int64_t replace_ms = sandbox_test_last_replace_ms(sb, &promoted);
    printf("  jailed death: \"%s\"; replacement %lld ms (%s)\n",
           r.out.error.evalue ? r.out.error.evalue : "-", (long long)replace_ms,
           promoted ? "standby promoted" : "fresh");
    CHECK(promoted);
    result_free(&r);
    t1 = monotonic_ms();
    CHECK(cell_gives(sb, "2 + 2", "4"));
    printf("  jailed first cell after the replacement: %lld ms\n",
           (long long)(monotonic_ms() - t1));

    struct interrupter it;
    interrupt_after(&it, sb, 300);
    run_cell(sb, "while True:\n    pass", &r);
    pthread_join(it.thread, NULL);
    CHECK(r.out.status == CELL_ERROR && contains(r.out.error.ename, "KeyboardInterrupt"));
    result_free(&r);
    sandbox_stop(sb);

    /* Memory limit: with a memory cgroup the worker is killed and the cause is named; with
     * rlimits only (RLIMIT_AS) Python raises MemoryError instead. */
    cfg.standby = false;
    cfg.limits.memory_bytes = 300ull * 1024 * 1024;
    sb = start(&cfg);
    run_cell(sb, "b = bytearray(1 << 30)", &r);
    printf("  jailed 1 GiB allocation under a 300 MiB limit: %s: %s\n",
           r.out.error.ename ? r.out.error.ename : "-",
           r.out.error.evalue ? r.out.error.evalue : "-");
    if (r.out.status == CELL_WORKER_LOST)
        CHECK(contains(r.out.error.evalue, "memory limit of 300 MiB reached"));
    else
        CHECK(r.out.status == CELL_ERROR && contains(r.out.error.ename, "MemoryError"));
    result_free(&r);
    CHECK(cell_gives(sb, "1 + 1", "2"));
    sandbox_stop(sb);
}

int main(void)
{
    if (fixture_init("supervisor_jailed") != 0)
        return 1;
    RUN(jailed);
    fixture_cleanup();
    return check_summary("supervisor_jailed");
}
