/* The Landlock jail's ruleset, built by the parent for each worker (the child only calls
 * landlock_restrict_self on the fd: no allocation after the clone). Landlock is an allow-list
 * enforced by the kernel on the worker and everything it starts, stacked with seccomp
 * (jail_seccomp.c), rlimits and a uid of its own where the kernel may give one
 * (jail_landlock_init.c); which paths it allows is jail_landlock_fs.c.
 *
 * Every ABI >= 1 is used best effort: the ruleset handles every right the kernel knows (an
 * unhandled right is simply not restricted), and jail_landlock_describe says what is missing.
 * "auto" accepts the Landlock jail only from ABI 4 (JAIL_LANDLOCK_MIN_AUTO_ABI): before it TCP is
 * not restricted at all, so the worker could reach any host, the exfiltration the jail exists to
 * stop; a forced "landlock" runs on older ABIs, loudly. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail_internal.h"
#include "landlock_abi.h"

#include <linux/capability.h>

static pthread_once_t abi_once = PTHREAD_ONCE_INIT;
static int abi_cached;

static void probe_abi(void)
{
    long v = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
    abi_cached = v > 0 && v < 1000 ? (int)v : 0; /* ENOSYS: not built in; EOPNOTSUPP: disabled */
}

int jail_landlock_abi(void)
{
    pthread_once(&abi_once, probe_abi);
    return abi_cached;
}

bool jail_landlock_own_ids(void)
{
    if (geteuid() != 0)
        return false;
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &hdr, data) < 0)
        return false;
    uint32_t eff = data[0].effective;
    return (eff & (1u << CAP_SETUID)) && (eff & (1u << CAP_SETGID));
}

/* The permission bits that apply to uid:gid (no supplementary groups) on `st`. */
static unsigned bits_for(const struct stat *st, uid_t uid, gid_t gid)
{
    if (st->st_uid == uid)
        return (st->st_mode >> 6) & 7;
    if (st->st_gid == gid)
        return (st->st_mode >> 3) & 7;
    return st->st_mode & 7;
}

/* May uid:gid pass every directory above `dir` (resolved) and list it (write it too)? */
static bool may_use(const char *dir, uid_t uid, gid_t gid, bool write)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", dir);
    struct stat st;
    if (stat(path, &st) < 0 || (bits_for(&st, uid, gid) & (write ? 7 : 5)) != (write ? 7u : 5u))
        return false;
    for (char *slash = strrchr(path, '/'); slash; slash = strrchr(path, '/')) {
        *slash = '\0';
        if (stat(path[0] ? path : "/", &st) < 0 || !(bits_for(&st, uid, gid) & 1))
            return false;
        if (!path[0])
            break;
    }
    return true;
}

int jail_landlock_choose_ids(const char *workdir, bool writable, uid_t *uid, gid_t *gid,
                             bool *switch_ids, char *err, size_t errlen)
{
    *switch_ids = jail_landlock_own_ids();
    *uid = geteuid();
    *gid = getegid();
    if (!*switch_ids)
        return 0;
    *uid = *gid = JAIL_ROOT_HOST_ID;
    if (!workdir || may_use(workdir, *uid, *gid, writable))
        return 0;
    /* The owner of the notebook directory, when it is an ordinary user: the namespace jail shows
     * its files as the jail's own (an idmapped mount); here the worker takes the owner's uid,
     * which gains it nothing outside its Landlock rules (scoped signals aside, see doctor). */
    struct stat st;
    if (stat(workdir, &st) == 0 && st.st_uid != 0 &&
        may_use(workdir, st.st_uid, st.st_gid, writable)) {
        *uid = st.st_uid;
        *gid = st.st_gid;
        return 0;
    }
    snprintf(err, errlen,
             "the Landlock jail runs as uid %u, which may not %s the notebook directory %s, and "
             "its owner is root: make it %s (chmod o+%s, and o+x on the directories above), or "
             "give it to an ordinary user, or start warden as that user",
             JAIL_ROOT_HOST_ID, writable ? "write" : "read", workdir,
             writable ? "writable for others" : "readable for others", writable ? "rwx" : "rx");
    return -1;
}

/* The filesystem rights this ABI knows (all handled: what is handled and not allowed is denied). */
static uint64_t handled_fs(int abi)
{
    uint64_t fs = (LL_FS_MAKE_SYM << 1) - 1; /* ABI 1: EXECUTE .. MAKE_SYM */
    if (abi >= 2)
        fs |= LL_FS_REFER;
    if (abi >= 3)
        fs |= LL_FS_TRUNCATE;
    if (abi >= 5)
        fs |= LL_FS_IOCTL_DEV;
    return fs;
}

int jail_landlock_ruleset(const struct sandbox_config *cfg, const char *workdir,
                          const char *scratch, int abi, char *err, size_t errlen)
{
    if (abi < 1) {
        snprintf(err, errlen,
                 "this kernel has no Landlock (Linux >= 5.13 with CONFIG_SECURITY_"
                 "LANDLOCK=y and landlock in the lsm= boot list)");
        return -1;
    }
    struct ll_ruleset_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.handled_access_fs = handled_fs(abi);
    size_t size = LL_RULESET_ATTR_SIZE_V1;
    if (abi >= 4) {
        /* handled with no port rule: every TCP bind and connect is refused */
        attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
        size = LL_RULESET_ATTR_SIZE_V4;
    }
    if (abi >= 6) {
        /* no signal to, and no abstract unix socket of, any process outside this worker's domain
         * (the kernel, other workers, the host's processes of the same uid) */
        attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
        size = LL_RULESET_ATTR_SIZE_V6;
    }
    int fd = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
    if (fd < 0) {
        snprintf(err, errlen, "landlock_create_ruleset (ABI %d): %s", abi, strerror(errno));
        return -1;
    }
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
        jail_landlock_add_paths(fd, attr.handled_access_fs, cfg, workdir, scratch, err, errlen) <
            0) {
        if (!err[0])
            snprintf(err, errlen, "landlock ruleset: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int jail_landlock_add_rule(int ruleset, const char *path, uint64_t access, uint64_t handled,
                           bool is_dir)
{
    int fd = open(path, O_PATH | O_CLOEXEC | (is_dir ? O_DIRECTORY : 0));
    if (fd < 0)
        return -1;
    struct ll_path_beneath_attr pb = {
        .allowed_access = access & handled & (is_dir ? ~0ULL : LL_FS_FILE_RIGHTS),
        .parent_fd = fd,
    };
    long r = pb.allowed_access
                 ? syscall(__NR_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0)
                 : 0;
    int e = errno;
    close(fd);
    errno = e;
    return r < 0 ? -1 : 0;
}

void jail_landlock_describe(int abi, char *out, size_t len)
{
    if (abi < 1) {
        snprintf(out, len, "no Landlock on this kernel (needs Linux >= 5.13 with Landlock on)");
        return;
    }
    size_t used = (size_t)snprintf(
        out, len,
        "Landlock ABI %d: filesystem allow-list (read-only system, runtime and notebook "
        "directory, a private scratch directory as HOME and TMPDIR, nothing else); seccomp (%s); "
        "no_new_privs; rlimits; %s",
        abi, jail_seccomp_summary(true),
        jail_landlock_own_ids() ? "a uid of its own (2000000, or the notebook directory's owner "
                                  "where only it may read it: the kernel runs as root)"
                                : "the kernel's own uid (the kernel is not root with CAP_SETUID)");
    const char *missing[] = {
        abi < 2 ? "files cannot be moved or linked between directories (ABI < 2)" : NULL,
        abi < 3 ? "truncate(2) is not restricted: files the jail may only read can be emptied "
                  "(ABI < 3)"
                : NULL,
        abi < 4 ? "TCP connect and bind are NOT restricted: the jail can reach the network (ABI < "
                  "4; \"auto\" refuses this)"
                : NULL,
        abi < 5 ? "ioctl on the allowed devices is not restricted (ABI < 5)" : NULL,
        abi < 6 ? "signals are not scoped: the jail can signal every process of its uid (ABI < 6)"
                : NULL,
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++)
        if (missing[i] && used < len)
            used += (size_t)snprintf(out + used, len - used, "; MISSING: %s", missing[i]);
    if (used < len)
        snprintf(out + used, len - used,
                 ". It cannot hold what needs namespaces: other processes are visible in /proc "
                 "(their command lines, not their memory or environment), the host's network "
                 "interfaces are listed, there is no pty and no /dev/shm");
}
