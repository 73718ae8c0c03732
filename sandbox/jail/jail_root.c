/* The child side of the jail's root filesystem: executes the plan jail_mount.c made (bind,
 * tmpfs, proc, files, masks), then pivots into the new root (see jail_mount.c for the steps).
 * Runs in the cloned child before exec: no allocation, errors end the child (jc_fail). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h> /* ST_* flags */
#include <sys/syscall.h>
#include <unistd.h>

#include "jail_internal.h"

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_pivot_root
#define SYS_pivot_root 155
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
/* from linux/mount.h, which clashes with glibc's sys/mount.h on some versions */
struct jail_mount_attr {
    uint64_t attr_set;
    uint64_t attr_clr;
    uint64_t propagation;
    uint64_t userns_fd;
};
#define JAIL_MOUNT_ATTR_RDONLY 0x00000001
#define JAIL_MOUNT_ATTR_NOSUID 0x00000002
#define JAIL_MOUNT_ATTR_NODEV  0x00000004
#define JAIL_MOUNT_ATTR_NOEXEC 0x00000008

static void jc_mkdirs(const char *path, unsigned mode)
{
    char p[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof p)
        jc_fail2("path too long:", path, 0);
    memcpy(p, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] == '/' || p[i] == '\0') {
            char c = p[i];
            p[i] = '\0';
            if (mkdir(p, mode) < 0 && errno != EEXIST)
                jc_fail2("mkdir", p, errno);
            p[i] = c;
        }
    }
}

static void jc_parent_dirs(const char *path)
{
    char p[PATH_MAX];
    size_t len = strlen(path);
    if (len >= sizeof p)
        jc_fail2("path too long:", path, 0);
    memcpy(p, path, len + 1);
    char *slash = strrchr(p, '/');
    if (slash && slash != p) {
        *slash = '\0';
        jc_mkdirs(p, 0755);
    }
}

static void jc_touch(const char *path, unsigned mode)
{
    jc_parent_dirs(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        jc_fail2("create", path, errno);
    close(fd);
}

/* Apply flags to a bind mount (and, where the kernel allows, every mount below it). Inside a user
 * namespace the flags the mount had when it was "locked" (nosuid, nodev, noexec, atime) must be
 * kept, or the kernel refuses the remount: mount_setattr only adds flags; the fallback reads the
 * current ones (statfs f_flags, what statvfs reports) and keeps them. */
static void jc_restrict(const char *path, bool rdonly, bool nodev, bool noexec)
{
    struct jail_mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = JAIL_MOUNT_ATTR_NOSUID | (rdonly ? JAIL_MOUNT_ATTR_RDONLY : 0) |
                    (nodev ? JAIL_MOUNT_ATTR_NODEV : 0) | (noexec ? JAIL_MOUNT_ATTR_NOEXEC : 0);
    if (syscall(SYS_mount_setattr, AT_FDCWD, path, AT_RECURSIVE, &attr, sizeof attr) == 0)
        return;
    /* statfs, not statvfs: glibc's statvfs may read /proc/mounts (stdio, malloc) */
    struct statfs sf;
    if (statfs(path, &sf) < 0)
        jc_fail2("statfs", path, errno);
    unsigned long have = (unsigned long)sf.f_flags;
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_NOSUID;
    if (rdonly)
        flags |= MS_RDONLY;
    if (nodev || (have & ST_NODEV))
        flags |= MS_NODEV;
    if (noexec || (have & ST_NOEXEC))
        flags |= MS_NOEXEC;
    if (have & ST_NOATIME)
        flags |= MS_NOATIME;
    if (have & ST_NODIRATIME)
        flags |= MS_NODIRATIME;
    if (have & ST_RELATIME)
        flags |= MS_RELATIME;
    if (mount(NULL, path, NULL, flags, NULL) < 0)
        jc_fail2("remount read-only", path, errno);
}

/* Bind sources are opened (O_PATH) right after the clone, before the uid change: as root, the
 * jail's uid owns nothing on the host and could not even traverse a 0700 directory such as /root
 * that leads to the notebook. They are then bound through /proc/self/fd (the host's proc, under
 * the old root), and closed. */
#define JC_MAX_SOURCES 256
static int jc_src_fd[JC_MAX_SOURCES];

static bool jc_is_bind(const struct jail_mount *m)
{
    return m->kind == JM_BIND || m->kind == JM_DEVBIND || (m->kind == JM_MASK && !m->src_is_dir);
}

void jc_open_sources(const struct jail_plan *plan)
{
    for (size_t i = 0; i < plan->nmounts && i < JC_MAX_SOURCES; i++) {
        const struct jail_mount *m = &plan->mounts[i];
        jc_src_fd[i] = -1;
        if (!jc_is_bind(m))
            continue;
        int fd = open(m->src, O_PATH | O_CLOEXEC | (m->src_is_dir ? O_DIRECTORY : 0));
        if (fd < 0) {
            if (m->optional && (errno == ENOENT || errno == EACCES || errno == ENOTDIR))
                continue;
            if (errno == EACCES)
                jc_fail2("the jail cannot reach", m->src,
                         EACCES); /* e.g. root's kernel, a directory of another user */
            jc_fail2("open", m->src, errno);
        }
        jc_src_fd[i] = fd;
    }
    if (plan->nmounts > JC_MAX_SOURCES)
        jc_fail("too many mounts", E2BIG);
}

/* "/oldroot/proc/self/fd/N" */
static void jc_fd_path(char *out, size_t len, int fd)
{
    static const char prefix[] = JAIL_OLDROOT "/proc/self/fd/";
    char digits[16];
    int n = 0;
    unsigned v = (unsigned)fd;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < (int)sizeof digits);
    if (sizeof prefix + (size_t)n > len)
        jc_fail("fd path too long", 0);
    memcpy(out, prefix, sizeof prefix - 1);
    for (int i = 0; i < n; i++)
        out[sizeof prefix - 1 + (size_t)i] = digits[n - 1 - i];
    out[sizeof prefix - 1 + (size_t)n] = '\0';
}

static void jc_do(const struct jail_mount *m, int src_fd)
{
    char src[64];
    switch (m->kind) {
    case JM_DIR:
        jc_mkdirs(m->dst, m->mode ? m->mode : 0755);
        break;
    case JM_BIND:
        if (src_fd < 0)
            return; /* optional and absent */
        jc_fd_path(src, sizeof src, src_fd);
        if (m->src_is_dir)
            jc_mkdirs(m->dst, 0755);
        else
            jc_touch(m->dst, 0644);
        if (mount(src, m->dst, NULL, MS_BIND | MS_REC, NULL) < 0)
            jc_fail2("bind", m->src, errno);
        close(src_fd);
        jc_restrict(m->dst, !m->rw, true, false);
        break;
    case JM_DEVBIND:
        if (src_fd < 0)
            jc_fail2("missing device", m->src, ENOENT);
        jc_fd_path(src, sizeof src, src_fd);
        jc_touch(m->dst, 0666);
        if (mount(src, m->dst, NULL, MS_BIND, NULL) < 0)
            jc_fail2("bind", m->src, errno);
        close(src_fd);
        jc_restrict(m->dst, false, false, true);
        break;
    case JM_TMPFS:
        jc_mkdirs(m->dst, 0755);
        if (mount("tmpfs", m->dst, "tmpfs", m->flags, m->data) < 0)
            jc_fail2("mount tmpfs on", m->dst, errno);
        break;
    case JM_PROC:
        jc_mkdirs(m->dst, 0555);
        if (mount("proc", m->dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
            jc_fail2("mount a fresh /proc on", m->dst, errno);
        break;
    case JM_DEVPTS:
        jc_mkdirs(m->dst, 0755);
        if (mount("devpts", m->dst, "devpts", MS_NOSUID | MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=0620") < 0 &&
            !m->optional)
            jc_fail2("mount devpts on", m->dst, errno);
        break;
    case JM_RO_OVER:
        if (mount(m->dst, m->dst, NULL, MS_BIND | MS_REC, NULL) < 0) {
            if (m->optional && errno == ENOENT)
                return;
            jc_fail2("bind", m->dst, errno);
        }
        jc_restrict(m->dst, true, true, true);
        break;
    case JM_MASK:
        if (m->src_is_dir) {
            if (mount("tmpfs", m->dst, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      "size=4k,nr_inodes=1,mode=000") < 0)
                jc_fail2("hide", m->dst + sizeof JAIL_NEWROOT - 1, errno);
        } else {
            if (src_fd < 0)
                jc_fail2("hide", m->dst + sizeof JAIL_NEWROOT - 1, ENOENT);
            jc_fd_path(src, sizeof src, src_fd);
            if (mount(src, m->dst, NULL, MS_BIND, NULL) < 0)
                jc_fail2("hide", m->dst + sizeof JAIL_NEWROOT - 1, errno);
            close(src_fd);
            jc_restrict(m->dst, true, true, true);
        }
        break;
    case JM_WORKDIR_TREE:
        /* The parent built this mount (idmapped, nosuid, nodev, read-only unless writable) in
         * the host's namespaces, where it may (jail_idmap.c); attaching it needs only what we
         * hold here, CAP_SYS_ADMIN over our own mount namespace. A detached mount is attached
         * once; closing the fd afterwards leaves it in place. */
        jc_mkdirs(m->dst, 0755);
        if (move_mount(JC_FD_WORKDIR, "", AT_FDCWD, m->dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
            jc_fail2("attach the idmapped mount of", m->dst + sizeof JAIL_NEWROOT - 1, errno);
        close(JC_FD_WORKDIR);
        /* the parent made it private already; nothing mounted on it may reach the host */
        if (mount(NULL, m->dst, NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            jc_fail2("make private", m->dst + sizeof JAIL_NEWROOT - 1, errno);
        break;
    case JM_SEAL:
        if (mount(NULL, m->dst, NULL, MS_REMOUNT | MS_RDONLY | m->flags, NULL) < 0)
            jc_fail2("remount read-only", m->dst, errno);
        break;
    case JM_SYMLINK:
        jc_parent_dirs(m->dst);
        if (symlink(m->data, m->dst) < 0 && errno != EEXIST)
            jc_fail2("symlink", m->dst, errno);
        break;
    case JM_FILE: {
        jc_parent_dirs(m->dst);
        int fd = open(m->dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                      m->mode ? m->mode : 0644);
        if (fd < 0)
            jc_fail2("create", m->dst, errno);
        if (jc_write_all(fd, m->data, m->data_len) < 0)
            jc_fail2("write", m->dst, errno);
        close(fd);
        break;
    }
    }
}

void jc_build_root(const struct jail_plan *plan)
{
    /* nothing we do here may propagate back to the host */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        jc_fail("make / rprivate", errno);
    /* staging root on /tmp (of this private mount namespace only) */
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k,nr_inodes=16") <
        0)
        jc_fail("mount the staging tmpfs", errno);
    if (chdir("/tmp") < 0)
        jc_fail("chdir staging", errno);
    if (mkdir("newroot", 0755) < 0)
        jc_fail("mkdir newroot", errno);
    if (mount("tmpfs", "newroot", "tmpfs", MS_NOSUID | MS_NODEV,
              "mode=0755,size=1m,nr_inodes=4096") < 0)
        jc_fail("mount the root tmpfs", errno);
    if (mkdir("oldroot", 0755) < 0)
        jc_fail("mkdir oldroot", errno);
    if (syscall(SYS_pivot_root, ".", "oldroot") < 0)
        jc_fail("pivot_root (staging)", errno);
    if (chdir("/") < 0)
        jc_fail("chdir /", errno);

    for (size_t i = 0; i < plan->nmounts; i++)
        jc_do(&plan->mounts[i], jc_src_fd[i]);

    /* forget the host, then make /newroot the root */
    if (umount2(JAIL_OLDROOT, MNT_DETACH) < 0)
        jc_fail("detach the old root", errno);
    if (chdir(JAIL_NEWROOT) < 0)
        jc_fail("chdir newroot", errno);
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        jc_fail("pivot_root", errno);
    if (umount2(".", MNT_DETACH) < 0)
        jc_fail("detach the staging root", errno);
    if (chdir("/") < 0)
        jc_fail("chdir /", errno);
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
        jc_fail("remount / read-only", errno);
    if (plan->workdir && chdir(plan->workdir) < 0)
        jc_fail2("chdir", plan->workdir, errno);
}
