/* The seccomp filter: default allow, a deny list answering EPERM (so hostile code gets a
 * PermissionError and the cell goes on), clone3 answering ENOSYS (glibc falls back to clone, whose
 * flags we can inspect), and any other ABI (ia32 via int 0x80, x32) killing the process.
 * Built once per process with libseccomp in the parent and exported as a BPF program, so the
 * child only has to call seccomp(2) (no allocation after clone). */
#include <errno.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "jail_internal.h"

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

/* Denied outright with EPERM. Names unknown to this libseccomp/arch are skipped. */
static const char *const denied[] = {
    /* other processes' memory */
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    /* mounts and roots */
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    /* namespaces */
    "unshare",
    "setns",
    /* kernel keyrings */
    "keyctl",
    "add_key",
    "request_key",
    /* kernel attack surface */
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "open_by_handle_at",
    "name_to_handle_at",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "quotactl",
    "quotactl_fd",
    "syslog",
    "iopl",
    "ioperm",
    "lookup_dcookie",
    "uselib",
    "vhangup",
    "nfsservctl",
    "_sysctl",
    "sysfs",
    "ustat",
    "fanotify_init",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "stime",
    "vm86",
    "vm86old",
    "create_module",
    "get_kernel_syms",
    "query_module",
    "remap_file_pages",
    "move_pages",
    "migrate_pages",
    "mbind",
    "set_mempolicy",
};

/* one filter per jail, each built once: [0] the namespace jail's, [1] the Landlock jail's */
static pthread_once_t once[2] = {PTHREAD_ONCE_INIT, PTHREAD_ONCE_INIT};
static struct sock_fprog program[2];
static char build_error[2][256];
static _Thread_local int building; /* which of the two build() is making */

static int rule(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
                const struct scmp_arg_cmp *cmp)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* not on this architecture */
    int rc = seccomp_rule_add_array(ctx, action, nr, n, cmp);
    if (rc < 0 && rc != -EEXIST) {
        snprintf(build_error[building], sizeof build_error[0], "seccomp rule for %s: %s", name,
                 strerror(-rc));
        return -1;
    }
    return 0;
}

static int add_rules(scmp_filter_ctx ctx)
{
    const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
        if (rule(ctx, eperm, denied[i], 0, NULL) < 0)
            return -1;

    /* clone3 passes its flags in memory, where seccomp cannot look: ENOSYS makes glibc use clone */
    if (rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL) < 0)
        return -1;

    /* clone with any namespace flag (a0 is the flags word on x86_64) */
    static const unsigned long ns_flags[] = {CLONE_NEWNS,    CLONE_NEWUTS, CLONE_NEWIPC,
                                             CLONE_NEWUSER,  CLONE_NEWPID, CLONE_NEWNET,
                                             CLONE_NEWCGROUP};
    for (size_t i = 0; i < sizeof ns_flags / sizeof ns_flags[0]; i++) {
        struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
        if (rule(ctx, eperm, "clone", 1, &c) < 0)
            return -1;
    }

    /* TIOCSTI (push input into a terminal) and TIOCLINUX: compare only the low 32 bits, the
     * kernel ignores the rest of the request number */
    static const unsigned long bad_ioctls[] = {TIOCSTI, TIOCLINUX};
    for (size_t i = 0; i < 2; i++) {
        struct scmp_arg_cmp c = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, bad_ioctls[i]);
        if (rule(ctx, eperm, "ioctl", 1, &c) < 0)
            return -1;
    }

    /* socket families: only AF_UNIX, AF_INET, AF_INET6. The kernel reads an int (low 32 bits) and
     * refuses families >= AF_MAX itself, so every family below 64 but those three is denied. */
    for (unsigned fam = 0; fam < 64; fam++) {
        if (fam == AF_UNIX || fam == AF_INET || fam == AF_INET6)
            continue;
        struct scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffUL, fam);
        if (rule(ctx, eperm, "socket", 1, &c) < 0)
            return -1;
        if (rule(ctx, eperm, "socketpair", 1, &c) < 0)
            return -1;
    }

    /* No set-user-ID or set-group-ID bit on any file the jail creates or changes. Inside, every
     * mount is nosuid; but a writable notebook directory is the host's too, where its owner's
     * files are the jail's (jail_idmap.c): a set-id program left there would run as that owner,
     * often root, for whoever on the host executes it. The mode is an argument of each call
     * (ignored without O_CREAT, where glibc passes 0); openat2 passes it in memory, where
     * seccomp cannot look: ENOSYS, glibc does not use it. */
    static const struct {
        const char *name;
        unsigned arg;
    } mode_args[] = {{"chmod", 1},   {"fchmod", 1}, {"fchmodat", 2}, {"fchmodat2", 2},
                     {"open", 2},    {"openat", 3}, {"creat", 1},    {"mkdir", 1},
                     {"mkdirat", 2}, {"mknod", 1},  {"mknodat", 2}};
    static const unsigned long set_id_bits[] = {S_ISUID, S_ISGID};
    for (size_t i = 0; i < sizeof mode_args / sizeof mode_args[0]; i++) {
        for (size_t b = 0; b < 2; b++) {
            struct scmp_arg_cmp c = {.arg = mode_args[i].arg,
                                     .op = SCMP_CMP_MASKED_EQ,
                                     .datum_a = set_id_bits[b],
                                     .datum_b = set_id_bits[b]};
            if (rule(ctx, eperm, mode_args[i].name, 1, &c) < 0)
                return -1;
        }
    }
    if (rule(ctx, SCMP_ACT_ERRNO(ENOSYS), "openat2", 0, NULL) < 0)
        return -1;

    /* personality: only PER_LINUX (0) and the query (0xffffffff). A 32-bit value is neither iff
     * bit 0 and some other bit differ, which masked equality can express bit by bit. */
    for (unsigned bit = 1; bit < 32; bit++) {
        unsigned long mask = 1UL | (1UL << bit);
        struct scmp_arg_cmp c1 = SCMP_A0(SCMP_CMP_MASKED_EQ, mask, 1UL);
        struct scmp_arg_cmp c2 = SCMP_A0(SCMP_CMP_MASKED_EQ, mask, 1UL << bit);
        if (rule(ctx, eperm, "personality", 1, &c1) < 0)
            return -1;
        if (rule(ctx, eperm, "personality", 1, &c2) < 0)
            return -1;
    }
    return 0;
}

/* The Landlock jail shares the host's network stack and filesystem, so sockets are narrowed
 * further. socket(AF_UNIX): Landlock (up to ABI 7) does not restrict connect() to an existing
 * pathname socket (/var/run/docker.sock, a session bus), and an abstract one needs the scope of
 * ABI 6; socketpair, which reaches nothing outside, stays (Python uses it). Inet sockets: Landlock
 * rules cover TCP only, so only SOCK_STREAM with protocol 0 or IPPROTO_TCP (6) may be created (no
 * UDP, raw, SCTP or MPTCP). The kernel reads type and protocol as ints and the type's low four
 * bits (SOCK_TYPE_MASK) as the type; the protocol test compares all 64 bits, so a value whose
 * low half is 6 but whose high half is not zero is refused too (harmless: no caller does that). */
static int add_landlock_socket_rules(scmp_filter_ctx ctx)
{
    const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
    struct scmp_arg_cmp unix_family = SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffUL, AF_UNIX);
    if (rule(ctx, eperm, "socket", 1, &unix_family) < 0)
        return -1;
    static const unsigned families[] = {AF_INET, AF_INET6};
    for (size_t f = 0; f < 2; f++) {
        struct scmp_arg_cmp c[2] = {SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffUL, families[f])};
        for (unsigned type = 0; type < 16; type++) {
            if (type == SOCK_STREAM)
                continue;
            c[1] = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xfUL, type);
            if (rule(ctx, eperm, "socket", 2, c) < 0)
                return -1;
        }
        c[1] = SCMP_A2(SCMP_CMP_GE, IPPROTO_TCP + 1);
        if (rule(ctx, eperm, "socket", 2, c) < 0)
            return -1;
        for (unsigned proto = 1; proto < IPPROTO_TCP; proto++) {
            c[1] = SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffUL, proto);
            if (rule(ctx, eperm, "socket", 2, c) < 0)
                return -1;
        }
    }
    return 0;
}

static void build(void)
{
    int which = building;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        snprintf(build_error[which], sizeof build_error[0], "seccomp_init failed");
        return;
    }
    int fd = -1;
    /* only the native ABI is in the filter: i386 (int 0x80) and x32 syscalls are "bad arch" */
    if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0 ||
        seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0) {
        snprintf(build_error[which], sizeof build_error[0], "seccomp_attr_set failed");
        goto out;
    }
    /* a binary tree of syscall numbers rather than a chain (older libseccomp: ignored) */
    (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
    if (add_rules(ctx) < 0 || (which == 1 && add_landlock_socket_rules(ctx) < 0))
        goto out;
    fd = memfd_create("warden-seccomp", MFD_CLOEXEC);
    if (fd < 0) {
        snprintf(build_error[which], sizeof build_error[0], "memfd_create: %s", strerror(errno));
        goto out;
    }
    int rc = seccomp_export_bpf(ctx, fd);
    if (rc < 0) {
        snprintf(build_error[which], sizeof build_error[0], "seccomp_export_bpf: %s",
                 strerror(-rc));
        goto out;
    }
    off_t size = lseek(fd, 0, SEEK_END);
    if (size <= 0 || size % sizeof(struct sock_filter) != 0 ||
        size / sizeof(struct sock_filter) > BPF_MAXINSNS) {
        snprintf(build_error[which], sizeof build_error[0], "seccomp program has a bad size (%ld)",
                 (long)size);
        goto out;
    }
    struct sock_filter *f = malloc((size_t)size);
    if (!f || pread(fd, f, (size_t)size, 0) != size) {
        free(f);
        snprintf(build_error[which], sizeof build_error[0], "reading the seccomp program failed");
        goto out;
    }
    program[which].filter = f;
    program[which].len = (unsigned short)(size / sizeof(struct sock_filter));
out:
    if (fd >= 0)
        close(fd);
    seccomp_release(ctx);
}

static void build_namespaces(void)
{
    building = 0;
    build();
}

static void build_landlock(void)
{
    building = 1;
    build();
}

int jail_seccomp_program(struct sock_fprog *out, bool landlock, char *err, size_t errlen)
{
    int which = landlock ? 1 : 0;
    pthread_once(&once[which], landlock ? build_landlock : build_namespaces);
    if (!program[which].filter) {
        snprintf(err, errlen, "cannot build the seccomp filter: %s", build_error[which]);
        return -1;
    }
    *out = program[which];
    return 0;
}

const char *jail_seccomp_summary(bool landlock)
{
    if (landlock)
        return "deny list with EPERM, clone3 ENOSYS, namespace clone flags, TIOCSTI/TIOCLINUX, "
               "socket families other than unix/inet/inet6, socket(AF_UNIX) (socketpair allowed), "
               "inet sockets other than TCP, set-id mode bits; other ABIs (ia32, x32) kill the "
               "process";
    return "deny list with EPERM, clone3 ENOSYS, namespace clone flags, TIOCSTI/TIOCLINUX, socket "
           "families other than unix/inet/inet6, set-id mode bits; other ABIs (ia32, x32) kill the "
           "process";
}

/* ---- child side ---- */
void jc_install_seccomp(const struct jail_plan *plan)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        jc_fail("PR_SET_NO_NEW_PRIVS", errno);
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &plan->seccomp) < 0)
        jc_fail("seccomp", errno);
}
