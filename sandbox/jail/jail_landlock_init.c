/* The Landlock jail's init: a copy of the kernel (it never execs) that confines itself, then
 * starts the command and outlives it.
 *
 * In order: its own session; a uid of its own when the kernel is root with CAP_SETUID (no groups,
 * JAIL_ROOT_HOST_ID, which owns nothing on the host); no capabilities; not dumpable (it holds the
 * kernel's memory: the command, though of the same uid, may not read it through /proc or ptrace);
 * the parent-death signal; no_new_privs; the Landlock domain (the parent built the ruleset);
 * subreaper, so that whatever the command leaves behind becomes init's to kill; the notebook
 * directory as cwd. Then it forks the command (jail_init.c: setsid, rlimits, seccomp, execve) and
 * supervises it like the namespace jail's init. There is no pid namespace whose end kills the
 * rest: when the command exits, or the kernel ends the jail (SIGTERM) or dies (the parent-death
 * signal is SIGTERM), init kills every process left, then exits.
 *
 * Runs after a raw clone of a multi-threaded process: system calls only (see jail_internal.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jail_internal.h"
#include "landlock_abi.h"

/* SIGKILL every child of init, read from /proc/self/task/PID/children; how many were found. */
static int kill_children(void)
{
    char path[64] = "/proc/self/task/";
    char digits[16];
    int n = 0;
    for (unsigned v = (unsigned)getpid(); v && n < (int)sizeof digits; v /= 10)
        digits[n++] = (char)('0' + v % 10);
    size_t at = strlen(path);
    while (n > 0)
        path[at++] = digits[--n];
    memcpy(path + at, "/children", sizeof "/children");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[4096];
    int found = 0;
    long pid = 0;
    bool in_number = false;
    ssize_t got;
    /* a number may straddle two reads: the parse state carries over */
    while ((got = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < got; i++) {
            if (buf[i] >= '0' && buf[i] <= '9') {
                pid = in_number ? pid * 10 + (buf[i] - '0') : buf[i] - '0';
                in_number = pid < 0x7fffffff;
                continue;
            }
            if (in_number && pid > 1) {
                kill((pid_t)pid, SIGKILL);
                found++;
            }
            in_number = false;
        }
    }
    if (in_number && pid > 1) {
        kill((pid_t)pid, SIGKILL);
        found++;
    }
    close(fd);
    return found;
}

void jc_landlock_kill_leftovers(const struct jail_plan *plan, pid_t child)
{
    kill(-child, SIGKILL); /* the command's process group */
    /* Kill the children, reap one (orphans of the dead become init's children: it is their
     * subreaper), again, until none is left. Each round removes a generation; RLIMIT_NPROC and
     * the cgroup bound how many there can be. With the signal scope (ABI 6), kill(-1) reaches
     * exactly the processes of the command's domain, nested in init's (and not init): all of
     * them at once, under the kernel's task list lock, so a fork bomb cannot outrun it. Without
     * the scope kill(-1) would reach every process of the uid: never then. */
    for (;;) {
        if (plan->landlock_abi >= 6)
            kill(-1, SIGKILL);
        kill_children();
        int st;
        pid_t w = waitpid(-1, &st, __WALL);
        if (w < 0 && errno == ECHILD)
            return;
        while (waitpid(-1, &st, WNOHANG | __WALL) > 0) {
        }
    }
}

/* The command enters a Landlock domain of its own, nested in init's, with the same rules: the
 * signal scope (ABI 6) then keeps it from signalling init (its parent's domain), so it cannot kill
 * the one process that kills what it leaves; init may still signal it (a nested domain). */
void jc_landlock_enter_nested(void)
{
    if (syscall(__NR_landlock_restrict_self, JC_FD_RULESET, 0) < 0)
        jc_fail("landlock_restrict_self (the command)", errno);
    close(JC_FD_RULESET);
}

void jail_landlock_child_main(const struct jail_plan *plan)
{
    /* wait until the parent has moved us into the cgroup: nothing may fork before (a fork bomb
     * would start outside the task limit) */
    jc_wait_for_parent();
    if (setsid() < 0)
        jc_fail("setsid", errno);
    /* leaving uid 0 clears every capability (no SECBIT_NO_SETUID_FIXUP) */
    if (plan->switch_ids) {
        jc_drop_bounding_set();
        jc_set_ids(plan->outside_uid, plan->outside_gid, true);
    }
    /* uid 0 kept (root's own notebook directory, jail_landlock_choose_ids): no capability, in any
     * set, ever again (securebits locked: execve as uid 0 grants none) */
    if (syscall(SYS_geteuid) == 0)
        jc_drop_caps();
    else
        jc_clear_caps();
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        jc_fail("PR_SET_DUMPABLE", errno);
    /* a change of credentials clears the parent-death signal: set it now, then make sure the
     * kernel did not die before */
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
        jc_fail("PR_SET_PDEATHSIG", errno);
    if (getppid() != plan->kernel_pid)
        _exit(127);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        jc_fail("PR_SET_NO_NEW_PRIVS", errno);
    if (syscall(__NR_landlock_restrict_self, JC_FD_RULESET, 0) < 0)
        jc_fail("landlock_restrict_self", errno);
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        jc_fail("PR_SET_CHILD_SUBREAPER", errno);
    if (plan->workdir && chdir(plan->workdir) < 0)
        jc_fail2(errno == EACCES ? "the jail's uid may not enter" : "chdir", plan->workdir, errno);

    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    pid_t child = (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, NULL, NULL, NULL, NULL);
    if (child < 0)
        jc_fail("fork the command", errno);
    if (child == 0)
        jc_run_command(plan); /* enters its nested domain (jc_landlock_enter_nested) */
    close(JC_FD_RULESET);
    jc_init_supervise(plan, child);
}
