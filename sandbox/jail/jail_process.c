/* A started process's life, after spawn.c: interrupts and other signals, reaping (with the
 * words for why it ended), killing. Jailed, the process is the jail's init; the command is its
 * child. Parent side only. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/files.h"
#include "common/format.h"
#include "common/log.h"
#include "jail_internal.h"

/* how long the Landlock jail's init may take to kill what is left and exit */
#define LANDLOCK_END_TIMEOUT_MS 5000

/* The jailed command's pid as the kernel sees it: the one child of the jail's init, from
 * /proc (CONFIG_PROC_CHILDREN); 0 if it cannot be read. */
static pid_t command_pid(const struct jailed *proc)
{
    char path[64], text[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)proc->pid, (int)proc->pid);
    if (read_small_file(path, text, sizeof text) <= 0)
        return 0;
    long pid = strtol(text, NULL, 10);
    return pid > 1 && pid <= INT32_MAX ? (pid_t)pid : 0;
}

/* A SIGINT (an interrupt) goes straight to the jailed command's process group (it called
 * setsid: its pgid is its pid), not through the jail's init: kill() makes it pending there
 * before it returns, while the cell it is for still runs, so the worker takes it before it can
 * read its next request. Through init it could be forwarded late, into the next cell. Init
 * drops a plain SIGINT from outside (VS Code sends one to every process of the kernel's tree),
 * and forwards only the marked one (SI_QUEUE) sent here when /proc cannot name the command. */
static void interrupt_jailed(const struct jailed *proc)
{
    pid_t command = command_pid(proc);
    if (command > 0 && kill(-command, SIGINT) == 0)
        return;
    static atomic_flag said = ATOMIC_FLAG_INIT;
    if (!atomic_flag_test_and_set(&said))
        log_info("interrupts go through the jail's init: /proc/%d/task/%d/children cannot be "
                 "read (CONFIG_PROC_CHILDREN?)",
                 (int)proc->pid, (int)proc->pid);
    siginfo_t info;
    memset(&info, 0, sizeof info);
    info.si_signo = SIGINT;
    info.si_code = SI_QUEUE;
    info.si_pid = getpid();
    info.si_uid = getuid();
    if (proc->pidfd >= 0 && pidfd_send_signal(proc->pidfd, SIGINT, &info, 0) == 0)
        return;
    syscall(SYS_rt_sigqueueinfo, proc->pid, SIGINT, &info);
}

void spawn_signal(const struct jailed *proc, int sig)
{
    if (!proc || proc->pid <= 0 || proc->reaped)
        return;
    if (proc->jailed && sig == SIGINT) {
        interrupt_jailed(proc);
        return;
    }
    /* jailed: init forwards it to the command's process group */
    if (proc->pidfd >= 0 && pidfd_send_signal(proc->pidfd, sig, NULL, 0) == 0)
        return;
    kill(proc->pid, sig);
}

static void describe_status(const struct jailed *proc, int st, bool oom, char *cause, size_t len)
{
    char size[64];
    if (oom) {
        format_size(proc->memory_limit, size, sizeof size);
        snprintf(cause, len, "memory limit of %s reached", size);
    } else if (proc->scratch_over) {
        format_size(proc->scratch_limit, size, sizeof size);
        snprintf(cause, len, "scratch space limit of %s reached", size);
    } else if (WIFSIGNALED(st)) {
        int sig = WTERMSIG(st);
        if (sig == SIGSYS) {
            snprintf(cause, len, "killed for a forbidden system call (seccomp)");
        } else {
            const char *name = sigabbrev_np(sig);
            snprintf(cause, len, "killed by signal %d (SIG%s)", sig, name ? name : "?");
        }
    } else if (WIFEXITED(st)) {
        snprintf(cause, len, "exited with code %d", WEXITSTATUS(st));
    } else {
        snprintf(cause, len, "ended with wait status 0x%x", (unsigned)st);
    }
}

int spawn_reap(struct jailed *proc, char *cause, size_t len)
{
    if (len)
        cause[0] = '\0';
    if (!proc || proc->pid <= 0 || proc->reaped) {
        snprintf(cause, len, "already reaped");
        return 0;
    }
    int st = 0;
    while (waitpid(proc->pid, &st, __WALL) < 0) {
        if (errno == EINTR)
            continue;
        st = 0;
        break;
    }
    int cmd = st;
    if (proc->status_fd >= 0) {
        /* init wrote the command's own status just before exiting, unless it was killed */
        int flags = fcntl(proc->status_fd, F_GETFL);
        if (flags >= 0)
            fcntl(proc->status_fd, F_SETFL, flags | O_NONBLOCK);
        int32_t v;
        if (read(proc->status_fd, &v, sizeof v) == (ssize_t)sizeof v)
            cmd = v;
        close(proc->status_fd);
        proc->status_fd = -1;
    }
    bool oom = false;
    if (proc->cgroup_version != 0 && proc->cgroup[0]) {
        oom = jail_cgroup_oom(proc->cgroup_version, proc->cgroup);
        jail_cgroup_remove(proc->cgroup_version, proc->cgroup);
        proc->cgroup[0] = '\0';
    }
    /* init exited after killing every process of the jail: nothing can write there any more */
    jail_scratch_remove(proc->scratch);
    free(proc->scratch);
    proc->scratch = NULL;
    describe_status(proc, cmd, oom, cause, len);
    if (proc->pidfd >= 0)
        close(proc->pidfd);
    proc->pidfd = -1;
    proc->reaped = true;
    return cmd;
}

/* The Landlock jail has no pid namespace whose init's death kills the rest: its init is asked
 * (SIGTERM) to kill every process of the jail and exit. true once it did (and was reaped). */
static bool landlock_end(struct jailed *proc)
{
    pid_t command = command_pid(proc);
    if (command > 0)
        kill(-command, SIGKILL); /* the bulk at once: the cell's processes */
    if (proc->pidfd < 0 || pidfd_send_signal(proc->pidfd, SIGTERM, NULL, 0) < 0)
        return false;
    struct pollfd p = {.fd = proc->pidfd, .events = POLLIN};
    int r;
    while ((r = poll(&p, 1, LANDLOCK_END_TIMEOUT_MS)) < 0 && errno == EINTR) {
    }
    if (r <= 0)
        return false; /* stuck: SIGKILL it, what is left reparents to the kernel's reaper */
    char cause[256];
    spawn_reap(proc, cause, sizeof cause);
    return true;
}

bool spawn_check_scratch(struct jailed *proc)
{
    if (!proc || !proc->scratch || proc->reaped || proc->scratch_over)
        return false;
    if (jail_scratch_usage(proc->scratch, proc->scratch_limit) <= proc->scratch_limit)
        return false;
    proc->scratch_over = true;
    log_warn("jail pid %d: its scratch directory %s holds more than its limit: ending it",
             (int)proc->pid, proc->scratch);
    /* init (SIGTERM) kills every process of the jail; the reap that follows says why */
    if (proc->pidfd < 0 || pidfd_send_signal(proc->pidfd, SIGTERM, NULL, 0) < 0)
        kill(proc->pid, SIGTERM);
    return true;
}

void spawn_kill(struct jailed *proc)
{
    if (!proc || proc->pid <= 0 || proc->reaped)
        return;
    if (!proc->jailed)
        kill(-proc->pid, SIGKILL); /* its session/process group */
    if (proc->landlock && landlock_end(proc))
        return;
    if (proc->pidfd < 0 || pidfd_send_signal(proc->pidfd, SIGKILL, NULL, 0) < 0)
        kill(proc->pid, SIGKILL);
    char cause[256];
    spawn_reap(proc, cause, sizeof cause);
}
