/* The jail's init (pid 1 of the jail's pid namespace) and the command (pid 2).
 *
 * init: waits until the parent has written the uid/gid maps and moved it into its cgroup, opens
 * the bind sources, becomes uid 1000 (keeping the namespace creator's capabilities), unshares the
 * cgroup namespace, brings up lo, builds the root, drops every capability, makes itself
 * non-dumpable and forks the command. It then only forwards catchable signals from outside the
 * jail to the command's process group, reaps orphans, and when the command exits reports its raw
 * wait status to the parent and exits with its code (or 128 + signal) — which tears the pid
 * namespace, and everything the command left behind, down.
 *
 * The Landlock jail's init (jail_landlock_init.c) shares the command and the supervising loop; as
 * it has no pid namespace to tear down, it kills what the command left behind itself.
 *
 * Runs after a raw clone3() of a multi-threaded process: system calls only (see jail_internal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jail_internal.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

static void jc_stdio_to_null(void)
{
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++)
        dup2(fd, i);
    if (fd > 2)
        close(fd);
}

void jc_wait_for_parent(void)
{
    char go = 0;
    ssize_t n;
    do
        n = read(JC_FD_SYNC, &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1 || go != 'g')
        _exit(127); /* EOF: the parent died */
}

void jc_set_ids(uid_t uid, gid_t gid, bool drop_groups)
{
    /* Raw system calls, not glibc's wrappers: in a multi-threaded program those broadcast the
     * change to every thread glibc knows of (SIGSETXID, under a lock another thread of the kernel
     * may have held at the clone), which in this single-threaded copy can deadlock. */
    if (drop_groups && syscall(SYS_setgroups, 0, NULL) < 0)
        jc_fail("setgroups", errno);
    if (syscall(SYS_setresgid, gid, gid, gid) < 0)
        jc_fail("setresgid", errno);
    if (syscall(SYS_setresuid, uid, uid, uid) < 0)
        jc_fail("setresuid", errno);
}

void jc_run_command(const struct jail_plan *plan)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* cleared by fork */
    if (setsid() < 0)
        jc_fail("setsid", errno);
    jc_prepare_command_fds(plan->have_channel, plan->keep_stdio);
    jc_apply_rlimits(plan);
    jc_reset_signals(plan->ignore_sigint);
    if (plan->landlock)
        jc_landlock_enter_nested();
    /* seccomp last: nothing after it but execve */
    jc_install_seccomp(plan);
    if (plan->dry_run)
        _exit(0);
    execve(plan->argv[0], plan->argv, plan->envp);
    jc_fail2("execve", plan->argv[0], errno);
}

void jail_child_main(const struct jail_plan *plan)
{
    /* wait for the parent: maps written, cgroup joined */
    jc_wait_for_parent();

    /* Open every bind source while we still hold the creator's host uid (see jail_mount.c). */
    jc_open_sources(plan);

    /* Become warden (1000:1000) with no supplementary groups before creating any file: files need
     * a mapped owner (as root our host uid 0 is not mapped at all). Unprivileged, setgroups is
     * denied and the user's own groups stay (they show as nogroup inside); as root they are
     * dropped. We keep the capabilities of the namespace's creator: the uid we leave is not the
     * namespace's root, so the kernel does not clear them. */
    jc_set_ids(JAIL_UID, JAIL_GID, !plan->deny_setgroups);

    if (unshare(CLONE_NEWCGROUP) < 0)
        jc_fail("unshare the cgroup namespace", errno);
    jc_setup_net_uts();
    jc_build_root(plan);

    jc_drop_caps();
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        jc_fail("PR_SET_DUMPABLE", errno);
    /* a change of credentials clears the parent-death signal: set it again, then make sure the
     * parent did not die in between (it holds the sync socket open until we are done) */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        jc_fail("PR_SET_PDEATHSIG", errno);
    struct pollfd p = {.fd = JC_FD_SYNC, .events = POLLIN};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR)))
        _exit(127);

    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);

    pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, NULL);
    if (child < 0)
        jc_fail("fork the command", errno);
    if (child == 0)
        jc_run_command(plan);
    jc_init_supervise(plan, child);
}

/* Signals from outside the jail that init passes to the command. In the namespace jail the
 * kernel's pid is not visible, so si_pid is 0; in the Landlock jail it is the kernel's. Signals
 * from inside are dropped: the jail must not be able to bounce signals off its init. */
static bool from_outside(const struct jail_plan *plan, const siginfo_t *si)
{
    if (plan->landlock)
        return si->si_pid == plan->kernel_pid;
    return si->si_pid == 0;
}

void jc_init_supervise(const struct jail_plan *plan, pid_t child)
{
    sigset_t all;
    sigfillset(&all);

    /* init is a copy of the kernel that never execs: scrub what of it /proc/1 would show (after
     * the fork: the command's argv may live in that area) */
    if (plan->arg_end > plan->arg_start && plan->arg_end - plan->arg_start < (1u << 20)) {
        static const char name[] = "warden-jail-init";
        char *args = (char *)plan->arg_start;
        size_t len = plan->arg_end - plan->arg_start;
        memset(args, 0, len);
        memcpy(args, name, len > sizeof name ? sizeof name : len - 1);
    }
    prctl(PR_SET_NAME, "jail-init", 0, 0, 0);

    /* init holds nothing of the command's: no channel, no error pipe, no stdio */
    close(JC_FD_CHANNEL);
    close(JC_FD_SYNC);
    close(JC_FD_ERR);
    if (!plan->keep_stdio)
        jc_stdio_to_null();

    int status = 0;
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&all, &si);
        if (sig < 0)
            continue;
        if (sig == SIGCHLD) {
            bool done = false;
            for (;;) {
                int st;
                pid_t w = waitpid(-1, &st, WNOHANG | __WALL);
                if (w <= 0)
                    break;
                if (w == child) {
                    status = st;
                    done = true;
                }
            }
            if (done)
                break;
            continue;
        }
        if (plan->landlock && sig == SIGTERM) {
            /* the kernel ends this jail (spawn_kill), or died (the parent-death signal): no pid
             * namespace tears the rest down, so init does */
            status = (int)SIGKILL; /* a raw status: killed by SIGKILL */
            break;
        }
        switch (sig) {
        case SIGINT:
            /* The kernel sends interrupts straight to the command (spawn_signal); a plain
             * SIGINT here is a copy of one (VS Code signals every process of the kernel's
             * tree), which forwarded late could interrupt the next cell. Only the kernel's
             * fallback, marked SI_QUEUE, is forwarded. */
            if (si.si_code != SI_QUEUE)
                break;
            /* fall through */
        case SIGTERM:
        case SIGHUP:
        case SIGQUIT:
        case SIGUSR1:
        case SIGUSR2:
        case SIGWINCH:
        case SIGCONT:
            /* To the command's process group (it called setsid), like a terminal would. */
            if (!from_outside(plan, &si))
                break;
            if (kill(-child, sig) < 0)
                kill(child, sig);
            break;
        default:
            break;
        }
    }
    if (plan->landlock)
        jc_landlock_kill_leftovers(plan, child);
    int32_t raw = status;
    jc_write_all(JC_FD_STATUS, &raw, sizeof raw);
    if (WIFEXITED(status))
        _exit(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        _exit(128 + WTERMSIG(status));
    _exit(255);
}
