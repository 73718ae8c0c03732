/* The launcher watch (launcher.h): a pidfd on the process named by JPY_PARENT_PID, or, where
 * pidfd_open is missing (Linux < 5.3, some seccomp profiles), a once-a-second look at whether it
 * is still an ancestor. */
#include "launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h> /* glibc 2.36; ENOSYS before Linux 5.3 */
#include <unistd.h>

#include "common/clock.h"
#include "common/files.h"
#include "common/log.h"

#define FALLBACK_POLL_MS 1000
#define MAX_ANCESTRY     256 /* bounds the walk up the process tree */

pid_t launcher_parse_pid(const char *text)
{
    if (!text || *text < '0' || *text > '9')
        return 0;
    errno = 0;
    char *end = NULL;
    long value = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || value <= 1 || value > INT_MAX)
        return 0;
    return (pid_t)value;
}

/* The parent of `pid` from /proc/PID/stat, or 0 when it cannot be read. comm (field 2) may hold
 * spaces and parentheses: the fields that follow start after its last ')'. */
static pid_t parent_of(pid_t pid)
{
    char path[64], buffer[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (read_small_file(path, buffer, sizeof buffer) <= 0)
        return 0;
    const char *close_paren = strrchr(buffer, ')');
    char state;
    int ppid;
    if (!close_paren || sscanf(close_paren + 1, " %c %d", &state, &ppid) != 2 || ppid < 0)
        return 0;
    return (pid_t)ppid;
}

static bool is_ancestor(pid_t pid)
{
    pid_t p = getppid();
    for (int depth = 0; p > 1 && depth < MAX_ANCESTRY; depth++) {
        if (p == pid)
            return true;
        p = parent_of(p);
    }
    return false;
}

void launcher_watch_start(struct launcher_watch *w)
{
    w->pid = 0;
    w->pidfd = -1;
    w->next_look_ms = 0;
    const char *text = getenv("JPY_PARENT_PID");
    if (!text)
        return;
    pid_t pid = launcher_parse_pid(text);
    if (!pid) {
        log_info("JPY_PARENT_PID=\"%.32s\" is not a pid: not watching a launcher", text);
        return;
    }
    /* The pidfd first, the ancestry after: a pidfd names one process for good, so a launcher
     * that died and whose pid was reused in between fails the check instead of being watched. */
    int pidfd = pidfd_open(pid, 0);
    if (!is_ancestor(pid)) {
        log_info("JPY_PARENT_PID=%d is not an ancestor of this kernel: not watching it", (int)pid);
        if (pidfd >= 0)
            close(pidfd);
        return;
    }
    w->pid = pid;
    w->pidfd = pidfd;
    log_info("watching the launcher, pid %d (%s)", (int)pid,
             pidfd >= 0 ? "pidfd" : "polled: no pidfd");
}

int launcher_watch_fd(const struct launcher_watch *w) { return w->pid ? w->pidfd : -1; }

int launcher_watch_poll_ms(const struct launcher_watch *w)
{
    return w->pid && w->pidfd < 0 ? FALLBACK_POLL_MS : -1;
}

bool launcher_watch_gone(struct launcher_watch *w)
{
    if (!w->pid)
        return false;
    if (w->pidfd >= 0) {
        struct pollfd p = {.fd = w->pidfd, .events = POLLIN};
        return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
    }
    long long now = monotonic_ms();
    if (now < w->next_look_ms)
        return false;
    w->next_look_ms = now + FALLBACK_POLL_MS;
    return !is_ancestor(w->pid);
}

void launcher_watch_stop(struct launcher_watch *w)
{
    if (w->pidfd >= 0)
        close(w->pidfd);
    w->pidfd = -1;
    w->pid = 0;
}
