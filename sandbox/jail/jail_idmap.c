/* The notebook directory, as the jail sees it (parent side).
 *
 * As root the jail's user is host uid/gid JAIL_ROOT_HOST_ID, which owns nothing: it could not read
 * a private directory (anything under /root, a mkdtemp folder), and a writable one would get files
 * of a stranger. So the directory is shown through an idmapped bind mount (Linux >= 5.12, a
 * filesystem that allows it): through that mount, and only there, the directory's owner appears
 * as the jail's user. Reads then work by the owner's permission bits, writes (when the workdir is
 * writable) land owned by the owner on the host, and the jail's processes still never hold the
 * owner's host uid (root's, for /root). Nothing else of the host is mapped: files of other owners
 * below the directory show as nobody and are reached by their "other" bits, as before.
 *
 * The steps, all taken here in the kernel process (root in the host's namespaces):
 *   1. open_tree(OPEN_TREE_CLONE | AT_RECURSIVE): a detached copy of the directory's mount
 *      tree, not attached anywhere (nothing of the host's mount table changes).
 *   2. a user namespace whose only mapping is "owner of that copy -> jail uid" (and the same for
 *      the group), held by a child that does nothing (spawn_userns_holder); we keep a file of
 *      the namespace and let the child go. It grants nothing to anyone: no process runs in it.
 *   3. mount_setattr on the copy, recursively: MOUNT_ATTR_IDMAP with that namespace, NOSUID,
 *      NODEV, RDONLY unless writable, and private propagation (a copy of a shared mount is its
 *      peer). The kernel refuses (EINVAL) a filesystem without idmapping: we fall back.
 *   4. the jail's init inherits the mount's fd (JC_FD_WORKDIR) and move_mount()s it onto the
 *      workdir inside its new root (jail_root.c), before it drops every capability.
 *
 * Unprivileged, the jail's user is the user who owns the directory: a plain bind, no idmap (it
 * could not be made anyway: it needs CAP_SYS_ADMIN over the filesystem). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jail_internal.h"

/* Can uid:gid list and enter this directory (supplementary groups aside)? */
static bool reachable(const struct stat *st, uid_t uid, gid_t gid)
{
    unsigned need = 05;
    unsigned bits = st->st_uid == uid   ? (st->st_mode >> 6) & 07
                    : st->st_gid == gid ? (st->st_mode >> 3) & 07
                                        : st->st_mode & 07;
    return (bits & need) == need;
}

/* The filesystem's name for messages (statfs f_type; the usual ones). */
static void fs_name(const char *dir, char *out, size_t len)
{
    static const struct {
        unsigned long magic;
        const char *name;
    } known[] = {
        {0xEF53, "ext4"},         {0x58465342, "xfs"},   {0x9123683E, "btrfs"},
        {0x01021994, "tmpfs"},    {0x858458F6, "ramfs"}, {0x794C7630, "overlayfs"},
        {0x6969, "nfs"},          {0x65735546, "fuse"},  {0x01021997, "9p (v9fs)"},
        {0x4D44, "vfat"},         {0x2FC12FC1, "zfs"},   {0xFF534D42, "cifs"},
        {0xF2F52010, "f2fs"},     {0x5346544E, "ntfs"},  {0x73717368, "squashfs"},
        {0x9660, "iso9660"},      {0x62656572, "sysfs"}, {0x9FA0, "proc"},
        {0xCA451A4E, "bcachefs"}, {0x6E736673, "nsfs"},
    };
    struct statfs sf;
    if (statfs(dir, &sf) < 0) {
        snprintf(out, len, "an unknown filesystem");
        return;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if ((unsigned long)sf.f_type == known[i].magic) {
            snprintf(out, len, "%s", known[i].name);
            return;
        }
    }
    snprintf(out, len, "a filesystem of type 0x%lx", (unsigned long)sf.f_type);
}

/* Step 2: a file of a user namespace mapping the on-disk owner to the jail's user. -1 with err. */
static int owner_to_jail_userns(const struct stat *st, uid_t jail_uid, gid_t jail_gid, char *err,
                                size_t len)
{
    int hold[2];
    if (pipe2(hold, O_CLOEXEC) < 0) {
        snprintf(err, len, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = spawn_userns_holder(hold[0], hold[1]);
    if (pid < 0) {
        snprintf(err, len, "a user namespace for the mapping: %s", strerror(errno));
        close(hold[0]);
        close(hold[1]);
        return -1;
    }
    close(hold[0]);
    /* an idmapped mount reads its namespace's map "down": an on-disk id in the first column is
     * seen as the kernel id in the second, and a file the jail creates (its fsuid is the second
     * column) is stored as the first */
    int fd = -1;
    if (jail_write_map(pid, "uid_map", (unsigned)st->st_uid, (unsigned)jail_uid, err, len) == 0 &&
        jail_write_map(pid, "gid_map", (unsigned)st->st_gid, (unsigned)jail_gid, err, len) == 0) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/user", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            snprintf(err, len, "open %s: %s", path, strerror(errno));
    }
    close(hold[1]); /* EOF: the holder exits; the namespace lives on in fd */
    while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {
    }
    return fd;
}

/* Step 3 on the detached copy `tree`. 0 or -1 with errno. */
static int idmap_tree(int tree, int userns_fd, bool writable)
{
    struct mount_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                    (writable ? 0 : MOUNT_ATTR_RDONLY);
    /* private: a clone of a shared mount (systemd makes / shared) joins its peer group, and
     * what the jail mounts on it (the masks over secrets) would propagate to the host */
    attr.propagation = MS_PRIVATE;
    attr.userns_fd = (uint64_t)userns_fd;
    return mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr);
}

/* Why the kernel said no, in words. */
static const char *idmap_refusal(int err)
{
    switch (err) {
    case EINVAL:
    case EOPNOTSUPP:
        return "no idmapped mounts on this filesystem (or on a mount below the directory)";
    case ENOSYS:
        return "this kernel has no idmapped mounts (Linux >= 5.12 has)";
    case EPERM:
        return "idmapped mounts are not permitted here (e.g. a rootless container)";
    default:
        return "the kernel refused an idmapped mount";
    }
}

/* No idmapped mount: a plain read-only bind if the jail's user may read the directory as it is,
 * else a refusal whose fix comes first (the message may be cut short on its way to the cell). */
static void fall_back(const char *dir, const struct stat *st, bool writable, uid_t jail_uid,
                      gid_t jail_gid, const char *reason, struct jail_workdir *out)
{
    char fs[64];
    fs_name(dir, fs, sizeof fs);
    if (!writable && reachable(st, jail_uid, jail_gid)) {
        out->how = JW_PLAIN;
        snprintf(out->detail, sizeof out->detail,
                 "plain read-only bind (readable by others): on %s, %s", fs, reason);
        return;
    }
    out->how = JW_REFUSED;
    snprintf(out->detail, sizeof out->detail,
             "the jail's user (host uid %u) cannot %s the working directory %s (owner uid %u, "
             "mode %03o): %smake it readable to others (chmod o+rx %s), or keep it on a "
             "filesystem with idmapped mounts (ext4, xfs, btrfs, tmpfs; in a container, a volume, "
             "not its overlayfs root). Here it is on %s: %s",
             (unsigned)jail_uid, writable ? "write to" : "read", dir, (unsigned)st->st_uid,
             (unsigned)(st->st_mode & 0777),
             writable ? "turn sandbox.workdir_writable off and " : "", dir, fs, reason);
}

void jail_workdir_prepare(const char *dir, bool writable, uid_t jail_uid, gid_t jail_gid,
                          struct jail_workdir *out)
{
    out->how = JW_PLAIN;
    out->tree_fd = -1;
    out->detail[0] = '\0';
    struct stat st;
    if (stat(dir, &st) < 0) {
        out->how = JW_REFUSED;
        snprintf(out->detail, sizeof out->detail, "working directory %s: %s", dir, strerror(errno));
        return;
    }
    if (geteuid() != 0) {
        if (reachable(&st, jail_uid, jail_gid)) {
            snprintf(out->detail, sizeof out->detail,
                     "plain %s bind (unprivileged: the jail's user is you, host uid %u)",
                     writable ? "writable" : "read-only", (unsigned)jail_uid);
            return;
        }
        out->how = JW_REFUSED;
        snprintf(out->detail, sizeof out->detail,
                 "you (host uid %u) cannot read the working directory %s (owner uid %u, mode "
                 "%03o): start warden from a directory of your own, or set sandbox.workdir",
                 (unsigned)jail_uid, dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
        return;
    }
    /* Step 1, and the owner taken from the copy itself (fstat), not from the path: what
     * is mapped is the owner of the very tree the jail gets, whatever happens to the path. */
    char why[256];
    int tree = open_tree(AT_FDCWD, dir,
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW);
    if (tree < 0 || fstat(tree, &st) < 0) {
        int e = errno;
        snprintf(why, sizeof why, "%s (open_tree: %s)", idmap_refusal(e), strerror(e));
        if (tree >= 0)
            close(tree);
        fall_back(dir, &st, writable, jail_uid, jail_gid, why, out);
        return;
    }
    int userns = owner_to_jail_userns(&st, jail_uid, jail_gid, why, sizeof why);
    if (userns < 0) {
        close(tree);
        fall_back(dir, &st, writable, jail_uid, jail_gid, why, out);
        return;
    }
    int rc = idmap_tree(tree, userns, writable);
    int e = errno;
    close(userns); /* the mount keeps its own reference to the mapping */
    if (rc < 0) {
        close(tree);
        snprintf(why, sizeof why, "%s (mount_setattr: %s)", idmap_refusal(e), strerror(e));
        fall_back(dir, &st, writable, jail_uid, jail_gid, why, out);
        return;
    }
    out->how = JW_IDMAPPED;
    out->tree_fd = tree;
    snprintf(out->detail, sizeof out->detail,
             "idmapped %s bind: its owner (uid %u, gid %u) appears as the jail's user (host uid "
             "%u)%s",
             writable ? "writable" : "read-only", (unsigned)st.st_uid, (unsigned)st.st_gid,
             (unsigned)jail_uid, writable ? ", and files written there belong to that owner" : "");
}

enum jail_workdir_how jail_workdir_check(const struct sandbox_config *cfg, char *how, size_t len)
{
    char real[PATH_MAX];
    if (jail_resolve_workdir(cfg->workdir, real, how, len) < 0)
        return JW_REFUSED;
    if (spawn_jail_kind(cfg) == SANDBOX_JAIL_LANDLOCK)
        return jail_landlock_workdir_check(real, cfg->workdir_writable, how, len);
    uid_t uid;
    gid_t gid;
    bool deny_setgroups;
    jail_choose_ids(&uid, &gid, &deny_setgroups);
    struct jail_workdir wd;
    jail_workdir_prepare(real, cfg->workdir_writable, uid, gid, &wd);
    if (wd.tree_fd >= 0)
        close(wd.tree_fd);
    if (wd.how == JW_REFUSED) /* the reason names the directory */
        snprintf(how, len, "%s", wd.detail);
    else
        snprintf(how, len, "%s: %s", real, wd.detail);
    return wd.how;
}
