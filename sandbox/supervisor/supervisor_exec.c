/* Worker supervisor, execute: one poll loop over the channel, the worker's pidfd, the interrupt
 * eventfd and timers (stream flush, wall time, interrupt grace). The worker is hostile: every way
 * it can stop answering ends in a bounded time. What it sends is handled in supervisor_frames.c
 * and supervisor_output.c; how a cell fails when the worker is lost, in supervisor_failure.c. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/format.h"
#include "common/log.h"
#include "common/utf8.h"
#include "supervisor.h"

#define READ_BUDGET_FRAMES 256 /* per loop turn, so timers and interrupts stay live */
#define READ_BUDGET_BYTES  (8u << 20)

/* ---- interrupt, wall time ---------------------------------------------------------------------
 */

#define INTERRUPT_RESEND_MS 250
/* how often a running cell's scratch directory is measured (the Landlock jail) */
#define SCRATCH_CHECK_MS    1000

/* The worker ignores a SIGINT that comes before its cell's code runs (it may still be reading
 * the execute frame) and raises only the first one of a request: so the SIGINT is sent again
 * every INTERRUPT_RESEND_MS of the grace period, and one that came too early is not lost (the
 * worker used to be restarted, its variables lost, for "ignoring" an interrupt it never saw). */
static void send_interrupt(struct cell_run *r)
{
    if (r->grace_deadline)
        return; /* already sent; the grace period decides */
    spawn_signal(&r->w->proc, SIGINT);
    int64_t now = monotonic_ms();
    r->grace_deadline = now + r->sb->cfg.limits.interrupt_grace_ms;
    r->resend_at = now + INTERRUPT_RESEND_MS;
    log_info("cell %lld: SIGINT sent to worker pid %d", r->id, (int)r->w->proc.pid);
}

static void wall_time_reached(struct cell_run *r)
{
    r->wall_fired = true;
    char limit[32], text[160];
    format_seconds(r->wall_ms, limit, sizeof limit);
    sup_stream_flush(r);
    snprintf(text, sizeof text, "\n[warden] wall-time limit of %s reached: interrupting the cell\n",
             limit);
    sup_emit_stream_text(r, OUTPUT_STDERR, text, strlen(text));
    send_interrupt(r);
}

static void escalate(struct cell_run *r)
{
    char grace[32], evalue[512];
    format_seconds(r->sb->cfg.limits.interrupt_grace_ms, grace, sizeof grace);
    worker_kill(r->w, "ignored the interrupt");
    if (r->wall_fired) {
        char limit[32];
        format_seconds(r->wall_ms, limit, sizeof limit);
        snprintf(evalue, sizeof evalue,
                 "wall-time limit of %s reached and the cell ignored the interrupt for %s, so the "
                 "Python worker was restarted; its variables are lost",
                 limit, grace);
        sup_lose_worker(r, "TimeoutError", evalue, "wall time");
    } else {
        snprintf(evalue, sizeof evalue,
                 "the cell ignored the interrupt for %s, so the Python worker was restarted; its "
                 "variables are lost",
                 grace);
        sup_lose_worker(r, "WorkerRestarted", evalue, "interrupt ignored");
    }
}

/* ---- the loop ---------------------------------------------------------------------------------
 */

static void read_batch(struct cell_run *r)
{
    uint64_t start = r->w->reader.bytes;
    for (int i = 0; i < READ_BUDGET_FRAMES && !r->done && !r->ended; i++) {
        json_t *frame = NULL;
        enum frame_result res = worker_read(r->w, &frame);
        if (res == FRAME_OK) {
            sup_handle_frame(r, frame);
            json_decref(frame);
            if (r->w->reader.bytes - start > READ_BUDGET_BYTES)
                break;
            continue;
        }
        if (res == FRAME_AGAIN)
            break;
        if (frame_result_is_violation(res))
            sup_protocol_violation(r);
        else
            sup_on_eof(r);
        break;
    }
}

static int64_t min_deadline(int64_t a, int64_t b)
{
    return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

/* Fires the timers that are due: output flush, wall time, interrupt grace. false when the grace
 * period ran out (the worker was killed: the loop must stop). */
static bool run_timers(struct cell_run *r, int64_t now)
{
    int64_t flush_due = sup_flush_due_ms(r);
    if (flush_due && now >= flush_due)
        sup_pending_flush(r);
    if (r->wall_deadline && !r->wall_fired && now >= r->wall_deadline)
        wall_time_reached(r);
    if (r->grace_deadline && now >= r->grace_deadline) {
        escalate(r);
        return false;
    }
    if (r->grace_deadline && now >= r->resend_at) {
        spawn_signal(&r->w->proc, SIGINT);
        r->resend_at = now + INTERRUPT_RESEND_MS;
    }
    /* over its limit, the jail ends: its pidfd wakes the loop, the error says which limit */
    if (r->scratch_check_at && now >= r->scratch_check_at) {
        r->scratch_check_at = now + SCRATCH_CHECK_MS;
        spawn_check_scratch(&r->w->proc);
    }
    return true;
}

/* How long poll may wait: until the next timer, -1 (forever) when none is set. */
static int poll_timeout(const struct cell_run *r, int64_t now)
{
    int64_t next = sup_flush_due_ms(r);
    if (r->wall_deadline && !r->wall_fired)
        next = min_deadline(next, r->wall_deadline);
    next = min_deadline(next, r->grace_deadline);
    next = min_deadline(next, r->scratch_check_at);
    if (r->grace_deadline)
        next = min_deadline(next, r->resend_at);
    int timeout = -1;
    if (next) {
        int64_t left = next - now;
        timeout = left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
    }
    /* Without a pidfd nothing wakes poll when the worker exits: look every 100 ms. */
    if (r->w->proc.pidfd < 0 && (timeout < 0 || timeout > 100))
        timeout = 100;
    return timeout;
}

static void poll_failed(struct cell_run *r)
{
    log_error("poll: %s", strerror(errno));
    worker_kill(r->w, "the kernel could not watch it");
    sup_lose_worker(r, "WorkerDied",
                    "the kernel lost track of the Python worker; it was "
                    "stopped and its variables are lost",
                    "poll failed");
}

static void run_loop(struct cell_run *r)
{
    struct worker *w = r->w;
    while (!r->done && !r->ended) {
        int64_t now = monotonic_ms();
        if (!run_timers(r, now))
            break;
        int timeout = poll_timeout(r, now);
        /* Frames already read into the buffer (a read budget ran out) do not wake poll. */
        bool buffered = frame_reader_ready(&w->reader);
        if (buffered)
            timeout = 0;
        struct pollfd fds[3] = {
            {.fd = w->fd, .events = POLLIN},
            {.fd = w->proc.pidfd, .events = POLLIN},
            {.fd = r->sb->wake_fd, .events = POLLIN},
        };
        int n = poll(fds, 3, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            poll_failed(r);
            break;
        }
        if (fds[2].revents & POLLIN) {
            sup_drain_wake(r->sb);
            if (atomic_exchange(&r->sb->interrupt_requested, false))
                send_interrupt(r);
        }
        if (fds[0].revents || buffered)
            read_batch(r);
        if (r->done || r->ended)
            break;
        if ((fds[1].revents & POLLIN) || (w->proc.pidfd < 0 && worker_exited(w)))
            sup_on_exit_seen(r);
    }
    sup_pending_flush(r);
}

/* ---- entry point ------------------------------------------------------------------------------
 */

static void emit_notice(struct cell_run *r, const char *text)
{
    char line[600];
    snprintf(line, sizeof line, "[warden] %s\n", text);
    sup_emit_stream_text(r, OUTPUT_STDERR, line, strlen(line));
}

/* A worker that died before it ran anything held no state: a promoted standby killed while it
 * still loaded its libraries, say. Once per cell, a fresh one takes its place before the cell
 * fails. */
static bool retry_start(struct cell_run *r)
{
    if (r->start_retried)
        return false;
    r->start_retried = true;
    char err[512];
    log_warn("the Python worker died while starting (%s); starting another for this cell",
             r->w->cause);
    if (sup_replace_active(r->sb, "died while starting", err, sizeof err) != 0)
        return false;
    r->w = r->sb->active;
    return true;
}

/* Waits for the active worker to be ready. false when the cell already failed. */
static bool wait_active_ready(struct cell_run *r)
{
    struct worker *w = r->w;
    if (w->state != WORKER_STARTING)
        return true;
    enum ready_wait wait = sup_wait_ready(r->sb, w, SUP_READY_TIMEOUT_MS, true);
    if (wait == READY_OK)
        return true;
    char evalue[700];
    if (wait == READY_INTERRUPTED) {
        sup_fail_cell(r, CELL_ERROR, "KeyboardInterrupt",
                      "interrupted while the Python worker was starting");
        return false;
    }
    if (wait == READY_TIMED_OUT) {
        worker_kill(w, "did not start in time");
        snprintf(evalue, sizeof evalue,
                 "the Python worker did not become ready within %d s; it was stopped and a fresh "
                 "one will start for the next cell",
                 SUP_READY_TIMEOUT_MS / 1000);
        sup_fail_cell(r, CELL_ERROR, "WorkerStartFailed", evalue);
        snprintf(r->replace_why, sizeof r->replace_why, "start timed out");
        return false;
    }
    if (frame_result_is_violation(w->reader.failed)) {
        char detail[sizeof w->reader.detail];
        snprintf(detail, sizeof detail, "%s", w->reader.detail);
        worker_kill(w, "protocol violation while starting");
        snprintf(evalue, sizeof evalue,
                 "the Python worker broke the channel protocol while starting (%s)", detail);
        sup_fail_cell(r, CELL_ERROR, "ProtocolError", evalue);
    } else {
        worker_reap(w, SUP_EXIT_WAIT_MS, "closed its channel while starting and was stopped");
        if (retry_start(r))
            return wait_active_ready(r);
        snprintf(evalue, sizeof evalue, "the Python worker died while starting: %s", w->cause);
        sup_fail_cell(r, CELL_ERROR, "WorkerDied", evalue);
    }
    snprintf(r->replace_why, sizeof r->replace_why, "died while starting");
    return false;
}

static void finish(struct cell_run *r)
{
    if (r->done && !r->ended) {
        if (r->w->state == WORKER_BUSY)
            r->w->state = WORKER_READY;
        if (r->error_seen || !r->done_ok) {
            if (!r->out->error.ename)
                cell_outcome_fail(r->out, CELL_ERROR, "Error",
                                  "the cell failed without an error report", NULL);
            r->out->status = CELL_ERROR;
        }
    }
    if (r->replace_why[0]) {
        char err[512];
        if (sup_replace_active(r->sb, r->replace_why, err, sizeof err) != 0)
            log_error("no worker for the next cell yet: %s", err);
    }
    sup_output_free(r);
}

/* The refusing state, a worker that cannot start, a notice for this cell: false when the cell
 * already failed (there is no worker to run it). */
static bool prepare_worker(struct cell_run *r)
{
    struct sandbox *sb = r->sb;
    if (sb->refusing) {
        sup_fail_cell(r, CELL_ERROR, "JailUnavailable", sb->refuse_why);
        return false;
    }
    char err[512];
    if (sup_ensure_active(sb, err, sizeof err) != 0) {
        char evalue[700];
        snprintf(evalue, sizeof evalue, "cannot start the Python worker: %s", err);
        sup_fail_cell(r, CELL_ERROR, "WorkerStartFailed", evalue);
        return false;
    }
    if (sb->jail_notice) {
        emit_notice(r, sb->jail_notice);
        sb->jail_notice = NULL;
    }
    if (sb->notice[0]) {
        emit_notice(r, sb->notice);
        r->out->state_lost = sb->notice_state_lost;
        sb->notice[0] = 0;
        sb->notice_state_lost = false;
    }
    r->w = sb->active;
    return true;
}

/* Sends the execute frame. false when the cell already failed. */
static bool send_cell(struct cell_run *r)
{
    const struct sandbox_cell *cell = r->cell;
    const char *text = cell->code ? cell->code : "";
    json_t *code = utf8_json_string(text, strlen(text));
    /* The output limit goes along so an honest worker stops sending a flood it knows will be
     * dropped (parsing 1 GB of frames only to drop them took the kernel 20 s of CPU). */
    json_t *frame = code ? json_pack("{s:s, s:I, s:o, s:i, s:b, s:b, s:I}", "t", "execute", "id",
                                     (json_int_t)r->id, "code", code, "count", cell->count,
                                     "silent", cell->silent, "allow_stdin", cell->allow_stdin,
                                     "output", (json_int_t)r->sb->cfg.limits.output_bytes)
                         : NULL;
    if (!frame) {
        sup_fail_cell(r, CELL_ERROR, "ValueError", "the cell could not be encoded for the worker");
        return false;
    }
    if (worker_send(r->w, frame, SUP_WRITE_TIMEOUT_MS) != 0) {
        if (errno == EMSGSIZE) {
            sup_fail_cell(r, CELL_ERROR, "ValueError",
                          "the cell is too large to send to the Python worker (over 32 MiB)");
            return false;
        }
        sup_send_failed(r, "the cell");
        if (r->ended)
            return false;
        /* EPIPE and friends: the loop finds the death and its cause. */
    }
    return true;
}

void sandbox_execute(struct sandbox *sb, const struct sandbox_cell *cell,
                     const struct output_sink *sink, struct cell_outcome *outcome)
{
    memset(outcome, 0, sizeof *outcome);
    outcome->status = CELL_OK;
    /* An interrupt already asked for is this cell's (sandbox_forget_interrupt drops those of
     * requests that are over): clearing it here lost an interrupt sent as the cell began. */
    struct cell_run r;
    memset(&r, 0, sizeof r);
    r.sb = sb;
    r.cell = cell;
    r.sink = sink;
    r.out = outcome;
    r.id = sb->next_id++;
    r.wall_ms =
        cell->wall_ms == SANDBOX_WALL_CONFIGURED ? sb->cfg.limits.python_wall_ms : cell->wall_ms;

    if (!prepare_worker(&r)) {
        sup_output_free(&r);
        return;
    }
    if (!wait_active_ready(&r) || !send_cell(&r)) {
        finish(&r);
        return;
    }
    r.w->state = WORKER_BUSY;
    sup_maybe_spawn_standby(sb); /* overlaps with the cell; the first time, after ready */
    r.wall_deadline = r.wall_ms ? monotonic_ms() + r.wall_ms : 0;
    r.scratch_check_at = r.w->proc.scratch ? monotonic_ms() + SCRATCH_CHECK_MS : 0;
    run_loop(&r);
    /* a cell too short for the timer: measured once more as it ends, so none escapes it */
    if (!r.ended && r.w->state != WORKER_DEAD && spawn_check_scratch(&r.w->proc))
        sup_end_over_scratch_limit(&r);
    finish(&r);
}
