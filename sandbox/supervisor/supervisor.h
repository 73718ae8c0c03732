/* Internal to the worker supervisor (supervisor*.c): the sandbox object shared by lifecycle,
 * execute and request code, the state of one cell's execution shared by the execute files, plus
 * hooks for tests. Not part of the contract: see sandbox.h. */
#ifndef WARDEN_SUPERVISOR_H
#define WARDEN_SUPERVISOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sandbox/sandbox.h"
#include "worker.h"

#define SUP_READY_TIMEOUT_MS   60000 /* a worker that is not ready by then is stuck */
#define SUP_REQUEST_TIMEOUT_MS 3000  /* complete / inspect / is_complete / check */
#define SUP_WRITE_TIMEOUT_MS   10000 /* a worker that does not read for this long is stuck */
#define SUP_STREAM_INTERVAL_MS 50    /* stream coalescing: at most one flush per interval */
/* ... unless this much text is waiting: a flood then reaches the client in 1 MiB messages while
 * the cell still writes, so the client decodes one while the worker writes the next, instead of
 * everything after the cell (at most 32 more messages a cell under the default output limit). */
#define SUP_STREAM_FLUSH_BYTES (1u << 20)
#define SUP_EXIT_WAIT_MS       1000 /* EOF seen: how long the process gets to exit by itself */
#define SUP_DRAIN_MS           500  /* after death: time spent reading what it had sent */

/* describe: the worker spends at most 2 s describing values (then counts the rest as omitted),
 * plus the directory listing, and the worker may still be starting. */
#define SUP_DESCRIBE_TIMEOUT_MS 5000

struct sandbox {
    struct sandbox_config cfg;
    bool refusing; /* no jail and no opt-in: every cell gets refuse_why */
    char refuse_why[1024];
    struct worker *active;
    struct worker *standby;
    int wake_fd; /* eventfd written by sandbox_interrupt */
    atomic_bool interrupt_requested;
    long long next_id;
    /* Something happened to the worker outside a cell (died between cells, broke during a
     * completion request): told to the user at the start of the next cell. */
    char notice[512];
    bool notice_state_lost;
    const char
        *jail_notice; /* said once, in the first cell's output (spawn_jail_notice), or NULL */
    /* The worker's Python version (sandbox_python_version may be called from any thread). */
    pthread_mutex_t version_lock;
    char python_version[TR_MAX_PYTHON_VERSION + 1];
    /* Figures for logs and tests. */
    int64_t last_replace_ms;    /* time the last replacement took (kill + promote/spawn) */
    bool last_replace_promoted; /* it used the standby */
};

/* Replaces the active worker (killing it if alive) with the standby when it is alive, else a fresh
 * one. `why` is logged. On spawn failure active is NULL and err says why. Returns 0 or -1. */
int sup_replace_active(struct sandbox *sb, const char *why, char *err, size_t errlen);
/* Spawns the standby if configured and missing (after the active worker is ready). */
void sup_maybe_spawn_standby(struct sandbox *sb);
/* Makes sure there is a live active worker (spawning one if needed). A dead one is reaped and
 * replaced, and sb->notice says what happened. 0, or -1 with err. */
int sup_ensure_active(struct sandbox *sb, char *err, size_t errlen);
enum ready_wait {
    READY_OK,          /* the worker sent `ready` */
    READY_TIMED_OUT,   /* not within the time given */
    READY_BROKEN,      /* it died or broke the protocol: w->cause / the reader's detail say why */
    READY_INTERRUPTED, /* sandbox_interrupt was called (only when watching for it) */
};
/* Frames are dropped until the worker is ready; up to timeout_ms. */
enum ready_wait sup_wait_ready(struct sandbox *sb, struct worker *w, int timeout_ms,
                               bool watch_interrupt);
/* Reads and discards the eventfd counter. */
void sup_drain_wake(struct sandbox *sb);
/* A worker is ready: its Python version becomes the sandbox's (sandbox_python_version). */
void sup_note_ready(struct sandbox *sb, const struct worker *w);

/* ---- one cell's execution ---------------------------------------------------------------------
 * supervisor_exec.c runs the loop (timers, interrupt, wall time); supervisor_frames.c handles what
 * the worker sends; supervisor_output.c coalesces and limits the output on its way to the sink;
 * supervisor_failure.c ends a cell with an error of the supervisor's own (the worker lost). */

#define SUP_MAX_SEGMENTS        4  /* stdout/stderr runs kept apart within one flush */
#define SUP_MAX_PENDING_UPDATES 16 /* display ids whose latest update waits for a flush */

struct stream_segment {
    enum output_stream name;
    char *buf;
    size_t len, cap;
};

/* A display update only replaces what a display shows: when a cell updates the same display
 * faster than the flush interval, only the latest update per display id is sent. */
struct pending_update {
    struct worker_output out; /* a WOUT_DISPLAY with update set */
};

struct cell_run {
    struct sandbox *sb;
    struct worker *w;
    const struct sandbox_cell *cell;
    uint32_t wall_ms; /* the cell's wall time (sandbox.python_wall_time resolved); 0 none */
    const struct output_sink *sink;
    struct cell_outcome *out;
    long long id;
    /* stream coalescing */
    struct stream_segment seg[SUP_MAX_SEGMENTS];
    int nseg;
    size_t seg_bytes; /* text in seg[] */
    struct pending_update upd[SUP_MAX_PENDING_UPDATES];
    int nupd;
    int64_t last_flush; /* last time pending output (streams, updates) was sent */
    /* output limit */
    uint64_t out_bytes;
    bool truncated, error_after_truncation;
    /* progress */
    bool error_seen, done, done_ok;
    bool ended;           /* the loop must stop: the worker is lost */
    bool start_retried;   /* a worker that died while starting was replaced once already */
    char replace_why[64]; /* non-empty: replace the worker after the loop */
    /* interrupt and wall time */
    int64_t wall_deadline;  /* 0: none */
    int64_t grace_deadline; /* 0: no SIGINT sent yet */
    int64_t resend_at;      /* when the SIGINT is sent again, within the grace period */
    bool wall_fired;
    int64_t scratch_check_at; /* the Landlock jail: when its scratch directory is measured next */
};

/* Output (supervisor_output.c). */
/* Stream text from the worker: coalesced until the next flush, cut at the output limit. */
void sup_add_stream(struct cell_run *r, enum output_stream name, const char *text, size_t len);
/* Non-stream output (its references are taken over): what is pending goes first so the order is
 * kept (display updates are coalesced per display id instead). */
void sup_emit_output(struct cell_run *r, struct worker_output *out);
/* Sends stream text at once, not counted against the limit (the supervisor's own notices; the
 * coalesced text was counted when it was added). */
void sup_emit_stream_text(struct cell_run *r, enum output_stream name, const char *text,
                          size_t len);
/* Sends the coalesced stream text now. */
void sup_stream_flush(struct cell_run *r);
/* Sends everything pending (streams, display updates), in the order it can matter. */
void sup_pending_flush(struct cell_run *r);
/* When the pending output is due to be flushed (monotonic_ms() time); 0 when nothing is pending. */
int64_t sup_flush_due_ms(const struct cell_run *r);
/* Frees what coalescing holds (stream buffers, pending updates). */
void sup_output_free(struct cell_run *r);

/* The worker's frames (supervisor_frames.c). */
void sup_handle_frame(struct cell_run *r, json_t *frame);

/* Failures (supervisor_failure.c). */
/* Ends the cell with an error of the supervisor's own (not the worker's), after what is pending. */
void sup_fail_cell(struct cell_run *r, enum cell_status status, const char *ename,
                   const char *evalue);
/* The worker is gone (or must go): fail the cell and replace the worker after the loop. */
void sup_lose_worker(struct cell_run *r, const char *ename, const char *evalue, const char *why);
/* A send to the worker failed (errno set by worker_send); `what` names what was sent. */
void sup_send_failed(struct cell_run *r, const char *what);
/* The cell went over the scratch space limit by its end: it fails and the worker is replaced. */
void sup_end_over_scratch_limit(struct cell_run *r);
/* The reader saw a protocol violation: the worker is stopped, the cell fails, the worker is
 * replaced after the loop. */
void sup_protocol_violation(struct cell_run *r);
/* The worker exited (its pidfd, or worker_exited without one): what it had sent is read, then the
 * cell fails or, when it had finished, the next cell is told. */
void sup_on_exit_seen(struct cell_run *r);
/* The worker closed its channel: unless the cell had finished, it is stopped and the cell fails. */
void sup_on_eof(struct cell_run *r);

/* ---- test hooks ---- */
/* When set (non-NULL), sandbox_start behaves as if jail_check() failed with this reason. */
void sandbox_test_force_jail_failure(const char *why);
/* Waits up to timeout_ms for the standby to be ready; true when it is. */
bool sandbox_test_standby_ready(struct sandbox *sb, int timeout_ms);
/* Pid of the active / standby worker (-1 when none). */
int sandbox_test_active_pid(struct sandbox *sb);
int sandbox_test_standby_pid(struct sandbox *sb);
/* Milliseconds the last replacement took and whether it promoted the standby. */
int64_t sandbox_test_last_replace_ms(struct sandbox *sb, bool *promoted);
/* Ready time of the active worker in ms (-1 while starting). */
int64_t sandbox_test_active_ready_ms(struct sandbox *sb);

#endif
