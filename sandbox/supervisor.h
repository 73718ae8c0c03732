/* Internal to the worker supervisor (supervisor*.c): the sandbox object shared by lifecycle,
 * execute and request code, plus hooks for tests. Not part of the contract: see sandbox.h. */
#ifndef WARDEN_SUPERVISOR_H
#define WARDEN_SUPERVISOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sandbox.h"
#include "worker.h"

#define SUP_READY_TIMEOUT_MS 60000   /* a worker that is not ready by then is stuck */
#define SUP_REQUEST_TIMEOUT_MS 3000  /* complete / inspect / is_complete */
#define SUP_WRITE_TIMEOUT_MS 10000   /* a worker that does not read for this long is stuck */
#define SUP_STREAM_INTERVAL_MS 50    /* stream coalescing: at most one flush per interval */
#define SUP_EXIT_WAIT_MS 1000        /* EOF seen: how long the process gets to exit by itself */
#define SUP_DRAIN_MS 500             /* after death: time spent reading what it had sent */

struct sandbox {
    struct sandbox_config cfg;
    bool refusing;               /* no jail and no opt-in: every cell gets refuse_why */
    char refuse_why[1024];
    struct worker *active;
    struct worker *standby;
    int wake_fd;                 /* eventfd written by sandbox_interrupt */
    atomic_bool interrupt_requested;
    long long next_id;
    /* Something happened to the worker outside a cell (died between cells, broke during a
     * completion request): told to the user at the start of the next cell. */
    char notice[512];
    bool notice_state_lost;
    /* Figures for logs and tests. */
    int64_t last_replace_ms;     /* time the last replacement took (kill + promote/spawn) */
    bool last_replace_promoted;  /* it used the standby */
};

/* Replaces the active worker (killing it if alive) with the standby when it is alive, else a fresh
 * one. `why` is logged. On spawn failure active is NULL and err says why. Returns 0 or -1. */
int sup_replace_active(struct sandbox *sb, const char *why, char *err, size_t errlen);
/* Spawns the standby if configured and missing (after the active worker is ready). */
void sup_maybe_spawn_standby(struct sandbox *sb);
/* Makes sure there is a live active worker (spawning one if needed). A dead one is reaped and
 * replaced, and sb->notice says what happened. 0, or -1 with err. */
int sup_ensure_active(struct sandbox *sb, char *err, size_t errlen);
/* Frames are dropped until the worker is ready; up to timeout_ms. 1 ready, 0 timed out,
 * -1 broken (dead, violation: w->cause / the reader's detail say why), 2 interrupted (only when
 * watch_interrupt). */
int sup_wait_ready(struct sandbox *sb, struct worker *w, int timeout_ms, bool watch_interrupt);
/* Reads and discards the eventfd counter. */
void sup_drain_wake(struct sandbox *sb);
/* Human size ("2 GiB", "512 MiB", "1500 bytes"). */
void sup_format_size(uint64_t bytes, char *out, size_t len);
/* "30 s", "1.5 s". */
void sup_format_seconds(uint32_t ms, char *out, size_t len);

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
