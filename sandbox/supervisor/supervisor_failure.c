/* Worker supervisor, how a cell ends with an error of the supervisor's own: the worker died, closed
 * its channel, broke the protocol or stopped reading. The error names the cause and says whether
 * the variables are lost; the worker is replaced after the loop (cell_run.replace_why). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "supervisor.h"

void sup_fail_cell(struct cell_run *r, enum cell_status status, const char *ename,
                   const char *evalue)
{
    sup_pending_flush(r);
    cell_fail(r->sink, r->out, status, ename, evalue);
    r->error_seen = true;
    r->ended = true;
}

void sup_lose_worker(struct cell_run *r, const char *ename, const char *evalue, const char *why)
{
    sup_fail_cell(r, CELL_WORKER_LOST, ename, evalue);
    snprintf(r->replace_why, sizeof r->replace_why, "%s", why);
    log_warn("cell %lld: %s: %s", r->id, ename, evalue);
}

void sup_send_failed(struct cell_run *r, const char *what)
{
    if (errno == ETIMEDOUT) {
        char evalue[256];
        snprintf(evalue, sizeof evalue,
                 "the Python worker stopped reading its channel (%s could not be delivered in "
                 "%d s); it was stopped and replaced, so its variables are lost",
                 what, SUP_WRITE_TIMEOUT_MS / 1000);
        worker_kill(r->w, "stopped reading its channel");
        sup_lose_worker(r, "ProtocolError", evalue, "stopped reading");
    }
    /* Otherwise the worker is gone: the pidfd or EOF says so on the next turn. */
}

static void worker_died(struct cell_run *r)
{
    char evalue[512];
    snprintf(evalue, sizeof evalue, "the Python worker died: %s; its variables are lost",
             r->w->cause);
    sup_lose_worker(r, "WorkerDied", evalue, "died");
}

void sup_end_over_scratch_limit(struct cell_run *r)
{
    /* the cell's reply came, but the cell went over a limit the supervisor measures (the
     * Landlock jail's scratch space): the cell fails with the limit's words, as if the worker
     * had died during it, rather than leaving the next cell to tell */
    worker_reap(r->w, SUP_EXIT_WAIT_MS, "over its scratch space limit");
    worker_died(r);
}

void sup_protocol_violation(struct cell_run *r)
{
    char detail[sizeof r->w->reader.detail];
    snprintf(detail, sizeof detail, "%s", r->w->reader.detail);
    worker_kill(r->w, "protocol violation");
    char evalue[512];
    snprintf(evalue, sizeof evalue,
             "the Python worker broke the channel protocol (%s); it was stopped and replaced, so "
             "its variables are lost",
             detail);
    sup_lose_worker(r, "ProtocolError", evalue, "protocol violation");
}

/* Reads what the dead worker had sent (bounded in time), so its last output is shown. */
static void drain_dead(struct cell_run *r)
{
    int64_t deadline = monotonic_ms() + SUP_DRAIN_MS;
    while (!r->done && !r->ended) {
        json_t *frame = NULL;
        enum frame_result res = worker_read(r->w, &frame);
        if (res == FRAME_OK) {
            sup_handle_frame(r, frame);
            json_decref(frame);
            continue;
        }
        if (res != FRAME_AGAIN)
            break;
        int64_t left = deadline - monotonic_ms();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = r->w->fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            break;
    }
}

void sup_on_exit_seen(struct cell_run *r)
{
    drain_dead(r);
    if (r->ended)
        return;
    worker_reap(r->w, 0, "exited");
    if (r->done) {
        /* The cell had finished; the next one needs a new worker and the user should know. */
        snprintf(r->sb->notice, sizeof r->sb->notice,
                 "The Python worker died right after the previous cell (%.300s); a fresh one runs "
                 "this cell, so earlier variables are lost.",
                 r->w->cause);
        r->sb->notice_state_lost = true;
        snprintf(r->replace_why, sizeof r->replace_why, "died after a cell");
        return;
    }
    worker_died(r);
}

void sup_on_eof(struct cell_run *r)
{
    if (r->done)
        return;
    worker_reap(r->w, SUP_EXIT_WAIT_MS, "closed its channel to the kernel and was stopped");
    worker_died(r);
}
