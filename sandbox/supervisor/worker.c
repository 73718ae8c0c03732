#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define WORKER_SCRIPT "warden_worker.py"

struct worker *worker_spawn(const struct sandbox_config *cfg, bool preload, char *err,
                            size_t errlen)
{
    if (cfg->unjailed) {
        /* Unjailed the runtime is used in place: say so clearly when it is missing. */
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/%s", cfg->runtime_dir, WORKER_SCRIPT);
        if (access(path, R_OK) != 0) {
            snprintf(err, errlen, "the worker runtime is missing: %s: %s", path, strerror(errno));
            return NULL;
        }
    }
    struct worker *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->fd = -1;
    w->proc.pid = -1;
    w->proc.pidfd = -1;
    w->proc.status_fd = -1;
    frame_reader_init(&w->reader);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(err, errlen, "socketpair: %s", strerror(errno));
        free(w);
        return NULL;
    }
    int flags = fcntl(sv[0], F_GETFL);
    if (flags < 0 || fcntl(sv[0], F_SETFL, flags | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "fcntl O_NONBLOCK: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        free(w);
        return NULL;
    }
    char script[PATH_MAX + 32];
    snprintf(script, sizeof script, "%s/%s", spawn_runtime_dir(cfg), WORKER_SCRIPT);
    char python[PATH_MAX];
    snprintf(python, sizeof python, "%s", cfg->python);
    char flag_isolated[] = "-I";
    char *argv[] = {python, flag_isolated, script, NULL};
    char preload_env[] = "WARDEN_PRELOAD=1";
    char *env[] = {preload_env, NULL};
    struct spawn_request req = {
        .cfg = cfg,
        .argv = argv,
        .extra_env = preload ? env : NULL,
        .channel_fd = sv[1],
        .keep_stdio = false,
        .ignore_sigint = true,
    };
    w->spawned_at = monotonic_ms();
    int rc = spawn_process(&req, &w->proc, err, errlen);
    close(sv[1]);
    if (rc != 0) {
        close(sv[0]);
        frame_reader_free(&w->reader);
        free(w);
        return NULL;
    }
    w->fd = sv[0];
    w->preload = preload;
    w->state = WORKER_STARTING;
    w->ready_at = -1;
    log_info("worker pid %d spawned in %lld ms (%s%s)", (int)w->proc.pid,
             (long long)(monotonic_ms() - w->spawned_at), w->proc.jailed ? "jailed" : "UNJAILED",
             preload ? ", standby with preload" : "");
    return w;
}

int worker_send(struct worker *w, json_t *frame, int timeout_ms)
{
    if (!frame) {
        errno = ENOMEM;
        return -1;
    }
    if (!w || w->fd < 0 || w->state == WORKER_DEAD) {
        json_decref(frame);
        errno = EPIPE;
        return -1;
    }
    int rc = frame_write(w->fd, frame, timeout_ms);
    int saved = errno;
    json_decref(frame);
    errno = saved;
    return rc;
}

enum frame_result worker_read(struct worker *w, json_t **out)
{
    *out = NULL;
    if (w->fd < 0)
        return FRAME_EOF;
    enum frame_result res = frame_read(&w->reader, w->fd, out);
    if (res == FRAME_OK && w->state == WORKER_STARTING) {
        const char *t = json_string_value(json_object_get(*out, "t"));
        if (strcmp(t, "ready") == 0) {
            w->state = WORKER_READY;
            w->ready_at = monotonic_ms();
            json_t *v =
                translate_bounded_string(json_object_get(*out, "python"), TR_MAX_PYTHON_VERSION);
            snprintf(w->python, sizeof w->python, "%s", v ? json_string_value(v) : "?");
            json_decref(v);
            log_info("worker pid %d ready in %lld ms (Python %s%s)", (int)w->proc.pid,
                     (long long)(w->ready_at - w->spawned_at), w->python,
                     w->preload ? ", preloaded" : "");
        }
    }
    return res;
}

bool worker_exited(struct worker *w)
{
    if (!w || w->state == WORKER_DEAD || w->proc.reaped)
        return true;
    if (w->proc.pidfd >= 0) {
        struct pollfd p = {.fd = w->proc.pidfd, .events = POLLIN};
        return poll(&p, 1, 0) > 0;
    }
    siginfo_t info;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)w->proc.pid, &info, WEXITED | WNOHANG | WNOWAIT | __WALL) != 0)
        return errno == ECHILD;
    return info.si_pid == w->proc.pid;
}

static void close_channel(struct worker *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

void worker_reap(struct worker *w, int wait_ms, const char *fallback)
{
    if (!w || w->state == WORKER_DEAD)
        return;
    int64_t deadline = monotonic_ms() + wait_ms;
    while (!worker_exited(w)) {
        int64_t left = deadline - monotonic_ms();
        if (left <= 0) {
            worker_kill(w, fallback);
            return;
        }
        if (w->proc.pidfd >= 0) {
            struct pollfd p = {.fd = w->proc.pidfd, .events = POLLIN};
            poll(&p, 1, (int)left);
        } else {
            usleep(5000);
        }
    }
    /* Unjailed, what the worker started lives on in its process group (a jail's dies with its
     * init). The group id cannot be reused while the leader is an unreaped zombie. */
    if (!w->proc.jailed && w->proc.pid > 0)
        kill(-w->proc.pid, SIGKILL);
    spawn_reap(&w->proc, w->cause, sizeof w->cause);
    close_channel(w);
    w->state = WORKER_DEAD;
    log_info("worker pid %d ended: %s", (int)w->proc.pid, w->cause);
}

void worker_kill(struct worker *w, const char *why)
{
    if (!w || w->state == WORKER_DEAD)
        return;
    int64_t t0 = monotonic_ms();
    spawn_kill(&w->proc);
    close_channel(w);
    snprintf(w->cause, sizeof w->cause, "%s", why ? why : "killed by the kernel");
    w->state = WORKER_DEAD;
    log_info("worker pid %d killed in %lld ms: %s", (int)w->proc.pid,
             (long long)(monotonic_ms() - t0), w->cause);
}

void worker_free(struct worker *w)
{
    if (!w)
        return;
    worker_kill(w, "stopped");
    close_channel(w);
    frame_reader_free(&w->reader);
    free(w);
}

bool worker_poll_ready(struct worker *w, bool *broken)
{
    *broken = false;
    if (w->state == WORKER_DEAD) {
        *broken = true;
        return false;
    }
    for (int i = 0; i < 64 && w->state == WORKER_STARTING; i++) {
        json_t *frame = NULL;
        enum frame_result res = worker_read(w, &frame);
        if (res == FRAME_OK) {
            if (w->state == WORKER_STARTING)
                log_debug("worker pid %d: frame \"%s\" before ready dropped", (int)w->proc.pid,
                          json_string_value(json_object_get(frame, "t")));
            json_decref(frame);
            continue;
        }
        if (res != FRAME_AGAIN)
            *broken = true;
        break;
    }
    return w->state == WORKER_READY || w->state == WORKER_BUSY;
}

int64_t worker_ready_ms(const struct worker *w)
{
    return w->ready_at < 0 ? -1 : w->ready_at - w->spawned_at;
}
