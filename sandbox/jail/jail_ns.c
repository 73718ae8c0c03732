/* Namespaces and ids: which host uid the jail's user 1000 is, writing the maps, explaining why user
 * namespaces are unavailable, and (child side) the uts/net namespace setup and capability drop. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "jail_internal.h"

/* Mapping of the jail's uid/gid 1000 to the host:
 *  - ordinary user: to the user's own uid/gid (the only mapping an unprivileged process may
 *    write); setgroups is denied first, as the kernel requires.
 *  - root: to JAIL_ROOT_HOST_ID, a uid that owns nothing on the host, so that even a process that
 *    escaped every other layer would hold no file and no process of the host. Always, also when
 *    the workdir is writable: the notebook directory is then an idmapped mount (jail_idmap.c) on
 *    which its owner appears as the jail's user, so writes work and land owned by that owner,
 *    while the jail's processes never hold the owner's (often root's) host uid. */
void jail_choose_ids(uid_t *uid, gid_t *gid, bool *deny_setgroups)
{
    if (geteuid() != 0) {
        *uid = geteuid();
        *gid = getegid();
        *deny_setgroups = true;
        return;
    }
    *uid = JAIL_ROOT_HOST_ID;
    *gid = JAIL_ROOT_HOST_ID;
    *deny_setgroups = false;
}

static int write_proc_file(pid_t pid, const char *name, const char *text, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    if (n != (ssize_t)strlen(text)) {
        snprintf(err, errlen, "write %s (\"%.*s\"): %s", path, (int)strcspn(text, "\n"), text,
                 n < 0 ? strerror(e) : "short write");
        return -1;
    }
    return 0;
}

int jail_write_map(pid_t pid, const char *file, unsigned inside, unsigned outside, char *err,
                   size_t errlen)
{
    char map[64];
    snprintf(map, sizeof map, "%u %u 1\n", inside, outside);
    return write_proc_file(pid, file, map, err, errlen);
}

int jail_write_id_maps(pid_t pid, const struct jail_plan *plan, char *err, size_t errlen)
{
    if (plan->deny_setgroups && write_proc_file(pid, "setgroups", "deny", err, errlen) < 0)
        return -1;
    if (jail_write_map(pid, "uid_map", JAIL_UID, (unsigned)plan->outside_uid, err, errlen) < 0)
        return -1;
    return jail_write_map(pid, "gid_map", JAIL_GID, (unsigned)plan->outside_gid, err, errlen);
}

static long read_long(const char *path, long dflt)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return dflt;
    long v = dflt;
    if (fscanf(f, "%ld", &v) != 1)
        v = dflt;
    fclose(f);
    return v;
}

void jail_userns_diagnose(int err, char *why, size_t len)
{
    if (len)
        why[0] = '\0';
    bool root = geteuid() == 0;
    if (!root && read_long("/proc/sys/kernel/unprivileged_userns_clone", 1) == 0) {
        snprintf(
            why, len,
            "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0); "
            "enable them with: sudo sysctl -w kernel.unprivileged_userns_clone=1 (persist it "
            "in /etc/sysctl.d/)");
        return;
    }
    if (read_long("/proc/sys/user/max_user_namespaces", 1) == 0) {
        snprintf(why, len,
                 "user namespaces are disabled (user.max_user_namespaces = 0); enable them with: "
                 "sudo sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/)");
        return;
    }
    if (!root && read_long("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", 0) == 1) {
        snprintf(why, len,
                 "AppArmor restricts unprivileged user namespaces "
                 "(kernel.apparmor_restrict_unprivileged_userns = 1); either allow them with: sudo "
                 "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or give the warden "
                 "binary an AppArmor profile with the 'userns,' rule");
        return;
    }
    switch (err) {
    case ENOSPC:
        snprintf(why, len,
                 "the limit of user namespaces is reached (user.max_user_namespaces, or nesting "
                 "deeper than 32 levels); raise it with: sudo sysctl -w "
                 "user.max_user_namespaces=15000");
        break;
    case ENOSYS:
    case EINVAL:
        snprintf(why, len,
                 "this kernel lacks the namespaces the jail needs (user, pid, mount, net, ipc, "
                 "uts, cgroup): use a Linux kernel >= 5.4 built with CONFIG_USER_NS");
        break;
    case EPERM:
    case EACCES: {
        bool container =
            access("/.dockerenv", F_OK) == 0 || access("/run/.containerenv", F_OK) == 0;
        snprintf(why, len,
                 "something forbids creating user namespaces here: %s; check with: unshare "
                 "--user --map-root-user --pid --fork --mount-proc true",
                 container ? "this looks like a container, whose seccomp profile usually does "
                             "(run it with --security-opt seccomp=unconfined --security-opt "
                             "apparmor=unconfined, or --privileged)"
                           : "a seccomp filter (another sandbox or container around warden), an "
                             "LSM policy (AppArmor, SELinux), or a hardened kernel");
        break;
    }
    default:
        break;
    }
}

/* ---- child side ---- */

void jc_setup_net_uts(void)
{
    if (sethostname("warden", 6) < 0)
        jc_fail("sethostname", errno);
    if (setdomainname("(none)", 6) < 0)
        jc_fail("setdomainname", errno);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        jc_fail("socket for lo", errno);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        jc_fail("SIOCGIFFLAGS lo", errno);
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        jc_fail("SIOCSIFFLAGS lo up", errno);
    close(s);
}

#ifndef SECBIT_NOROOT
#define SECBIT_NOROOT                      (1 << 0)
#define SECBIT_NOROOT_LOCKED               (1 << 1)
#define SECBIT_NO_SETUID_FIXUP             (1 << 2)
#define SECBIT_NO_SETUID_FIXUP_LOCKED      (1 << 3)
#define SECBIT_KEEP_CAPS_LOCKED            (1 << 5)
#define SECBIT_NO_CAP_AMBIENT_RAISE        (1 << 6)
#define SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED (1 << 7)
#endif

void jc_drop_bounding_set(void)
{
    for (int cap = 0; cap < 64; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            if (errno == EINVAL)
                break; /* past the last capability this kernel knows */
            jc_fail("PR_CAPBSET_DROP", errno);
        }
    }
}

void jc_clear_caps(void)
{
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        jc_fail("PR_CAP_AMBIENT_CLEAR_ALL", errno);
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) < 0)
        jc_fail("capset", errno);
}

void jc_drop_caps(void)
{
    /* bounding set first: dropping it needs CAP_SETPCAP, which goes with the rest below */
    jc_drop_bounding_set();
    /* uid 0 (not mapped anyway) gets no capabilities on execve, locked */
    if (prctl(PR_SET_SECUREBITS,
              SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                  SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
              0, 0, 0) < 0)
        jc_fail("PR_SET_SECUREBITS", errno);
    jc_clear_caps();
}
