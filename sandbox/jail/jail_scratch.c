/* The Landlock jail's private scratch directory: its HOME and TMPDIR, as /tmp and the home tmpfs
 * are the namespace jail's. The jail shares the host's filesystem, so the directory lives under a
 * directory of the kernel's own (0711: the jail's uid may pass, not list), never in the user's
 * home or the shared /tmp itself. One per worker, created 0700 for the jail's ids, measured by the
 * supervisor (sandbox.tmpfs is its limit), and removed once every process of the worker is gone.
 * Parent side only. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "jail_internal.h"

/* Deeper trees than this are left for the next sweep (and logged): each level holds an fd. */
#define SCRATCH_MAX_DEPTH 128

/* The kernel's own directory for scratch dirs: root's under /run, a user's under
 * $XDG_RUNTIME_DIR (a tmpfs of the user's own), else /tmp/warden-jail-UID. Created if missing,
 * refused unless it is a real directory of ours that nobody else may write. */
static int scratch_base(char *out, size_t len, char *err, size_t errlen)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (geteuid() == 0 && stat("/run", &st) == 0 && access("/run", W_OK) == 0)
        snprintf(out, len, "/run/warden-jail");
    else if (geteuid() != 0 && xdg && xdg[0] == '/' && strlen(xdg) < 256 && stat(xdg, &st) == 0 &&
             S_ISDIR(st.st_mode) && st.st_uid == geteuid())
        snprintf(out, len, "%s/warden-jail", xdg);
    else
        snprintf(out, len, "/tmp/warden-jail-%u", (unsigned)geteuid());
    if (mkdir(out, 0711) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create the scratch directory %s: %s", out, strerror(errno));
        return -1;
    }
    if (lstat(out, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 022)) {
        snprintf(err, errlen,
                 "%s is not a directory of this user's that only it may write: refusing to put "
                 "the jail's scratch directory there",
                 out);
        return -1;
    }
    if ((st.st_mode & 07777) != 0711 && chmod(out, 0711) < 0) {
        snprintf(err, errlen, "chmod %s: %s", out, strerror(errno));
        return -1;
    }
    return 0;
}

int jail_scratch_create(uid_t uid, gid_t gid, char **path, char *err, size_t errlen)
{
    *path = NULL;
    char base[PATH_MAX], dir[PATH_MAX + 32];
    if (scratch_base(base, sizeof base, err, errlen) < 0)
        return -1;
    snprintf(dir, sizeof dir, "%s/w%d-XXXXXX", base, (int)getpid());
    if (!mkdtemp(dir)) {
        snprintf(err, errlen, "cannot create a scratch directory in %s: %s", base, strerror(errno));
        return -1;
    }
    if ((uid != geteuid() || gid != getegid()) && chown(dir, uid, gid) < 0) {
        snprintf(err, errlen, "chown %s: %s", dir, strerror(errno));
        rmdir(dir);
        return -1;
    }
    *path = strdup(dir);
    if (!*path) {
        rmdir(dir);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Remove everything below the open directory `fd` (closed here), never following a symlink. A
 * directory the jail made unreadable is its owner's (or root's) to open again. */
static bool empty_tree(int fd, int depth)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    bool ok = true;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0 || errno == ENOENT)
            continue;
        if (errno != EISDIR && errno != EPERM)
            ok = false;
        int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 && errno == EACCES && fchmodat(dirfd(d), e->d_name, 0700, 0) == 0)
            sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 || depth >= SCRATCH_MAX_DEPTH) {
            if (sub >= 0)
                close(sub);
            ok = false;
            continue;
        }
        fchmod(sub, 0700); /* so that its entries may be removed */
        if (!empty_tree(sub, depth + 1) || unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0)
            ok = false;
    }
    closedir(d);
    return ok;
}

/* Adds the blocks below the open directory `fd` (closed here) to *total, until it passes stop or
 * `budget` entries were seen (a tree of millions of empty files is not worth a full walk on
 * every cell: what it holds so far is the answer). */
static void add_usage(int fd, int depth, uint64_t *total, uint64_t stop, long *budget)
{
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    struct dirent *e;
    while (*total <= stop && --*budget > 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        *total += (uint64_t)st.st_blocks * 512;
        if (S_ISDIR(st.st_mode) && depth < SCRATCH_MAX_DEPTH) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0)
                add_usage(sub, depth + 1, total, stop, budget);
        }
    }
    closedir(d);
}

uint64_t jail_scratch_usage(const char *path, uint64_t stop)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    uint64_t total = 0;
    long budget = 200000;
    add_usage(fd, 0, &total, stop, &budget);
    return total;
}

void jail_scratch_remove(const char *path)
{
    if (!path || !path[0])
        return;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            log_warn("cannot remove the jail's scratch directory %s: %s", path, strerror(errno));
        return;
    }
    fchmod(fd, 0700);
    bool ok = empty_tree(fd, 0);
    if (rmdir(path) < 0 || !ok)
        log_warn("the jail's scratch directory %s was not removed whole: %s", path,
                 strerror(errno));
}
