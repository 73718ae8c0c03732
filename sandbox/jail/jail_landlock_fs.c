/* Which paths the Landlock jail may touch, and how. Paths are the host's own (there is no
 * pivot_root), so the rules name the real directories: the system read-only (/usr, the /lib* and
 * /bin, /sbin directories where they are not symlinks into /usr, the /etc files Python needs), the
 * worker runtime read-only, /proc readable, the harmless devices, the notebook directory
 * read-only or read-write, and the worker's scratch directory with every right. Nothing else:
 * not the user's home, not /tmp, not the connection file.
 *
 * Landlock only allows, never subtracts: a rule on a directory covers all below it. So when the
 * notebook directory holds secrets (it is a home: ~/.ssh, the Jupyter runtime with the connection
 * files, jail_secrets.c), it gets no rule of its own but listing, and each entry beside a secret
 * gets its own rule, down to the secrets, which get none. Consequences, stated in doctor and the
 * README: names inside a secret directory can be listed (not read), entries added to such a
 * directory after the worker started are not visible to it, and new files cannot be created at
 * the levels that hold a secret (the subdirectories beside them are writable as usual). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "jail_internal.h"
#include "landlock_abi.h"

#define RO_EXEC   (LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR)
#define READ_ONLY (LL_FS_READ_FILE | LL_FS_READ_DIR)
#define DEVICE    (LL_FS_READ_FILE | LL_FS_WRITE_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)
/* a writable tree: everything but device nodes and sockets (socket(AF_UNIX) is refused anyway) */
#define WRITABLE                                                                                   \
    (RO_EXEC | LL_FS_WRITE_FILE | LL_FS_REMOVE_DIR | LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR |          \
     LL_FS_MAKE_REG | LL_FS_MAKE_FIFO | LL_FS_MAKE_SYM | LL_FS_REFER | LL_FS_TRUNCATE)
/* a bound on the rules of one ruleset (a home split around its secrets can make many) */
#define MAX_RULES   4096
#define MAX_SECRETS 64

struct rules {
    int fd;
    uint64_t handled;
    size_t count;
    char *secret[MAX_SECRETS];
    size_t nsecrets;
    char *err;
    size_t errlen;
};

/* `path` is resolved; optional: a missing path is skipped. */
static int allow(struct rules *r, const char *path, uint64_t access, bool optional)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (optional)
            return 0;
        snprintf(r->err, r->errlen, "the Landlock jail needs %s: %s", path, strerror(errno));
        return -1;
    }
    if (++r->count > MAX_RULES) {
        snprintf(r->err, r->errlen,
                 "the Landlock jail needs more than %d rules (a notebook directory with very many "
                 "entries beside its secrets): use a subdirectory as the notebook directory",
                 MAX_RULES);
        return -1;
    }
    if (jail_landlock_add_rule(r->fd, path, access, r->handled, S_ISDIR(st.st_mode)) < 0) {
        if (optional && (errno == EACCES || errno == ENOENT))
            return 0;
        snprintf(r->err, r->errlen, "landlock rule for %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* A top-level system path: a directory of its own (a non-merged /usr) gets a rule; a symlink
 * into /usr needs none, as Landlock checks the file a path resolves to. */
static int allow_resolved(struct rules *r, const char *path, uint64_t access)
{
    char real[PATH_MAX];
    if (!realpath(path, real))
        return 0;
    return allow(r, real, access, true);
}

static bool below_or_at(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static void note_secret(const char *real, bool is_dir, void *ctx)
{
    (void)is_dir;
    struct rules *r = ctx;
    for (size_t i = 0; i < r->nsecrets; i++)
        if (strcmp(r->secret[i], real) == 0)
            return;
    if (r->nsecrets < MAX_SECRETS)
        r->secret[r->nsecrets++] = strdup(real);
}

static bool is_secret(const struct rules *r, const char *path)
{
    for (size_t i = 0; i < r->nsecrets; i++)
        if (r->secret[i] && strcmp(r->secret[i], path) == 0)
            return true;
    return false;
}

static bool holds_secret(const struct rules *r, const char *dir)
{
    for (size_t i = 0; i < r->nsecrets; i++)
        if (r->secret[i] && below_or_at(r->secret[i], dir))
            return true;
    return false;
}

/* The notebook directory (or a directory in it) minus the secrets below it. */
static int allow_tree(struct rules *r, const char *dir, uint64_t access, int depth)
{
    if (is_secret(r, dir))
        return 0;
    if (!holds_secret(r, dir))
        return allow(r, dir, access, false);
    if (depth > 16) /* secrets are a few levels down (jail_secrets.c): never reached */
        return 0;
    if (allow(r, dir, LL_FS_READ_DIR, false) < 0)
        return -1;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(r->err, r->errlen, "cannot list %s: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[PATH_MAX];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            lstat(path, &st) < 0)
            continue;
        /* a symlink: what it points to is allowed (or not) where it lies */
        if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))
            rc = allow_tree(r, path, access, depth + 1);
    }
    closedir(d);
    return rc;
}

static int add_system(struct rules *r, const struct sandbox_config *cfg)
{
    if (allow(r, "/usr", RO_EXEC, false) < 0)
        return -1;
    static const char *const top[] = {"/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"};
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++)
        if (allow_resolved(r, top[i], RO_EXEC) < 0)
            return -1;
    for (size_t i = 0; i < jail_etc_nfiles; i++)
        if (allow_resolved(r, jail_etc_files[i], READ_ONLY) < 0)
            return -1;
    /* the namespace jail writes its own; here the host's (no secrets: no shadow, no resolver) */
    static const char *const etc_more[] = {"/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
                                           "/etc/host.conf", "/etc/hosts"};
    for (size_t i = 0; i < sizeof etc_more / sizeof etc_more[0]; i++)
        if (allow_resolved(r, etc_more[i], READ_ONLY) < 0)
            return -1;
    /* /proc: the worker's own files (other processes' memory and environment are refused by the
     * kernel's ptrace checks: Landlock lets no domain trace outside itself); the CPU topology
     * numpy and OpenBLAS read */
    if (allow(r, "/proc", READ_ONLY, false) < 0 ||
        allow(r, "/sys/devices/system/cpu", READ_ONLY, true) < 0)
        return -1;
    static const char *const devs[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                       "/dev/urandom"};
    for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++)
        if (allow(r, devs[i], DEVICE, true) < 0)
            return -1;
    if (cfg->runtime_dir[0]) {
        char real[PATH_MAX];
        if (!realpath(cfg->runtime_dir, real)) {
            snprintf(r->err, r->errlen, "runtime directory %s: %s", cfg->runtime_dir,
                     strerror(errno));
            return -1;
        }
        if (allow(r, real, RO_EXEC, false) < 0)
            return -1;
    }
    return 0;
}

enum jail_workdir_how jail_landlock_workdir_check(const char *dir, bool writable, char *how,
                                                  size_t len)
{
    uid_t uid;
    gid_t gid;
    bool own;
    char err[768];
    if (jail_landlock_choose_ids(dir, writable, &uid, &gid, &own, err, sizeof err) < 0) {
        snprintf(how, len, "%s", err);
        return JW_REFUSED;
    }
    struct rules r = {.fd = -1};
    jail_find_secrets(dir, note_secret, &r);
    char hidden[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < r.nsecrets && used < sizeof hidden; i++) {
        if (r.secret[i])
            used += (size_t)snprintf(hidden + used, sizeof hidden - used, "%s%s", used ? ", " : "",
                                     r.secret[i] + strlen(dir) + 1);
        free(r.secret[i]);
    }
    snprintf(how, len, "%s: %s through a Landlock rule, as uid %u%s%s", dir,
             writable ? "read-write" : "read-only", (unsigned)uid,
             r.nsecrets ? "; left out (their names can be listed, not their contents read; no new "
                          "file beside them): "
                        : "",
             hidden);
    return JW_PLAIN;
}

int jail_landlock_add_paths(int ruleset, uint64_t handled, const struct sandbox_config *cfg,
                            const char *workdir, const char *scratch, char *err, size_t errlen)
{
    struct rules r = {.fd = ruleset, .handled = handled, .err = err, .errlen = errlen};
    int rc = add_system(&r, cfg);
    if (rc == 0 && scratch)
        rc = allow(&r, scratch, WRITABLE, false);
    if (rc == 0 && workdir) {
        jail_find_secrets(workdir, note_secret, &r);
        rc = allow_tree(&r, workdir, cfg->workdir_writable ? WRITABLE : RO_EXEC, 0);
    }
    for (size_t i = 0; i < r.nsecrets; i++)
        free(r.secret[i]);
    return rc;
}
