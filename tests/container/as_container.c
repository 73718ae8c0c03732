/* as-container [--user NAME] -- COMMAND [ARGS...]: run COMMAND the way a default Docker container
 * (and Kubernetes' RuntimeDefault) would, so that the jail's fall-back to Landlock can be tested
 * on a machine without a container engine.
 *
 * What a default `docker run` gives a process, and what this reproduces:
 *   - capabilities: moby's default set (oci/caps: CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD,
 *     NET_RAW, SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE)
 *     in the bounding, permitted and effective sets; the inheritable and ambient sets empty (moby
 *     stopped filling the inheritable set in 20.10.14, CVE-2022-24769). Above all: no
 *     CAP_SYS_ADMIN, so user namespaces are the only way to mount, and they are refused below.
 *   - seccomp: moby's default profile answers EPERM to the calls it allows only with
 *     CAP_SYS_ADMIN (unshare, setns, mount, umount2, the new mount API, ...) and to pivot_root,
 *     and to clone with any CLONE_NEW* flag. clone3 passes its flags in memory, where a classic
 *     BPF filter cannot look, so the profile answers ENOSYS to clone3 entirely: glibc then falls
 *     back to clone, whose flags are in a register. This does exactly that.
 *   - no_new_privs: NOT set (Docker leaves it off unless --security-opt no-new-privileges).
 *     Without it only a process with CAP_SYS_ADMIN may install a seccomp filter, so the filter is
 *     installed first and the capabilities dropped after, as runc does.
 *   - --user NAME: like `docker run --user`, the uid, gid and groups of NAME; the switch from
 *     root empties the permitted and effective sets (the bounding set stays Docker's).
 * What it does not reproduce: the container's own namespaces, its cgroup, its masked /proc paths
 * and AppArmor profile. None of them is what makes the namespace jail fail; they are on paper in
 * docs/cluster.md. Must start as root, as runc does. */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* moby's oci/caps default list */
static const int docker_capabilities[] = {
    CAP_CHOWN,   CAP_DAC_OVERRIDE, CAP_FSETID,           CAP_FOWNER,
    CAP_MKNOD,   CAP_NET_RAW,      CAP_SETGID,           CAP_SETUID,
    CAP_SETFCAP, CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
    CAP_KILL,    CAP_AUDIT_WRITE,
};

/* The calls moby's profile allows only with CAP_SYS_ADMIN (so: EPERM here), and pivot_root,
 * which it never allows. clone and clone3 have their own rules below. */
static const char *const refused_without_sys_admin[] = {
    "unshare",           "setns",      "mount",         "umount",
    "umount2",           "pivot_root", "fsopen",        "fsconfig",
    "fsmount",           "fspick",     "move_mount",    "open_tree",
    "mount_setattr",     "bpf",        "fanotify_init", "lookup_dcookie",
    "name_to_handle_at", "quotactl",   "quotactl_fd",   "sethostname",
    "setdomainname",     "syslog",
};

/* Every CLONE_NEW* flag clone takes (moby's mask 0x7E020000); any one of them set is refused. */
static const unsigned long clone_namespace_flags[] = {
    CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
    CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
};

static bool is_docker_capability(int cap)
{
    for (size_t i = 0; i < sizeof docker_capabilities / sizeof docker_capabilities[0]; i++)
        if (docker_capabilities[i] == cap)
            return true;
    return false;
}

static int fail(const char *what)
{
    fprintf(stderr, "as-container: %s: %s\n", what, strerror(errno));
    return -1;
}

static int add_architectures(scmp_filter_ctx ctx)
{
    /* moby's profile covers the compat ABIs of the machine too: a 32-bit unshare is the same
     * unshare. */
#if defined(__x86_64__)
    if (seccomp_arch_add(ctx, SCMP_ARCH_X86) < 0 && seccomp_arch_exist(ctx, SCMP_ARCH_X86) != 0)
        return -1;
    if (seccomp_arch_add(ctx, SCMP_ARCH_X32) < 0 && seccomp_arch_exist(ctx, SCMP_ARCH_X32) != 0)
        return -1;
#endif
    return 0;
}

static int add_rules(scmp_filter_ctx ctx)
{
    size_t n = sizeof refused_without_sys_admin / sizeof refused_without_sys_admin[0];
    for (size_t i = 0; i < n; i++) {
        int nr = seccomp_syscall_resolve_name(refused_without_sys_admin[i]);
        if (nr == __NR_SCMP_ERROR)
            continue; /* not a call on this architecture */
        if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) < 0)
            return -1;
    }
    for (size_t i = 0; i < sizeof clone_namespace_flags / sizeof clone_namespace_flags[0]; i++) {
        unsigned long flag = clone_namespace_flags[i];
        if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)) < 0)
            return -1;
    }
    return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
}

static int install_docker_seccomp(void)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return fail("seccomp_init");
    /* no_new_privs stays off, as in Docker: the filter needs CAP_SYS_ADMIN, still held here */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    if (rc == 0)
        rc = add_architectures(ctx);
    if (rc == 0)
        rc = add_rules(ctx);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc < 0) {
        errno = -rc;
        return fail("installing the seccomp filter");
    }
    return 0;
}

static int last_capability(void)
{
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
    int last = CAP_LAST_CAP;
    if (f) {
        if (fscanf(f, "%d", &last) != 1)
            last = CAP_LAST_CAP;
        fclose(f);
    }
    return last;
}

/* Bounding set first (dropping needs CAP_SETPCAP, which Docker keeps anyway), then the ambient
 * set, then effective/permitted/inheritable in one capset. */
static int drop_to_docker_capabilities(void)
{
    int last = last_capability();
    for (int cap = 0; cap <= last; cap++)
        if (!is_docker_capability(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
            return fail("dropping a capability from the bounding set");
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
        return fail("clearing the ambient capabilities");
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2] = {{0}};
    for (size_t i = 0; i < sizeof docker_capabilities / sizeof docker_capabilities[0]; i++) {
        int cap = docker_capabilities[i];
        data[cap / 32].effective |= 1u << (cap % 32);
        data[cap / 32].permitted |= 1u << (cap % 32);
    }
    if (syscall(SYS_capset, &header, data) < 0)
        return fail("setting the capability sets");
    return 0;
}

static int become_user(const struct passwd *pw)
{
    if (initgroups(pw->pw_name, pw->pw_gid) < 0)
        return fail("initgroups");
    if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
        return fail("setresgid");
    /* leaving uid 0 empties the permitted and effective sets, as for `docker run --user` */
    if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
        return fail("setresuid");
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: as-container [--user NAME] -- COMMAND [ARGS...]\n"
                    "runs COMMAND with Docker's default capabilities and the namespace rules of "
                    "its default seccomp profile (must start as root)\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *user = NULL;
    int i = 1;
    if (i + 1 < argc && strcmp(argv[i], "--user") == 0) {
        user = argv[i + 1];
        i += 2;
    }
    if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc)
        return usage();
    char **command = argv + i + 1;
    if (geteuid() != 0) {
        fprintf(stderr, "as-container: must start as root, as a container runtime does\n");
        return 2;
    }
    /* looked up before the filter, while everything a lookup may need is still allowed */
    struct passwd *pw = NULL;
    if (user && !(pw = getpwnam(user))) {
        fprintf(stderr, "as-container: no user %s\n", user);
        return 2;
    }
    if (install_docker_seccomp() < 0 || drop_to_docker_capabilities() < 0)
        return 125;
    if (pw && become_user(pw) < 0)
        return 125;
    if (pw) /* Docker takes HOME from the user's passwd entry; the working directory stays */
        setenv("HOME", pw->pw_dir, 1);
    execvp(command[0], command);
    fprintf(stderr, "as-container: %s: %s\n", command[0], strerror(errno));
    return 127;
}
