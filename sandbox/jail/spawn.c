/* The one place that starts processes (see spawn.h).
 *
 * Jailed: the parent prepares everything (mount plan, environment, seccomp program, cgroup) and
 * then clone3()s the jail's init straight into new user, pid, mount, net, ipc and uts namespaces.
 * The parent writes the uid/gid maps, moves init into its cgroup and lets it go; init unshares the
 * cgroup namespace, builds the root (jail_mount.c), brings up lo, drops privileges and forks the
 * command (jail_init.c), which execs with seccomp installed last. Setup errors travel back on a
 * close-on-exec pipe, so spawn_process() returns only after the command's execve() succeeded or
 * with the exact reason it failed. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h> /* glibc 2.36: pidfd_open, pidfd_send_signal (ENOSYS before Linux 5.3) */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/files.h"
#include "common/format.h"
#include "common/log.h"
#include "jail_internal.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

#define SETUP_TIMEOUT_MS 20000

enum setup_result {
    SETUP_DONE,      /* the command exec'd: the error pipe closed with nothing on it */
    SETUP_FAILED,    /* a step failed: msg says which and why */
    SETUP_TIMED_OUT, /* no answer within SETUP_TIMEOUT_MS */
};

/* Read the error pipe until EOF (the command exec'd, or every writer died). */
static enum setup_result read_setup_errors(int fd, char *msg, size_t len)
{
    size_t used = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed >= SETUP_TIMEOUT_MS)
            return SETUP_TIMED_OUT;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(SETUP_TIMEOUT_MS - elapsed));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return SETUP_TIMED_OUT;
        char buf[512];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        size_t take = (size_t)n;
        if (len > 0 && used + take > len - 1)
            take = len - 1 - used;
        memcpy(msg + used, buf, take);
        used += take;
    }
    if (len > 0)
        msg[used] = '\0';
    return used ? SETUP_FAILED : SETUP_DONE;
}

/* ---------------------------------------------------------------------------------------------
 * Unjailed (explicit opt-in only)
 * ------------------------------------------------------------------------------------------- */
static int spawn_unjailed(const struct spawn_request *req, struct jailed *out, char *err,
                          size_t errlen)
{
    const struct sandbox_config *cfg = req->cfg;
    struct jail_plan plan;
    memset(&plan, 0, sizeof plan);
    char **env = jail_build_env(req, false, NULL);
    if (!env) {
        snprintf(err, errlen, "out of memory building the environment");
        return -1;
    }
    jail_plan_rlimits(&plan, &cfg->limits, false, false);
    plan.argv = req->argv;
    plan.envp = env;
    int errp[2];
    if (pipe2(errp, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        jail_free_strv(env);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        close(errp[0]);
        close(errp[1]);
        jail_free_strv(env);
        return -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int src[JC_FD_COUNT] = {-1, -1, -1, req->channel_fd, -1, errp[1], -1, -1};
        jc_arrange_fds(src);
        if (setsid() < 0)
            jc_fail("setsid", errno);
        jc_prepare_command_fds(req->channel_fd >= 0, req->keep_stdio);
        if (cfg->workdir[0] && chdir(cfg->workdir) < 0)
            jc_fail2("chdir", cfg->workdir, errno);
        jc_apply_rlimits(&plan);
        jc_reset_signals(req->ignore_sigint);
        execve(plan.argv[0], plan.argv, plan.envp);
        jc_fail2("execve", plan.argv[0], errno);
    }
    close(errp[1]);
    char msg[1024];
    enum setup_result setup = read_setup_errors(errp[0], msg, sizeof msg);
    close(errp[0]);
    jail_free_strv(env);
    if (setup != SETUP_DONE) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
        snprintf(err, errlen, "cannot start %s: %s", req->argv[0],
                 setup == SETUP_TIMED_OUT ? "timed out during setup" : msg);
        return -1;
    }
    out->pid = pid;
    out->pidfd = pidfd_open(pid, 0);
    out->jailed = false;
    out->status_fd = -1;
    log_info("UNJAILED: started %s (pid %d) with no isolation (sandbox.unjailed is set)",
             req->argv[0], (int)pid);
    return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Jailed
 * ------------------------------------------------------------------------------------------- */
/* A jail's init, in the namespaces `ns_flags` names (none for the Landlock jail), with a pidfd.
 * Where clone3 is missing or refused with ENOSYS (old kernels; Docker's seccomp profile), clone()
 * with fork semantics and the same pidfd; where that gave none either (a kernel or filter that
 * ignores CLONE_PIDFD), pidfd_open: the init is an unreaped child, so its pid cannot have been
 * reused. Every end of a jail rests on it: without one the kernel cannot ask the Landlock jail's
 * init to kill what the worker left (spawn_kill), nor see the worker die during a prompt. */
static pid_t clone_init(unsigned long long ns_flags, int *pidfd)
{
    unsigned long long flags = ns_flags | CLONE_PIDFD;
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = flags;
    args.pidfd = (uint64_t)(uintptr_t)pidfd;
    args.exit_signal = SIGCHLD;
    long r = syscall(SYS_clone3, &args, sizeof args);
    if (r < 0 && errno == ENOSYS) {
        /* x86_64 argument order: the pidfd is written where parent_tid points */
        r = syscall(SYS_clone, (unsigned long)(flags | SIGCHLD), NULL, pidfd, NULL, NULL);
    }
    if (r > 0 && *pidfd < 0)
        *pidfd = pidfd_open((pid_t)r, 0);
    return (pid_t)r;
}

/* The idmapped workdir needs a user namespace only as a mapping (jail_idmap.c); a multi-threaded
 * process cannot unshare one, so a child is cloned into it. It is safe to leave it there: the
 * child runs no code but a read and an exit, gains nothing outside its namespace, and is gone
 * before the namespace is used. */
pid_t spawn_userns_holder(int hold_fd, int close_fd)
{
    struct clone_args args;
    memset(&args, 0, sizeof args);
    args.flags = CLONE_NEWUSER;
    args.exit_signal = SIGCHLD;
    long r = syscall(SYS_clone3, &args, sizeof args);
    if (r < 0 && errno == ENOSYS)
        r = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, NULL);
    if (r == 0) {
        /* a copy of a multi-threaded process: system calls only. It holds its namespace alive
         * until the caller is done with it (EOF), and runs nothing. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(close_fd);
        char c;
        while (read(hold_fd, &c, 1) < 0 && errno == EINTR) {
        }
        _exit(0);
    }
    return (pid_t)r;
}

/* arg_start/arg_end of this process (fields 48 and 49 of /proc/self/stat). */
static void own_args_area(uintptr_t *start, uintptr_t *end)
{
    *start = *end = 0;
    FILE *f = fopen("/proc/self/stat", "re");
    if (!f)
        return;
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return;
    p++;
    /* after ")" comes field 3; we want fields 48 and 49 */
    char *save = NULL;
    int field = 3;
    for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
        if (field == 48)
            *start = (uintptr_t)strtoull(tok, NULL, 10);
        if (field == 49) {
            *end = (uintptr_t)strtoull(tok, NULL, 10);
            break;
        }
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Both jails, after the clone: the cgroup takes init before it runs anything (init waits for
 * 'g' on its sync socket), then init's setup result decides. 0: the command is running. */
static int release_init(pid_t pid, const struct jail_cgroup *cg, int sync_fd, int err_fd,
                        const char *which, char *err, size_t errlen)
{
    if (cg->version != 0 && jail_cgroup_attach(cg, pid, err, errlen) < 0)
        return -1;
    if (send(sync_fd, "g", 1, MSG_NOSIGNAL) != 1) {
        snprintf(err, errlen, "the jail's init died before setup");
        return -1;
    }
    char msg[1024];
    enum setup_result setup = read_setup_errors(err_fd, msg, sizeof msg);
    if (setup != SETUP_DONE) {
        snprintf(err, errlen, "cannot build %s: %s", which,
                 setup == SETUP_TIMED_OUT ? "setup timed out" : msg);
        return -1;
    }
    return 0;
}

/* The started jail becomes the caller's: its pid, pidfd and status fd move into `out`. */
static void hand_over(struct jailed *out, const struct sandbox_config *cfg,
                      const struct jail_cgroup *cg, pid_t *pid, int *pidfd, int *status_fd)
{
    out->pid = *pid;
    out->pidfd = *pidfd;
    out->jailed = true;
    out->status_fd = *status_fd;
    out->cgroup_version = cg->version;
    out->cpu_limited = cg->cpu_dir[0] != '\0';
    snprintf(out->cgroup, sizeof out->cgroup, "%s", cg->version ? cg->name : "");
    out->memory_limit = cfg->limits.memory_bytes;
    *pid = -1;
    *pidfd = -1;
    *status_fd = -1;
}

/* Whatever a start left behind: an init not handed over is killed and reaped, a failed start's
 * cgroup removed, and every pipe end closed. */
static void undo_start(pid_t pid, int rc, const struct jail_cgroup *cg, int *pidfd, int sync[2],
                       int errp[2], int status[2])
{
    if (pid > 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    if (rc != 0 && cg->version != 0)
        jail_cgroup_remove(cg->version, cg->name);
    close_fd(pidfd);
    for (int i = 0; i < 2; i++) {
        close_fd(&sync[i]);
        close_fd(&errp[i]);
        close_fd(&status[i]);
    }
}

static int spawn_namespaces(const struct spawn_request *req, struct jailed *out, bool dry_run,
                            char *err, size_t errlen)
{
    const struct sandbox_config *cfg = req->cfg;
    struct jail_plan plan;
    memset(&plan, 0, sizeof plan);
    struct jail_cgroup cg;
    memset(&cg, 0, sizeof cg);
    char **env = NULL;
    int sync[2] = {-1, -1}, errp[2] = {-1, -1}, status[2] = {-1, -1};
    int pidfd = -1;
    pid_t pid = -1;
    int rc = -1;

    plan.workdir_tree_fd = -1;
    jail_choose_ids(&plan.outside_uid, &plan.outside_gid, &plan.deny_setgroups);
    if (jail_plan_mounts(&plan, cfg, err, errlen) < 0)
        goto out;
    env = jail_build_env(req, true, NULL);
    if (!env) {
        snprintf(err, errlen, "out of memory building the environment");
        goto out;
    }
    plan.envp = env;
    plan.argv = req->argv;
    plan.keep_stdio = req->keep_stdio;
    plan.have_channel = req->channel_fd >= 0;
    plan.ignore_sigint = req->ignore_sigint;
    plan.dry_run = dry_run;
    own_args_area(&plan.arg_start, &plan.arg_end);
    if (jail_seccomp_program(&plan.seccomp, false, err, errlen) < 0)
        goto out;
    jail_cgroup_create(&cfg->limits, &cg);
    jail_plan_rlimits(&plan, &cfg->limits, cg.version != 0, true);

    /* sync is a socket so that telling a child that already died is EPIPE, not SIGPIPE */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0 ||
        pipe2(errp, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto out;
    }

    pid = clone_init(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC |
                         CLONE_NEWUTS,
                     &pidfd);
    if (pid < 0) {
        int e = errno;
        char why[768];
        jail_userns_diagnose(e, why, sizeof why);
        snprintf(err, errlen, "cannot create the jail's namespaces (clone: %s)%s%s", strerror(e),
                 why[0] ? ": " : "", why);
        pid = -1;
        goto out;
    }
    if (pid == 0) {
        /* child: the jail's init. Nothing here may allocate (see jail_internal.h). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int src[JC_FD_COUNT] = {-1,      -1,      -1,        req->channel_fd,
                                sync[0], errp[1], status[1], plan.workdir_tree_fd};
        jc_arrange_fds(src);
        jail_child_main(&plan);
    }
    close_fd(&sync[0]);
    close_fd(&errp[1]);
    close_fd(&status[1]);

    if (jail_write_id_maps(pid, &plan, err, errlen) < 0)
        goto out;
    if (release_init(pid, &cg, sync[1], errp[0], "the jail", err, errlen) < 0)
        goto out;
    hand_over(out, cfg, &cg, &pid, &pidfd, &status[0]);
    rc = 0;
out:
    undo_start(pid, rc, &cg, &pidfd, sync, errp, status);
    jail_free_strv(env);
    jail_plan_free(&plan);
    return rc;
}

/* The Landlock jail (jail_landlock*.c): the same plan, with a ruleset and a scratch directory
 * instead of namespaces and mounts. Paths are the host's own. */
static int spawn_landlock(const struct spawn_request *req, struct jailed *out, bool dry_run,
                          char *err, size_t errlen)
{
    const struct sandbox_config *cfg = req->cfg;
    struct jail_plan plan;
    memset(&plan, 0, sizeof plan);
    struct jail_cgroup cg;
    memset(&cg, 0, sizeof cg);
    char **env = NULL;
    int errp[2] = {-1, -1}, status[2] = {-1, -1}, sync[2] = {-1, -1};
    int pidfd = -1;
    pid_t pid = -1;
    int rc = -1;

    plan.landlock = true;
    plan.workdir_tree_fd = -1;
    plan.ruleset_fd = -1;
    plan.kernel_pid = getpid();
    plan.landlock_abi = jail_landlock_abi();
    if (cfg->workdir[0]) {
        char real[PATH_MAX];
        if (jail_resolve_workdir(cfg->workdir, real, err, errlen) < 0)
            goto out;
        plan.workdir = strdup(real);
        if (!plan.workdir) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (jail_landlock_choose_ids(plan.workdir, cfg->workdir_writable, &plan.outside_uid,
                                 &plan.outside_gid, &plan.switch_ids, err, errlen) < 0)
        goto out;
    if (!dry_run &&
        jail_scratch_create(plan.outside_uid, plan.outside_gid, &plan.scratch_dir, err, errlen) < 0)
        goto out;
    plan.ruleset_fd =
        jail_landlock_ruleset(cfg, plan.workdir, plan.scratch_dir, plan.landlock_abi, err, errlen);
    if (plan.ruleset_fd < 0)
        goto out;
    env = jail_build_env(req, true, plan.scratch_dir ? plan.scratch_dir : "/nonexistent");
    if (!env) {
        snprintf(err, errlen, "out of memory building the environment");
        goto out;
    }
    plan.envp = env;
    plan.argv = req->argv;
    plan.keep_stdio = req->keep_stdio;
    plan.have_channel = req->channel_fd >= 0;
    plan.ignore_sigint = req->ignore_sigint;
    plan.dry_run = dry_run;
    own_args_area(&plan.arg_start, &plan.arg_end);
    if (jail_seccomp_program(&plan.seccomp, true, err, errlen) < 0)
        goto out;
    jail_cgroup_create(&cfg->limits, &cg);
    jail_plan_rlimits(&plan, &cfg->limits, cg.version != 0, false);
    /* no user namespace, so RLIMIT_NPROC counts host-wide per uid: see jail_limits.c */
    if (cg.version == 0)
        jail_plan_shared_uid_tasks(&plan, &cfg->limits, plan.outside_uid);
    /* sync: init forks nothing until it is in its cgroup (a socket: telling a dead child is EPIPE)
     */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) < 0 ||
        pipe2(errp, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto out;
    }
    pid = clone_init(0, &pidfd);
    if (pid < 0) {
        snprintf(err, errlen, "cannot start the jail: clone: %s", strerror(errno));
        pid = -1;
        goto out;
    }
    if (pid == 0) {
        /* child: the jail's init. Nothing here may allocate (see jail_internal.h). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int src[JC_FD_COUNT] = {-1,      -1,      -1,        req->channel_fd,
                                sync[0], errp[1], status[1], plan.ruleset_fd};
        jc_arrange_fds(src);
        jail_landlock_child_main(&plan);
    }
    close_fd(&sync[0]);
    close_fd(&errp[1]);
    close_fd(&status[1]);
    if (release_init(pid, &cg, sync[1], errp[0], "the Landlock jail", err, errlen) < 0)
        goto out;
    hand_over(out, cfg, &cg, &pid, &pidfd, &status[0]);
    out->landlock = true;
    out->scratch = plan.scratch_dir;
    out->scratch_limit = cfg->limits.tmpfs_bytes ? cfg->limits.tmpfs_bytes : 512u << 20;
    plan.scratch_dir = NULL;
    rc = 0;
out:
    undo_start(pid, rc, &cg, &pidfd, sync, errp, status);
    close_fd(&plan.ruleset_fd);
    jail_scratch_remove(plan.scratch_dir); /* only when it was not handed over */
    free(plan.scratch_dir);
    jail_free_strv(env);
    jail_plan_free(&plan);
    return rc;
}

int spawn_jail(const struct spawn_request *req, struct jailed *out, enum sandbox_jail kind,
               bool dry_run, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->pid = -1;
    out->pidfd = -1;
    out->status_fd = -1;
    if (errlen)
        err[0] = '\0';
    if (!req || !req->cfg || !req->argv || !req->argv[0] || req->argv[0][0] != '/') {
        snprintf(err, errlen, "spawn_process: argv[0] must be an absolute path");
        return -1;
    }
    if (req->cfg->unjailed)
        return spawn_unjailed(req, out, err, errlen);
    if (kind == SANDBOX_JAIL_LANDLOCK)
        return spawn_landlock(req, out, dry_run, err, errlen);
    return spawn_namespaces(req, out, dry_run, err, errlen);
}

int spawn_process(const struct spawn_request *req, struct jailed *out, char *err, size_t errlen)
{
    enum sandbox_jail kind = req && req->cfg ? spawn_jail_kind(req->cfg) : SANDBOX_JAIL_AUTO;
    return spawn_jail(req, out, kind, false, err, errlen);
}
