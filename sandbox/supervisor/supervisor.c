/* Worker supervisor, lifecycle: start (jail check or refusing state), the active worker and the
 * warm standby, replacement, reset, interrupt, stop. Execute is in supervisor_exec.c (with
 * supervisor_frames.c, supervisor_output.c and supervisor_failure.c), completion and friends in
 * supervisor_req.c. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "supervisor.h"

static const char *forced_jail_failure;

void sandbox_test_force_jail_failure(const char *why) { forced_jail_failure = why; }

/* Before any worker reports its version: the interpreter's own name says major.minor, which is
 * true and costs no process. */
void sandbox_interpreter_version(const char *python, char *out, size_t len)
{
    char resolved[PATH_MAX];
    const char *name = realpath(python, resolved) ? strrchr(resolved, '/') : NULL;
    const char *digits = name && strncmp(name, "/python", 7) == 0 ? name + 7 : NULL;
    if (digits && *digits && strspn(digits, "0123456789.") == strlen(digits))
        snprintf(out, len, "%s", digits);
    else
        snprintf(out, len, "3");
}

void sup_note_ready(struct sandbox *sb, const struct worker *w)
{
    if (!w->python[0] || strcmp(w->python, "?") == 0)
        return;
    pthread_mutex_lock(&sb->version_lock);
    snprintf(sb->python_version, sizeof sb->python_version, "%s", w->python);
    pthread_mutex_unlock(&sb->version_lock);
}

void sandbox_python_version(struct sandbox *sb, char *out, size_t len)
{
    pthread_mutex_lock(&sb->version_lock);
    snprintf(out, len, "%s", sb->python_version);
    pthread_mutex_unlock(&sb->version_lock);
}

void sup_drain_wake(struct sandbox *sb)
{
    uint64_t count;
    while (read(sb->wake_fd, &count, sizeof count) == (ssize_t)sizeof count) {
    }
}

struct sandbox *sandbox_start(const struct sandbox_config *cfg, char *err, size_t errlen)
{
    struct sandbox *sb = calloc(1, sizeof *sb);
    if (!sb) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sb->cfg = *cfg;
    sb->next_id = 1;
    pthread_mutex_init(&sb->version_lock, NULL);
    sandbox_interpreter_version(cfg->python, sb->python_version, sizeof sb->python_version);
    atomic_init(&sb->interrupt_requested, false);
    sb->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (sb->wake_fd < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        free(sb);
        return NULL;
    }
    if (cfg->unjailed) {
        log_warn("UNJAILED: sandbox.unjailed is set, so Python cells run WITHOUT any isolation: "
                 "they can read and change your files, use the network and see your environment "
                 "(API keys included)");
    } else {
        char why[sizeof sb->refuse_why];
        int rc;
        if (forced_jail_failure) {
            snprintf(why, sizeof why, "%s", forced_jail_failure);
            rc = -1;
        } else {
            rc = jail_check(cfg, why, sizeof why);
        }
        if (rc != 0) {
            sb->refusing = true;
            snprintf(sb->refuse_why, sizeof sb->refuse_why, "%s",
                     why[0] ? why : "the jail cannot be built on this machine");
            log_error("cannot jail Python cells, so they will be refused: %s", sb->refuse_why);
            return sb;
        }
        sb->jail_notice = spawn_jail_notice(cfg);
    }
    char spawn_err[512];
    sb->active = worker_spawn(&sb->cfg, false, spawn_err, sizeof spawn_err);
    if (!sb->active)
        log_error("cannot start the Python worker (will retry at the first cell): %s", spawn_err);
    return sb;
}

static bool standby_usable(struct sandbox *sb)
{
    struct worker *s = sb->standby;
    if (!s)
        return false;
    bool broken = false;
    if (!worker_exited(s)) {
        if (worker_poll_ready(s, &broken))
            sup_note_ready(sb, s);
        if (!broken)
            return true;
    }
    worker_reap(s, 0, broken ? "its channel broke before it was used" : "died before it was used");
    log_warn("the standby worker was lost (%s); starting a fresh one", s->cause);
    worker_free(s);
    sb->standby = NULL;
    return false;
}

int sup_replace_active(struct sandbox *sb, const char *why, char *err, size_t errlen)
{
    int64_t t0 = monotonic_ms();
    if (sb->active) {
        worker_kill(sb->active, why);
        worker_free(sb->active);
        sb->active = NULL;
    }
    if (standby_usable(sb)) {
        sb->active = sb->standby;
        sb->standby = NULL;
        sb->last_replace_promoted = true;
    } else {
        sb->last_replace_promoted = false;
        sb->active = worker_spawn(&sb->cfg, false, err, errlen);
    }
    sb->last_replace_ms = monotonic_ms() - t0;
    log_info("worker replaced (%s) in %lld ms, %s", why, (long long)sb->last_replace_ms,
             sb->last_replace_promoted ? "standby promoted" : "fresh worker");
    if (!sb->active) {
        log_error("cannot start a replacement worker: %s", err);
        return -1;
    }
    return 0;
}

void sup_maybe_spawn_standby(struct sandbox *sb)
{
    if (!sb->cfg.standby || sb->refusing || sb->standby || !sb->active ||
        (sb->active->state != WORKER_READY && sb->active->state != WORKER_BUSY))
        return;
    char err[512];
    sb->standby = worker_spawn(&sb->cfg, true, err, sizeof err);
    if (!sb->standby)
        log_warn("cannot start the standby worker: %s", err);
}

int sup_ensure_active(struct sandbox *sb, char *err, size_t errlen)
{
    if (sb->active && worker_exited(sb->active)) {
        bool had_state = sb->active->state != WORKER_STARTING;
        worker_reap(sb->active, 0, "exited");
        if (!had_state) {
            /* It never ran a cell: nothing was lost, but say why it is being restarted. */
            log_warn("the Python worker died while starting (%s); starting another",
                     sb->active->cause);
            return sup_replace_active(sb, "died while starting", err, errlen);
        }
        snprintf(sb->notice, sizeof sb->notice,
                 "The Python worker died since the previous cell (%.300s); a fresh one runs this "
                 "cell, so earlier variables are lost.",
                 sb->active->cause);
        sb->notice_state_lost = true;
        return sup_replace_active(sb, "died between cells", err, errlen);
    }
    if (!sb->active) {
        if (standby_usable(sb)) {
            sb->active = sb->standby;
            sb->standby = NULL;
            return 0;
        }
        sb->active = worker_spawn(&sb->cfg, false, err, errlen);
        return sb->active ? 0 : -1;
    }
    return 0;
}

enum ready_wait sup_wait_ready(struct sandbox *sb, struct worker *w, int timeout_ms,
                               bool watch_interrupt)
{
    int64_t deadline = monotonic_ms() + timeout_ms;
    for (;;) {
        bool broken = false;
        if (worker_poll_ready(w, &broken)) {
            sup_note_ready(sb, w);
            return READY_OK;
        }
        if (broken || worker_exited(w))
            return READY_BROKEN;
        int64_t left = deadline - monotonic_ms();
        if (left <= 0)
            return READY_TIMED_OUT;
        if (frame_reader_ready(&w->reader))
            continue; /* more frames already buffered: no poll */
        struct pollfd fds[3] = {
            {.fd = w->fd, .events = POLLIN},
            {.fd = w->proc.pidfd, .events = POLLIN},
            {.fd = watch_interrupt ? sb->wake_fd : -1, .events = POLLIN},
        };
        int wait = (int)left;
        if (w->proc.pidfd < 0 && wait > 100)
            wait = 100; /* no pidfd: look at the process now and then */
        int n = poll(fds, 3, wait);
        if (n < 0 && errno != EINTR)
            return READY_BROKEN;
        if (watch_interrupt && (fds[2].revents & POLLIN)) {
            sup_drain_wake(sb);
            if (atomic_exchange(&sb->interrupt_requested, false))
                return READY_INTERRUPTED;
        }
    }
}

void sandbox_reset(struct sandbox *sb)
{
    if (!sb || sb->refusing)
        return;
    char err[512];
    sb->notice[0] = 0;
    sb->notice_state_lost = false;
    if (sup_replace_active(sb, "reset", err, sizeof err) != 0)
        log_error("reset: %s", err);
}

void sandbox_interrupt(struct sandbox *sb)
{
    if (!sb)
        return;
    atomic_store(&sb->interrupt_requested, true);
    uint64_t one = 1;
    ssize_t ignored = write(sb->wake_fd, &one, sizeof one);
    (void)ignored;
}

void sandbox_forget_interrupt(struct sandbox *sb)
{
    if (!sb)
        return;
    sup_drain_wake(sb);
    atomic_store(&sb->interrupt_requested, false);
}

void sandbox_stop(struct sandbox *sb)
{
    if (!sb)
        return;
    worker_free(sb->active);
    worker_free(sb->standby);
    if (sb->wake_fd >= 0)
        close(sb->wake_fd);
    pthread_mutex_destroy(&sb->version_lock);
    free(sb);
}

/* ---- test hooks ---- */

bool sandbox_test_standby_ready(struct sandbox *sb, int timeout_ms)
{
    if (!sb->standby)
        return false;
    return sup_wait_ready(sb, sb->standby, timeout_ms, false) == READY_OK;
}

int sandbox_test_active_pid(struct sandbox *sb)
{
    return sb->active && sb->active->state != WORKER_DEAD ? (int)sb->active->proc.pid : -1;
}

int sandbox_test_standby_pid(struct sandbox *sb)
{
    return sb->standby && sb->standby->state != WORKER_DEAD ? (int)sb->standby->proc.pid : -1;
}

int64_t sandbox_test_last_replace_ms(struct sandbox *sb, bool *promoted)
{
    if (promoted)
        *promoted = sb->last_replace_promoted;
    return sb->last_replace_ms;
}

int64_t sandbox_test_active_ready_ms(struct sandbox *sb)
{
    return sb->active ? worker_ready_ms(sb->active) : -1;
}
